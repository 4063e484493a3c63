import * as React from 'react';

import type { ArtifactsClient } from '../api/client';
import type { Operation } from '../api/types';
import { SelectField } from './fields/SelectField';
import { TextField } from './fields/TextField';
import { showForm } from './form';
import { defaultSaveName, ISaveForm, snapshotRequest, validateSaveForm } from './saveForm';

/** The Save to dialog of a file browser item: the operation started and the kind saved, or null. */
export async function saveToDialog(
  client: ArtifactsClient,
  item: { path: string; type: string; name: string }
): Promise<{ op: Operation; kind: ISaveForm['kind'] } | null> {
  const initial: ISaveForm = {
    kind: 'checkpoint',
    folder: 'models',
    name: defaultSaveName(item.path || item.name)
  };
  return showForm<ISaveForm, { op: Operation; kind: ISaveForm['kind'] }>({
    title: `Save to the artifact store (from ${item.name || item.path || 'the root folder'})`,
    okLabel: 'Save',
    initial,
    validate: validateSaveForm,
    submit: form => client.snapshot(snapshotRequest(item, form)).then(op => ({ op, kind: form.kind })),
    render: form => (
      <div className="jp-Artifacts-saveForm">
        <SelectField
          form={form}
          name="kind"
          label="Type"
          options={[
            ['checkpoint', 'Checkpoint'],
            ['model', 'Model']
          ]}
        />
        <SelectField
          form={form}
          name="folder"
          label="Save Directory"
          hint={`Saves the ${form.value.folder}/ folder ${item.type === 'directory' ? 'inside this folder' : 'next to the notebook'}`}
          options={[
            ['models', 'models'],
            ['output', 'output']
          ]}
        />
        <TextField form={form} name="name" label="New Name" />
      </div>
    )
  });
}
