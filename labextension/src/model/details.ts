import { Notification } from '@jupyterlab/apputils';
import { ISignal, Signal } from '@lumino/signaling';

import type { ArtifactsClient } from '../api/client';
import { ApiError } from '../api/request';
import type { Artifact, ArtifactKind, FilePage, Lineage } from '../api/types';
import { isActiveState } from '../format';
import { notifyError } from './notify';

export interface IDetails {
  artifact: Artifact;
  lineage: Lineage | null;
  files: FilePage | null;
  /** Who held it when a delete was refused. */
  refusedHolders: string[];
}

/** Files fetched at a time for the details' list. */
export const FILES_PAGE = 200;

/** The artifact whose details are open: its record, lineage and files, and deleting it. */
export class ArtifactDetailsModel {
  constructor(
    private readonly client: ArtifactsClient,
    private readonly requestRefresh: () => void = () => undefined
  ) {}

  /** An artifact was opened, or its details closed (the reference, or null). */
  get selectionChanged(): ISignal<this, string | null> {
    return this._selectionChanged;
  }

  /** The details of the open artifact changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The reference of the open artifact, or null. */
  get reference(): string | null {
    return this._reference;
  }

  /** Its details, null until they are loaded. */
  get current(): IDetails | null {
    return this._current;
  }

  /** Open an artifact's details (again: to reload them), or close them with null. */
  select(reference: string | null): void {
    this.setSelection(reference);
    this.requestRefresh();
  }

  /** Fetch the details of the open artifact; one deleted meanwhile (404) closes them. */
  async refresh(kind?: ArtifactKind): Promise<void> {
    const reference = this._reference;
    if (!reference) {
      return;
    }
    const previous = this._current?.artifact.reference === reference ? this._current : null;
    if (previous && !isActiveState(previous.artifact.state) && previous.lineage && previous.files) {
      // A ready artifact never changes, but its aliases, holders and users can.
      const artifact = await this.client.getArtifact(reference, kind);
      const lineage = await this.client.lineage(reference, kind).catch(() => previous.lineage);
      this.setDetails(reference, { ...previous, artifact, lineage });
      return;
    }
    let artifact: Artifact;
    try {
      artifact = await this.client.getArtifact(reference, kind);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        if (this._reference === reference) {
          this.setSelection(null);
        }
        return;
      }
      throw error;
    }
    let lineage: Lineage | null = null;
    let files: FilePage | null = null;
    if (artifact.state === 'ready') {
      [lineage, files] = await Promise.all([
        this.client.lineage(reference, kind).catch(() => null),
        this.client.files(reference, kind, FILES_PAGE).catch(() => null)
      ]);
    }
    this.setDetails(reference, { artifact, lineage, files, refusedHolders: previous?.refusedHolders ?? [] });
  }

  /**
   * The next page of the open artifact's files after those shown: the list grows a page at a time,
   * as asked, so that an artifact of a million files costs one page to open.
   */
  async moreFiles(): Promise<void> {
    const current = this._current;
    const shown = current?.files;
    if (!current || !shown || shown.files.length >= shown.total) {
      return;
    }
    const a = current.artifact;
    let page: FilePage;
    try {
      page = await this.client.files(a.reference, a.kind, FILES_PAGE, shown.files.length);
    } catch (error) {
      notifyError(error, `Cannot list more files of ${a.reference}`);
      return;
    }
    if (this._current?.artifact.id !== a.id || this._current.files !== shown) {
      return; // another artifact opened, or the list reloaded, meanwhile
    }
    const files = [...shown.files, ...page.files];
    this._current = { ...this._current, files: { ...page, files, offset: 0, limit: files.length } };
    this._changed.emit();
  }

  /** Remove an alias of the open artifact, and show it again. */
  async removeAlias(artifact: Artifact, alias: string): Promise<void> {
    try {
      await this.client.removeAlias(artifact.reference, alias, artifact.kind);
      Notification.success(`Removed the alias ${artifact.name}:${alias}.`, { autoClose: 4000 });
    } catch (error) {
      notifyError(error, `Cannot remove the alias ${alias}`);
    }
    this.select(artifact.reference);
  }

  /** Delete an artifact; a refusal keeps the holders for the details view. */
  async delete(artifact: Artifact): Promise<boolean> {
    try {
      await this.client.deleteArtifact(artifact.reference, artifact.kind);
    } catch (error) {
      if (error instanceof ApiError && error.status === 409 && this._current) {
        this._current = { ...this._current, refusedHolders: error.holders };
        this._changed.emit();
      }
      notifyError(error, `Cannot delete ${artifact.reference}`);
      return false;
    }
    Notification.success(`Deleted ${artifact.kind} ${artifact.reference}.`, { autoClose: 5000 });
    if (this._reference === artifact.reference) {
      this.setSelection(null);
    }
    this.requestRefresh();
    return true;
  }

  /** The artifact whose details were closed last (its row takes the focus back). */
  get previous(): string | null {
    return this._previous;
  }

  private setSelection(reference: string | null): void {
    const changed = reference !== this._reference;
    if (changed && this._reference) {
      this._previous = this._reference;
    }
    this._reference = reference;
    this._current = null;
    if (changed) {
      this._selectionChanged.emit(reference);
    }
    this._changed.emit();
  }

  /** Keep details fetched for `reference` only if it is still the one open. */
  private setDetails(reference: string, details: IDetails): void {
    if (this._reference === reference) {
      this._current = details;
      this._changed.emit();
    }
  }

  private _reference: string | null = null;
  private _previous: string | null = null;
  private _current: IDetails | null = null;
  private _selectionChanged = new Signal<this, string | null>(this);
  private _changed = new Signal<this, void>(this);
}
