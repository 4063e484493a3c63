import type { JobMetrics } from '../src/api/types';
import { chartLayout, chartSeries, metricNames, niceTicks, shortNumber } from '../src/model/chart';

const metrics: JobMetrics = {
  id: 'j',
  workers: [
    { index: 0, points: [{ step: 1, metrics: { loss: 1, note: 'x' } }, { step: 2, metrics: { loss: 0.5, accuracy: 0.8 } }] },
    { index: 1, points: [{ step: null, metrics: { loss: 2 } }, { step: null, metrics: { loss: Number.NaN } }, { metrics: { loss: 1 } }] },
    { index: 2, points: [] }
  ]
};

describe('metric charts', () => {
  it('has a chart per numeric metric and a line per worker that reported it', () => {
    expect(metricNames(metrics)).toEqual(['accuracy', 'loss']);
    expect(metricNames(null)).toEqual([]);
    expect(chartSeries(metrics, 'loss')).toEqual([
      { worker: 0, points: [{ x: 1, y: 1 }, { x: 2, y: 0.5 }] },
      // no step: the report's position; values that are not numbers are left out
      { worker: 1, points: [{ x: 1, y: 2 }, { x: 3, y: 1 }] }
    ]);
    expect(chartSeries(metrics, 'accuracy')).toEqual([{ worker: 0, points: [{ x: 2, y: 0.8 }] }]);
  });

  it('puts round ticks around the values', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.12, 0.93, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(1, 600, 6)).toEqual([0, 100, 200, 300, 400, 500, 600]);
    expect(niceTicks(3, 3)).toEqual([2.6, 2.8, 3, 3.2, 3.4]); // one value: a little room around it
    expect(niceTicks(Number.NaN, 1)).toEqual([]);
    // Steps are counted: no tick between two of them.
    expect(niceTicks(1, 3, 6, true)).toEqual([1, 2, 3]);
    expect(niceTicks(4, 4, 6, true)).toEqual([3, 4, 5]);
    expect(shortNumber(0.000123456)).toBe('0.000123');
    expect(shortNumber(12345.67)).toBe('12345.7');
    expect(shortNumber(1e-9)).toBe('1e-9');
    expect(shortNumber(0)).toBe('0');
  });

  it('places the lines inside the plot, larger values higher', () => {
    const layout = chartLayout(chartSeries(metrics, 'loss'), 400, 200);
    const { plot } = layout;
    for (const line of layout.lines) {
      expect(line.d.startsWith('M')).toBe(true);
      for (const p of line.points) {
        expect(p.px).toBeGreaterThanOrEqual(plot.left);
        expect(p.px).toBeLessThanOrEqual(plot.right);
        expect(p.py).toBeGreaterThanOrEqual(plot.top);
        expect(p.py).toBeLessThanOrEqual(plot.bottom);
      }
    }
    const [first] = layout.lines;
    expect(first.points[0].py).toBeLessThan(first.points[1].py); // loss 1 above loss 0.5
    expect(layout.yTicks.map(t => t.label)).toContain('1');
    expect(layout.xTicks[0].x).toBe(plot.left);
  });
});
