import { ISignal, Signal } from '@lumino/signaling';

import type { ArtifactsClient } from '../api/client';
import type { ArtifactKind, ArtifactPage } from '../api/types';

/** Rows per page of an artifact list. */
export const PAGE_SIZE = 50;

/** One kind's list of artifacts: the filter, the page shown, and that page as the server sent it. */
export class ArtifactListModel {
  constructor(
    private readonly client: ArtifactsClient,
    private readonly requestRefresh: () => void = () => undefined
  ) {}

  /** The kind, filter, offset or page changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get kind(): ArtifactKind {
    return this._kind;
  }

  get filter(): string {
    return this._filter;
  }

  get offset(): number {
    return this._offset;
  }

  /** The page of the current kind, filter and offset (the last one asked while another loads); null before any. */
  get page(): ArtifactPage | null {
    return this._page;
  }

  /** Show the first page of a kind, with a new filter or the one typed before. */
  show(kind: ArtifactKind, filter = this._filter): void {
    this._kind = kind;
    this._filter = filter;
    this._offset = 0;
    this._page = null;
    this.update();
  }

  setFilter(filter: string): void {
    this._filter = filter;
    this._offset = 0;
    this.update();
  }

  setOffset(offset: number): void {
    this._offset = Math.max(0, offset);
    this.update();
  }

  /** Fetch the page shown; an answer that comes after the query changed is dropped. */
  async refresh(): Promise<void> {
    const key = this.key();
    const page = await this.client.listArtifacts({
      kind: this._kind,
      q: this._filter,
      offset: this._offset,
      limit: PAGE_SIZE
    });
    if (key === this.key()) {
      this._page = page;
      this._changed.emit();
    }
  }

  private key(): string {
    return `${this._kind}|${this._filter}|${this._offset}`;
  }

  private update(): void {
    this._changed.emit();
    this.requestRefresh();
  }

  private _kind: ArtifactKind = 'checkpoint';
  private _filter = '';
  private _offset = 0;
  private _page: ArtifactPage | null = null;
  private _changed = new Signal<this, void>(this);
}
