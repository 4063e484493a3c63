import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { ErrorBody } from './types';

/** The prefix of every route of the server extension, after the server's base URL. */
export const API_NAMESPACE = 'jupyter-artifacts/api';

/**
 * An error answered by the server: its HTTP status, its `message` and the rest of
 * its JSON body (for example `holders` on a refused delete).
 */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: Partial<ErrorBody> = {}
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Who holds the artifact, on a 409 answer to a delete. */
  get holders(): string[] {
    return this.body.holders ?? [];
  }
}

/** Query parameters: undefined, null and empty strings are left out. */
export type Query = Record<string, string | number | boolean | null | undefined>;

/** The URL of an API endpoint, under the server's base URL, with its query string. */
export function apiUrl(
  endPoint: string,
  query: Query = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);
  const params: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') {
      continue;
    }
    params.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  return params.length ? `${url}?${params.join('&')}` : url;
}

/** Encode each segment of a path (a reference such as `name:v1` or a file path). */
export function encodePath(...segments: string[]): string {
  return segments
    .map(segment => segment.split('/').map(encodeURIComponent).join('/'))
    .join('/');
}

/** The server's `message`, or the `reason` of an error from the Jupyter server itself (403 ...). */
function messageOf(status: number, statusText: string, body: unknown): string {
  if (body && typeof body === 'object') {
    const data = body as Record<string, unknown>;
    for (const key of ['message', 'reason']) {
      if (typeof data[key] === 'string' && data[key]) {
        return data[key] as string;
      }
    }
  }
  if (typeof body === 'string' && body.trim() && !body.trim().startsWith('<')) {
    return body.trim();
  }
  return `The server answered ${status}${statusText ? ` ${statusText}` : ''}.`;
}

/** `fetch` options, plus a query string and a JSON body. */
export interface RequestOptions extends RequestInit {
  query?: Query;
  json?: unknown;
}

/**
 * Call the REST API of the extension and return the decoded JSON body.
 *
 * Errors carry the server's message: `ApiError` for an answer that is not 2xx,
 * `ServerConnection.NetworkError` when the server cannot be reached.
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestOptions = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const { query, json, ...request } = init;
  const url = apiUrl(endPoint, query, settings);
  if (json !== undefined) {
    request.body = JSON.stringify(json);
  }
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, request, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const text = await response.text();
  let data: unknown = text;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const body = data && typeof data === 'object' ? (data as Partial<ErrorBody>) : {};
    throw new ApiError(
      messageOf(response.status, response.statusText, data),
      response.status,
      body
    );
  }
  return (text.length > 0 ? data : {}) as T;
}
