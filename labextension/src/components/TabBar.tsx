import * as React from 'react';

import { Tab, TABS } from '../model/panel';

/** The tabs: Models, Checkpoints, Datasets, Jobs, GPUs; the arrow keys, Home and End move between them. */
export function TabBar(props: { tab: Tab; onSelect: (tab: Tab) => void }): React.ReactElement {
  const refs = React.useRef<(HTMLButtonElement | null)[]>([]);
  const onKeyDown = (event: React.KeyboardEvent, index: number) => {
    const last = TABS.length - 1;
    const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: last }[event.key];
    if (next === undefined) {
      return;
    }
    event.preventDefault();
    const target = (next + TABS.length) % TABS.length;
    props.onSelect(TABS[target].id);
    refs.current[target]?.focus();
  };
  return (
    <div className="jp-Artifacts-tabs" role="tablist" aria-label="Artifacts sections">
      {TABS.map((t, i) => {
        const selected = t.id === props.tab;
        return (
          <button
            key={t.id}
            ref={node => (refs.current[i] = node)}
            role="tab"
            aria-selected={selected}
            tabIndex={selected ? 0 : -1}
            data-tab={t.id}
            className={`jp-Artifacts-tab${selected ? ' jp-mod-active' : ''}`}
            onClick={() => props.onSelect(t.id)}
            onKeyDown={event => onKeyDown(event, i)}
          >
            {t.label}
          </button>
        );
      })}
    </div>
  );
}
