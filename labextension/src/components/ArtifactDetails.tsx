import { Notification } from '@jupyterlab/apputils';
import * as React from 'react';

import type { ArtifactsClient } from '../api/client';
import { addAlias } from '../dialogs/addAlias';
import { confirmDelete } from '../dialogs/confirm';
import { formatSize, formatTime, isActiveState, progressText } from '../format';
import type { IDetails } from '../model/details';
import { lineageTree } from '../model/lineage';
import type { PanelModel } from '../model/panel';
import { BackButton } from './BackButton';
import { CopyButton } from './CopyButton';
import { FileList } from './FileList';
import { KeyValues } from './KeyValues';
import { LoadingDetails } from './LoadingDetails';
import { ProgressBar } from './ProgressBar';
import { Section } from './Section';
import { StateBadge } from './StateBadge';
import { Tree } from './Tree';
import { useSignal } from './useSignal';

/** Download: a lone file as itself, anything more as one archive. */
function download(client: ArtifactsClient, details: IDetails): void {
  const target = client.download(details.artifact, details.files?.files ?? []);
  if (!target) {
    Notification.warning('There are no files to download.', { autoClose: 4000 });
    return;
  }
  const link = document.createElement('a');
  link.href = target.url;
  link.download = target.filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
}

/** The open artifact: its actions, record, source, metadata, refs, lineage and files. */
export function ArtifactDetails(props: { model: PanelModel }): React.ReactElement {
  const { model } = props;
  useSignal(model.details.changed);
  const details = model.details.current;
  const back = () => model.details.select(null);
  if (!details) {
    return <LoadingDetails what={model.details.reference ?? ''} onBack={back} />;
  }
  const a = details.artifact;
  const holders = a.holders ?? [];
  const whenReady = (
    <span className="jp-Artifacts-muted">{a.state === 'ready' ? 'Loading…' : 'When it is ready.'}</span>
  );
  return (
    <div className="jp-Artifacts-details" data-reference={a.reference} data-state={a.state}>
      <BackButton onClick={back} />
      <h2 className="jp-Artifacts-title">
        {a.reference} <StateBadge state={a.state} progress={a.progress} />
      </h2>
      {isActiveState(a.state) && (
        <>
          <ProgressBar progress={a.progress} />
          <div className="jp-Artifacts-muted">{progressText(a.progress)}</div>
        </>
      )}
      {a.error && <div className="jp-Artifacts-formError">{a.error}</div>}
      <div className="jp-Artifacts-actions">
        <CopyButton text={a.reference} label="Copy reference" />
        <button className="jp-Button jp-mod-styled" disabled={a.state !== 'ready'} onClick={() => void addAlias(model, a)}>
          Add alias
        </button>
        <button
          className="jp-Button jp-mod-styled"
          disabled={a.state !== 'ready'}
          onClick={() => download(model.client, details)}
        >
          Download
        </button>
        <button className="jp-Button jp-mod-styled jp-mod-warn" onClick={() => void confirmDelete(model, a)}>
          Delete
        </button>
      </div>
      {details.refusedHolders.length > 0 && (
        <div className="jp-Artifacts-inUse">Cannot delete: in use by {details.refusedHolders.join(', ')}.</div>
      )}
      <table className="jp-Artifacts-kv">
        <tbody>
          <tr><th>Kind</th><td>{a.kind}</td></tr>
          <tr><th>Aliases</th><td>{a.aliases?.join(', ') || '—'}</td></tr>
          <tr><th>Size</th><td>{formatSize(a.size)}</td></tr>
          <tr><th>Files</th><td>{a.file_count}</td></tr>
          <tr><th>Created</th><td>{formatTime(a.created_at)} by {a.created_by || '—'}</td></tr>
          <tr><th>Digest</th><td className="jp-Artifacts-mono">{a.digest ?? '—'}</td></tr>
          <tr><th>Id</th><td className="jp-Artifacts-mono">{a.id}</td></tr>
          <tr><th>In use by</th><td>{holders.length ? holders.join(', ') : 'nobody'}</td></tr>
        </tbody>
      </table>
      <Section title="Source" name="source">
        <KeyValues data={a.source} />
      </Section>
      <Section title="Metadata" name="metadata">
        <KeyValues data={a.metadata} />
      </Section>
      <Section title="Refs" name="refs">
        {a.refs?.length ? a.refs.join(', ') : <span className="jp-Artifacts-muted">None</span>}
      </Section>
      <Section title="Lineage" name="lineage">
        {details.lineage ? (
          <Tree
            nodes={lineageTree(
              { ...details.lineage, produced_by: a.produced_by ?? details.lineage.produced_by },
              a.source
            )}
            onOpen={(ref, kind) => model.open(ref, kind)}
            onOpenJob={id => model.showJob(id)}
          />
        ) : (
          whenReady
        )}
      </Section>
      <Section title={`Files (${a.file_count})`} name="files">
        {details.files ? <FileList client={model.client} artifact={a} files={details.files} /> : whenReady}
      </Section>
    </div>
  );
}
