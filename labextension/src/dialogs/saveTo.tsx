import * as React from 'react';

import type { ArtifactsClient } from '../api/client';
import type { Operation } from '../api/types';
import { SelectField } from './fields/SelectField';
import { TextField } from './fields/TextField';
import { showForm } from './form';
import { defaultSaveName, ISaveForm, ISaveItem, snapshotRequest, validateSaveForm } from './saveForm';

/**
 * The Save to dialog of a file browser item: a folder is saved itself; a notebook offers the models/
 * and output/ folders next to it (`present`: those that exist). The operation started and the kind
 * saved, or null when cancelled.
 */
export async function saveToDialog(
  client: ArtifactsClient,
  item: ISaveItem,
  present: string[]
): Promise<{ op: Operation; kind: ISaveForm['kind'] } | null> {
  const folder = item.type === 'directory';
  const initial: ISaveForm = { kind: 'checkpoint', folder: folder ? '' : present[0] ?? '', name: defaultSaveName(item) };
  return showForm<ISaveForm, { op: Operation; kind: ISaveForm['kind'] }>({
    title: folder ? `Save the folder ${item.path || item.name}/` : `Save a folder of ${item.name}`,
    okLabel: 'Save',
    initial,
    validate: form => validateSaveForm(item, form, present),
    submit: form => client.snapshot(snapshotRequest(item, form)).then(op => ({ op, kind: form.kind })),
    render: form => (
      <div className="jp-Artifacts-saveForm">
        <SelectField
          form={form}
          name="kind"
          label="Save as"
          options={[
            ['checkpoint', 'Checkpoint'],
            ['model', 'Model']
          ]}
        />
        {!folder && (
          <SelectField
            form={form}
            name="folder"
            label="Folder"
            hint={
              present.length
                ? `The folder next to ${item.name} whose files are saved`
                : undefined
            }
            options={present.length ? present.map(f => [f, `${f}/`] as [string, string]) : [['', 'No models/ or output/ folder']]}
          />
        )}
        {folder && <p className="jp-Artifacts-hint">Every file in {item.path || item.name}/ is saved, as one new version.</p>}
        <TextField form={form} name="name" label="Name" hint="Saving under a name used before makes its next version." />
      </div>
    )
  });
}
