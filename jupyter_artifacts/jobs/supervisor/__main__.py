"""`python -m jupyter_artifacts.jobs.supervisor JOBS_DB JOB_ID INDEX`: one worker's life (its Ray side:
`--ray ROOT JOB_ID INDEX`, run by Ray on a node)."""

from __future__ import annotations

import sys

USAGE = ("usage: python -m jupyter_artifacts.jobs.supervisor JOBS_DB JOB_ID INDEX\n"
         "       python -m jupyter_artifacts.jobs.supervisor --ray ROOT JOB_ID INDEX   (a Ray Job's entrypoint)")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 4 and argv[0] == "--ray":  # on a node of the cluster: the job is read from the root
        from .node import NodeSupervisor

        return NodeSupervisor.on_node(argv[1], argv[2], int(argv[3])).process()
    if len(argv) != 3:
        print(USAGE, file=sys.stderr)
        return 2
    from ..db import JobsDB

    job = JobsDB(argv[0]).job(argv[1])
    if job is not None and job["spec"].get("executor") == "ray":
        from .ray import RaySupervisor as supervisor
    else:
        from .lifecycle import Supervisor as supervisor
    return supervisor(supervisor.worker_class(argv[0], argv[1], int(argv[2]))).process()


if __name__ == "__main__":
    sys.exit(main())
