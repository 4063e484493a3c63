import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { FileDialog, IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import type { Contents } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { LabIcon } from '@jupyterlab/ui-components';

import artifactsSvg from '../style/icons/artifacts.svg';
import { ArtifactsClient } from './api/client';
import type { Artifact, ArtifactKind } from './api/types';
import { ArtifactsPanel } from './components/ArtifactsPanel';
import { download } from './components/ArtifactDetails';
import { RunningJobs } from './components/RunningJobs';
import { chooseComparison } from './dialogs/compare';
import { confirmDelete } from './dialogs/confirm';
import { openCreate } from './dialogs/create';
import { openNewJob } from './dialogs/newJob';
import { pickArtifact, pickJob } from './dialogs/pick';
import { SAVE_FOLDERS } from './dialogs/saveForm';
import { saveToDialog } from './dialogs/saveTo';
import { attachLine, holderLabel } from './format';
import { notifyError, notifyJobEnded } from './model/notify';
import type { OpenRequest } from './model/panel';
import { PanelModel } from './model/panel';
import { followSettings, refreshPoll } from './model/refresh';
import { SettingsModel } from './model/settings';
import { MainViews } from './views';

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
  export const openJob = 'jupyter-artifacts:open-job';
  export const openArtifact = 'jupyter-artifacts:open-artifact';
  export const compare = 'jupyter-artifacts:compare';
  export const download = 'jupyter-artifacts:download';
  export const deleteArtifact = 'jupyter-artifacts:delete';
  export const attach = 'jupyter-artifacts:attach';
  /** Opens a main-area view from its request (what the layout restorer calls). */
  export const openView = 'jupyter-artifacts:open-view';
}

const artifactsIcon = new LabIcon({
  name: 'jupyter-artifacts:artifacts',
  svgstr: artifactsSvg
});

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'A sidebar for models, checkpoints, datasets, jobs and GPUs, with their views in the main area.',
  autoStart: true,
  requires: [ILabShell],
  optional: [
    ICommandPalette,
    ILayoutRestorer,
    ISettingRegistry,
    IDefaultFileBrowser,
    INotebookTracker,
    IStatusBar,
    IDocumentManager
  ],
  activate: (
    app: JupyterFrontEnd,
    shell: ILabShell,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    fileBrowser: IDefaultFileBrowser | null,
    notebooks: INotebookTracker | null,
    statusBar: IStatusBar | null,
    docManager: IDocumentManager | null
  ) => {
    const client = new ArtifactsClient(app.serviceManager.serverSettings);
    const model = new PanelModel(client);
    const settings = new SettingsModel();
    const panel = new ArtifactsPanel(model, settings);
    panel.title.icon = artifactsIcon;
    panel.title.caption = 'Artifacts: models, checkpoints, datasets, jobs and GPUs';
    shell.add(panel, 'left', { rank: 600 });
    if (settingRegistry) {
      settings
        .load(settingRegistry, PLUGIN_ID)
        .catch(reason => console.error('jupyter-artifacts: cannot load the settings', reason));
    }

    const views = new MainViews(app, model, settings, artifactsIcon);
    model.openRequested.connect((_, request) => void views.open(request));
    if (restorer) {
      restorer.add(panel, panel.id);
      void restorer.restore(views.tracker, {
        command: CommandIDs.openView,
        args: widget => ({ ...widget.request }),
        name: widget => widget.id
      });
    }
    if (docManager) {
      model.chooseFolder = async () => {
        const result = await FileDialog.getExistingDirectory({ manager: docManager, title: 'Choose a folder to save' });
        return result.button.accept && result.value?.length ? result.value[0].path : null;
      };
    }

    // The newest jobs are watched while the browser tab is shown: a job that ends says so, and the
    // status bar counts those running.
    const watch = refreshPoll(() => model.jobs.refresh(), () => true, settings.refreshInterval);
    followSettings(watch, settings, model);
    void watch.start();
    model.jobs.ended.connect((_, job) => notifyJobEnded(job, () => model.openJob(job.id)));

    const { commands } = app;
    const reveal = () => shell.activateById(panel.id);
    const showJobs = () => {
      reveal();
      model.setTab('jobs');
    };
    if (statusBar) {
      statusBar.registerStatusItem('jupyter-artifacts:running-jobs', {
        item: new RunningJobs(model.jobs, showJobs),
        align: 'left',
        rank: 4,
        isActive: () => true,
        activeStateChanged: model.jobs.listChanged
      });
    }

    /** The artifact a command acts on: the one in front (a main-area view, else the sidebar's details), else one the user picks. */
    const targetArtifact = async (title: string): Promise<Artifact | null> =>
      views.currentArtifact() ?? model.details.current?.artifact ?? (await pickArtifact(client, title));

    commands.addCommand(CommandIDs.open, {
      label: 'Show Artifacts',
      caption: 'Open the Artifacts sidebar',
      execute: reveal
    });
    commands.addKeyBinding({ command: CommandIDs.open, keys: ['Alt Shift A'], selector: 'body' });
    commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh Artifacts',
      execute: () => model.refreshNow()
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
        showJobs();
        return openNewJob(model);
      }
    });
    commands.addCommand(CommandIDs.showJobs, { label: 'Show Jobs', execute: showJobs });
    commands.addCommand(CommandIDs.showGpus, {
      label: 'Show GPUs',
      execute: () => {
        reveal();
        model.setTab('gpus');
      }
    });
    commands.addCommand(CommandIDs.openJob, {
      label: 'Open Job…',
      caption: 'Open a job in the main area: its workers, metrics, log and outputs',
      execute: async args => {
        const id = (args['id'] as string) || (await pickJob(client))?.id;
        if (id) {
          model.openJob(id);
        }
      }
    });
    commands.addCommand(CommandIDs.openArtifact, {
      label: 'Open Artifact…',
      caption: 'Open an artifact in the main area: its details and lineage graph',
      execute: async args => {
        const reference = args['reference'] as string | undefined;
        const artifact = reference ? null : await pickArtifact(client, 'Open an artifact');
        if (reference || artifact) {
          model.openArtifact(reference ?? artifact!.reference, (args['kind'] as ArtifactKind) ?? artifact?.kind);
        }
      }
    });
    commands.addCommand(CommandIDs.compare, {
      label: 'Compare Artifact Versions…',
      caption: 'Compare two versions: files, sizes, metadata and metrics side by side',
      execute: async () => {
        const artifact = await targetArtifact('Compare which artifact?');
        if (artifact) {
          await chooseComparison(model, artifact);
        }
      }
    });
    commands.addCommand(CommandIDs.download, {
      label: 'Download Artifact…',
      caption: 'Download an artifact: a lone file as itself, anything more as one tar archive',
      execute: async () => {
        const artifact = await targetArtifact('Download which artifact?');
        if (artifact) {
          const files = await client.files(artifact.reference, artifact.kind, 2);
          download(client, { artifact, files, lineage: null, refusedHolders: [] });
        }
      }
    });
    commands.addCommand(CommandIDs.deleteArtifact, {
      label: 'Delete Artifact…',
      caption: 'Delete an artifact nothing holds',
      execute: async () => {
        const chosen = await targetArtifact('Delete which artifact?');
        if (!chosen) {
          return;
        }
        const artifact = await client.getArtifact(chosen.reference, chosen.kind);
        if (artifact.holders?.length) {
          const who = (artifact.holder_details ?? []).map(holderLabel).join(', ') || artifact.holders.join(', ');
          Notification.warning(`${artifact.reference} is in use by ${who}; it cannot be deleted now.`, { autoClose: 6000 });
          return;
        }
        await confirmDelete(model.details, artifact);
      }
    });
    commands.addCommand(CommandIDs.attach, {
      label: 'Attach Artifact in the Current Notebook…',
      caption: 'Add a cell below the active one that attaches an artifact (%attach_checkpoint name:vN)',
      // The palette lists it always (and says what is missing); elsewhere it needs a notebook.
      isEnabled: args => !!args['fromPalette'] || !!notebooks?.currentWidget,
      execute: async () => {
        const notebook = notebooks?.currentWidget;
        if (!notebook) {
          Notification.warning('Open a notebook first: the artifact is attached in a new cell of it.', { autoClose: 5000 });
          return;
        }
        const artifact = await targetArtifact('Attach which artifact?');
        if (!artifact) {
          return;
        }
        const cells = notebook.content.widgets;
        const loaded = cells.some(cell => cell.model.sharedModel.getSource().includes('load_ext jupyter_artifacts'));
        NotebookActions.insertBelow(notebook.content);
        notebook.content.activeCell?.model.sharedModel.setSource(
          `${loaded ? '' : '%load_ext jupyter_artifacts\n'}${attachLine(artifact)}`
        );
        shell.activateById(notebook.id);
      }
    });
    commands.addCommand(CommandIDs.openView, {
      label: 'Open an Artifacts View',
      execute: args => void views.open(args as unknown as OpenRequest)
    });

    /** Save to of a notebook (one of the folders next to it) or a folder (itself). */
    const saveItem = async (item: Contents.IModel): Promise<void> => {
      let present: string[] = [];
      if (item.type !== 'directory') {
        const parent = await app.serviceManager.contents.get(PathExt.dirname(item.path), { content: true });
        present = SAVE_FOLDERS.filter(name =>
          (parent.content as Contents.IModel[]).some(entry => entry.name === name && entry.type === 'directory')
        );
      }
      const saved = await saveToDialog(client, item, present);
      if (saved) {
        reveal();
        if (model.tab !== saved.kind) {
          model.setTab(saved.kind);
        }
        model.operations.track(saved.op);
      }
    };
    const selectedItem = () => {
      const items = fileBrowser ? Array.from(fileBrowser.selectedItems()) : [];
      const item = items.length === 1 ? items[0] : null;
      return item && (item.type === 'directory' || item.type === 'notebook') ? item : null;
    };
    commands.addCommand(CommandIDs.saveTo, {
      label: 'Save to…',
      caption: 'Save this folder, or the models/ or output/ folder of this notebook, as a checkpoint or a model',
      icon: artifactsIcon,
      // From the palette without one notebook or folder chosen in the file browser, it asks for a folder.
      isEnabled: args => (!!args['fromPalette'] && !!model.chooseFolder) || selectedItem() !== null,
      execute: async () => {
        let item: Contents.IModel | null = selectedItem();
        if (!item && model.chooseFolder) {
          const path = await model.chooseFolder();
          item = path === null ? null : await app.serviceManager.contents.get(path, { content: false });
        }
        if (item) {
          await saveItem(item).catch(error => notifyError(error, 'Cannot save'));
        }
      }
    });
    panel.listenForDrops();
    panel.onDropPath = path => {
      app.serviceManager.contents
        .get(path, { content: false })
        .then(async item => {
          if (item.type === 'directory' || item.type === 'notebook') {
            await saveItem(item);
          } else {
            Notification.warning(`Drop a folder or a notebook to save it; ${item.name} is a file.`, { autoClose: 5000 });
          }
        })
        .catch(error => notifyError(error, 'Cannot save'));
    };

    if (palette) {
      for (const command of [
        CommandIDs.open,
        CommandIDs.refresh,
        CommandIDs.create,
        CommandIDs.saveTo,
        CommandIDs.newJob,
        CommandIDs.showJobs,
        CommandIDs.showGpus,
        CommandIDs.openJob,
        CommandIDs.openArtifact,
        CommandIDs.compare,
        CommandIDs.download,
        CommandIDs.deleteArtifact,
        CommandIDs.attach
      ]) {
        palette.addItem({ command, category: CATEGORY, args: { fromPalette: true } });
      }
    }
  }
};

export default plugin;
