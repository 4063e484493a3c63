"""Every worker runs in a cgroup of its own, memory limit or not, so that daemons it starts (a `setsid`
child, a double fork) end with it: on stop, when it exits, and when its supervisor was killed.

Where no cgroup can be made (here: JUPYTER_ARTIFACTS_CGROUPS=off), the log says so and stop ends
the worker's session and process group.
"""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest

from jupyter_artifacts.jobs import cgroups

from .helpers import job_json, pid_alive, wait_job, wait_until

DAEMONS = """\
setsid sh -c 'echo "daemon $$"; exec sleep 1000' &
python - <<'EOF'
import os
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        print("daemon", os.getpid(), flush=True)
        os.execvp("sleep", ["sleep", "1001"])
    os._exit(0)
os.wait()
EOF
echo started
exec sleep 1000
"""

# started only once the daemons' job has given its GPUs back: which of them still run then (not zombies)?
CHECK_DAEMONS = """\
import sys
sys.path.insert(0, sys.argv[2])
from helpers import pid_alive
print("alive:", [p for p in open(sys.argv[1]).read().split() if pid_alive(int(p))])
"""


def tracking_unavailable() -> str | None:
    group, reason = cgroups.create(f"probe-{os.getpid()}")
    if group is None:
        return reason
    group.remove()
    return None


def start_daemons(cli, tmp_path, name: str, *extra: str) -> tuple[str, list[int]]:
    (tmp_path / "daemons.sh").write_text(DAEMONS)
    job_id = cli.run("job", "create", "training", name, "--command", "sh daemons.sh", "--stop-grace", "1",
                     *extra).stdout.strip()
    log = wait_until(lambda: (text := cli.run("job", "logs", job_id).stdout) and "started" in text and text,
                     timeout=30, what="the daemons")
    daemons = [int(p) for p in re.findall(r"^daemon (\d+)$", log, re.M)]
    assert len(daemons) == 2 and all(pid_alive(p) for p in daemons), log
    return job_id, daemons


@pytest.fixture
def cgroup_here() -> None:
    reason = tracking_unavailable()
    if reason:
        pytest.skip(f"no cgroup can be made here: {reason}")


def test_stop_ends_setsid_and_double_forked_daemons_before_the_gpu_is_handed_on(cli, tmp_path, cgroup_here):
    job_id, daemons = start_daemons(cli, tmp_path, "daemons", "--gpus", "2")
    log = cli.run("job", "logs", job_id).stdout
    folder = re.search(r"in its own cgroup \(cgroup v\d (\S+)\)", log).group(1)
    assert os.path.basename(folder) == f"jupyter-artifacts-{job_id}-0"
    (tmp_path / "pids.txt").write_text(" ".join(map(str, daemons)))
    (tmp_path / "check.py").write_text(CHECK_DAEMONS)
    waiting = cli.run("job", "create", "training", "next", "--gpus", "1", "--command",
                      f"check.py {tmp_path / 'pids.txt'} {Path(__file__).parent}").stdout.strip()
    assert job_json(cli, waiting)["state"] == "queued"

    cli.run("job", "stop", job_id, "--wait")
    job = wait_job(cli, job_id)
    assert job["state"] == "stopped"
    assert not any(pid_alive(p) for p in daemons), "a daemon of the stopped job is still running"
    assert not os.path.exists(folder), "the worker's cgroup was left behind"
    assert wait_job(cli, waiting)["state"] == "finished"
    assert "alive: []" in cli.run("job", "logs", waiting).stdout, "the next job got the GPU while daemons ran"


def test_daemons_end_when_the_worker_exits(cli, tmp_path, cgroup_here):
    (tmp_path / "daemons.sh").write_text(DAEMONS.replace("exec sleep 1000\n", ""))
    job = wait_job(cli, cli.run("job", "create", "training", "leaver", "--command", "sh daemons.sh").stdout.strip())
    assert job["state"] == "finished"
    daemons = [int(p) for p in re.findall(r"^daemon (\d+)$", cli.run("job", "logs", job["id"]).stdout, re.M)]
    assert len(daemons) == 2
    assert not any(pid_alive(p) for p in daemons), "a daemon outlived its finished worker"


def test_reconcile_kills_what_is_left_in_the_cgroup_of_a_killed_supervisor(cli, tmp_path, cgroup_here):
    job_id, daemons = start_daemons(cli, tmp_path, "orphans")
    os.kill(job_json(cli, job_id)["workers"][0]["supervisor_pid"], signal.SIGKILL)
    job = wait_job(cli, job_id)  # `job show` reconciles
    assert job["state"] == "failed" and "supervisor" in job["error"]
    assert not any(pid_alive(p) for p in daemons), "a daemon outlived its killed supervisor"


LEAVER = """\
import os, time
if os.fork() == 0:
    os.setpgid(0, 0)  # out of the worker's process group, still in its session
    print("left the group", os.getpid(), flush=True)
    time.sleep(1000)
    os._exit(0)
print("started", flush=True)
time.sleep(1000)
"""


def test_without_a_cgroup_the_log_says_so_and_stop_ends_the_session(cli, tmp_path):
    (tmp_path / "leaver.py").write_text(LEAVER)
    cli.env[cgroups.CGROUPS_ENV] = "off"
    job_id = cli.run("job", "create", "training", "no-cgroup", "--command", "leaver.py", "--stop-grace",
                     "1").stdout.strip()
    log = wait_until(lambda: (text := cli.run("job", "logs", job_id).stdout) and "started" in text and text,
                     timeout=30, what="the worker")
    left = int(re.search(r"left the group (\d+)", log).group(1))
    assert (f"worker 0 runs without a cgroup ({cgroups.CGROUPS_ENV} is off): stop ends its session and "
            "process group; processes that start a session of their own outlive it") in log
    cli.run("job", "stop", job_id, "--wait")
    assert wait_job(cli, job_id)["state"] == "stopped"
    assert not pid_alive(left), "a process that left the worker's process group outlived the stop"


def test_an_unknown_cgroups_setting_is_refused_with_the_accepted_forms(cli):
    cli.env[cgroups.CGROUPS_ENV] = "sometimes"
    error = cli.fail("job", "create", "training", "j", "--command", "true")
    assert error == f"Error: Invalid {cgroups.CGROUPS_ENV} 'sometimes': use {cgroups.CGROUPS_FORMS}."
