/**
 * An artifact's lineage as a graph: artifacts and jobs as nodes, what went in and came out as edges,
 * left (inputs, what it refers to) to right (what used it), laid out by dagre.
 */
import dagre from '@dagrejs/dagre';

import { KINDS } from '../api/types';
import type { Artifact, ArtifactKind, Lineage, LineageNode } from '../api/types';

export type NodeType = 'artifact' | 'job' | 'source';
/** input: an artifact a job (or the artifact) took in; output: what a job made; ref: a reference between artifacts. */
export type EdgeType = 'input' | 'output' | 'ref' | 'source';

export interface IGraphNode {
  id: string;
  type: NodeType;
  label: string;
  /** A second line: the kind and version, a job's state, a source's path. */
  detail: string;
  /** What clicking opens: an artifact's reference (with its kind), or a job's id. */
  reference?: string;
  kind?: ArtifactKind;
  job?: string;
  state?: string;
  /** The artifact whose lineage this is. */
  self?: boolean;
}

export interface IGraphEdge {
  from: string;
  to: string;
  type: EdgeType;
}

export interface ILineageGraph {
  nodes: IGraphNode[];
  edges: IGraphEdge[];
}

function asKind(kind: unknown): ArtifactKind | undefined {
  return (KINDS as unknown[]).includes(kind) ? (kind as ArtifactKind) : undefined;
}

/** Builds the graph without duplicates: a node seen again keeps its first form, an edge is kept once. */
class Builder {
  readonly nodes = new Map<string, IGraphNode>();
  readonly edges = new Map<string, IGraphEdge>();

  node(node: IGraphNode): string {
    if (!this.nodes.has(node.id)) {
      this.nodes.set(node.id, node);
    }
    return node.id;
  }

  edge(from: string, to: string, type: EdgeType): void {
    if (from !== to) {
      this.edges.set(`${from}>${to}`, { from, to, type });
    }
  }

  artifact(node: Pick<LineageNode, 'id' | 'reference' | 'name' | 'kind' | 'version' | 'state'>): string {
    const deleted = node.state === 'deleted';
    return this.node({
      id: node.id,
      type: 'artifact',
      label: node.reference ?? node.name ?? node.id.slice(0, 12),
      detail: [node.kind, deleted ? 'deleted' : undefined].filter(Boolean).join(' · ') || 'artifact',
      reference: deleted ? undefined : node.reference,
      kind: asKind(node.kind),
      state: node.state
    });
  }

  job(id: string, name: string, state?: string, detail?: string): string {
    return this.node({
      id: `job:${id}`,
      type: 'job',
      label: `job ${name}`,
      detail: detail ?? state ?? 'job',
      job: id,
      state
    });
  }
}

/** "worker 1 · lr=0.1" from what a job recorded on an artifact it made. */
function workerDetail(produced: Record<string, unknown>): string {
  const parts: string[] = [];
  if (produced['worker'] !== undefined && produced['worker'] !== null) {
    parts.push(`worker ${produced['worker']}`);
  }
  if (produced['step'] !== undefined && produced['step'] !== null) {
    parts.push(`step ${produced['step']}`);
  }
  const params = produced['params'];
  if (params && typeof params === 'object') {
    parts.push(...Object.entries(params as Record<string, unknown>).map(([k, v]) => `${k}=${JSON.stringify(v)}`));
  }
  return parts.join(' · ') || 'job';
}

/** Where an artifact came from when no job made it: a notebook, a folder or a remote source. */
export function sourceNode(source: Record<string, unknown> | null | undefined): IGraphNode | null {
  if (!source) {
    return null;
  }
  const folder = source['folder'] ? `${source['folder']}/` : '';
  if (source['notebook']) {
    return { id: 'source', type: 'source', label: `notebook ${source['notebook']}`, detail: `saved ${folder}` };
  }
  if (source['type'] === 'folder' && source['dir'] !== undefined) {
    return { id: 'source', type: 'source', label: `folder ${source['dir'] || '/'}/${folder}`, detail: 'saved' };
  }
  if (source['path']) {
    return { id: 'source', type: 'source', label: String(source['path']), detail: `created from ${source['type'] ?? 'source'}` };
  }
  return null;
}

/**
 * The lineage of `artifact` as nodes and edges: the job that made it with that job's inputs (or
 * the notebook, folder or source it was saved from), the artifacts it refers to and theirs, the
 * artifacts that refer to it, and the jobs that used it with what each worker made.
 */
export function lineageGraph(artifact: Artifact, lineage: Lineage): ILineageGraph {
  const g = new Builder();
  const self = g.node({
    id: artifact.id,
    type: 'artifact',
    label: artifact.reference,
    detail: `${artifact.kind} · this one`,
    reference: artifact.reference,
    kind: artifact.kind,
    state: artifact.state,
    self: true
  });
  const produced = artifact.produced_by ?? lineage.produced_by ?? null;
  const jobId = produced?.['job_id'];
  let maker: string | null = null;
  if (typeof jobId === 'string' && jobId) {
    maker = g.job(jobId, String(produced?.['job_name'] ?? jobId.slice(0, 8)), undefined, workerDetail(produced!));
    g.edge(maker, self, 'output');
  } else {
    const source = sourceNode(artifact.source);
    if (source) {
      g.edge(g.node(source), self, 'source');
    }
  }
  for (const input of lineage.inputs ?? []) {
    const id = String(input['id'] ?? input['reference'] ?? '');
    if (!id) {
      continue;
    }
    const node = g.artifact({
      id,
      reference: typeof input['reference'] === 'string' ? input['reference'] : undefined,
      kind: typeof input['role'] === 'string' ? input['role'] : undefined
    });
    g.edge(node, maker ?? self, 'input');
  }
  const upstream = (node: LineageNode, below: string) => {
    const id = g.artifact(node);
    if (node.relation === 'input') {
      // An input of what made `below`: drawn into that job when it is known.
      g.edge(id, below === self && maker ? maker : below, 'input');
    } else {
      g.edge(id, below, 'ref');
    }
    (node.children ?? []).forEach(child => upstream(child, id));
  };
  (lineage.upstream ?? []).forEach(node => upstream(node, self));
  // The jobs that used it first, with their state: the same jobs met again through what they made keep it.
  for (const use of lineage.used_by ?? []) {
    const job = g.job(use.id, use.name, use.state, `${use.state} · as ${use.roles.join(', ')}`);
    g.edge(self, job, 'input');
    for (const worker of use.workers) {
      if (worker.output) {
        g.edge(job, g.artifact(worker.output), 'output');
      }
    }
  }
  const downstream = (node: LineageNode, above: string) => {
    const id = g.artifact(node);
    const by = node.produced_by?.['job_id'];
    if (node.relation === 'input' && typeof by === 'string') {
      // Made by a job that took `above` in: drawn through that job.
      const job = g.job(by, String(node.produced_by?.['job_name'] ?? by.slice(0, 8)));
      g.edge(above, job, 'input');
      g.edge(job, id, 'output');
    } else {
      g.edge(above, id, 'ref');
    }
    (node.children ?? []).forEach(child => downstream(child, id));
  };
  (lineage.downstream ?? []).forEach(node => downstream(node, self));
  return { nodes: [...g.nodes.values()], edges: [...g.edges.values()] };
}

export interface IPlacedNode extends IGraphNode {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface IPlacedEdge extends IGraphEdge {
  points: { x: number; y: number }[];
}

export interface IGraphLayout {
  width: number;
  height: number;
  nodes: IPlacedNode[];
  edges: IPlacedEdge[];
}

const NODE_HEIGHT = 40;
/** About the width of a character of a node's bold label. */
const CHAR_WIDTH = 8.2;

/** Where each node and edge goes, left to right, by dagre's layered layout; x and y are node centres. */
export function layoutGraph(graph: ILineageGraph): IGraphLayout {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 56, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) {
    const chars = Math.min(42, Math.max(node.label.length, node.detail.length));
    g.setNode(node.id, { width: Math.max(96, Math.ceil(chars * CHAR_WIDTH) + 24), height: NODE_HEIGHT });
  }
  for (const edge of graph.edges) {
    g.setEdge(edge.from, edge.to);
  }
  dagre.layout(g);
  const size = g.graph();
  return {
    width: Math.ceil(size.width ?? 0),
    height: Math.ceil(size.height ?? 0),
    nodes: graph.nodes.map(node => {
      const placed = g.node(node.id);
      return { ...node, x: placed.x, y: placed.y, width: placed.width, height: placed.height };
    }),
    edges: graph.edges.map(edge => ({
      ...edge,
      points: (g.edge(edge.from, edge.to).points ?? []).map(p => ({ x: p.x, y: p.y }))
    }))
  };
}

/** The most characters of a label drawn in a node (longer ones end with "…"). */
export function clip(text: string, max = 42): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
