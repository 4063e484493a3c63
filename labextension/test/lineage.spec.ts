import { readFileSync } from 'fs';
import { join } from 'path';

import type { Lineage } from '../src/api/types';
import { lineageTree } from '../src/model/lineage';

describe('lineage', () => {
  it('shows what made it, what it refers to and what used it', () => {
    const tree = lineageTree({
      id: 'x',
      reference: 'ckpt:v2',
      produced_by: { job_id: 'j1', job_name: 'train', worker: 0, params: { lr: 0.1 } },
      inputs: [{ reference: 'data:v1', role: 'data' }],
      upstream: [{ id: 'm', reference: 'base:v1', kind: 'model', relation: 'ref', children: [] }],
      downstream: [{ id: 'd', reference: 'ckpt:v3', kind: 'checkpoint', relation: 'input', children: [] }]
    });
    expect(tree.map(n => n.label)).toEqual(['Made by', 'Refers to', 'Used by']);
    expect(tree[0].children.map(n => n.label)).toEqual(['job train · worker 0 · lr=0.1', 'input data:v1 (data)']);
    expect(tree[0].children[1].reference).toBe('data:v1');
    expect(tree[0].children[0].job).toBe('j1');
    expect(tree[1].children[0].label).toBe('base:v1 (model, ref)');
    expect(tree[2].children[0].reference).toBe('ckpt:v3');
  });

  it('lists the jobs that used it, each worker with what it made (a real server answer)', () => {
    // Saved from GET artifacts/rows:v1/lineage; tests/server/test_lineage.py checks its shape.
    const answer: Lineage = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'lineage.json'), 'utf-8'));
    const [, , used] = lineageTree(answer);
    const job = used.children.find(node => node.job);
    expect(job).toMatchObject({
      label: 'job fit-rows (finished)',
      detail: 'as dataset',
      job: answer.used_by![0].id
    });
    expect(job!.children).toEqual([
      { label: 'worker 0: Job - fit-rows Worker 0:v1', reference: 'Job - fit-rows Worker 0:v1', kind: 'model', children: [] },
      { label: 'worker 1: Job - fit-rows Worker 1:v1', reference: 'Job - fit-rows Worker 1:v1', kind: 'model', children: [] }
    ]);
    // The outputs are also artifacts that used it, opened in their own (model) tab.
    expect(used.children.filter(node => node.reference).map(node => node.kind)).toEqual(['model', 'model']);
  });

  it('shows a worker output that went to a URL, was deleted, is none, or is still to come', () => {
    const [, , used] = lineageTree({
      id: 'x',
      used_by: [
        {
          id: 'j2',
          name: 'export',
          state: 'failed',
          roles: ['checkpoint', 'model'],
          workers: [
            { index: 0, state: 'finished', output: null, output_url: 's3://bucket/out/0' },
            { index: 1, state: 'finished', output: { id: 'gone', state: 'deleted' }, output_url: null },
            { index: 2, state: 'failed', output: null, output_url: null },
            { index: 3, state: 'running', output: null, output_url: null }
          ]
        }
      ]
    });
    expect(used.children[0].detail).toBe('as checkpoint, model');
    expect(used.children[0].children.map(n => [n.label, n.reference])).toEqual([
      ['worker 0: → s3://bucket/out/0', undefined],
      ['worker 1: gone (deleted)', undefined],
      ['worker 2: no output (failed)', undefined],
      ['worker 3: running', undefined]
    ]);
  });

  it('says where a saved artifact came from, and none for empty branches', () => {
    const tree = lineageTree({ id: 'x', upstream: [], downstream: [] }, { type: 'notebook', notebook: 'work/train.ipynb', folder: 'models' });
    expect(tree[0].children[0].label).toBe('saved from models/ of notebook work/train.ipynb');
    expect(tree[1].children[0].label).toBe('none');
    expect(lineageTree({ id: 'x' }, { type: 'aws', path: 's3://b/k' })[0].children[0].label).toBe('created from aws s3://b/k');
  });
});
