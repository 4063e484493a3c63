import { ServerConnection } from '@jupyterlab/services';

import { apiUrl, encodePath, Query, requestAPI } from './handler';

// ---------------------------------------------------------------------------------------------
// What the server sends
// ---------------------------------------------------------------------------------------------

export type ArtifactKind = 'model' | 'checkpoint' | 'dataset';
export const KINDS: ArtifactKind[] = ['model', 'checkpoint', 'dataset'];
export type ArtifactState = 'pending' | 'downloading' | 'ready' | 'failed';

/**
 * Progress as an operation counts it (`bytes_done` ...) or as the store records it on an artifact
 * being saved or fetched (`phase`, `bytes`, `files`, `total_bytes`, `total_files`).
 */
export interface IProgress {
  bytes_done?: number;
  bytes_total?: number | null;
  files_done?: number;
  files_total?: number | null;
  phase?: string;
  bytes?: number;
  files?: number;
  total_bytes?: number | null;
  total_files?: number | null;
  [key: string]: unknown;
}

/** The counts of either kind of progress. */
function progressCounts(progress: IProgress | IOperation) {
  const p = progress as IProgress;
  return {
    bytesDone: p.bytes_done ?? p.bytes ?? 0,
    bytesTotal: p.bytes_total ?? p.total_bytes ?? null,
    filesDone: p.files_done ?? p.files ?? 0,
    filesTotal: p.files_total ?? p.total_files ?? null
  };
}

export interface IArtifact {
  id: string;
  kind: ArtifactKind;
  name: string;
  version: number;
  reference: string;
  aliases: string[];
  state: ArtifactState | string;
  progress?: IProgress | null;
  error?: string | null;
  digest?: string | null;
  size: number;
  file_count: number;
  created_at: number;
  created_by?: string;
  source?: Record<string, unknown>;
  refs?: string[];
  metadata?: Record<string, unknown> | null;
  produced_by?: Record<string, unknown> | null;
  inputs?: Record<string, unknown>[];
  holders?: string[];
}

export interface IArtifactPage {
  artifacts: IArtifact[];
  total: number;
  limit?: number;
  offset?: number;
  next_offset?: number | null;
}

export interface IOperation {
  id: string;
  kind: string;
  description?: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed' | string;
  bytes_done?: number;
  bytes_total?: number | null;
  files_done?: number;
  files_total?: number | null;
  result?: unknown;
  error?: { message?: string; [key: string]: unknown } | string | null;
  created_at?: number;
  started_at?: number | null;
  finished_at?: number | null;
}

export interface ILineageNode {
  id: string;
  kind?: string;
  name?: string;
  version?: number;
  reference?: string;
  state?: string;
  relation?: string;
  produced_by?: Record<string, unknown>;
  children?: ILineageNode[];
}

/** What one worker of a job made: an artifact, or files copied to a URL. */
export interface IWorkerOutput {
  index: number;
  state: string;
  output: ILineageNode | null;
  output_url?: string | null;
}

/** A job that took the artifact as an input (its role: model, checkpoint or dataset). */
export interface IJobUse {
  id: string;
  name: string;
  type?: string;
  state: string;
  roles: string[];
  created_at?: number;
  ended_at?: number | null;
  workers: IWorkerOutput[];
}

export interface ILineage extends ILineageNode {
  inputs?: Record<string, unknown>[];
  upstream?: ILineageNode[];
  downstream?: ILineageNode[];
  used_by?: IJobUse[];
}

export interface IFileEntry {
  path: string;
  size?: number;
  digest?: string;
  mode?: number;
  link?: string;
}

export interface IFilePage {
  files: IFileEntry[];
  total: number;
  next_offset?: number | null;
}

export interface IGpu {
  index: number | string;
  name?: string;
  uuid?: string;
  memory_total?: number | null;
  memory_used?: number | null;
  utilization?: number | null;
  holder?: string | Record<string, unknown> | null;
  holders?: (string | Record<string, unknown>)[];
  [key: string]: unknown;
}

export interface IGpuList {
  gpus: IGpu[];
  queue?: Record<string, unknown>[];
  available?: boolean;
  message?: string;
  source?: string;
}

export interface IReportedMetrics {
  step?: number | null;
  metrics?: Record<string, unknown>;
  time?: number;
}

export interface IWorker {
  idx?: number;
  index?: number;
  state: string;
  error?: string | null;
  gpus?: (number | string)[];
  params?: Record<string, unknown>;
  /** The last line of the worker's metrics.jsonl (what `jupyter_artifacts.worker.report` wrote). */
  last_metrics?: IReportedMetrics | null;
  exit_code?: number | null;
  started_at?: number | null;
  ended_at?: number | null;
  /** The folder of an output that could not be saved, kept to be saved again (null otherwise). */
  kept_output?: string | null;
  [key: string]: unknown;
}

export interface IJob {
  id: string;
  name: string;
  type?: string;
  state: string;
  error?: string | null;
  spec?: Record<string, unknown>;
  created_by?: string | null;
  created_at?: number;
  started_at?: number | null;
  ended_at?: number | null;
  workers?: IWorker[];
  gpus?: (number | string)[];
  [key: string]: unknown;
}

export interface ILogChunk {
  text: string;
  offset: number;
  eof?: boolean;
}

export interface IPublicCheckpoint {
  id: string;
  name?: string;
  description?: string;
  [key: string]: unknown;
}

// ---------------------------------------------------------------------------------------------
// The client: one method per route
// ---------------------------------------------------------------------------------------------

export const PAGE_SIZE = 50;

export interface ICreateRequest {
  kind: ArtifactKind;
  name: string;
  path: string;
  source_type?: string;
  endpoint?: string;
  branch?: string;
  kaggle_type?: string;
}

export interface ISnapshotRequest {
  notebook?: string;
  dir?: string;
  folder: 'models' | 'output';
  kind: 'model' | 'checkpoint';
  name: string;
}

export class ArtifactsClient {
  constructor(
    readonly settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  private get<T>(endPoint: string, query?: Query): Promise<T> {
    return requestAPI<T>(endPoint, { method: 'GET', query }, this.settings);
  }

  private send<T>(method: string, endPoint: string, json?: unknown, query?: Query): Promise<T> {
    return requestAPI<T>(endPoint, { method, json, query }, this.settings);
  }

  listArtifacts(options: {
    kind?: ArtifactKind;
    q?: string;
    name?: string;
    limit?: number;
    offset?: number;
  }): Promise<IArtifactPage> {
    return this.get<IArtifactPage>('artifacts', {
      kind: options.kind,
      q: options.q?.trim(),
      name: options.name,
      limit: options.limit ?? PAGE_SIZE,
      offset: options.offset ?? 0
    }).then(normalizePage);
  }

  getArtifact(ref: string, kind?: ArtifactKind): Promise<IArtifact> {
    return this.get<IArtifact>(`artifacts/${encodePath(ref)}`, { kind });
  }

  createArtifact(body: ICreateRequest): Promise<IOperation> {
    return this.send<IOperation>('POST', 'artifacts', body);
  }

  deleteArtifact(ref: string, kind?: ArtifactKind): Promise<Record<string, unknown>> {
    return this.send('DELETE', `artifacts/${encodePath(ref)}`, undefined, { kind });
  }

  addAlias(ref: string, alias: string, kind?: ArtifactKind): Promise<IArtifact> {
    return this.send('POST', `artifacts/${encodePath(ref)}/aliases`, { alias }, { kind });
  }

  lineage(ref: string, kind?: ArtifactKind): Promise<ILineage> {
    return this.get(`artifacts/${encodePath(ref)}/lineage`, { kind });
  }

  files(ref: string, kind?: ArtifactKind, limit = 200, offset = 0): Promise<IFilePage> {
    return this.get(`artifacts/${encodePath(ref)}/files`, { kind, limit, offset });
  }

  /** The URL that downloads one file of an artifact (for a link). */
  fileUrl(ref: string, path: string, kind?: ArtifactKind): string {
    return apiUrl(`artifacts/${encodePath(ref)}/files/${encodePath(path)}`, { kind }, this.settings);
  }

  /** The URL that downloads a whole artifact as one tar file, streamed by the server. */
  archiveUrl(ref: string, kind?: ArtifactKind): string {
    return apiUrl(`artifacts/${encodePath(ref)}/archive`, { kind }, this.settings);
  }

  /** What Download fetches: a lone file as itself, anything more as one archive; null when empty. */
  download(artifact: IArtifact, files: IFileEntry[]): { url: string; filename: string } | null {
    if (!artifact.file_count) {
      return null;
    }
    const [only] = files;
    if (artifact.file_count === 1 && only && !only.link) {
      return {
        url: this.fileUrl(artifact.reference, only.path, artifact.kind),
        filename: only.path.split('/').pop() ?? only.path
      };
    }
    return {
      url: this.archiveUrl(artifact.reference, artifact.kind),
      filename: `${artifact.name}-v${artifact.version}.tar`
    };
  }

  snapshot(body: ISnapshotRequest): Promise<IOperation> {
    return this.send<IOperation>('POST', 'snapshots', body);
  }

  operation(id: string): Promise<IOperation> {
    return this.get(`operations/${encodeURIComponent(id)}`);
  }

  publicCheckpoints(): Promise<{ checkpoints: IPublicCheckpoint[]; available?: boolean; message?: string }> {
    return this.get('public-checkpoints');
  }

  fetchPublicCheckpoint(id: string): Promise<IOperation> {
    return this.send('POST', `public-checkpoints/${encodePath(id)}`, {});
  }

  gpus(): Promise<IGpuList> {
    return this.get<IGpuList | IGpu[]>('gpus').then(normalizeGpus);
  }

  status(): Promise<Record<string, unknown>> {
    return this.get('status');
  }

  jobs(limit = 100, offset = 0): Promise<IJob[]> {
    return this.get<{ jobs: IJob[] } | IJob[]>('jobs', { limit, offset }).then(data =>
      Array.isArray(data) ? data : data.jobs ?? []
    );
  }

  job(id: string): Promise<IJob> {
    return this.get(`jobs/${encodeURIComponent(id)}`);
  }

  submitJob(body: Record<string, unknown>): Promise<IJob> {
    return this.send<IJob | { job: IJob }>('POST', 'jobs', body).then(data =>
      'job' in data && data.job && typeof data.job === 'object' ? (data.job as IJob) : (data as IJob)
    );
  }

  stopJob(id: string): Promise<IJob> {
    return this.send('POST', `jobs/${encodeURIComponent(id)}/stop`, {});
  }

  /** Save again the output a worker kept because saving it failed. */
  saveJobOutput(id: string, worker: number): Promise<IJob> {
    return this.send('POST', `jobs/${encodeURIComponent(id)}/save-output`, { worker });
  }

  logs(id: string, worker: number, offset: number): Promise<ILogChunk> {
    return this.get<Record<string, unknown>>(`jobs/${encodeURIComponent(id)}/logs`, {
      worker,
      offset
    }).then(data => normalizeLogChunk(data, offset));
  }
}

// ---------------------------------------------------------------------------------------------
// Pure helpers (formatting, paging, validation), unit tested
// ---------------------------------------------------------------------------------------------

/** A list answer, whatever its exact shape, as {artifacts, total}. */
export function normalizePage(data: IArtifactPage | IArtifact[]): IArtifactPage {
  if (Array.isArray(data)) {
    return { artifacts: data, total: data.length, next_offset: null };
  }
  const artifacts = data.artifacts ?? [];
  return { ...data, artifacts, total: data.total ?? artifacts.length };
}

/** A GPU answer, whatever its shape (`gpus` or `devices`), as {gpus}. */
export function normalizeGpus(data: IGpuList | IGpu[] | { devices?: IGpu[] }): IGpuList {
  if (Array.isArray(data)) {
    return { gpus: data };
  }
  const gpus = (data as IGpuList).gpus ?? (data as { devices?: IGpu[] }).devices ?? [];
  return { ...(data as IGpuList), gpus };
}

/** A log answer: `text` (or `lines`) and the offset to ask for next. */
export function normalizeLogChunk(data: Record<string, unknown>, offset: number): ILogChunk {
  let text = '';
  if (typeof data['text'] === 'string') {
    text = data['text'] as string;
  } else if (typeof data['data'] === 'string') {
    text = data['data'] as string;
  } else if (Array.isArray(data['lines'])) {
    text = (data['lines'] as unknown[]).map(line => `${line}\n`).join('');
  }
  const next =
    typeof data['next_offset'] === 'number'
      ? (data['next_offset'] as number)
      : typeof data['offset'] === 'number' && (data['offset'] as number) > offset
        ? (data['offset'] as number)
        : offset + new TextEncoder().encode(text).length;
  const eof = data['eof'] === true || data['complete'] === true || data['finished'] === true;
  return { text, offset: next, eof };
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** 1234567 -> "1.2 MB" (SI units, like the CLI). */
export function formatSize(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) {
    return '—';
  }
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) {
    return `${value} B`;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${UNITS[unit]}`;
}

/** Epoch seconds -> local "YYYY-MM-DD HH:MM". */
export function formatTime(seconds: number | null | undefined): string {
  if (!seconds) {
    return '—';
  }
  const date = new Date(seconds * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

/** Seconds -> "42s", "3m 05s", "2h 03m". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) {
    return '—';
  }
  const s = Math.floor(seconds);
  if (s < 60) {
    return `${s}s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  }
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** How long a job ran (or has been running, `now` in epoch seconds). */
export function jobDuration(job: IJob, now: number = Date.now() / 1000): number | null {
  if (!job.started_at) {
    return null;
  }
  return (job.ended_at ?? now) - job.started_at;
}

/** Done fraction in [0, 1] from bytes (or files), or null when the total is unknown. */
export function progressFraction(progress: IProgress | IOperation | null | undefined): number | null {
  if (!progress) {
    return null;
  }
  const { bytesDone, bytesTotal, filesDone, filesTotal } = progressCounts(progress);
  if (bytesTotal && bytesTotal > 0) {
    return Math.min(1, Math.max(0, bytesDone / bytesTotal));
  }
  if (filesTotal && filesTotal > 0) {
    return Math.min(1, Math.max(0, filesDone / filesTotal));
  }
  return null;
}

/** "45% · 12 MB of 27 MB · 3/7 files" */
export function progressText(progress: IProgress | IOperation | null | undefined): string {
  if (!progress) {
    return '';
  }
  const { bytesDone, bytesTotal, filesDone, filesTotal } = progressCounts(progress);
  const parts: string[] = [];
  const fraction = progressFraction(progress);
  if (fraction !== null) {
    parts.push(`${Math.floor(fraction * 100)}%`);
  }
  if (bytesTotal) {
    parts.push(`${formatSize(bytesDone)} of ${formatSize(bytesTotal)}`);
  } else if (bytesDone) {
    parts.push(formatSize(bytesDone));
  }
  if (filesTotal) {
    parts.push(`${filesDone}/${filesTotal} files`);
  }
  return parts.join(' · ');
}

const STATE_LABELS: Record<string, string> = {
  pending: 'Pending',
  downloading: 'Downloading',
  ready: 'Ready',
  failed: 'Failed',
  queued: 'Queued',
  running: 'Running',
  building: 'Building',
  uploading: 'Uploading',
  stopping: 'Stopping',
  stopped: 'Stopped',
  finished: 'Finished',
  succeeded: 'Succeeded'
};

export function stateLabel(state: string | null | undefined): string {
  if (!state) {
    return 'Unknown';
  }
  return STATE_LABELS[state] ?? state.charAt(0).toUpperCase() + state.slice(1);
}

/** Whether an artifact, operation or job state will still change. */
export function isActiveState(state: string | null | undefined): boolean {
  return ['pending', 'downloading', 'queued', 'running', 'building', 'uploading', 'stopping'].includes(
    state ?? ''
  );
}

export interface IPageInfo {
  page: number;
  pages: number;
  first: number;
  last: number;
  hasPrevious: boolean;
  hasNext: boolean;
}

/** 1-based page numbers and the 1-based range of rows shown, for a pager. */
export function pageInfo(offset: number, limit: number, total: number): IPageInfo {
  const pages = Math.max(1, Math.ceil(total / limit));
  const page = Math.min(pages, Math.floor(offset / limit) + 1);
  return {
    page,
    pages,
    first: total === 0 ? 0 : offset + 1,
    last: Math.min(total, offset + limit),
    hasPrevious: offset > 0,
    hasNext: offset + limit < total
  };
}

/** Who holds a GPU, as text. */
export function holderText(gpu: IGpu): string {
  const holders = [
    ...(gpu.holder ? [gpu.holder] : []),
    ...(Array.isArray(gpu.holders) ? gpu.holders : [])
  ];
  if (!holders.length) {
    return gpu.free === false ? 'busy' : 'free';
  }
  return holders
    .map(h =>
      typeof h === 'string'
        ? h
        : String(h['job_name'] ?? h['name'] ?? h['job'] ?? h['job_id'] ?? h['note'] ?? h['id'] ?? JSON.stringify(h)) +
          (h['worker'] !== undefined ? ` (worker ${h['worker']})` : '')
    )
    .join(', ');
}

/** "3.2 GB / 16 GB (20%)" */
export function gpuMemoryText(gpu: IGpu): string {
  const used = gpu.memory_used;
  const total = gpu.memory_total;
  if (total === undefined || total === null) {
    return used !== undefined && used !== null ? formatSize(used) : '—';
  }
  if (used === undefined || used === null) {
    return `${formatSize(total)} (use unknown)`;
  }
  const percent = total > 0 ? ` (${Math.round((used / total) * 100)}%)` : '';
  return `${formatSize(used)} / ${formatSize(total)}${percent}`;
}

/** The message of an operation's error. */
export function operationError(op: IOperation): string {
  if (!op.error) {
    return '';
  }
  if (typeof op.error === 'string') {
    return op.error;
  }
  return op.error.message ?? JSON.stringify(op.error);
}

/** The workers of a job, with `index` always set. */
export function jobWorkers(job: IJob): IWorker[] {
  return (job.workers ?? []).map((w, i) => ({ ...w, index: w.index ?? w.idx ?? i }));
}

/** A worker's last report, one line each: ["step 3", "accuracy=0.9", "loss=0.12"]; [] before any. */
export function metricsLines(last: IReportedMetrics | null | undefined): string[] {
  const entries = Object.entries(last?.metrics ?? {});
  if (!entries.length) {
    return [];
  }
  const step = last?.step;
  return [
    ...(step !== null && step !== undefined ? [`step ${step}`] : []),
    ...entries.map(
      ([key, value]) => `${key}=${typeof value === 'number' ? Number(value.toPrecision(6)) : JSON.stringify(value)}`
    )
  ];
}

/** All GPUs a job holds. */
export function jobGpus(job: IJob): (number | string)[] {
  if (Array.isArray(job.gpus) && job.gpus.length) {
    return job.gpus;
  }
  const all: (number | string)[] = [];
  for (const w of jobWorkers(job)) {
    for (const g of w.gpus ?? []) {
      if (!all.includes(g)) {
        all.push(g);
      }
    }
  }
  return all;
}

// ---------------------------------------------------------------------------------------------
// Create from a source
// ---------------------------------------------------------------------------------------------

export interface ISourceType {
  /** The `source_type` sent to the server ('' for a public checkpoint, which has its own route). */
  value: string;
  label: string;
  /** The accepted path forms, shown under the Path field. */
  hint: string;
  placeholder: string;
  fields: ('endpoint' | 'branch' | 'kaggle_type')[];
}

export const SOURCE_TYPES: ISourceType[] = [
  {
    value: 'local',
    label: 'Local',
    hint: 'A file or folder inside the Jupyter root folder, relative to it (models/run1) or absolute.',
    placeholder: 'models/run1',
    fields: []
  },
  {
    value: 'aws',
    label: 'AWS',
    hint: 's3://bucket/key',
    placeholder: 's3://bucket/path',
    fields: []
  },
  {
    value: 'azure',
    label: 'Azure',
    hint: 'https://ACCOUNT.blob.core.windows.net/CONTAINER/path or az://CONTAINER/path',
    placeholder: 'az://container/path',
    fields: []
  },
  {
    value: 'gcp',
    label: 'GCP',
    hint: 'gs://bucket/key',
    placeholder: 'gs://bucket/path',
    fields: []
  },
  {
    value: 'git',
    label: 'Git',
    hint: 'https://host/repo.git, ssh://git@host/repo.git, git@host:repo.git or file:///path/repo.git; optional Branch',
    placeholder: 'https://github.com/owner/repo.git',
    fields: ['branch']
  },
  {
    value: 'hf',
    label: 'Hugging Face',
    hint: 'NAMESPACE/REPO (or datasets/NAMESPACE/REPO); optional Branch',
    placeholder: 'openai-community/gpt2',
    fields: ['branch']
  },
  {
    value: 'kaggle',
    label: 'Kaggle',
    hint: 'The short name of a competition, or owner/name of a dataset or kernel, with its Type',
    placeholder: 'owner/dataset-name',
    fields: ['kaggle_type']
  },
  {
    value: 'wasabi',
    label: 'Wasabi',
    hint: 's3://bucket/key, with the Endpoint https://s3.REGION.wasabisys.com',
    placeholder: 's3://bucket/path',
    fields: ['endpoint']
  },
  {
    value: 'web',
    label: 'Web',
    hint: 'http://..., https://..., ftp://... or ftps://...',
    placeholder: 'https://example.org/model.tar.gz',
    fields: []
  },
  {
    value: 'public',
    label: 'Public checkpoint',
    hint: 'The id of a public checkpoint from the list',
    placeholder: '',
    fields: []
  }
];

export const KAGGLE_TYPES = ['competition', 'dataset', 'kernel'];

export interface ICreateForm {
  kind: ArtifactKind;
  name: string;
  sourceType: string;
  path: string;
  endpoint: string;
  branch: string;
  kaggleType: string;
}

export type FormErrors = Partial<Record<string, string>>;

/** Where the cursor goes when a form opens: the first field with an error, else the first field. */
export function focusSelector(errors: FormErrors): string {
  const field = Object.keys(errors).find(key => key !== '_form');
  return field ? `[name="${field}"]` : 'input, select, textarea';
}

/** Names: what the store accepts (letters, digits, spaces, '-', '_', '.'; at most 200). */
export const NAME_RE = /^[A-Za-z0-9 _.-]{1,200}$/;
export const ALIAS_RE = /^[A-Za-z0-9_.-]{1,100}$/;

export function validateName(name: string): string | undefined {
  if (!name.trim()) {
    return 'Give a name.';
  }
  if (name.includes('/') || name.includes(':')) {
    return "A name cannot contain '/' or ':'.";
  }
  if (name.trim() !== name) {
    return 'A name cannot start or end with a space.';
  }
  if (!NAME_RE.test(name) || name === '.' || name === '..') {
    return "Use letters, digits, spaces, '-', '_' and '.' (at most 200 characters).";
  }
  return undefined;
}

export function validateAlias(alias: string): string | undefined {
  if (!ALIAS_RE.test(alias) || alias === 'latest' || /^v\d+$/.test(alias)) {
    return "An alias may hold letters, digits, '-', '_' and '.', and cannot be 'latest' or look like a version (v3).";
  }
  return undefined;
}

const PATH_CHECKS: Record<string, [RegExp, string]> = {
  aws: [/^s3:\/\/[^/]+/, 'An AWS path starts with s3://bucket/'],
  wasabi: [/^s3:\/\/[^/]+/, 'A Wasabi path starts with s3://bucket/'],
  gcp: [/^gs:\/\/[^/]+/, 'A GCP path starts with gs://bucket/'],
  azure: [
    /^(az|abfss?):\/\/[^/]+|^https:\/\/[a-z0-9]{3,24}\.blob\.core\.windows\.net\/[^/]+/,
    'An Azure path is az://CONTAINER/path or https://ACCOUNT.blob.core.windows.net/CONTAINER/path'
  ],
  hf: [
    /^(?:(?:datasets|spaces|models)\/)?[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'A Hugging Face path is NAMESPACE/REPO or datasets/NAMESPACE/REPO'
  ],
  git: [
    /^(https?|ssh|git|file):\/\/.+|^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$/,
    'A Git path is https://host/repo.git, ssh://git@host/repo.git, git@host:repo.git or file:///path/repo.git'
  ],
  kaggle: [
    /^[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/,
    'A Kaggle path is a competition name or owner/name'
  ],
  web: [/^(https?|ftps?):\/\/[^/]+/, 'A web path starts with http://, https://, ftp:// or ftps://']
};

/** Inline errors of the Create dialog; empty when the form can be sent. */
export function validateCreateForm(form: ICreateForm): FormErrors {
  const errors: FormErrors = {};
  const nameError = validateName(form.name);
  if (nameError) {
    errors.name = nameError;
  }
  const type = SOURCE_TYPES.find(t => t.value === form.sourceType);
  if (!type) {
    errors.sourceType = 'Choose a source type.';
    return errors;
  }
  const path = form.path.trim();
  if (!path) {
    errors.path = type.value === 'public' ? 'Choose a public checkpoint.' : 'Give a path.';
  } else if (PATH_CHECKS[type.value] && !PATH_CHECKS[type.value][0].test(path)) {
    errors.path = `${PATH_CHECKS[type.value][1]}.`;
  } else if (type.value === 'local' && /^[a-z][a-z0-9+.-]*:\/\//i.test(path) && !path.startsWith('file://')) {
    errors.path = 'A local path is a path in the Jupyter root folder, not a URL; pick the matching source type.';
  }
  if (type.value === 'wasabi') {
    const endpoint = form.endpoint.trim();
    if (!endpoint) {
      errors.endpoint = 'Wasabi needs its endpoint, e.g. https://s3.eu-central-1.wasabisys.com.';
    } else if (!/^https?:\/\/[^/]+/.test(endpoint)) {
      errors.endpoint = 'The endpoint is a URL such as https://s3.eu-central-1.wasabisys.com.';
    }
  }
  if (type.fields.includes('branch') && /[\s~^:?*[\\]/.test(form.branch.trim())) {
    errors.branch = 'A branch name cannot contain spaces or any of ~ ^ : ? * [ \\.';
  }
  if (type.value === 'kaggle' && !KAGGLE_TYPES.includes(form.kaggleType)) {
    errors.kaggleType = 'Choose competition, dataset or kernel.';
  }
  return errors;
}

/** The POST artifacts body of a valid Create form. */
export function createRequest(form: ICreateForm): ICreateRequest {
  const body: ICreateRequest = {
    kind: form.kind,
    name: form.name,
    path: form.path.trim(),
    source_type: form.sourceType
  };
  const type = SOURCE_TYPES.find(t => t.value === form.sourceType);
  if (type?.fields.includes('endpoint') && form.endpoint.trim()) {
    body.endpoint = form.endpoint.trim();
  }
  if (type?.fields.includes('branch') && form.branch.trim()) {
    body.branch = form.branch.trim();
  }
  if (type?.fields.includes('kaggle_type') && form.kaggleType) {
    body.kaggle_type = form.kaggleType;
  }
  return body;
}

// ---------------------------------------------------------------------------------------------
// Save to
// ---------------------------------------------------------------------------------------------

export interface ISaveForm {
  kind: 'model' | 'checkpoint';
  folder: 'models' | 'output';
  name: string;
}

export function validateSaveForm(form: ISaveForm): FormErrors {
  const errors: FormErrors = {};
  const nameError = validateName(form.name);
  if (nameError) {
    errors.name = nameError;
  }
  if (!['model', 'checkpoint'].includes(form.kind)) {
    errors.kind = 'Choose Checkpoint or Model.';
  }
  if (!['models', 'output'].includes(form.folder)) {
    errors.folder = 'Choose models or output.';
  }
  return errors;
}

/** The POST snapshots body for a file browser item (a notebook or a folder). */
export function snapshotRequest(
  item: { path: string; type: string },
  form: ISaveForm
): ISnapshotRequest {
  const target = item.type === 'directory' ? { dir: item.path || '.' } : { notebook: item.path };
  return { ...target, folder: form.folder, kind: form.kind, name: form.name };
}

/** A default name for a save: the notebook's or folder's name without extension. */
export function defaultSaveName(path: string): string {
  const base = path.split('/').filter(Boolean).pop() ?? '';
  const stem = base.replace(/\.ipynb$/i, '');
  const cleaned = stem.replace(/[^A-Za-z0-9._ -]+/g, '-').replace(/^[^A-Za-z0-9]+|[ ]+$/g, '');
  return cleaned || 'snapshot';
}

// ---------------------------------------------------------------------------------------------
// New job
// ---------------------------------------------------------------------------------------------

export interface IJobForm {
  type: 'training' | 'inference';
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
  if (form.params.trim()) {
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(form.params);
    } catch {
      parsed = null;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      errors.params = 'Hyperparameters: a JSON object such as {"lr": 0.1, "degree": [3, 4]}.';
    }
  }
  return errors;
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
export function jobRequest(form: IJobForm): Record<string, unknown> {
  const resources: Record<string, unknown> = { gpus: parseInt(form.gpus.trim() || '0', 10) };
  if (form.cpu.trim()) {
    resources.cpu = Number(form.cpu);
  }
  if (form.memory.trim()) {
    resources.memory = form.memory.trim();
  }
  const body: Record<string, unknown> = {
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

// ---------------------------------------------------------------------------------------------
// Lineage as a tree
// ---------------------------------------------------------------------------------------------

export interface ITreeNode {
  label: string;
  detail?: string;
  reference?: string;
  /** The kind of the artifact this node is, when known (it may be shown in another tab). */
  kind?: ArtifactKind;
  /** The id of the job this node is, when it is one. */
  job?: string;
  children: ITreeNode[];
}

function producedByText(produced: Record<string, unknown> | undefined | null): string | undefined {
  if (!produced) {
    return undefined;
  }
  const job = produced['job_name'] ?? produced['job'] ?? produced['job_id'] ?? produced['type'];
  const worker = produced['worker'];
  const params = produced['params'];
  const step = produced['step'];
  const parts = [`job ${job ?? '?'}`];
  if (worker !== undefined && worker !== null) {
    parts.push(`worker ${worker}`);
  }
  if (step !== undefined && step !== null) {
    parts.push(`step ${step}`);
  }
  if (params && typeof params === 'object' && Object.keys(params as object).length) {
    parts.push(
      Object.entries(params as Record<string, unknown>)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(', ')
    );
  }
  return parts.join(' · ');
}

function nodeOf(node: ILineageNode): ITreeNode {
  const label = node.reference ?? node.name ?? node.id;
  const detail = [node.kind, node.relation, node.state === 'deleted' ? 'deleted' : undefined]
    .filter(Boolean)
    .join(', ');
  return {
    label: `${label}${detail ? ` (${detail})` : ''}`,
    detail: producedByText(node.produced_by),
    reference: node.reference,
    kind: asKind(node.kind),
    children: (node.children ?? []).map(nodeOf)
  };
}

function asKind(kind: unknown): ArtifactKind | undefined {
  return (KINDS as unknown[]).includes(kind) ? (kind as ArtifactKind) : undefined;
}

/** A worker of a job that used the artifact, and what it made. */
function workerNode(worker: IWorkerOutput): ITreeNode {
  const out = worker.output;
  if (out) {
    const deleted = out.state === 'deleted';
    return {
      label: `worker ${worker.index}: ${out.reference ?? out.id}${deleted ? ' (deleted)' : ''}`,
      reference: deleted ? undefined : out.reference,
      kind: asKind(out.kind),
      children: []
    };
  }
  const made = worker.output_url
    ? `→ ${worker.output_url}`
    : isActiveState(worker.state)
      ? worker.state
      : `no output (${worker.state})`;
  return { label: `worker ${worker.index}: ${made}`, children: [] };
}

/** Where an artifact came from when no job made it: a notebook, a folder or a source. */
export function sourceText(source: Record<string, unknown> | null | undefined): string | undefined {
  if (!source || typeof source !== 'object') {
    return undefined;
  }
  if (source['notebook']) {
    const folder = source['folder'] ? `${source['folder']}/ of ` : '';
    return `saved from ${folder}notebook ${source['notebook']}`;
  }
  if (source['type'] === 'folder' && source['dir'] !== undefined) {
    return `saved from ${source['folder'] ?? ''}/ in folder ${source['dir'] || '/'}`;
  }
  if (source['type'] || source['path']) {
    return `created from ${source['type'] ?? 'source'} ${source['path'] ?? ''}`.trim();
  }
  return undefined;
}

const NONE: ITreeNode = { label: 'none', children: [] };

/** Three branches: what made it (job, params, inputs), what it refers to, what used it (artifacts, and
 * jobs with what each worker made). */
export function lineageTree(
  lineage: ILineage,
  source?: Record<string, unknown> | null
): ITreeNode[] {
  const made: ITreeNode[] = [];
  const produced = producedByText(lineage.produced_by);
  const origin = sourceText(source);
  if (produced) {
    const jobId = lineage.produced_by?.['job_id'];
    made.push({ label: produced, job: typeof jobId === 'string' ? jobId : undefined, children: [] });
  } else if (origin) {
    made.push({ label: origin, children: [] });
  }
  for (const input of lineage.inputs ?? []) {
    const ref = String(input['reference'] ?? input['ref'] ?? input['id'] ?? '?');
    const role = input['role'] ? ` (${input['role']})` : '';
    made.push({ label: `input ${ref}${role}`, reference: ref, kind: asKind(input['role']), children: [] });
  }
  const used: ITreeNode[] = (lineage.downstream ?? []).map(nodeOf);
  for (const job of lineage.used_by ?? []) {
    used.push({
      label: `job ${job.name} (${job.state})`,
      detail: `as ${job.roles.join(', ')}`,
      job: job.id,
      children: job.workers.map(workerNode)
    });
  }
  const upstream = (lineage.upstream ?? []).map(nodeOf);
  return [
    { label: 'Made by', children: made.length ? made : [NONE] },
    { label: 'Refers to', children: upstream.length ? upstream : [NONE] },
    { label: 'Used by', children: used.length ? used : [NONE] }
  ];
}
