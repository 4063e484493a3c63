import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { JobsModel } from '../model/jobs';
import { useSignal } from './useSignal';

function RunningJobsView(props: { jobs: JobsModel; onClick: () => void }): React.ReactElement | null {
  useSignal(props.jobs.listChanged);
  const running = props.jobs.running;
  if (!running) {
    return null;
  }
  return (
    <button className="jp-Artifacts-statusItem" onClick={props.onClick} title="Show the jobs in the Artifacts panel">
      {running === 1 ? '1 job running' : `${running} jobs running`}
    </button>
  );
}

/** The status bar's count of queued and running jobs; a click shows them. */
export class RunningJobs extends ReactWidget {
  constructor(
    private readonly jobs: JobsModel,
    private readonly onClick: () => void
  ) {
    super();
    this.id = 'jupyter-artifacts-running-jobs';
    this.addClass('jp-Artifacts-status');
  }

  render(): React.ReactElement {
    return <RunningJobsView jobs={this.jobs} onClick={this.onClick} />;
  }
}
