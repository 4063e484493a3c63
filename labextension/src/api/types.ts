/**
 * What the server sends and takes, named. Each type comes from src/api/schema.ts, which
 * `jlpm generate:api` makes from jupyter_artifacts/server/openapi.json (a jest test checks that
 * they match); only where the document says no more than "an object" is the shape the server
 * code gives spelled out here, next to the schema type it narrows.
 */
import type { components, operations } from './schema';

type Schemas = components['schemas'];

/** The JSON body of an operation's answer with that status. */
export type Reply<Op extends keyof operations, Status extends keyof operations[Op]['responses']> =
  operations[Op]['responses'][Status] extends { content: { 'application/json': infer Body } } ? Body : never;

export type ErrorBody = Schemas['Error'];

export type Artifact = Schemas['Artifact'];
export type ArtifactKind = Artifact['kind'];
export const KINDS: ArtifactKind[] = ['model', 'checkpoint', 'dataset'];
/** How far the saving or fetching of a pending or downloading artifact got. */
export type ArtifactProgress = NonNullable<Artifact['progress']>;
export type ArtifactPage = Schemas['ArtifactPage'];
export type FileEntry = Schemas['FileEntry'];
export type FilePage = Schemas['FilePage'];
export type Deleted = Reply<'deleteArtifact', 200>;

/** Who holds an artifact, with a kernel's notebook or a job's id (GET artifacts/{ref} only). */
export type HolderDetail = NonNullable<Artifact['holder_details']>[number];
export type ArtifactQuery = NonNullable<operations['listArtifacts']['parameters']['query']>;

/** GET artifacts/{a}/diff/{b}. */
export type Diff = Reply<'diffArtifacts', 200>;
export type DiffFile = NonNullable<Diff['files']>[number];

export type Lineage = Schemas['Lineage'];
export type LineageNode = Schemas['LineageNode'];
/** A job that took the artifact as an input. */
export type JobUse = Schemas['JobUse'];
/** What one worker of such a job made: an artifact, or files copied to a URL. */
export type WorkerOutput = JobUse['workers'][number];

export type Operation = Schemas['Operation'];
export type CreateArtifact = Schemas['CreateArtifact'];
export type Snapshot = Schemas['Snapshot'];
export type PublicCheckpoint = Schemas['PublicCheckpoint'];
export type PublicCheckpoints = Reply<'listPublicCheckpoints', 200>;

export type JobSpec = Schemas['JobSpec'];
export type JobLogs = Schemas['JobLogs'];
export type JobMetrics = Schemas['JobMetrics'];
export type MetricsPoint = Schemas['MetricsPoint'];
export type DeletedJob = Reply<'deleteJob', 200>;
/** A checkpoint a job's GC deleted or kept (`gc.collect`'s entries). */
export interface GcEntry {
  id: string;
  worker?: number;
  step?: number | null;
  metric?: number | null;
  reference?: string | null;
  reason?: string;
}
/** What a job's checkpoint GC did (`gc_result`): what it deleted and what it kept, and why. */
export type GcResult = Omit<Schemas['GcResult'], 'deleted' | 'protected'> & { deleted?: GcEntry[]; protected?: GcEntry[] };
/** A checkpoint a worker saved (`JobManager._job`'s `checkpoints`). */
export interface JobCheckpoint {
  id: string;
  worker: number;
  step: number | null;
  metrics: Record<string, unknown>;
  created_at: number;
  deleted: boolean;
  reference: string | null;
}
/** What a worker made, as a job's `workers[].output` names it. */
export interface OutputRef {
  id: string;
  kind: ArtifactKind | null;
  reference: string | null;
  state: string;
}

/** GET status: the store's use against its quota. */
export type StoreStatus = Reply<'getStatus', 200>;

/** A line of a worker's metrics.jsonl, as `jupyter_artifacts.worker.report` writes it. */
export interface ReportedMetrics {
  step?: number | null;
  metrics?: Record<string, unknown>;
  time?: number;
}

/** A worker: `JobManager._job` sends every field (the document marks none required). */
export type Worker = Omit<Schemas['Worker'], 'output'> & {
  index: number;
  state: string;
  last_metrics?: ReportedMetrics | null;
  output?: OutputRef | null;
};
export type Job = Omit<Schemas['Job'], 'workers' | 'checkpoints' | 'gc_result'> & {
  workers: Worker[];
  checkpoints?: JobCheckpoint[];
  gc_result?: GcResult | null;
};
export type JobPage = Omit<Schemas['JobPage'], 'jobs'> & { jobs: Job[] };

/** Who holds a GPU (`JobManager.gpus`): a worker of a job, or a job still starting up. */
export type GpuHolder =
  | { job_id: string; job_name: string | null; worker: number; state: string }
  | { job_id: null; note: string };

/** A device of the inventory (`Device.to_dict` with `free`, `holder` and `memory_used`). */
export interface GpuDevice {
  index: number;
  name: string;
  uuid: string | null;
  memory_total: number | null;
  memory_used: number | null;
  free: boolean;
  holder: GpuHolder | null;
}

/** GET gpus: the document lists its keys, `JobManager.gpus` sends each, devices as above. */
export type GpuInventory = Omit<Required<Reply<'getGpus', 200>>, 'devices'> & { devices: GpuDevice[] };
