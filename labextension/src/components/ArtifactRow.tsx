import * as React from 'react';

import type { Artifact } from '../api/types';
import { ARTIFACT_MIME, attachLine, formatSize, formatTime, isActiveState } from '../format';
import { ProgressBar } from './ProgressBar';
import { StateBadge } from './StateBadge';

/**
 * One artifact of a list: name, version, aliases, state, size, files, who made it and when. Dragged
 * into a notebook cell it drops the line that attaches it. `versions`, on a name's newest version,
 * is the toggle that shows the others.
 */
export function ArtifactRow(props: {
  artifact: Artifact;
  onSelect: () => void;
  /** The name's version count and whether they are shown (on the row heading a group of several). */
  versions?: { count: number; expanded: boolean; onToggle: () => void };
  /** A version listed under its name's row. */
  nested?: boolean;
}): React.ReactElement {
  const { artifact: a, versions } = props;
  const onDragStart = (event: React.DragEvent) => {
    event.dataTransfer.setData('text/plain', attachLine(a));
    event.dataTransfer.setData(ARTIFACT_MIME, JSON.stringify({ kind: a.kind, reference: a.reference }));
    event.dataTransfer.effectAllowed = 'copy';
  };
  return (
    <li
      className={`jp-Artifacts-row${props.nested ? ' jp-Artifacts-version-row' : ''}`}
      data-reference={a.reference}
      data-state={a.state}
      tabIndex={0}
      draggable={a.state === 'ready'}
      onDragStart={onDragStart}
      onClick={props.onSelect}
      onKeyDown={event => {
        if (event.key === 'Enter' && event.target === event.currentTarget) {
          props.onSelect();
        }
      }}
      title={`${a.reference}: open its details${a.state === 'ready' ? '; drag it into a notebook cell to attach it' : ''}`}
    >
      <div className="jp-Artifacts-rowMain">
        <span className="jp-Artifacts-name">{props.nested ? `v${a.version}` : a.name}</span>
        {!props.nested && <span className="jp-Artifacts-version">v{a.version}</span>}
        {a.aliases?.map(alias => (
          <span key={alias} className="jp-Artifacts-alias">
            {alias}
          </span>
        ))}
        <StateBadge state={a.state} progress={a.progress} />
      </div>
      {isActiveState(a.state) && <ProgressBar progress={a.progress} />}
      <div className="jp-Artifacts-rowMeta">
        <span>{formatSize(a.size)}</span>
        <span>{a.file_count === 1 ? '1 file' : `${a.file_count} files`}</span>
        <span title={a.created_by}>{a.created_by || '—'}</span>
        <span>{formatTime(a.created_at)}</span>
        {versions && (versions.count > 1 || a.version > 1) && (
          <button
            className="jp-Artifacts-linkButton jp-Artifacts-versions"
            aria-expanded={versions.expanded}
            onClick={event => {
              event.stopPropagation();
              versions.onToggle();
            }}
            onKeyDown={event => event.stopPropagation()}
          >
            {versions.expanded
              ? versions.count > 1
                ? `▾ ${versions.count} versions`
                : '▾ no other version left'
              : versions.count > 1
                ? `▸ ${versions.count} versions`
                : '▸ older versions'}
          </button>
        )}
      </div>
    </li>
  );
}
