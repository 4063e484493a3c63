import { Notification } from '@jupyterlab/apputils';

import { ArtifactsModel } from '../src/model';
import { ArtifactsClient, IArtifact, IOperation } from '../src/models';
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

function artifact(patch: Partial<IArtifact> = {}): IArtifact {
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

/** A model on a fake server that answers GET and DELETE from a table of route -> answers in turn. */
function modelOn(routes: Record<string, (Response | (() => Response))[]>) {
  const served: Record<string, number> = {};
  const { settings, calls } = fakeServer((call: Call) => {
    const key = `${call.method} ${call.path}`;
    const answers = routes[key];
    if (!answers) {
      return json({ message: `no route ${key}` }, 404);
    }
    const i = Math.min(served[key] ?? 0, answers.length - 1);
    served[key] = (served[key] ?? 0) + 1;
    const answer = answers[i];
    return typeof answer === 'function' ? answer() : answer.clone();
  });
  return { model: new ArtifactsModel(new ArtifactsClient(settings)), calls };
}

const page = (...artifacts: IArtifact[]) =>
  json({ artifacts, total: artifacts.length, limit: 50, offset: 0, next_offset: null });

const op = (patch: Partial<IOperation>): IOperation => ({
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

describe('ArtifactsModel: operations', () => {
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
    model.track(op({}));
    expect(model.operations.map(o => o.state)).toEqual(['queued']);

    await model.refresh();
    expect(model.operations[0]).toMatchObject({ state: 'running', bytes_done: 1_000_000 });
    expect(model.page?.artifacts[0].state).toBe('downloading');
    expect(shown).toEqual([]);

    await model.refresh();
    expect(model.operations[0].state).toBe('succeeded');
    expect(model.page?.artifacts[0].state).toBe('ready');
    expect(shown).toEqual(['success: Saved checkpoint nb-ckpt:v1.']);

    // Ended operations are not asked about again, and leave the list after a few seconds.
    const asked = calls.filter(c => c.path === 'operations/op1').length;
    await model.refresh();
    expect(calls.filter(c => c.path === 'operations/op1')).toHaveLength(asked);
    expect(model.operations).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(4000);
    expect(model.operations).toEqual([]);
    expect(shown).toHaveLength(1);
  });

  it("shows a failed operation's error until dismissed", async () => {
    const shown = notifications();
    const { model } = modelOn({
      'GET operations/op1': [json(op({ state: 'failed', error: { status: 507, message: 'The store is full.' } }))],
      'GET artifacts': [page()]
    });
    model.track(op({}));
    await model.refresh();
    expect(shown).toEqual([
      'error: Save models/ of work/train.ipynb as checkpoint nb-ckpt failed: The store is full.'
    ]);
    const [shownError] = Notification.manager.notifications;
    expect(shownError.options.autoClose).toBe(false);
  });
});

describe('ArtifactsModel: refresh', () => {
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
    expect(model.page?.total).toBe(1);
  });

  it('asks only for what is on screen', async () => {
    const { model, calls } = modelOn({
      'GET artifacts': [page(artifact())],
      'GET jobs': [json({ jobs: [] })],
      'GET gpus': [json({ gpus: [{ index: 0 }] })]
    });
    await model.refresh();
    model.setTab('gpus');
    await model.refresh();
    expect(calls.map(c => c.path)).toEqual(['artifacts', 'gpus']);
    expect(model.gpus?.gpus).toHaveLength(1);
  });
});

describe('ArtifactsModel: delete', () => {
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
    model.selectArtifact('held-ckpt:v1');
    await model.refresh();
    expect(model.details?.artifact.reference).toBe('held-ckpt:v1');
    return { model, calls };
  }

  it('keeps the holders of a refused delete for the details, with the server message', async () => {
    const shown = notifications();
    const { model, calls } = await withDetails({ 'DELETE artifacts/held-ckpt:v1': [json(refusal, 409)] });
    expect(await model.deleteArtifact(held)).toBe(false);
    const last = calls[calls.length - 1];
    expect(last.method).toBe('DELETE');
    expect(last.url).toContain('kind=checkpoint');
    expect(model.details?.refusedHolders).toEqual(['job fine-tune (worker 0)']);
    expect(model.selectedArtifact).toBe('held-ckpt:v1');
    expect(shown).toEqual([`error: Cannot delete held-ckpt:v1: ${refusal.message}`]);
    // The refusal stays on screen while the details refresh.
    await model.refresh();
    expect(model.details?.refusedHolders).toEqual(['job fine-tune (worker 0)']);
  });

  it('closes the details of a deleted artifact', async () => {
    const shown = notifications();
    const { model } = await withDetails({
      'DELETE artifacts/held-ckpt:v1': [json({ id: held.id, reference: 'held-ckpt:v1', freed_bytes: 3 })]
    });
    expect(await model.deleteArtifact(held)).toBe(true);
    expect(model.selectedArtifact).toBeNull();
    expect(model.details).toBeNull();
    expect(shown).toEqual(['success: Deleted checkpoint held-ckpt:v1.']);
  });
});
