/** The Save to dialog's form and the POST snapshots body it sends. */
import type { Snapshot } from '../api/types';
import { FormErrors, validateName } from './validation';

/** A file browser item: a notebook, or a folder. */
export interface ISaveItem {
  path: string;
  type: string;
  name: string;
}

export interface ISaveForm {
  kind: Snapshot['kind'];
  /** For a notebook: models or output, the folder next to it; '' for a folder (saved itself). */
  folder: string;
  name: string;
}

/** The folders a notebook's Save to can save: models/ and output/ next to it. */
export const SAVE_FOLDERS = ['models', 'output'];

export function validateSaveForm(item: ISaveItem, form: ISaveForm, present: string[]): FormErrors {
  const errors: FormErrors = {};
  const nameError = validateName(form.name);
  if (nameError) {
    errors.name = nameError;
  }
  if (!['model', 'checkpoint'].includes(form.kind)) {
    errors.kind = 'Choose Checkpoint or Model.';
  }
  if (item.type !== 'directory' && !present.includes(form.folder)) {
    errors.folder = present.length
      ? 'Choose models or output.'
      : `There is no models/ or output/ folder next to ${item.name}. Save your files in one, or right-click ` +
        'the folder you want to save and choose Save to.';
  }
  return errors;
}

/** The POST snapshots body: a folder is saved itself, a notebook's models/ or output/ folder next to it. */
export function snapshotRequest(item: ISaveItem, form: ISaveForm): Snapshot {
  if (item.type === 'directory') {
    return { dir: item.path, kind: form.kind, name: form.name };
  }
  return { notebook: item.path, folder: form.folder as Snapshot['folder'], kind: form.kind, name: form.name };
}

/** A default name for a save: the notebook's name without extension, or the folder's name (its
 * parent's for a models/ or output/ folder, which says less). */
export function defaultSaveName(item: ISaveItem): string {
  const parts = (item.path || item.name).split('/').filter(Boolean);
  let base = parts.pop() ?? '';
  if (item.type === 'directory' && SAVE_FOLDERS.includes(base) && parts.length) {
    base = parts.pop()!;
  }
  const stem = base.replace(/\.ipynb$/i, '');
  const cleaned = stem.replace(/[^A-Za-z0-9._ -]+/g, '-').replace(/^[^A-Za-z0-9]+|[ ]+$/g, '');
  return cleaned || 'snapshot';
}
