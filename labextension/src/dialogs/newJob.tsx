import { Notification } from '@jupyterlab/apputils';
import * as React from 'react';

import type { ArtifactsClient } from '../api/client';
import type { ArtifactKind, Job } from '../api/types';
import type { PanelModel } from '../model/panel';
import { Field } from './fields/Field';
import { MultiSelect } from './fields/MultiSelect';
import { Select } from './fields/Select';
import { TextInput } from './fields/TextInput';
import { showForm } from './form';
import { defaultJobName, IJobForm, jobRequest, validateJobForm } from './jobForm';

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
): Promise<Job | null> {
  const [models, checkpoints, datasets, publicList, gpus] = await Promise.all([
    readyReferences(client, 'model'),
    readyReferences(client, 'checkpoint'),
    readyReferences(client, 'dataset'),
    client.publicCheckpoints().catch(() => null),
    client.gpus().catch(() => null)
  ]);
  const publicCheckpoints = publicList?.checkpoints ?? [];
  const maxGpus = gpus ? gpus.count : undefined;
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
  return showForm<IJobForm, Job>({
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
                  ? publicCheckpoints.map(c => [c.id, `${c.id} - ${c.title}`] as [string, string])
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

/** Launch a job (the New job button and command), then open its details. */
export async function openNewJob(model: PanelModel): Promise<void> {
  const job = await newJobDialog(model.client);
  if (job) {
    Notification.success(`Launched job ${job.name}.`, { autoClose: 4000 });
    model.showJob(job.id);
  }
}
