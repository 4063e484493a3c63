import { ReactWidget } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Poll } from '@lumino/polling';
import * as React from 'react';

import { followSettings, refreshPoll } from '../model/refresh';
import type { SettingsModel } from '../model/settings';

/**
 * A view of the main area (a job, an artifact, a comparison): it renders its model's view and, with
 * `refresh`, keeps it fresh with a poll that asks nothing while the view is hidden.
 */
export class ViewWidget extends ReactWidget {
  constructor(
    private readonly options: {
      render: () => React.ReactElement;
      refresh?: () => Promise<unknown>;
      settings: SettingsModel;
    }
  ) {
    super();
    this.addClass('jp-Artifacts-mainView');
    if (options.refresh) {
      this.poll = refreshPoll(options.refresh, () => this.isVisible, options.settings.refreshInterval);
      followSettings(this.poll, options.settings, this);
      // Once now, even behind other tabs (a restored view shows its title), then while visible.
      options.refresh().catch(() => undefined);
    }
  }

  readonly poll: Poll | null = null;

  /** A view added in front is attached already shown; one added behind is shown later. */
  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.wake();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.wake();
  }

  private wake(): void {
    void this.poll?.start();
    void this.poll?.refresh();
  }

  dispose(): void {
    this.poll?.dispose();
    super.dispose();
  }

  render(): React.ReactElement {
    return this.options.render();
  }
}
