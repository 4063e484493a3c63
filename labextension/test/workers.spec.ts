import type { Job } from '../src/api/types';
import { bestWorker, cellText, defaultRanking, sortRows, workerColumns, workerRows } from '../src/model/workers';

const job = (spec: Record<string, unknown> = {}): Job => ({
  id: 'j',
  name: 'sweep',
  type: 'training',
  state: 'running',
  spec,
  workers: [
    { index: 0, state: 'finished', gpus: [1], params: { lr: 0.1, depth: 3 }, last_metrics: { step: 3, metrics: { loss: 0.5, accuracy: 0.7 } } },
    { index: 1, state: 'running', gpus: [0], params: { lr: 0.01, depth: 3 }, last_metrics: { step: 2, metrics: { loss: 0.2, accuracy: 0.9 } } },
    { index: 2, state: 'queued', gpus: [], params: { lr: 0.001, depth: 4 } }
  ]
});

describe('the workers table', () => {
  it('has a column per parameter and per metric', () => {
    const rows = workerRows(job());
    expect(workerColumns(rows)).toEqual({ params: ['lr', 'depth'], metrics: ['loss', 'accuracy'] });
    expect(rows[2]).toMatchObject({ index: 2, step: null, metrics: {} });
  });

  it("marks the best worker by the job's metric, or a metric whose name says which way is better", () => {
    const rows = workerRows(job());
    expect(defaultRanking(job({ metric: 'accuracy', smaller_is_better: false }), ['loss'])).toEqual({ metric: 'accuracy', smallerIsBetter: false });
    expect(defaultRanking(job({ metric: 'loss' }), [])).toEqual({ metric: 'loss', smallerIsBetter: true });
    expect(defaultRanking(job(), ['loss', 'accuracy'])).toEqual({ metric: 'loss', smallerIsBetter: true });
    expect(defaultRanking(job(), ['accuracy'])).toEqual({ metric: 'accuracy', smallerIsBetter: false });
    expect(bestWorker(rows, { metric: 'loss', smallerIsBetter: true })).toBe(1);
    expect(bestWorker(rows, { metric: 'accuracy', smallerIsBetter: false })).toBe(1);
    expect(bestWorker(rows, { metric: 'loss', smallerIsBetter: false })).toBe(0);
    expect(bestWorker(rows, { metric: 'f1', smallerIsBetter: true })).toBeNull();
  });

  it('sorts by any column either way, workers without the value last', () => {
    const rows = workerRows(job());
    const order = (column: string, descending = false) => sortRows(rows, { column, descending }).map(r => r.index);
    expect(order('param:lr')).toEqual([2, 1, 0]);
    expect(order('param:lr', true)).toEqual([0, 1, 2]);
    expect(order('metric:loss')).toEqual([1, 0, 2]);
    expect(order('metric:loss', true)).toEqual([0, 1, 2]);
    expect(order('state')).toEqual([0, 2, 1]);
    expect(order('gpus')).toEqual([1, 0, 2]);
    expect(cellText(0.123456789)).toBe('0.123457');
    expect(cellText(undefined)).toBe('—');
    expect(cellText([3, 4])).toBe('[3,4]');
  });
});
