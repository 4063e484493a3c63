import { ReactWidget } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Poll } from '@lumino/polling';
import * as React from 'react';

import type { PanelModel } from '../model/panel';
import { refreshFrequency, refreshPoll } from '../model/refresh';
import { SettingsModel } from '../model/settings';
import { PanelView } from './PanelView';

/** The sidebar: the view, and the poll that keeps it fresh while it is visible. */
export class ArtifactsPanel extends ReactWidget {
  constructor(
    readonly model: PanelModel,
    readonly settings: SettingsModel = new SettingsModel()
  ) {
    super();
    this.id = 'jupyter-artifacts-panel';
    this.addClass('jp-Artifacts-panel');
    this.poll = refreshPoll(() => this.model.refresh(), () => this.isVisible, settings.refreshInterval);
    this.model.refreshRequested.connect(() => void this.poll.refresh(), this);
    this.settings.changed.connect(() => {
      this.poll.frequency = refreshFrequency(this.settings.refreshInterval);
    }, this);
  }

  readonly poll: Poll;

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.poll.start();
    void this.poll.refresh();
  }

  dispose(): void {
    this.poll.dispose();
    super.dispose();
  }

  render(): React.ReactElement {
    return <PanelView model={this.model} />;
  }
}
