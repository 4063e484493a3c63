import { Notification } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';

import { ApiError } from '../api/request';

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

/** Show an error from the server as a JupyterLab notification. */
export function notifyError(error: unknown, prefix = ''): void {
  const message = errorMessage(error);
  Notification.error(prefix ? `${prefix}: ${message}` : message, { autoClose: 8000 });
}
