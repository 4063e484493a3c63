import { ReactWidget } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { ArtifactsClient } from '../src/api/client';
import { JobView } from '../src/components/JobView';
import { JobViewModel } from '../src/model/jobView';
import { fakeServer, json } from './server';

/** Polls the page until `find` gives something (the answers' bodies are read by the real fetch machinery). */
async function until<T>(find: () => T | null | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const found = find();
    if (found) {
      return found;
    }
    await new Promise(resolve => setTimeout(resolve, 10));
  }
  throw new Error('not found in time');
}

describe('the job view', () => {
  const kept = {
    id: 'j1',
    name: 'fit',
    type: 'training',
    state: 'failed',
    error: 'worker 0: saving the output failed',
    spec: { command: 'python fit.py', metric: 'loss' },
    workers: [
      { index: 0, state: 'failed', kept_output: '/s/jobs/j1/0/output', params: { lr: 0.1 }, last_metrics: { step: 2, metrics: { loss: 0.4 } } },
      { index: 1, state: 'finished', params: { lr: 0.2 }, last_metrics: { step: 2, metrics: { loss: 0.2 } } }
    ],
    checkpoints: [],
    gc_result: { deleted: [{ id: 'c1', reference: 'Job - fit Worker 0 Checkpoint:v1' }], protected: [] }
  };
  const metrics = {
    id: 'j1',
    workers: [
      { index: 0, params: { lr: 0.1 }, points: [{ step: 1, metrics: { loss: 0.9 } }, { step: 2, metrics: { loss: 0.4 } }] },
      { index: 1, params: { lr: 0.2 }, points: [{ step: 1, metrics: { loss: 0.5 } }, { step: 2, metrics: { loss: 0.2 } }] }
    ]
  };

  function jobView(answer: (path: string, method: string) => unknown) {
    const { settings, calls } = fakeServer(call => json(answer(call.path, call.method) ?? {}));
    const client = new ArtifactsClient(settings);
    const view = new JobViewModel(client, 'j1');
    const actions = { openArtifact: jest.fn(), runAgain: jest.fn(), close: jest.fn() };
    const widget = ReactWidget.create(React.createElement(JobView, { view, client, actions }));
    Widget.attach(widget, document.body);
    return { view, widget, calls, actions };
  }

  it('shows the workers (the best marked), a chart per metric, what GC removed, and saves a kept output', async () => {
    let done = false;
    const { view, widget, calls } = jobView((path, method) => {
      if (path === 'jobs/j1/save-output' && method === 'POST') {
        done = true;
      }
      const job = done ? { ...kept, state: 'finished', error: null, workers: kept.workers.map(w => ({ ...w, kept_output: null })) } : kept;
      return { 'jobs/j1': job, 'jobs/j1/save-output': job, 'jobs/j1/metrics': metrics, 'jobs/j1/logs': { text: 'hello\n', offset: 6, worker: 0, state: 'failed', finished: true } }[path];
    });
    await view.refresh();
    const node = widget.node;
    const best = await until(() => node.querySelector('tr[data-best="true"]'));
    expect(best.getAttribute('data-worker')).toBe('1'); // loss 0.2 < 0.4
    expect(node.querySelector('figure[data-metric="loss"] path')?.getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+ L/);
    expect(node.querySelectorAll('figure[data-metric="loss"] .jp-Artifacts-series')).toHaveLength(2);
    expect(node.querySelector('[data-gc]')?.textContent).toContain('removed 1 checkpoint: Job - fit Worker 0 Checkpoint:v1');
    // Sorting by a metric column puts the best first.
    (node.querySelector('th[data-column="metric:loss"] button') as HTMLButtonElement).click();
    await until(() => node.querySelector('.jp-Artifacts-workers tbody tr')?.getAttribute('data-worker') === '1');
    const notice = await until(() => node.querySelector('[data-kept-worker="0"]'));
    notice.querySelector('button')!.click();
    await until(() => done && !node.querySelector('[data-kept-worker]'));
    expect(calls.filter(c => c.method === 'POST').map(c => [c.path, c.body])).toEqual([['jobs/j1/save-output', '{"worker":0}']]);
    widget.dispose();
  });

  it('settles once the ended job was fetched again, and closes when the job is deleted', async () => {
    const { view, widget, calls } = jobView(path => ({ 'jobs/j1': kept, 'jobs/j1/metrics': metrics } as Record<string, unknown>)[path]);
    const gone = jest.fn();
    view.gone.connect(gone);
    await view.refresh();
    expect(view.settled).toBe(false); // the first look at an ended job
    await view.refresh();
    expect(view.settled).toBe(true);
    const asked = calls.length;
    await view.refresh();
    expect(calls.length).toBe(asked); // nothing more is asked
    expect(await view.delete()).toBe(true);
    expect(calls[calls.length - 1].method).toBe('DELETE');
    expect(gone).toHaveBeenCalled();
    widget.dispose();
  });
});
