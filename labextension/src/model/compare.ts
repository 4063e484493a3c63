/** Two versions side by side: what changed in their files, their records, their metadata and their metrics. */
import { ISignal, Signal } from '@lumino/signaling';

import type { ArtifactsClient } from '../api/client';
import type { Artifact, ArtifactKind, Diff, DiffFile } from '../api/types';
import { formatSize, formatTime } from '../format';
import { jobOf } from './groups';

/** One key of two records: each side's text, and whether they differ. */
export interface IPair {
  key: string;
  a: string;
  b: string;
  differs: boolean;
}

function text(value: unknown): string {
  if (value === undefined || value === null) {
    return '—';
  }
  if (typeof value === 'number') {
    return String(Number(value.toPrecision(6)));
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Every key of either object (sorted), with both values. */
export function sideBySide(
  a: Record<string, unknown> | null | undefined,
  b: Record<string, unknown> | null | undefined
): IPair[] {
  const keys = [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])].sort();
  return keys.map(key => {
    const [x, y] = [text(a?.[key]), text(b?.[key])];
    return { key, a: x, b: y, differs: x !== y };
  });
}

/** The facts of each version that say what it is: size, files, who made it and when, and by which job. */
export function recordPairs(a: Artifact, b: Artifact): IPair[] {
  const facts = (x: Artifact): Record<string, unknown> => ({
    Size: formatSize(x.size),
    Files: x.file_count,
    Created: `${formatTime(x.created_at)} by ${x.created_by || '—'}`,
    Aliases: x.aliases?.join(', ') || '—',
    Job: jobOf(x)?.name ?? '—',
    Digest: x.digest ?? '—'
  });
  const [fa, fb] = [facts(a), facts(b)];
  return Object.keys(fa).map(key => {
    const [x, y] = [text(fa[key]), text(fb[key])];
    return { key, a: x, b: y, differs: x !== y };
  });
}

/** The metrics a version carries: a job checkpoint's `metadata.metrics`; null when it has none. */
export function metricsOf(artifact: Artifact): Record<string, unknown> | null {
  const metrics = artifact.metadata?.['metrics'];
  return metrics && typeof metrics === 'object' ? (metrics as Record<string, unknown>) : null;
}

/** The parameters of the worker that made a version (`produced_by.params`); null when no job made it. */
export function paramsOf(artifact: Artifact): Record<string, unknown> | null {
  const params = artifact.produced_by?.['params'];
  return params && typeof params === 'object' ? (params as Record<string, unknown>) : null;
}

/** "+1.2 MB", "−300 B", "" when the size did not change or a side has none. */
export function sizeChange(file: DiffFile): string {
  if (typeof file.size_a !== 'number' || typeof file.size_b !== 'number' || file.size_a === file.size_b) {
    return '';
  }
  const delta = file.size_b - file.size_a;
  return `${delta > 0 ? '+' : '−'}${formatSize(Math.abs(delta))}`;
}

export interface IComparison {
  a: Artifact;
  b: Artifact;
  diff: Diff;
  /** Metrics of each side: a checkpoint's own, else its worker's last report. */
  metrics: [Record<string, unknown> | null, Record<string, unknown> | null];
}

/** The comparison a view shows, fetched once (versions never change). */
export class CompareModel {
  constructor(
    private readonly client: ArtifactsClient,
    readonly a: string,
    readonly b: string,
    readonly kind?: ArtifactKind
  ) {}

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get comparison(): IComparison | null {
    return this._comparison;
  }

  get error(): string | null {
    return this._error;
  }

  async load(): Promise<void> {
    try {
      const [a, b, diff] = await Promise.all([
        this.client.getArtifact(this.a, this.kind),
        this.client.getArtifact(this.b, this.kind),
        this.client.diff(this.a, this.b, this.kind)
      ]);
      const metrics = await Promise.all([a, b].map(x => this.workerMetrics(x)));
      this._comparison = { a, b, diff, metrics: [metrics[0], metrics[1]] };
      this._error = null;
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
    }
    this._changed.emit();
  }

  /** A version's own metrics, or those its worker reported last (a job's output carries none). */
  private async workerMetrics(artifact: Artifact): Promise<Record<string, unknown> | null> {
    const own = metricsOf(artifact);
    const job = jobOf(artifact);
    const worker = artifact.produced_by?.['worker'];
    if (own || !job || typeof worker !== 'number') {
      return own;
    }
    try {
      const found = await this.client.job(job.id);
      return found.workers.find(w => w.index === worker)?.last_metrics?.metrics ?? null;
    } catch {
      return null; // the job was deleted since
    }
  }

  private _comparison: IComparison | null = null;
  private _error: string | null = null;
  private _changed = new Signal<this, void>(this);
}
