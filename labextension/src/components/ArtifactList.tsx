import * as React from 'react';

import { openCreate } from '../dialogs/create';
import { PAGE_SIZE } from '../model/artifacts';
import type { PanelModel } from '../model/panel';
import { ArtifactRow } from './ArtifactRow';
import { FilterBox } from './FilterBox';
import { Operations } from './Operations';
import { Pager } from './Pager';
import { useSignal } from './useSignal';

/** A tab of one kind: the filter, Create, the operations followed, a page of artifacts and the pager. */
export function ArtifactList(props: { model: PanelModel }): React.ReactElement {
  const { model } = props;
  const list = model.artifacts;
  useSignal(list.changed);
  const page = list.page;
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
          {list.filter ? `Nothing matches “${list.filter}”.` : 'Nothing saved yet.'}
        </div>
      ) : (
        <ul className="jp-Artifacts-list">
          {page.artifacts.map(a => (
            <ArtifactRow key={a.id} artifact={a} onSelect={() => model.details.select(a.reference)} />
          ))}
        </ul>
      )}
      {page && page.total > PAGE_SIZE && (
        <Pager offset={list.offset} limit={PAGE_SIZE} total={page.total} onOffset={offset => list.setOffset(offset)} />
      )}
    </div>
  );
}
