import * as React from 'react';

import type { ArtifactKind } from '../api/types';
import type { ITreeNode } from '../model/lineage';

/** A lineage tree; a node with a reference opens that artifact, a job node opens the job. */
export function Tree(props: {
  nodes: ITreeNode[];
  onOpen: (reference: string, kind?: ArtifactKind) => void;
  onOpenJob: (id: string) => void;
}): React.ReactElement {
  return (
    <ul className="jp-Artifacts-tree">
      {props.nodes.map((node, i) => (
        <li key={i}>
          {node.reference ? (
            <a className="jp-Artifacts-link" onClick={() => props.onOpen(node.reference!, node.kind)}>
              {node.label}
            </a>
          ) : node.job ? (
            <a className="jp-Artifacts-link" data-job={node.job} onClick={() => props.onOpenJob(node.job!)}>
              {node.label}
            </a>
          ) : (
            <span>{node.label}</span>
          )}
          {node.detail && <span className="jp-Artifacts-muted"> — {node.detail}</span>}
          {node.children.length > 0 && (
            <Tree nodes={node.children} onOpen={props.onOpen} onOpenJob={props.onOpenJob} />
          )}
        </li>
      ))}
    </ul>
  );
}
