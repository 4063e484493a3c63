/** The New job dialog's form (the fields of the notebook's job form widget) and the POST jobs body. */
import type { Job, JobSpec } from '../api/types';
import { jsonError } from './json';
import { FormErrors, validateName } from './validation';

export interface IJobForm {
  type: JobSpec['type'];
  name: string;
  /** What each worker runs: a shell command, or a script file in the job's working folder. */
  run: 'command' | 'script';
  command: string;
  /** A script's path, relative to the working folder (the Jupyter root folder). */
  script: string;
  gpus: string;
  cpu: string;
  memory: string;
  /** A model reference, '' for none. */
  model: string;
  /** Checkpoint references, or public checkpoint ids when `publicCheckpoints`. */
  checkpoints: string[];
  publicCheckpoints: boolean;
  /** Dataset references. */
  data: string[];
  /** A data manifest (a file in the Jupyter root folder or a URL), '' for none. */
  manifest: string;
  output: 'checkpoint' | 'model' | 'url';
  outputUri: string;
  /** JSON object; list values form a grid. */
  params: string;
}

/** A job form as New job opens it: training, a command, one GPU, a checkpoint out, the rest empty. */
export function newJobForm(patch: Partial<IJobForm> = {}): IJobForm {
  return {
    type: 'training',
    name: '',
    run: 'command',
    command: '',
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
  };
}

export const MEMORY_RE = /^\s*\d+(\.\d+)?\s*[KMGT]?B?\s*$/i;

/** A default job name: type and local time, e.g. training-20240501-1532. */
export function defaultJobName(type: string, now: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${type}-${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-` +
    `${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`
  );
}

export function validateJobForm(form: IJobForm, maxGpus?: number): FormErrors {
  const errors: FormErrors = {};
  const nameError = validateName(form.name);
  if (nameError) {
    errors.name = nameError;
  }
  if (form.run === 'script') {
    if (!form.script.trim()) {
      errors.script = 'Give the path of the script each worker runs, e.g. train.py, or switch to Command.';
    } else if (/[\n\r\0]/.test(form.script)) {
      errors.script = 'A script path is one line.';
    }
  } else if (!form.command.trim()) {
    errors.command = 'Give the command each worker runs, e.g. python train.py, or switch to Script.';
  }
  const gpus = form.gpus.trim() || '0';
  if (!/^\d+$/.test(gpus)) {
    errors.gpus = 'GPUs: a whole number, 0 or more.';
  } else if (maxGpus !== undefined && parseInt(gpus, 10) > maxGpus) {
    errors.gpus = `This host has ${maxGpus} GPUs; ask for at most ${maxGpus}.`;
  }
  if (form.cpu.trim() && !(Number(form.cpu) > 0)) {
    errors.cpu = 'CPU: a number of cores more than 0, such as 1, 2 or 0.5.';
  }
  if (form.memory.trim() && !MEMORY_RE.test(form.memory)) {
    errors.memory = 'Memory: a number of bytes, or a number with K, M, G or T (8G).';
  }
  if (form.type === 'inference' && !form.model && !form.checkpoints.length) {
    errors.model = 'An inference job needs a model or a checkpoint.';
  }
  if (form.output === 'url' && !/^[a-z][a-z0-9+.-]*:\/\/.+/i.test(form.outputUri.trim())) {
    errors.outputUri = 'Give the output URI, such as s3://bucket/folder, or choose Checkpoint or Model.';
  }
  const grid = workerGrid(form.params);
  if (grid.error) {
    errors.params = grid.error;
  }
  return errors;
}

/** How many workers the hyperparameters make: one per combination of their list values. */
export interface IWorkerGrid {
  workers: number;
  /** Each list value's name and length, in the order typed. */
  axes: [string, number][];
  /** What is wrong with the text (with its line and column), when something is. */
  error?: string;
}

export function workerGrid(params: string): IWorkerGrid {
  if (!params.trim()) {
    return { workers: 1, axes: [] };
  }
  const mistake = jsonError(params);
  if (mistake) {
    return {
      workers: 0,
      axes: [],
      error: `Hyperparameters, line ${mistake.line}, column ${mistake.column}: ${mistake.message}.`
    };
  }
  const parsed: unknown = JSON.parse(params);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { workers: 0, axes: [], error: 'Hyperparameters: a JSON object such as {"lr": 0.1, "degree": [3, 4]}.' };
  }
  const axes = Object.entries(parsed as Record<string, unknown>)
    .filter(([, value]) => Array.isArray(value))
    .map(([key, value]) => [key, (value as unknown[]).length] as [string, number]);
  const empty = axes.find(([, n]) => n === 0);
  if (empty) {
    return { workers: 0, axes, error: `Hyperparameters: ${empty[0]} has an empty list; give it at least one value.` };
  }
  return { workers: axes.reduce((n, [, length]) => n * length, 1), axes };
}

/** "This makes 6 workers (lr × 3, degree × 2)." */
export function gridText(grid: IWorkerGrid): string {
  if (grid.error) {
    return '';
  }
  const axes = grid.axes.length ? ` (${grid.axes.map(([key, n]) => `${key} × ${n}`).join(', ')})` : '';
  return `This makes ${grid.workers} worker${grid.workers === 1 ? '' : 's'}${axes}.`;
}

/** The form of a job already run, for Run again: its spec as the form holds it (the name kept). */
export function formFromJob(job: Job): IJobForm {
  const spec = (job.spec ?? {}) as Record<string, unknown>;
  const list = (key: string) => (Array.isArray(spec[key]) ? (spec[key] as unknown[]).map(String) : []);
  const text = (key: string) => (typeof spec[key] === 'string' ? (spec[key] as string) : '');
  const output = text('output') || 'checkpoint';
  const publicCheckpoints = list('public_checkpoints');
  const params = { ...(spec['params'] as object | undefined), ...(spec['hyperparameters'] as object | undefined) };
  const memory = spec['memory'];
  return newJobForm({
    type: job.type === 'inference' ? 'inference' : 'training',
    name: job.name,
    run: 'command',
    command: text('command'),
    gpus: String(spec['gpus'] ?? 0),
    cpu: spec['cpu'] ? String(spec['cpu']) : '',
    memory: typeof memory === 'number' && memory > 0 ? memoryText(memory) : '',
    model: text('model'),
    checkpoints: publicCheckpoints.length ? publicCheckpoints : list('checkpoints'),
    publicCheckpoints: publicCheckpoints.length > 0,
    data: list('data'),
    output: output === 'checkpoint' || output === 'model' ? output : 'url',
    outputUri: output === 'checkpoint' || output === 'model' ? '' : output,
    params: Object.keys(params).length ? JSON.stringify(params, null, 1) : ''
  });
}

/** Bytes as the Memory field takes them, exactly: 8000000000 -> "8G", 1500 -> "1500". */
function memoryText(bytes: number): string {
  for (const [unit, size] of [['T', 1e12], ['G', 1e9], ['M', 1e6], ['K', 1e3]] as [string, number][]) {
    if (bytes % size === 0) {
      return `${bytes / size}${unit}`;
    }
  }
  return String(bytes);
}

/** A word for a POSIX shell, quoted only when it must be: Python's shlex.quote, so that a script
 * path gives the same command from the panel as from the notebook's job form. */
export function shellQuote(word: string): string {
  if (!word) {
    return "''";
  }
  if (!/[^\w@%+=:,./-]/.test(word)) {
    return word;
  }
  return `'${word.replace(/'/g, `'"'"'`)}'`;
}

/** The POST jobs body of a valid job form. */
export function jobRequest(form: IJobForm): JobSpec {
  const resources: NonNullable<JobSpec['resources']> = { gpus: parseInt(form.gpus.trim() || '0', 10) };
  if (form.cpu.trim()) {
    resources.cpu = Number(form.cpu);
  }
  if (form.memory.trim()) {
    resources.memory = form.memory.trim();
  }
  const body: JobSpec = {
    type: form.type,
    name: form.name,
    command: form.run === 'script' ? shellQuote(form.script.trim()) : form.command.trim(),
    resources,
    output: form.output === 'url' ? form.outputUri.trim() : form.output
  };
  if (form.model) {
    body.model = form.model;
  }
  if (form.checkpoints.length) {
    body[form.publicCheckpoints ? 'public_checkpoints' : 'checkpoints'] = [...form.checkpoints];
  }
  if (form.data.length) {
    body.data = [...form.data];
  }
  if (form.manifest.trim()) {
    body.data_manifest = form.manifest.trim();
  }
  if (form.params.trim()) {
    body.hyperparameters = JSON.parse(form.params);
  }
  return body;
}
