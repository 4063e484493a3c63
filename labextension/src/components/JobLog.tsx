import { Poll } from '@lumino/polling';
import * as React from 'react';

import type { ArtifactsClient } from '../api/client';
import type { Job, JobLogs } from '../api/types';
import { isActiveState } from '../format';

/** Follows one worker's log while the job runs (it stays put while the user scrolls up to read). */
export function JobLog(props: { client: ArtifactsClient; job: Job; worker: number }): React.ReactElement {
  const { client, job, worker } = props;
  const [text, setText] = React.useState('');
  const state = React.useRef<{ offset: JobLogs['offset']; text: string; done: boolean }>({
    offset: 0,
    text: '',
    done: false
  });
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
        const chunk = await client.logs(job.id, worker, state.current.offset);
        if (chunk.text) {
          state.current.text = (state.current.text + chunk.text).slice(-500_000);
          setText(state.current.text);
        }
        state.current.offset = chunk.offset;
        if (!wasRunning && (chunk.finished || !chunk.text)) {
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
