"""What every stage of a worker's life reads and writes: the job as stored (its spec and info,
typed), the worker's folder and log, the jobs database, and what earlier stages found (the GPUs it
holds, its CPU cores, the Python to run with)."""

from __future__ import annotations

import os
import signal
import sys

from ..db import JobsDB
from ..layout import JobsLayout
from ..logs import append_log
from ..spec import JobInfo, JobSpec, lease_holder


class StopRequested(Exception):
    """A stop came while the worker was being prepared: it ends `stopped`."""

    message = "stopped while building"


class StageFailed(Exception):
    """A stage could not be done (an environment that does not build): the worker fails with `message`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Worker:
    """One worker of one job, as its supervisor sees it."""

    def __init__(self, db_path: str, job_id: str, idx: int) -> None:
        self.db = JobsDB(db_path)
        self.layout = JobsLayout.of_database(db_path)
        job = self.db.job(job_id)
        if job is None:
            raise SystemExit(f"no job {job_id}")
        self.job = job  # the stored row, as the output's lineage records it
        self.spec = JobSpec.from_stored(job["spec"])
        self.info = JobInfo.from_dict(job["info"])
        self.job_id, self.idx = job_id, idx
        self.several = self.info.workers > 1
        self.folder = self.layout.worker(job_id, idx)
        os.makedirs(self.folder.folder, exist_ok=True)
        self.stop_flag = False  # set by SIGTERM / SIGINT, from `job stop`
        self.gpus: dict[int, int] = {}  # GPU index -> the descriptor of its flocked lock file
        self.given_gpus: list[int] | None = None  # the GPUs a cluster gave it (Ray); None: those flocked here
        self.cpus: list[int] | None = None  # the cores it is pinned to (with a cpu request)
        self.python = self.spec.python or sys.executable
        self.env_bin: str | None = None  # the bin folder of the environment built from requirements.txt
        self.output_made: list[int] | None = None  # (device, inode) of the folder made for ML_OUTPUT_PATH
        self.kept_output: str | None = None  # the output folder kept because it could not be saved
        self._store = None
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    def _on_stop(self, signum: int, frame: object) -> None:
        self.stop_flag = True

    def log(self, message: str) -> None:
        """A supervisor's note in the worker's log: `[job] message`."""
        append_log(self.folder.log, f"[job] {message}\n")

    def set_state(self, state: str | None, **fields: object) -> str | None:
        """Record the worker's state (None: only `fields`); returns the job's new state when it changed."""
        return self.db.update_worker(self.job_id, self.idx, state, **fields)

    def visible_gpus(self) -> list[int]:
        """The GPUs the worker's CUDA_VISIBLE_DEVICES names."""
        return sorted(self.gpus) if self.given_gpus is None else self.given_gpus

    def row(self) -> dict | None:
        """The worker's row as the jobs database holds it now."""
        return self.db.worker(self.job_id, self.idx)

    def stop_requested(self) -> bool:
        if self.stop_flag:
            return True
        row = self.row()
        return bool(row and row["stop_requested"])

    def check_stop(self) -> None:
        """Between two steps of preparing: a stop asked for meanwhile ends the worker now."""
        if self.stop_requested():
            raise StopRequested()

    @property
    def holder(self) -> str:
        """Who holds the store leases the worker takes."""
        return lease_holder(self.spec.name, self.job_id, self.idx)

    def store(self):
        """The store the job was submitted to, opened with the settings that came with the job."""
        if self._store is None:
            from ...store import Store, StoreSettings

            known = StoreSettings.__dataclass_fields__
            self._store = Store(StoreSettings(**{k: v for k, v in self.info.store.items() if k in known}))
        return self._store
