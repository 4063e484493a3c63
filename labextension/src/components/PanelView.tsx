import * as React from 'react';

import { isKind, PanelModel } from '../model/panel';
import { ArtifactDetails } from './ArtifactDetails';
import { ArtifactList } from './ArtifactList';
import { GpuList } from './GpuList';
import { JobDetails } from './JobDetails';
import { JobList } from './JobList';
import { TabBar } from './TabBar';
import { useSignal } from './useSignal';

/**
 * The panel's frame: the tabs, and the view of the tab shown (a list, or the details open in it).
 * It re-renders only when the tab or an open artifact or job changes; each view follows its own model.
 */
export function PanelView(props: { model: PanelModel }): React.ReactElement {
  const { model } = props;
  useSignal(model.tabChanged, model.details.selectionChanged, model.jobs.selectionChanged);
  const tab = model.tab;
  let body: React.ReactNode;
  if (isKind(tab)) {
    body = model.details.reference ? <ArtifactDetails model={model} /> : <ArtifactList model={model} />;
  } else if (tab === 'jobs') {
    body = model.jobs.selected ? <JobDetails model={model} /> : <JobList model={model} />;
  } else {
    body = <GpuList model={model.gpus} />;
  }
  return (
    <div className="jp-Artifacts-root">
      <div className="jp-Artifacts-header">
        <h2>Artifacts</h2>
      </div>
      <TabBar tab={tab} onSelect={t => model.setTab(t)} />
      <div className="jp-Artifacts-body">{body}</div>
    </div>
  );
}
