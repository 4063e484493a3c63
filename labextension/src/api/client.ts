import { ServerConnection } from '@jupyterlab/services';

import { apiUrl, encodePath, Query, requestAPI } from './request';
import type {
  Artifact,
  ArtifactKind,
  ArtifactPage,
  ArtifactQuery,
  CreateArtifact,
  Deleted,
  DeletedJob,
  Diff,
  FileEntry,
  FilePage,
  GpuInventory,
  Job,
  JobLogs,
  JobMetrics,
  JobPage,
  JobSpec,
  Lineage,
  Operation,
  PublicCheckpoints,
  Snapshot,
  StoreStatus
} from './types';

/** The REST API of the server extension: one method per route the panel uses. */
export class ArtifactsClient {
  constructor(readonly settings: ServerConnection.ISettings = ServerConnection.makeSettings()) {}

  private get<T>(endPoint: string, query?: Query): Promise<T> {
    return requestAPI<T>(endPoint, { method: 'GET', query }, this.settings);
  }

  private send<T>(method: string, endPoint: string, json?: unknown, query?: Query): Promise<T> {
    return requestAPI<T>(endPoint, { method, json, query }, this.settings);
  }

  /** A page of artifacts, newest first (`q`: part of a name, an id, an alias or a reference). */
  listArtifacts(options: ArtifactQuery & { limit: number }): Promise<ArtifactPage> {
    const { kind, q, name, state, origin, job, limit, offset } = options;
    return this.get('artifacts', { kind, q: q?.trim(), name, state, origin, job, limit, offset: offset ?? 0 });
  }

  getArtifact(ref: string, kind?: ArtifactKind): Promise<Artifact> {
    return this.get(`artifacts/${encodePath(ref)}`, { kind });
  }

  createArtifact(body: CreateArtifact): Promise<Operation> {
    return this.send('POST', 'artifacts', body);
  }

  deleteArtifact(ref: string, kind?: ArtifactKind): Promise<Deleted> {
    return this.send('DELETE', `artifacts/${encodePath(ref)}`, undefined, { kind });
  }

  addAlias(ref: string, alias: string, kind?: ArtifactKind): Promise<Artifact> {
    return this.send('POST', `artifacts/${encodePath(ref)}/aliases`, { alias }, { kind });
  }

  removeAlias(ref: string, alias: string, kind?: ArtifactKind): Promise<Artifact> {
    return this.send('DELETE', `artifacts/${encodePath(ref)}/aliases/${encodePath(alias)}`, undefined, { kind });
  }

  /** Files added, removed and changed from `a` to `b`, each with its sizes. */
  diff(a: string, b: string, kind?: ArtifactKind): Promise<Diff> {
    return this.get(`artifacts/${encodePath(a)}/diff/${encodePath(b)}`, { kind });
  }

  /** The store's use against its quota. */
  status(): Promise<StoreStatus> {
    return this.get('status');
  }

  lineage(ref: string, kind?: ArtifactKind): Promise<Lineage> {
    return this.get(`artifacts/${encodePath(ref)}/lineage`, { kind });
  }

  files(ref: string, kind?: ArtifactKind, limit = 200, offset = 0): Promise<FilePage> {
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
  download(artifact: Artifact, files: FileEntry[]): { url: string; filename: string } | null {
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

  snapshot(body: Snapshot): Promise<Operation> {
    return this.send('POST', 'snapshots', body);
  }

  operation(id: string): Promise<Operation> {
    return this.get(`operations/${encodeURIComponent(id)}`);
  }

  publicCheckpoints(): Promise<PublicCheckpoints> {
    return this.get('public-checkpoints');
  }

  fetchPublicCheckpoint(id: string): Promise<Operation> {
    return this.send('POST', `public-checkpoints/${encodePath(id)}`, {});
  }

  gpus(): Promise<GpuInventory> {
    return this.get('gpus');
  }

  jobs(limit = 100, offset = 0): Promise<Job[]> {
    return this.get<JobPage>('jobs', { limit, offset }).then(page => page.jobs);
  }

  job(id: string): Promise<Job> {
    return this.get(`jobs/${encodeURIComponent(id)}`);
  }

  submitJob(body: JobSpec): Promise<Job> {
    return this.send('POST', 'jobs', body);
  }

  /** Forget an ended job (what it made stays). */
  deleteJob(id: string): Promise<DeletedJob> {
    return this.send('DELETE', `jobs/${encodeURIComponent(id)}`);
  }

  /** Every worker's reported metrics over its steps. */
  jobMetrics(id: string): Promise<JobMetrics> {
    return this.get(`jobs/${encodeURIComponent(id)}/metrics`);
  }

  stopJob(id: string): Promise<Job> {
    return this.send('POST', `jobs/${encodeURIComponent(id)}/stop`, {});
  }

  /** Save again the output a worker kept because saving it failed. */
  saveJobOutput(id: string, worker: number): Promise<Job> {
    return this.send('POST', `jobs/${encodeURIComponent(id)}/save-output`, { worker });
  }

  /** One worker's log from `offset` (0, then the `offset` the last answer gave). */
  logs(id: string, worker: number, offset: JobLogs['offset']): Promise<JobLogs> {
    return this.get(`jobs/${encodeURIComponent(id)}/logs`, { worker, offset });
  }
}
