import { ISignal, Signal } from '@lumino/signaling';

import type { ArtifactsClient } from '../api/client';
import type { Artifact, ArtifactKind, ArtifactPage } from '../api/types';
import { groupByJob, groupByName, IJobGroup, IVersionGroup } from './groups';

/** Rows per page of an artifact list. */
export const PAGE_SIZE = 50;
/** The most versions of one name shown when its group is expanded. */
export const VERSIONS_SHOWN = 200;

export type Origin = 'user' | 'job';

/** One part of a kind's list: what people saved and created, or what jobs made. */
export interface ISection {
  origin: Origin;
  offset: number;
  /** The page of the current kind, filter and offset; null before any. */
  page: ArtifactPage | null;
}

/**
 * One kind's artifacts: the filter, and two sections of pages, newest first: what people saved or
 * created, grouped by name, and what jobs made, grouped by job then by name (collapsed until asked
 * for). Expanding a name's group fetches every version of it.
 */
export class ArtifactListModel {
  constructor(
    private readonly client: ArtifactsClient,
    private readonly requestRefresh: () => void = () => undefined
  ) {}

  /** The kind, filter, a page, a group or the job outputs' section changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get kind(): ArtifactKind {
    return this._kind;
  }

  get filter(): string {
    return this._filter;
  }

  get mine(): ISection {
    return this._sections.user;
  }

  get fromJobs(): ISection {
    return this._sections.job;
  }

  /** Whether what jobs made is listed (else only counted). */
  get jobOutputsShown(): boolean {
    return this._jobOutputsShown;
  }

  /** What people saved, a group per name. */
  get groups(): IVersionGroup[] {
    return groupByName(this.mine.page?.artifacts ?? [], this._versions);
  }

  /** What jobs made, a group per job. */
  get jobGroups(): IJobGroup[] {
    return groupByJob(this.fromJobs.page?.artifacts ?? [], this._versions);
  }

  isExpanded(key: string): boolean {
    return this._expanded.has(key);
  }

  /** Show the first page of a kind, with a new filter or the one typed before. */
  show(kind: ArtifactKind, filter = this._filter): void {
    const changed = kind !== this._kind;
    this._kind = kind;
    this._filter = filter;
    this.reset(changed);
    this.update();
  }

  setFilter(filter: string): void {
    this._filter = filter;
    this.reset(false);
    this.update();
  }

  setOffset(origin: Origin, offset: number): void {
    this._sections[origin] = { ...this._sections[origin], offset: Math.max(0, offset) };
    this.update();
  }

  /** Expand or collapse a group (`name:NAME` or `job:ID`). */
  toggle(key: string): void {
    if (this._expanded.has(key)) {
      this._expanded.delete(key);
      this._versions.delete(key.slice(5));
    } else {
      this._expanded.add(key);
    }
    this.update();
  }

  /** List what jobs made, or only count it. */
  toggleJobOutputs(): void {
    this._jobOutputsShown = !this._jobOutputsShown;
    this.update();
  }

  /** Fetch the pages shown (and every version of expanded names); answers to an older query are dropped. */
  async refresh(): Promise<void> {
    const key = this.key();
    const names = [...this._expanded].filter(k => k.startsWith('name:')).map(k => k.slice(5));
    const [user, job, ...versions] = await Promise.all([
      this.fetch('user', PAGE_SIZE),
      this.fetch('job', this._jobOutputsShown ? PAGE_SIZE : 1),
      ...names.map(name =>
        this.client.listArtifacts({ kind: this._kind, name, limit: VERSIONS_SHOWN }).then(p => p.artifacts)
      )
    ]);
    if (key !== this.key()) {
      return;
    }
    this._sections = { user: { ...this._sections.user, page: user }, job: { ...this._sections.job, page: job } };
    this._versions = new Map<string, Artifact[]>(names.map((name, i) => [name, versions[i]]));
    this._changed.emit();
  }

  private fetch(origin: Origin, limit: number): Promise<ArtifactPage> {
    return this.client.listArtifacts({
      kind: this._kind,
      q: this._filter,
      origin,
      offset: limit === 1 ? 0 : this._sections[origin].offset,
      limit
    });
  }

  private reset(clearGroups: boolean): void {
    this._sections = { user: { origin: 'user', offset: 0, page: null }, job: { origin: 'job', offset: 0, page: null } };
    if (clearGroups) {
      this._expanded.clear();
      this._versions.clear();
    }
  }

  private key(): string {
    const { user, job } = this._sections;
    return [this._kind, this._filter, user.offset, job.offset, this._jobOutputsShown, ...this._expanded].join('|');
  }

  private update(): void {
    this._changed.emit();
    this.requestRefresh();
  }

  private _kind: ArtifactKind = 'checkpoint';
  private _filter = '';
  private _sections: Record<Origin, ISection> = {
    user: { origin: 'user', offset: 0, page: null },
    job: { origin: 'job', offset: 0, page: null }
  };
  private _jobOutputsShown = false;
  private _expanded = new Set<string>();
  private _versions = new Map<string, Artifact[]>();
  private _changed = new Signal<this, void>(this);
}
