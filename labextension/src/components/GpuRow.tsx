import * as React from 'react';

import type { GpuDevice } from '../api/types';
import { gpuMemoryText, holderText } from '../format';
import { ProgressBar } from './ProgressBar';

/** A GPU of the host, or of a node of the Ray cluster (the `ray` executor): then `node` names it. */
export type ClusterGpu = GpuDevice & { node?: string | null };

/** One GPU: its name (and node), who holds it, and its memory in use. */
export function GpuRow(props: { gpu: ClusterGpu }): React.ReactElement {
  const { gpu } = props;
  const used = gpu.memory_used;
  const total = gpu.memory_total ?? 0;
  return (
    <li
      className="jp-Artifacts-row jp-Artifacts-gpu"
      data-gpu={gpu.index}
      data-node={gpu.node ?? undefined}
      data-free={gpu.free}
    >
      <div className="jp-Artifacts-rowMain">
        <span className="jp-Artifacts-name">{gpu.node ? `${gpu.node} GPU ${gpu.index}` : `GPU ${gpu.index}`}</span>
        <span className="jp-Artifacts-muted">{gpu.name}</span>
      </div>
      <div className="jp-Artifacts-rowMeta">
        <span>Holder: {holderText(gpu)}</span>
        <span>{gpuMemoryText(gpu)}</span>
      </div>
      {total > 0 && used !== null && <ProgressBar progress={{ bytes_done: used, bytes_total: total }} />}
    </li>
  );
}
