/** An artifact's lineage as the tree the details show: what made it, what it refers to, what used it. */
import { KINDS } from '../api/types';
import type { ArtifactKind, Lineage, LineageNode, WorkerOutput } from '../api/types';
import { isActiveState } from '../format';

export interface ITreeNode {
  label: string;
  detail?: string;
  reference?: string;
  /** The kind of the artifact this node is, when known (it may be shown in another tab). */
  kind?: ArtifactKind;
  /** The id of the job this node is, when it is one. */
  job?: string;
  children: ITreeNode[];
}

function producedByText(produced: Record<string, unknown> | undefined | null): string | undefined {
  if (!produced) {
    return undefined;
  }
  const job = produced['job_name'] ?? produced['job_id'] ?? produced['type'];
  const worker = produced['worker'];
  const params = produced['params'];
  const step = produced['step'];
  const parts = [`job ${job ?? '?'}`];
  if (worker !== undefined && worker !== null) {
    parts.push(`worker ${worker}`);
  }
  if (step !== undefined && step !== null) {
    parts.push(`step ${step}`);
  }
  if (params && typeof params === 'object' && Object.keys(params as object).length) {
    parts.push(
      Object.entries(params as Record<string, unknown>)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(', ')
    );
  }
  return parts.join(' · ');
}

function asKind(kind: unknown): ArtifactKind | undefined {
  return (KINDS as unknown[]).includes(kind) ? (kind as ArtifactKind) : undefined;
}

function nodeOf(node: LineageNode): ITreeNode {
  const label = node.reference ?? node.name ?? node.id;
  const detail = [node.kind, node.relation, node.state === 'deleted' ? 'deleted' : undefined]
    .filter(Boolean)
    .join(', ');
  return {
    label: `${label}${detail ? ` (${detail})` : ''}`,
    detail: producedByText(node.produced_by),
    reference: node.reference,
    kind: asKind(node.kind),
    children: (node.children ?? []).map(nodeOf)
  };
}

/** A worker of a job that used the artifact, and what it made. */
function workerNode(worker: WorkerOutput): ITreeNode {
  const out = worker.output;
  if (out) {
    const deleted = out.state === 'deleted';
    return {
      label: `worker ${worker.index}: ${out.reference ?? out.id}${deleted ? ' (deleted)' : ''}`,
      reference: deleted ? undefined : out.reference,
      kind: asKind(out.kind),
      children: []
    };
  }
  const made = worker.output_url
    ? `→ ${worker.output_url}`
    : isActiveState(worker.state)
      ? worker.state
      : `no output (${worker.state})`;
  return { label: `worker ${worker.index}: ${made}`, children: [] };
}

/** Where an artifact came from when no job made it: a notebook, a folder or a source. */
export function sourceText(source: Record<string, unknown> | null | undefined): string | undefined {
  if (!source) {
    return undefined;
  }
  if (source['notebook']) {
    const folder = source['folder'] ? `${source['folder']}/ of ` : '';
    return `saved from ${folder}notebook ${source['notebook']}`;
  }
  if (source['type'] === 'folder' && source['dir'] !== undefined) {
    return `saved from ${source['folder'] ?? ''}/ in folder ${source['dir'] || '/'}`;
  }
  if (source['type'] || source['path']) {
    return `created from ${source['type'] ?? 'source'} ${source['path'] ?? ''}`.trim();
  }
  return undefined;
}

const NONE: ITreeNode = { label: 'none', children: [] };

/** Three branches: what made it (job, params, inputs), what it refers to, what used it (artifacts, and
 * jobs with what each worker made). */
export function lineageTree(lineage: Lineage, source?: Record<string, unknown> | null): ITreeNode[] {
  const made: ITreeNode[] = [];
  const produced = producedByText(lineage.produced_by);
  const origin = sourceText(source);
  if (produced) {
    const jobId = lineage.produced_by?.['job_id'];
    made.push({ label: produced, job: typeof jobId === 'string' ? jobId : undefined, children: [] });
  } else if (origin) {
    made.push({ label: origin, children: [] });
  }
  for (const input of lineage.inputs ?? []) {
    // Inputs as jobs and kernels record them: {id, role, reference}; a record imported from
    // elsewhere may hold only the id.
    const ref = String(input['reference'] ?? input['id'] ?? '?');
    const role = input['role'] ? ` (${input['role']})` : '';
    made.push({ label: `input ${ref}${role}`, reference: ref, kind: asKind(input['role']), children: [] });
  }
  const used: ITreeNode[] = (lineage.downstream ?? []).map(nodeOf);
  for (const job of lineage.used_by ?? []) {
    used.push({
      label: `job ${job.name} (${job.state})`,
      detail: `as ${job.roles.join(', ')}`,
      job: job.id,
      children: job.workers.map(workerNode)
    });
  }
  const upstream = (lineage.upstream ?? []).map(nodeOf);
  return [
    { label: 'Made by', children: made.length ? made : [NONE] },
    { label: 'Refers to', children: upstream.length ? upstream : [NONE] },
    { label: 'Used by', children: used.length ? used : [NONE] }
  ];
}
