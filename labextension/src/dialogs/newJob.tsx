import { Notification } from '@jupyterlab/apputils';
import * as React from 'react';

import type { ArtifactsClient } from '../api/client';
import type { ArtifactKind, Job } from '../api/types';
import type { PanelModel } from '../model/panel';
import { Field } from './fields/Field';
import { MultiSelectField } from './fields/MultiSelectField';
import { SelectField } from './fields/SelectField';
import { TextField } from './fields/TextField';
import { showForm } from './form';
import { defaultJobName, IJobForm, jobRequest, newJobForm, validateJobForm } from './jobForm';

async function readyReferences(client: ArtifactsClient, kind: ArtifactKind): Promise<string[]> {
  try {
    const page = await client.listArtifacts({ kind, limit: 1000 });
    return page.artifacts.filter(a => a.state === 'ready').map(a => a.reference);
  } catch {
    return [];
  }
}

/** Options whose labels are their values (references). */
function pairs(values: string[]): [string, string][] {
  return values.map(v => [v, v]);
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
  const initial = newJobForm({
    name: defaultJobName('training'),
    gpus: maxGpus === 0 ? '0' : '1',
    ...defaults
  });
  const validate = (form: IJobForm) => validateJobForm(form, maxGpus);
  return showForm<IJobForm, Job>({
    title: 'New job',
    okLabel: 'Launch',
    initial,
    validate,
    submit: form => client.submitJob(jobRequest(form)),
    render: form => {
      const { value, set, errors } = form;
      return (
        <div className="jp-Artifacts-jobForm">
          <fieldset className="jp-Artifacts-fieldset">
            <legend>Job</legend>
            <TextField form={form} name="name" label="Name" />
            <SelectField
              form={form}
              name="type"
              label="Type"
              options={[
                ['training', 'Training'],
                ['inference', 'Inference']
              ]}
            />
            <SelectField
              form={form}
              name="run"
              label="Run"
              options={[
                ['command', 'Command'],
                ['script', 'Script']
              ]}
            />
            {value.run === 'script' ? (
              <TextField
                form={form}
                name="script"
                label="Script"
                hint="A .py or .sh file (or any executable) in the Jupyter root folder, run there by each worker"
                placeholder="train.py"
              />
            ) : (
              <TextField
                form={form}
                name="command"
                label="Command"
                hint="Run by each worker in the Jupyter root folder"
                placeholder="python train.py"
              />
            )}
          </fieldset>
          <fieldset className="jp-Artifacts-fieldset jp-Artifacts-row3">
            <legend>Resources</legend>
            <TextField
              form={form}
              name="gpus"
              label="GPUs"
              hint={maxGpus !== undefined ? `this host has ${maxGpus}` : undefined}
            />
            <TextField form={form} name="cpu" label="CPU" hint="cores; empty: any" placeholder="2" />
            <TextField form={form} name="memory" label="Memory" hint="empty: no limit" placeholder="8G" />
          </fieldset>
          <fieldset className="jp-Artifacts-fieldset">
            <legend>Model</legend>
            <SelectField form={form} name="model" label="Model" options={[['', '(none)'], ...pairs(models)]} />
            <MultiSelectField
              form={form}
              name="checkpoints"
              label="Checkpoints"
              options={
                value.publicCheckpoints
                  ? publicCheckpoints.map(c => [c.id, `${c.id} - ${c.title}`] as [string, string])
                  : pairs(checkpoints)
              }
              empty={
                value.publicCheckpoints
                  ? 'The public checkpoint catalog is not available.'
                  : 'No ready checkpoints yet.'
              }
            />
            <label className="jp-Artifacts-checkbox">
              <input
                type="checkbox"
                name="publicCheckpoints"
                checked={value.publicCheckpoints}
                onChange={event => set({ publicCheckpoints: event.target.checked, checkpoints: [] })}
              />
              Public (choose from the public checkpoint catalog)
            </label>
          </fieldset>
          <fieldset className="jp-Artifacts-fieldset">
            <legend>Data</legend>
            <MultiSelectField
              form={form}
              name="data"
              label="Datasets"
              options={pairs(datasets)}
              empty="No ready datasets yet."
            />
            <TextField form={form} name="manifest" label="Manifest" hint="A data manifest file (optional)" />
            <SelectField
              form={form}
              name="output"
              label="Output"
              options={[
                ['checkpoint', 'Checkpoint'],
                ['model', 'Model'],
                ['url', 'URL']
              ]}
            />
            {value.output === 'url' && (
              <TextField form={form} name="outputUri" label="Output URI" placeholder="s3://bucket/folder" />
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
              value={value.params}
              placeholder='{"lr": 0.01, "degree": [3, 4, 5]}'
              onChange={event => set({ params: event.target.value })}
            />
          </Field>
        </div>
      );
    }
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
