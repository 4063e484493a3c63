import { Notification } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import { ApiError } from './handler';
import {
  ArtifactKind,
  ArtifactsClient,
  IArtifact,
  IArtifactPage,
  IFilePage,
  IGpuList,
  IJob,
  ILineage,
  IOperation,
  isActiveState,
  KINDS,
  operationError,
  PAGE_SIZE
} from './models';

export type Tab = ArtifactKind | 'jobs' | 'gpus';
export const TABS: { id: Tab; label: string }[] = [
  { id: 'model', label: 'Models' },
  { id: 'checkpoint', label: 'Checkpoints' },
  { id: 'dataset', label: 'Datasets' },
  { id: 'jobs', label: 'Jobs' },
  { id: 'gpus', label: 'GPUs' }
];

export function isKind(tab: Tab): tab is ArtifactKind {
  return (KINDS as string[]).includes(tab);
}

/** The text of any error, with the server's message when it sent one. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    return error.message;
  }
  if (error instanceof ServerConnection.NetworkError) {
    return `Cannot reach the Jupyter server: ${error.message}`;
  }
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}

/** Show an error from the server as a JupyterLab notification. */
export function notifyError(error: unknown, prefix = ''): void {
  const message = errorMessage(error);
  Notification.error(prefix ? `${prefix}: ${message}` : message, { autoClose: 8000 });
}

export interface IDetails {
  artifact: IArtifact;
  lineage: ILineage | null;
  files: IFilePage | null;
  /** Who held it when a delete was refused. */
  refusedHolders: string[];
}

/**
 * The state of the panel: what is listed, what is selected, the operations being followed.
 * `refresh` is what the poll calls; it only fetches what is on screen.
 */
export class ArtifactsModel {
  constructor(readonly client: ArtifactsClient = new ArtifactsClient()) {}

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Asks the owner (the panel's poll) to refresh now. */
  get refreshRequested(): ISignal<this, void> {
    return this._refreshRequested;
  }

  tab: Tab = 'checkpoint';
  filter = '';
  offset = 0;
  page: IArtifactPage | null = null;
  pageKey = '';
  loading = false;

  selectedArtifact: string | null = null;
  details: IDetails | null = null;

  jobs: IJob[] | null = null;
  selectedJob: string | null = null;
  job: IJob | null = null;

  gpus: IGpuList | null = null;

  operations: IOperation[] = [];
  lastError: string | null = null;

  setTab(tab: Tab): void {
    if (tab === this.tab) {
      this.selectedArtifact = null;
      this.selectedJob = null;
    } else {
      this.tab = tab;
      this.offset = 0;
      this.page = null;
      this.selectedArtifact = null;
      this.details = null;
      this.selectedJob = null;
      this.job = null;
    }
    this.update();
  }

  setFilter(filter: string): void {
    this.filter = filter;
    this.offset = 0;
    this.update();
  }

  setOffset(offset: number): void {
    this.offset = Math.max(0, offset);
    this.update();
  }

  selectArtifact(reference: string | null): void {
    this.selectedArtifact = reference;
    this.details = null;
    this.update();
  }

  selectJob(id: string | null): void {
    this.selectedJob = id;
    this.job = null;
    this.update();
  }

  /** Show one job's details in the Jobs tab. */
  showJob(id: string): void {
    this.tab = 'jobs';
    this.selectedArtifact = null;
    this.details = null;
    this.selectedJob = id;
    this.job = null;
    this.update();
  }

  /** Follow an operation (a save or a create) until it ends. */
  track(op: IOperation): void {
    this.operations = [...this.operations.filter(o => o.id !== op.id), op];
    this.update();
  }

  /** Open an artifact named in a lineage tree, in the tab of its kind. */
  open(reference: string, kind?: ArtifactKind): void {
    if (kind && kind !== this.tab) {
      this.reveal(kind, reference);
    } else {
      this.selectArtifact(reference);
    }
  }

  /** Show the list of one kind with one artifact selected. */
  reveal(kind: ArtifactKind, reference: string): void {
    this.tab = kind;
    this.offset = 0;
    this.filter = '';
    this.selectedArtifact = reference;
    this.details = null;
    this.selectedJob = null;
    this.update();
  }

  private update(): void {
    this._changed.emit();
    this._refreshRequested.emit();
  }

  /** Fetch what is on screen. Rejects when the server cannot be reached (the poll backs off). */
  async refresh(): Promise<void> {
    const tasks: Promise<unknown>[] = [this.refreshOperations()];
    const tab = this.tab;
    if (isKind(tab)) {
      tasks.push(this.refreshPage(tab));
      if (this.selectedArtifact) {
        tasks.push(this.refreshDetails(tab, this.selectedArtifact));
      }
    } else if (tab === 'jobs') {
      tasks.push(this.refreshJobs());
    } else if (tab === 'gpus') {
      tasks.push(this.client.gpus().then(gpus => (this.gpus = gpus)));
    }
    try {
      await Promise.all(tasks);
      this.lastError = null;
    } catch (error) {
      const message = errorMessage(error);
      if (message !== this.lastError) {
        this.lastError = message;
        notifyError(error);
      }
      this._changed.emit();
      throw error;
    }
    this._changed.emit();
  }

  private async refreshPage(kind: ArtifactKind): Promise<void> {
    const key = `${kind}|${this.filter}|${this.offset}`;
    this.loading = key !== this.pageKey;
    const page = await this.client.listArtifacts({
      kind,
      q: this.filter,
      offset: this.offset,
      limit: PAGE_SIZE
    });
    if (key === `${this.tab}|${this.filter}|${this.offset}`) {
      this.page = page;
      this.pageKey = key;
      this.loading = false;
    }
  }

  private async refreshDetails(kind: ArtifactKind, reference: string): Promise<void> {
    const previous = this.details?.artifact.reference === reference ? this.details : null;
    if (previous && !isActiveState(previous.artifact.state) && previous.lineage && previous.files) {
      // A ready artifact never changes, but its aliases, holders and users can.
      const artifact = await this.client.getArtifact(reference, kind);
      const lineage = await this.client.lineage(reference, kind).catch(() => previous.lineage);
      if (this.selectedArtifact === reference) {
        this.details = { ...previous, artifact, lineage };
      }
      return;
    }
    let artifact: IArtifact;
    try {
      artifact = await this.client.getArtifact(reference, kind);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        if (this.selectedArtifact === reference) {
          this.selectedArtifact = null;
          this.details = null;
        }
        return;
      }
      throw error;
    }
    let lineage: ILineage | null = null;
    let files: IFilePage | null = null;
    if (artifact.state === 'ready') {
      [lineage, files] = await Promise.all([
        this.client.lineage(reference, kind).catch(() => null),
        this.client.files(reference, kind).catch(() => null)
      ]);
    }
    if (this.selectedArtifact === reference) {
      this.details = {
        artifact,
        lineage,
        files,
        refusedHolders: previous?.refusedHolders ?? []
      };
    }
  }

  private async refreshJobs(): Promise<void> {
    const [jobs, job] = await Promise.all([
      this.client.jobs(),
      this.selectedJob ? this.client.job(this.selectedJob) : Promise.resolve(null)
    ]);
    this.jobs = jobs;
    if (job && job.id === this.selectedJob) {
      this.job = job;
    }
  }

  private async refreshOperations(): Promise<void> {
    const active = this.operations.filter(op => !['succeeded', 'failed'].includes(op.state));
    if (!active.length) {
      return;
    }
    const updated = await Promise.all(
      active.map(op => this.client.operation(op.id).catch(() => op))
    );
    for (const op of updated) {
      if (op.state === 'succeeded') {
        const result = op.result as IArtifact | undefined;
        const what = result?.reference ? `${result.kind} ${result.reference}` : op.description;
        Notification.success(`Saved ${what}.`, { autoClose: 5000 });
      } else if (op.state === 'failed') {
        Notification.error(`${op.description ?? 'The operation'} failed: ${operationError(op)}`, {
          autoClose: false
        });
      }
    }
    const byId = new Map(updated.map(op => [op.id, op]));
    this.operations = this.operations.map(op => byId.get(op.id) ?? op);
    for (const op of updated) {
      if (op.state === 'succeeded' || op.state === 'failed') {
        // Shown as finished for a few seconds, then dropped.
        setTimeout(() => {
          this.operations = this.operations.filter(o => o.id !== op.id);
          this._changed.emit();
        }, 4000);
      }
    }
  }

  /** Delete the selected artifact; a refusal keeps the holders for the details view. */
  async deleteArtifact(artifact: IArtifact): Promise<boolean> {
    try {
      await this.client.deleteArtifact(artifact.reference, artifact.kind);
    } catch (error) {
      if (error instanceof ApiError && error.status === 409 && this.details) {
        this.details = { ...this.details, refusedHolders: error.holders };
        this._changed.emit();
      }
      notifyError(error, `Cannot delete ${artifact.reference}`);
      return false;
    }
    Notification.success(`Deleted ${artifact.kind} ${artifact.reference}.`, { autoClose: 5000 });
    if (this.selectedArtifact === artifact.reference) {
      this.selectedArtifact = null;
      this.details = null;
    }
    this.update();
    return true;
  }

  private _changed = new Signal<this, void>(this);
  private _refreshRequested = new Signal<this, void>(this);
}
