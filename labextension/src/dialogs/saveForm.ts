/** The Save to dialog's form and the POST snapshots body it sends. */
import type { Snapshot } from '../api/types';
import { FormErrors, validateName } from './validation';

export interface ISaveForm {
  kind: Snapshot['kind'];
  folder: Snapshot['folder'];
  name: string;
}

export function validateSaveForm(form: ISaveForm): FormErrors {
  const errors: FormErrors = {};
  const nameError = validateName(form.name);
  if (nameError) {
    errors.name = nameError;
  }
  if (!['model', 'checkpoint'].includes(form.kind)) {
    errors.kind = 'Choose Checkpoint or Model.';
  }
  if (!['models', 'output'].includes(form.folder)) {
    errors.folder = 'Choose models or output.';
  }
  return errors;
}

/** The POST snapshots body for a file browser item (a notebook or a folder). */
export function snapshotRequest(item: { path: string; type: string }, form: ISaveForm): Snapshot {
  const target = item.type === 'directory' ? { dir: item.path || '.' } : { notebook: item.path };
  return { ...target, folder: form.folder, kind: form.kind, name: form.name };
}

/** A default name for a save: the notebook's or folder's name without extension. */
export function defaultSaveName(path: string): string {
  const base = path.split('/').filter(Boolean).pop() ?? '';
  const stem = base.replace(/\.ipynb$/i, '');
  const cleaned = stem.replace(/[^A-Za-z0-9._ -]+/g, '-').replace(/^[^A-Za-z0-9]+|[ ]+$/g, '');
  return cleaned || 'snapshot';
}
