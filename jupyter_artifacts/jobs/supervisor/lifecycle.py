"""A worker's life as one template method, `Supervisor.process`: wait its turn, prepare, execute,
finish, end. Each stage is a method calling its module (queue, build and inputs, run, outputs);
`executor_class` says where the command runs, so another executor replaces that alone."""

from __future__ import annotations

from .. import leases
from ..db import TERMINAL
from . import outputs, queue, run
from .context import StopRequested, Worker
from .local import LocalExecutor


class Supervisor:
    """Runs one worker from the queue to its end; whatever fails, its processes are ended, its GPUs
    freed, its state recorded and, if it was the job's last, the job's checkpoints collected."""

    executor_class: type[run.Executor] = LocalExecutor
    worker_class: type[Worker] = Worker  # the worker as this supervisor's stages see it

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.executor = self.executor_class(worker)
        self.spool = outputs.Spool(worker)

    def process(self) -> int:
        """The template: every stage in order, and the end that always follows."""
        worker = self.worker
        outcome = None
        try:
            if not self.wait_turn():
                return 0
            self.prepare()
            outcome = ("stopped", None) if worker.stop_requested() else self.finish(self.execute())
        except StopRequested:
            outcome = ("stopped", None)
        except Exception as exc:  # a bug or an environment problem: say so in the job's log
            import traceback

            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            worker.log(f"failed: {message}")
            traceback.print_exc()
            outcome = ("failed", message)
        finally:
            self.executor.end()  # a no-op unless something above failed while the worker ran
            leases.release(worker.gpus)
            if outcome is not None:
                self.end(*outcome)
        return 0

    # -- the stages ------------------------------------------------------------------------
    def wait_turn(self) -> bool:
        """Leave the queue with GPUs and cores; False when the worker will not run (stopped, gone)."""
        self.keep_leases()
        turn = queue.wait_turn(self.worker, self.lane())
        if turn != queue.STARTED:
            self.release_leases()  # its inputs are free at once (on a shared root, not when the leases expire)
        if turn == queue.STOPPED and self.job_ended():
            self.collect()
        return turn == queue.STARTED

    def lane(self) -> queue.Lane:
        """The queue the worker waits in for its GPUs: this host's."""
        return queue.Lane()

    def keep_leases(self) -> None:
        """On a root shared by several hosts, renew the worker's leases on its inputs from a thread
        for as long as it lives, queued or running (a silent host's leases expire)."""
        from ...store.store import root_is_shared

        settings = self.worker.info.store
        if root_is_shared(str(settings.get("root", "")), settings.get("shared")):
            self.worker.store().keep_leases()

    def prepare(self) -> None:
        """Build the environment the job asks for, then copy its inputs in (each module imported only
        by the jobs that need it: most start without), and say what was attached (worker.attached())."""
        from . import inputs

        spec, info = self.worker.spec, self.worker.info
        if spec.requirements:
            from . import build

            build.build_env(self.worker)
        if info.inputs or spec.data_manifest:
            inputs.materialize(self.worker)
        inputs.describe(self.worker)

    def execute(self) -> int:
        """Run the command where `executor_class` runs it; its exit code."""
        return run.run(self.worker, self.executor, self.spool)

    def finish(self, rc: int) -> tuple[str, str | None]:
        """Save the output as the exit says; the (state, reason) the worker ends with."""
        return outputs.finish(self.worker, rc, self.executor)

    def end(self, state: str, reason: str | None) -> None:
        """Record the end, drop the worker's copies and leases, and collect the job if it ended."""
        worker = self.worker
        ended = worker.set_state(state, error=reason, only_if_active=True)
        worker.log(f"worker {worker.idx} {state}" + (f": {reason}" if reason else ""))
        outputs.cleanup(worker)
        self.release_leases()
        if ended in TERMINAL:
            self.collect()

    # -- helpers ---------------------------------------------------------------------------
    def job_ended(self) -> bool:
        job = self.worker.db.job(self.worker.job_id)
        return bool(job and job["state"] in TERMINAL)

    def release_leases(self) -> None:
        row = self.worker.row()
        if not row or not row["leases"]:
            return
        try:
            store = self.worker.store()
            for lease_id in row["leases"]:
                store.release_lease(lease_id)
        except Exception as exc:
            self.worker.log(f"could not release leases: {exc}")

    def collect(self) -> None:
        """The last worker to end collects the job's checkpoints."""
        from .. import gc

        worker = self.worker
        try:
            gc.collect_job(worker.db, worker.layout, worker.job_id, worker.store)
        except Exception as exc:
            worker.log(f"checkpoint garbage collection failed: {getattr(exc, 'message', exc)}")
