import { InputDialog } from '@jupyterlab/apputils';

import type { ArtifactsClient } from '../api/client';
import type { Artifact, Job } from '../api/types';

/** Ask which artifact (ready, newest first) a command acts on; null when cancelled or there is none. */
export async function pickArtifact(client: ArtifactsClient, title: string): Promise<Artifact | null> {
  const { artifacts } = await client.listArtifacts({ state: 'ready', limit: 500 });
  const label = (a: Artifact) => `${a.kind} ${a.reference}`;
  const result = await InputDialog.getItem({ title, items: artifacts.map(label), editable: false });
  return result.button.accept ? (artifacts.find(a => label(a) === result.value) ?? null) : null;
}

/** Ask which job (newest first) to open; null when cancelled or there is none. */
export async function pickJob(client: ArtifactsClient): Promise<Job | null> {
  const jobs = await client.jobs(200);
  const label = (j: Job) => `${j.name} (${j.state}, ${j.id.slice(0, 8)})`;
  const result = await InputDialog.getItem({ title: 'Open a job', items: jobs.map(label), editable: false });
  return result.button.accept ? (jobs.find(j => label(j) === result.value) ?? null) : null;
}
