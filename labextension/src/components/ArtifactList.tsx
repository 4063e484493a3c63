import * as React from 'react';

import { openCreate } from '../dialogs/create';
import type { IVersionGroup } from '../model/groups';
import { ISection, Origin, PAGE_SIZE } from '../model/artifacts';
import type { PanelModel } from '../model/panel';
import { ArtifactRow } from './ArtifactRow';
import { FilterBox } from './FilterBox';
import { Operations } from './Operations';
import { Pager } from './Pager';
import { useSignal } from './useSignal';

/** A name's newest version, and its other versions under it when expanded. */
function VersionGroup(props: { model: PanelModel; group: IVersionGroup }): React.ReactElement {
  const { model, group } = props;
  const list = model.artifacts;
  const expanded = list.isExpanded(group.key);
  const open = (reference: string) => model.details.select(reference);
  return (
    <>
      <ArtifactRow
        artifact={group.head}
        onSelect={() => open(group.head.reference)}
        versions={{ count: group.versions.length, expanded, onToggle: () => list.toggle(group.key) }}
      />
      {expanded &&
        group.versions
          .slice(1)
          .map(v => <ArtifactRow key={v.id} artifact={v} nested onSelect={() => open(v.reference)} />)}
    </>
  );
}

function SectionPager(props: { model: PanelModel; section: ISection }): React.ReactElement | null {
  const { section } = props;
  const list = props.model.artifacts;
  const total = section.page?.total ?? 0;
  if (total <= PAGE_SIZE) {
    return null;
  }
  return (
    <Pager
      offset={section.offset}
      limit={PAGE_SIZE}
      total={total}
      onOffset={offset => list.setOffset(section.origin as Origin, offset)}
    />
  );
}

/** What jobs made: counted, and when opened, grouped by job then by name. */
function JobOutputs(props: { model: PanelModel }): React.ReactElement | null {
  const { model } = props;
  const list = model.artifacts;
  const total = list.fromJobs.page?.total ?? 0;
  if (!total) {
    return null;
  }
  const shown = list.jobOutputsShown;
  return (
    <section className="jp-Artifacts-jobOutputs" aria-label="Made by jobs">
      <button className="jp-Artifacts-sectionToggle" aria-expanded={shown} onClick={() => list.toggleJobOutputs()}>
        {shown ? '▾' : '▸'} Made by jobs ({total})
      </button>
      {shown && (
        <ul className="jp-Artifacts-list">
          {list.jobGroups.map(job => {
            const expanded = list.isExpanded(job.key);
            return (
              <React.Fragment key={job.key}>
                <li className="jp-Artifacts-jobGroup" data-job={job.jobId}>
                  <button className="jp-Artifacts-linkButton" aria-expanded={expanded} onClick={() => list.toggle(job.key)}>
                    {expanded ? '▾' : '▸'} job {job.jobName}
                  </button>
                  <span className="jp-Artifacts-muted">
                    {job.count} {job.count === 1 ? 'artifact' : 'artifacts'}
                  </span>
                  <button className="jp-Artifacts-linkButton" onClick={() => model.openJob(job.jobId)}>
                    Open job
                  </button>
                </li>
                {expanded && job.groups.map(group => <VersionGroup key={group.key} model={model} group={group} />)}
              </React.Fragment>
            );
          })}
        </ul>
      )}
      {shown && <SectionPager model={model} section={list.fromJobs} />}
    </section>
  );
}

/**
 * A tab of one kind: the filter, Create, the operations followed, what people saved (a row per name,
 * its versions under it) with its pager, then what jobs made, grouped by job.
 */
export function ArtifactList(props: { model: PanelModel }): React.ReactElement {
  const { model } = props;
  const list = model.artifacts;
  useSignal(list.changed);
  const page = list.mine.page;
  const jobsMade = list.fromJobs.page?.total ?? 0;
  React.useEffect(() => {
    // Back from details: the row of the artifact that was open takes the focus.
    const previous = model.details.previous;
    if (previous) {
      document.querySelector<HTMLElement>(`#jupyter-artifacts-panel .jp-Artifacts-row[data-reference="${CSS.escape(previous)}"]`)?.focus();
    }
  }, []);
  return (
    <div className="jp-Artifacts-listView">
      <div className="jp-Artifacts-toolbar">
        <FilterBox model={list} />
        <button
          className="jp-Button jp-mod-styled jp-mod-accept jp-Artifacts-create"
          onClick={() => void openCreate(model)}
        >
          Create
        </button>
      </div>
      <Operations model={model.operations} />
      {!page ? (
        <div className="jp-Artifacts-empty">Loading…</div>
      ) : page.artifacts.length === 0 ? (
        <div className="jp-Artifacts-empty">
          {list.filter
            ? jobsMade
              ? `Nothing saved by you matches “${list.filter}”; what jobs made does (below).`
              : `Nothing matches “${list.filter}”.`
            : jobsMade
              ? 'Nothing saved by you yet; what jobs made is below.'
              : 'Nothing saved yet.'}
        </div>
      ) : (
        <ul className="jp-Artifacts-list" aria-label="Saved and created">
          {list.groups.map(group => (
            <VersionGroup key={group.key} model={model} group={group} />
          ))}
        </ul>
      )}
      <SectionPager model={model} section={list.mine} />
      <JobOutputs model={model} />
    </div>
  );
}
