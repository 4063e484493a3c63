import { ServerConnection } from '@jupyterlab/services';

import { ApiError, apiUrl, encodePath, requestAPI } from '../src/api/request';
import { fakeServer, json } from './server';

describe('apiUrl', () => {
  it('joins the base URL, the namespace and the endpoint', () => {
    const { settings } = fakeServer(() => json({}));
    expect(apiUrl('artifacts', {}, settings)).toBe(
      'http://localhost:8888/lab-base/jupyter-artifacts/api/artifacts'
    );
  });

  it('works with the root base URL', () => {
    const { settings } = fakeServer(() => json({}), 'http://localhost:8888/');
    expect(apiUrl('status', {}, settings)).toBe('http://localhost:8888/jupyter-artifacts/api/status');
  });

  it('encodes the query and leaves out empty values', () => {
    const { settings } = fakeServer(() => json({}));
    const url = apiUrl('artifacts', { kind: 'model', q: 'a b&c', name: '', limit: 50, offset: undefined }, settings);
    expect(url).toBe('http://localhost:8888/lab-base/jupyter-artifacts/api/artifacts?kind=model&q=a%20b%26c&limit=50');
  });
});

describe('encodePath', () => {
  it('keeps slashes between segments and encodes the rest', () => {
    expect(encodePath('my model:v1')).toBe('my%20model%3Av1');
    expect(encodePath('a:v1', 'dir/file #1.txt')).toBe('a%3Av1/dir/file%20%231.txt');
  });
});

describe('requestAPI', () => {
  it('returns the decoded JSON of a 200', async () => {
    const { settings, calls } = fakeServer(() => json({ artifacts: [], total: 0 }));
    const data = await requestAPI<{ total: number }>('artifacts', { query: { kind: 'model' } }, settings);
    expect(data.total).toBe(0);
    expect(calls).toHaveLength(1);
    // GETs get a cache-busting number from ServerConnection.
    expect(calls[0].url).toMatch(/^http:\/\/localhost:8888\/lab-base\/jupyter-artifacts\/api\/artifacts\?kind=model(&\d+)?$/);
    expect(calls[0].init.method).toBe('GET');
  });

  it('sends the token and a JSON body', async () => {
    const { settings, calls } = fakeServer(() => json({ id: 'op1', state: 'queued' }, 202));
    const op = await requestAPI<{ id: string }>('snapshots', { method: 'POST', json: { name: 'x' } }, settings);
    expect(op.id).toBe('op1');
    const headers = calls[0].init.headers as Headers;
    expect(headers.get('Authorization')).toBe('token secret-token');
    expect(calls[0].body).toBe('{"name":"x"}');
    expect(calls[0].init.method).toBe('POST');
  });

  it('returns an empty object for an empty answer', async () => {
    const { settings } = fakeServer(() => new Response('', { status: 200 }));
    expect(await requestAPI('artifacts/x', { method: 'DELETE' }, settings)).toEqual({});
  });

  it("throws the server's message and body on an error", async () => {
    const { settings } = fakeServer(() =>
      json({ message: 'Checkpoint a:v1 is in use by job train (worker 0); stop or detach it first.', holders: ['job train (worker 0)'] }, 409)
    );
    const error = await requestAPI('artifacts/a:v1', { method: 'DELETE' }, settings).catch(e => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(409);
    expect(error.message).toMatch(/in use by job train/);
    expect(error.holders).toEqual(['job train (worker 0)']);
  });

  it('uses the reason of a Jupyter server error', async () => {
    const { settings } = fakeServer(() => json({ reason: 'Forbidden', message: '' }, 403));
    const error = await requestAPI('status', {}, settings).catch(e => e);
    expect(error.message).toBe('Forbidden');
  });

  it('describes an HTML or empty error answer by its status', async () => {
    const { settings } = fakeServer(() => new Response('<html>oops</html>', { status: 502, statusText: 'Bad Gateway' }));
    const error = await requestAPI('status', {}, settings).catch(e => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toBe('The server answered 502 Bad Gateway.');
    expect(error.holders).toEqual([]);
  });

  it('turns a failed fetch into a NetworkError', async () => {
    const { settings } = fakeServer(() => {
      throw new TypeError('Failed to fetch');
    });
    const error = await requestAPI('status', {}, settings).catch(e => e);
    expect(error).toBeInstanceOf(ServerConnection.NetworkError);
  });
});
