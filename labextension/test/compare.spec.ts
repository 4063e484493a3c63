import { ArtifactsClient } from '../src/api/client';
import type { Artifact } from '../src/api/types';
import { CompareModel, metricsOf, paramsOf, recordPairs, sideBySide, sizeChange } from '../src/model/compare';
import { fakeServer, json } from './server';

function artifact(patch: Partial<Artifact>): Artifact {
  return { id: 'a', kind: 'checkpoint', name: 'ckpt', version: 1, reference: 'ckpt:v1', state: 'ready', size: 1000, file_count: 2, created_at: 1.7e9, ...patch };
}

describe('comparing two versions', () => {
  it('sets metadata, metrics and parameters side by side, the differences marked', () => {
    expect(sideBySide({ lr: 0.1, epochs: 3, note: 'x' }, { lr: 0.2, epochs: 3, extra: [1] })).toEqual([
      { key: 'epochs', a: '3', b: '3', differs: false },
      { key: 'extra', a: '—', b: '[1]', differs: true },
      { key: 'lr', a: '0.1', b: '0.2', differs: true },
      { key: 'note', a: 'x', b: '—', differs: true }
    ]);
    const a = artifact({ metadata: { metrics: { loss: 0.5 } }, produced_by: { job_id: 'j', params: { lr: 0.1 } } });
    expect(metricsOf(a)).toEqual({ loss: 0.5 });
    expect(paramsOf(a)).toEqual({ lr: 0.1 });
    expect(metricsOf(artifact({}))).toBeNull();
    const record = recordPairs(a, artifact({ id: 'b', version: 2, reference: 'ckpt:v2', size: 3000, aliases: ['best'] }));
    expect(record.find(p => p.key === 'Size')).toEqual({ key: 'Size', a: '1.0 KB', b: '3.0 KB', differs: true });
    expect(record.find(p => p.key === 'Aliases')).toMatchObject({ a: '—', b: 'best' });
  });

  it('says how much a file grew or shrank', () => {
    expect(sizeChange({ path: 'w', change: 'changed', size_a: 1000, size_b: 2500 })).toBe('+1.5 KB');
    expect(sizeChange({ path: 'w', change: 'changed', size_a: 300, size_b: 0 })).toBe('−300 B');
    expect(sizeChange({ path: 'w', change: 'added', size_a: null, size_b: 10 })).toBe('');
  });

  it("fetches both versions and the diff, and a job output's metrics from its worker", async () => {
    const made = artifact({ id: 'b', version: 2, reference: 'ckpt:v2', produced_by: { job_id: 'j1', worker: 1 } });
    const { settings, calls } = fakeServer(call =>
      json(
        {
          'artifacts/ckpt:v1': artifact({ metadata: { metrics: { loss: 0.5 } } }),
          'artifacts/ckpt:v2': made,
          'artifacts/ckpt:v1/diff/ckpt:v2': { a: 'ckpt:v1', b: 'ckpt:v2', added: ['n'], removed: [], changed: [], unchanged: 1, files: [] },
          'jobs/j1': { id: 'j1', name: 'x', type: 'training', state: 'finished', workers: [{ index: 1, state: 'finished', last_metrics: { step: 3, metrics: { loss: 0.25 } } }] }
        }[call.path]
      )
    );
    const model = new CompareModel(new ArtifactsClient(settings), 'ckpt:v1', 'ckpt:v2', 'checkpoint');
    await model.load();
    expect(model.error).toBeNull();
    expect(model.comparison?.diff.added).toEqual(['n']);
    expect(model.comparison?.metrics).toEqual([{ loss: 0.5 }, { loss: 0.25 }]);
    expect(calls.map(c => c.path)).toContain('artifacts/ckpt:v1/diff/ckpt:v2');
    expect(calls.find(c => c.path === 'artifacts/ckpt:v1')?.url).toContain('kind=checkpoint');
  });
});
