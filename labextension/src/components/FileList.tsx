import * as React from 'react';

import type { ArtifactsClient } from '../api/client';
import type { Artifact, FilePage } from '../api/types';
import { formatSize } from '../format';
import { FILES_PAGE } from '../model/details';

/** The files shown so far, each a download link, and a button for the next page while more are left. */
export function FileList(props: {
  client: ArtifactsClient;
  artifact: Artifact;
  files: FilePage;
  onMore: () => Promise<void>;
}): React.ReactElement {
  const { client, artifact: a, files, onMore } = props;
  const [loading, setLoading] = React.useState(false);
  const left = files.total - files.files.length;
  const more = async () => {
    setLoading(true);
    try {
      await onMore();
    } finally {
      setLoading(false);
    }
  };
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
      {left > 0 && (
        <li>
          <button className="jp-Artifacts-linkButton jp-Artifacts-moreFiles" disabled={loading} onClick={more}>
            {loading
              ? 'Loading…'
              : `Show ${Math.min(FILES_PAGE, left).toLocaleString()} more (${left.toLocaleString()} not shown)`}
          </button>
        </li>
      )}
    </ul>
  );
}
