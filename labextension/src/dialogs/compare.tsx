import * as React from 'react';

import type { Artifact } from '../api/types';
import type { PanelModel } from '../model/panel';
import { SelectField } from './fields/SelectField';
import { TextField } from './fields/TextField';
import { showForm } from './form';
import { FormErrors } from './validation';

interface ICompareForm {
  version: string;
  other: string;
}

/** The two references in the order a comparison reads them: the older version first. */
export function comparisonOrder(a: Artifact, other: string, versions: Artifact[]): [string, string] {
  const found = versions.find(v => v.reference === other);
  return found && found.version > a.version ? [a.reference, other] : found ? [other, a.reference] : [a.reference, other];
}

/** Choose what to compare an artifact with (another version of its name, or any reference), then open the comparison. */
export async function chooseComparison(model: PanelModel, a: Artifact): Promise<void> {
  let versions: Artifact[] = [];
  try {
    versions = (await model.client.listArtifacts({ kind: a.kind, name: a.name, state: 'ready', limit: 1000 })).artifacts;
  } catch {
    versions = [];
  }
  const others = versions.filter(v => v.id !== a.id);
  const previous = others.filter(v => v.version < a.version)[0] ?? others[others.length - 1];
  const validate = (form: ICompareForm): FormErrors =>
    form.other.trim() || form.version ? {} : { other: `Choose another version of ${a.name}, or give a reference.` };
  const chosen = await showForm<ICompareForm, string>({
    title: `Compare ${a.reference} with…`,
    okLabel: 'Compare',
    initial: { version: previous?.reference ?? '', other: '' },
    validate,
    submit: async form => form.other.trim() || form.version,
    render: form => (
      <div className="jp-Artifacts-compareForm">
        <SelectField
          form={form}
          name="version"
          label={`Another version of ${a.name}`}
          options={[['', others.length ? '(none)' : 'There is no other version'], ...others.map(v => [v.reference, v.reference] as [string, string])]}
        />
        <TextField form={form} name="other" label="Or any reference" hint="e.g. other-model:v3 or other-model:best; used instead when given" />
      </div>
    )
  });
  if (chosen) {
    const [first, second] = comparisonOrder(a, chosen, versions);
    model.openCompare(first, second, a.kind);
  }
}
