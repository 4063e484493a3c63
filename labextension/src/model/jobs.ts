import { ISignal, Signal } from '@lumino/signaling';

import type { ArtifactsClient } from '../api/client';
import type { Job } from '../api/types';
import { isActiveState } from '../format';

/** How many of the newest jobs the list shows and the watch follows. */
export const JOBS_SHOWN = 100;

/** The GPUs a job's workers hold, each once. */
export function jobGpus(job: Job): number[] {
  return [...new Set(job.workers.flatMap(w => w.gpus ?? []))];
}

/** How long a job ran (or has been running, `now` in epoch seconds). */
export function jobDuration(job: Job, now: number = Date.now() / 1000): number | null {
  if (!job.started_at) {
    return null;
  }
  return (job.ended_at ?? now) - job.started_at;
}

/**
 * The newest jobs, watched: how many run, and which ended since the last look. A job seen running
 * (or started after the watch began) that is found ended is announced once through `ended`.
 */
export class JobsModel {
  constructor(
    private readonly client: ArtifactsClient,
    private readonly now: () => number = () => Date.now() / 1000
  ) {}

  /** The list of jobs changed. */
  get listChanged(): ISignal<this, void> {
    return this._listChanged;
  }

  /** A job ended (finished, failed or stopped) since the last look. */
  get ended(): ISignal<this, Job> {
    return this._ended;
  }

  /** The jobs, newest first; null before the first answer. */
  get list(): Job[] | null {
    return this._list;
  }

  /** How many of them are queued or running. */
  get running(): number {
    return (this._list ?? []).filter(job => isActiveState(job.state)).length;
  }

  async refresh(): Promise<void> {
    const list = await this.client.jobs(JOBS_SHOWN);
    const first = this._seen === null;
    const seen = this._seen ?? new Map<string, string>();
    for (const job of first ? [] : list) {
      const before = seen.get(job.id);
      const startedSince = before === undefined && (job.created_at ?? 0) >= this._since;
      if (!isActiveState(job.state) && ((before !== undefined && isActiveState(before)) || startedSince)) {
        this._ended.emit(job);
      }
    }
    this._seen = new Map(list.map(job => [job.id, job.state]));
    this._list = list;
    this._listChanged.emit();
  }

  private readonly _since = this.now() - 1;
  private _seen: Map<string, string> | null = null;
  private _list: Job[] | null = null;
  private _listChanged = new Signal<this, void>(this);
  private _ended = new Signal<this, Job>(this);
}
