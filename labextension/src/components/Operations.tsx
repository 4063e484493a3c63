import * as React from 'react';

import { progressText } from '../format';
import type { OperationsModel } from '../model/operations';
import { ProgressBar } from './ProgressBar';
import { StateBadge } from './StateBadge';
import { useSignal } from './useSignal';

/** The saves and creates being followed, each with its progress. */
export function Operations(props: { model: OperationsModel }): React.ReactElement | null {
  const { model } = props;
  useSignal(model.changed);
  const ops = model.tracked;
  if (!ops.length) {
    return null;
  }
  return (
    <div className="jp-Artifacts-operations">
      {ops.map(op => (
        <div key={op.id} className="jp-Artifacts-operation" data-state={op.state}>
          <div className="jp-Artifacts-operationTitle">
            <span>{op.description || op.kind}</span>
            <StateBadge state={op.state} progress={op} />
          </div>
          {!['succeeded', 'failed'].includes(op.state) && <ProgressBar progress={op} />}
          <div className="jp-Artifacts-muted">{progressText(op)}</div>
        </div>
      ))}
    </div>
  );
}
