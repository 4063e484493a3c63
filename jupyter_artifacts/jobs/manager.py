"""`JobManager`: the one Python API every face (CLI, REST, magics, SDK) calls for jobs."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from .. import procs
from ..errors import ArtifactsError, Conflict, InvalidInput, NotFound
from . import cgroups, gpus, leases, outputs
from .db import ACTIVE, TERMINAL, JobsDB
from .gc import collect_job
from .layout import JobsLayout
from .logs import LogChunk, append_log, last_metrics
from .logs import read as read_logs
from .options import EXECUTORS
from .reconcile import reconcile
from .resume import resume_inputs
from .spec import GC_FIELDS, JobInfo, JobSpec, lease_holder

EXECUTOR_ENV = "JUPYTER_ARTIFACTS_EXECUTOR"


class Job:
    """A job as read from the jobs database; attributes mirror `to_dict()`'s keys."""

    def __init__(self, data: dict) -> None:
        self._data = data

    def __getattr__(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError(key) from None

    def to_dict(self) -> dict:
        return self._data

    def __repr__(self) -> str:
        return f"<Job {self._data['name']!r} {self._data['id'][:8]} {self._data['state']}>"


def _git_info(workdir: str) -> dict:
    folder = workdir
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            break
        parent = os.path.dirname(folder)
        if parent == folder:
            return {}
        folder = parent
    try:
        head = subprocess.run(["git", "-C", workdir, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return {}
        dirty = subprocess.run(["git", "-C", workdir, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return {"git_commit": head.stdout.strip(), "git_dirty": bool(dirty.stdout.strip()), "git_root": folder}


def _metrics_history(path: str, limit: int) -> list[dict]:
    """Every report of a worker's metrics.jsonl, oldest first; past `limit`, evenly thinned (the last kept)."""
    points = []
    try:
        with open(path, "rb") as handle:
            for line in handle:
                try:
                    point = json.loads(line)
                except ValueError:
                    continue
                if isinstance(point, dict) and isinstance(point.get("metrics"), dict):
                    points.append(point)
    except OSError:
        return []
    if len(points) > limit:
        every = len(points) / limit
        points = [points[int(i * every)] for i in range(limit - 1)] + [points[-1]]
    return points


def _ended(workers: list[dict]) -> bool:
    """Every one of these workers has ended and none's supervisor still runs (to collect, to log)."""
    return all(w["state"] in TERMINAL for w in workers) and not any(procs.alive(w["supervisor"]) for w in workers)


def executor_setting(value: str | None = None) -> str:
    """Where jobs run unless a job says: the setting given (the server's trait), else
    $JUPYTER_ARTIFACTS_EXECUTOR, else local."""
    text = (value or os.environ.get(EXECUTOR_ENV) or "local").strip().lower()
    if text not in EXECUTORS:
        raise InvalidInput(f"Unknown executor {text!r} (the executor setting or {EXECUTOR_ENV}): use "
                           f"{' or '.join(EXECUTORS)}.")
    return text


def _worker_index(workers: list[dict], worker: Any) -> int:
    """A worker index given by a user, checked against the job's workers."""
    try:
        index = int(worker)
    except (TypeError, ValueError):
        raise InvalidInput(f"Invalid worker {worker!r}: use a worker index.") from None
    if index not in [w["idx"] for w in workers]:
        raise NotFound(f"The job has no worker {index}; its workers are 0 to {len(workers) - 1}.")
    return index


class JobManager:
    """Jobs for one store: submit, list, show, stop, logs, the GC policy, and the host's GPUs.

    `inventory` is an `Inventory`, a setting string (`auto`, `none`, `fake:N`), or None for
    $JUPYTER_ARTIFACTS_GPUS (default `auto`). `executor` is where jobs run unless a job says: `local`
    or `ray` (the Ray cluster at $RAY_ADDRESS; jobs/supervisor/ray.py), None for
    $JUPYTER_ARTIFACTS_EXECUTOR (default `local`). Jobs live in `jobs.sqlite` and `jobs/` in the
    store's `state_dir` (jobs/layout.py) and are run by detached supervisors, so they outlive this
    object and its process. On a shared root, the Ray jobs other hosts of the team submitted are
    listed, shown, followed and stopped too (jobs/teamjobs.py).
    """

    def __init__(self, store, inventory: gpus.Inventory | str | None = None, executor: str | None = None) -> None:
        self.store = store
        self.executor = executor_setting(executor)
        self._team = None
        self.layout = JobsLayout(store.state_dir)
        self.db_path, self.jobs_dir = self.layout.db_path, self.layout.jobs_dir
        self.db = JobsDB(self.db_path)
        self._inventory_setting = inventory
        self._inventory: gpus.Inventory | None = None
        self._lock = threading.RLock()
        os.makedirs(self.layout.locks, exist_ok=True)

    @property
    def inventory(self) -> gpus.Inventory:
        if self._inventory is None:
            self._inventory = gpus.as_inventory(self._inventory_setting)
        return self._inventory

    @property
    def team(self):
        """The Ray jobs in the shared root (other hosts' too), or None on a root of one host."""
        if self._team is None and self.store.shared:
            from .teamjobs import TeamJobs

            self._team = TeamJobs(self.store, self.layout)
        return self._team

    def _publish(self, job_id: str, done: tuple[int, ...] = ()) -> None:
        """A Ray job's summary in the shared root, from this host's database."""
        from .teamjobs import publish

        publish(self.team.record, self.db, self.layout, job_id, done)

    # -- submitting ------------------------------------------------------------------------
    def submit(self, spec: JobSpec | dict) -> Job:
        """Validate, attach inputs (with leases), and queue one worker per parameter combination."""
        if isinstance(spec, dict):
            spec = JobSpec.from_dict(spec)
        else:
            spec.validate()
        with self._lock:
            return self._submit(spec)

    def _submit(self, spec: JobSpec) -> Job:
        spec.executor = spec.executor or self.executor
        cluster = None
        if spec.executor == "ray":
            from .raycluster import check_submission

            cluster = check_submission(self.store, spec)  # a shared root, a cluster that answers, a node that fits
            devices, source = [], "ray"
        else:
            inventory = self.inventory
            if spec.gpus > inventory.count:
                raise InvalidInput(f"The job asks for {spec.gpus} GPU{'s' if spec.gpus != 1 else ''} but this host "
                                   f"has {inventory.count} ({inventory.source} inventory); ask for at most "
                                   f"{inventory.count}.")
            devices, source = [d.index for d in inventory.devices], inventory.source
        spec.workdir = os.path.abspath(os.path.expanduser(spec.workdir or os.getcwd()))
        spec.python = spec.python or sys.executable
        params = spec.worker_params()
        inputs = self._resolve_inputs(spec) + resume_inputs(self.store, self.db, spec, len(params), self._job_id)
        job_id = uuid.uuid4().hex
        now = time.time()
        info = JobInfo(
            workdir=spec.workdir, workers=len(params), devices=devices, inventory=source, inputs=inputs,
            memory_limits=cgroups.mode_from_env() if spec.memory else None, cgroups=cgroups.cgroups_from_env(),
            code={"command": spec.command, "workdir": spec.workdir, **_git_info(spec.workdir)},
            # every store setting (the public mirror the server was given, ...) reaches the supervisor
            store={**dataclasses.asdict(self.store.settings), "catalog_path": self.store.catalog.path},
            cluster=cluster.address if cluster else None,
        ).to_dict()
        from ..store.store import current_user

        job = {"id": job_id, "name": spec.name, "type": spec.type, "spec": spec.to_dict(), "info": info,
               "gc_policy": spec.gc_policy(), "created_by": current_user(), "created_at": now}
        self._write_shim()
        for idx in range(len(params)):
            os.makedirs(self.layout.worker(job_id, idx).folder, exist_ok=True)
        self.db.insert_job(job, [{"idx": i, "params": p} for i, p in enumerate(params)], inputs)
        if cluster is not None:
            self._publish(job_id)  # every host of the team sees it from now on
        for idx in range(len(params)):
            self._spawn(job_id, idx, spec.name, inputs)
        return self._job(job_id)

    def _resolve_inputs(self, spec: JobSpec) -> list[dict]:
        found = []
        wanted = ([(spec.model, "model")] if spec.model else []) + [(r, "checkpoint") for r in spec.checkpoints] + \
                 [(r, "dataset") for r in spec.data]
        for ref, role in wanted:
            artifact = self.store.resolve(ref, role)
            if artifact.state != "ready":
                raise Conflict(f"{role.capitalize()} {artifact.reference} is {artifact.state}, not ready; "
                               "wait for it or create it again.")
            found.append({"id": artifact.id, "role": role, "reference": artifact.reference, "name": artifact.name,
                          "version": artifact.version})
        for public_id in spec.public_checkpoints:
            from ..sources import public as catalog
            catalog.get_public(public_id, self.store.settings.public_catalog)  # the fetch happens while building
            fetched = catalog.find_fetched(self.store, public_id)
            item = {"id": None, "role": "checkpoint", "reference": f"public:{public_id}", "name": public_id,
                    "version": None, "label": public_id, "public_id": public_id}
            if fetched is not None:
                item.update(id=fetched.id, reference=fetched.reference, version=fetched.version)
            found.append(item)
        return found

    def _write_shim(self) -> None:
        """A copy of the worker helper for environments built from requirements.txt."""
        from .. import worker

        target_dir = os.path.join(self.layout.pylib, "jupyter_artifacts")
        target = os.path.join(target_dir, "worker.py")
        with open(worker.__file__, "rb") as handle:
            source = handle.read()
        try:
            with open(target, "rb") as handle:
                if handle.read() == source:
                    return
        except FileNotFoundError:
            pass
        os.makedirs(target_dir, exist_ok=True)
        with open(os.path.join(target_dir, "__init__.py"), "w") as handle:
            handle.write('"""The worker helper alone, for job environments built from requirements.txt."""\n')
        tmp = f"{target}.{os.getpid()}.tmp"
        with open(tmp, "wb") as handle:
            handle.write(source)
        os.replace(tmp, target)

    def _spawn(self, job_id: str, idx: int, name: str, inputs: list[dict]) -> None:
        import jupyter_artifacts

        package_parent = os.path.dirname(os.path.dirname(os.path.abspath(jupyter_artifacts.__file__)))
        code = (f"import sys; sys.path.insert(0, {package_parent!r}); "
                "from jupyter_artifacts.jobs.supervisor import main; sys.exit(main())")
        with open(self.layout.worker(job_id, idx).supervisor_log, "ab") as out:
            proc = subprocess.Popen([sys.executable, "-c", code, self.db_path, job_id, str(idx)],
                                    cwd=self.jobs_dir, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True, close_fds=True)
        fields: dict[str, Any] = {"supervisor": procs.token(proc.pid)}
        held = []
        try:
            for item in inputs:
                if item["id"] is None or item.get("worker", idx) != idx:
                    continue  # a public checkpoint not fetched yet (the supervisor leases it after fetching),
                    # or the checkpoint another worker resumes from
                held.append(self.store.acquire_lease(item["id"], lease_holder(name, job_id, idx), pid=proc.pid))
        finally:
            fields["leases"] = held
            self.db.update_worker(job_id, idx, None, **fields)

    # -- reading ---------------------------------------------------------------------------
    def reconcile(self) -> list[str]:
        """Fail workers whose supervisor is gone, free what they held, and collect ended jobs."""
        with self.layout.schedule_lock():
            ended = reconcile(self.db, self.layout)
        for job_id in set(ended) | set(self.db.ended_without_gc()):
            workers = self.db.workers(job_id)
            if any(w["supervisor"] and procs.alive(w["supervisor"]) for w in workers):
                continue  # its last supervisor is collecting it now
            for w in workers:
                for lease_id in w["leases"] or []:
                    self.store.release_lease(lease_id)
            try:
                collect_job(self.db, self.layout, job_id, lambda: self.store)
                if any(w["placement"] for w in workers):
                    self._publish(job_id, tuple(w["idx"] for w in workers))  # its supervisors cannot now
            except Exception:
                pass
        return ended

    def _job_id(self, job_ref: str) -> str:
        if not isinstance(job_ref, str) or not job_ref.strip():
            raise InvalidInput("Give a job's id or name.")
        ids = self.db.find_job_ids(job_ref.strip()) or (self.team.find(job_ref.strip()) if self.team else [])
        if not ids:
            raise NotFound(f"No job {job_ref!r}; list them with `jupyter artifacts job list`.")
        if len(ids) > 1:
            raise Conflict(f"{job_ref!r} matches several job ids; give more characters.")
        return ids[0]

    def _rows(self, job_id: str, doc: dict | None = None) -> tuple[dict, list[dict], dict | None]:
        """A job's row and its workers' rows: this host's database's, else (a Ray job another host of
        the team submitted) the root's summary's (`doc`, if read already), with the summary."""
        row = self.db.job(job_id)
        if row is not None:
            return row, self.db.workers(job_id), None
        doc = doc or (self.team.get(job_id) if self.team else None)
        if doc is None:
            raise NotFound(f"No job {job_id!r}.")
        return doc["job"], doc["workers"], doc

    @staticmethod
    def _ended(workers: list[dict], doc: dict | None) -> bool:
        """`_ended`, or for another host's Ray job, what its summary says."""
        from .teamjobs import TeamJobs

        return TeamJobs.ended(doc, [w["idx"] for w in workers]) if doc else _ended(workers)

    def _foreign(self, job_id: str, doc: dict | None, action: str) -> None:
        """Refuse what only the host that submitted a Ray job can do."""
        if doc is not None:
            raise Conflict(f"Job {doc['job']['name']!r} ({job_id[:8]}) was submitted from {doc['host']}: {action} "
                           "there.")

    def _job(self, job_id: str, doc: dict | None = None) -> Job:
        row, rows, doc = self._rows(job_id, doc)
        if doc is not None:
            self.store.sync()  # its outputs and checkpoints are another host's artifacts
        checkpoint_rows = doc["checkpoints"] if doc else self.db.checkpoints(job_id)
        workers = []
        for w in rows:
            folder = self.layout.worker(job_id, w["idx"])
            last = w.get("last_metrics") if doc else last_metrics(folder.metrics)
            output = None
            if w["output_id"]:
                artifact = self.store.catalog.get(w["output_id"])
                output = {"id": w["output_id"], "kind": artifact.kind if artifact else None,
                          "reference": artifact.reference if artifact else None,
                          "state": artifact.state if artifact else "deleted"}
            workers.append({
                "index": w["idx"], "state": w["state"], "error": w["error"], "params": w["params"],
                "gpus": w["gpus"], "cpus": w["cpus"], "exit_code": w["exit_code"], "output": output,
                "output_url": w["output_url"], "last_metrics": last, "history": w["history"],
                "created_at": w["created_at"], "started_at": w["started_at"], "ended_at": w["ended_at"],
                "log_path": folder.log, "stop_requested": bool(w["stop_requested"]),
                "supervisor_pid": int(w["supervisor"].split(":")[1]) if w["supervisor"] else None,
                "worker_pid": w["worker_pid"],
                "kept_output": w["kept_output"]["path"] if w["kept_output"] else None,
                "placement": w.get("placement"),
            })
        checkpoints = []
        for c in checkpoint_rows:
            artifact = self.store.catalog.get(c["artifact_id"]) if c["deleted_at"] is None else None
            checkpoints.append({"id": c["artifact_id"], "worker": c["worker"], "step": c["step"],
                                "metrics": c["metrics"], "created_at": c["created_at"],
                                "deleted": c["deleted_at"] is not None,
                                "reference": artifact.reference if artifact else None})
        spec = row["spec"]
        data = {
            "id": row["id"], "name": row["name"], "type": row["type"], "state": row["state"], "error": row["error"],
            "created_by": row["created_by"], "created_at": row["created_at"], "started_at": row["started_at"],
            "ended_at": row["ended_at"], "history": row["history"], "spec": spec,
            "resources": {"gpus": spec["gpus"], "cpu": spec["cpu"], "memory": spec["memory"]},
            "inputs": row["info"].get("inputs", []), "code": row["info"].get("code", {}),
            "workdir": row["info"].get("workdir"), "gc_policy": row["gc_policy"], "gc_result": row["gc_result"],
            "workers": workers, "checkpoints": checkpoints,
            "outputs": [w["output"] for w in workers if w["output"]],
            "executor": spec.get("executor") or "local", "submitted_from": doc["host"] if doc else None,
        }
        return Job(data)

    def get(self, job_ref: str) -> Job:
        with self._lock:
            job_id = self._job_id(job_ref)
            self.reconcile()
            return self._job(job_id)

    def list(self, state: str | None = None, name: str | None = None, limit: int = 100, offset: int = 0) -> list[Job]:
        """Jobs, newest first; reconciles jobs whose supervisor died on the way."""
        if state is not None and state not in ACTIVE + TERMINAL:
            raise InvalidInput(f"Unknown job state {state!r}: use one of {', '.join(ACTIVE + TERMINAL)}.")
        if limit < 1 or limit > 10000 or offset < 0:
            raise InvalidInput("limit must be between 1 and 10000 and offset at least 0.")
        with self._lock:
            self.reconcile()
            if self.team is None:
                return [self._job(row["id"]) for row in self.db.jobs(limit, offset, state, name)]
            found = [self._job(row["id"]) for row in self.db.jobs(limit + offset, 0, state, name)]
            found += [self._job(d["job"]["id"], d) for d in self.team.all() if self.db.job(d["job"]["id"]) is None
                      and state in (None, d["job"]["state"]) and name in (None, d["job"]["name"])]
            found.sort(key=lambda j: j.created_at, reverse=True)
            return found[offset:offset + limit]

    def wait(self, job_ref: str, timeout: float | None = None, poll: float = 0.1) -> Job:
        """Block until the job is `finished` (ended, its supervisors gone: its outputs saved, its
        checkpoints collected) or the timeout passes, and return it."""
        job_id = self._job_id(job_ref)
        deadline = None if timeout is None else time.monotonic() + timeout
        last_reconcile = time.monotonic()
        while True:
            _row, workers, doc = self._rows(job_id)
            if self._ended(workers, doc):
                return self.get(job_id)
            if deadline is not None and time.monotonic() > deadline:
                return self.get(job_id)
            if time.monotonic() - last_reconcile > 2.0:
                self.reconcile()
                last_reconcile = time.monotonic()
            time.sleep(poll)

    def finished(self, job_ref: str, worker: int | None = None) -> bool:
        """True once the job (or `worker`) has ended and its supervisors are gone: nothing more happens
        to it, its log is complete. The rule behind `logs(...).finished` and `wait`."""
        with self._lock:
            job_id = self._job_id(job_ref)
            self.reconcile()
            _row, workers, doc = self._rows(job_id)
        if worker is not None:
            worker = _worker_index(workers, worker)
        return self._ended([w for w in workers if worker in (None, w["idx"])], doc)

    # -- acting ----------------------------------------------------------------------------
    def stop(self, job_ref: str, save_output: bool = False) -> Job:
        """SIGTERM to each running worker's process group, SIGKILL after the grace period; queued
        workers leave the queue. With save_output, what the workers wrote so far is still saved."""
        import signal

        with self._lock:
            job_id = self._job_id(job_ref)
            row, workers, doc = self._rows(job_id)
            workers = [w for w in workers if w["state"] in ACTIVE]
            if not workers:
                raise Conflict(f"Job {row['name']!r} ({job_id[:8]}) has already ended ({row['state']}).")
            if doc is not None:  # another host's Ray job: its supervisors and Ray are told
                self.team.stop(doc, save_output)
                return self._job(job_id)
            if row["spec"].get("executor") == "ray":
                self.team.record.ask_stop(job_id, save_output, f"{procs.hostname()} ({self.store.host_id})")
            for w in workers:
                self.db.update_worker(job_id, w["idx"], None, stop_requested=1, save_on_stop=int(bool(save_output)))
                token = w["supervisor"]
                if token and procs.alive(token):
                    try:
                        os.kill(int(token.split(":")[1]), signal.SIGTERM)
                    except (ProcessLookupError, ValueError):
                        pass
            self.reconcile()
            return self._job(job_id)

    def save_output(self, job_ref: str, worker: int | None = None) -> Job:
        """Publish the output a worker kept because saving it failed (or because ML_OUTPUT_PATH was
        replaced by another folder), with the lineage the automatic save would have given it, then
        remove the kept folder. Without `worker`, every worker's kept output is saved."""
        with self._lock:
            job_id = self._job_id(job_ref)
            job, workers, doc = self._rows(job_id)
            self._foreign(job_id, doc, "save its output")
            if worker is not None:
                worker = _worker_index(workers, worker)
            chosen = [w["idx"] for w in workers if w["kept_output"] and worker in (None, w["idx"])]
            if not chosen:
                who = f"Worker {worker} of job" if worker is not None else "Job"
                raise Conflict(f"{who} {job['name']!r} ({job_id[:8]}) has no kept output to save: an output is "
                               "kept only when saving it failed.")
            for idx in chosen:
                self._save_kept(job, idx)
            return self._job(job_id)

    def _save_kept(self, job: dict, idx: int) -> None:
        import shutil

        folder = self.layout.worker(job["id"], idx)
        with folder.save_output_lock():
            w = self.db.worker(job["id"], idx)
            kept = w["kept_output"]
            if not kept:
                return  # saved meanwhile, by another process
            if w["state"] not in TERMINAL:
                raise Conflict(f"Worker {idx} is still {w['state']}; save its output once it has ended.")
            path = kept["path"]
            problem, _ = outputs.check_folder(path, None, "The kept output")
            if problem:
                raise Conflict(f"{problem}; it cannot be saved. Put the output back in {path} as a folder.")
            if not os.path.isdir(path) and kept.get("node"):
                raise Conflict(f"The output of worker {idx} is kept on node {kept['node']} of the Ray cluster, in "
                               f"{path}: save it from there (`jupyter artifacts checkpoint create NAME {path}`).")
            if not os.path.isdir(path):
                raise NotFound(f"The kept output of worker {idx}, {path}, is gone; there is nothing to save.")
            failed = f"Saving the output of worker {idx} failed again"
            try:
                fields, note = outputs.publish(self.store, job, idx, path, kept["produced_by"], kept["inputs"])
            except ArtifactsError as exc:
                exc.message = f"{failed}: {exc.message.rstrip('.')}; it is still kept in {path}."
                exc.args = (exc.message,)
                raise
            except Exception as exc:  # an fsspec destination's own error
                raise Conflict(f"{failed}: {type(exc).__name__}: {exc}; it is still kept in {path}.") from None
            # the worker ends as it would have, had the save not failed
            self.db.update_worker(job["id"], idx, "stopped" if w["stop_requested"] else "finished", error=None,
                                  kept_output=None, **fields)
            shutil.rmtree(path, ignore_errors=True)
            append_log(folder.log, f"[job] {note} (job save-output)\n")

    def delete(self, job_ref: str) -> dict:
        """Forget an ended job: its records and its folder (logs, metrics). What it made stays in the
        store; a job still running (or whose supervisors still finish up) is refused."""
        import shutil

        with self._lock:
            job_id = self._job_id(job_ref)
            self.reconcile()
            row, workers, doc = self._rows(job_id)
            self._foreign(job_id, doc, "delete it")
            if not _ended(workers):
                raise Conflict(f"Job {row['name']!r} ({job_id[:8]}) is {row['state']}; stop it, then delete it "
                               "once it has ended.")
            if row["spec"].get("executor") == "ray":
                self.team.record.forget(job_id)
            self.db.delete_job(job_id)
        shutil.rmtree(os.path.join(self.jobs_dir, job_id), ignore_errors=True)
        return {"id": job_id, "name": row["name"], "state": row["state"]}

    def metrics(self, job_ref: str, limit: int = 2000) -> dict:
        """Every worker's reported metrics over its steps (what `worker.report` wrote), for charts."""
        with self._lock:
            job_id = self._job_id(job_ref)
            _row, workers, doc = self._rows(job_id)
        paths = {w["idx"]: self.team.metrics(doc, w["idx"]) if doc else self.layout.worker(job_id, w["idx"]).metrics
                 for w in workers}
        return {"id": job_id, "workers": [
            {"index": w["idx"], "params": w["params"], "points": _metrics_history(paths[w["idx"]], limit)}
            for w in workers]}

    def logs(self, job_ref: str, worker: int | None = None, offset: int | str = 0) -> LogChunk:
        """New log text from `offset`, the offset to ask from next time, whether the job (or `worker`)
        has ended and all of its log was returned (`finished`: every face stops following then), and
        its state.

        With one worker (or `worker` given) the offset is a byte offset (int). Without `worker` on a
        job with several, every worker's new lines come prefixed with `[worker N] ` and the offset is
        a string of per-worker byte offsets ("120,0,388") to pass back as it is.
        """
        with self._lock:
            job_id = self._job_id(job_ref)
            self.reconcile()  # a worker whose supervisor died ends now, so its log can finish
            row, workers, doc = self._rows(job_id)
            job_state = row["state"]
        if worker is not None:
            worker = _worker_index(workers, worker)
        chosen = [w for w in workers if worker in (None, w["idx"])]
        ended = self._ended(chosen, doc)  # decided before reading: once it holds, nothing more is written
        if doc is not None:
            self.team.fetch_logs(doc, [w["idx"] for w in chosen])  # Ray's log while it runs, then the root's
        text, next_offset, read_all = read_logs(
            [(w["idx"], self.layout.worker(job_id, w["idx"]).log, w["state"] in TERMINAL) for w in chosen],
            offset, prefixed=len(chosen) > 1)
        state = chosen[0]["state"] if worker is not None else job_state
        return LogChunk(text, next_offset, ended and read_all, state)

    def logged(self, job_ref: str, worker: int | None = None) -> Iterator[str]:
        """Yield everything logged so far, a chunk at a time (`follow` also waits for what comes next)."""
        offset: int | str = 0
        while True:
            chunk = self.logs(job_ref, worker=worker, offset=offset)
            if not chunk.text:
                return
            offset = chunk.offset
            yield chunk.text

    def follow(self, job_ref: str, worker: int | None = None, poll: float = 0.2) -> Iterator[str]:
        """Yield a job's log text as it grows, until `logs` says it is finished."""
        job_id = self.get(job_ref).id
        offset: int | str = 0
        while True:
            chunk = self.logs(job_id, worker=worker, offset=offset)
            offset = chunk.offset
            if chunk.text:
                yield chunk.text
            if chunk.finished:
                return
            if not chunk.text:
                time.sleep(poll)

    def set_gc_policy(self, job_ref: str, save_experiment_best: int | None = None, save_trial_best: int | None = None,
                      save_trial_latest: int | None = None, dry_run: bool = False) -> dict:
        """Change a job's checkpoint GC policy; an ended job is collected at once (or, with dry_run,
        told what would be deleted). A running job is collected with the new policy when it ends."""
        from . import gc
        from .spec import count

        with self._lock:
            job_id = self._job_id(job_ref)
            row, _workers, doc = self._rows(job_id)
            self._foreign(job_id, doc, "change its GC policy")
            policy = dict(row["gc_policy"])
            for key, value in zip(GC_FIELDS, (save_experiment_best, save_trial_best, save_trial_latest)):
                if value is not None:
                    policy[key] = count(key.replace("_", "-"), value)
            if dry_run:
                result = gc.collect(self.store, self.db, {**row, "gc_policy": policy}, dry_run=True)
                result["applied"] = False
                return result
            self.db.set_job_fields(job_id, gc_policy=policy)
            if row["state"] not in TERMINAL:
                return {"dry_run": False, "policy": policy, "applied": False, "deleted": [], "protected": [],
                        "already_missing": [], "errors": [],
                        "note": "the job is still running; its checkpoints are collected when it ends"}
            result = collect_job(self.db, self.layout, job_id, lambda: self.store)
            result["applied"] = True
            return result

    def gpus(self) -> dict:
        """Each device of the inventory, who holds it, and its memory use where known; with the ray
        executor, the cluster's nodes and GPUs and which job holds which."""
        if self.executor == "ray":
            return self._cluster_gpus()
        inventory = self.inventory
        with self._lock:
            self.reconcile()
            used = inventory.memory_used()
            holders: dict[int, dict] = {}
            for w in self.db.workers(states=("building", "running", "uploading")):
                if w["placement"]:
                    continue  # on a cluster's GPUs
                job = self.db.job(w["job_id"])
                for index in w["gpus"] or []:
                    holders[index] = {"job_id": w["job_id"], "job_name": job["name"] if job else None,
                                      "worker": w["idx"], "state": w["state"]}
            devices = []
            with self.layout.schedule_lock():
                for d in inventory.devices:
                    free = leases.is_free(self.layout.locks, d.index)
                    holder = None if free else holders.get(d.index, {"job_id": None, "note": "held by a job starting up"})
                    devices.append({**d.to_dict(), "free": free, "holder": holder, "memory_used": used.get(d.index)})
            queued = []
            for w in self.db.workers(states=("queued",)):
                job = self.db.job(w["job_id"])
                if job and job["spec"].get("gpus") and job["spec"].get("executor") != "ray":
                    queued.append({"job_id": w["job_id"], "job_name": job["name"], "worker": w["idx"],
                                   "gpus": job["spec"]["gpus"]})
        return {"source": inventory.source, "count": inventory.count, "devices": devices, "queue": queued}

    def _cluster_gpus(self) -> dict:
        """The Ray cluster's nodes and GPUs, held by this team's workers (this host's and, on a shared
        root, the others'), by other Ray work, or free; and the workers queued for them."""
        from .raycluster import RayCluster, gpus_view

        with self._lock:
            self.reconcile()
            placed, queued = [], []
            docs = [d for d in self.team.all() if self.db.job(d["job"]["id"]) is None] if self.team else []
            jobs = [(self.db.job(r["id"]), self.db.workers(r["id"])) for r in self.db.jobs(10000, 0)
                    if r["spec"].get("executor") == "ray" and r["state"] not in TERMINAL]
            jobs += [(d["job"], d["workers"]) for d in docs if d["job"]["state"] not in TERMINAL]
            for job, workers in jobs:
                for w in workers:
                    holder = {"job_id": job["id"], "job_name": job["name"], "worker": w["idx"], "state": w["state"]}
                    if w["state"] == "queued" and job["spec"].get("gpus"):
                        queued.append({**holder, "gpus": job["spec"]["gpus"]})
                    elif w["state"] in ACTIVE and w.get("placement"):
                        placed.append({**holder, "gpus": w["gpus"] or [], "placement": w["placement"],
                                       "wants": job["spec"].get("gpus") or 0})
        return gpus_view(RayCluster(), placed, queued)


__all__ = ["Job", "JobManager"]
