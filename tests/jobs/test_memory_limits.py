"""Memory limits with real workers: a cgroup where one can be made, else an rlimit per process.

`cgroup` runs where this machine lets the test's user make a memory cgroup (v2, or v1's memory
controller) and is skipped elsewhere; `rlimit` runs everywhere. Memory is blamed only on evidence.
"""

from __future__ import annotations

import os
import re
import signal

import pytest

from jupyter_artifacts.jobs import cgroups

from .helpers import job_json, pid_alive, wait_job, wait_until

HOLD = "python -c 'import time; print(\"ready\", flush=True); time.sleep(120)'"
CHILDREN = (  # three children holding 100 MB each at the same time, under a 200 MB limit
    "import subprocess, sys\n"
    "code = 'import time; x = bytearray(100 * 1000 * 1000); time.sleep(3)'\n"
    "children = [subprocess.Popen([sys.executable, '-c', code]) for _ in range(3)]\n"
    "codes = [c.wait() for c in children]\n"
    "print('children exited', codes, flush=True)\n"
    "sys.exit(1 if any(codes) else 0)\n")


def cgroup_unavailable() -> str | None:
    group, reason = cgroups.create(f"probe-{os.getpid()}", 100 * 10**6)
    if group is None:
        return reason
    group.remove()
    return None


@pytest.fixture(params=["cgroup", "rlimit"])
def mode(request, cli) -> str:
    if request.param == "cgroup":
        reason = cgroup_unavailable()
        if reason:
            pytest.skip(f"no memory cgroup can be made here: {reason}")
    cli.env[cgroups.MODE_ENV] = "auto" if request.param == "cgroup" else "rlimit"
    return request.param


def test_an_over_memory_worker_fails_with_the_reason(cli, mode, tmp_path):
    (tmp_path / "greedy.py").write_text("x = bytearray(600 * 1000 * 1000)\nprint(len(x))\n")
    job_id = cli.run("job", "create", "training", "greedy-memory", "--memory", "200M", "--command",
                     "greedy.py").stdout.strip()
    job = wait_job(cli, job_id)
    assert job["state"] == "failed"
    if mode == "cgroup":
        expected = ("worker 0 exceeded its memory limit of 200 MB: the kernel's OOM killer ended 1 of its "
                    "processes (exit code -9)")
    else:
        expected = ("worker 0 exceeded its memory limit of 200 MB per process: an allocation failed "
                    "(MemoryError) (exit code 1)")
    assert job["error"] == expected
    assert expected in cli.run("job", "show", job_id).stdout
    log = cli.run("job", "logs", job_id).stdout
    together = "memory limit 200 MB for all of worker 0's processes together"
    assert (together in log) == (mode == "cgroup"), log


def test_a_killed_or_stopped_worker_with_a_memory_limit_is_not_blamed_on_memory(cli, mode):
    killed = cli.run("job", "create", "training", "killed", "--memory", "200M", "--command", HOLD).stdout.strip()
    wait_until(lambda: "ready" in cli.run("job", "logs", killed).stdout, timeout=30, what="the worker")
    pid = job_json(cli, killed)["workers"][0]["worker_pid"]
    together = "memory limit 200 MB for all of worker 0's processes together"
    assert (together in cli.run("job", "logs", killed).stdout) == (mode == "cgroup")
    os.kill(pid, signal.SIGKILL)  # a user's kill -9, not the OOM killer
    job = wait_job(cli, killed)
    assert job["state"] == "failed"
    assert job["error"] == "worker 0 was killed by SIGKILL"

    stopped = cli.run("job", "create", "training", "stopped", "--memory", "200M", "--stop-grace", "1",
                      "--command", HOLD).stdout.strip()
    wait_until(lambda: "ready" in cli.run("job", "logs", stopped).stdout, timeout=30, what="the worker")
    cli.run("job", "stop", stopped, "--wait")
    job = wait_job(cli, stopped)
    assert job["state"] == "stopped" and job["error"] == "stopped by request"
    assert job["workers"][0]["error"] is None


def test_the_limit_covers_the_workers_processes_together_only_in_a_cgroup(cli, mode, tmp_path):
    (tmp_path / "children.py").write_text(CHILDREN)
    job_id = cli.run("job", "create", "training", "family", "--memory", "200M", "--command",
                     "children.py").stdout.strip()
    job = wait_job(cli, job_id)
    log = cli.run("job", "logs", job_id).stdout
    if mode == "rlimit":  # 100 MB each is under the per-process limit
        assert job["state"] == "finished", log
        assert "children exited [0, 0, 0]" in log
        return
    assert job["state"] == "failed", log
    assert re.fullmatch(r"worker 0 exceeded its memory limit of 200 MB: the kernel's OOM killer ended [123] of "
                        r"its processes \(exit code 1\)", job["error"]), job["error"]
    folder = re.search(r"\(cgroup v\d (\S+)\)", log).group(1)
    assert os.path.basename(folder) == f"jupyter-artifacts-{job_id}-0"
    assert not os.path.exists(folder), "the worker's cgroup was left behind"


def test_an_unknown_enforcement_mode_is_refused_with_the_accepted_forms(cli):
    cli.env[cgroups.MODE_ENV] = "cgroups-please"
    error = cli.fail("job", "create", "training", "j", "--memory", "1G", "--command", "true")
    assert error == f"Error: Invalid {cgroups.MODE_ENV} 'cgroups-please': use {cgroups.MODE_FORMS}."


ESCAPER = (  # a child in a session of its own, out of reach of the worker's process group
    "import os, subprocess, sys, time\n"
    "child = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
    "print('escaped', child.pid, flush=True)\n"
    "time.sleep(float(sys.argv[1]))\n")


@pytest.mark.parametrize("end", ["worker exits", "supervisor killed"])
def test_a_cgroup_ends_processes_that_left_the_process_group(cli, tmp_path, end):
    reason = cgroup_unavailable()
    if reason:
        pytest.skip(f"no memory cgroup can be made here: {reason}")
    (tmp_path / "escaper.py").write_text(ESCAPER)
    hold = "0.5" if end == "worker exits" else "120"
    job_id = cli.run("job", "create", "training", "escaper", "--memory", "500M", "--command",
                     f"escaper.py {hold}").stdout.strip()
    log = wait_until(lambda: (text := cli.run("job", "logs", job_id).stdout) and "escaped" in text and text,
                     timeout=30, what="the escaped child")
    escaped = int(re.search(r"escaped (\d+)", log).group(1))
    folder = re.search(r"\(cgroup v\d (\S+)\)", log).group(1)
    if end == "supervisor killed":
        os.kill(job_json(cli, job_id)["workers"][0]["supervisor_pid"], signal.SIGKILL)
    job = wait_job(cli, job_id)
    assert job["state"] == ("finished" if end == "worker exits" else "failed")
    wait_until(lambda: not pid_alive(escaped), timeout=10, what="the escaped child to be killed")
    assert not os.path.exists(folder), "the worker's cgroup was left behind"
