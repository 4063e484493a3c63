import * as React from 'react';

import { openNewJob } from '../dialogs/newJob';
import type { PanelModel } from '../model/panel';
import { JobRow } from './JobRow';
import { useSignal } from './useSignal';

/** The Jobs tab: New job and the jobs, newest first; a job opens in the main area. */
export function JobList(props: { model: PanelModel }): React.ReactElement {
  const { model } = props;
  useSignal(model.jobs.listChanged);
  const jobs = model.jobs.list;
  const running = model.jobs.running;
  return (
    <div className="jp-Artifacts-listView">
      <div className="jp-Artifacts-toolbar">
        <span className="jp-Artifacts-muted">
          {jobs ? `${jobs.length} job${jobs.length === 1 ? '' : 's'}${running ? `, ${running} running` : ''}` : ''}
        </span>
        <button className="jp-Button jp-mod-styled jp-mod-accept jp-Artifacts-newJob" onClick={() => void openNewJob(model)}>
          New job
        </button>
      </div>
      {!jobs ? (
        <div className="jp-Artifacts-empty">Loading…</div>
      ) : jobs.length === 0 ? (
        <div className="jp-Artifacts-empty">No jobs yet.</div>
      ) : (
        <ul className="jp-Artifacts-list" aria-label="Jobs">
          {jobs.map(job => (
            <JobRow key={job.id} job={job} onSelect={() => model.openJob(job.id)} />
          ))}
        </ul>
      )}
    </div>
  );
}
