import { Dialog, showDialog } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ApiError } from './handler';
import { notifyError } from './model';
import {
  ArtifactKind,
  ArtifactsClient,
  createRequest,
  defaultSaveName,
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
      focusNodeSelector: 'input, select'
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

export async function newJobDialog(
  client: ArtifactsClient,
  defaults: Partial<IJobForm> = {}
): Promise<IJob | null> {
  const initial: IJobForm = {
    type: 'training',
    name: '',
    command: '',
    gpus: '1',
    cpu: '',
    memory: '',
    model: '',
    checkpoints: '',
    publicCheckpoints: false,
    data: '',
    output: 'checkpoint',
    params: '',
    ...defaults
  };
  return showForm<IJobForm, IJob>({
    title: 'New job',
    okLabel: 'Launch',
    initial,
    validate: validateJobForm,
    submit: form => client.submitJob(jobRequest(form)),
    render: (form, set, errors) => (
      <div className="jp-Artifacts-jobForm">
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
        <Field label="Name" name="name" error={errors.name}>
          <TextInput name="name" value={form.name} placeholder="train-resnet" onChange={name => set({ name })} />
        </Field>
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
        <fieldset className="jp-Artifacts-fieldset">
          <legend>Resources</legend>
          <Field label="GPUs" name="gpus" error={errors.gpus}>
            <TextInput name="gpus" value={form.gpus} onChange={gpus => set({ gpus })} />
          </Field>
          <Field label="CPU" name="cpu" error={errors.cpu} hint="Cores; empty: no limit">
            <TextInput name="cpu" value={form.cpu} placeholder="2" onChange={cpu => set({ cpu })} />
          </Field>
          <Field label="Memory" name="memory" error={errors.memory} hint="e.g. 8G; empty: no limit">
            <TextInput name="memory" value={form.memory} placeholder="8G" onChange={memory => set({ memory })} />
          </Field>
        </fieldset>
        <Field label="Model" name="model" error={errors.model} hint="A model reference, e.g. resnet:v2">
          <TextInput name="model" value={form.model} placeholder="name:v1" onChange={model => set({ model })} />
        </Field>
        <Field
          label="Checkpoints"
          name="checkpoints"
          error={errors.checkpoints}
          hint="References, separated by commas"
        >
          <TextInput
            name="checkpoints"
            value={form.checkpoints}
            placeholder="name:v3"
            onChange={checkpoints => set({ checkpoints })}
          />
        </Field>
        <label className="jp-Artifacts-checkbox">
          <input
            type="checkbox"
            name="publicCheckpoints"
            checked={form.publicCheckpoints}
            onChange={event => set({ publicCheckpoints: event.target.checked })}
          />
          Public (the checkpoints are ids of public checkpoints)
        </label>
        <Field label="Data" name="data" error={errors.data} hint="Dataset references, separated by commas">
          <TextInput name="data" value={form.data} placeholder="images:v1" onChange={data => set({ data })} />
        </Field>
        <Field label="Output" name="output">
          <Select
            name="output"
            value={form.output}
            options={[
              ['checkpoint', 'Checkpoint'],
              ['model', 'Model']
            ]}
            onChange={output => set({ output: output as IJobForm['output'] })}
          />
        </Field>
        <Field
          label="Hyperparameters"
          name="params"
          error={errors.params}
          hint='JSON; list values are searched as a grid, one worker each: {"lr": [0.1, 0.01]}'
        >
          <TextInput name="params" value={form.params} placeholder="{}" onChange={params => set({ params })} />
        </Field>
      </div>
    )
  });
}
