import { InputDialog, Notification } from '@jupyterlab/apputils';

import type { Artifact } from '../api/types';
import type { PanelModel } from '../model/panel';
import { notifyError } from '../model/notify';
import { validateAlias } from './validation';

/** Ask for an alias until it is valid, point it at the artifact, and show the artifact again. */
export async function addAlias(model: PanelModel, a: Artifact): Promise<void> {
  let alias = '';
  for (;;) {
    const result = await InputDialog.getText({
      title: `Add an alias to ${a.reference}`,
      label: (alias && validateAlias(alias)) || 'Alias (e.g. best, production)',
      text: alias,
      okLabel: 'Add'
    });
    if (!result.button.accept || !result.value) {
      return;
    }
    alias = result.value.trim();
    if (!validateAlias(alias)) {
      break;
    }
  }
  try {
    await model.client.addAlias(a.reference, alias, a.kind);
    Notification.success(`${a.name}:${alias} now points to ${a.reference}.`, { autoClose: 4000 });
    model.details.select(a.reference);
  } catch (error) {
    notifyError(error, `Cannot add the alias ${alias}`);
  }
}
