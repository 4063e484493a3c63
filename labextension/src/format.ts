/** What the views show as text: sizes, times, states, progress, pages, GPUs, holders, digests, the store's use. */
import type { ArtifactProgress, GpuDevice, HolderDetail, Operation } from './api/types';

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

/**
 * Progress as an operation counts it (`bytes_done` ...), or as the store records it on an artifact
 * being saved or fetched (`phase`, `bytes`, `files`, `total_bytes`, `total_files`).
 */
export type Progress =
  | Pick<Operation, 'bytes_done' | 'bytes_total' | 'files_done' | 'files_total'>
  | ArtifactProgress;

/** The counts of either kind of progress. */
function progressCounts(progress: Progress) {
  const op = progress as Pick<Operation, 'bytes_done' | 'bytes_total' | 'files_done' | 'files_total'>;
  const stored = progress as ArtifactProgress;
  return {
    bytesDone: op.bytes_done ?? stored.bytes ?? 0,
    bytesTotal: op.bytes_total ?? stored.total_bytes ?? null,
    filesDone: op.files_done ?? stored.files ?? 0,
    filesTotal: op.files_total ?? stored.total_files ?? null
  };
}

/** Done fraction in [0, 1] from bytes (or files), or null when the total is unknown. */
export function progressFraction(progress: Progress | null | undefined): number | null {
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
export function progressText(progress: Progress | null | undefined): string {
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

/** GPU indexes as "#0, #1" (so that GPU 0 does not read as no GPU). */
export function gpuList(gpus: number[]): string {
  return gpus.length ? gpus.map(g => `#${g}`).join(', ') : '—';
}

/** Who holds a GPU: "free", the job and worker, or the server's note on a job starting up. */
export function holderText(gpu: GpuDevice): string {
  const holder = gpu.holder;
  if (!holder) {
    return 'free';
  }
  if (holder.job_id === null) {
    return holder.note;
  }
  return `${holder.job_name ?? holder.job_id} (worker ${holder.worker})`;
}

/** "3.2 GB / 16 GB (20%)" */
export function gpuMemoryText(gpu: GpuDevice): string {
  const used = gpu.memory_used;
  const total = gpu.memory_total;
  if (total === null) {
    return used !== null ? formatSize(used) : '—';
  }
  if (used === null) {
    return `${formatSize(total)} (use unknown)`;
  }
  const percent = total > 0 ? ` (${Math.round((used / total) * 100)}%)` : '';
  return `${formatSize(used)} / ${formatSize(total)}${percent}`;
}

/** Who holds an artifact, as a person reads it: a kernel by its notebook, a job by its name and worker. */
export function holderLabel(holder: HolderDetail): string {
  if (holder.kind === 'kernel') {
    return holder.notebook ? `notebook ${holder.notebook} (kernel ${holder.pid})` : `kernel ${holder.pid} in ${holder.cwd}`;
  }
  if (holder.kind === 'job') {
    return `job ${holder.job_name}, worker ${holder.worker}`;
  }
  return holder.holder;
}

/** A digest short enough for one line: "blake3:1a2b3c4d…9f0e". */
export function shortDigest(digest: string | null | undefined): string {
  if (!digest) {
    return '—';
  }
  const [algorithm, hex] = digest.includes(':') ? digest.split(':', 2) : ['', digest];
  const short = hex.length > 16 ? `${hex.slice(0, 12)}…${hex.slice(-4)}` : hex;
  return algorithm ? `${algorithm}:${short}` : short;
}

/** The store's use: "1.2 GB used of 10 GB (12%)", or "1.2 GB used" without a quota. */
export function usageText(used: number | null | undefined, quota: number | null | undefined): string {
  if (used === null || used === undefined) {
    return '';
  }
  if (!quota) {
    return `${formatSize(used)} used`;
  }
  return `${formatSize(used)} used of ${formatSize(quota)} (${Math.round((used / quota) * 100)}%)`;
}

/** The notebook line that attaches an artifact: `%attach_checkpoint name:v2` (the magics of `%load_ext jupyter_artifacts`). */
export function attachLine(artifact: { kind: string; reference: string }): string {
  return `%attach_${artifact.kind} ${artifact.reference}`;
}

/** The MIME type of an artifact dragged out of the panel (its kind and reference as JSON). */
export const ARTIFACT_MIME = 'application/x-jupyter-artifact';
