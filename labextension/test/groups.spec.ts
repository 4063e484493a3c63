import type { Artifact } from '../src/api/types';
import { groupByJob, groupByName, jobOf, referenceChoices } from '../src/model/groups';

function v(name: string, version: number, patch: Partial<Artifact> = {}): Artifact {
  return { id: `${name}-${version}`, kind: 'checkpoint', name, version, reference: `${name}:v${version}`, state: 'ready', aliases: [], ...patch };
}
const sweep = { type: 'job', job_id: 'j'.repeat(32), job_name: 'sweep', worker: 0 };
const byJob = (name: string, version: number, patch: Partial<Artifact> = {}) => v(name, version, { produced_by: sweep, ...patch });

describe('artifact groups', () => {
  it('puts the versions of a name under its newest, with every alias and its version', () => {
    const groups = groupByName([v('a', 3), v('b', 1, { aliases: ['best'] }), v('a', 2, { aliases: ['prod'] }), v('a', 1)]);
    expect(groups.map(g => [g.name, g.head.reference, g.versions.map(x => x.version)])).toEqual([
      ['a', 'a:v3', [3, 2, 1]],
      ['b', 'b:v1', [1]]
    ]);
    expect(groups[0].aliases).toEqual([{ alias: 'prod', version: 2, reference: 'a:v2' }]);
    // Every version fetched for an expanded name replaces the page's few.
    const known = new Map([['a', [v('a', 3), v('a', 2), v('a', 1), v('a', 0)]]]);
    expect(groupByName([v('a', 3)], known)[0].versions).toHaveLength(4);
  });

  it("groups what jobs made by job, then by name, and knows a job's output by its lineage or its metadata", () => {
    const rows = [
      byJob('Job - sweep Worker 1', 1),
      byJob('Job - sweep Worker 0 Checkpoint', 2),
      byJob('Job - sweep Worker 0 Checkpoint', 1),
      v('mine', 1),
      v('Job - other', 1, { metadata: { job_id: 'k'.repeat(32), job_name: 'other' } })
    ];
    const jobs = groupByJob(rows);
    expect(jobs.map(j => [j.jobName, j.count, j.groups.map(g => `${g.name} (${g.versions.length})`)])).toEqual([
      ['sweep', 3, ['Job - sweep Worker 1 (1)', 'Job - sweep Worker 0 Checkpoint (2)']],
      ['other', 1, ['Job - other (1)']]
    ]);
    expect(jobOf(v('mine', 1))).toBeNull();
    expect(jobOf(byJob('x', 1))).toEqual({ id: 'j'.repeat(32), name: 'sweep' });
  });

  it("offers the user's own references first, aliases as references of their own, and what jobs made apart", () => {
    const choices = referenceChoices([
      v('warm', 2, { aliases: ['best'] }),
      v('warm', 1),
      v('pending', 1, { state: 'pending' }),
      byJob('Job - sweep Worker 0', 1)
    ]);
    expect(choices.mine).toEqual([
      { value: 'warm:best', label: 'warm:best → v2' },
      { value: 'warm:v2', label: 'warm:v2 (best)' },
      { value: 'warm:v1', label: 'warm:v1' }
    ]);
    expect(choices.fromJobs.map(c => c.value)).toEqual(['Job - sweep Worker 0:v1']);
  });
});
