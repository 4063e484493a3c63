import { ISignal, Signal } from '@lumino/signaling';

import type { ArtifactsClient } from '../api/client';
import type { GpuInventory } from '../api/types';

/** The host's GPUs, who holds each, and their memory use. */
export class GpusModel {
  constructor(private readonly client: ArtifactsClient) {}

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The inventory; null before the first answer. */
  get inventory(): GpuInventory | null {
    return this._inventory;
  }

  async refresh(): Promise<void> {
    this._inventory = await this.client.gpus();
    this._changed.emit();
  }

  private _inventory: GpuInventory | null = null;
  private _changed = new Signal<this, void>(this);
}
