import { createRequest, ICreateForm, validateCreateForm } from '../src/dialogs/createForm';
import {
  defaultJobName,
  formFromJob,
  gridText,
  IJobForm,
  jobRequest,
  newJobForm,
  shellQuote,
  validateJobForm,
  workerGrid
} from '../src/dialogs/jobForm';
import { jsonError } from '../src/dialogs/json';
import { comparisonOrder } from '../src/dialogs/compare';
import type { Artifact, Job } from '../src/api/types';
import { defaultSaveName, snapshotRequest, validateSaveForm } from '../src/dialogs/saveForm';
import { focusSelector, validateAlias, validateName } from '../src/dialogs/validation';

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

const jobForm = (patch: Partial<IJobForm>): IJobForm =>
  newJobForm({ name: 'train', command: 'python train.py', ...patch });

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
      source: 'a/b',
      source_type: 'hf',
      branch: 'main'
    });
    expect(createRequest(createForm({ sourceType: 'kaggle', path: 'titanic', kaggleType: 'competition' })).kaggle_type).toBe('competition');
    expect(createRequest(createForm({ sourceType: 'local' }))).not.toHaveProperty('branch');
  });
});

describe('save to', () => {
  const notebook = { path: 'work/train.ipynb', type: 'notebook', name: 'train.ipynb' };
  const folder = { path: 'work/models', type: 'directory', name: 'models' };

  it("saves a folder itself, and a notebook's models/ or output/ folder", () => {
    const form = { kind: 'model' as const, folder: 'output', name: 'nb' };
    expect(snapshotRequest(notebook, form)).toEqual({ notebook: 'work/train.ipynb', folder: 'output', kind: 'model', name: 'nb' });
    // Right-clicking models/ saves models/ (not a models/ inside it).
    expect(snapshotRequest(folder, { ...form, folder: '' })).toEqual({ dir: 'work/models', kind: 'model', name: 'nb' });
  });

  it('proposes a valid default name', () => {
    const nb = (path: string) => ({ path, type: 'notebook', name: path });
    expect(defaultSaveName(nb('work/Train Me (1).ipynb'))).toBe('Train Me -1-');
    expect(validateName(defaultSaveName(nb('work/Train Me (1).ipynb')))).toBeUndefined();
    expect(defaultSaveName(nb(''))).toBe('snapshot');
    expect(defaultSaveName(nb('é.ipynb'))).toBe('snapshot');
    // A models/ or output/ folder says less than the folder holding it.
    expect(defaultSaveName(folder)).toBe('work');
    expect(defaultSaveName({ path: 'runs/resnet', type: 'directory', name: 'resnet' })).toBe('resnet');
  });

  it('validates the form: a notebook needs one of the folders next to it', () => {
    expect(validateSaveForm(notebook, { kind: 'checkpoint', folder: 'models', name: 'x' }, ['models'])).toEqual({});
    expect(validateSaveForm(folder, { kind: 'checkpoint', folder: '', name: 'x' }, [])).toEqual({});
    expect(Object.keys(validateSaveForm(notebook, { kind: 'x' as any, folder: 'y', name: '' }, ['models']))).toEqual([
      'name',
      'kind',
      'folder'
    ]);
    // None there: the dialog says so, and how to save a folder instead.
    expect(validateSaveForm(notebook, { kind: 'model', folder: '', name: 'x' }, []).folder).toMatch(
      /no models\/ or output\/ folder next to train.ipynb.*right-click/
    );
  });
});

describe('new job', () => {
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

  it('says where hyperparameters stop being JSON, by line and column', () => {
    expect(jsonError('{"lr": 0.1}')).toBeNull();
    expect(jsonError('{"lr": 0.1,\n "depth": [3, 4,]}')).toEqual({ line: 2, column: 17, message: 'remove the comma before ]' });
    expect(jsonError("{'lr': 1}")).toEqual({ line: 1, column: 2, message: 'a key in double quotes is expected here' });
    expect(jsonError('{"lr" 1}')).toMatchObject({ line: 1, column: 7, message: "':' is expected after the key" });
    expect(jsonError('{"lr": 1')).toMatchObject({ line: 1, column: 9, message: "the text ends before the object's }" });
    expect(jsonError('{"lr": 1} x')).toMatchObject({ column: 11, message: 'unexpected text after the value' });
    expect(jsonError('{"a": tru}')).toMatchObject({ column: 7, message: 'a value is expected here' });
    expect(validateJobForm(jobForm({ params: '{"lr": 0.1,\n "depth": [3, 4,]}' })).params).toBe(
      'Hyperparameters, line 2, column 17: remove the comma before ].'
    );
  });

  it('tells how many workers the hyperparameters make', () => {
    expect(workerGrid('')).toEqual({ workers: 1, axes: [] });
    const grid = workerGrid('{"lr": [0.1, 0.01, 0.001], "depth": [3, 4], "epochs": 5}');
    expect(grid).toEqual({ workers: 6, axes: [['lr', 3], ['depth', 2]] });
    expect(gridText(grid)).toBe('This makes 6 workers (lr × 3, depth × 2).');
    expect(gridText(workerGrid('{"epochs": 5}'))).toBe('This makes 1 worker.');
    expect(workerGrid('{"lr": []}').error).toMatch(/lr has an empty list/);
    expect(workerGrid('[1, 2]').error).toMatch(/a JSON object/);
    expect(gridText(workerGrid('{'))).toBe('');
  });

  it('fills the form again from a job already run (Run again)', () => {
    const job = {
      id: 'j',
      name: 'sweep',
      type: 'training',
      state: 'finished',
      workers: [],
      spec: {
        command: "'work/report metrics.py'",
        gpus: 1,
        cpu: 2,
        memory: 8_000_000_000,
        model: 'base:v1',
        checkpoints: ['warm:best'],
        public_checkpoints: [],
        data: ['rows:v1'],
        output: 's3://bucket/out',
        params: { epochs: 3 },
        hyperparameters: { lr: [0.1, 0.2] }
      }
    } as unknown as Job;
    const form = formFromJob(job);
    expect(form).toMatchObject({
      type: 'training',
      name: 'sweep',
      run: 'command',
      command: "'work/report metrics.py'",
      gpus: '1',
      cpu: '2',
      memory: '8G',
      model: 'base:v1',
      checkpoints: ['warm:best'],
      publicCheckpoints: false,
      data: ['rows:v1'],
      output: 'url',
      outputUri: 's3://bucket/out'
    });
    expect(JSON.parse(form.params)).toEqual({ epochs: 3, lr: [0.1, 0.2] });
    expect(validateJobForm(form)).toEqual({});
    // The same request goes out again.
    expect(jobRequest(form)).toMatchObject({ command: "'work/report metrics.py'", resources: { gpus: 1, cpu: 2, memory: '8G' } });
    expect(formFromJob({ ...job, spec: { ...job.spec, memory: 1500, public_checkpoints: ['gpt2'] } })).toMatchObject({
      memory: '1500',
      checkpoints: ['gpt2'],
      publicCheckpoints: true
    });
  });
});

describe('compare', () => {
  it('reads the older version first', () => {
    const v = (version: number) => ({ id: `${version}`, reference: `a:v${version}`, version }) as Artifact;
    const versions = [v(3), v(2), v(1)];
    expect(comparisonOrder(v(2), 'a:v1', versions)).toEqual(['a:v1', 'a:v2']);
    expect(comparisonOrder(v(2), 'a:v3', versions)).toEqual(['a:v2', 'a:v3']);
    expect(comparisonOrder(v(2), 'other:best', versions)).toEqual(['a:v2', 'other:best']);
  });
});
