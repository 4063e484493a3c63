import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { LabIcon } from '@jupyterlab/ui-components';

import artifactsSvg from '../style/icons/artifacts.svg';
import { ArtifactsClient } from './api/client';
import { ArtifactsPanel } from './components/ArtifactsPanel';
import { openCreate } from './dialogs/create';
import { openNewJob } from './dialogs/newJob';
import { saveToDialog } from './dialogs/saveTo';
import { PanelModel } from './model/panel';
import { SettingsModel } from './model/settings';

const PLUGIN_ID = 'jupyter-artifacts:plugin';
const CATEGORY = 'Artifacts';

export namespace CommandIDs {
  export const open = 'jupyter-artifacts:open';
  export const refresh = 'jupyter-artifacts:refresh';
  export const create = 'jupyter-artifacts:create';
  export const saveTo = 'jupyter-artifacts:save-to';
  export const newJob = 'jupyter-artifacts:new-job';
  export const showJobs = 'jupyter-artifacts:show-jobs';
  export const showGpus = 'jupyter-artifacts:show-gpus';
}

const artifactsIcon = new LabIcon({
  name: 'jupyter-artifacts:artifacts',
  svgstr: artifactsSvg
});

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'A sidebar for models, checkpoints, datasets, jobs and GPUs.',
  autoStart: true,
  requires: [ILabShell],
  optional: [ICommandPalette, ILayoutRestorer, ISettingRegistry, IDefaultFileBrowser],
  activate: (
    app: JupyterFrontEnd,
    shell: ILabShell,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    fileBrowser: IDefaultFileBrowser | null
  ) => {
    const model = new PanelModel(new ArtifactsClient(app.serviceManager.serverSettings));
    const settings = new SettingsModel();
    const panel = new ArtifactsPanel(model, settings);
    panel.title.icon = artifactsIcon;
    panel.title.caption = 'Artifacts: models, checkpoints, datasets, jobs and GPUs';
    shell.add(panel, 'left', { rank: 600 });
    if (restorer) {
      restorer.add(panel, panel.id);
    }

    if (settingRegistry) {
      settings
        .load(settingRegistry, PLUGIN_ID)
        .catch(reason => console.error('jupyter-artifacts: cannot load the settings', reason));
    }

    const { commands } = app;
    const reveal = () => shell.activateById(panel.id);

    commands.addCommand(CommandIDs.open, {
      label: 'Show Artifacts',
      caption: 'Open the Artifacts sidebar',
      execute: reveal
    });
    commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh Artifacts',
      execute: () => panel.poll.refresh()
    });
    commands.addCommand(CommandIDs.create, {
      label: 'Create Artifact…',
      caption: 'Create a model, checkpoint or dataset from a local folder or a remote source',
      execute: () => {
        reveal();
        return openCreate(model);
      }
    });
    commands.addCommand(CommandIDs.newJob, {
      label: 'New Job…',
      caption: 'Launch a training or inference job',
      execute: () => {
        reveal();
        model.setTab('jobs');
        return openNewJob(model);
      }
    });
    commands.addCommand(CommandIDs.showJobs, {
      label: 'Show Jobs',
      execute: () => {
        reveal();
        model.setTab('jobs');
      }
    });
    commands.addCommand(CommandIDs.showGpus, {
      label: 'Show GPUs',
      execute: () => {
        reveal();
        model.setTab('gpus');
      }
    });

    const selectedItem = () => {
      if (!fileBrowser) {
        return null;
      }
      const items = Array.from(fileBrowser.selectedItems());
      if (items.length !== 1) {
        return null;
      }
      const item = items[0];
      return item.type === 'directory' || item.type === 'notebook' ? item : null;
    };
    commands.addCommand(CommandIDs.saveTo, {
      label: 'Save to…',
      caption: "Save the models/ or output/ folder of this notebook or folder as a checkpoint or a model",
      icon: artifactsIcon,
      isEnabled: () => selectedItem() !== null,
      execute: async () => {
        const item = selectedItem();
        if (!item) {
          return;
        }
        const saved = await saveToDialog(model.client, item);
        if (saved) {
          reveal();
          if (model.tab !== saved.kind) {
            model.setTab(saved.kind);
          }
          model.operations.track(saved.op);
        }
      }
    });

    if (palette) {
      for (const command of [
        CommandIDs.open,
        CommandIDs.refresh,
        CommandIDs.create,
        CommandIDs.newJob,
        CommandIDs.showJobs,
        CommandIDs.showGpus
      ]) {
        palette.addItem({ command, category: CATEGORY });
      }
    }
  }
};

export default plugin;
