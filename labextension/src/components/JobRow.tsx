import * as React from 'react';

import type { Job } from '../api/types';
import { formatDuration, gpuList } from '../format';
import { jobDuration, jobGpus } from '../model/jobs';
import { StateBadge } from './StateBadge';

/** One job of the list: name, state, type, GPUs, workers and how long it ran. */
export function JobRow(props: { job: Job; onSelect: () => void }): React.ReactElement {
  const { job, onSelect } = props;
  return (
    <li
      className="jp-Artifacts-row jp-Artifacts-jobRow"
      data-job={job.id}
      data-name={job.name}
      data-state={job.state}
      tabIndex={0}
      onClick={onSelect}
      onKeyDown={event => event.key === 'Enter' && onSelect()}
      title={`Open job ${job.name}`}
    >
      <div className="jp-Artifacts-rowMain">
        <span className="jp-Artifacts-name">{job.name}</span>
        <StateBadge state={job.state} />
      </div>
      <div className="jp-Artifacts-rowMeta">
        <span>{job.type}</span>
        <span>GPUs {gpuList(jobGpus(job))}</span>
        <span>{job.workers.length} workers</span>
        <span>{formatDuration(jobDuration(job))}</span>
      </div>
    </li>
  );
}
