import * as React from 'react';

import type { Artifact } from '../api/types';
import { formatSize, formatTime, isActiveState } from '../format';
import { ProgressBar } from './ProgressBar';
import { StateBadge } from './StateBadge';

/** One artifact of a list: name, version, aliases, state, size, files, who made it and when. */
export function ArtifactRow(props: { artifact: Artifact; onSelect: () => void }): React.ReactElement {
  const a = props.artifact;
  return (
    <li
      className="jp-Artifacts-row"
      data-reference={a.reference}
      data-state={a.state}
      tabIndex={0}
      onClick={props.onSelect}
      onKeyDown={event => event.key === 'Enter' && props.onSelect()}
      title={`${a.reference} — open details`}
    >
      <div className="jp-Artifacts-rowMain">
        <span className="jp-Artifacts-name">{a.name}</span>
        <span className="jp-Artifacts-version">v{a.version}</span>
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
      </div>
    </li>
  );
}
