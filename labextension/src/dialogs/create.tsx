import * as React from 'react';

import type { ArtifactsClient } from '../api/client';
import { KINDS } from '../api/types';
import type { ArtifactKind, Operation, PublicCheckpoint } from '../api/types';
import { isKind, PanelModel } from '../model/panel';
import { createRequest, ICreateForm, KAGGLE_TYPES, SOURCE_TYPES, validateCreateForm } from './createForm';
import { SelectField } from './fields/SelectField';
import { TextField } from './fields/TextField';
import { showForm } from './form';
import { defaultSaveName } from './saveForm';
import { FormErrors } from './validation';

const KIND_LABELS: Record<ArtifactKind, string> = {
  model: 'Model',
  checkpoint: 'Checkpoint',
  dataset: 'Dataset'
};

/** Asks for a folder of the Jupyter root folder (the file browser's folder dialog); null when cancelled. */
export type ChooseFolder = () => Promise<string | null>;

/** The Create dialog: the operation the server started, or null when cancelled. `chooseFolder` adds
 * Choose a folder… to a local path. */
export async function createDialog(
  client: ArtifactsClient,
  kind: ArtifactKind,
  chooseFolder?: ChooseFolder
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
    actions: chooseFolder && {
      chooseFolder: async form => {
        const path = await chooseFolder();
        return path === null ? form : { ...form, path, name: form.name || defaultSaveName({ path, type: 'directory', name: path }) };
      }
    },
    render: form => {
      const type = SOURCE_TYPES.find(t => t.value === form.value.sourceType) ?? SOURCE_TYPES[0];
      return (
        <div className="jp-Artifacts-createForm">
          <SelectField form={form} name="kind" label="Kind" options={KINDS.map(k => [k, KIND_LABELS[k]])} />
          {type.value !== 'public' && <TextField form={form} name="name" label="Name" hint="e.g. resnet-cifar; saving a name again makes its next version" />}
          <SelectField
            form={form}
            name="sourceType"
            label="Source Type"
            options={SOURCE_TYPES.map(t => [t.value, t.label])}
            patch={sourceType => ({ sourceType, path: '' })}
          />
          {type.value === 'public' ? (
            <SelectField
              form={form}
              name="path"
              label="Checkpoint"
              hint={publicMessage || type.hint}
              options={[
                ['', publicCheckpoints.length ? 'Choose…' : 'None available'],
                ...publicCheckpoints.map(c => [c.id, `${c.title} (${c.id})`] as [string, string])
              ]}
            />
          ) : (
            <div className="jp-Artifacts-pathRow">
              <TextField form={form} name="path" label="Path" hint={type.hint} />
              {type.value === 'local' && chooseFolder && (
                <button type="button" className="jp-Button jp-mod-styled jp-Artifacts-chooseFolder" onClick={() => form.act('chooseFolder')}>
                  Choose a folder…
                </button>
              )}
            </div>
          )}
          {type.fields.includes('endpoint') && (
            <TextField
              form={form}
              name="endpoint"
              label="Endpoint"
              hint="https://s3.REGION.wasabisys.com, e.g. https://s3.eu-central-1.wasabisys.com"
            />
          )}
          {type.fields.includes('branch') && (
            <TextField
              form={form}
              name="branch"
              label="Branch"
              hint="Optional; the default branch when empty"
            />
          )}
          {type.fields.includes('kaggle_type') && (
            <SelectField
              form={form}
              name="kaggleType"
              label="Type"
              options={KAGGLE_TYPES.map(t => [t, t.charAt(0).toUpperCase() + t.slice(1)])}
            />
          )}
        </div>
      );
    }
  });
}

/** Create an artifact of the kind shown (the Create button and command), then follow its progress. */
export async function openCreate(model: PanelModel): Promise<void> {
  const op = await createDialog(model.client, isKind(model.tab) ? model.tab : 'checkpoint', model.chooseFolder);
  if (op) {
    model.operations.track(op);
  }
}
