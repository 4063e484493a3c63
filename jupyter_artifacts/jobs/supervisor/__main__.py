"""`python -m jupyter_artifacts.jobs.supervisor JOBS_DB JOB_ID INDEX`: one worker's life."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3:
        print("usage: python -m jupyter_artifacts.jobs.supervisor JOBS_DB JOB_ID INDEX", file=sys.stderr)
        return 2
    from .context import Worker
    from .lifecycle import Supervisor

    return Supervisor(Worker(argv[0], argv[1], int(argv[2]))).process()


if __name__ == "__main__":
    sys.exit(main())
