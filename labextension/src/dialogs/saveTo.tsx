import * as React from 'react';

import type { ArtifactsClient } from '../api/client';
import type { Operation } from '../api/types';
import { Field } from './fields/Field';
import { Select } from './fields/Select';
import { TextInput } from './fields/TextInput';
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
