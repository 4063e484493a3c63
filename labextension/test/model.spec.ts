import { Notification } from '@jupyterlab/apputils';

import { ArtifactsClient } from '../src/api/client';
import type { Artifact, Job, Operation } from '../src/api/types';
import { jobDuration, jobGpus, JobsModel } from '../src/model/jobs';
import { ERROR_SHOWN } from '../src/model/notify';
import { PanelModel } from '../src/model/panel';
import { Call, fakeServer, json } from './server';

/** The notifications shown since the test began, as "type: message". */
function notifications(): string[] {
  const shown: string[] = [];
  Notification.manager.changed.connect((_, change) => {
    if (change.type === 'added') {
      shown.push(`${change.notification.type}: ${change.notification.message}`);
    }
  });
  return shown;
}

function artifact(patch: Partial<Artifact> = {}): Artifact {
  return {
    id: 'a'.repeat(32),
    kind: 'checkpoint',
    name: 'nb-ckpt',
    version: 1,
    reference: 'nb-ckpt:v1',
    aliases: [],
    state: 'ready',
    size: 3_000_000,
    file_count: 2,
    created_at: 1_700_000_000,
    ...patch
  };
}

/**
 * A model on a fake server that answers from a table of route -> answers in turn. What jobs made
 * (`origin=job`) is its own route, empty unless given; the store's status answers a small store.
 */
function modelOn(routes: Record<string, (Response | (() => Response))[]>) {
  const served: Record<string, number> = {};
  const defaults: Record<string, Response[]> = {
    'GET artifacts origin=job': [page()],
    'GET status': [json({ used: 3_000_000, quota: null })]
  };
  const { settings, calls } = fakeServer((call: Call) => {
    const key = `${call.method} ${call.path}${call.url.includes('origin=job') ? ' origin=job' : ''}`;
    const answers = routes[key] ?? defaults[key];
    if (!answers) {
      return json({ message: `no route ${key}` }, 404);
    }
    const i = Math.min(served[key] ?? 0, answers.length - 1);
    served[key] = (served[key] ?? 0) + 1;
    const answer = answers[i];
    return typeof answer === 'function' ? answer() : answer.clone();
  });
  return { model: new PanelModel(new ArtifactsClient(settings)), calls };
}

const page = (...artifacts: Artifact[]) =>
  json({ artifacts, total: artifacts.length, limit: 50, offset: 0, next_offset: null });
/** The calls of the user's list (not what jobs made). */
const userLists = (calls: Call[]) => calls.filter(c => c.path === 'artifacts' && c.url.includes('origin=user'));

/** GET gpus as JobManager.gpus answers it. */
const inventory = {
  source: 'fake',
  count: 1,
  devices: [{ index: 0, name: 'Simulated GPU', uuid: null, memory_total: 16e9, memory_used: null, free: true, holder: null }],
  queue: []
};

const op = (patch: Partial<Operation>): Operation => ({
  id: 'op1',
  kind: 'snapshot',
  description: 'Save models/ of work/train.ipynb as checkpoint nb-ckpt',
  state: 'queued',
  ...patch
});

afterEach(() => {
  jest.useRealTimers();
  Notification.manager.dismiss();
});

describe('PanelModel: operations', () => {
  it('follows a save until it succeeds, says so once, then drops it', async () => {
    jest.useFakeTimers();
    const shown = notifications();
    const saved = artifact();
    const { model, calls } = modelOn({
      'GET operations/op1': [
        json(op({ state: 'running', bytes_done: 1_000_000, bytes_total: 3_000_000, files_done: 1, files_total: 2 })),
        json(op({ state: 'succeeded', bytes_done: 3_000_000, bytes_total: 3_000_000, result: saved }))
      ],
      'GET artifacts': [page(artifact({ state: 'downloading' })), page(saved)]
    });
    model.operations.track(op({}));
    expect(model.operations.tracked.map(o => o.state)).toEqual(['queued']);

    await model.refresh();
    expect(model.operations.tracked[0]).toMatchObject({ state: 'running', bytes_done: 1_000_000 });
    expect(model.artifacts.mine.page?.artifacts[0].state).toBe('downloading');
    expect(shown).toEqual([]);

    await model.refresh();
    expect(model.operations.tracked[0].state).toBe('succeeded');
    expect(model.artifacts.mine.page?.artifacts[0].state).toBe('ready');
    expect(shown).toEqual(['success: Saved checkpoint nb-ckpt:v1.']);

    // Ended operations are not asked about again, and leave the list after a few seconds.
    const asked = calls.filter(c => c.path === 'operations/op1').length;
    await model.refresh();
    expect(calls.filter(c => c.path === 'operations/op1')).toHaveLength(asked);
    expect(model.operations.tracked).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(4000);
    expect(model.operations.tracked).toEqual([]);
    expect(shown).toHaveLength(1);
  });

  it("shows a failed operation's error for a while (it stays in the notification centre)", async () => {
    const shown = notifications();
    const { model } = modelOn({
      'GET operations/op1': [json(op({ state: 'failed', error: { status: 507, message: 'The store is full.' } }))],
      'GET artifacts': [page()]
    });
    model.operations.track(op({}));
    await model.refresh();
    expect(shown).toEqual([
      'error: Save models/ of work/train.ipynb as checkpoint nb-ckpt failed: The store is full.'
    ]);
    const [shownError] = Notification.manager.notifications;
    expect(shownError.options.autoClose).toBe(ERROR_SHOWN);
  });
});

describe('PanelModel: refresh', () => {
  it('rejects when the server cannot be reached, and says so once until it answers again', async () => {
    const shown = notifications();
    let down = true;
    const { model } = modelOn({
      'GET artifacts': [
        () => {
          if (down) {
            throw new TypeError('Failed to fetch');
          }
          return page(artifact());
        }
      ]
    });
    await expect(model.refresh()).rejects.toBeDefined();
    await expect(model.refresh()).rejects.toBeDefined();
    expect(shown).toEqual(['error: Cannot reach the Jupyter server: Failed to fetch']);
    expect(model.lastError).toMatch(/Cannot reach/);
    down = false;
    await model.refresh();
    expect(model.lastError).toBeNull();
    expect(model.artifacts.mine.page?.total).toBe(1);
  });

  it('asks only for what is on screen', async () => {
    const { model, calls } = modelOn({
      'GET artifacts': [page(artifact())],
      'GET jobs': [json({ jobs: [] })],
      'GET gpus': [json(inventory)]
    });
    await model.refresh();
    model.setTab('gpus');
    await model.refresh();
    // Both sections of the list and the store's use; then the GPUs alone (the store's use is asked
    // at most every 10 s, and jobs are watched by their own poll).
    expect(calls.map(c => c.path)).toEqual(['artifacts', 'artifacts', 'status', 'gpus']);
    expect(model.status?.used).toBe(3_000_000);
    expect(model.gpus.inventory?.devices).toHaveLength(1);
  });
});

describe('PanelModel: delete', () => {
  const held = artifact({ reference: 'held-ckpt:v1', name: 'held-ckpt' });
  const refusal = {
    message: 'Checkpoint held-ckpt:v1 is in use by job fine-tune (worker 0); stop or detach it first.',
    holders: ['job fine-tune (worker 0)']
  };

  async function withDetails(routes: Record<string, Response[]>) {
    const { model, calls } = modelOn({
      'GET artifacts': [page(held)],
      'GET artifacts/held-ckpt:v1': [json({ ...held, holders: refusal.holders })],
      'GET artifacts/held-ckpt:v1/lineage': [json({ id: held.id, upstream: [], downstream: [], used_by: [] })],
      'GET artifacts/held-ckpt:v1/files': [json({ files: [{ path: 'w.bin', size: 3 }], total: 1 })],
      ...routes
    });
    model.details.select('held-ckpt:v1');
    await model.refresh();
    expect(model.details.current?.artifact.reference).toBe('held-ckpt:v1');
    return { model, calls };
  }

  it('keeps the holders of a refused delete for the details, with the server message', async () => {
    const shown = notifications();
    const { model, calls } = await withDetails({ 'DELETE artifacts/held-ckpt:v1': [json(refusal, 409)] });
    expect(await model.details.delete(held)).toBe(false);
    const last = calls[calls.length - 1];
    expect(last.method).toBe('DELETE');
    expect(last.url).toContain('kind=checkpoint');
    expect(model.details.current?.refusedHolders).toEqual(['job fine-tune (worker 0)']);
    expect(model.details.reference).toBe('held-ckpt:v1');
    expect(shown).toEqual([`error: Cannot delete held-ckpt:v1: ${refusal.message}`]);
    // The refusal stays on screen while the details refresh.
    await model.refresh();
    expect(model.details.current?.refusedHolders).toEqual(['job fine-tune (worker 0)']);
  });

  it('closes the details of a deleted artifact', async () => {
    const shown = notifications();
    const { model } = await withDetails({
      'DELETE artifacts/held-ckpt:v1': [json({ id: held.id, reference: 'held-ckpt:v1', freed_bytes: 3 })]
    });
    expect(await model.details.delete(held)).toBe(true);
    expect(model.details.reference).toBeNull();
    expect(model.details.current).toBeNull();
    expect(shown).toEqual(['success: Deleted checkpoint held-ckpt:v1.']);
  });
});

describe('ArtifactDetailsModel: files a page at a time', () => {
  const big = artifact({ reference: 'images:v1', name: 'images', kind: 'dataset', file_count: 450 });
  const entries = (from: number, count: number) =>
    Array.from({ length: count }, (_, i) => ({ path: `img-${String(from + i).padStart(4, '0')}.png`, size: 10 }));
  const filePage = (offset: number, count: number) =>
    json({
      reference: 'images:v1',
      id: big.id,
      files: entries(offset, count),
      total: 450,
      limit: 200,
      offset,
      next_offset: offset + count < 450 ? offset + count : null
    });

  it('opens with one page and grows by the next until every file is shown', async () => {
    const { model, calls } = modelOn({
      'GET artifacts': [page(big)],
      'GET artifacts/images:v1': [json(big)],
      'GET artifacts/images:v1/lineage': [json({ id: big.id, upstream: [], downstream: [], used_by: [] })],
      'GET artifacts/images:v1/files': [filePage(0, 200), filePage(200, 200), filePage(400, 50)]
    });
    model.details.select('images:v1');
    await model.refresh();
    expect(model.details.current?.files?.files).toHaveLength(200);
    await model.details.moreFiles();
    await model.details.moreFiles();
    const shown = model.details.current?.files?.files.map(f => f.path) ?? [];
    expect(shown).toEqual(entries(0, 450).map(f => f.path));
    const asked = calls.filter(c => c.path === 'artifacts/images:v1/files').map(c => new URL(c.url).searchParams);
    expect(asked.map(q => [q.get('limit'), q.get('offset')])).toEqual([
      ['200', '0'],
      ['200', '200'],
      ['200', '400']
    ]);
    // Nothing is left: no more requests.
    await model.details.moreFiles();
    expect(calls.filter(c => c.path === 'artifacts/images:v1/files')).toHaveLength(3);
  });
});

describe('PanelModel: signals', () => {
  /** How many times each named signal was emitted since the call. */
  function counting(model: PanelModel) {
    const counts: Record<string, number> = {};
    const signals = {
      tab: model.tabChanged,
      list: model.artifacts.changed,
      detailsSelection: model.details.selectionChanged,
      details: model.details.changed,
      jobList: model.jobs.listChanged,
      gpus: model.gpus.changed,
      operations: model.operations.changed,
      status: model.statusChanged,
      refresh: model.refreshRequested,
      open: model.openRequested
    };
    for (const [name, signal] of Object.entries(signals)) {
      counts[name] = 0;
      (signal as { connect: (slot: () => void) => void }).connect(() => counts[name]++);
    }
    return counts;
  }

  it('a refresh tells only the views of what it fetched', async () => {
    const { model } = modelOn({
      'GET artifacts': [page(artifact())],
      'GET gpus': [json(inventory)]
    });
    let counts = counting(model);
    await model.refresh();
    expect(counts).toMatchObject({ list: 1, status: 1, details: 0, jobList: 0, gpus: 0, operations: 0, tab: 0 });
    model.setTab('gpus');
    counts = counting(model);
    await model.refresh();
    expect(counts).toMatchObject({ gpus: 1, list: 0, jobList: 0, tab: 0, status: 0 });
  });

  it('asks for a refresh when what is shown changes, and says what changed', () => {
    const { model } = modelOn({});
    const counts = counting(model);
    model.artifacts.setFilter('res');
    expect(counts).toMatchObject({ list: 1, refresh: 1, tab: 0, detailsSelection: 0 });
    model.details.select('a:v1');
    expect(counts).toMatchObject({ detailsSelection: 1, refresh: 2, list: 1 });
    // Opened again (to reload it): its details, not the frame around them.
    model.details.select('a:v1');
    expect(counts).toMatchObject({ detailsSelection: 1, details: 2, refresh: 3 });
    // Clicking the tab shown goes back to its list, keeping the filter; the row it came from is known.
    model.setTab('checkpoint');
    expect(model.details.reference).toBeNull();
    expect(model.details.previous).toBe('a:v1');
    expect(model.artifacts.filter).toBe('res');
    expect(counts.tab).toBe(0);
    model.reveal('model', 'm:v2');
    expect(counts.tab).toBe(1);
    expect(model.tab).toBe('model');
    expect(model.artifacts.kind).toBe('model');
    expect(model.artifacts.filter).toBe('');
    expect(model.details.reference).toBe('m:v2');
  });

  it('asks the application to open jobs, artifacts and comparisons in the main area', () => {
    const { model } = modelOn({});
    const asked: unknown[] = [];
    model.openRequested.connect((_, request) => asked.push(request));
    model.openJob('j1');
    model.openArtifact('a:v1', 'model');
    model.openCompare('a:v1', 'a:v2', 'model');
    expect(asked).toEqual([
      { view: 'job', id: 'j1' },
      { view: 'artifact', reference: 'a:v1', kind: 'model' },
      { view: 'compare', a: 'a:v1', b: 'a:v2', kind: 'model' }
    ]);
  });
});

describe('the artifact list', () => {
  const v = (name: string, version: number, patch: Partial<Artifact> = {}) =>
    artifact({ id: `${name}${version}`.padEnd(32, '0'), name, version, reference: `${name}:v${version}`, ...patch });
  const byJob = (name: string, version: number) =>
    v(name, version, { produced_by: { type: 'job', job_id: 'j'.repeat(32), job_name: 'sweep', worker: 0 } });

  it('asks for what people saved and counts what jobs made, then lists that only when asked', async () => {
    const { model, calls } = modelOn({
      'GET artifacts': [page(v('mine', 2), v('mine', 1))],
      'GET artifacts origin=job': [page(byJob('Job - sweep', 2), byJob('Job - sweep', 1))]
    });
    await model.refresh();
    const job = () => calls.filter(c => c.path === 'artifacts' && c.url.includes('origin=job'));
    expect(userLists(calls)[0].url).toContain('limit=50');
    expect(job()[0].url).toContain('limit=1'); // counted only
    expect(model.artifacts.groups.map(g => [g.name, g.versions.length])).toEqual([['mine', 2]]);
    model.artifacts.toggleJobOutputs();
    await model.refresh();
    expect(job()[1].url).toContain('limit=50');
    expect(model.artifacts.jobGroups.map(g => [g.jobName, g.count, g.groups.map(n => n.name)])).toEqual([
      ['sweep', 2, ['Job - sweep']]
    ]);
  });

  it("fetches every version of an expanded name's group", async () => {
    const { model, calls } = modelOn({
      'GET artifacts': [page(v('mine', 3))]
    });
    await model.refresh();
    model.artifacts.toggle('name:mine');
    expect(model.artifacts.isExpanded('name:mine')).toBe(true);
    await model.refresh();
    const versions = calls.find(c => c.url.includes('name=mine'))!;
    expect(versions.url).toContain('kind=checkpoint');
    // (the fake answers the same page: the group holds what that answer held)
    expect(model.artifacts.groups[0].versions.map(a => a.reference)).toEqual(['mine:v3']);
    model.artifacts.toggle('name:mine');
    expect(model.artifacts.isExpanded('name:mine')).toBe(false);
  });

  it('sends a reference typed in the filter as it is (the server matches name:v2 and name:alias)', async () => {
    const { model, calls } = modelOn({ 'GET artifacts': [page(v('mine', 2))] });
    model.artifacts.setFilter(' mine:best ');
    await model.refresh();
    expect(new URL(userLists(calls)[0].url).searchParams.get('q')).toBe('mine:best');
  });
});

describe('the jobs watch', () => {
  const job = (id: string, state: string, created_at = 2e9): Job => ({ id, name: `job-${id}`, type: 'training', state, created_at, workers: [] } as Job);

  it('announces each job that ends once, not those that had ended before it looked', async () => {
    const answers = [
      [job('a', 'running'), job('old', 'failed', 1)],
      [job('a', 'running'), job('b', 'finished'), job('old', 'failed', 1)],
      [job('a', 'stopped'), job('b', 'finished'), job('old', 'failed', 1)],
      [job('a', 'stopped'), job('b', 'finished'), job('old', 'failed', 1)]
    ];
    let i = 0;
    const { settings } = fakeServer(() => json({ jobs: answers[Math.min(i++, answers.length - 1)] }));
    const jobs = new JobsModel(new ArtifactsClient(settings), () => 2e9 - 10);
    const ended: string[] = [];
    jobs.ended.connect((_, j) => ended.push(`${j.id} ${j.state}`));
    await jobs.refresh();
    expect(jobs.running).toBe(1);
    expect(ended).toEqual([]); // the first look only learns the states
    await jobs.refresh();
    expect(ended).toEqual(['b finished']); // it started and ended between two looks
    await jobs.refresh();
    await jobs.refresh();
    expect(ended).toEqual(['b finished', 'a stopped']);
    expect(jobs.running).toBe(0);
  });
});

describe('jobs', () => {
  it('reads workers, GPUs and durations', () => {
    const job: Job = {
      id: 'j',
      name: 'train',
      type: 'training',
      state: 'running',
      started_at: 100,
      workers: [
        { index: 0, state: 'running', gpus: [0] },
        { index: 1, state: 'running', gpus: [1, 0], last_metrics: { step: 3, metrics: { loss: 0.5 }, time: 1.7e9 } }
      ]
    };
    expect(job.workers[1].last_metrics?.metrics).toEqual({ loss: 0.5 });
    expect(jobGpus(job)).toEqual([0, 1]);
    expect(jobGpus({ ...job, workers: [] })).toEqual([]);
    expect(jobDuration(job, 160)).toBe(60);
    expect(jobDuration({ ...job, ended_at: 130 }, 1000)).toBe(30);
    expect(jobDuration({ ...job, started_at: null })).toBeNull();
  });
});
