"""Settling workers whose supervisor is gone (killed, or the machine restarted): whoever looks next
(a listing, `job show`, a queued worker, the server at start-up) does it, under the schedule lock."""

from __future__ import annotations

import time

from .. import procs
from . import cgroups
from .db import ACTIVE, TERMINAL, JobsDB
from .layout import JobsLayout
from .logs import append_log

SPAWN_GRACE = 60.0  # a queued row without a supervisor token is someone's spawn in progress


def reconcile(db: JobsDB, layout: JobsLayout) -> list[str]:
    """Kill what is left of workers whose supervisor is gone (their cgroup, else their session and
    process group), then mark them failed (stopped, if a stop was asked): their GPUs count as free
    only from then on. The caller holds `layout.schedule_lock()`. Returns the ids of jobs that ended."""
    ended = []
    now = time.time()
    for w in db.workers(states=ACTIVE):
        token = w["supervisor"]
        if token is None:
            if now - w["created_at"] < SPAWN_GRACE:
                continue
        elif procs.alive(token):
            continue
        folder = layout.worker(w["job_id"], w["idx"])
        if not cgroups.end_recorded(folder.folder, w["worker_pid"]):
            continue  # something of it still runs: it keeps its GPUs until a later look ends it
        stop_on_cluster(w["placement"])
        pid = token.split(":")[1] if token else "?"
        if w["stop_requested"]:
            state, reason = "stopped", None
        else:
            state = "failed"
            reason = (f"its supervisor (pid {pid}) is gone: it was killed or the machine restarted "
                      f"while the worker was {w['state']}; its GPUs were freed")
        new = db.update_worker(w["job_id"], w["idx"], state, only_if_active=True, error=reason)
        if new:
            append_log(folder.log, f"[job] {reason or 'stopped'}\n")
        if new in TERMINAL:
            ended.append(w["job_id"])
    return ended


def stop_on_cluster(placement: dict | None) -> None:
    """A worker sent to a Ray cluster runs on there without its supervisor: stop its Ray Job (the node
    ends the worker as a stop does); a cluster out of reach has lost it already."""
    if not placement or not placement.get("submission_id"):
        return
    from ..errors import ArtifactsError
    from .raycluster import RayCluster

    try:
        RayCluster(placement.get("cluster"), timeout=5.0).stop(placement["submission_id"])
    except ArtifactsError:
        pass


__all__ = ["SPAWN_GRACE", "reconcile", "stop_on_cluster"]
