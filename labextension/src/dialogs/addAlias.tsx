import { Notification } from '@jupyterlab/apputils';
import * as React from 'react';

import type { Artifact } from '../api/types';
import type { ArtifactDetailsModel } from '../model/details';
import type { PanelModel } from '../model/panel';
import { TextField } from './fields/TextField';
import { showForm } from './form';
import { FormErrors, validateAlias } from './validation';

interface IAliasForm {
  alias: string;
}

/** Where each alias of a name points now (alias -> version), from every version of the name. */
export async function aliasTargets(model: PanelModel, a: Artifact): Promise<Map<string, number>> {
  const targets = new Map<string, number>();
  try {
    const page = await model.client.listArtifacts({ kind: a.kind, name: a.name, limit: 1000 });
    for (const version of page.artifacts) {
      (version.aliases ?? []).forEach(alias => targets.set(alias, version.version));
    }
  } catch {
    // the dialog still works; it only cannot say that an alias moves
  }
  return targets;
}

/** Ask for an alias (saying when it moves from another version), point it at the artifact, and say so. */
export async function addAlias(model: PanelModel, details: ArtifactDetailsModel, a: Artifact): Promise<void> {
  const targets = await aliasTargets(model, a);
  const moves = (alias: string) => {
    const from = targets.get(alias.trim());
    return from !== undefined && from !== a.version ? from : null;
  };
  const validate = (form: IAliasForm): FormErrors => {
    const error = validateAlias(form.alias.trim());
    return error ? { alias: error } : {};
  };
  const added = await showForm<IAliasForm, string>({
    title: `Add an alias to ${a.reference}`,
    okLabel: 'Add',
    initial: { alias: '' },
    validate,
    submit: form => model.client.addAlias(a.reference, form.alias.trim(), a.kind).then(() => form.alias.trim()),
    render: form => {
      const from = moves(form.value.alias);
      const existing = [...targets].map(([alias, version]) => `${alias} → v${version}`).join(', ');
      return (
        <div className="jp-Artifacts-aliasForm">
          <TextField
            form={form}
            name="alias"
            label="Alias"
            hint={
              from !== null
                ? `${a.name}:${form.value.alias.trim()} points to v${from} now; adding it here moves it to v${a.version}.`
                : `A name for this version, such as best or production.${existing ? ` Aliases of ${a.name}: ${existing}.` : ''}`
            }
          />
        </div>
      );
    }
  });
  if (added === null) {
    return;
  }
  const from = moves(added);
  Notification.success(
    from !== null
      ? `Moved ${a.name}:${added} from v${from} to v${a.version}.`
      : `${a.name}:${added} now points to ${a.reference}.`,
    { autoClose: 5000 }
  );
  details.select(a.reference);
}
