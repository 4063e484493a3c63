import * as React from 'react';

import type { ArtifactKind, DiffFile } from '../api/types';
import { formatSize } from '../format';
import { IPair, paramsOf, recordPairs, sideBySide, sizeChange } from '../model/compare';
import type { CompareModel } from '../model/compare';
import { Section } from './Section';
import { useSignal } from './useSignal';

/** Keys with each side's value; the rows that differ are marked. */
function Pairs(props: { pairs: IPair[]; a: string; b: string; empty: string; name: string }): React.ReactElement {
  if (!props.pairs.length) {
    return <div className="jp-Artifacts-muted">{props.empty}</div>;
  }
  return (
    <table className="jp-Artifacts-kv jp-Artifacts-pairs" data-pairs={props.name}>
      <thead>
        <tr>
          <th scope="col" />
          <th scope="col">{props.a}</th>
          <th scope="col">{props.b}</th>
        </tr>
      </thead>
      <tbody>
        {props.pairs.map(p => (
          <tr key={p.key} className={p.differs ? 'jp-mod-differs' : ''} data-key={p.key} data-differs={p.differs}>
            <th scope="row">
              {p.key}
              {p.differs && <span className="jp-Artifacts-differs"> (differs)</span>}
            </th>
            <td>{p.a}</td>
            <td>{p.b}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const CHANGES: { change: DiffFile['change']; label: string }[] = [
  { change: 'added', label: 'Added' },
  { change: 'removed', label: 'Removed' },
  { change: 'changed', label: 'Changed' }
];

/** Two versions side by side: their files added, removed and changed with sizes, records, metadata, parameters and metrics. */
export function CompareView(props: {
  model: CompareModel;
  onOpen: (reference: string, kind?: ArtifactKind) => void;
}): React.ReactElement {
  const { model } = props;
  useSignal(model.changed);
  const [shown, setShown] = React.useState<DiffFile['change'] | 'all'>('all');
  const c = model.comparison;
  if (!c) {
    return (
      <div className="jp-Artifacts-view">
        {model.error ? <div className="jp-Artifacts-formError">{model.error}</div> : <div className="jp-Artifacts-empty">Comparing…</div>}
      </div>
    );
  }
  const { a, b, diff } = c;
  const files = (diff.files ?? []).filter(f => shown === 'all' || f.change === shown);
  const count = (change: DiffFile['change']) => diff[change]?.length ?? 0;
  return (
    <div className="jp-Artifacts-view jp-Artifacts-compareView" data-a={a.reference} data-b={b.reference}>
      <h2 className="jp-Artifacts-title">
        <button className="jp-Artifacts-linkButton" onClick={() => props.onOpen(a.reference, a.kind)}>{a.reference}</button>
        {' → '}
        <button className="jp-Artifacts-linkButton" onClick={() => props.onOpen(b.reference, b.kind)}>{b.reference}</button>
      </h2>
      <p className="jp-Artifacts-compareSummary" data-summary>
        {diff.same_content
          ? 'Same content: every file is identical.'
          : `${count('added')} added, ${count('removed')} removed, ${count('changed')} changed, ${diff.unchanged ?? 0} unchanged; ` +
            `${formatSize(a.size)} → ${formatSize(b.size)}.`}
      </p>
      <Section title="Files" name="files">
        {diff.files?.length ? (
          <>
            <div className="jp-Artifacts-segments" role="group" aria-label="Show">
              {[{ change: 'all' as const, label: 'All' }, ...CHANGES].map(s => (
                <button
                  key={s.change}
                  className={`jp-Artifacts-segment${shown === s.change ? ' jp-mod-active' : ''}`}
                  aria-pressed={shown === s.change}
                  onClick={() => setShown(s.change)}
                >
                  {s.label}
                  {s.change !== 'all' ? ` (${count(s.change)})` : ''}
                </button>
              ))}
            </div>
            <table className="jp-Artifacts-kv jp-Artifacts-diffFiles">
              <thead>
                <tr>
                  <th scope="col">File</th>
                  <th scope="col">Change</th>
                  <th scope="col" className="jp-Artifacts-num">{a.reference}</th>
                  <th scope="col" className="jp-Artifacts-num">{b.reference}</th>
                  <th scope="col" className="jp-Artifacts-num">Size change</th>
                </tr>
              </thead>
              <tbody>
                {files.map(f => (
                  <tr key={f.path} data-path={f.path} data-change={f.change}>
                    <td className="jp-Artifacts-mono">{f.path}</td>
                    <td>
                      <span className={`jp-Artifacts-change jp-mod-${f.change}`}>{f.change}</span>
                    </td>
                    <td className="jp-Artifacts-num">{typeof f.size_a === 'number' ? formatSize(f.size_a) : '—'}</td>
                    <td className="jp-Artifacts-num">{typeof f.size_b === 'number' ? formatSize(f.size_b) : '—'}</td>
                    <td className="jp-Artifacts-num">{sizeChange(f)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {diff.files_truncated && <div className="jp-Artifacts-muted">Only the first 5,000 files that differ are listed.</div>}
          </>
        ) : (
          <div className="jp-Artifacts-muted">No file differs.</div>
        )}
      </Section>
      <Section title="Record" name="record">
        <Pairs name="record" pairs={recordPairs(a, b)} a={a.reference} b={b.reference} empty="" />
      </Section>
      <Section title="Metrics" name="metrics">
        <Pairs
          name="metrics"
          pairs={sideBySide(c.metrics[0], c.metrics[1])}
          a={a.reference}
          b={b.reference}
          empty="Neither carries metrics (a job's checkpoints and outputs do)."
        />
      </Section>
      <Section title="Parameters" name="params">
        <Pairs name="params" pairs={sideBySide(paramsOf(a), paramsOf(b))} a={a.reference} b={b.reference} empty="No job made either." />
      </Section>
      <Section title="Metadata" name="metadata">
        <Pairs name="metadata" pairs={sideBySide(a.metadata, b.metadata)} a={a.reference} b={b.reference} empty="Neither has metadata." />
      </Section>
    </div>
  );
}
