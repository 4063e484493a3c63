"""Continuing a run (`--resume`): each worker of the new job gets, as an input, the last checkpoint
that the worker of the same index saved in the job it continues (the one of the same name before
it, or the job named), so `worker.resume_path()` finds it. A job's GC keeps each worker's latest
checkpoint by default (`save_trial_latest` 1), so a job that failed can always be continued from
where it stopped; the checkpoint, attached to the new job, is then never collected."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import Conflict, NotFound
from .db import ACTIVE, JobsDB
from .gc import candidates_from_rows
from .spec import JobSpec

LABEL = "resume"  # its folder under ML_CHECKPOINT_PATH


def resume_inputs(store, db: JobsDB, spec: JobSpec, workers: int, find_job: Callable[[str], str]) -> list[dict]:
    """One input per worker that has a checkpoint to continue from (`worker`: the index it is for).

    Refused when the job to continue is still running or saved no checkpoint at all."""
    if spec.resume is None:
        return []
    job = db.job(find_job(spec.name if spec.resume is True else spec.resume))
    shown = f"{job['name']} ({job['id'][:8]})"
    if job["state"] in ACTIVE:
        raise Conflict(f"Job {shown} is still {job['state']}; wait for it to end, or stop it, before continuing it.")
    latest: dict[int, str] = {}
    rows = db.checkpoints(job["id"], include_deleted=False)
    for candidate in sorted(candidates_from_rows(rows, None), key=lambda c: (c.step, c.order)):
        latest[candidate.trial] = candidate.id
    found = []
    for idx in range(workers):
        artifact = store.catalog.get(latest[idx]) if idx in latest else None
        if artifact is None or artifact.state != "ready":
            continue
        found.append({"id": artifact.id, "role": "checkpoint", "reference": artifact.reference, "name": artifact.name,
                      "version": artifact.version, "label": LABEL, "worker": idx, "resume": True,
                      "resumed_job": job["id"]})
    if not found:
        raise NotFound(f"Job {shown} left no checkpoint to continue from: save them while training "
                       "(worker.save_checkpoint, or a framework callback: docs/frameworks.md).")
    return found


__all__ = ["LABEL", "resume_inputs"]
