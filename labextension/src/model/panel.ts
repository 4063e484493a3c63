import { ISignal, Signal } from '@lumino/signaling';

import { ArtifactsClient } from '../api/client';
import { KINDS } from '../api/types';
import type { ArtifactKind, StoreStatus } from '../api/types';
import { ArtifactListModel } from './artifacts';
import { ArtifactDetailsModel } from './details';
import { GpusModel } from './gpus';
import { JobsModel } from './jobs';
import { errorMessage, notifyError } from './notify';
import { OperationsModel } from './operations';

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

/** A view the panel asks the application to open in the main area. */
export type OpenRequest =
  | { view: 'job'; id: string }
  | { view: 'artifact'; reference: string; kind?: ArtifactKind }
  | { view: 'compare'; a: string; b: string; kind?: ArtifactKind };

/** How often the store's use is asked again while an artifact tab is shown, in milliseconds. */
const STATUS_EVERY = 10_000;

/**
 * The panel: which tab is shown, and one model per concern, each with its own signals so that
 * a change re-renders only the views that show it. `refresh` is what the poll calls; it only
 * fetches what is on screen (the jobs are watched by their own poll, for notifications).
 */
export class PanelModel {
  constructor(readonly client: ArtifactsClient = new ArtifactsClient()) {
    const request = () => this._refreshRequested.emit();
    this.artifacts = new ArtifactListModel(client, request);
    this.details = new ArtifactDetailsModel(client, request);
    this.jobs = new JobsModel(client);
    this.gpus = new GpusModel(client);
    this.operations = new OperationsModel(client, request);
  }

  /** The list of the artifact tab shown. */
  readonly artifacts: ArtifactListModel;
  /** The artifact whose details are open in the sidebar. */
  readonly details: ArtifactDetailsModel;
  readonly jobs: JobsModel;
  readonly gpus: GpusModel;
  /** Saves and creates being followed. */
  readonly operations: OperationsModel;
  /** Asks for a folder of the Jupyter root folder, where the application has a file dialog (Create's Choose a folder…). */
  chooseFolder?: () => Promise<string | null>;

  get tab(): Tab {
    return this._tab;
  }

  get tabChanged(): ISignal<this, Tab> {
    return this._tabChanged;
  }

  /** Asks the owner (the panel's poll) to refresh now: what is shown changed. */
  get refreshRequested(): ISignal<this, void> {
    return this._refreshRequested;
  }

  /** Asks the application to open a view in the main area. */
  get openRequested(): ISignal<this, OpenRequest> {
    return this._openRequested;
  }

  /** The store's use against its quota; null before the first answer. */
  get status(): StoreStatus | null {
    return this._status;
  }

  get statusChanged(): ISignal<this, void> {
    return this._statusChanged;
  }

  /** The message of the last failed refresh, null once one succeeds. */
  get lastError(): string | null {
    return this._lastError;
  }

  /** Show a tab's list (the tab shown again goes back from details to its list). */
  setTab(tab: Tab): void {
    if (tab !== this._tab && isKind(tab)) {
      this.artifacts.show(tab);
    }
    this.switchTo(tab);
    this.details.select(null);
    if (tab === 'jobs') {
      this.jobs.refresh().catch(() => undefined);
    }
  }

  /** Open a job in the main area. */
  openJob(id: string): void {
    this._openRequested.emit({ view: 'job', id });
  }

  /** Open an artifact (its details and lineage graph) in the main area. */
  openArtifact(reference: string, kind?: ArtifactKind): void {
    this._openRequested.emit({ view: 'artifact', reference, kind });
  }

  /** Compare two versions in the main area. */
  openCompare(a: string, b: string, kind?: ArtifactKind): void {
    this._openRequested.emit({ view: 'compare', a, b, kind });
  }

  /** Show the list of one kind, unfiltered, with one artifact's details open. */
  reveal(kind: ArtifactKind, reference: string): void {
    this.artifacts.show(kind, '');
    this.switchTo(kind);
    this.details.select(reference);
  }

  /** Fetch everything shown now, the store's use and the jobs included (the Refresh button and command). */
  refreshNow(): void {
    this._statusAt = 0;
    this.jobs.refresh().catch(() => undefined);
    this._refreshRequested.emit();
  }

  /** Fetch what is on screen. Rejects when the server cannot be reached (the poll backs off). */
  async refresh(): Promise<void> {
    const tab = this._tab;
    const tasks: Promise<void>[] = [this.operations.refresh()];
    if (isKind(tab)) {
      tasks.push(this.artifacts.refresh(), this.details.refresh(tab), this.refreshStatus());
    } else if (tab === 'gpus') {
      tasks.push(this.gpus.refresh());
    }
    try {
      await Promise.all(tasks);
      this._lastError = null;
    } catch (error) {
      const message = errorMessage(error);
      if (message !== this._lastError) {
        this._lastError = message;
        notifyError(error);
      }
      throw error;
    }
  }

  private async refreshStatus(): Promise<void> {
    if (Date.now() - this._statusAt < STATUS_EVERY) {
      return;
    }
    this._statusAt = Date.now();
    this._status = await this.client.status();
    this._statusChanged.emit();
  }

  private switchTo(tab: Tab): void {
    if (tab !== this._tab) {
      this._tab = tab;
      this._tabChanged.emit(tab);
    }
  }

  private _tab: Tab = 'checkpoint';
  private _lastError: string | null = null;
  private _status: StoreStatus | null = null;
  private _statusAt = 0;
  private _tabChanged = new Signal<this, Tab>(this);
  private _refreshRequested = new Signal<this, void>(this);
  private _openRequested = new Signal<this, OpenRequest>(this);
  private _statusChanged = new Signal<this, void>(this);
}
