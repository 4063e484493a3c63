import * as React from 'react';

import { pageInfo } from '../format';

/** Newer and Older around the range of rows shown ("51–100 of 10,000"). */
export function Pager(props: {
  offset: number;
  limit: number;
  total: number;
  onOffset: (offset: number) => void;
}): React.ReactElement {
  const { offset, limit, total, onOffset } = props;
  const info = pageInfo(offset, limit, total);
  return (
    <div className="jp-Artifacts-pager">
      <button className="jp-Button jp-mod-styled" disabled={!info.hasPrevious} onClick={() => onOffset(offset - limit)}>
        ‹ Newer
      </button>
      <span>
        {info.first}–{info.last} of {total.toLocaleString()}
      </span>
      <button className="jp-Button jp-mod-styled" disabled={!info.hasNext} onClick={() => onOffset(offset + limit)}>
        Older ›
      </button>
    </div>
  );
}
