import { ReactWidget } from '@jupyterlab/ui-components';
import type { MimeData } from '@lumino/coreutils';
import type { Message } from '@lumino/messaging';
import { Poll } from '@lumino/polling';
import * as React from 'react';

import type { PanelModel } from '../model/panel';
import { followSettings, refreshPoll } from '../model/refresh';
import { SettingsModel } from '../model/settings';
import { PanelView } from './PanelView';

/** What the file browser puts in a drag: the paths of the items dragged. */
export const CONTENTS_MIME = 'application/x-jupyter-icontents';

const DRAG_EVENTS = ['lm-dragenter', 'lm-dragleave', 'lm-dragover', 'lm-drop'];

/** The lm-drag events the panel takes: a drag of file browser items (Lumino's `Drag.Event`). */
type ItemsDrag = DragEvent & { mimeData: MimeData; dropAction: string; proposedAction: string };

/**
 * The sidebar: the view, and the poll that keeps it fresh while it is visible. A folder or a
 * notebook dragged from the file browser onto it is handed to `onDropPath` (Save to).
 */
export class ArtifactsPanel extends ReactWidget {
  /** Called with the path of one file browser item dropped on the panel. */
  onDropPath: ((path: string) => void) | null = null;

  handleEvent(event: Event): void {
    const drag = event as ItemsDrag;
    if (!drag.mimeData?.hasData(CONTENTS_MIME) || !this.onDropPath) {
      return;
    }
    // On the panel, or on its tab in the sidebar (the file browser hides the panel while it shows).
    const target = event.target as Element | null;
    if (!this.node.contains(target) && !target?.closest?.(`.jp-SideBar [data-id="${this.id}"]`)) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    switch (event.type) {
      case 'lm-dragenter':
        this.addClass('jp-mod-dropTarget');
        break;
      case 'lm-dragleave':
        this.removeClass('jp-mod-dropTarget');
        break;
      case 'lm-dragover':
        // The file browser offers only a move; nothing moves: the drop saves the item.
        drag.dropAction = drag.proposedAction;
        break;
      case 'lm-drop': {
        this.removeClass('jp-mod-dropTarget');
        drag.dropAction = drag.proposedAction;
        const paths = drag.mimeData.getData(CONTENTS_MIME) as string[];
        if (paths?.length) {
          this.onDropPath(paths[0]);
        }
        break;
      }
    }
  }

  /** Listens for drags on the whole page: a drop may land on the panel or on its sidebar tab. */
  listenForDrops(): void {
    for (const type of DRAG_EVENTS) {
      document.addEventListener(type, this);
    }
  }


  constructor(
    readonly model: PanelModel,
    readonly settings: SettingsModel = new SettingsModel()
  ) {
    super();
    this.id = 'jupyter-artifacts-panel';
    this.addClass('jp-Artifacts-panel');
    this.poll = refreshPoll(() => this.model.refresh(), () => this.isVisible, settings.refreshInterval);
    this.model.refreshRequested.connect(() => void this.poll.refresh(), this);
    followSettings(this.poll, this.settings, this);
  }

  readonly poll: Poll;

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.poll.start();
    void this.poll.refresh();
  }

  dispose(): void {
    for (const type of DRAG_EVENTS) {
      document.removeEventListener(type, this);
    }
    this.poll.dispose();
    super.dispose();
  }

  render(): React.ReactElement {
    return <PanelView model={this.model} />;
  }
}
