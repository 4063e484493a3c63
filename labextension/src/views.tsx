/** The main-area views: a job, an artifact with its lineage graph, a comparison; opened once each, tracked and restored. */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import type { LabIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { Artifact } from './api/types';
import { ArtifactDetails } from './components/ArtifactDetails';
import { CompareView } from './components/CompareView';
import { JobView } from './components/JobView';
import { ViewWidget } from './components/ViewWidget';
import { formFromJob } from './dialogs/jobForm';
import { openNewJob } from './dialogs/newJob';
import { CompareModel } from './model/compare';
import { ArtifactDetailsModel } from './model/details';
import { JobViewModel } from './model/jobView';
import type { OpenRequest, PanelModel } from './model/panel';
import type { SettingsModel } from './model/settings';

/** A view of the main area, with what opened it (to find it again and to restore it). */
export class MainView extends MainAreaWidget<ViewWidget> {
  constructor(
    readonly request: OpenRequest,
    content: ViewWidget,
    /** The artifact it shows, for the commands that act on "this artifact". */
    readonly artifact: () => Artifact | null = () => null
  ) {
    super({ content });
    this.addClass('jp-Artifacts-main');
  }
}

/** The widget id of the view a request opens: one view per job, artifact or pair. */
export function viewId(request: OpenRequest): string {
  const key =
    request.view === 'job'
      ? request.id
      : request.view === 'artifact'
        ? `${request.kind ?? ''}-${request.reference}`
        : `${request.kind ?? ''}-${request.a}-${request.b}`;
  return `jupyter-artifacts-${request.view}-${key.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

export class MainViews {
  constructor(
    private readonly app: JupyterFrontEnd,
    private readonly model: PanelModel,
    private readonly settings: SettingsModel,
    private readonly icon: LabIcon
  ) {}

  readonly tracker = new WidgetTracker<MainView>({ namespace: 'jupyter-artifacts' });

  /** The artifact of the view in front, if that view shows one. */
  currentArtifact(): Artifact | null {
    const current = this.app.shell.currentWidget;
    return current instanceof MainView ? current.artifact() : null;
  }

  /** Show the view a request asks for: the one already open, or a new one. */
  open(request: OpenRequest): MainView {
    const id = viewId(request);
    const found = this.tracker.find(w => w.id === id);
    if (found) {
      this.app.shell.activateById(id);
      return found;
    }
    const widget = this.create(request);
    widget.id = id;
    widget.title.icon = this.icon;
    widget.title.closable = true;
    void this.tracker.add(widget);
    this.app.shell.add(widget, 'main');
    this.app.shell.activateById(id);
    return widget;
  }

  private create(request: OpenRequest): MainView {
    const { client } = this.model;
    const settings = this.settings;
    if (request.view === 'job') {
      const view = new JobViewModel(client, request.id);
      let widget: MainView | null = null;
      const actions = {
        openArtifact: this.model.openArtifact.bind(this.model),
        runAgain: (job: Parameters<typeof formFromJob>[0]) => void openNewJob(this.model, formFromJob(job)),
        close: () => widget?.dispose()
      };
      const content = new ViewWidget({
        settings,
        refresh: () => view.refresh(),
        render: () => <JobView view={view} client={client} actions={actions} />
      });
      widget = new MainView(request, content);
      widget.title.label = `Job ${request.id.slice(0, 8)}`;
      view.changed.connect(() => {
        widget!.title.label = `Job ${view.job?.name ?? request.id.slice(0, 8)}`;
        widget!.title.caption = `Job ${view.job?.name} (${view.job?.state})`;
      });
      view.gone.connect(() => widget?.dispose());
      return widget;
    }
    if (request.view === 'artifact') {
      let widget: MainView | null = null;
      const details = new ArtifactDetailsModel(client, () => void widget?.content.poll?.refresh());
      details.select(request.reference);
      // Deleted from here (or gone): the view closes.
      details.selectionChanged.connect((_, reference) => reference === null && widget?.dispose());
      const content = new ViewWidget({
        settings,
        refresh: () => details.refresh(request.kind),
        render: () => <ArtifactDetails model={this.model} details={details} main />
      });
      widget = new MainView(request, content, () => details.current?.artifact ?? null);
      widget.title.label = request.reference;
      widget.title.caption = `${request.kind ?? 'artifact'} ${request.reference}`;
      return widget;
    }
    const compare = new CompareModel(client, request.a, request.b, request.kind);
    void compare.load();
    const content = new ViewWidget({
      settings,
      render: () => <CompareView model={compare} onOpen={(reference, kind) => this.model.openArtifact(reference, kind)} />
    });
    const widget = new MainView(request, content);
    widget.title.label = `${request.a} → ${request.b}`;
    widget.title.caption = `Compare ${request.a} with ${request.b}`;
    return widget;
  }
}
