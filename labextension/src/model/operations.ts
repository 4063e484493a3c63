import { Notification } from '@jupyterlab/apputils';
import { ISignal, Signal } from '@lumino/signaling';

import type { ArtifactsClient } from '../api/client';
import type { Artifact, Operation } from '../api/types';
import { notifyError } from './notify';

/** How long an ended operation stays on screen, in milliseconds. */
const SHOWN_AFTER_END = 4000;

function ended(op: Operation): boolean {
  return op.state === 'succeeded' || op.state === 'failed';
}

/** The operations being followed (saves, creates, fetches) and their progress. */
export class OperationsModel {
  constructor(
    private readonly client: ArtifactsClient,
    private readonly requestRefresh: () => void = () => undefined
  ) {}

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The operations followed, oldest first; ended ones stay a few seconds. */
  get tracked(): readonly Operation[] {
    return this._tracked;
  }

  /** Follow an operation until it ends. */
  track(op: Operation): void {
    this._tracked = [...this._tracked.filter(o => o.id !== op.id), op];
    this._changed.emit();
    this.requestRefresh();
  }

  /** Ask about each operation still running; say once how each one ended. */
  async refresh(): Promise<void> {
    const active = this._tracked.filter(op => !ended(op));
    if (!active.length) {
      return;
    }
    const updated = await Promise.all(active.map(op => this.client.operation(op.id).catch(() => op)));
    for (const op of updated) {
      if (op.state === 'succeeded') {
        // A save, create or fetch gives the artifact it made.
        const result = op.result as Artifact | undefined;
        const what = result?.reference ? `${result.kind} ${result.reference}` : op.description;
        Notification.success(`Saved ${what}.`, { autoClose: 5000 });
      } else if (op.state === 'failed') {
        notifyError(op.error?.message ?? 'no reason given', `${op.description ?? 'The operation'} failed`);
      }
    }
    const byId = new Map(updated.map(op => [op.id, op]));
    this._tracked = this._tracked.map(op => byId.get(op.id) ?? op);
    this._changed.emit();
    for (const op of updated.filter(ended)) {
      setTimeout(() => {
        this._tracked = this._tracked.filter(o => o.id !== op.id);
        this._changed.emit();
      }, SHOWN_AFTER_END);
    }
  }

  private _tracked: Operation[] = [];
  private _changed = new Signal<this, void>(this);
}
