import * as React from 'react';

import { confirmStop } from '../dialogs/confirm';
import { formatDuration, formatTime, gpuList, isActiveState } from '../format';
import { jobDuration, jobGpus } from '../model/jobs';
import type { PanelModel } from '../model/panel';
import { BackButton } from './BackButton';
import { CopyButton } from './CopyButton';
import { JobLog } from './JobLog';
import { KeptOutput } from './KeptOutput';
import { LoadingDetails } from './LoadingDetails';
import { Section } from './Section';
import { StateBadge } from './StateBadge';
import { useSignal } from './useSignal';
import { WorkerTable } from './WorkerTable';

/** The open job: Stop, its record, its workers (with outputs kept after a failed save) and a worker's log. */
export function JobDetails(props: { model: PanelModel }): React.ReactElement {
  const { model } = props;
  useSignal(model.jobs.jobChanged);
  const job = model.jobs.job;
  const [worker, setWorker] = React.useState(0);
  const back = () => model.jobs.select(null);
  if (!job) {
    return <LoadingDetails onBack={back} />;
  }
  return (
    <div className="jp-Artifacts-details jp-Artifacts-jobDetails" data-job={job.id} data-state={job.state}>
      <BackButton onClick={back} />
      <h2 className="jp-Artifacts-title">
        {job.name} <StateBadge state={job.state} />
      </h2>
      <div className="jp-Artifacts-actions">
        <button
          className="jp-Button jp-mod-styled jp-mod-warn"
          disabled={!isActiveState(job.state)}
          onClick={() => void confirmStop(model, job)}
        >
          Stop
        </button>
        <CopyButton text={job.id} label="Copy id" />
      </div>
      {job.error && <div className="jp-Artifacts-formError">{job.error}</div>}
      <table className="jp-Artifacts-kv">
        <tbody>
          <tr><th>Type</th><td>{job.type}</td></tr>
          <tr><th>GPUs</th><td>{gpuList(jobGpus(job))}</td></tr>
          <tr><th>Duration</th><td>{formatDuration(jobDuration(job))}</td></tr>
          <tr><th>Created</th><td>{formatTime(job.created_at)} by {job.created_by || '—'}</td></tr>
          <tr><th>Id</th><td className="jp-Artifacts-mono">{job.id}</td></tr>
        </tbody>
      </table>
      <Section title={`Workers (${job.workers.length})`} name="workers">
        <WorkerTable workers={job.workers} selected={worker} onSelect={setWorker} />
        {job.workers
          .filter(w => w.kept_output)
          .map(w => (
            <KeptOutput key={w.index} worker={w} onSave={() => void model.jobs.saveOutput(job, w.index)} />
          ))}
      </Section>
      <Section title={`Log (worker ${worker})`} name="log">
        <JobLog client={model.client} job={job} worker={worker} />
      </Section>
    </div>
  );
}
