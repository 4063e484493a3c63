import { ServerConnection } from '@jupyterlab/services';

/** One request: `path` is the decoded path under the API prefix (`artifacts/a:v1/files`). */
export type Call = { method: string; url: string; path: string; init: RequestInit; body: string };

/**
 * Server settings whose fetch answers from a function and records the calls: the tests fake the
 * Jupyter server at the network boundary, with real Request and Response objects.
 */
export function fakeServer(
  answer: (call: Call) => Response | Promise<Response>,
  baseUrl = 'http://localhost:8888/lab-base/'
): { settings: ServerConnection.ISettings; calls: Call[] } {
  const calls: Call[] = [];
  const prefix = `${new URL(baseUrl).pathname}jupyter-artifacts/api/`;
  const settings = ServerConnection.makeSettings({
    baseUrl,
    wsUrl: baseUrl.replace('http', 'ws'),
    token: 'secret-token',
    appendToken: false,
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = input instanceof Request ? input : new Request(String(input), init);
      const body = await request.clone().text();
      const path = decodeURIComponent(new URL(request.url).pathname.replace(prefix, ''));
      const call = {
        method: request.method,
        url: request.url,
        path,
        body,
        init: { ...init, method: request.method, headers: request.headers }
      };
      calls.push(call);
      return answer(call);
    },
    Request,
    Headers
  });
  return { settings, calls };
}

export function json(data: unknown, status = 200): Response {
  return new Response(JSON.stringify(data), { status, headers: { 'Content-Type': 'application/json' } });
}
