"""Waiting its turn: queued workers that need GPUs start first in, first out, whenever enough are
free; workers without GPUs never wait. Every decision is taken under the schedule lock."""

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


def wait_turn(worker: Worker) -> str:
    """Hold the worker's GPUs (flocks) and cores, and leave the queue: STARTED; STOPPED when a stop
    came while it waited (its state is recorded); GONE when its row is no longer queued."""
    wanted = worker.spec.gpus
    gpus_by_job: dict[str, int] = {worker.job_id: wanted}
    last_reconcile = time.time()  # a worker that starts at once leaves reconciling to the others
    db = worker.db
    while True:
        if worker.stop_requested():
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
                start(worker, [])
                return STARTED
            head = None
            for w in db.workers(states=("queued",)):
                if w["job_id"] not in gpus_by_job:
                    job = db.job(w["job_id"])
                    gpus_by_job[w["job_id"]] = JobSpec.from_stored(job["spec"]).gpus if job else 0
                if gpus_by_job[w["job_id"]] > 0:
                    head = w
                    break
            if head is not None and head["seq"] == row["seq"]:
                # a device whose flock is free but that a worker not yet ended still names may
                # still run a crashed supervisor's leftovers, until reconcile has killed them
                taken = {d for w in db.workers(states=RUNNING) for d in w["gpus"]}
                free = [d for d in worker.info.devices if d not in taken]
                held = leases.acquire(worker.layout.locks, free, wanted)
                if held is not None:
                    worker.gpus = held
                    start(worker, sorted(held))
                    return STARTED
        time.sleep(QUEUE_POLL)


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
