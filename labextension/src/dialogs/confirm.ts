import { Dialog, showDialog } from '@jupyterlab/apputils';

import type { Artifact, Job } from '../api/types';
import { formatSize } from '../format';
import type { ArtifactDetailsModel } from '../model/details';
import type { JobViewModel } from '../model/jobView';

/** Ask before something that cannot be undone; true when the user said `action`. */
async function confirm(title: string, body: string, action: string): Promise<boolean> {
  const result = await showDialog({
    title,
    body,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: action })]
  });
  return result.button.accept;
}

/** Delete an artifact once the user has read what is lost. */
export async function confirmDelete(details: ArtifactDetailsModel, a: Artifact): Promise<void> {
  const aliases = a.aliases?.length ? ` and its aliases ${a.aliases.join(', ')}` : '';
  const body =
    `This deletes ${a.reference} (${formatSize(a.size)}, ${a.file_count} files)${aliases}. ` +
    'Its files are removed from the store unless another artifact has the same content. ' +
    'This cannot be undone.';
  if (await confirm(`Delete ${a.kind} ${a.reference}?`, body, 'Delete')) {
    await details.delete(a);
  }
}

/** Stop a job once the user has confirmed. */
export async function confirmStop(view: JobViewModel, job: Job): Promise<void> {
  const body = 'Each worker is asked to stop, then killed after its grace period.';
  if (await confirm(`Stop job ${job.name}?`, body, 'Stop')) {
    await view.stop();
  }
}

/** Delete an ended job once the user has confirmed; true once deleted. */
export async function confirmDeleteJob(view: JobViewModel, job: Job): Promise<boolean> {
  const made = (job.workers ?? []).filter(w => w.output).length;
  const body =
    `This forgets job ${job.name}: its record, its workers' logs and metrics. ` +
    (made ? `The ${made === 1 ? 'artifact' : `${made} artifacts`} it made stay in the store. ` : '') +
    'This cannot be undone.';
  return (await confirm(`Delete job ${job.name}?`, body, 'Delete job')) && view.delete();
}
