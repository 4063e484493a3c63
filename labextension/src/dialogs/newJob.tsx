import { Notification } from '@jupyterlab/apputils';
import * as React from 'react';

import type { ArtifactsClient } from '../api/client';
import type { Artifact, ArtifactKind, Job } from '../api/types';
import { IChoice, referenceChoices } from '../model/groups';
import type { PanelModel } from '../model/panel';
import { Field } from './fields/Field';
import { ReferencePicker } from './fields/ReferencePicker';
import { SelectField } from './fields/SelectField';
import { TextField } from './fields/TextField';
import { showForm } from './form';
import { defaultJobName, gridText, IJobForm, jobRequest, newJobForm, validateJobForm, workerGrid } from './jobForm';

async function readyArtifacts(client: ArtifactsClient, kind: ArtifactKind): Promise<Artifact[]> {
  try {
    return (await client.listArtifacts({ kind, state: 'ready', limit: 1000 })).artifacts;
  } catch {
    return [];
  }
}

const pairs = (choices: IChoice[]): [string, string][] => choices.map(c => [c.value, c.label]);

/**
 * The job form of the notebook widget, laid out to fit without scrolling: the job and its resources
 * on the left; its inputs, output and hyperparameters (with how many workers they make) on the right.
 */
export async function newJobDialog(client: ArtifactsClient, defaults: Partial<IJobForm> = {}): Promise<Job | null> {
  const [models, checkpoints, datasets, publicList, gpus] = await Promise.all([
    readyArtifacts(client, 'model'),
    readyArtifacts(client, 'checkpoint'),
    readyArtifacts(client, 'dataset'),
    client.publicCheckpoints().catch(() => null),
    client.gpus().catch(() => null)
  ]);
  const [modelChoices, checkpointChoices, datasetChoices] = [models, checkpoints, datasets].map(referenceChoices);
  const publicChoices = (publicList?.checkpoints ?? []).map(c => ({ value: c.id, label: `${c.id}: ${c.title}` }));
  const maxGpus = gpus ? gpus.count : undefined;
  const initial = newJobForm({
    name: defaultJobName('training'),
    gpus: maxGpus === 0 ? '0' : '1',
    ...defaults
  });
  return showForm<IJobForm, Job>({
    title: defaults.name ? `Run ${defaults.name} again` : 'New job',
    okLabel: 'Launch',
    initial,
    validate: form => validateJobForm(form, maxGpus),
    submit: form => client.submitJob(jobRequest(form)),
    render: form => {
      const { value, set, errors } = form;
      const grid = workerGrid(value.params);
      return (
        <div className="jp-Artifacts-jobForm">
          <div className="jp-Artifacts-formColumn">
            <fieldset className="jp-Artifacts-fieldset">
              <legend>Job</legend>
              <TextField form={form} name="name" label="Name" />
              <div className="jp-Artifacts-formRow">
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
                    ['command', 'A command'],
                    ['script', 'A script file']
                  ]}
                />
              </div>
              {value.run === 'script' ? (
                <TextField
                  form={form}
                  name="script"
                  label="Script"
                  hint="A .py or .sh file (or any executable) in the Jupyter root folder, e.g. train.py; each worker runs it there"
                />
              ) : (
                <TextField
                  form={form}
                  name="command"
                  label="Command"
                  hint="Each worker runs it in the Jupyter root folder, e.g. python train.py"
                />
              )}
            </fieldset>
            <fieldset className="jp-Artifacts-fieldset">
              <legend>Resources, per worker</legend>
              <div className="jp-Artifacts-formRow jp-Artifacts-resources">
                <TextField
                  form={form}
                  name="gpus"
                  label="GPUs"
                  hint={maxGpus !== undefined ? `This host has ${maxGpus}` : 'Whole GPUs'}
                />
                <TextField form={form} name="cpu" label="CPU cores" hint="Empty: any, e.g. 2 or 0.5" />
                <TextField form={form} name="memory" label="Memory" hint="Empty: no limit, e.g. 8G" />
              </div>
            </fieldset>
            <fieldset className="jp-Artifacts-fieldset">
              <legend>Output</legend>
              <SelectField
                form={form}
                name="output"
                label="Save each worker's output as"
                options={[
                  ['checkpoint', 'A checkpoint'],
                  ['model', 'A model'],
                  ['url', 'Files at a URL']
                ]}
              />
              {value.output === 'url' && (
                <TextField form={form} name="outputUri" label="Output URL" hint="e.g. s3://bucket/folder" />
              )}
            </fieldset>
          </div>
          <div className="jp-Artifacts-formColumn">
            <fieldset className="jp-Artifacts-fieldset">
              <legend>Inputs</legend>
              <SelectField
                form={form}
                name="model"
                label="Model"
                options={[['', '(none)'], ...pairs(modelChoices.mine), ...pairs(modelChoices.fromJobs)]}
              />
              <ReferencePicker
                form={form}
                name="checkpoints"
                label="Checkpoints"
                mine={value.publicCheckpoints ? publicChoices : checkpointChoices.mine}
                fromJobs={value.publicCheckpoints ? [] : checkpointChoices.fromJobs}
                empty={value.publicCheckpoints ? 'The public checkpoint catalog is not available.' : 'No ready checkpoints yet.'}
              />
              <label className="jp-Artifacts-checkbox">
                <input
                  type="checkbox"
                  name="publicCheckpoints"
                  checked={value.publicCheckpoints}
                  onChange={event => set({ publicCheckpoints: event.target.checked, checkpoints: [] })}
                />
                From the public checkpoint catalog instead
              </label>
              <ReferencePicker
                form={form}
                name="data"
                label="Datasets"
                mine={datasetChoices.mine}
                fromJobs={datasetChoices.fromJobs}
                empty="No ready datasets yet."
              />
              <TextField form={form} name="manifest" label="Data manifest" hint="Optional: a manifest file in the Jupyter root folder, or a URL" />
            </fieldset>
            <Field
              label="Hyperparameters"
              name="params"
              error={errors.params}
              hint='JSON, e.g. {"lr": 0.01, "degree": [3, 4]}: list values form a grid, one worker per combination.'

            >
              <textarea
                className="jp-mod-styled"
                name="params"
                rows={3}
                spellCheck={false}
                value={value.params}
                onChange={event => set({ params: event.target.value })}
              />
            </Field>
            <div className="jp-Artifacts-workerCount" data-workers={grid.error ? undefined : grid.workers} aria-live="polite">
              {grid.error ? !errors.params && <span className="jp-Artifacts-fieldError">{grid.error}</span> : gridText(grid)}
            </div>
          </div>
        </div>
      );
    }
  });
}

/** Launch a job (the New job button and command, or Run again with a job's form), then open it. */
export async function openNewJob(model: PanelModel, defaults: Partial<IJobForm> = {}): Promise<void> {
  const job = await newJobDialog(model.client, defaults);
  if (job) {
    Notification.success(`Launched job ${job.name}.`, { autoClose: 4000 });
    model.openJob(job.id);
  }
}
