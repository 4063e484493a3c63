import { Clipboard, Dialog, InputDialog, Notification, showDialog } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Poll } from '@lumino/polling';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { createDialog, newJobDialog } from './dialogs';
import { refreshFrequency, refreshPoll } from './refresh';
import { ArtifactsModel, IDetails, isKind, notifyError, Tab, TABS } from './model';
import {
  ArtifactKind,
  formatDuration,
  formatSize,
  formatTime,
  gpuMemoryText,
  holderText,
  IArtifact,
  IJob,
  IOperation,
  isActiveState,
  ITreeNode,
  jobDuration,
  jobGpus,
  jobWorkers,
  lineageTree,
  metricsLines,
  pageInfo,
  PAGE_SIZE,
  progressFraction,
  progressText,
  stateLabel,
  validateAlias
} from './models';

/** GPU indexes as "#0, #1" (so that GPU 0 does not read as no GPU). */
function gpuList(gpus: (number | string)[]): string {
  return gpus.length ? gpus.map(g => `#${g}`).join(', ') : '—';
}

/** Re-render when the model changes. */
function useModel(model: ArtifactsModel): number {
  const [tick, setTick] = React.useState(0);
  React.useEffect(() => {
    const onChange = () => setTick(t => t + 1);
    model.changed.connect(onChange);
    return () => {
      model.changed.disconnect(onChange);
    };
  }, [model]);
  return tick;
}

function StateBadge(props: { state: string; progress?: IArtifact['progress'] | IOperation }) {
  const fraction = progressFraction(props.progress ?? null);
  return (
    <span className={`jp-Artifacts-state jp-Artifacts-state-${props.state}`} data-state={props.state}>
      {stateLabel(props.state)}
      {isActiveState(props.state) && fraction !== null && ` ${Math.floor(fraction * 100)}%`}
    </span>
  );
}

function ProgressBar(props: { progress: IArtifact['progress'] | IOperation | null | undefined }) {
  const fraction = progressFraction(props.progress ?? null);
  return (
    <div className="jp-Artifacts-progress" title={progressText(props.progress)}>
      <div
        className={`jp-Artifacts-progressBar${fraction === null ? ' jp-mod-indeterminate' : ''}`}
        style={{ width: `${Math.round((fraction ?? 0.3) * 100)}%` }}
      />
    </div>
  );
}

function Operations(props: { model: ArtifactsModel }) {
  const ops = props.model.operations;
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

// ---------------------------------------------------------------------------------------------
// Artifacts
// ---------------------------------------------------------------------------------------------

function FilterBox(props: { model: ArtifactsModel }) {
  const { model } = props;
  const [text, setText] = React.useState(model.filter);
  React.useEffect(() => setText(model.filter), [model.tab]);
  React.useEffect(() => {
    if (text === model.filter) {
      return;
    }
    const timer = setTimeout(() => model.setFilter(text), 250);
    return () => clearTimeout(timer);
  }, [text]);
  return (
    <input
      className="jp-mod-styled jp-Artifacts-filter"
      type="search"
      placeholder="Filter by name, alias or id"
      value={text}
      onChange={event => setText(event.target.value)}
    />
  );
}

function ArtifactRow(props: { artifact: IArtifact; onSelect: () => void }) {
  const a = props.artifact;
  return (
    <li
      className="jp-Artifacts-row"
      data-reference={a.reference}
      data-state={a.state}
      tabIndex={0}
      onClick={props.onSelect}
      onKeyDown={event => event.key === 'Enter' && props.onSelect()}
      title={`${a.reference} — open details`}
    >
      <div className="jp-Artifacts-rowMain">
        <span className="jp-Artifacts-name">{a.name}</span>
        <span className="jp-Artifacts-version">v{a.version}</span>
        {a.aliases?.map(alias => (
          <span key={alias} className="jp-Artifacts-alias">
            {alias}
          </span>
        ))}
        <StateBadge state={a.state} progress={a.progress} />
      </div>
      {isActiveState(a.state) && <ProgressBar progress={a.progress} />}
      <div className="jp-Artifacts-rowMeta">
        <span>{formatSize(a.size)}</span>
        <span>{a.file_count === 1 ? '1 file' : `${a.file_count} files`}</span>
        <span title={a.created_by}>{a.created_by || '—'}</span>
        <span>{formatTime(a.created_at)}</span>
      </div>
    </li>
  );
}

function ArtifactList(props: { model: ArtifactsModel }) {
  const { model } = props;
  const page = model.page;
  const info = pageInfo(model.offset, PAGE_SIZE, page?.total ?? 0);
  return (
    <div className="jp-Artifacts-listView">
      <div className="jp-Artifacts-toolbar">
        <FilterBox model={model} />
        <button
          className="jp-Button jp-mod-styled jp-mod-accept jp-Artifacts-create"
          onClick={() => void openCreate(model)}
        >
          Create
        </button>
      </div>
      <Operations model={model} />
      {!page ? (
        <div className="jp-Artifacts-empty">Loading…</div>
      ) : page.artifacts.length === 0 ? (
        <div className="jp-Artifacts-empty">
          {model.filter ? `Nothing matches “${model.filter}”.` : 'Nothing saved yet.'}
        </div>
      ) : (
        <ul className="jp-Artifacts-list">
          {page.artifacts.map(a => (
            <ArtifactRow key={a.id} artifact={a} onSelect={() => model.selectArtifact(a.reference)} />
          ))}
        </ul>
      )}
      {page && page.total > PAGE_SIZE && (
        <div className="jp-Artifacts-pager">
          <button
            className="jp-Button jp-mod-styled"
            disabled={!info.hasPrevious}
            onClick={() => model.setOffset(model.offset - PAGE_SIZE)}
          >
            ‹ Newer
          </button>
          <span>
            {info.first}–{info.last} of {page.total.toLocaleString()}
          </span>
          <button
            className="jp-Button jp-mod-styled"
            disabled={!info.hasNext}
            onClick={() => model.setOffset(model.offset + PAGE_SIZE)}
          >
            Older ›
          </button>
        </div>
      )}
    </div>
  );
}

async function openCreate(model: ArtifactsModel): Promise<void> {
  const kind = isKind(model.tab) ? model.tab : 'checkpoint';
  const op = await createDialog(model.client, kind);
  if (op) {
    model.track(op);
  }
}

function Tree(props: {
  nodes: ITreeNode[];
  onOpen: (reference: string, kind?: ArtifactKind) => void;
  onOpenJob: (id: string) => void;
}) {
  return (
    <ul className="jp-Artifacts-tree">
      {props.nodes.map((node, i) => (
        <li key={i}>
          {node.reference ? (
            <a className="jp-Artifacts-link" onClick={() => props.onOpen(node.reference!, node.kind)}>
              {node.label}
            </a>
          ) : node.job ? (
            <a className="jp-Artifacts-link" data-job={node.job} onClick={() => props.onOpenJob(node.job!)}>
              {node.label}
            </a>
          ) : (
            <span>{node.label}</span>
          )}
          {node.detail && <span className="jp-Artifacts-muted"> — {node.detail}</span>}
          {node.children.length > 0 && (
            <Tree nodes={node.children} onOpen={props.onOpen} onOpenJob={props.onOpenJob} />
          )}
        </li>
      ))}
    </ul>
  );
}

function KeyValues(props: { data: Record<string, unknown> | null | undefined }) {
  const entries = Object.entries(props.data ?? {});
  if (!entries.length) {
    return <div className="jp-Artifacts-muted">None</div>;
  }
  return (
    <table className="jp-Artifacts-kv">
      <tbody>
        {entries.map(([key, value]) => (
          <tr key={key}>
            <th>{key}</th>
            <td>{typeof value === 'string' ? value : JSON.stringify(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Section(props: { title: string; name: string; children: React.ReactNode }) {
  return (
    <section className="jp-Artifacts-section" data-section={props.name}>
      <h3>{props.title}</h3>
      {props.children}
    </section>
  );
}

async function confirmDelete(model: ArtifactsModel, a: IArtifact): Promise<void> {
  const aliases = a.aliases?.length ? ` and its aliases ${a.aliases.join(', ')}` : '';
  const result = await showDialog({
    title: `Delete ${a.kind} ${a.reference}?`,
    body:
      `This deletes ${a.reference} (${formatSize(a.size)}, ${a.file_count} files)${aliases}. ` +
      'Its files are removed from the store unless another artifact has the same content. ' +
      'This cannot be undone.',
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
  });
  if (result.button.accept) {
    await model.deleteArtifact(a);
  }
}

async function addAlias(model: ArtifactsModel, a: IArtifact): Promise<void> {
  let alias = '';
  for (;;) {
    const result = await InputDialog.getText({
      title: `Add an alias to ${a.reference}`,
      label: validateAlias(alias) && alias ? validateAlias(alias) : 'Alias (e.g. best, production)',
      text: alias,
      okLabel: 'Add'
    });
    if (!result.button.accept || !result.value) {
      return;
    }
    alias = result.value.trim();
    if (!validateAlias(alias)) {
      break;
    }
  }
  try {
    await model.client.addAlias(a.reference, alias, a.kind);
    Notification.success(`${a.name}:${alias} now points to ${a.reference}.`, { autoClose: 4000 });
    model.selectArtifact(a.reference);
  } catch (error) {
    notifyError(error, `Cannot add the alias ${alias}`);
  }
}

function download(model: ArtifactsModel, details: IDetails): void {
  const target = model.client.download(details.artifact, details.files?.files ?? []);
  if (!target) {
    Notification.warning('There are no files to download.', { autoClose: 4000 });
    return;
  }
  const link = document.createElement('a');
  link.href = target.url;
  link.download = target.filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
}

function ArtifactDetails(props: { model: ArtifactsModel }) {
  const { model } = props;
  const details = model.details;
  const back = (
    <button className="jp-Button jp-mod-styled jp-Artifacts-back" onClick={() => model.selectArtifact(null)}>
      ‹ Back
    </button>
  );
  if (!details) {
    return (
      <div className="jp-Artifacts-details">
        {back}
        <div className="jp-Artifacts-empty">Loading {model.selectedArtifact}…</div>
      </div>
    );
  }
  const a = details.artifact;
  const holders = a.holders ?? [];
  return (
    <div className="jp-Artifacts-details" data-reference={a.reference} data-state={a.state}>
      {back}
      <h2 className="jp-Artifacts-title">
        {a.reference} <StateBadge state={a.state} progress={a.progress} />
      </h2>
      {isActiveState(a.state) && (
        <>
          <ProgressBar progress={a.progress} />
          <div className="jp-Artifacts-muted">{progressText(a.progress)}</div>
        </>
      )}
      {a.error && <div className="jp-Artifacts-formError">{a.error}</div>}
      <div className="jp-Artifacts-actions">
        <button
          className="jp-Button jp-mod-styled"
          onClick={() => {
            Clipboard.copyToSystem(a.reference);
            Notification.info(`Copied ${a.reference}.`, { autoClose: 2000 });
          }}
        >
          Copy reference
        </button>
        <button className="jp-Button jp-mod-styled" disabled={a.state !== 'ready'} onClick={() => void addAlias(model, a)}>
          Add alias
        </button>
        <button className="jp-Button jp-mod-styled" disabled={a.state !== 'ready'} onClick={() => download(model, details)}>
          Download
        </button>
        <button className="jp-Button jp-mod-styled jp-mod-warn" onClick={() => void confirmDelete(model, a)}>
          Delete
        </button>
      </div>
      {details.refusedHolders.length > 0 && (
        <div className="jp-Artifacts-inUse">
          Cannot delete: in use by {details.refusedHolders.join(', ')}.
        </div>
      )}
      <table className="jp-Artifacts-kv">
        <tbody>
          <tr><th>Kind</th><td>{a.kind}</td></tr>
          <tr><th>Aliases</th><td>{a.aliases?.join(', ') || '—'}</td></tr>
          <tr><th>Size</th><td>{formatSize(a.size)}</td></tr>
          <tr><th>Files</th><td>{a.file_count}</td></tr>
          <tr><th>Created</th><td>{formatTime(a.created_at)} by {a.created_by || '—'}</td></tr>
          <tr><th>Digest</th><td className="jp-Artifacts-mono">{a.digest ?? '—'}</td></tr>
          <tr><th>Id</th><td className="jp-Artifacts-mono">{a.id}</td></tr>
          <tr><th>In use by</th><td>{holders.length ? holders.join(', ') : 'nobody'}</td></tr>
        </tbody>
      </table>
      <Section title="Source" name="source">
        <KeyValues data={a.source} />
      </Section>
      <Section title="Metadata" name="metadata">
        <KeyValues data={a.metadata} />
      </Section>
      <Section title="Refs" name="refs">
        {a.refs?.length ? a.refs.join(', ') : <span className="jp-Artifacts-muted">None</span>}
      </Section>
      <Section title="Lineage" name="lineage">
        {details.lineage ? (
          <Tree
            nodes={lineageTree(
              { ...details.lineage, produced_by: a.produced_by ?? details.lineage.produced_by },
              a.source
            )}
            onOpen={(ref, kind) => model.open(ref, kind)}
            onOpenJob={id => model.showJob(id)}
          />
        ) : (
          <span className="jp-Artifacts-muted">{a.state === 'ready' ? 'Loading…' : 'When it is ready.'}</span>
        )}
      </Section>
      <Section title={`Files (${a.file_count})`} name="files">
        {details.files ? (
          <ul className="jp-Artifacts-files">
            {details.files.files.map(f => (
              <li key={f.path}>
                <a href={model.client.fileUrl(a.reference, f.path, a.kind)} download>
                  {f.path}
                </a>
                <span className="jp-Artifacts-muted">
                  {f.link ? ` → ${f.link}` : ` ${formatSize(f.size)}`}
                </span>
              </li>
            ))}
            {details.files.total > details.files.files.length && (
              <li className="jp-Artifacts-muted">
                … and {details.files.total - details.files.files.length} more
              </li>
            )}
          </ul>
        ) : (
          <span className="jp-Artifacts-muted">{a.state === 'ready' ? 'Loading…' : 'When it is ready.'}</span>
        )}
      </Section>
    </div>
  );
}

// ---------------------------------------------------------------------------------------------
// Jobs
// ---------------------------------------------------------------------------------------------

async function openNewJob(model: ArtifactsModel): Promise<void> {
  const job = await newJobDialog(model.client);
  if (job) {
    Notification.success(`Launched job ${job.name ?? job.id}.`, { autoClose: 4000 });
    if (job.id) {
      model.selectJob(job.id);
    }
  }
}

function JobList(props: { model: ArtifactsModel }) {
  const { model } = props;
  const jobs = model.jobs;
  return (
    <div className="jp-Artifacts-listView">
      <div className="jp-Artifacts-toolbar">
        <span className="jp-Artifacts-muted">{jobs ? `${jobs.length} jobs` : ''}</span>
        <button className="jp-Button jp-mod-styled jp-mod-accept jp-Artifacts-newJob" onClick={() => void openNewJob(model)}>
          New job
        </button>
      </div>
      {!jobs ? (
        <div className="jp-Artifacts-empty">Loading…</div>
      ) : jobs.length === 0 ? (
        <div className="jp-Artifacts-empty">No jobs yet.</div>
      ) : (
        <ul className="jp-Artifacts-list">
          {jobs.map(job => (
            <li
              key={job.id}
              className="jp-Artifacts-row jp-Artifacts-jobRow"
              data-job={job.id}
              data-name={job.name}
              data-state={job.state}
              tabIndex={0}
              onClick={() => model.selectJob(job.id)}
              onKeyDown={event => event.key === 'Enter' && model.selectJob(job.id)}
            >
              <div className="jp-Artifacts-rowMain">
                <span className="jp-Artifacts-name">{job.name}</span>
                <StateBadge state={job.state} />
              </div>
              <div className="jp-Artifacts-rowMeta">
                <span>{job.type ?? ''}</span>
                <span>GPUs {gpuList(jobGpus(job))}</span>
                <span>{jobWorkers(job).length || (job['worker_count'] as number) || 0} workers</span>
                <span>{formatDuration(jobDuration(job))}</span>
              </div>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Follows one worker's log while the job runs. */
function JobLog(props: { model: ArtifactsModel; job: IJob; worker: number }) {
  const { model, job, worker } = props;
  const [text, setText] = React.useState('');
  const state = React.useRef({ offset: 0, text: '', done: false });
  const pre = React.useRef<HTMLPreElement>(null);
  const running = isActiveState(job.state);
  const runningRef = React.useRef(running);
  runningRef.current = running;

  React.useEffect(() => {
    state.current = { offset: 0, text: '', done: false };
    setText('');
    const poll = new Poll({
      factory: async () => {
        if (state.current.done) {
          return;
        }
        const wasRunning = runningRef.current;
        const chunk = await model.client.logs(job.id, worker, state.current.offset);
        if (chunk.text) {
          state.current.text = (state.current.text + chunk.text).slice(-500_000);
          setText(state.current.text);
        }
        state.current.offset = chunk.offset;
        if (!wasRunning && (chunk.eof || !chunk.text)) {
          state.current.done = true;
          void poll.stop();
        }
      },
      frequency: { interval: 1000, backoff: true, max: 10000 },
      standby: 'when-hidden',
      name: 'jupyter-artifacts:logs'
    });
    return () => poll.dispose();
  }, [job.id, worker]);

  // Follow the end of the log unless the user scrolled up to read.
  const follow = React.useRef(true);
  React.useEffect(() => {
    const node = pre.current;
    if (node && follow.current) {
      node.scrollTop = node.scrollHeight;
    }
  }, [text]);
  const onScroll = () => {
    const node = pre.current;
    if (node) {
      follow.current = node.scrollHeight - node.scrollTop - node.clientHeight < 24;
    }
  };

  return (
    <pre ref={pre} className="jp-Artifacts-log" data-worker={worker} onScroll={onScroll}>
      {text || (running ? 'Waiting for output…' : 'No output.')}
    </pre>
  );
}

function JobDetails(props: { model: ArtifactsModel }) {
  const { model } = props;
  const job = model.job;
  const [worker, setWorker] = React.useState(0);
  const back = (
    <button className="jp-Button jp-mod-styled jp-Artifacts-back" onClick={() => model.selectJob(null)}>
      ‹ Back
    </button>
  );
  if (!job) {
    return (
      <div className="jp-Artifacts-details">
        {back}
        <div className="jp-Artifacts-empty">Loading…</div>
      </div>
    );
  }
  const workers = jobWorkers(job);
  const stop = async () => {
    const result = await showDialog({
      title: `Stop job ${job.name}?`,
      body: 'Each worker is asked to stop, then killed after its grace period.',
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Stop' })]
    });
    if (!result.button.accept) {
      return;
    }
    try {
      await model.client.stopJob(job.id);
      Notification.info(`Stopping job ${job.name}.`, { autoClose: 3000 });
      model.selectJob(job.id);
    } catch (error) {
      notifyError(error, `Cannot stop ${job.name}`);
    }
  };
  const saveOutput = async (index: number) => {
    try {
      await model.client.saveJobOutput(job.id, index);
      Notification.info(`Saved the output of worker ${index} of ${job.name}.`, { autoClose: 3000 });
      model.selectJob(job.id);
    } catch (error) {
      notifyError(error, `Cannot save the output of worker ${index}`);
    }
  };
  return (
    <div className="jp-Artifacts-details jp-Artifacts-jobDetails" data-job={job.id} data-state={job.state}>
      {back}
      <h2 className="jp-Artifacts-title">
        {job.name} <StateBadge state={job.state} />
      </h2>
      <div className="jp-Artifacts-actions">
        <button className="jp-Button jp-mod-styled jp-mod-warn" disabled={!isActiveState(job.state)} onClick={() => void stop()}>
          Stop
        </button>
        <button
          className="jp-Button jp-mod-styled"
          onClick={() => {
            Clipboard.copyToSystem(job.id);
            Notification.info(`Copied ${job.id}.`, { autoClose: 2000 });
          }}
        >
          Copy id
        </button>
      </div>
      {job.error && <div className="jp-Artifacts-formError">{job.error}</div>}
      <table className="jp-Artifacts-kv">
        <tbody>
          <tr><th>Type</th><td>{job.type ?? '—'}</td></tr>
          <tr><th>GPUs</th><td>{gpuList(jobGpus(job))}</td></tr>
          <tr><th>Duration</th><td>{formatDuration(jobDuration(job))}</td></tr>
          <tr><th>Created</th><td>{formatTime(job.created_at)} by {job.created_by || '—'}</td></tr>
          <tr><th>Id</th><td className="jp-Artifacts-mono">{job.id}</td></tr>
        </tbody>
      </table>
      <Section title={`Workers (${workers.length})`} name="workers">
        <table className="jp-Artifacts-workers">
          <thead>
            <tr>
              <th>#</th>
              <th>State</th>
              <th>GPUs</th>
              <th>Params</th>
              <th>Metrics</th>
            </tr>
          </thead>
          <tbody>
            {workers.map(w => (
              <tr
                key={w.index}
                data-worker={w.index}
                className={w.index === worker ? 'jp-mod-selected' : ''}
                onClick={() => setWorker(w.index as number)}
              >
                <td>{w.index}</td>
                <td><StateBadge state={w.state} /></td>
                <td>{gpuList(w.gpus ?? [])}</td>
                <td className="jp-Artifacts-mono">{w.params && Object.keys(w.params).length ? JSON.stringify(w.params) : '—'}</td>
                <td className="jp-Artifacts-mono" data-column="metrics">
                  {metricsLines(w.last_metrics).map(line => <div key={line}>{line}</div>)}
                  {!metricsLines(w.last_metrics).length && '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {workers
          .filter(w => w.kept_output)
          .map(w => (
            <div key={w.index} className="jp-Artifacts-formError jp-Artifacts-kept" data-kept-worker={w.index}>
              <div>
                The output of worker {w.index} was not saved; it is kept in{' '}
                <span className="jp-Artifacts-mono">{w.kept_output}</span>.
              </div>
              <button className="jp-Button jp-mod-styled jp-mod-accept" onClick={() => void saveOutput(w.index as number)}>
                Save output again
              </button>
            </div>
          ))}
      </Section>
      <Section title={`Log (worker ${worker})`} name="log">
        <JobLog model={model} job={job} worker={worker} />
      </Section>
    </div>
  );
}

// ---------------------------------------------------------------------------------------------
// GPUs
// ---------------------------------------------------------------------------------------------

function GpuList(props: { model: ArtifactsModel }) {
  const gpus = props.model.gpus;
  if (!gpus) {
    return <div className="jp-Artifacts-empty">Loading…</div>;
  }
  if (!gpus.gpus.length) {
    return <div className="jp-Artifacts-empty">{gpus.message || 'No GPUs on this host.'}</div>;
  }
  return (
    <ul className="jp-Artifacts-list jp-Artifacts-gpus">
      {gpus.gpus.map(gpu => {
        const used = gpu.memory_used;
        const total = gpu.memory_total ?? 0;
        const holder = holderText(gpu);
        return (
          <li key={String(gpu.index)} className="jp-Artifacts-row jp-Artifacts-gpu" data-gpu={gpu.index} data-free={holder === 'free'}>
            <div className="jp-Artifacts-rowMain">
              <span className="jp-Artifacts-name">GPU {gpu.index}</span>
              <span className="jp-Artifacts-muted">{gpu.name ?? ''}</span>
            </div>
            <div className="jp-Artifacts-rowMeta">
              <span>Holder: {holder}</span>
              <span>{gpuMemoryText(gpu)}</span>
            </div>
            {total > 0 && used !== null && used !== undefined && (
              <ProgressBar progress={{ bytes_done: used, bytes_total: total }} />
            )}
          </li>
        );
      })}
    </ul>
  );
}

// ---------------------------------------------------------------------------------------------
// The panel
// ---------------------------------------------------------------------------------------------

function PanelView(props: { model: ArtifactsModel }) {
  const { model } = props;
  useModel(model);
  const tab = model.tab;
  let body: React.ReactNode;
  if (isKind(tab)) {
    body = model.selectedArtifact ? <ArtifactDetails model={model} /> : <ArtifactList model={model} />;
  } else if (tab === 'jobs') {
    body = model.selectedJob ? <JobDetails model={model} /> : <JobList model={model} />;
  } else {
    body = <GpuList model={model} />;
  }
  return (
    <div className="jp-Artifacts-root">
      <div className="jp-Artifacts-header">
        <h2>Artifacts</h2>
      </div>
      <div className="jp-Artifacts-tabs" role="tablist">
        {TABS.map(t => (
          <button
            key={t.id}
            role="tab"
            aria-selected={t.id === tab}
            data-tab={t.id}
            className={`jp-Artifacts-tab${t.id === tab ? ' jp-mod-active' : ''}`}
            onClick={() => model.setTab(t.id as Tab)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div className="jp-Artifacts-body">{body}</div>
    </div>
  );
}

/** The sidebar: the view, and the poll that keeps it fresh while it is visible. */
export class ArtifactsPanel extends ReactWidget {
  constructor(readonly model: ArtifactsModel, interval = 2000) {
    super();
    this.id = 'jupyter-artifacts-panel';
    this.addClass('jp-Artifacts-panel');
    this.poll = refreshPoll(() => this.model.refresh(), () => this.isVisible, interval);
    this.model.refreshRequested.connect(() => void this.poll.refresh(), this);
  }

  readonly poll: Poll;

  /** Change how often the panel refreshes (milliseconds; the `refreshInterval` setting). */
  setInterval(interval: number): void {
    this.poll.frequency = refreshFrequency(interval);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.poll.start();
    void this.poll.refresh();
  }

  dispose(): void {
    this.poll.dispose();
    super.dispose();
  }

  render(): React.ReactElement {
    return <PanelView model={this.model} />;
  }
}
