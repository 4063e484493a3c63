import { Notification } from '@jupyterlab/apputils';
import { ISignal, Signal } from '@lumino/signaling';

import type { ArtifactsClient } from '../api/client';
import type { Job } from '../api/types';
import { notifyError } from './notify';

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

/** The list of jobs, and the job whose details are open. */
export class JobsModel {
  constructor(
    private readonly client: ArtifactsClient,
    private readonly requestRefresh: () => void = () => undefined
  ) {}

  /** The list of jobs changed. */
  get listChanged(): ISignal<this, void> {
    return this._listChanged;
  }

  /** A job was opened, or its details closed (its id, or null). */
  get selectionChanged(): ISignal<this, string | null> {
    return this._selectionChanged;
  }

  /** The open job changed. */
  get jobChanged(): ISignal<this, void> {
    return this._jobChanged;
  }

  /** The jobs, newest first; null before the first answer. */
  get list(): Job[] | null {
    return this._list;
  }

  /** The id of the open job, or null. */
  get selected(): string | null {
    return this._selected;
  }

  /** The open job, null until it is loaded. */
  get job(): Job | null {
    return this._job;
  }

  /** Open a job's details (again: to reload them), or close them with null. */
  select(id: string | null): void {
    const changed = id !== this._selected;
    this._selected = id;
    this._job = null;
    if (changed) {
      this._selectionChanged.emit(id);
    }
    this._jobChanged.emit();
    this.requestRefresh();
  }

  async refresh(): Promise<void> {
    const selected = this._selected;
    const [list, job] = await Promise.all([
      this.client.jobs(),
      selected ? this.client.job(selected) : Promise.resolve(null)
    ]);
    this._list = list;
    this._listChanged.emit();
    if (job && job.id === this._selected) {
      this._job = job;
      this._jobChanged.emit();
    }
  }

  /** Ask each worker of a job to stop. */
  async stop(job: Job): Promise<void> {
    try {
      await this.client.stopJob(job.id);
      Notification.info(`Stopping job ${job.name}.`, { autoClose: 3000 });
      this.select(job.id);
    } catch (error) {
      notifyError(error, `Cannot stop ${job.name}`);
    }
  }

  /** Save again the output a worker kept because saving it failed. */
  async saveOutput(job: Job, worker: number): Promise<void> {
    try {
      await this.client.saveJobOutput(job.id, worker);
      Notification.info(`Saved the output of worker ${worker} of ${job.name}.`, { autoClose: 3000 });
      this.select(job.id);
    } catch (error) {
      notifyError(error, `Cannot save the output of worker ${worker}`);
    }
  }

  private _list: Job[] | null = null;
  private _selected: string | null = null;
  private _job: Job | null = null;
  private _listChanged = new Signal<this, void>(this);
  private _selectionChanged = new Signal<this, string | null>(this);
  private _jobChanged = new Signal<this, void>(this);
}
