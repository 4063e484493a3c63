import { refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { usageText } from '../format';
import { isKind, PanelModel } from '../model/panel';
import { ArtifactDetails } from './ArtifactDetails';
import { ArtifactList } from './ArtifactList';
import { GpuList } from './GpuList';
import { JobList } from './JobList';
import { TabBar } from './TabBar';
import { useSignal } from './useSignal';

/** The store's use against its quota, under the title. */
function StoreUsage(props: { model: PanelModel }): React.ReactElement | null {
  useSignal(props.model.statusChanged);
  const status = props.model.status;
  const text = usageText(status?.used, status?.quota);
  if (!text) {
    return null;
  }
  const full = (status?.used_fraction ?? 0) >= 0.9;
  return (
    <span className={`jp-Artifacts-usage${full ? ' jp-mod-full' : ''}`} data-usage title={`Store: ${status?.root ?? ''}`}>
      {text}
    </span>
  );
}

/**
 * The panel's frame: the title with the store's use and Refresh, the tabs, and the view of the tab
 * shown (a list, or the details open in it; Escape goes back). It re-renders only when the tab or the
 * open artifact changes; each view follows its own model.
 */
export function PanelView(props: { model: PanelModel }): React.ReactElement {
  const { model } = props;
  useSignal(model.tabChanged, model.details.selectionChanged);
  const tab = model.tab;
  let body: React.ReactNode;
  if (isKind(tab)) {
    body = model.details.reference ? <ArtifactDetails model={model} details={model.details} /> : <ArtifactList model={model} />;
  } else if (tab === 'jobs') {
    body = <JobList model={model} />;
  } else {
    body = <GpuList model={model.gpus} />;
  }
  const onKeyDown = (event: React.KeyboardEvent) => {
    if (event.key === 'Escape' && model.details.reference && !event.defaultPrevented) {
      event.preventDefault();
      model.details.select(null);
    }
  };
  return (
    <div className="jp-Artifacts-root" onKeyDown={onKeyDown}>
      <div className="jp-Artifacts-header">
        <h2>Artifacts</h2>
        <StoreUsage model={model} />
        <button
          className="jp-Artifacts-iconButton jp-Artifacts-refresh"
          title="Refresh"
          aria-label="Refresh"
          onClick={() => model.refreshNow()}
        >
          <refreshIcon.react tag="span" className="jp-Artifacts-icon" />
        </button>
      </div>
      <TabBar tab={tab} onSelect={t => model.setTab(t)} />
      <div className="jp-Artifacts-body" role="tabpanel" aria-label={tab}>
        {body}
      </div>
    </div>
  );
}
