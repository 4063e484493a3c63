import * as React from 'react';

import type { Worker } from '../api/types';

/** A worker whose output could not be saved: where it is kept, and Save output again. */
export function KeptOutput(props: { worker: Worker; onSave: () => void }): React.ReactElement {
  const w = props.worker;
  return (
    <div className="jp-Artifacts-formError jp-Artifacts-kept" data-kept-worker={w.index}>
      <div>
        The output of worker {w.index} was not saved; it is kept in{' '}
        <span className="jp-Artifacts-mono">{w.kept_output}</span>.
      </div>
      <button className="jp-Button jp-mod-styled jp-mod-accept" onClick={props.onSave}>
        Save output again
      </button>
    </div>
  );
}
