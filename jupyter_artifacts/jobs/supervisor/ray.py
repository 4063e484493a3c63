"""The `ray` executor, on the host that submitted the job: the worker's command runs on a Ray cluster.

Only "where it runs" changes. The worker waits in this host's FIFO queue (`ClusterLane`: its turn
comes when a node of the cluster has its GPUs, CPUs and memory free, by Ray's state API), then
becomes one Ray Job (`RayExecutor`): `JobSubmissionClient.submit_job` with a submission id made
from the worker (submitting again finds the first), the entrypoint's resources from the spec, the
working folder as `working_dir` and the requirements as `pip`. The entrypoint is this supervisor's
other half on the node (supervisor/node.py): it attaches the inputs from the shared root, runs the
command under its cgroup and publishes the output. This side follows Ray's status and the node's
report (cluster-jobs/ in the root, jobs/teamjobs.py), copies Ray's log into the worker's log as it
grows (`tail_job_logs`; `get_job_logs` catches up at the end), passes a stop on (`stop_job`;
Ray then SIGTERMs the entrypoint, which stops the worker as a local supervisor would) and, as
every supervisor does, records the end and collects the job's checkpoints once its last worker
ended. Everything it changes is written to the root too, so that any host lists, follows and
stops the job.
"""

from __future__ import annotations

import json
import os
import shlex
import threading
import time

from ...errors import ArtifactsError
from ..db import TERMINAL
from ..logs import append_log
from ..raycluster import ENDED, RayCluster, entrypoint_resources, submission_id
from ..spec import JobSpec
from . import queue, run
from .context import StageFailed, Worker
from .lifecycle import Supervisor

LOOK_EVERY = 0.5  # seconds between two looks at the Ray Job's status
REPORT_EVERY = 1.0  # seconds between two reads of the node's report (and of a stop asked from another host)
CLUSTER_GRACE = 60.0  # a cluster that does not answer for this long has lost the worker
STOP_ROOM = 600  # seconds Ray waits after SIGTERM, past the grace period: the node ends the worker and saves
STATE_ORDER = ("queued", "building", "running", "uploading")
JOB_ENV_LIMIT = 64 * 1024  # a job passed in the Ray Job's environment up to this size (Linux takes 128 KiB a variable)


def entrypoint(worker: Worker) -> str:
    """The shell command Ray runs on the node: this supervisor's node side, reading the job from the root."""
    root = str(worker.info.store.get("root", ""))
    return (f"python -m jupyter_artifacts.jobs.supervisor --ray {shlex.quote(root)} {worker.job_id} "
            f"{worker.idx}")


def runtime_env(worker: Worker) -> dict:
    """The job's code and environment for Ray: its working folder, its requirements (Ray's pip, built
    once per node and requirements), how long Ray lets the node stop the worker, and the job itself
    (so that the node starts the worker without reading the root first; a big one is read there)."""
    from ..teamjobs import outside_scripts, shared_job
    from .node import JOB_ENV

    spec = worker.spec
    wait = int(spec.stop_grace) + 1 + STOP_ROOM
    env: dict = {"working_dir": worker.info.workdir, "env_vars": {"RAY_JOB_STOP_WAIT_TIME_S": str(wait)}}
    job = json.dumps({"job": shared_job(worker.job), "idx": worker.idx, "params": worker.row()["params"],
                      "scripts": outside_scripts(worker.job)})
    if len(job) <= JOB_ENV_LIMIT:
        env["env_vars"][JOB_ENV] = job
    if spec.requirements:
        lines = [line.strip() for line in spec.requirements.splitlines()]
        env["pip"] = [line for line in lines if line and not line.startswith("#")]
    return env


def first_line(text: str | None) -> str:
    """The first line that says something, of a message from Ray (which may hold a log's last 20,000 characters)."""
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()[:500]
    return ""


class RayWorker(Worker):
    """The worker as this host's supervisor sees it: every change is published to the root; a stop asked
    from another host (the root's request) is taken in; its own notes wait until Ray's log is copied
    (the worker's log is Ray's log, then these notes: another host reading Ray's log reads its start)."""

    def __init__(self, db_path: str, job_id: str, idx: int) -> None:
        super().__init__(db_path, job_id, idx)
        self.notes: list[str] | None = []  # None once Ray's log is complete
        self._stop_looked = 0.0
        self._record = None

    @property
    def record(self):
        if self._record is None:
            from ..teamjobs import Record

            self._record = Record(self.store().root)
        return self._record

    def log(self, message: str) -> None:
        line = f"[job] {message}\n"
        if self.notes is not None:
            self.notes.append(line)
        elif line not in _tail(self.folder.log):  # the node said it already
            append_log(self.folder.log, line)

    def release_notes(self) -> None:
        """Ray's log is complete: the notes held since come after it."""
        notes, self.notes = self.notes or [], None
        for line in notes:
            self.log(line[len("[job] "):-1])

    def set_state(self, state: str | None, **fields: object) -> str | None:
        new = super().set_state(state, **fields)
        self.publish()
        return new

    def publish(self, done: tuple[int, ...] = ()) -> None:
        """The job's summary in the root, from this host's database (a failed write is retried by the next)."""
        from ..teamjobs import publish

        try:
            publish(self.record, self.db, self.layout, self.job_id, done)
        except Exception as exc:  # noqa: BLE001 - the root away for a moment: the next change writes it again
            print(f"could not publish job {self.job_id} to the root: {exc}", flush=True)

    def stop_requested(self) -> bool:
        if super().stop_requested():
            return True
        now = time.monotonic()
        if now - self._stop_looked < REPORT_EVERY:
            return False
        self._stop_looked = now
        try:
            asked = self.record.stop_asked(self.job_id)
        except Exception:  # noqa: BLE001 - the root away: look again later
            return False
        if asked is None:
            return False
        self.db.update_worker(self.job_id, self.idx, None, stop_requested=1, save_on_stop=int(asked["save_output"]))
        return True

    def close(self) -> None:
        """Nothing more happens to the worker here: its notes, its log copied into the root, and the
        job's summary saying so."""
        self.release_notes()
        self.upload_log(self.idx)
        self.publish(done=(self.idx,))

    def upload_log(self, idx: int) -> None:
        try:
            with open(self.layout.worker(self.job_id, idx).log, "rb") as handle:
                self.record.put(self.job_id, idx, "log.txt", handle.read())
        except FileNotFoundError:
            pass
        except Exception as exc:  # noqa: BLE001 - the log stays here; say why it is not in the root
            print(f"could not copy the log of worker {idx} to the root: {exc}", flush=True)


def _tail(path: str, size: int = 4096) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - size))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


class ClusterLane(queue.Lane):
    """This host's queue of workers for one Ray cluster: the head's turn comes when a node can take
    it now, counting this host's workers that left the queue but that the cluster does not show yet."""

    executor = "ray"
    poll = LOOK_EVERY

    def __init__(self, cluster: RayCluster) -> None:
        self.cluster = cluster
        self.waiting_note = None

    def take(self, worker: Worker, wanted: int) -> list[int] | None:
        want = entrypoint_resources(worker.spec)
        ours = {}
        for w in worker.db.workers(states=queue.RUNNING):
            placement = w["placement"] or {}
            if placement.get("submission_id") and placement.get("cluster") == self.cluster.address:
                job = worker.db.job(w["job_id"])
                ours[placement["submission_id"]] = entrypoint_resources(JobSpec.from_stored(job["spec"]))
        try:
            nodes, actors = self.cluster.nodes(), self.cluster.actors()
        except ArtifactsError as exc:
            self.note(worker, f"waiting: {exc.message}")
            return None
        prefix = "_ray_internal_job_actor_"
        shown = {(a.get("name") or "")[len(prefix):] for a in actors}
        from ..raycluster import placeable

        if not placeable(nodes, actors, want, [r for sid, r in ours.items() if sid not in shown]):
            self.note(worker, f"waiting for a node of the Ray cluster at {self.cluster.address} with "
                              + ", ".join(f"{v:g} {k}" for k, v in want.items()) + " free")
            return None
        return []

    def note(self, worker: Worker, text: str) -> None:
        if text != self.waiting_note:
            self.waiting_note = text
            print(f"worker {worker.idx}: {text}", flush=True)  # the supervisor's own log

    def start(self, worker: Worker, devices: list[int]) -> None:
        """Leave the queue: the worker is `building` (submitted, its node preparing) until the node says more."""
        placement = {"executor": "ray", "cluster": self.cluster.address,
                     "submission_id": submission_id(worker.job_id, worker.idx)}
        worker.set_state("building", gpus=[], placement=placement)


class LogCopy:
    """Ray's log of a worker appended to the worker's log as it grows (`tail_job_logs`, on a thread of
    its own, again after a broken connection), then completed from `get_job_logs` at the end."""

    def __init__(self, cluster: RayCluster, sid: str, path: str) -> None:
        self.cluster, self.sid, self.path = cluster, sid, path
        self.copied = 0  # characters of Ray's log appended so far
        self.lock = threading.Lock()
        self.closed = False
        self.thread = threading.Thread(target=self._run, name="ray-log", daemon=True)

    def start(self) -> "LogCopy":
        self.thread.start()
        return self

    def _run(self) -> None:
        import asyncio

        while not self.closed:
            try:
                asyncio.run(self._tail())
                return  # the job ended: its log is whole
            except Exception:  # noqa: BLE001 - a broken connection: tail again, from where it stopped
                time.sleep(1.0)

    async def _tail(self) -> None:
        skip = self.copied  # each tail starts at the log's beginning
        async for text in self.cluster.client().tail_job_logs(self.sid):
            if skip:
                text, skip = text[skip:], max(0, skip - len(text))
            if text:
                self.write(text)
            if self.closed:
                return

    def write(self, text: str) -> None:
        with self.lock:
            if not self.closed:
                append_log(self.path, text)
                self.copied += len(text)

    def finish(self, timeout: float = 5.0) -> None:
        """Ray's job ended: let the tail end, then add whatever it missed."""
        self.thread.join(timeout)
        with self.lock:
            try:
                whole = self.cluster.logs(self.sid)
            except ArtifactsError:
                whole = ""
            if len(whole) > self.copied:
                append_log(self.path, whole[self.copied:])
                self.copied = len(whole)
            self.closed = True


class RayExecutor(run.Executor):
    """The worker's command as one Ray Job (see the module's docstring)."""

    worker: RayWorker

    def __init__(self, worker: RayWorker) -> None:
        super().__init__(worker)
        self.cluster = RayCluster(worker.info.cluster)
        self.sid = submission_id(worker.job_id, worker.idx)
        self.details: dict | None = None  # Ray's view of the job, as last looked
        self.report: dict | None = None  # the node's report, as last read
        self.copy: LogCopy | None = None
        self.submitted = False
        self.stop_sent = False
        self._looked = self._reported = 0.0
        self._away_since: float | None = None
        self._submitted_at = 0.0

    # -- Executor --------------------------------------------------------------------------
    def start(self, argv: list[str], env: dict[str, str]) -> None:
        """Submit the worker (the node works out its command and environment from the job itself)."""
        worker, spec = self.worker, self.worker.spec
        client = self.cluster.client()
        try:
            client.submit_job(
                entrypoint=entrypoint(worker), submission_id=self.sid, runtime_env=runtime_env(worker),
                entrypoint_num_gpus=spec.gpus or None, entrypoint_num_cpus=spec.cpu or None,
                entrypoint_memory=int(spec.memory) if spec.memory else None,
                metadata={"jupyter_artifacts_job": worker.job_id, "job_name": spec.name, "worker": str(worker.idx)})
        except Exception as exc:  # Ray's RuntimeError carries the dashboard's answer
            if "already exists" not in str(exc):
                raise StageFailed(f"the Ray cluster at {self.cluster.address} did not take worker {worker.idx}: "
                                  f"{first_line(str(exc))}") from None
        self.submitted, self._submitted_at = True, time.monotonic()
        worker.log(f"worker {worker.idx} submitted to the Ray cluster at {self.cluster.address} as Ray job {self.sid}")
        self.copy = LogCopy(self.cluster, self.sid, worker.folder.log).start()

    def wait(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while True:
            self.look()
            if self.ended():
                return self.exit_code()
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            time.sleep(min(left, 0.1))

    def signal(self, sig: int) -> None:
        """A stop: Ray SIGTERMs the entrypoint, which ends the worker after its grace period (SIGKILL
        needs no second request)."""
        if self.stop_sent or not self.submitted:
            return
        try:
            self.cluster.stop(self.sid)
            self.stop_sent = True
        except ArtifactsError as exc:
            self.worker.log(f"could not stop Ray job {self.sid}: {exc.message}")

    def alive(self) -> bool:
        self.look(force=True)
        return self.submitted and not self.ended()

    def end(self, report: bool = False) -> None:
        """Make sure the Ray Job has ended (stop it if a stage failed meanwhile), then finish the log
        copy and read the node's last report."""
        if self.submitted and not self.ended():
            self.signal(15)
            deadline = time.monotonic() + float(self.worker.spec.stop_grace) + 60
            while not self.ended() and time.monotonic() < deadline:
                time.sleep(LOOK_EVERY)
                self.look(force=True)
        if self.copy is not None:
            self.copy.finish()
            self.copy = None
        if self.submitted:
            self.merge_report(force=True)

    def failure(self, rc: int) -> str | None:
        """Why Ray says the worker failed, when the node could not say it (the runtime environment did
        not build, the entrypoint died, the cluster lost it)."""
        details = self.details or {}
        why = first_line(details.get("message")) or f"exit code {rc}"
        return (f"worker {self.worker.idx} failed on the Ray cluster (Ray job {self.sid}, {details.get('status')}): "
                f"{why}")

    # -- following the Ray Job ---------------------------------------------------------------
    def ended(self) -> bool:
        return bool(self.details) and self.details.get("status") in ENDED

    def exit_code(self) -> int:
        report, details = self.report or {}, self.details or {}
        if report.get("state") in TERMINAL and isinstance(report.get("exit_code"), int):
            return report["exit_code"]
        if isinstance(details.get("driver_exit_code"), int):
            return details["driver_exit_code"]
        return {"SUCCEEDED": 0, "STOPPED": -15}.get(details.get("status"), 1)

    def look(self, force: bool = False) -> None:
        """Ray's status of the job (every LOOK_EVERY s), and the node's report (every REPORT_EVERY s)."""
        now = time.monotonic()
        if not self.submitted or (not force and now - self._looked < LOOK_EVERY):
            return
        self._looked = now
        try:
            details = self.cluster.job(self.sid)
        except ArtifactsError as exc:
            if self._away_since is None:
                self._away_since = now
                self.worker.log(f"{exc.message.rstrip('.')}; waiting for it")
            elif now - self._away_since > CLUSTER_GRACE:
                self.details = {"status": "FAILED", "message": f"the cluster did not answer for {CLUSTER_GRACE:g} s"}
            return
        self._away_since = None
        if details is None:  # unknown to the cluster: submitted just now, or the cluster restarted since
            if self.details is not None or now - self._submitted_at > CLUSTER_GRACE:
                self.details = {"status": "FAILED", "message": "the Ray cluster no longer knows the job (restarted?)"}
            return
        self.details = details
        self.place(details)
        self.merge_report()

    def place(self, details: dict) -> None:
        """Note the node the job runs on, once Ray says."""
        node_id = details.get("driver_node_id")
        row = self.worker.row()
        placement = dict(row["placement"] or {})
        if not node_id or placement.get("node_id") == node_id:
            return
        name = node_id[:12]
        try:
            name = next((n.get("node_name") or n.get("node_ip") or name) for n in self.cluster.nodes()
                        if n["node_id"] == node_id)
        except (ArtifactsError, StopIteration):
            pass
        placement.update(node_id=node_id, node=name)
        self.worker.set_state(None, placement=placement)

    def merge_report(self, force: bool = False) -> None:
        """Take in what the node reported since: its state while it runs, the GPUs it got, the
        checkpoints it saved and its metrics (the end state is `finish`'s to record)."""
        now = time.monotonic()
        if not force and now - self._reported < REPORT_EVERY:
            return
        self._reported = now
        worker = self.worker
        try:
            report = worker.record.node_report(worker.job_id, worker.idx)
        except Exception:  # noqa: BLE001 - the root away for a moment: read it next time
            return
        if report is None or report == self.report:
            return
        self.report = report
        self.take_checkpoints(report)
        self.take_metrics(report)
        row = worker.row()
        fields = {}
        if isinstance(report.get("gpus"), list) and report["gpus"] != row["gpus"]:
            fields["gpus"] = report["gpus"]
        if row["state"] in STATE_ORDER:  # the states the node went through since, at the node's times
            later = STATE_ORDER[STATE_ORDER.index(row["state"]) + 1:]
            for state, when in report["history"]:
                if state in later and isinstance(when, (int, float)):
                    worker.db.update_worker(worker.job_id, worker.idx, state, at=when)
                    fields["changed"] = True
        if fields.pop("changed", False) or fields:
            worker.set_state(None, **fields)

    def ours(self, artifact_id: object, kind: str) -> bool:
        """Whether an id the node reported is an artifact of this job's worker (the report is input)."""
        if not isinstance(artifact_id, str):
            return False
        try:
            artifact = self.worker.store().get(artifact_id)
        except ArtifactsError:
            return False
        meta, worker = artifact.metadata or {}, self.worker
        return artifact.kind == kind and (meta.get("job_id"), meta.get("worker")) == (worker.job_id, worker.idx)

    def take_checkpoints(self, report: dict) -> None:
        db, worker = self.worker.db, self.worker
        known = {c["artifact_id"] for c in db.checkpoints(worker.job_id)}
        for c in report["checkpoints"]:
            if c["artifact_id"] not in known and self.ours(c["artifact_id"], "checkpoint"):
                step = c.get("step") if isinstance(c.get("step"), (int, float)) else None
                metrics = c.get("metrics") if isinstance(c.get("metrics"), dict) else {}
                db.add_checkpoint(c["artifact_id"], worker.job_id, worker.idx, step, metrics)

    def take_metrics(self, report: dict) -> None:
        """The node's copy of the worker's metrics.jsonl, when it grew."""
        size = report.get("metrics_size")
        path = self.worker.folder.metrics
        if not isinstance(size, int) or size <= (os.path.getsize(path) if os.path.exists(path) else 0):
            return
        try:
            data = self.worker.record.get(self.worker.job_id, self.worker.idx, "metrics.jsonl")
        except Exception:  # noqa: BLE001 - next report
            return
        if data:
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)


def _import_ray() -> None:
    try:
        import ray.job_submission  # noqa: F401
    except ImportError:
        pass  # said in one line where the client is made


class RaySupervisor(Supervisor):
    """The template with the Ray executor: the cluster's queue, nothing prepared here (the node builds
    and attaches), the node's report for the end, and the root kept up to date."""

    executor_class = RayExecutor
    worker_class = RayWorker
    executor: RayExecutor
    worker: RayWorker

    def __init__(self, worker: RayWorker) -> None:
        super().__init__(worker)
        # Ray's client takes seconds to import: while the worker waits its turn, not after
        threading.Thread(target=_import_ray, name="import-ray", daemon=True).start()

    def lane(self) -> queue.Lane:
        return ClusterLane(self.executor.cluster)

    def wait_turn(self) -> bool:
        started = super().wait_turn()
        if not started:
            self.worker.close()
        return started

    def prepare(self) -> None:
        """Nothing here: the node builds the environment (Ray's pip) and attaches the inputs."""

    def finish(self, rc: int) -> tuple[str, str | None]:
        """The end the node reported (its output saved there), else Ray's: stopped, or failed with its reason."""
        worker, executor = self.worker, self.executor
        worker.set_state(None, exit_code=rc)
        report = executor.report or {}
        if report.get("state") in TERMINAL:
            fields = {k: report[k] for k in ("output_url", "kept_output") if report.get(k)}
            if executor.ours(report.get("output_id"), worker.spec.output_kind or ""):
                fields["output_id"] = report["output_id"]
            worker.set_state(None, **fields)
            return report["state"], report.get("error")
        if worker.stop_requested() or (executor.details or {}).get("status") == "STOPPED":
            return "stopped", None
        return "failed", executor.failure(rc)

    def end(self, state: str, reason: str | None) -> None:
        self.worker.release_notes()  # Ray's log is whole (the executor ended): the notes come after it
        super().end(state, reason)
        self.worker.close()

    def collect(self) -> None:
        """Collect as every supervisor does, then copy the first worker's log again (GC notes it there)."""
        super().collect()
        first = min(w["idx"] for w in self.worker.db.workers(self.worker.job_id))
        if first != self.worker.idx:
            self.worker.upload_log(first)


__all__ = ["ClusterLane", "LogCopy", "RayExecutor", "RaySupervisor", "RayWorker", "entrypoint", "runtime_env"]
