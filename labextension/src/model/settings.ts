import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ISignal, Signal } from '@lumino/signaling';

/** The refresh interval's default, as in schema/plugin.json. */
export const DEFAULT_INTERVAL = 2000;

/** The panel's settings (schema/plugin.json), following the settings editor. */
export class SettingsModel {
  constructor(refreshInterval = DEFAULT_INTERVAL) {
    this._refreshInterval = refreshInterval;
  }

  /** The refresh interval changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** How often the panel refreshes while visible, in milliseconds. */
  get refreshInterval(): number {
    return this._refreshInterval;
  }

  setRefreshInterval(interval: number): void {
    if (interval !== this._refreshInterval) {
      this._refreshInterval = interval;
      this._changed.emit();
    }
  }

  /** Take the plugin's settings from the registry, and follow their changes. */
  async load(registry: ISettingRegistry, pluginId: string): Promise<void> {
    const settings = await registry.load(pluginId);
    const apply = () => this.setRefreshInterval(settings.get('refreshInterval').composite as number);
    apply();
    settings.changed.connect(apply);
  }

  private _refreshInterval: number;
  private _changed = new Signal<this, void>(this);
}
