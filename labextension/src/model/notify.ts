import { Notification, showErrorMessage } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';

import { ApiError } from '../api/request';
import type { Job } from '../api/types';

/** The longest message a toast shows whole (JupyterLab cuts toasts at 140 characters). */
export const TOAST_LENGTH = 120;
/** How long an error stays on screen, in milliseconds (it stays in the notification centre). */
export const ERROR_SHOWN = 8000;

/** The text of any error, with the server's message when it sent one. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    return error.message;
  }
  if (error instanceof ServerConnection.NetworkError) {
    return `Cannot reach the Jupyter server: ${error.message}`;
  }
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}

/** A message short enough for a toast: cut at a word, with "…", when longer. */
export function toastText(message: string): string {
  if (message.length <= TOAST_LENGTH) {
    return message;
  }
  return `${message.slice(0, TOAST_LENGTH).replace(/\s+\S*$/, '')}…`;
}

/** Show an error as a notification that goes after a while; a long one offers Details with all of it. */
export function notifyError(error: unknown, prefix = ''): void {
  const message = errorMessage(error);
  const full = prefix ? `${prefix}: ${message}` : message;
  const short = toastText(full);
  Notification.error(short, {
    autoClose: ERROR_SHOWN,
    actions:
      short === full
        ? []
        : [{ label: 'Details', caption: 'Show the whole message', callback: () => void showErrorMessage(prefix || 'Artifacts', full) }]
  });
}

/** Say that a job ended, how, and offer to open it: finished is a success, failed an error, stopped neither. */
export function notifyJobEnded(job: Job, open: () => void): void {
  const actions = [{ label: 'Open job', caption: `Open job ${job.name}`, callback: open }];
  if (job.state === 'failed') {
    const why = job.error ? `: ${job.error}` : '.';
    Notification.error(toastText(`Job ${job.name} failed${why}`), { autoClose: ERROR_SHOWN, actions });
  } else if (job.state === 'stopped') {
    Notification.info(`Job ${job.name} stopped.`, { autoClose: 6000, actions });
  } else {
    Notification.success(`Job ${job.name} finished.`, { autoClose: 8000, actions });
  }
}
