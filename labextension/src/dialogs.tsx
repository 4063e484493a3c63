import { Dialog, showDialog } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ApiError } from './handler';
import { notifyError } from './model';
import {
  ArtifactKind,
  ArtifactsClient,
  createRequest,
  defaultJobName,
  defaultSaveName,
  focusSelector,
  FormErrors,
  ICreateForm,
  IJob,
  IJobForm,
  IOperation,
  IPublicCheckpoint,
  ISaveForm,
  jobRequest,
  KAGGLE_TYPES,
  KINDS,
  snapshotRequest,
  SOURCE_TYPES,
  validateCreateForm,
  validateJobForm,
  validateSaveForm
} from './models';

type Render<T> = (
  value: T,
  set: (patch: Partial<T>) => void,
  errors: FormErrors
) => React.ReactElement;

/** A dialog body holding a form's value; errors are shown next to their fields. */
class FormBody<T> extends ReactWidget implements Dialog.IBodyWidget<T> {
  constructor(
    private readonly renderForm: Render<T>,
    private value: T,
    private errors: FormErrors,
    private readonly validate: (value: T) => FormErrors
  ) {
    super();
    this.addClass('jp-Artifacts-form');
  }

  getValue(): T {
    return this.value;
  }

  private set = (patch: Partial<T>): void => {
    this.value = { ...this.value, ...patch };
    if (Object.keys(this.errors).length) {
      // Once errors are shown they follow the input.
      const formError = this.errors._form;
      this.errors = this.validate(this.value);
      if (formError && !Object.keys(this.errors).length) {
        this.errors = {};
      }
    }
    this.update();
  };

  render(): React.ReactElement {
    const formError = this.errors._form;
    return (
      <div>
        {formError && <div className="jp-Artifacts-formError">{formError}</div>}
        {this.renderForm(this.value, this.set, this.errors)}
      </div>
    );
  }
}

/**
 * Show a form until it is valid and the server accepts it. Invalid input and refusals
 * from the server reopen it with the values kept and the errors inline.
 */
export async function showForm<T, R>(options: {
  title: string;
  initial: T;
  okLabel: string;
  render: Render<T>;
  validate: (value: T) => FormErrors;
  submit: (value: T) => Promise<R>;
}): Promise<R | null> {
  let value = options.initial;
  let errors: FormErrors = {};
  for (;;) {
    const body = new FormBody<T>(options.render, value, errors, options.validate);
    const result = await showDialog<T>({
      title: options.title,
      body,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: options.okLabel })],
      focusNodeSelector: focusSelector(errors)
    });
    if (!result.button.accept || result.value === null) {
      return null;
    }
    value = result.value;
    errors = options.validate(value);
    if (Object.keys(errors).length) {
      continue;
    }
    try {
      return await options.submit(value);
    } catch (error) {
      notifyError(error);
      if (error instanceof ApiError && error.status < 500) {
        errors = { _form: error.message };
        continue;
      }
      return null;
    }
  }
}

export function Field(props: {
  label: string;
  name: string;
  error?: string;
  hint?: string;
  children: React.ReactNode;
}): React.ReactElement {
  return (
    <label className="jp-Artifacts-field" data-field={props.name}>
      <span className="jp-Artifacts-fieldLabel">{props.label}</span>
      {props.children}
      {props.hint && <span className="jp-Artifacts-hint">{props.hint}</span>}
      {props.error && <span className="jp-Artifacts-fieldError">{props.error}</span>}
    </label>
  );
}

function TextInput(props: {
  name: string;
  value: string;
  placeholder?: string;
  onChange: (value: string) => void;
}): React.ReactElement {
  return (
    <input
      className="jp-mod-styled"
      name={props.name}
      value={props.value}
      placeholder={props.placeholder}
      onChange={event => props.onChange(event.target.value)}
    />
  );
}

function Select(props: {
  name: string;
  value: string;
  options: [string, string][];
  onChange: (value: string) => void;
}): React.ReactElement {
  return (
    <select
      className="jp-mod-styled"
      name={props.name}
      value={props.value}
      onChange={event => props.onChange(event.target.value)}
    >
      {props.options.map(([value, label]) => (
        <option key={value} value={value}>
          {label}
        </option>
      ))}
    </select>
  );
}

const KIND_LABELS: Record<ArtifactKind, string> = {
  model: 'Model',
  checkpoint: 'Checkpoint',
  dataset: 'Dataset'
};

// ---------------------------------------------------------------------------------------------
// Create
// ---------------------------------------------------------------------------------------------

export async function createDialog(
  client: ArtifactsClient,
  kind: ArtifactKind
): Promise<IOperation | null> {
  let publicCheckpoints: IPublicCheckpoint[] = [];
  let publicMessage = '';
  try {
    const found = await client.publicCheckpoints();
    publicCheckpoints = found.checkpoints ?? [];
    publicMessage = found.available === false ? found.message ?? '' : '';
  } catch {
    publicMessage = 'The list of public checkpoints could not be loaded.';
  }
  const initial: ICreateForm = {
    kind,
    name: '',
    sourceType: 'local',
    path: '',
    endpoint: '',
    branch: '',
    kaggleType: 'dataset'
  };
  const validate = (form: ICreateForm): FormErrors => {
    const errors = validateCreateForm(form);
    if (form.sourceType === 'public') {
      delete errors.name;
    }
    return errors;
  };
  return showForm<ICreateForm, IOperation>({
    title: 'Create an artifact',
    okLabel: 'Create',
    initial,
    validate,
    submit: form =>
      form.sourceType === 'public'
        ? client.fetchPublicCheckpoint(form.path.trim())
        : client.createArtifact(createRequest(form)),
    render: (form, set, errors) => {
      const type = SOURCE_TYPES.find(t => t.value === form.sourceType) ?? SOURCE_TYPES[0];
      return (
        <div className="jp-Artifacts-createForm">
          <Field label="Kind" name="kind" error={errors.kind}>
            <Select
              name="kind"
              value={form.kind}
              options={KINDS.map(k => [k, KIND_LABELS[k]])}
              onChange={value => set({ kind: value as ArtifactKind })}
            />
          </Field>
          {type.value !== 'public' && (
            <Field label="Name" name="name" error={errors.name}>
              <TextInput
                name="name"
                value={form.name}
                placeholder="my-model"
                onChange={name => set({ name })}
              />
            </Field>
          )}
          <Field label="Source Type" name="sourceType" error={errors.sourceType}>
            <Select
              name="sourceType"
              value={form.sourceType}
              options={SOURCE_TYPES.map(t => [t.value, t.label])}
              onChange={sourceType => set({ sourceType, path: '' })}
            />
          </Field>
          {type.value === 'public' ? (
            <Field
              label="Checkpoint"
              name="path"
              error={errors.path}
              hint={publicMessage || type.hint}
            >
              <Select
                name="path"
                value={form.path}
                options={[
                  ['', publicCheckpoints.length ? 'Choose…' : 'None available'],
                  ...publicCheckpoints.map(
                    c => [c.id, c.name ? `${c.name} (${c.id})` : c.id] as [string, string]
                  )
                ]}
                onChange={path => set({ path })}
              />
            </Field>
          ) : (
            <Field label="Path" name="path" error={errors.path} hint={type.hint}>
              <TextInput
                name="path"
                value={form.path}
                placeholder={type.placeholder}
                onChange={path => set({ path })}
              />
            </Field>
          )}
          {type.fields.includes('endpoint') && (
            <Field
              label="Endpoint"
              name="endpoint"
              error={errors.endpoint}
              hint="https://s3.REGION.wasabisys.com"
            >
              <TextInput
                name="endpoint"
                value={form.endpoint}
                placeholder="https://s3.eu-central-1.wasabisys.com"
                onChange={endpoint => set({ endpoint })}
              />
            </Field>
          )}
          {type.fields.includes('branch') && (
            <Field
              label="Branch"
              name="branch"
              error={errors.branch}
              hint="Optional; the default branch when empty"
            >
              <TextInput
                name="branch"
                value={form.branch}
                placeholder="main"
                onChange={branch => set({ branch })}
              />
            </Field>
          )}
          {type.fields.includes('kaggle_type') && (
            <Field label="Type" name="kaggleType" error={errors.kaggleType}>
              <Select
                name="kaggleType"
                value={form.kaggleType}
                options={KAGGLE_TYPES.map(t => [t, t.charAt(0).toUpperCase() + t.slice(1)])}
                onChange={kaggleType => set({ kaggleType })}
              />
            </Field>
          )}
        </div>
      );
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Save to
// ---------------------------------------------------------------------------------------------

export async function saveToDialog(
  client: ArtifactsClient,
  item: { path: string; type: string; name: string }
): Promise<{ op: IOperation; kind: ISaveForm['kind'] } | null> {
  const initial: ISaveForm = {
    kind: 'checkpoint',
    folder: 'models',
    name: defaultSaveName(item.path || item.name)
  };
  return showForm<ISaveForm, { op: IOperation; kind: ISaveForm['kind'] }>({
    title: `Save to the artifact store (from ${item.name || item.path || 'the root folder'})`,
    okLabel: 'Save',
    initial,
    validate: validateSaveForm,
    submit: form => client.snapshot(snapshotRequest(item, form)).then(op => ({ op, kind: form.kind })),
    render: (form, set, errors) => (
      <div className="jp-Artifacts-saveForm">
        <Field label="Type" name="kind" error={errors.kind}>
          <Select
            name="kind"
            value={form.kind}
            options={[
              ['checkpoint', 'Checkpoint'],
              ['model', 'Model']
            ]}
            onChange={kind => set({ kind: kind as ISaveForm['kind'] })}
          />
        </Field>
        <Field
          label="Save Directory"
          name="folder"
          error={errors.folder}
          hint={`Saves the ${form.folder}/ folder ${item.type === 'directory' ? 'inside this folder' : 'next to the notebook'}`}
        >
          <Select
            name="folder"
            value={form.folder}
            options={[
              ['models', 'models'],
              ['output', 'output']
            ]}
            onChange={folder => set({ folder: folder as ISaveForm['folder'] })}
          />
        </Field>
        <Field label="New Name" name="name" error={errors.name}>
          <TextInput name="name" value={form.name} onChange={name => set({ name })} />
        </Field>
      </div>
    )
  });
}

// ---------------------------------------------------------------------------------------------
// New job
// ---------------------------------------------------------------------------------------------

function MultiSelect(props: {
  name: string;
  value: string[];
  options: [string, string][];
  empty: string;
  onChange: (value: string[]) => void;
}): React.ReactElement {
  if (!props.options.length) {
    return <div className="jp-Artifacts-muted">{props.empty}</div>;
  }
  return (
    <select
      className="jp-mod-styled jp-Artifacts-multi"
      name={props.name}
      multiple
      size={Math.min(5, Math.max(2, props.options.length))}
      value={props.value}
      onChange={event =>
        props.onChange(Array.from(event.target.selectedOptions).map(option => option.value))
      }
    >
      {props.options.map(([value, label]) => (
        <option key={value} value={value}>
          {label}
        </option>
      ))}
    </select>
  );
}

async function readyReferences(client: ArtifactsClient, kind: ArtifactKind): Promise<string[]> {
  try {
    const page = await client.listArtifacts({ kind, limit: 1000 });
    return page.artifacts.filter(a => a.state === 'ready').map(a => a.reference);
  } catch {
    return [];
  }
}

/** The job form of the notebook widget: job, resources, model, data, output, hyperparameters. */
export async function newJobDialog(
  client: ArtifactsClient,
  defaults: Partial<IJobForm> = {}
): Promise<IJob | null> {
  const [models, checkpoints, datasets, publicList, gpus] = await Promise.all([
    readyReferences(client, 'model'),
    readyReferences(client, 'checkpoint'),
    readyReferences(client, 'dataset'),
    client.publicCheckpoints().catch(() => ({ checkpoints: [] as IPublicCheckpoint[] })),
    client.gpus().catch(() => null)
  ]);
  const publicCheckpoints = publicList.checkpoints ?? [];
  const maxGpus = gpus ? gpus.gpus.length : undefined;
  const initial: IJobForm = {
    type: 'training',
    name: defaultJobName('training'),
    run: 'command',
    command: '',
    script: '',
    gpus: maxGpus === 0 ? '0' : '1',
    cpu: '',
    memory: '',
    model: '',
    checkpoints: [],
    publicCheckpoints: false,
    data: [],
    manifest: '',
    output: 'checkpoint',
    outputUri: '',
    params: '',
    ...defaults
  };
  const validate = (form: IJobForm) => validateJobForm(form, maxGpus);
  return showForm<IJobForm, IJob>({
    title: 'New job',
    okLabel: 'Launch',
    initial,
    validate,
    submit: form => client.submitJob(jobRequest(form)),
    render: (form, set, errors) => (
      <div className="jp-Artifacts-jobForm">
        <fieldset className="jp-Artifacts-fieldset">
          <legend>Job</legend>
          <Field label="Name" name="name" error={errors.name}>
            <TextInput name="name" value={form.name} onChange={name => set({ name })} />
          </Field>
          <Field label="Type" name="type">
            <Select
              name="type"
              value={form.type}
              options={[
                ['training', 'Training'],
                ['inference', 'Inference']
              ]}
              onChange={type => set({ type: type as IJobForm['type'] })}
            />
          </Field>
          <Field label="Run" name="run">
            <Select
              name="run"
              value={form.run}
              options={[
                ['command', 'Command'],
                ['script', 'Script']
              ]}
              onChange={run => set({ run: run as IJobForm['run'] })}
            />
          </Field>
          {form.run === 'script' ? (
            <Field
              label="Script"
              name="script"
              error={errors.script}
              hint="A .py or .sh file (or any executable) in the Jupyter root folder, run there by each worker"
            >
              <TextInput
                name="script"
                value={form.script}
                placeholder="train.py"
                onChange={script => set({ script })}
              />
            </Field>
          ) : (
            <Field
              label="Command"
              name="command"
              error={errors.command}
              hint="Run by each worker in the Jupyter root folder"
            >
              <TextInput
                name="command"
                value={form.command}
                placeholder="python train.py"
                onChange={command => set({ command })}
              />
            </Field>
          )}
        </fieldset>
        <fieldset className="jp-Artifacts-fieldset jp-Artifacts-row3">
          <legend>Resources</legend>
          <Field
            label="GPUs"
            name="gpus"
            error={errors.gpus}
            hint={maxGpus !== undefined ? `this host has ${maxGpus}` : undefined}
          >
            <TextInput name="gpus" value={form.gpus} onChange={gpus => set({ gpus })} />
          </Field>
          <Field label="CPU" name="cpu" error={errors.cpu} hint="cores; empty: any">
            <TextInput name="cpu" value={form.cpu} placeholder="2" onChange={cpu => set({ cpu })} />
          </Field>
          <Field label="Memory" name="memory" error={errors.memory} hint="empty: no limit">
            <TextInput name="memory" value={form.memory} placeholder="8G" onChange={memory => set({ memory })} />
          </Field>
        </fieldset>
        <fieldset className="jp-Artifacts-fieldset">
          <legend>Model</legend>
          <Field label="Model" name="model" error={errors.model}>
            <Select
              name="model"
              value={form.model}
              options={[['', '(none)'], ...models.map(r => [r, r] as [string, string])]}
              onChange={model => set({ model })}
            />
          </Field>
          <Field label="Checkpoints" name="checkpoints" error={errors.checkpoints}>
            <MultiSelect
              name="checkpoints"
              value={form.checkpoints}
              options={
                form.publicCheckpoints
                  ? publicCheckpoints.map(c => [c.id, c.name && c.name !== c.id ? `${c.id} - ${c.name}` : c.id] as [string, string])
                  : checkpoints.map(r => [r, r] as [string, string])
              }
              empty={
                form.publicCheckpoints
                  ? 'The public checkpoint catalog is not available.'
                  : 'No ready checkpoints yet.'
              }
              onChange={value => set({ checkpoints: value })}
            />
          </Field>
          <label className="jp-Artifacts-checkbox">
            <input
              type="checkbox"
              name="publicCheckpoints"
              checked={form.publicCheckpoints}
              onChange={event => set({ publicCheckpoints: event.target.checked, checkpoints: [] })}
            />
            Public (choose from the public checkpoint catalog)
          </label>
        </fieldset>
        <fieldset className="jp-Artifacts-fieldset">
          <legend>Data</legend>
          <Field label="Datasets" name="data" error={errors.data}>
            <MultiSelect
              name="data"
              value={form.data}
              options={datasets.map(r => [r, r] as [string, string])}
              empty="No ready datasets yet."
              onChange={data => set({ data })}
            />
          </Field>
          <Field label="Manifest" name="manifest" hint="A data manifest file (optional)">
            <TextInput name="manifest" value={form.manifest} onChange={manifest => set({ manifest })} />
          </Field>
          <Field label="Output" name="output">
            <Select
              name="output"
              value={form.output}
              options={[
                ['checkpoint', 'Checkpoint'],
                ['model', 'Model'],
                ['url', 'URL']
              ]}
              onChange={output => set({ output: output as IJobForm['output'] })}
            />
          </Field>
          {form.output === 'url' && (
            <Field label="Output URI" name="outputUri" error={errors.outputUri}>
              <TextInput
                name="outputUri"
                value={form.outputUri}
                placeholder="s3://bucket/folder"
                onChange={outputUri => set({ outputUri })}
              />
            </Field>
          )}
        </fieldset>
        <Field
          label="Hyperparameters"
          name="params"
          error={errors.params}
          hint="JSON; list values form a grid, one worker per combination"
        >
          <textarea
            className="jp-mod-styled"
            name="params"
            rows={2}
            value={form.params}
            placeholder='{"lr": 0.01, "degree": [3, 4, 5]}'
            onChange={event => set({ params: event.target.value })}
          />
        </Field>
      </div>
    )
  });
}
