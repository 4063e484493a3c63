import { createRequest, ICreateForm, validateCreateForm } from '../src/dialogs/createForm';
import { defaultJobName, IJobForm, jobRequest, newJobForm, shellQuote, validateJobForm } from '../src/dialogs/jobForm';
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
});
