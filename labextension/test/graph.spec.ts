import { readFileSync } from 'fs';
import { join } from 'path';

import type { Artifact, Lineage } from '../src/api/types';
import { clip, layoutGraph, lineageGraph, sourceNode } from '../src/model/graph';

function artifact(patch: Partial<Artifact> = {}): Artifact {
  return { id: 'self', kind: 'checkpoint', name: 'ckpt', version: 2, reference: 'ckpt:v2', state: 'ready', ...patch };
}

const edges = (graph: ReturnType<typeof lineageGraph>) => graph.edges.map(e => `${e.from} -${e.type}-> ${e.to}`).sort();

describe('the lineage graph', () => {
  it('draws the job that made it with its inputs, what it refers to, and what refers to it', () => {
    const self = artifact({ produced_by: { job_id: 'j1', job_name: 'train', worker: 0, params: { lr: 0.1 } } });
    const graph = lineageGraph(self, {
      id: 'self',
      inputs: [{ id: 'd1', reference: 'data:v1', role: 'dataset' }],
      upstream: [{ id: 'm', reference: 'base:v1', kind: 'model', relation: 'ref', children: [{ id: 'm0', reference: 'base0:v1', children: [] }] }],
      downstream: [{ id: 'r', reference: 'report:v1', kind: 'dataset', relation: 'ref', children: [] }]
    });
    expect(edges(graph)).toEqual([
      'base0 -ref-> m'.replace('base0', 'm0'),
      'd1 -input-> job:j1',
      'job:j1 -output-> self',
      'm -ref-> self',
      'self -ref-> r'
    ].sort());
    const job = graph.nodes.find(n => n.type === 'job')!;
    expect(job).toMatchObject({ label: 'job train', detail: 'worker 0 · lr=0.1', job: 'j1' });
    expect(graph.nodes.find(n => n.id === 'd1')).toMatchObject({ reference: 'data:v1', kind: 'dataset', type: 'artifact' });
    expect(graph.nodes.find(n => n.self)).toMatchObject({ id: 'self', reference: 'ckpt:v2' });
  });

  it('draws what a job made through the job that used it (a real server answer)', () => {
    // Saved from GET artifacts/rows:v1/lineage; tests/server/test_lineage.py checks its shape.
    const answer: Lineage = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'lineage.json'), 'utf-8'));
    const rows = artifact({ id: answer.id, kind: 'dataset', name: 'rows', version: 1, reference: 'rows:v1' });
    const graph = lineageGraph(rows, answer);
    const job = `job:${answer.used_by![0].id}`;
    const [out0, out1] = answer.used_by![0].workers.map(w => w.output!.id);
    expect(edges(graph)).toEqual([`${answer.id} -input-> ${job}`, `${job} -output-> ${out0}`, `${job} -output-> ${out1}`].sort());
    // The job is drawn once, with its state from the record of the jobs that used it.
    expect(graph.nodes.filter(n => n.type === 'job')).toEqual([
      expect.objectContaining({ label: 'job fit-rows', state: 'finished', detail: 'finished · as dataset' })
    ]);
    expect(graph.nodes.find(n => n.id === out0)).toMatchObject({ reference: 'Job - fit-rows Worker 0:v1', kind: 'model' });
  });

  it('says where an artifact no job made came from, and marks deleted ones (which do not open)', () => {
    const saved = artifact({ source: { type: 'notebook', notebook: 'work/train.ipynb', folder: 'models' } });
    const graph = lineageGraph(saved, { id: 'self', downstream: [{ id: 'gone', state: 'deleted', children: [] }] });
    expect(graph.nodes.find(n => n.type === 'source')).toMatchObject({ label: 'notebook work/train.ipynb', detail: 'saved models/' });
    expect(edges(graph)).toEqual(['self -ref-> gone', 'source -source-> self']);
    expect(graph.nodes.find(n => n.id === 'gone')).toMatchObject({ detail: 'deleted', reference: undefined });
    expect(sourceNode({ type: 'folder', dir: 'work', folder: 'models' })?.label).toBe('folder work/models/');
    expect(sourceNode({ type: 'hf', path: 'org/repo' })).toMatchObject({ label: 'org/repo', detail: 'created from hf' });
    expect(sourceNode(null)).toBeNull();
  });

  it('is laid out left to right by dagre, inputs before the artifact before what used it', () => {
    const self = artifact({ produced_by: { job_id: 'j1', job_name: 'train' } });
    const layout = layoutGraph(
      lineageGraph(self, {
        id: 'self',
        inputs: [{ id: 'd1', reference: 'data:v1', role: 'dataset' }],
        used_by: [{ id: 'j2', name: 'eval', state: 'running', roles: ['checkpoint'], workers: [] }]
      })
    );
    const x = (id: string) => layout.nodes.find(n => n.id === id)!.x;
    expect(x('d1')).toBeLessThan(x('job:j1'));
    expect(x('job:j1')).toBeLessThan(x('self'));
    expect(x('self')).toBeLessThan(x('job:j2'));
    for (const node of layout.nodes) {
      expect(node.x - node.width / 2).toBeGreaterThanOrEqual(0);
      expect(node.x + node.width / 2).toBeLessThanOrEqual(layout.width);
    }
    for (const edge of layout.edges) {
      expect(edge.points.length).toBeGreaterThanOrEqual(2);
    }
    expect(clip('x'.repeat(50))).toHaveLength(42);
    expect(clip('short')).toBe('short');
  });
});
