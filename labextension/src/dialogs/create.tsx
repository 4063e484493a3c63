import * as React from 'react';

import type { ArtifactsClient } from '../api/client';
import { KINDS } from '../api/types';
import type { ArtifactKind, Operation, PublicCheckpoint } from '../api/types';
import { isKind, PanelModel } from '../model/panel';
import { createRequest, ICreateForm, KAGGLE_TYPES, SOURCE_TYPES, validateCreateForm } from './createForm';
import { Field } from './fields/Field';
import { Select } from './fields/Select';
import { TextInput } from './fields/TextInput';
import { showForm } from './form';
import { FormErrors } from './validation';

const KIND_LABELS: Record<ArtifactKind, string> = {
  model: 'Model',
  checkpoint: 'Checkpoint',
  dataset: 'Dataset'
};

/** The Create dialog: the operation the server started, or null when cancelled. */
export async function createDialog(
  client: ArtifactsClient,
  kind: ArtifactKind
): Promise<Operation | null> {
  let publicCheckpoints: PublicCheckpoint[] = [];
  let publicMessage = '';
  try {
    publicCheckpoints = (await client.publicCheckpoints()).checkpoints ?? [];
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
  return showForm<ICreateForm, Operation>({
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
                  ...publicCheckpoints.map(c => [c.id, `${c.title} (${c.id})`] as [string, string])
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

/** Create an artifact of the kind shown (the Create button and command), then follow its progress. */
export async function openCreate(model: PanelModel): Promise<void> {
  const op = await createDialog(model.client, isKind(model.tab) ? model.tab : 'checkpoint');
  if (op) {
    model.operations.track(op);
  }
}
