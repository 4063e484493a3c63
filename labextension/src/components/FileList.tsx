import * as React from 'react';

import type { ArtifactsClient } from '../api/client';
import type { Artifact, FilePage } from '../api/types';
import { formatSize } from '../format';

/** The first files of an artifact, each a download link, and how many more there are. */
export function FileList(props: { client: ArtifactsClient; artifact: Artifact; files: FilePage }): React.ReactElement {
  const { client, artifact: a, files } = props;
  return (
    <ul className="jp-Artifacts-files">
      {files.files.map(f => (
        <li key={f.path}>
          <a href={client.fileUrl(a.reference, f.path, a.kind)} download>
            {f.path}
          </a>
          <span className="jp-Artifacts-muted">{f.link ? ` → ${f.link}` : ` ${formatSize(f.size)}`}</span>
        </li>
      ))}
      {files.total > files.files.length && (
        <li className="jp-Artifacts-muted">… and {files.total - files.files.length} more</li>
      )}
    </ul>
  );
}
