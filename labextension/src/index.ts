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
import { createDialog, newJobDialog, saveToDialog } from './dialogs';
import { ArtifactsModel, isKind } from './model';
import { ArtifactsClient } from './models';
import { ArtifactsPanel } from './panel';

export { requestAPI, ApiError, apiUrl } from './handler';
export * from './models';

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

export const artifactsIcon = new LabIcon({
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
    const model = new ArtifactsModel(new ArtifactsClient(app.serviceManager.serverSettings));
    const panel = new ArtifactsPanel(model);
    panel.title.icon = artifactsIcon;
    panel.title.caption = 'Artifacts: models, checkpoints, datasets, jobs and GPUs';
    shell.add(panel, 'left', { rank: 600 });
    if (restorer) {
      restorer.add(panel, panel.id);
    }

    if (settingRegistry) {
      void settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const apply = () => {
            const interval = settings.get('refreshInterval').composite as number;
            if (typeof interval === 'number' && interval > 0) {
              panel.setInterval(interval);
            }
          };
          apply();
          settings.changed.connect(apply);
        })
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
      execute: async () => {
        reveal();
        const op = await createDialog(model.client, isKind(model.tab) ? model.tab : 'checkpoint');
        if (op) {
          model.track(op);
        }
      }
    });
    commands.addCommand(CommandIDs.newJob, {
      label: 'New Job…',
      caption: 'Launch a training or inference job',
      execute: async () => {
        reveal();
        model.setTab('jobs');
        const job = await newJobDialog(model.client);
        if (job?.id) {
          model.selectJob(job.id);
        }
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
          model.track(saved.op);
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
