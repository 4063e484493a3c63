import * as React from 'react';

import { gpuList } from '../format';
import type { JobViewModel } from '../model/jobView';
import { cellText, workerColumns, workerRows } from '../model/workers';
import { StateBadge } from './StateBadge';

/** A header that sorts the table by its column (again: the other way round). */
function SortHeader(props: { view: JobViewModel; column: string; label: string }): React.ReactElement {
  const { view, column } = props;
  const sorted = view.sort.column === column;
  return (
    <th scope="col" aria-sort={sorted ? (view.sort.descending ? 'descending' : 'ascending') : 'none'} data-column={column}>
      <button className="jp-Artifacts-sortButton" onClick={() => view.sortBy(column)}>
        {props.label}
        <span aria-hidden="true">{sorted ? (view.sort.descending ? ' ▾' : ' ▴') : ''}</span>
      </button>
    </th>
  );
}

/**
 * A job's workers: state, GPUs, a column per parameter and per last metric; sortable by any column,
 * the best worker (by the ranking metric) marked; a row (or Enter on it) shows that worker's log.
 */
export function WorkerTable(props: { view: JobViewModel }): React.ReactElement {
  const { view } = props;
  const job = view.job!;
  const { params, metrics } = workerColumns(workerRows(job));
  const best = view.best;
  const ranking = view.ranking;
  return (
    <div className="jp-Artifacts-tableScroll">
      <table className="jp-Artifacts-workers">
        <caption className="jp-Artifacts-muted">
          {best !== null && ranking.metric
            ? `★ best worker: ${best}, by ${ranking.metric} (${ranking.smallerIsBetter ? 'smaller' : 'larger'} is better). `
            : ''}
          Choose a worker to see its log.
        </caption>
        <thead>
          <tr>
            <SortHeader view={view} column="index" label="Worker" />
            <SortHeader view={view} column="state" label="State" />
            <SortHeader view={view} column="gpus" label="GPUs" />
            {params.map(p => (
              <SortHeader key={p} view={view} column={`param:${p}`} label={p} />
            ))}
            <SortHeader view={view} column="step" label="Step" />
            {metrics.map(m => (
              <SortHeader key={m} view={view} column={`metric:${m}`} label={m} />
            ))}
          </tr>
        </thead>
        <tbody>
          {view.rows.map(row => {
            const selected = row.index === view.worker;
            return (
              <tr
                key={row.index}
                data-worker={row.index}
                data-best={row.index === best ? 'true' : undefined}
                className={selected ? 'jp-mod-selected' : ''}
                aria-current={selected ? true : undefined}
                tabIndex={0}
                onClick={() => view.setWorker(row.index)}
                onKeyDown={event => event.key === 'Enter' && view.setWorker(row.index)}
              >
                <td>
                  {row.index}
                  {row.index === best && (
                    <span className="jp-Artifacts-best" title="The best worker" aria-label="best">
                      {' '}★
                    </span>
                  )}
                </td>
                <td>
                  <StateBadge state={row.state} />
                </td>
                <td>{gpuList(row.gpus)}</td>
                {params.map(p => (
                  <td key={p} className="jp-Artifacts-num" data-column={`param:${p}`}>
                    {cellText(row.params[p])}
                  </td>
                ))}
                <td className="jp-Artifacts-num">{cellText(row.step)}</td>
                {metrics.map(m => (
                  <td key={m} className="jp-Artifacts-num" data-column={`metric:${m}`}>
                    {cellText(row.metrics[m])}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
