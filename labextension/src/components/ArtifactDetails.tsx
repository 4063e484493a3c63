import { Notification } from '@jupyterlab/apputils';
import * as React from 'react';

import type { ArtifactsClient } from '../api/client';
import { addAlias } from '../dialogs/addAlias';
import { chooseComparison } from '../dialogs/compare';
import { confirmDelete } from '../dialogs/confirm';
import { formatSize, formatTime, holderLabel, isActiveState, progressText, shortDigest } from '../format';
import type { ArtifactDetailsModel, IDetails } from '../model/details';
import type { PanelModel } from '../model/panel';
import { BackButton } from './BackButton';
import { CopyButton } from './CopyButton';
import { FileList } from './FileList';
import { KeyValues } from './KeyValues';
import { LineageGraph } from './LineageGraph';
import { LoadingDetails } from './LoadingDetails';
import { ProgressBar } from './ProgressBar';
import { Section } from './Section';
import { StateBadge } from './StateBadge';
import { useSignal } from './useSignal';

/** Download: a lone file as itself, anything more as one archive. */
export function download(client: ArtifactsClient, details: IDetails): void {
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

/** Who holds it: a kernel by its notebook, a job (which opens) by its name and worker. */
function Holders(props: { model: PanelModel; details: IDetails }): React.ReactElement {
  const a = props.details.artifact;
  const holders = a.holder_details ?? (a.holders ?? []).map(holder => ({ holder, kind: 'other' as const }));
  if (!holders.length) {
    return <>nobody</>;
  }
  return (
    <ul className="jp-Artifacts-holders">
      {holders.map(h => (
        <li key={h.holder} data-holder-kind={h.kind}>
          {h.kind === 'job' && h.job_id ? (
            <button className="jp-Artifacts-linkButton" onClick={() => props.model.openJob(h.job_id!)}>
              {holderLabel(h)}
            </button>
          ) : (
            <span title={h.holder}>{holderLabel(h)}</span>
          )}
        </li>
      ))}
    </ul>
  );
}

/** Its aliases, each with a button that removes it. */
function Aliases(props: { details: ArtifactDetailsModel; current: IDetails }): React.ReactElement {
  const a = props.current.artifact;
  if (!a.aliases?.length) {
    return <>—</>;
  }
  return (
    <span className="jp-Artifacts-aliases">
      {a.aliases.map(alias => (
        <span key={alias} className="jp-Artifacts-alias" data-alias={alias}>
          {alias}
          <button
            className="jp-Artifacts-aliasRemove"
            aria-label={`Remove the alias ${alias}`}
            title={`Remove the alias ${a.name}:${alias}`}
            onClick={() => void props.details.removeAlias(a, alias)}
          >
            ×
          </button>
        </span>
      ))}
    </span>
  );
}

/**
 * An artifact: its actions, record, holders, source, metadata, refs, lineage and files. In the
 * sidebar (with Back) its lineage opens as a graph in the main area; in the main area it is drawn.
 */
export function ArtifactDetails(props: {
  model: PanelModel;
  details: ArtifactDetailsModel;
  main?: boolean;
}): React.ReactElement {
  const { model, details: detailsModel, main } = props;
  useSignal(detailsModel.changed);
  const details = detailsModel.current;
  const back = () => detailsModel.select(null);
  if (!details) {
    return <LoadingDetails what={detailsModel.reference ?? ''} onBack={main ? undefined : back} />;
  }
  const a = details.artifact;
  const held = (a.holders ?? []).length > 0;
  const whenReady = (
    <span className="jp-Artifacts-muted">{a.state === 'ready' ? 'Loading…' : 'When it is ready.'}</span>
  );
  const heldBy = (a.holder_details ?? []).map(holderLabel).join(', ') || (a.holders ?? []).join(', ');
  const lineage = details.lineage;
  return (
    <div
      className={`jp-Artifacts-details${main ? ' jp-Artifacts-artifactView' : ''}`}
      data-reference={a.reference}
      data-state={a.state}
    >
      {!main && <BackButton onClick={back} />}
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
        {!main && (
          <button className="jp-Button jp-mod-styled" onClick={() => model.openArtifact(a.reference, a.kind)}>
            Open
          </button>
        )}
        <button
          className="jp-Button jp-mod-styled"
          disabled={a.state !== 'ready'}
          onClick={() => void chooseComparison(model, a)}
        >
          Compare…
        </button>
        <CopyButton text={a.reference} label="Copy reference" />
        <button className="jp-Button jp-mod-styled" disabled={a.state !== 'ready'} onClick={() => void addAlias(model, detailsModel, a)}>
          Add alias
        </button>
        <button
          className="jp-Button jp-mod-styled"
          disabled={a.state !== 'ready'}
          onClick={() => download(model.client, details)}
        >
          Download
        </button>
        <button
          className="jp-Button jp-mod-styled jp-Artifacts-danger"
          disabled={held}
          title={held ? `In use by ${heldBy}: it cannot be deleted until they let go of it` : `Delete ${a.reference}`}
          onClick={() => void confirmDelete(detailsModel, a)}
        >
          Delete
        </button>
      </div>
      {held && (
        <div className="jp-Artifacts-note" data-held>
          Delete is off while it is in use by {heldBy}.
        </div>
      )}
      {details.refusedHolders.length > 0 && (
        <div className="jp-Artifacts-inUse">Cannot delete: in use by {details.refusedHolders.join(', ')}.</div>
      )}
      <table className="jp-Artifacts-kv">
        <tbody>
          <tr><th scope="row">Kind</th><td>{a.kind}</td></tr>
          <tr><th scope="row">Aliases</th><td><Aliases details={detailsModel} current={details} /></td></tr>
          <tr><th scope="row">Size</th><td>{formatSize(a.size)}</td></tr>
          <tr><th scope="row">Files</th><td>{a.file_count}</td></tr>
          <tr><th scope="row">Created</th><td>{formatTime(a.created_at)} by {a.created_by || '—'}</td></tr>
          <tr>
            <th scope="row">Digest</th>
            <td>
              <span className="jp-Artifacts-mono jp-Artifacts-digest" title={a.digest ?? ''}>{shortDigest(a.digest)}</span>
              {a.digest && <CopyButton text={a.digest} label="Copy" small />}
            </td>
          </tr>
          <tr><th scope="row">Id</th><td className="jp-Artifacts-mono">{a.id}</td></tr>
          <tr><th scope="row">In use by</th><td><Holders model={model} details={details} /></td></tr>
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
        {!lineage ? (
          whenReady
        ) : main ? (
          <LineageGraph
            artifact={a}
            lineage={lineage}
            onOpen={(reference, kind) => model.openArtifact(reference, kind)}
            onOpenJob={id => model.openJob(id)}
          />
        ) : (
          <button className="jp-Button jp-mod-styled jp-Artifacts-openLineage" onClick={() => model.openArtifact(a.reference, a.kind)}>
            Open the lineage graph
          </button>
        )}
      </Section>
      <Section title={`Files (${a.file_count})`} name="files">
        {details.files ? (
          <FileList client={model.client} artifact={a} files={details.files} onMore={() => detailsModel.moreFiles()} />
        ) : (
          whenReady
        )}
      </Section>
    </div>
  );
}
