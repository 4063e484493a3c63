import * as React from 'react';

import { Progress, progressFraction, progressText } from '../format';

/** A bar filled to the fraction done; moving back and forth while the total is unknown. */
export function ProgressBar(props: { progress: Progress | null | undefined }): React.ReactElement {
  const fraction = progressFraction(props.progress);
  return (
    <div className="jp-Artifacts-progress" title={progressText(props.progress)}>
      <div
        className={`jp-Artifacts-progressBar${fraction === null ? ' jp-mod-indeterminate' : ''}`}
        style={{ width: `${Math.round((fraction ?? 0.3) * 100)}%` }}
      />
    </div>
  );
}
