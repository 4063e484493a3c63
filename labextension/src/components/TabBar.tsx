import * as React from 'react';

import { Tab, TABS } from '../model/panel';

/** The tabs: Models, Checkpoints, Datasets, Jobs, GPUs. */
export function TabBar(props: { tab: Tab; onSelect: (tab: Tab) => void }): React.ReactElement {
  return (
    <div className="jp-Artifacts-tabs" role="tablist">
      {TABS.map(t => (
        <button
          key={t.id}
          role="tab"
          aria-selected={t.id === props.tab}
          data-tab={t.id}
          className={`jp-Artifacts-tab${t.id === props.tab ? ' jp-mod-active' : ''}`}
          onClick={() => props.onSelect(t.id)}
        >
          {t.label}
        </button>
      ))}
    </div>
  );
}
