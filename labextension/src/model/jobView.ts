import { Notification } from '@jupyterlab/apputils';
import { ISignal, Signal } from '@lumino/signaling';

import type { ArtifactsClient } from '../api/client';
import { ApiError } from '../api/request';
import type { Job, JobMetrics } from '../api/types';
import { isActiveState } from '../format';
import { notifyError } from './notify';
import { bestWorker, defaultRanking, IRanking, ISort, IWorkerRow, sortRows, workerColumns, workerRows } from './workers';

/** One job open in the main area: its record, every worker's metrics, the worker whose log is shown, the table's order. */
export class JobViewModel {
  constructor(
    private readonly client: ArtifactsClient,
    readonly id: string
  ) {}

  /** The job, its metrics or what is chosen changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The job was deleted (or is gone): its view closes. */
  get gone(): ISignal<this, void> {
    return this._gone;
  }

  get job(): Job | null {
    return this._job;
  }

  get metrics(): JobMetrics | null {
    return this._metrics;
  }

  /** Whether nothing more will change: the job ended and was fetched once since. */
  get settled(): boolean {
    return this._settled;
  }

  /** The worker whose log is shown. */
  get worker(): number {
    return this._worker;
  }

  get sort(): ISort {
    return this._sort;
  }

  /** What ranks the workers (the best one is marked): the job's metric, or the one chosen. */
  get ranking(): IRanking {
    const job = this._job;
    if (this._ranking || !job) {
      return this._ranking ?? { metric: null, smallerIsBetter: true };
    }
    return defaultRanking(job, workerColumns(workerRows(job)).metrics);
  }

  /** The workers in the table's order. */
  get rows(): IWorkerRow[] {
    return this._job ? sortRows(workerRows(this._job), this._sort) : [];
  }

  get best(): number | null {
    return this._job ? bestWorker(workerRows(this._job), this.ranking) : null;
  }

  setWorker(index: number): void {
    this._worker = index;
    this._changed.emit();
  }

  /** Sort by a column; the column sorted already turns around. */
  sortBy(column: string): void {
    this._sort = { column, descending: this._sort.column === column ? !this._sort.descending : false };
    this._changed.emit();
  }

  setRanking(ranking: IRanking): void {
    this._ranking = ranking;
    this._changed.emit();
  }

  async refresh(): Promise<void> {
    if (this._settled) {
      return;
    }
    let job: Job;
    try {
      [job, this._metrics] = await Promise.all([this.client.job(this.id), this.client.jobMetrics(this.id)]);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        this._gone.emit();
        return;
      }
      throw error;
    }
    // Ended and fetched after its end: the last metrics and the GC's result are in.
    this._settled = !isActiveState(job.state) && this._job !== null && !isActiveState(this._job.state);
    this._job = job;
    this._changed.emit();
  }

  /** Ask again (after Stop or a save), even once settled. */
  reload(): Promise<void> {
    this._settled = false;
    return this.refresh();
  }

  async stop(): Promise<void> {
    try {
      await this.client.stopJob(this.id);
      Notification.info(`Stopping job ${this._job?.name ?? this.id}.`, { autoClose: 3000 });
    } catch (error) {
      notifyError(error, 'Cannot stop the job');
    }
    await this.reload();
  }

  /** Save again the output a worker kept because saving it failed. */
  async saveOutput(worker: number): Promise<void> {
    try {
      await this.client.saveJobOutput(this.id, worker);
      Notification.success(`Saved the output of worker ${worker}.`, { autoClose: 4000 });
    } catch (error) {
      notifyError(error, `Cannot save the output of worker ${worker}`);
    }
    await this.reload();
  }

  /** Forget the job (what it made stays); true once deleted. */
  async delete(): Promise<boolean> {
    try {
      const deleted = await this.client.deleteJob(this.id);
      Notification.success(`Deleted job ${deleted.name}.`, { autoClose: 4000 });
      this._gone.emit();
      return true;
    } catch (error) {
      notifyError(error, 'Cannot delete the job');
      return false;
    }
  }

  private _job: Job | null = null;
  private _metrics: JobMetrics | null = null;
  private _settled = false;
  private _worker = 0;
  private _sort: ISort = { column: 'index', descending: false };
  private _ranking: IRanking | null = null;
  private _changed = new Signal<this, void>(this);
  private _gone = new Signal<this, void>(this);
}
