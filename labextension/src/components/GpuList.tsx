import * as React from 'react';

import type { GpusModel } from '../model/gpus';
import { GpuRow } from './GpuRow';
import { useSignal } from './useSignal';

/** The GPUs tab: each device of the host. */
export function GpuList(props: { model: GpusModel }): React.ReactElement {
  useSignal(props.model.changed);
  const inventory = props.model.inventory;
  if (!inventory) {
    return <div className="jp-Artifacts-empty">Loading…</div>;
  }
  if (!inventory.devices.length) {
    return <div className="jp-Artifacts-empty">No GPUs on this host.</div>;
  }
  return (
    <ul className="jp-Artifacts-list jp-Artifacts-gpus">
      {inventory.devices.map(gpu => (
        <GpuRow key={gpu.index} gpu={gpu} />
      ))}
    </ul>
  );
}
