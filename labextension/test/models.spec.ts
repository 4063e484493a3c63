import { readFileSync } from 'fs';
import { join } from 'path';

import {
  ArtifactsClient,
  createRequest,
  defaultJobName,
  defaultSaveName,
  focusSelector,
  formatDuration,
  formatSize,
  gpuMemoryText,
  holderText,
  IArtifact,
  ICreateForm,
  IJobForm,
  ILineage,
  isActiveState,
  jobDuration,
  jobGpus,
  jobRequest,
  jobWorkers,
  lineageTree,
  metricsLines,
  normalizeLogChunk,
  normalizePage,
  pageInfo,
  progressFraction,
  progressText,
  shellQuote,
  snapshotRequest,
  stateLabel,
  validateAlias,
  validateCreateForm,
  validateJobForm,
  validateName,
  validateSaveForm
} from '../src/models';
import { fakeServer, json } from './server';

function artifact(patch: Partial<IArtifact>): IArtifact {
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

const createForm = (patch: Partial<ICreateForm>): ICreateForm => ({
  kind: 'checkpoint',
  name: 'ckpt',
  sourceType: 'local',
  path: 'models',
  endpoint: '',
  branch: '',
  kaggleType: 'dataset',
  ...patch
});

const jobForm = (patch: Partial<IJobForm>): IJobForm => ({
  type: 'training',
  name: 'train',
  run: 'command',
  command: 'python train.py',
  script: '',
  gpus: '1',
  cpu: '',
  memory: '',
  model: '',
  checkpoints: [],
  publicCheckpoints: false,
  data: [],
  manifest: '',
  output: 'checkpoint',
  outputUri: '',
  params: '',
  ...patch
});

describe('formatting', () => {
  it('formats sizes in SI units', () => {
    expect(formatSize(0)).toBe('0 B');
    expect(formatSize(999)).toBe('999 B');
    expect(formatSize(1500)).toBe('1.5 KB');
    expect(formatSize(123_456_789)).toBe('123 MB');
    expect(formatSize(2_000_000_000_000)).toBe('2.0 TB');
    expect(formatSize(undefined)).toBe('—');
  });

  it('formats durations', () => {
    expect(formatDuration(5.7)).toBe('5s');
    expect(formatDuration(185)).toBe('3m 05s');
    expect(formatDuration(7380)).toBe('2h 03m');
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(-1)).toBe('—');
  });

  it('labels states', () => {
    expect(stateLabel('downloading')).toBe('Downloading');
    expect(stateLabel('weird')).toBe('Weird');
    expect(stateLabel(undefined)).toBe('Unknown');
    expect(isActiveState('pending')).toBe(true);
    expect(isActiveState('running')).toBe(true);
    expect(isActiveState('ready')).toBe(false);
    expect(isActiveState('stopped')).toBe(false);
  });
});

describe('progress', () => {
  it('prefers bytes, falls back to files, and clamps', () => {
    expect(progressFraction({ bytes_done: 50, bytes_total: 200 })).toBe(0.25);
    expect(progressFraction({ bytes_done: 0, bytes_total: 0, files_done: 1, files_total: 4 })).toBe(0.25);
    expect(progressFraction({ bytes_done: 300, bytes_total: 200 })).toBe(1);
    expect(progressFraction({ bytes_done: 10 })).toBeNull();
    expect(progressFraction(null)).toBeNull();
  });

  it('reads the progress the store records on an artifact being saved or fetched', () => {
    const stored = { phase: 'saving', bytes: 5_000_000, files: 3, total_bytes: 10_000_000, total_files: 7 };
    expect(progressFraction(stored)).toBe(0.5);
    expect(progressText(stored)).toBe('50% · 5.0 MB of 10.0 MB · 3/7 files');
    expect(progressFraction({ phase: 'downloading', bytes: 10, total_bytes: null, files: 0, total_files: null })).toBeNull();
  });

  it('describes progress', () => {
    expect(progressText({ bytes_done: 5_000_000, bytes_total: 10_000_000, files_done: 3, files_total: 7 })).toBe(
      '50% · 5.0 MB of 10.0 MB · 3/7 files'
    );
    expect(progressText({ bytes_done: 2000 })).toBe('2.0 KB');
    expect(progressText(undefined)).toBe('');
  });
});

describe('lists', () => {
  it('pages 10,000 artifacts', () => {
    expect(pageInfo(0, 50, 10_000)).toEqual({ page: 1, pages: 200, first: 1, last: 50, hasPrevious: false, hasNext: true });
    expect(pageInfo(9_950, 50, 10_000)).toMatchObject({ page: 200, first: 9_951, last: 10_000, hasNext: false });
    expect(pageInfo(0, 50, 0)).toMatchObject({ page: 1, pages: 1, first: 0, last: 0, hasNext: false });
  });

  it('normalizes list answers', () => {
    expect(normalizePage([artifact({})]).total).toBe(1);
    expect(normalizePage({ artifacts: [], total: 12 }).total).toBe(12);
  });
});

describe('validation', () => {
  it('puts the cursor in the first field with an error', () => {
    expect(focusSelector({})).toBe('input, select, textarea');
    expect(focusSelector({ _form: 'refused', gpus: 'at most 2', cpu: 'x' })).toBe('[name="gpus"]');
    expect(focusSelector({ _form: 'refused' })).toBe('input, select, textarea');
  });

  it('checks names like the store', () => {
    expect(validateName('my model-1.2_b')).toBeUndefined();
    expect(validateName('')).toMatch(/Give a name/);
    expect(validateName('a/b')).toMatch(/'\/'/);
    expect(validateName('a:b')).toMatch(/':'/);
    expect(validateName(' a')).toMatch(/space/);
    expect(validateName('é')).toMatch(/letters/);
    expect(validateName('x'.repeat(201))).toMatch(/200/);
    expect(validateName('..')).toBeDefined();
  });

  it('checks aliases', () => {
    expect(validateAlias('best')).toBeUndefined();
    expect(validateAlias('latest')).toBeDefined();
    expect(validateAlias('v3')).toBeDefined();
    expect(validateAlias('a b')).toBeDefined();
  });

  it('accepts each source type with its path form', () => {
    const ok: Partial<ICreateForm>[] = [
      { sourceType: 'local', path: 'models/run1' },
      { sourceType: 'aws', path: 's3://bucket/key' },
      { sourceType: 'gcp', path: 'gs://bucket/key' },
      { sourceType: 'azure', path: 'az://container/path' },
      { sourceType: 'azure', path: 'https://acct.blob.core.windows.net/c/p' },
      { sourceType: 'git', path: 'git@github.com:owner/repo.git', branch: 'dev' },
      { sourceType: 'hf', path: 'datasets/owner/name' },
      { sourceType: 'kaggle', path: 'owner/name', kaggleType: 'dataset' },
      { sourceType: 'wasabi', path: 's3://b/k', endpoint: 'https://s3.eu-central-1.wasabisys.com' },
      { sourceType: 'web', path: 'https://example.org/m.tar.gz' },
      { sourceType: 'public', path: 'resnet18' }
    ];
    for (const patch of ok) {
      expect([patch.sourceType, validateCreateForm(createForm(patch))]).toEqual([patch.sourceType, {}]);
    }
  });

  it('shows what is wrong, field by field', () => {
    expect(validateCreateForm(createForm({ name: '', path: '' }))).toEqual({
      name: 'Give a name.',
      path: 'Give a path.'
    });
    expect(validateCreateForm(createForm({ sourceType: 'aws', path: 'gs://b/k' })).path).toMatch(/s3:\/\//);
    expect(validateCreateForm(createForm({ sourceType: 'hf', path: 'just-a-name' })).path).toMatch(/NAMESPACE\/REPO/);
    expect(validateCreateForm(createForm({ sourceType: 'local', path: 'https://x/y' })).path).toMatch(/not a URL/);
    expect(validateCreateForm(createForm({ sourceType: 'wasabi', path: 's3://b/k' })).endpoint).toMatch(/endpoint/);
    expect(validateCreateForm(createForm({ sourceType: 'git', path: 'https://h/r.git', branch: 'a b' })).branch).toBeDefined();
    expect(validateCreateForm(createForm({ sourceType: 'kaggle', path: 'x', kaggleType: '' })).kaggleType).toBeDefined();
    expect(validateCreateForm(createForm({ sourceType: 'nope' })).sourceType).toBeDefined();
  });

  it('sends only the fields of the chosen source type', () => {
    expect(createRequest(createForm({ sourceType: 'hf', path: ' a/b ', branch: 'main', endpoint: 'x' }))).toEqual({
      kind: 'checkpoint',
      name: 'ckpt',
      path: 'a/b',
      source_type: 'hf',
      branch: 'main'
    });
    expect(createRequest(createForm({ sourceType: 'kaggle', path: 'titanic', kaggleType: 'competition' })).kaggle_type).toBe('competition');
    expect(createRequest(createForm({ sourceType: 'local' }))).not.toHaveProperty('branch');
  });
});

describe('save to', () => {
  it('builds the snapshot request of a notebook or a folder', () => {
    const form = { kind: 'model' as const, folder: 'output' as const, name: 'nb' };
    expect(snapshotRequest({ path: 'work/train.ipynb', type: 'notebook' }, form)).toEqual({
      notebook: 'work/train.ipynb',
      folder: 'output',
      kind: 'model',
      name: 'nb'
    });
    expect(snapshotRequest({ path: 'work', type: 'directory' }, form)).toMatchObject({ dir: 'work' });
  });

  it('proposes a valid default name', () => {
    expect(defaultSaveName('work/Train Me (1).ipynb')).toBe('Train Me -1-');
    expect(validateName(defaultSaveName('work/Train Me (1).ipynb'))).toBeUndefined();
    expect(defaultSaveName('')).toBe('snapshot');
    expect(defaultSaveName('é.ipynb')).toBe('snapshot');
  });

  it('validates the form', () => {
    expect(validateSaveForm({ kind: 'checkpoint', folder: 'models', name: 'x' })).toEqual({});
    expect(Object.keys(validateSaveForm({ kind: 'x' as any, folder: 'y' as any, name: '' }))).toEqual(['name', 'kind', 'folder']);
  });
});

describe('jobs', () => {
  it('validates the job form', () => {
    expect(validateJobForm(jobForm({}))).toEqual({});
    const errors = validateJobForm(jobForm({ name: '', command: ' ', gpus: '-1', cpu: 'x', memory: '8 potatoes', params: '[1]' }));
    expect(Object.keys(errors).sort()).toEqual(['command', 'cpu', 'gpus', 'memory', 'name', 'params']);
    expect(validateJobForm(jobForm({ type: 'inference' })).model).toBeDefined();
    expect(validateJobForm(jobForm({ type: 'inference', checkpoints: ['a:v1'] }))).toEqual({});
    expect(validateJobForm(jobForm({ memory: '512M', cpu: '0.5' }))).toEqual({});
    expect(validateJobForm(jobForm({ gpus: '3' }), 2).gpus).toBe('This host has 2 GPUs; ask for at most 2.');
    expect(validateJobForm(jobForm({ output: 'url', outputUri: 'bucket' })).outputUri).toBeDefined();
    expect(validateJobForm(jobForm({ output: 'url', outputUri: 's3://b/f' }))).toEqual({});
  });

  it('builds the job request like the widget', () => {
    expect(
      jobRequest(
        jobForm({ gpus: '2', memory: '8G', cpu: '2', model: 'm:v1', checkpoints: ['a', 'b'], data: ['d:v1'], manifest: 'data.json', params: '{"lr": [0.1, 0.01]}' })
      )
    ).toEqual({
      type: 'training',
      name: 'train',
      command: 'python train.py',
      resources: { gpus: 2, cpu: 2, memory: '8G' },
      output: 'checkpoint',
      model: 'm:v1',
      checkpoints: ['a', 'b'],
      data: ['d:v1'],
      data_manifest: 'data.json',
      hyperparameters: { lr: [0.1, 0.01] }
    });
    expect(jobRequest(jobForm({ checkpoints: ['resnet18'], publicCheckpoints: true }))).toMatchObject({
      public_checkpoints: ['resnet18']
    });
    expect(jobRequest(jobForm({ gpus: '' })).resources).toEqual({ gpus: 0 });
    expect(jobRequest(jobForm({ output: 'url', outputUri: ' s3://b/f ' })).output).toBe('s3://b/f');
  });

  it('runs a script by its path, quoted as the notebook form quotes it (shlex.quote)', () => {
    const script = (path: string) => jobRequest(jobForm({ run: 'script', script: path, command: 'ignored' }));
    expect(script(' work/train.py ')).toMatchObject({ command: 'work/train.py', type: 'training', name: 'train' });
    // What Python's shlex.quote gives for the same paths.
    expect(script('my runs/train 1.py').command).toBe("'my runs/train 1.py'");
    expect(script("it's.sh").command).toBe(`'it'"'"'s.sh'`);
    expect(script('a@b%c+d=e:f,g.sh').command).toBe('a@b%c+d=e:f,g.sh');
    expect(script('$HOME/x.py').command).toBe("'$HOME/x.py'");
    expect(shellQuote('')).toBe("''");
    // The body has the shape of a command job: no extra field for the script.
    expect(Object.keys(script('train.py')).sort()).toEqual(Object.keys(jobRequest(jobForm({}))).sort());
  });

  it('asks for the field that the Run choice needs', () => {
    expect(validateJobForm(jobForm({ run: 'script', script: '', command: 'python x.py' }))).toEqual({
      script: 'Give the path of the script each worker runs, e.g. train.py, or switch to Command.'
    });
    expect(validateJobForm(jobForm({ run: 'script', script: 'a.py\nrm -rf /' })).script).toBe('A script path is one line.');
    expect(validateJobForm(jobForm({ run: 'script', script: 'train.py', command: '' }))).toEqual({});
    expect(Object.keys(validateJobForm(jobForm({ run: 'command', command: '', script: 'train.py' })))).toEqual(['command']);
  });

  it('names jobs by type and time', () => {
    const name = defaultJobName('training', new Date(2024, 4, 1, 15, 32, 7));
    expect(name).toBe('training-20240501-153207');
    expect(validateName(name)).toBeUndefined();
  });

  it('reads workers, GPUs and durations', () => {
    const job = {
      id: 'j',
      name: 'train',
      state: 'running',
      started_at: 100,
      workers: [
        { idx: 0, state: 'running', gpus: [0] },
        { idx: 1, state: 'running', gpus: [1, 0], last_metrics: { step: 3, metrics: { loss: 0.5 }, time: 1.7e9 } }
      ]
    };
    expect(jobWorkers(job)[1].last_metrics?.metrics).toEqual({ loss: 0.5 });
    expect(jobWorkers(job).map(w => w.index)).toEqual([0, 1]);
    expect(jobGpus(job)).toEqual([0, 1]);
    expect(jobDuration(job, 160)).toBe(60);
    expect(jobDuration({ ...job, ended_at: 130 }, 1000)).toBe(30);
    expect(jobDuration({ ...job, started_at: null })).toBeNull();
  });

  it("shows a worker's last report as the server sends it (a metrics.jsonl line)", () => {
    expect(metricsLines({ step: 3, metrics: { accuracy: 0.30000000000000004, loss: 0.125, note: 'ok' }, time: 1.7e9 })).toEqual([
      'step 3',
      'accuracy=0.3',
      'loss=0.125',
      'note="ok"'
    ]);
    expect(metricsLines({ step: null, metrics: { auc: 0.91 }, time: 1.7e9 })).toEqual(['auc=0.91']);
    expect(metricsLines({ step: 1, metrics: {} })).toEqual([]);
    expect(metricsLines(null)).toEqual([]);
  });

  it('reads log answers of either shape', () => {
    expect(normalizeLogChunk({ text: 'héllo\n', next_offset: 7 }, 0)).toEqual({ text: 'héllo\n', offset: 7, eof: false });
    expect(normalizeLogChunk({ text: 'héllo\n' }, 3)).toEqual({ text: 'héllo\n', offset: 10, eof: false });
    expect(normalizeLogChunk({ lines: ['a', 'b'], offset: 9, eof: true }, 5)).toEqual({ text: 'a\nb\n', offset: 9, eof: true });
  });
});

describe('GPUs', () => {
  it('describes holders and memory', () => {
    expect(holderText({ index: 0 })).toBe('free');
    expect(holderText({ index: 0, free: false, holder: null })).toBe('busy');
    expect(holderText({ index: 0, holder: { job_id: null, note: 'held by a job starting up' } })).toBe('held by a job starting up');
    expect(holderText({ index: 0, holder: { job_name: 'train', worker: 1 } })).toBe('train (worker 1)');
    expect(holderText({ index: 0, holders: ['a', 'b'] })).toBe('a, b');
    expect(gpuMemoryText({ index: 0, memory_used: 4e9, memory_total: 16e9 })).toBe('4.0 GB / 16.0 GB (25%)');
    expect(gpuMemoryText({ index: 0 })).toBe('—');
    expect(gpuMemoryText({ index: 0, memory_total: 16e9, memory_used: null })).toBe('16.0 GB (use unknown)');
  });
});

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
    const answer: ILineage = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'lineage.json'), 'utf-8'));
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

describe('ArtifactsClient', () => {
  function client(answers: Record<string, unknown>) {
    const { settings, calls } = fakeServer(call => json(answers[call.path] ?? {}), 'http://h/base/');
    return { api: new ArtifactsClient(settings), calls };
  }

  it('lists a page of one kind with the filter', async () => {
    const { api, calls } = client({ artifacts: { artifacts: [artifact({})], total: 9000, next_offset: 50 } });
    const page = await api.listArtifacts({ kind: 'model', q: ' res ', offset: 50 });
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
    const net = (patch: Partial<IArtifact>) =>
      artifact({ kind: 'model', name: 'my net', version: 2, reference: 'my net:v2', ...patch });
    const base = 'http://h/base/jupyter-artifacts/api/artifacts/my%20net%3Av2';
    expect(api.download(net({ file_count: 1 }), [{ path: 'sub/w.bin', size: 3 }])).toEqual({
      url: `${base}/files/sub/w.bin?kind=model`,
      filename: 'w.bin'
    });
    const many = Array.from({ length: 200 }, (_, i) => ({ path: `f${i}.bin`, size: 1 }));
    expect(api.download(net({ file_count: 5000 }), many)).toEqual({
      url: `${base}/archive?kind=model`,
      filename: 'my net-v2.tar'
    });
    // A lone link is not a file of its own: the archive keeps it as a link.
    expect(api.download(net({ file_count: 1 }), [{ path: 'latest', link: 'w.bin' }])?.url).toBe(`${base}/archive?kind=model`);
    expect(api.download(net({ file_count: 0 }), [])).toBeNull();
  });

  it('accepts GPU and job lists of either shape', async () => {
    const { api } = client({ gpus: [{ index: 0 }], jobs: { jobs: [{ id: 'j', name: 'n', state: 'queued' }] } });
    expect((await api.gpus()).gpus).toHaveLength(1);
    const other = client({ gpus: { source: 'fake', count: 2, devices: [{ index: 0 }, { index: 1 }] } });
    expect((await other.api.gpus()).gpus.map(g => g.index)).toEqual([0, 1]);
    expect((await api.jobs())[0].id).toBe('j');
  });
});
