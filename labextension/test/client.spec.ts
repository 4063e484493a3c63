import { ArtifactsClient } from '../src/api/client';
import type { Artifact } from '../src/api/types';
import { PAGE_SIZE } from '../src/model/artifacts';
import { fakeServer, json } from './server';

function artifact(patch: Partial<Artifact>): Artifact {
  return {
    id: '0'.repeat(32),
    kind: 'checkpoint',
    name: 'run',
    version: 1,
    reference: 'run:v1',
    aliases: [],
    state: 'ready',
    size: 0,
    file_count: 0,
    created_at: 0,
    ...patch
  };
}

describe('ArtifactsClient', () => {
  function client(answers: Record<string, unknown>) {
    const { settings, calls } = fakeServer(call => json(answers[call.path] ?? {}), 'http://h/base/');
    return { api: new ArtifactsClient(settings), calls };
  }

  it('lists a page of one kind with the filter', async () => {
    const { api, calls } = client({ artifacts: { artifacts: [artifact({})], total: 9000, next_offset: 50 } });
    const page = await api.listArtifacts({ kind: 'model', q: ' res ', offset: 50, limit: PAGE_SIZE });
    expect(page.total).toBe(9000);
    expect(`${calls[0].method} ${calls[0].url}`).toMatch(/^GET http:\/\/h\/base\/jupyter-artifacts\/api\/artifacts\?kind=model&q=res&limit=50&offset=50/);
  });

  it('addresses an artifact by its encoded reference', async () => {
    const { api, calls } = client({});
    await api.deleteArtifact('my run:v2', 'checkpoint');
    expect(`${calls[0].method} ${calls[0].url}`).toMatch(/^DELETE http:\/\/h\/base\/jupyter-artifacts\/api\/artifacts\/my%20run%3Av2\?kind=checkpoint(&\d+)?$/);
    expect(api.fileUrl('a:v1', 'sub/w.bin')).toBe('http://h/base/jupyter-artifacts/api/artifacts/a%3Av1/files/sub/w.bin');
  });

  it('downloads a lone file as itself and anything more as one archive', () => {
    const { api } = client({});
    const net = (patch: Partial<Artifact>) =>
      artifact({ kind: 'model', name: 'my net', version: 2, reference: 'my net:v2', ...patch });
    const base = 'http://h/base/jupyter-artifacts/api/artifacts/my%20net%3Av2';
    expect(api.download(net({ file_count: 1 }), [{ path: 'sub/w.bin', size: 3, mode: 0o644 }])).toEqual({
      url: `${base}/files/sub/w.bin?kind=model`,
      filename: 'w.bin'
    });
    const many = Array.from({ length: 200 }, (_, i) => ({ path: `f${i}.bin`, size: 1, mode: 0o644 }));
    expect(api.download(net({ file_count: 5000 }), many)).toEqual({
      url: `${base}/archive?kind=model`,
      filename: 'my net-v2.tar'
    });
    // A lone link is not a file of its own: the archive keeps it as a link.
    expect(api.download(net({ file_count: 1 }), [{ path: 'latest', link: 'w.bin', mode: 0o777 }])?.url).toBe(`${base}/archive?kind=model`);
    expect(api.download(net({ file_count: 0 }), [])).toBeNull();
  });

  it('reads the GPU inventory and a page of jobs as the server sends them', async () => {
    const device = { index: 1, name: 'A100', uuid: null, memory_total: 8e10, memory_used: null, free: true, holder: null };
    const job = { id: 'j', name: 'n', type: 'training', state: 'queued', workers: [] };
    const { api, calls } = client({
      gpus: { source: 'fake', count: 2, devices: [{ ...device, index: 0 }, device], queue: [] },
      jobs: { jobs: [job], limit: 100, offset: 0, next_offset: null }
    });
    const inventory = await api.gpus();
    expect(inventory.count).toBe(2);
    expect(inventory.devices.map(g => g.index)).toEqual([0, 1]);
    expect(await api.jobs()).toEqual([job]);
    expect(calls[1].url).toMatch(/\/jobs\?limit=100&offset=0/);
  });

  it('submits a job and returns the job the server made (201)', async () => {
    const job = { id: 'j2', name: 'train', type: 'training', state: 'queued', workers: [{ index: 0, state: 'queued' }] };
    const { settings, calls } = fakeServer(() => json(job, 201), 'http://h/base/');
    const submitted = await new ArtifactsClient(settings).submitJob({ type: 'training', name: 'train', command: 'true' });
    expect(submitted).toEqual(job);
    expect(JSON.parse(calls[0].body)).toEqual({ type: 'training', name: 'train', command: 'true' });
  });

  it("follows a worker's log from the offset the server gave", async () => {
    const { api, calls } = client({
      'jobs/j/logs': { text: 'héllo\n', offset: 7, worker: 0, state: 'running', finished: false }
    });
    const first = await api.logs('j', 0, 0);
    expect(first).toMatchObject({ text: 'héllo\n', offset: 7, finished: false });
    await api.logs('j', 0, first.offset);
    expect(calls.map(c => new URL(c.url).search.replace(/&\d+$/, ''))).toEqual(['?worker=0&offset=0', '?worker=0&offset=7']);
  });
});
