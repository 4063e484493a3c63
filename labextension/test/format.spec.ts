import type { GpuDevice } from '../src/api/types';
import { TOAST_LENGTH, toastText } from '../src/model/notify';
import {
  attachLine,
  formatDuration,
  formatSize,
  gpuList,
  gpuMemoryText,
  holderLabel,
  holderText,
  isActiveState,
  pageInfo,
  progressFraction,
  progressText,
  shortDigest,
  usageText,
  stateLabel
} from '../src/format';

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

describe('pages', () => {
  it('pages 10,000 artifacts', () => {
    expect(pageInfo(0, 50, 10_000)).toEqual({ page: 1, pages: 200, first: 1, last: 50, hasPrevious: false, hasNext: true });
    expect(pageInfo(9_950, 50, 10_000)).toMatchObject({ page: 200, first: 9_951, last: 10_000, hasNext: false });
    expect(pageInfo(0, 50, 0)).toMatchObject({ page: 1, pages: 1, first: 0, last: 0, hasNext: false });
  });

});

describe('GPUs', () => {
  const device = (patch: Partial<GpuDevice>): GpuDevice => ({
    index: 0,
    name: 'Simulated GPU',
    uuid: null,
    memory_total: 16e9,
    memory_used: null,
    free: true,
    holder: null,
    ...patch
  });

  it('says who holds a device, as JobManager.gpus reports it', () => {
    expect(holderText(device({}))).toBe('free');
    const busy = { free: false };
    expect(holderText(device({ ...busy, holder: { job_id: null, note: 'held by a job starting up' } }))).toBe(
      'held by a job starting up'
    );
    const worker = { job_id: 'j1', job_name: 'train', worker: 1, state: 'running' };
    expect(holderText(device({ ...busy, holder: worker }))).toBe('train (worker 1)');
    // The job's row is gone (job_name null): its id.
    expect(holderText(device({ ...busy, holder: { ...worker, job_name: null } }))).toBe('j1 (worker 1)');
  });

  it('describes memory in use', () => {
    expect(gpuMemoryText(device({ memory_used: 4e9 }))).toBe('4.0 GB / 16.0 GB (25%)');
    expect(gpuMemoryText(device({ memory_total: null }))).toBe('—');
    expect(gpuMemoryText(device({ memory_total: null, memory_used: 2e9 }))).toBe('2.0 GB');
    expect(gpuMemoryText(device({}))).toBe('16.0 GB (use unknown)');
    expect(gpuList([0, 1])).toBe('#0, #1');
    expect(gpuList([])).toBe('—');
  });
});

describe('what the panel shows of holders, digests, the store and the notebook', () => {
  it('names a kernel by its notebook and a job by its name and worker', () => {
    expect(holderLabel({ holder: 'kernel 7 (/w)', kind: 'kernel', pid: 7, cwd: '/w', notebook: 'work/train.ipynb' })).toBe(
      'notebook work/train.ipynb (kernel 7)'
    );
    expect(holderLabel({ holder: 'kernel 7 (/w)', kind: 'kernel', pid: 7, cwd: '/w', notebook: null })).toBe('kernel 7 in /w');
    expect(holderLabel({ holder: 'job fit (0123abcd) worker 1', kind: 'job', job_name: 'fit', job_id: '0123abcd', worker: 1 })).toBe(
      'job fit, worker 1'
    );
    expect(holderLabel({ holder: 'someone', kind: 'other' })).toBe('someone');
  });

  it('shortens a digest to one line, and says how full the store is', () => {
    expect(shortDigest(`blake3:${'ab'.repeat(32)}`)).toBe('blake3:abababababab…abab');
    expect(shortDigest(null)).toBe('—');
    expect(usageText(1_200_000_000, 10_000_000_000)).toBe('1.2 GB used of 10.0 GB (12%)');
    expect(usageText(1_200_000_000, null)).toBe('1.2 GB used');
    expect(usageText(undefined, null)).toBe('');
    expect(attachLine({ kind: 'checkpoint', reference: 'warm:v2' })).toBe('%attach_checkpoint warm:v2');
    expect(attachLine({ kind: 'dataset', reference: 'rows:best' })).toBe('%attach_dataset rows:best');
  });

  it('cuts a long error for its toast, at a word', () => {
    expect(toastText('short')).toBe('short');
    const long = `${'word '.repeat(40)}end`;
    const cut = toastText(long);
    expect(cut.length).toBeLessThanOrEqual(TOAST_LENGTH + 1);
    expect(cut.endsWith('word…')).toBe(true);
  });
});
