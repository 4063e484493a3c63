"""The supervisor on a node of a Ray cluster ("Ray mode"): the entrypoint of a worker's Ray Job,
`python -m jupyter_artifacts.jobs.supervisor --ray ROOT JOB_ID INDEX`.

It is the same template as on the submitting host, less what Ray already did: no queue and no GPU
lock files (Ray placed the job and set CUDA_VISIBLE_DEVICES; with no GPU Ray leaves it unset, and the
worker gets it empty), no environment to build (Ray's pip runtime environment is the Python this
runs with), no detaching (Ray runs it). It reads the job from the shared root (cluster-jobs/, put
there by the submitting host), keeps its own copy in this node's jobs database, attaches the inputs
from the root through this node's blob cache, runs the command with the local executor (its own
session and cgroup, which catches what `ray job stop` does not: a double-forked daemon; the memory
limit, which Ray's `memory` only schedules by), publishes the output and saved checkpoints to the
root with their lineage, and reports each change to the root for the submitting host to follow.
Its notes and the worker's output go to Ray's log of the job (this process's stdout). Checkpoint
GC is the submitting host's, once every worker ended.
"""

from __future__ import annotations

import os
import sys
import time

from ..db import JobsDB
from ..layout import JobsLayout
from . import queue, run
from .context import Worker
from .lifecycle import Supervisor

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


class NodeWorker(Worker):
    """The worker as the node's supervisor sees it: the job read from the root into this node's own
    jobs database (under its store's state folder, `ray-node/`), and every change reported back."""

    def __init__(self, record, doc: dict, idx: int, layout: JobsLayout) -> None:
        job = doc["job"]
        mine = next(w for w in doc["workers"] if w["idx"] == idx)
        JobsDB(layout.db_path).insert_job(job, [{"idx": idx, "params": mine["params"]}], [])
        super().__init__(layout.db_path, job["id"], idx)
        self.record = record
        self.folder.log = driver_log() or self.folder.log
        self.info.workdir = os.getcwd()  # Ray's copy of the job's working folder
        self.python = sys.executable  # the Python Ray runs the job with (its pip environment, if any)
        self.given_gpus = visible_gpus()
        self.spec.requirements = None  # installed by Ray's pip runtime environment
        self.take_scripts(doc.get("scripts") or {})
        self._reported: tuple | None = None
        self._metrics_sent = (0, 0.0)  # (size, when) of the last copy of metrics.jsonl

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
        """Tell the submitting host (through the root) the worker's state, output, checkpoints and
        how much of its metrics the root holds; only what changed, unless `force`."""
        self.send_metrics(force)
        row = self.row()
        checkpoints = [c for c in self.db.checkpoints(self.job_id) if c["worker"] == self.idx]
        kept = row["kept_output"]
        doc = {key: row[key] for key in ("state", "error", "history", "gpus", "cpus", "exit_code", "output_id",
                                         "output_url", "started_at", "ended_at")}
        doc.update(checkpoints=checkpoints, metrics_size=self._metrics_sent[0], node=os.uname().nodename,
                   kept_output={"path": kept["path"], "node": os.uname().nodename} if kept else None)
        if not force and doc == self._reported:
            return
        self._reported = doc
        try:
            self.record.report(self.job_id, self.idx, {**doc, "updated_at": time.time()})
        except Exception as exc:  # noqa: BLE001 - the root away for a moment: the next change reports again
            super().log(f"could not report to the root: {getattr(exc, 'message', exc)}")

    def send_metrics(self, force: bool = False) -> None:
        """Copy metrics.jsonl to the root when it grew (at most every METRICS_EVERY s, unless `force`)."""
        sent, when = self._metrics_sent
        try:
            size = os.path.getsize(self.folder.metrics)
        except OSError:
            return
        if size <= sent or (not force and time.monotonic() - when < METRICS_EVERY):
            return
        with open(self.folder.metrics, "rb") as handle:
            data = handle.read()
        try:
            self.record.put(self.job_id, self.idx, "metrics.jsonl", data)
        except Exception:  # noqa: BLE001 - next time
            return
        self._metrics_sent = (len(data), time.monotonic())


class NodeSupervisor(Supervisor):
    """The template on the node (see the module's docstring)."""

    worker: NodeWorker

    @classmethod
    def on_node(cls, root_url: str, job_id: str, idx: int) -> "NodeSupervisor":
        """The supervisor of worker `idx` of a job in the root at `root_url`."""
        from ...store import Store, StoreSettings
        from ..teamjobs import Record

        from ...store.roots import open_root

        record = Record(open_root(root_url))  # with this node's own credentials
        doc = record.summary(job_id)
        if doc is None or not any(w["idx"] == idx for w in doc["workers"]):
            raise SystemExit(f"[job] no worker {idx} of job {job_id} in the root {root_url}: was it deleted?")
        known = StoreSettings.__dataclass_fields__
        stored = {k: v for k, v in doc["job"]["info"].get("store", {}).items() if k in known}
        store = Store(StoreSettings(**{**stored, "root": root_url}))
        layout = JobsLayout(os.path.join(store.state_dir, "ray-node"))
        worker = NodeWorker(record, doc, idx, layout)
        worker._store = store
        return cls(worker)

    def wait_turn(self) -> bool:
        """No queue: Ray placed the worker; note its GPUs and cores and what runs where."""
        worker = self.worker
        from ..raycluster import submission_id

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

    def release_leases(self) -> None:
        """The submitting host holds the job's leases."""

    def collect(self) -> None:
        """The submitting host collects the job's checkpoints, once every worker ended."""


__all__ = ["NodeSupervisor", "NodeWorker", "driver_log", "visible_gpus"]
