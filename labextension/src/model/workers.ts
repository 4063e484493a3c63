/** A job's workers as a table: one column per parameter and per metric, sortable, the best worker marked. */
import type { Job, Worker } from '../api/types';

export interface IWorkerRow {
  index: number;
  state: string;
  gpus: number[];
  params: Record<string, unknown>;
  /** The last value of each reported metric. */
  metrics: Record<string, unknown>;
  step: number | null;
  worker: Worker;
}

/** Which column sorts the table: `index`, `state`, `gpus`, `param:NAME` or `metric:NAME`. */
export interface ISort {
  column: string;
  descending: boolean;
}

/** What ranks the workers: a metric, and whether smaller is better. */
export interface IRanking {
  metric: string | null;
  smallerIsBetter: boolean;
}

const SMALLER_IS_BETTER = /loss|err|mse|mae|rmse|perplexity|wer|cer|time|latency/i;

export function workerRows(job: Job): IWorkerRow[] {
  return job.workers.map(w => ({
    index: w.index,
    state: w.state,
    gpus: w.gpus ?? [],
    params: w.params ?? {},
    metrics: w.last_metrics?.metrics ?? {},
    step: typeof w.last_metrics?.step === 'number' ? w.last_metrics.step : null,
    worker: w
  }));
}

/** The parameter and metric names of every worker, each once, in the order first seen. */
export function workerColumns(rows: IWorkerRow[]): { params: string[]; metrics: string[] } {
  const params = new Set<string>();
  const metrics = new Set<string>();
  for (const row of rows) {
    Object.keys(row.params).forEach(key => params.add(key));
    Object.keys(row.metrics).forEach(key => metrics.add(key));
  }
  return { params: [...params], metrics: [...metrics] };
}

/**
 * The job's own searcher metric (`spec.metric`, `spec.smaller_is_better`) when it has one, else the
 * first metric reported, taken as smaller-is-better when its name says so (loss, error ...).
 */
export function defaultRanking(job: Job, metrics: string[]): IRanking {
  const spec = (job.spec ?? {}) as Record<string, unknown>;
  if (typeof spec['metric'] === 'string' && spec['metric']) {
    return { metric: spec['metric'], smallerIsBetter: spec['smaller_is_better'] !== false };
  }
  const metric = metrics[0] ?? null;
  return { metric, smallerIsBetter: metric ? SMALLER_IS_BETTER.test(metric) : true };
}

/** The index of the worker with the best last value of the ranking metric; null when none reported it. */
export function bestWorker(rows: IWorkerRow[], ranking: IRanking): number | null {
  let best: IWorkerRow | null = null;
  for (const row of rows) {
    const value = ranking.metric ? row.metrics[ranking.metric] : undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      continue;
    }
    const current = best?.metrics[ranking.metric!] as number | undefined;
    if (current === undefined || (ranking.smallerIsBetter ? value < current : value > current)) {
      best = row;
    }
  }
  return best ? best.index : null;
}

function cell(row: IWorkerRow, column: string): unknown {
  if (column.startsWith('param:')) {
    return row.params[column.slice(6)];
  }
  if (column.startsWith('metric:')) {
    return row.metrics[column.slice(7)];
  }
  if (column === 'gpus') {
    return row.gpus[0];
  }
  return (row as unknown as Record<string, unknown>)[column];
}

/** Rows sorted by a column: numbers by value, the rest as text; missing values last either way. */
export function sortRows(rows: IWorkerRow[], sort: ISort): IWorkerRow[] {
  const sign = sort.descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const [x, y] = [cell(a, sort.column), cell(b, sort.column)];
    const missing = Number(x === undefined || x === null) - Number(y === undefined || y === null);
    if (missing) {
      return missing;
    }
    if (typeof x === 'number' && typeof y === 'number') {
      return sign * (x - y) || a.index - b.index;
    }
    return sign * String(x ?? '').localeCompare(String(y ?? ''), undefined, { numeric: true }) || a.index - b.index;
  });
}

/** A cell's text: numbers to 6 significant digits, text as it is, anything else as JSON. */
export function cellText(value: unknown): string {
  if (value === undefined || value === null) {
    return '—';
  }
  if (typeof value === 'number') {
    return String(Number(value.toPrecision(6)));
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}
