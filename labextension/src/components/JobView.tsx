import * as React from 'react';

import type { ArtifactKind, Job } from '../api/types';
import { confirmDeleteJob, confirmStop } from '../dialogs/confirm';
import { formatDuration, formatTime, gpuList, isActiveState } from '../format';
import { jobDuration, jobGpus } from '../model/jobs';
import type { JobViewModel } from '../model/jobView';
import type { ArtifactsClient } from '../api/client';
import { CopyButton } from './CopyButton';
import { JobLog } from './JobLog';
import { KeptOutput } from './KeptOutput';
import { MetricCharts } from './MetricChart';
import { Section } from './Section';
import { StateBadge } from './StateBadge';
import { useSignal } from './useSignal';
import { WorkerTable } from './WorkerTable';

export interface IJobViewActions {
  openArtifact: (reference: string, kind?: ArtifactKind) => void;
  /** Open New job with this job's form (Run again). */
  runAgain: (job: Job) => void;
  /** The job was deleted: close the view. */
  close: () => void;
}

/** What each worker made: an artifact that opens, a URL its files went to, or why nothing. */
function Outputs(props: { job: Job; actions: IJobViewActions }): React.ReactElement {
  const { job, actions } = props;
  return (
    <ul className="jp-Artifacts-outputs">
      {job.workers.map(w => (
        <li key={w.index} data-output-worker={w.index}>
          <span className="jp-Artifacts-muted">worker {w.index}: </span>
          {w.output?.reference && w.output.state !== 'deleted' ? (
            <button
              className="jp-Artifacts-linkButton"
              onClick={() => actions.openArtifact(w.output!.reference!, w.output!.kind ?? undefined)}
            >
              {w.output.reference}
            </button>
          ) : w.output ? (
            <span>{w.output.reference ?? w.output.id} (deleted)</span>
          ) : w.output_url ? (
            <span className="jp-Artifacts-mono">{w.output_url}</span>
          ) : (
            <span>{isActiveState(w.state) ? 'when it ends' : 'nothing saved'}</span>
          )}
        </li>
      ))}
    </ul>
  );
}

/** The checkpoints the workers saved, and what the job's checkpoint GC removed and kept. */
function Checkpoints(props: { job: Job; actions: IJobViewActions }): React.ReactElement {
  const { job, actions } = props;
  const checkpoints = job.checkpoints ?? [];
  const gc = job.gc_result;
  const removed = gc?.deleted ?? [];
  // A removed checkpoint's record has no reference any more; the GC's result still names it.
  const named = new Map(removed.map(d => [d.id, d.reference]));
  return (
    <>
      {gc && (
        <div className="jp-Artifacts-note" data-gc>
          {removed.length
            ? `Checkpoint GC removed ${removed.length} checkpoint${removed.length === 1 ? '' : 's'}: ${removed
                .map(d => d.reference ?? d.id.slice(0, 8))
                .join(', ')}.`
            : 'Checkpoint GC removed nothing.'}
          {gc.protected?.length
            ? ` It kept ${gc.protected.map(p => `${p.reference ?? p.id.slice(0, 8)} (${p.reason ?? 'protected'})`).join(', ')}.`
            : ''}
        </div>
      )}
      {checkpoints.length ? (
        <table className="jp-Artifacts-kv jp-Artifacts-checkpoints">
          <thead>
            <tr>
              <th scope="col">Checkpoint</th>
              <th scope="col">Worker</th>
              <th scope="col">Step</th>
              <th scope="col">Metrics</th>
            </tr>
          </thead>
          <tbody>
            {checkpoints.map(c => (
              <tr key={c.id} data-checkpoint={c.reference ?? c.id} data-deleted={c.deleted ? 'true' : undefined}>
                <td>
                  {c.reference && !c.deleted ? (
                    <button className="jp-Artifacts-linkButton" onClick={() => actions.openArtifact(c.reference!, 'checkpoint')}>
                      {c.reference}
                    </button>
                  ) : (
                    <span>{c.reference ?? named.get(c.id) ?? c.id.slice(0, 8)} (removed)</span>
                  )}
                </td>
                <td>{c.worker}</td>
                <td>{c.step ?? '—'}</td>
                <td className="jp-Artifacts-mono">
                  {Object.entries(c.metrics ?? {})
                    .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(6)) : JSON.stringify(v)}`)
                    .join(', ') || '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        !gc && <div className="jp-Artifacts-muted">No checkpoints were saved (worker.save_checkpoint saves them).</div>
      )}
    </>
  );
}

/**
 * A job in the main area: Stop, Run again, Delete; its record; its workers (sortable, the best
 * marked); a chart per metric over the steps; the chosen worker's live log; what it made.
 */
export function JobView(props: { view: JobViewModel; client: ArtifactsClient; actions: IJobViewActions }): React.ReactElement {
  const { view, client, actions } = props;
  useSignal(view.changed);
  const job = view.job;
  if (!job) {
    return <div className="jp-Artifacts-empty">Loading job {view.id}…</div>;
  }
  const running = isActiveState(job.state);
  const stopped = job.state === 'stopped';
  const worker = job.workers.some(w => w.index === view.worker) ? view.worker : job.workers[0]?.index ?? 0;
  return (
    <div className="jp-Artifacts-view jp-Artifacts-jobView" data-job={job.id} data-state={job.state}>
      <div className="jp-Artifacts-viewHeader">
        <h2 className="jp-Artifacts-title">
          Job {job.name} <StateBadge state={job.state} />
        </h2>
        <div className="jp-Artifacts-actions">
          <button
            className="jp-Button jp-mod-styled jp-Artifacts-danger"
            disabled={!running}
            onClick={() => void confirmStop(view, job)}
          >
            Stop
          </button>
          <button className="jp-Button jp-mod-styled" onClick={() => actions.runAgain(job)}>
            Run again
          </button>
          <button
            className="jp-Button jp-mod-styled jp-Artifacts-danger"
            disabled={running}
            title={running ? 'Stop the job first; an ended job can be deleted' : 'Forget this job (what it made stays)'}
            onClick={() => void confirmDeleteJob(view, job).then(deleted => deleted && actions.close())}
          >
            Delete job
          </button>
          <CopyButton text={job.id} label="Copy id" />
        </div>
      </div>
      {job.error && (stopped ? (
        <div className="jp-Artifacts-note" data-stopped>Stopped on request.</div>
      ) : (
        <div className="jp-Artifacts-formError" role="alert">{job.error}</div>
      ))}
      <table className="jp-Artifacts-kv jp-Artifacts-summary">
        <tbody>
          <tr><th scope="row">Type</th><td>{job.type}</td></tr>
          <tr><th scope="row">Command</th><td className="jp-Artifacts-mono">{String((job.spec as Record<string, unknown>)?.['command'] ?? '—')}</td></tr>
          <tr><th scope="row">GPUs</th><td>{gpuList(jobGpus(job))}</td></tr>
          <tr><th scope="row">Duration</th><td>{formatDuration(jobDuration(job))}</td></tr>
          <tr><th scope="row">Created</th><td>{formatTime(job.created_at)} by {job.created_by || '—'}</td></tr>
          <tr><th scope="row">Inputs</th><td>{(job.inputs ?? []).map(i => String(i['reference'] ?? i['id'])).join(', ') || '—'}</td></tr>
        </tbody>
      </table>
      <Section title={`Workers (${job.workers.length})`} name="workers">
        <WorkerTable view={view} />
        {job.workers
          .filter(w => w.kept_output)
          .map(w => (
            <KeptOutput key={w.index} worker={w} onSave={() => void view.saveOutput(w.index)} />
          ))}
      </Section>
      <Section title="Metrics" name="metrics">
        <MetricCharts metrics={view.metrics} running={running} />
      </Section>
      <Section title={`Log of worker ${worker}`} name="log">
        <JobLog client={client} job={job} worker={worker} />
      </Section>
      <Section title="Outputs" name="outputs">
        <Outputs job={job} actions={actions} />
      </Section>
      <Section title="Checkpoints" name="checkpoints">
        <Checkpoints job={job} actions={actions} />
      </Section>
    </div>
  );
}
