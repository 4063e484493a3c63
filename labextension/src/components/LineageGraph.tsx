import * as React from 'react';

import type { Artifact, ArtifactKind, Lineage } from '../api/types';
import { clip, IPlacedNode, layoutGraph, lineageGraph } from '../model/graph';

const EDGE_LABELS = { input: 'input', output: 'output', ref: 'refers to', source: 'saved from' };

/** A node: a box with its label and detail; artifacts and jobs open with a click, Enter or Space. */
function Node(props: { node: IPlacedNode; onOpen: (node: IPlacedNode) => void }): React.ReactElement {
  const { node } = props;
  const opens = Boolean(node.reference || node.job);
  const x = node.x - node.width / 2;
  const y = node.y - node.height / 2;
  const interactive = opens
    ? {
        role: 'link',
        tabIndex: 0,
        'aria-label': `${node.label} (${node.detail}): open`,
        onClick: () => props.onOpen(node),
        onKeyDown: (event: React.KeyboardEvent) => {
          if (event.key === 'Enter' || event.key === ' ') {
            event.preventDefault();
            props.onOpen(node);
          }
        }
      }
    : {};
  return (
    <g
      className={`jp-Artifacts-graphNode jp-mod-${node.type}${node.self ? ' jp-mod-self' : ''}${opens ? ' jp-mod-opens' : ''}`}
      data-node={node.id}
      data-type={node.type}
      data-reference={node.reference}
      data-job={node.job}
      {...interactive}
    >
      <title>{`${node.label}\n${node.detail}`}</title>
      <rect x={x} y={y} width={node.width} height={node.height} rx={node.type === 'job' ? 12 : 3} />
      <text x={x + 10} y={y + 16} className="jp-Artifacts-graphLabel">
        {clip(node.label)}
      </text>
      <text x={x + 10} y={y + 31} className="jp-Artifacts-graphDetail">
        {clip(node.detail)}
      </text>
    </g>
  );
}

/**
 * An artifact's lineage drawn as a graph (laid out by dagre): artifacts as boxes, jobs as rounded
 * boxes, edges for inputs, outputs and references; a node opens its artifact or job.
 */
export function LineageGraph(props: {
  artifact: Artifact;
  lineage: Lineage;
  onOpen: (reference: string, kind?: ArtifactKind) => void;
  onOpenJob: (id: string) => void;
}): React.ReactElement {
  const { artifact, lineage } = props;
  const layout = React.useMemo(() => layoutGraph(lineageGraph(artifact, lineage)), [artifact, lineage]);
  const open = (node: IPlacedNode) => {
    if (node.job) {
      props.onOpenJob(node.job);
    } else if (node.reference && !node.self) {
      props.onOpen(node.reference, node.kind);
    }
  };
  const markerId = `jp-Artifacts-arrow-${artifact.id}`;
  return (
    <figure className="jp-Artifacts-graph" data-nodes={layout.nodes.length}>
      <div className="jp-Artifacts-graphScroll">
        <svg
          width={layout.width}
          height={layout.height}
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          aria-labelledby={`${markerId}-caption`}
          role="group"
        >
          <defs>
            <marker
              id={markerId}
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerWidth="9"
              markerHeight="9"
              markerUnits="userSpaceOnUse"
              orient="auto"
            >
              <path d="M0,0 L10,5 L0,10 z" className="jp-Artifacts-graphArrow" />
            </marker>
          </defs>
          {layout.edges.map(edge => (
            <path
              key={`${edge.from}>${edge.to}`}
              className={`jp-Artifacts-graphEdge jp-mod-${edge.type}`}
              data-edge={edge.type}
              data-from={edge.from}
              data-to={edge.to}
              d={edge.points.map((p, i) => `${i ? 'L' : 'M'}${p.x},${p.y}`).join(' ')}
              markerEnd={`url(#${markerId})`}
            >
              <title>{EDGE_LABELS[edge.type]}</title>
            </path>
          ))}
          {layout.nodes.map(node => (
            <Node key={node.id} node={node} onOpen={open} />
          ))}
        </svg>
      </div>
      <figcaption id={`${markerId}-caption`} className="jp-Artifacts-graphLegend">
        Lineage of {artifact.reference}: inputs and what it refers to on the left, what used it on the right.
        <span className="jp-Artifacts-legendItem jp-mod-input">input</span>
        <span className="jp-Artifacts-legendItem jp-mod-output">output</span>
        <span className="jp-Artifacts-legendItem jp-mod-ref">refers to</span>
      </figcaption>
    </figure>
  );
}
