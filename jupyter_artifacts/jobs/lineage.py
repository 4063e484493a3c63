"""An artifact's lineage with the jobs that used it. The store knows what went into an artifact and
what was made from it; which jobs took it as an input, and what their workers made, only the jobs
database knows (and, for the team's Ray jobs, the shared root: jobs/teamjobs.py), so `used_by` is
added here, for every face that shows lineage."""

from __future__ import annotations

import os

from .db import JobsDB
from .layout import JobsLayout


def _node(store, artifact_id: str | None) -> dict | None:
    """A worker's output as a lineage node (its id alone, `deleted`, once it is gone)."""
    if artifact_id is None:
        return None
    found = store.catalog.get(artifact_id)
    if found is None:
        return {"id": artifact_id, "state": "deleted"}
    node = {"id": found.id, "kind": found.kind, "name": found.name, "version": found.version,
            "reference": found.reference, "state": found.state}
    if found.produced_by:
        node["produced_by"] = found.produced_by
    return node


def used_by(store, artifact_id: str) -> list[dict]:
    """The jobs that took the artifact as an input, newest first, with their roles and each worker's
    output: this host's (none where it never ran a job: no jobs database is made for asking) and, on
    a shared root, the Ray jobs of every host of the team."""
    path = JobsLayout(store.state_dir).db_path
    jobs = []
    if os.path.exists(path):
        db = JobsDB(path)
        try:
            jobs = db.jobs_with_input(artifact_id)
        finally:
            db.close()
    if store.shared:
        from .teamjobs import Record, jobs_with_input

        known = {job["id"] for job in jobs}
        jobs += [job for job in jobs_with_input(Record(store.root).summaries(), artifact_id) if job["id"] not in known]
        jobs.sort(key=lambda job: job["created_at"], reverse=True)
    for job in jobs:
        for worker in job["workers"]:
            worker["output"] = _node(store, worker.pop("output_id"))
    return jobs


def lineage(store, ref: str, kind: str | None = None, depth: int = 20) -> dict:
    """`store.lineage(...)` (what went into the artifact, what was made from it) and `used_by`."""
    found = store.lineage(ref, kind, depth)
    return {**found, "used_by": used_by(store, found["id"])}


__all__ = ["lineage", "used_by"]
