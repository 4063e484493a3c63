"""The supervisor on a node of a Ray cluster ("Ray mode"): the entrypoint of a worker's Ray Job,
`python -m jupyter_artifacts.jobs.supervisor --ray ROOT JOB_ID INDEX`.

It is the same template as on the submitting host, less what Ray already did: no queue and no GPU
lock files (Ray placed the job and set CUDA_VISIBLE_DEVICES; with no GPU Ray leaves it unset, and the
worker gets it empty), no environment to build (Ray's pip runtime environment is the Python this
runs with), no detaching (Ray runs it). The job comes with the Ray Job (`JOB_ENV`, set by the
submitting host; else it is read from the shared root's cluster-jobs/); this node keeps its own
copy in a jobs database of its own. The supervisor attaches the inputs from the root through this
node's blob cache, runs the command with the local executor (its own session and cgroup, which
catches what `ray job stop` does not: a double-forked daemon; the memory limit, which Ray's
`memory` only schedules by), publishes the output and saved checkpoints to the root with their
lineage, and reports each change to the root for the submitting host to follow, from a thread of
its own (`Reporter`): the worker starts without waiting for the root. Its notes and the worker's
output go to Ray's log of the job (this process's stdout). Checkpoint GC is the submitting host's,
once every worker ended.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable

from ..db import JobsDB
from ..layout import JobsLayout
from . import queue, run
from .context import Worker
from .lifecycle import Supervisor

JOB_ENV = "JUPYTER_ARTIFACTS_RAY_JOB"  # the job and this worker's parameters, as JSON (supervisor/ray.py)
METRICS_EVERY = 5.0  # seconds between two copies of a growing metrics.jsonl to the root


def driver_log() -> str | None:
    """The file Ray sends the entrypoint's output to (its log of the job), if stdout is one."""
    try:
        path = os.readlink("/proc/self/fd/1")
    except OSError:
        return None
    return path if os.path.isfile(path) else None


def visible_gpus() -> list[int]:
    """The GPUs Ray gave the entrypoint (CUDA_VISIBLE_DEVICES; unset when it asked for none)."""
    value = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    return [int(v) if v.strip().isdigit() else v.strip() for v in value.split(",") if v.strip()]


class Reporter:
    """Writes what the node has to tell the root, from a thread: the latest report replaces one not
    written yet; `flush` waits until the last is written (the supervisor's end)."""

    def __init__(self, record: Callable[[], object]) -> None:
        self.record = record  # opens the root on first use (in the thread)
        self.pending: Callable[[object], None] | None = None
        self.busy = False
        self.cond = threading.Condition()
        threading.Thread(target=self._run, name="report", daemon=True).start()

    def send(self, write: Callable[[object], None]) -> None:
        with self.cond:
            self.pending = write
            self.cond.notify_all()

    def _run(self) -> None:
        while True:
            with self.cond:
                while self.pending is None:
                    self.cond.wait()
                write, self.pending, self.busy = self.pending, None, True
            for attempt in range(3):
                try:
                    write(self.record())
                    break
                except Exception as exc:  # noqa: BLE001 - the root away for a moment: try again, then say so
                    if attempt == 2:
                        print(f"[job] could not report to the root: {getattr(exc, 'message', exc)}", flush=True)
                    time.sleep(1.0)
            with self.cond:
                self.busy = False
                self.cond.notify_all()

    def flush(self, timeout: float = 120.0) -> None:
        with self.cond:
            self.cond.wait_for(lambda: self.pending is None and not self.busy, timeout)


class NodeWorker(Worker):
    """The worker as the node's supervisor sees it: the job kept in this node's own jobs database
    (`artifacts-ray-node/` in its Jupyter data dir), and every change reported back."""

    def __init__(self, root_url: str, doc: dict, idx: int, layout: JobsLayout) -> None:
        job = doc["job"]
        JobsDB(layout.db_path).insert_job(job, [{"idx": idx, "params": doc["params"]}], [])
        super().__init__(layout.db_path, job["id"], idx)
        self.root_url = root_url
        self._record = None
        self.reporter = Reporter(lambda: self.record)
        self.folder.log = driver_log() or self.folder.log
        self.info.workdir = os.getcwd()  # Ray's copy of the job's working folder
        self.python = sys.executable  # the Python Ray runs the job with (its pip environment, if any)
        self.given_gpus = visible_gpus()
        self.spec.requirements = None  # installed by Ray's pip runtime environment
        self.take_scripts(doc.get("scripts") or {})
        self._reported: dict | None = None
        self._metrics_sent = (0, 0.0)  # (size, when) of the last copy of metrics.jsonl

    @property
    def record(self):
        """The root's documents about Ray jobs, with this node's own credentials."""
        if self._record is None:
            from ...store.roots import open_root
            from ..teamjobs import Record

            self._record = Record(open_root(self.root_url))
        return self._record

    def take_scripts(self, scripts: dict) -> None:
        """A script the command names outside the working folder (a %%train cell's) came with the job:
        write it into the worker's folder and run that."""
        for path, text in scripts.items():
            if not (isinstance(path, str) and isinstance(text, str)) or path not in self.spec.command:
                continue
            local = os.path.join(self.folder.folder, "scripts", os.path.basename(path))
            os.makedirs(os.path.dirname(local), exist_ok=True)
            with open(local, "w", encoding="utf-8") as handle:
                handle.write(text)
            self.spec.command = self.spec.command.replace(path, local, 1)

    def set_state(self, state: str | None, **fields: object) -> str | None:
        new = super().set_state(state, **fields)
        self.report()
        return new

    def report(self, force: bool = False) -> None:
        """Tell the submitting host (through the root) the worker's state, output, checkpoints and its
        metrics; only when something changed (or the metrics grew, at most every METRICS_EVERY s),
        unless `force`."""
        row = self.row()
        kept = row["kept_output"]
        doc = {key: row[key] for key in ("state", "error", "history", "gpus", "cpus", "exit_code", "output_id",
                                         "output_url", "started_at", "ended_at")}
        doc.update(checkpoints=[c for c in self.db.checkpoints(self.job_id) if c["worker"] == self.idx],
                   node=os.uname().nodename, kept_output={**kept, "node": os.uname().nodename} if kept else None)
        metrics = self.metrics_due(force)
        if metrics is None and not force and doc == self._reported:
            return
        self._reported = doc
        if metrics is not None:
            self._metrics_sent = (len(metrics), time.monotonic())
        doc = {**doc, "metrics_size": self._metrics_sent[0], "updated_at": time.time()}
        job_id, idx = self.job_id, self.idx

        def write(record) -> None:
            if metrics is not None:
                record.put(job_id, idx, "metrics.jsonl", metrics)
            record.report(job_id, idx, doc)

        self.reporter.send(write)

    def metrics_due(self, force: bool) -> bytes | None:
        """metrics.jsonl when it grew since its last copy (and that was METRICS_EVERY s ago, unless `force`)."""
        sent, when = self._metrics_sent
        try:
            size = os.path.getsize(self.folder.metrics)
        except OSError:
            return None
        if size <= sent or (not force and time.monotonic() - when < METRICS_EVERY):
            return None
        with open(self.folder.metrics, "rb") as handle:
            return handle.read()


class NodeSupervisor(Supervisor):
    """The template on the node (see the module's docstring)."""

    worker: NodeWorker

    @classmethod
    def on_node(cls, root_url: str, job_id: str, idx: int) -> "NodeSupervisor":
        """The supervisor of worker `idx` of a job of the root at `root_url`."""
        from jupyter_core.paths import jupyter_data_dir

        doc = _given(job_id, idx) or _from_root(root_url, job_id, idx)
        os.environ.pop(JOB_ENV, None)  # not the worker's
        layout = JobsLayout(os.path.join(jupyter_data_dir(), "artifacts-ray-node"))
        stored = doc["job"]["info"].setdefault("store", {})
        stored["root"] = root_url  # the store the job's inputs come from, opened with this node's credentials
        return cls(NodeWorker(root_url, doc, idx, layout))

    def wait_turn(self) -> bool:
        """No queue: Ray placed the worker; note its GPUs and cores and what runs where."""
        from ..raycluster import submission_id

        worker = self.worker
        worker.log(f"worker {worker.idx} runs on node {os.uname().nodename} as Ray job "
                   f"{submission_id(worker.job_id, worker.idx)}")
        with worker.layout.schedule_lock():
            queue.start(worker, worker.given_gpus)
        return True

    def execute(self) -> int:
        """The local executor runs the command here; saved checkpoints and metrics are reported as they come."""
        worker = self.worker

        def tick() -> None:
            self.spool()
            worker.report()

        return run.run(worker, self.executor, tick)

    def finish(self, rc: int) -> tuple[str, str | None]:
        """A stop came from Ray (SIGTERM): whether to save the output is the root's stop request's to say."""
        worker = self.worker
        if worker.stop_flag or worker.stop_requested():
            try:
                asked = worker.record.stop_asked(worker.job_id) or {}
            except Exception:  # noqa: BLE001 - the root away: stopped without saving
                asked = {}
            worker.db.update_worker(worker.job_id, worker.idx, None, stop_requested=1,
                                    save_on_stop=int(bool(asked.get("save_output"))))
        return super().finish(rc)

    def end(self, state: str, reason: str | None) -> None:
        super().end(state, reason)
        self.worker.report(force=True)
        self.worker.reporter.flush()

    def release_leases(self) -> None:
        """The submitting host holds the job's leases."""

    def collect(self) -> None:
        """The submitting host collects the job's checkpoints, once every worker ended."""


def _given(job_id: str, idx: int) -> dict | None:
    """The job as the submitting host passed it with the Ray Job, if it did (and it is this one)."""
    from ..teamjobs import check_summary

    try:
        doc = json.loads(os.environ.get(JOB_ENV) or "null")
    except ValueError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("params"), dict) or doc.get("idx") != idx:
        return None
    job = check_summary({"format": 1, "job": doc.get("job"), "checkpoints": [], "done": [],
                         "workers": [{"idx": idx, "state": "queued", "params": doc["params"], "history": []}]})
    return doc if job and doc["job"]["id"] == job_id else None


def _from_root(root_url: str, job_id: str, idx: int) -> dict:
    """The job from the root's summary (a Ray Job submitted without the job in its environment)."""
    from ...store.roots import open_root
    from ..teamjobs import Record

    summary = Record(open_root(root_url)).summary(job_id)
    mine = [w for w in (summary or {}).get("workers", []) if w["idx"] == idx]
    if not mine:
        raise SystemExit(f"[job] no worker {idx} of job {job_id} in the root {root_url}: was it deleted?")
    return {"job": summary["job"], "idx": idx, "params": mine[0]["params"], "scripts": summary.get("scripts") or {}}


__all__ = ["JOB_ENV", "NodeSupervisor", "NodeWorker", "Reporter", "driver_log", "visible_gpus"]
