/** Artifact lists as the panel shows them: the versions of a name under one row, a job's outputs under one. */
import type { Artifact } from '../api/types';

/** The versions of one name, newest first. */
export interface IVersionGroup {
  /** `name:NAME`, the key under which the group is expanded. */
  key: string;
  name: string;
  /** The newest version known. */
  head: Artifact;
  versions: Artifact[];
  /** Each alias of the name with the version it points to, in the order of the versions. */
  aliases: { alias: string; version: number; reference: string }[];
}

/** What one job made: its names, each with its versions. */
export interface IJobGroup {
  /** `job:ID`. */
  key: string;
  jobId: string;
  jobName: string;
  groups: IVersionGroup[];
  /** How many artifacts of the page the job made. */
  count: number;
}

/** The job that made an artifact (its `produced_by`, or the metadata a job's outputs carry); null for others. */
export function jobOf(artifact: Artifact): { id: string; name: string } | null {
  for (const record of [artifact.produced_by, artifact.metadata]) {
    const id = record?.['job_id'];
    if (typeof id === 'string' && id) {
      const name = record?.['job_name'];
      return { id, name: typeof name === 'string' && name ? name : id.slice(0, 8) };
    }
  }
  return null;
}

/** `name:NAME` (the key of a name's group). */
function nameKey(name: string): string {
  return `name:${name}`;
}

/**
 * Rows grouped by name in the order they come (newest first). `known` holds every version of names
 * fetched whole (expanded groups): those replace the page's own.
 */
export function groupByName(rows: Artifact[], known: ReadonlyMap<string, Artifact[]> = new Map()): IVersionGroup[] {
  const byName = new Map<string, Artifact[]>();
  for (const row of rows) {
    const list = byName.get(row.name) ?? [];
    list.push(row);
    byName.set(row.name, list);
  }
  return [...byName].map(([name, onPage]) => {
    const versions = [...(known.get(name) ?? onPage)].sort((a, b) => b.version - a.version);
    return {
      key: nameKey(name),
      name,
      head: versions[0],
      versions,
      aliases: versions.flatMap(v => (v.aliases ?? []).map(alias => ({ alias, version: v.version, reference: v.reference })))
    };
  });
}

/** Rows grouped by the job that made them (newest job first), then by name; rows no job made are left out. */
export function groupByJob(rows: Artifact[], known: ReadonlyMap<string, Artifact[]> = new Map()): IJobGroup[] {
  const byJob = new Map<string, { name: string; rows: Artifact[] }>();
  for (const row of rows) {
    const job = jobOf(row);
    if (!job) {
      continue;
    }
    const entry = byJob.get(job.id) ?? { name: job.name, rows: [] };
    entry.rows.push(row);
    byJob.set(job.id, entry);
  }
  return [...byJob].map(([jobId, entry]) => ({
    key: `job:${jobId}`,
    jobId,
    jobName: entry.name,
    groups: groupByName(entry.rows, known),
    count: entry.rows.length
  }));
}

/** A checkpoint, model or dataset to choose in a form: its reference, and a label with its aliases. */
export interface IChoice {
  value: string;
  label: string;
}

/**
 * What a job form offers for one kind: each ready version (`name:vN`, its aliases in the label) and
 * each alias as a reference of its own (`name:best`), the user's own first, then what jobs made.
 */
export function referenceChoices(artifacts: Artifact[]): { mine: IChoice[]; fromJobs: IChoice[] } {
  const ready = artifacts.filter(a => a.state === 'ready');
  const choices = (rows: Artifact[]) =>
    groupByName(rows).flatMap(group => [
      ...group.aliases.map(a => ({ value: `${group.name}:${a.alias}`, label: `${group.name}:${a.alias} → v${a.version}` })),
      ...group.versions.map(v => ({
        value: v.reference,
        label: v.aliases?.length ? `${v.reference} (${v.aliases.join(', ')})` : v.reference
      }))
    ]);
  return { mine: choices(ready.filter(a => !jobOf(a))), fromJobs: choices(ready.filter(a => jobOf(a))) };
}
