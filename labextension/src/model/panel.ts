import { ISignal, Signal } from '@lumino/signaling';

import { ArtifactsClient } from '../api/client';
import { KINDS } from '../api/types';
import type { ArtifactKind } from '../api/types';
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

/**
 * The panel: which tab is shown, and one model per concern, each with its own signals so that
 * a change re-renders only the views that show it. `refresh` is what the poll calls; it only
 * fetches what is on screen.
 */
export class PanelModel {
  constructor(readonly client: ArtifactsClient = new ArtifactsClient()) {
    const request = () => this._refreshRequested.emit();
    this.artifacts = new ArtifactListModel(client, request);
    this.details = new ArtifactDetailsModel(client, request);
    this.jobs = new JobsModel(client, request);
    this.gpus = new GpusModel(client);
    this.operations = new OperationsModel(client, request);
  }

  /** The list of the artifact tab shown. */
  readonly artifacts: ArtifactListModel;
  /** The artifact whose details are open. */
  readonly details: ArtifactDetailsModel;
  readonly jobs: JobsModel;
  readonly gpus: GpusModel;
  /** Saves and creates being followed. */
  readonly operations: OperationsModel;

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

  /** The message of the last failed refresh, null once one succeeds. */
  get lastError(): string | null {
    return this._lastError;
  }

  /** Show a tab's list (clicking the tab shown goes back from details to its list). */
  setTab(tab: Tab): void {
    if (tab !== this._tab && isKind(tab)) {
      this.artifacts.show(tab);
    }
    this.switchTo(tab);
    this.details.select(null);
    this.jobs.select(null);
  }

  /** Show one job's details in the Jobs tab. */
  showJob(id: string): void {
    this.switchTo('jobs');
    this.details.select(null);
    this.jobs.select(id);
  }

  /** Open an artifact named in a lineage tree, in the tab of its kind. */
  open(reference: string, kind?: ArtifactKind): void {
    if (kind && kind !== this._tab) {
      this.reveal(kind, reference);
    } else {
      this.details.select(reference);
    }
  }

  /** Show the list of one kind, unfiltered, with one artifact open. */
  reveal(kind: ArtifactKind, reference: string): void {
    this.artifacts.show(kind, '');
    this.switchTo(kind);
    this.details.select(reference);
    this.jobs.select(null);
  }

  /** Fetch what is on screen. Rejects when the server cannot be reached (the poll backs off). */
  async refresh(): Promise<void> {
    const tab = this._tab;
    const tasks: Promise<void>[] = [this.operations.refresh()];
    if (isKind(tab)) {
      tasks.push(this.artifacts.refresh(), this.details.refresh(tab));
    } else if (tab === 'jobs') {
      tasks.push(this.jobs.refresh());
    } else {
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

  private switchTo(tab: Tab): void {
    if (tab !== this._tab) {
      this._tab = tab;
      this._tabChanged.emit(tab);
    }
  }

  private _tab: Tab = 'checkpoint';
  private _lastError: string | null = null;
  private _tabChanged = new Signal<this, Tab>(this);
  private _refreshRequested = new Signal<this, void>(this);
}
