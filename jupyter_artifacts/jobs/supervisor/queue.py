"""Waiting its turn: queued workers that need GPUs start first in, first out, whenever enough are
free (this host's, or a cluster's: a `Lane`); workers without GPUs never wait. Every decision is
taken under the schedule lock."""

from __future__ import annotations

import os
import time

from .. import leases
from ..reconcile import reconcile
from ..spec import JobSpec
from .context import Worker

QUEUE_POLL = 0.1  # seconds between looks at the queue while waiting for GPUs
RUNNING = ("building", "running", "uploading")
STARTED, STOPPED, GONE = "started", "stopped", "gone"


class Lane:
    """Where queued workers wait for GPUs: this host's, held by flocks (this class), or a cluster's
    (`ray.ClusterLane`). Each executor's workers form a queue of their own, first in, first out."""

    executor = "local"
    poll = QUEUE_POLL  # seconds between looks while waiting

    def stop_requested(self, worker: Worker) -> bool:
        return worker.stop_requested()

    def take(self, worker: Worker, wanted: int) -> list[int] | None:
        """The GPUs the head of the queue gets now, held (the schedule lock is held), or None to wait."""
        db = worker.db
        # a device whose flock is free but that a worker not yet ended still names may
        # still run a crashed supervisor's leftovers, until reconcile has killed them
        # (a worker placed on a cluster names the cluster's GPUs, not this host's)
        taken = {d for w in db.workers(states=RUNNING) if not w["placement"] for d in w["gpus"]}
        free = [d for d in worker.info.devices if d not in taken]
        held = leases.acquire(worker.layout.locks, free, wanted)
        if held is None:
            return None
        worker.gpus = held
        return sorted(held)

    def start(self, worker: Worker, devices: list[int]) -> None:
        start(worker, devices)


def wait_turn(worker: Worker, lane: Lane | None = None) -> str:
    """Hold the worker's GPUs and cores, and leave the queue: STARTED; STOPPED when a stop came while
    it waited (its state is recorded); GONE when its row is no longer queued."""
    lane = lane or Lane()
    wanted = worker.spec.gpus
    lanes: dict[str, tuple[int, str]] = {worker.job_id: (wanted, lane.executor)}  # job -> (GPUs, executor)
    last_reconcile = time.time()  # a worker that starts at once leaves reconciling to the others
    db = worker.db
    while True:
        if lane.stop_requested(worker):
            worker.set_state("stopped", only_if_active=True)
            worker.log("stopped while queued")
            return STOPPED
        with worker.layout.schedule_lock():
            now = time.time()
            if now - last_reconcile > 1.0:
                reconcile(db, worker.layout)
                last_reconcile = now
            row = worker.row()
            if row is None or row["state"] != "queued":
                return GONE
            if wanted == 0:
                lane.start(worker, [])
                return STARTED
            head = None
            for w in db.workers(states=("queued",)):
                if w["job_id"] not in lanes:
                    job = db.job(w["job_id"])
                    spec = JobSpec.from_stored(job["spec"]) if job else None
                    lanes[w["job_id"]] = (spec.gpus, spec.executor or "local") if spec else (0, "local")
                gpus, executor = lanes[w["job_id"]]
                if gpus > 0 and executor == lane.executor:
                    head = w
                    break
            if head is not None and head["seq"] == row["seq"]:
                devices = lane.take(worker, wanted)
                if devices is not None:
                    lane.start(worker, devices)
                    return STARTED
        time.sleep(lane.poll)


def pick_cpus(worker: Worker, count: int) -> list[int]:
    """`count` of this process's cores, the least used by running workers first."""
    available = sorted(os.sched_getaffinity(0))
    load = {c: 0 for c in available}
    for w in worker.db.workers(states=RUNNING):
        for c in w["cpus"] or []:
            if c in load:
                load[c] += 1
    return sorted(sorted(available, key=lambda c: (load[c], c))[:count])


def start(worker: Worker, devices: list[int]) -> None:
    """Leave the queue (the schedule lock is held): pick CPU cores and note the GPUs."""
    if worker.spec.cpu:
        import math

        worker.cpus = pick_cpus(worker, math.ceil(worker.spec.cpu))
    needs_build = bool(worker.spec.requirements or worker.info.inputs or worker.spec.data_manifest)
    worker.set_state("building" if needs_build else "running", gpus=devices, cpus=worker.cpus)
    if devices:
        worker.log(f"worker {worker.idx} got GPU(s) {', '.join(map(str, devices))}")
