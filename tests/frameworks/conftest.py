"""Jobs that train with the real frameworks on the CPU, run through the CLI as a user runs them.

Models are built from a config and data is made by the test: nothing is downloaded from a hub
(HF_HUB_OFFLINE=1 in the jobs)."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def project(cli, tmp_path):
    """The folder the jobs' scripts are in and run from."""
    work = tmp_path / "project"
    work.mkdir()
    cli.cwd = work
    cli.env["HF_HUB_OFFLINE"] = "1"
    return work


def run_job(cli, *args: str, finished: bool = True) -> dict:
    """`job create training ... --follow` (the logs go to the job's log); the job as `job show` has it
    once it ended and its checkpoints were collected."""
    proc = cli.run("job", "create", "training", *args, "--follow", check=False, timeout=600)
    job_id = proc.stdout.split("\n", 1)[0].strip()
    job = json.loads(cli.run("job", "show", job_id, "--json").stdout)
    log = cli.run("job", "logs", job_id).stdout
    assert (job["state"] == "finished") == finished, f"job {job['state']}:\n{log}\n{proc.stderr}"
    job["log"] = log
    return job


def saved(job: dict) -> list[dict]:
    """The job's checkpoints in the order saved."""
    return sorted(job["checkpoints"], key=lambda c: c["created_at"])
