"""One worker's supervisor: `python -m jupyter_artifacts.jobs.supervisor JOBS_DB JOB_ID INDEX`.

Started detached (its own session, stdin from /dev/null) by `JobManager`, so that it outlives the
kernel and the server that submitted the job. Its life is one template method
(`lifecycle.Supervisor.process`), a stage a module:

    queue      wait in the FIFO queue under the schedule lock; hold the GPUs (flocks) and cores
    build      the environment from the job's requirements.txt (cached)
    inputs     copy the attached artifacts in (fetching public checkpoints), fetch the data manifest
    run        the command and its environment, waited on through an `Executor`; stop: SIGTERM, SIGKILL
    local      the local executor: fork/exec in its own session and cgroup, memory limits, OOM blame
    outputs    saved checkpoints and ML_OUTPUT_PATH as artifacts (kept when that fails); the end state
    context    the worker as every stage sees it (typed spec and info, folder, database, what was found)

A new executor (Ray, say) implements `run.Executor` in a module of its own and is named by a
`Supervisor` subclass's `executor_class`. The imports stay lean: the time from `job create` to the
worker's first line is spent here, so modules that only some jobs need are imported where used.
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """Run one worker's life (what `python -m jupyter_artifacts.jobs.supervisor` does)."""
    from .__main__ import main as run

    return run(argv)
