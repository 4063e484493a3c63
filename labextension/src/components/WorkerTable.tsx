import * as React from 'react';

import type { Worker } from '../api/types';
import { gpuList, metricsLines } from '../format';
import { StateBadge } from './StateBadge';

/** A job's workers: state, GPUs, parameters and last metrics; clicking one shows its log. */
export function WorkerTable(props: {
  workers: Worker[];
  selected: number;
  onSelect: (index: number) => void;
}): React.ReactElement {
  return (
    <table className="jp-Artifacts-workers">
      <thead>
        <tr>
          <th>#</th>
          <th>State</th>
          <th>GPUs</th>
          <th>Params</th>
          <th>Metrics</th>
        </tr>
      </thead>
      <tbody>
        {props.workers.map(w => {
          const metrics = metricsLines(w.last_metrics);
          return (
            <tr
              key={w.index}
              data-worker={w.index}
              className={w.index === props.selected ? 'jp-mod-selected' : ''}
              onClick={() => props.onSelect(w.index)}
            >
              <td>{w.index}</td>
              <td>
                <StateBadge state={w.state} />
              </td>
              <td>{gpuList(w.gpus ?? [])}</td>
              <td className="jp-Artifacts-mono">
                {w.params && Object.keys(w.params).length ? JSON.stringify(w.params) : '—'}
              </td>
              <td className="jp-Artifacts-mono" data-column="metrics">
                {metrics.length ? metrics.map(line => <div key={line}>{line}</div>) : '—'}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
