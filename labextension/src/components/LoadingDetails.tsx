import * as React from 'react';

import { BackButton } from './BackButton';

/** Details not loaded yet: Back (in the sidebar), and what is loading. */
export function LoadingDetails(props: { what?: string; onBack?: () => void }): React.ReactElement {
  return (
    <div className="jp-Artifacts-details">
      {props.onBack && <BackButton onClick={props.onBack} />}
      <div className="jp-Artifacts-empty">Loading{props.what ? ` ${props.what}` : ''}…</div>
    </div>
  );
}
