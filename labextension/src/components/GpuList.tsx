import * as React from 'react';

import type { GpusModel } from '../model/gpus';
import { ClusterGpu, GpuRow } from './GpuRow';
import { useSignal } from './useSignal';

/** The GPUs tab: each device of the host, or of each node of the Ray cluster. */
export function GpuList(props: { model: GpusModel }): React.ReactElement {
  useSignal(props.model.changed);
  const inventory = props.model.inventory;
  if (!inventory) {
    return <div className="jp-Artifacts-empty">Loading…</div>;
  }
  if (!inventory.devices.length) {
    const where = inventory.source === 'ray' ? 'the Ray cluster' : 'this host';
    return <div className="jp-Artifacts-empty">No GPUs on {where}.</div>;
  }
  const devices: ClusterGpu[] = inventory.devices;
  return (
    <ul className="jp-Artifacts-list jp-Artifacts-gpus">
      {devices.map(gpu => (
        <GpuRow key={`${gpu.node ?? ''}:${gpu.index}`} gpu={gpu} />
      ))}
    </ul>
  );
}
