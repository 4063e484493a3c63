import * as React from 'react';

import type { JobMetrics } from '../api/types';
import { chartLayout, chartSeries, metricNames } from '../model/chart';

const WIDTH = 420;
const HEIGHT = 220;
/** Line colours, from the theme, one per worker in turn. */
const COLOURS = 8;

/** One metric over the steps, a line per worker (in the worker's colour), with its axes. */
export function MetricChart(props: { metrics: JobMetrics; metric: string; params: Map<number, string> }): React.ReactElement {
  const series = chartSeries(props.metrics, props.metric);
  const layout = chartLayout(series, WIDTH, HEIGHT);
  const { plot } = layout;
  const id = `jp-Artifacts-chart-${props.metric.replace(/[^\w-]/g, '_')}`;
  return (
    <figure className="jp-Artifacts-chart" data-metric={props.metric}>
      <figcaption id={id} className="jp-Artifacts-chartTitle">
        {props.metric}
      </figcaption>
      <svg width={WIDTH} height={HEIGHT} viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby={id}>
        <title>{`${props.metric} per worker over the steps`}</title>
        {layout.yTicks.map(t => (
          <g key={`y${t.value}`} className="jp-Artifacts-chartTick">
            <line x1={plot.left} x2={plot.right} y1={t.y} y2={t.y} className="jp-Artifacts-chartGrid" />
            <text x={plot.left - 6} y={t.y + 4} textAnchor="end">
              {t.label}
            </text>
          </g>
        ))}
        {layout.xTicks.map(t => (
          <g key={`x${t.value}`} className="jp-Artifacts-chartTick">
            <line x1={t.x} x2={t.x} y1={plot.bottom} y2={plot.bottom + 4} className="jp-Artifacts-chartAxis" />
            <text x={t.x} y={plot.bottom + 16} textAnchor="middle">
              {t.label}
            </text>
          </g>
        ))}
        <line x1={plot.left} x2={plot.right} y1={plot.bottom} y2={plot.bottom} className="jp-Artifacts-chartAxis" />
        <line x1={plot.left} x2={plot.left} y1={plot.top} y2={plot.bottom} className="jp-Artifacts-chartAxis" />
        <text x={plot.right} y={HEIGHT - 2} textAnchor="end" className="jp-Artifacts-chartUnit">
          step
        </text>
        {layout.lines.map(line => (
          <g key={line.worker} className={`jp-Artifacts-series jp-mod-colour${line.worker % COLOURS}`} data-worker={line.worker}>
            <path d={line.d} />
            {line.points.map(p => (
              <circle key={`${p.x}-${p.y}`} cx={p.px} cy={p.py} r={2.5}>
                <title>{`worker ${line.worker}, step ${p.x}: ${p.y}`}</title>
              </circle>
            ))}
          </g>
        ))}
      </svg>
      <ul className="jp-Artifacts-chartLegend">
        {series.map(s => (
          <li key={s.worker} className={`jp-mod-colour${s.worker % COLOURS}`}>
            <span className="jp-Artifacts-swatch" aria-hidden="true" />
            worker {s.worker}
            {props.params.get(s.worker) ? ` (${props.params.get(s.worker)})` : ''}
          </li>
        ))}
      </ul>
    </figure>
  );
}

/** A chart per reported metric; a line of text while nothing was reported. */
export function MetricCharts(props: { metrics: JobMetrics | null; running: boolean }): React.ReactElement {
  const names = metricNames(props.metrics);
  if (!props.metrics || !names.length) {
    return (
      <div className="jp-Artifacts-muted">
        {props.running
          ? 'No metrics yet: a worker reports them with jupyter_artifacts.worker.report(step, loss=...).'
          : 'No metrics were reported (jupyter_artifacts.worker.report(step, loss=...) reports them).'}
      </div>
    );
  }
  const params = new Map(
    props.metrics.workers.map(w => [
      w.index,
      Object.entries(w.params ?? {})
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(', ')
    ])
  );
  return (
    <div className="jp-Artifacts-charts">
      {names.map(name => (
        <MetricChart key={name} metrics={props.metrics!} metric={name} params={params} />
      ))}
    </div>
  );
}
