/** A job's reported metrics as line charts: one chart per metric, one line per worker, over the steps. */
import type { JobMetrics } from '../api/types';

export interface IPoint {
  x: number;
  y: number;
}

/** One worker's values of one metric, in the order reported. */
export interface ISeries {
  worker: number;
  points: IPoint[];
}

/** The numeric metrics any worker reported, sorted by name. */
export function metricNames(metrics: JobMetrics | null): string[] {
  const names = new Set<string>();
  for (const worker of metrics?.workers ?? []) {
    for (const point of worker.points) {
      for (const [key, value] of Object.entries(point.metrics)) {
        if (typeof value === 'number' && Number.isFinite(value)) {
          names.add(key);
        }
      }
    }
  }
  return [...names].sort();
}

/** Each worker's line of one metric; x is the step (the report's position when it gave none). Workers
 * that never reported it are left out. */
export function chartSeries(metrics: JobMetrics | null, metric: string): ISeries[] {
  const series: ISeries[] = [];
  for (const worker of metrics?.workers ?? []) {
    const points: IPoint[] = [];
    worker.points.forEach((point, i) => {
      const y = point.metrics[metric];
      if (typeof y === 'number' && Number.isFinite(y)) {
        points.push({ x: typeof point.step === 'number' ? point.step : i + 1, y });
      }
    });
    if (points.length) {
      series.push({ worker: worker.index, points });
    }
  }
  return series;
}

/** About `count` round tick values (1, 2 or 5 times a power of ten apart) covering [min, max];
 * with `whole`, none between whole numbers (steps are counted). */
export function niceTicks(min: number, max: number, count = 5, whole = false): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    return [];
  }
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    return whole ? [min - 1, min, min + 1] : niceTicks(min - pad, max + pad, count);
  }
  // d3's rule: the power of ten below the raw step, times 1, 2, 5 or 10, whichever is nearest.
  const raw = (max - min) / Math.max(1, count - 1);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const error = raw / power;
  const nice = power * (error >= Math.sqrt(50) ? 10 : error >= Math.sqrt(10) ? 5 : error >= Math.sqrt(2) ? 2 : 1);
  const step = whole ? Math.max(1, nice) : nice;
  const ticks: number[] = [];
  for (let v = Math.floor(min / step) * step; v <= max + step * 1e-9; v += step) {
    ticks.push(Number(v.toPrecision(12)));
  }
  if (ticks[ticks.length - 1] < max) {
    ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  }
  return ticks;
}

/** A number as a short label: 0.0001234 -> "0.000123", 12345.6 -> "12346", 1e-9 -> "1e-9". */
export function shortNumber(value: number): string {
  if (value === 0) {
    return '0';
  }
  const abs = Math.abs(value);
  if (abs >= 1e6 || abs < 1e-4) {
    return value.toExponential(2).replace(/\.?0+e/, 'e').replace('e+', 'e');
  }
  return String(Number(value.toPrecision(abs >= 1000 ? 6 : 3)));
}

export interface IChartLayout {
  width: number;
  height: number;
  /** The plotting area inside the axes. */
  plot: { left: number; top: number; right: number; bottom: number };
  xTicks: { value: number; label: string; x: number }[];
  yTicks: { value: number; label: string; y: number }[];
  /** One SVG path per worker, and its points in pixels (for markers and titles). */
  lines: { worker: number; d: string; points: (IPoint & { px: number; py: number })[] }[];
}

/** Where everything of a chart goes in a `width` x `height` SVG. */
export function chartLayout(series: ISeries[], width: number, height: number): IChartLayout {
  const plot = { left: 56, top: 10, right: width - 12, bottom: height - 30 };
  const xs = series.flatMap(s => s.points.map(p => p.x));
  const ys = series.flatMap(s => s.points.map(p => p.y));
  const xTickValues = niceTicks(Math.min(...xs), Math.max(...xs), 6, xs.every(Number.isInteger));
  const yTickValues = niceTicks(Math.min(...ys), Math.max(...ys), 5);
  const [x0, x1] = [xTickValues[0] ?? 0, xTickValues[xTickValues.length - 1] ?? 1];
  const [y0, y1] = [yTickValues[0] ?? 0, yTickValues[yTickValues.length - 1] ?? 1];
  const px = (x: number) => plot.left + ((x - x0) / (x1 - x0 || 1)) * (plot.right - plot.left);
  const py = (y: number) => plot.bottom - ((y - y0) / (y1 - y0 || 1)) * (plot.bottom - plot.top);
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    width,
    height,
    plot,
    xTicks: xTickValues.map(value => ({ value, label: shortNumber(value), x: round(px(value)) })),
    yTicks: yTickValues.map(value => ({ value, label: shortNumber(value), y: round(py(value)) })),
    lines: series.map(s => {
      const points = s.points.map(p => ({ ...p, px: round(px(p.x)), py: round(py(p.y)) }));
      return {
        worker: s.worker,
        points,
        d: points.map((p, i) => `${i ? 'L' : 'M'}${p.px},${p.py}`).join(' ')
      };
    })
  };
}
