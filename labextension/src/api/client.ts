import { ServerConnection } from '@jupyterlab/services';

import { apiUrl, encodePath, Query, requestAPI } from './request';
import type {
  Artifact,
  ArtifactKind,
  ArtifactPage,
  CreateArtifact,
  Deleted,
  FileEntry,
  FilePage,
  GpuInventory,
  Job,
  JobLogs,
  JobPage,
  JobSpec,
  Lineage,
  Operation,
  PublicCheckpoints,
  Snapshot
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

  listArtifacts(options: {
    kind?: ArtifactKind;
    q?: string;
    name?: string;
    limit: number;
    offset?: number;
  }): Promise<ArtifactPage> {
    return this.get('artifacts', {
      kind: options.kind,
      q: options.q?.trim(),
      name: options.name,
      limit: options.limit,
      offset: options.offset ?? 0
    });
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
