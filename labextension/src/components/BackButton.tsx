import * as React from 'react';

/** Back from details to their list. */
export function BackButton(props: { onClick: () => void }): React.ReactElement {
  return (
    <button className="jp-Button jp-mod-styled jp-Artifacts-back" onClick={props.onClick}>
      ‹ Back
    </button>
  );
}
