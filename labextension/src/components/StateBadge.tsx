import * as React from 'react';

import { isActiveState, Progress, progressFraction, stateLabel } from '../format';

/** A state as a label, with the percentage done while it is active. */
export function StateBadge(props: { state: string; progress?: Progress | null }): React.ReactElement {
  const fraction = progressFraction(props.progress);
  return (
    <span className={`jp-Artifacts-state jp-Artifacts-state-${props.state}`} data-state={props.state}>
      {stateLabel(props.state)}
      {isActiveState(props.state) && fraction !== null && ` ${Math.floor(fraction * 100)}%`}
    </span>
  );
}
