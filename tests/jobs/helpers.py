"""Waiting on real supervisors and looking at real processes."""

from __future__ import annotations

import json
import os
import time


def wait_until(predicate, timeout: float = 30, poll: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def group_alive(pgid: int) -> bool:
    """True while any live (non-zombie) process is in the process group."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def job_json(cli, ref: str) -> dict:
    return json.loads(cli.run("job", "show", ref, "--json").stdout)


def wait_job(cli, ref: str, timeout: float = 60) -> dict:
    from jupyter_artifacts.jobs.db import TERMINAL

    def done():
        job = job_json(cli, ref)
        return job if job["state"] in TERMINAL and job["gc_result"] is not None else None

    return wait_until(done, timeout, poll=0.2, what=f"job {ref} to end")
