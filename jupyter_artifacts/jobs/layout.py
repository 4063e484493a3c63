"""Where a store's jobs live on this machine, and the file locks that order them.

Everything is under the store's `state_dir` (the folder of its catalog):

    jobs.sqlite                      the jobs database (jobs/db.py)
    jobs/locks/schedule.lock         held while one process decides who starts (the queue, reconcile)
    jobs/locks/gc.lock               one checkpoint GC at a time
    jobs/locks/gpu-N.lock            GPU N, flocked by the supervisor of the worker using it (jobs/leases.py)
    jobs/envs/KEY/, KEY.lock         environments built from a requirements.txt, and the lock of their build
    jobs/pylib/jupyter_artifacts/    the worker helper, for those environments
    jobs/scripts/                    the scripts of %%train / %%infer cells
    jobs/JOB_ID/N/                   worker N's folder (`WorkerLayout`)

The manager, the supervisors and reconcile all ask this module, so a path or a lock has one name.
Only `os` and `fcntl` are imported: a supervisor loads this on its way to starting the worker.
"""

from __future__ import annotations

import fcntl
import os


class FileLock:
    """An exclusive flock on one file while the `with` block runs; dropped if the process dies."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd: int | None = None

    def __enter__(self) -> "FileLock":
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class WorkerLayout:
    """One worker's folder: its log, parameters, metrics, checkpoint spool, cgroup record, and the
    scratch folders its inputs are copied to and its output is written in."""

    SCRATCH = ("model", "checkpoints", "data", "output", "spool")  # removed when the worker ends

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.log = os.path.join(folder, "log.txt")
        self.supervisor_log = os.path.join(folder, "supervisor.log")  # the supervisor's own stderr
        self.params = os.path.join(folder, "params.json")
        self.metrics = os.path.join(folder, "metrics.jsonl")  # written by jupyter_artifacts.worker.report
        self.spool = os.path.join(folder, "checkpoints.jsonl")  # written by worker.save_checkpoint
        self.model = os.path.join(folder, "model")
        self.checkpoints = os.path.join(folder, "checkpoints")
        self.data = os.path.join(folder, "data")

    def output(self, output: str | None) -> str:
        """The folder ML_OUTPUT_PATH names: the model's own folder when the job's output is a model
        (the output model is the input model with the worker's changes), else `output/`."""
        return self.model if output == "model" else os.path.join(self.folder, "output")

    def save_output_lock(self) -> FileLock:
        """One save of the worker's kept output at a time, whichever process asks."""
        return FileLock(os.path.join(self.folder, "save-output.lock"))


class JobsLayout:
    """The jobs of one store on this machine, under its `state_dir`."""

    def __init__(self, state_dir: str) -> None:
        self.state_dir = os.path.abspath(state_dir)
        self.db_path = os.path.join(self.state_dir, "jobs.sqlite")
        self.jobs_dir = os.path.join(self.state_dir, "jobs")
        self.locks = os.path.join(self.jobs_dir, "locks")
        self.envs = os.path.join(self.jobs_dir, "envs")
        self.pylib = os.path.join(self.jobs_dir, "pylib")
        self.scripts = os.path.join(self.jobs_dir, "scripts")

    @classmethod
    def of_database(cls, db_path: str) -> "JobsLayout":
        """The layout a supervisor is given by its jobs database's path (its first argument)."""
        return cls(os.path.dirname(os.path.abspath(db_path)))

    def worker(self, job_id: str, idx: int) -> WorkerLayout:
        return WorkerLayout(os.path.join(self.jobs_dir, job_id, str(idx)))

    def schedule_lock(self) -> FileLock:
        """Held around every scheduling decision: one process at a time picks who starts."""
        return FileLock(os.path.join(self.locks, "schedule.lock"))

    def gc_lock(self) -> FileLock:
        """One checkpoint GC at a time for this store's jobs."""
        return FileLock(os.path.join(self.locks, "gc.lock"))

    def env(self, key: str) -> str:
        """The folder of the environment built from the requirements whose key is `key`."""
        return os.path.join(self.envs, key)

    def env_lock(self, key: str) -> FileLock:
        """Held while that environment is built or checked, so two workers never build it at once."""
        return FileLock(self.env(key) + ".lock")


__all__ = ["FileLock", "JobsLayout", "WorkerLayout"]
