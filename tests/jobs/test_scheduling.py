"""Scheduling on a simulated inventory of 2 GPUs, with real supervisors and real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from jupyter_artifacts.units import SIZE_FORMS

from .helpers import group_alive, job_json, wait_job, wait_until

PY = sys.executable


def rounds(spans: list[tuple[float, float]]) -> int:
    """The longest chain of runs each starting after the previous one ended: the rounds it took."""
    depth: dict[int, int] = {}
    for i, (start, _end) in sorted(enumerate(spans), key=lambda item: item[1][0]):
        depth[i] = 1 + max((depth[j] for j, (_s, end) in enumerate(spans) if j in depth and end <= start), default=0)
    return max(depth.values())


def most_at_once(spans: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])  # ends sort first
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    return peak


def test_five_one_gpu_jobs_never_share_a_device_and_run_in_three_rounds(cli, tmp_path):
    trace = tmp_path / "trace.jsonl"
    gate = tmp_path / "gate"
    script = tmp_path / "work.py"
    script.write_text(
        "import json, os, time\n"
        "start = time.time()\n"
        "time.sleep(1.5)\n"
        f"with open({str(trace)!r}, 'a') as f:\n"
        "    f.write(json.dumps({'gpu': os.environ['CUDA_VISIBLE_DEVICES'], 'start': start, 'end': time.time(),\n"
        "                        'job': os.environ['ML_JOB_ID']}) + '\\n')\n")
    # both GPUs are held until all five are queued, so the rounds depend on the scheduler alone
    (tmp_path / "blocker.py").write_text(f"import os, time\nwhile not os.path.exists({str(gate)!r}): time.sleep(0.05)\n")
    blocker = cli.run("job", "create", "training", "blocker", "--gpus", "2", "--command",
                      f"python {tmp_path / 'blocker.py'}").stdout.strip()
    wait_until(lambda: job_json(cli, blocker)["state"] == "running", what="the blocker to hold both GPUs")
    ids = [cli.run("job", "create", "training", f"round-{n}", "--command", f"python {script}", "--gpus", "1").stdout.strip()
           for n in range(5)]
    assert len(set(ids)) == 5
    assert [job_json(cli, job_id)["state"] for job_id in ids] == ["queued"] * 5
    began = time.time()
    gate.touch()
    jobs = [wait_job(cli, job_id) for job_id in ids]
    elapsed = time.time() - began
    assert [j["state"] for j in jobs] == ["finished"] * 5
    runs = [json.loads(line) for line in trace.read_text().splitlines()]
    assert len(runs) == 5
    assert all(r["gpu"] in ("0", "1") for r in runs)
    for gpu in ("0", "1"):
        spans = sorted((r["start"], r["end"]) for r in runs if r["gpu"] == gpu)
        for (_, end), (start, _) in zip(spans, spans[1:]):
            assert start >= end, f"two workers overlapped on GPU {gpu}: {spans}"
    spans = [(r["start"], r["end"]) for r in runs]
    assert any(a["start"] < b["end"] and b["start"] < a["end"] and a["gpu"] != b["gpu"]
               for a in runs for b in runs if a is not b), f"no two workers ever ran at the same time: {runs}"
    assert most_at_once(spans) == 2, runs
    assert rounds(spans) == 3, f"5 workers on 2 GPUs took {rounds(spans)} rounds: {runs}"
    # FIFO: the jobs started in the order they were submitted
    started = [next(r["start"] for r in runs if r["job"] == job_id) for job_id in ids]
    assert started == sorted(started)
    assert elapsed < 60, f"5 jobs of 1.5 s on 2 GPUs took {elapsed:.1f} s"
    # each worker saw exactly the GPU it was given
    for job in jobs:
        assert [str(g) for g in job["workers"][0]["gpus"]] in (["0"], ["1"])
    assert wait_job(cli, blocker)["state"] == "finished"


def test_rounds_and_concurrency_are_read_from_the_spans():
    """The two measures above, on spans written out by hand (so a serial run cannot pass)."""
    serial = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    assert (rounds(serial), most_at_once(serial)) == (5, 1)
    paired = [(0, 1), (0.1, 1.1), (1.0, 2.0), (1.1, 2.1), (2.0, 3.0)]
    assert (rounds(paired), most_at_once(paired)) == (3, 2)
    staggered = [(0, 1), (0.6, 1.6), (1.0, 2.0), (1.6, 2.6), (2.0, 3.0)]
    assert (rounds(staggered), most_at_once(staggered)) == (3, 2)
    crowded = [(0, 1)] * 3 + [(1, 2)] * 2
    assert (rounds(crowded), most_at_once(crowded)) == (2, 3)


def test_a_job_asking_for_more_gpus_than_the_host_has_is_refused(cli):
    error = cli.fail("job", "create", "training", "greedy", "--command", "true", "--gpus", "3")
    assert "asks for 3 GPUs but this host has 2" in error
    assert cli.json("job", "list") == []


def test_invalid_resources_are_refused_with_the_accepted_forms(cli):
    assert f"Invalid memory 'lots': use {SIZE_FORMS}." in cli.fail(
        "job", "create", "training", "j", "--command", "true", "--memory", "lots")
    assert "whole number" in cli.fail("job", "create", "training", "j", "--command", "true", "--gpus", "1.5")
    assert "number of cores" in cli.fail("job", "create", "training", "j", "--command", "true", "--cpu", "-1")
    assert "Invalid name" in cli.fail("job", "create", "training", "a/b", "--command", "true")


def test_kill_9_of_a_supervisor_frees_its_gpus_and_fails_the_job(cli, tmp_path):
    hog = cli.run("job", "create", "training", "hog", "--command", "sleep 60", "--gpus", "2").stdout.strip()
    job = wait_until(lambda: (j := job_json(cli, hog))["state"] == "running" and j["workers"][0]["worker_pid"] and j,
                     what="hog to run")
    worker = job["workers"][0]
    waiting = cli.run("job", "create", "training", "next", "--command", "echo got $CUDA_VISIBLE_DEVICES",
                      "--gpus", "1").stdout.strip()
    time.sleep(0.5)
    assert job_json(cli, waiting)["state"] == "queued"
    gpus = cli.json("gpus")
    assert [d["holder"]["job_name"] for d in gpus["devices"]] == ["hog", "hog"]
    assert gpus["queue"][0]["job_name"] == "next"

    os.kill(worker["supervisor_pid"], signal.SIGKILL)
    done = wait_job(cli, waiting, timeout=30)
    assert done["state"] == "finished"
    assert "got 0" in cli.run("job", "logs", waiting).stdout
    hog_job = wait_job(cli, hog, timeout=30)
    assert hog_job["state"] == "failed"
    assert "supervisor" in hog_job["error"] and "gone" in hog_job["error"]
    wait_until(lambda: not group_alive(worker["worker_pid"]), timeout=10, what="the worker to die with its supervisor")
    assert all(d["free"] for d in cli.json("gpus")["devices"])


def test_jobs_outlive_the_process_that_started_them_and_keep_their_logs(cli, store_root, tmp_path):
    """A 'server' submits a job and exits; a fresh process finds the job, its logs so far, and its end."""
    server = (
        "import sys\n"
        "from jupyter_artifacts.store import Store\n"
        "from jupyter_artifacts.jobs import JobManager\n"
        f"jobs = JobManager(Store(root={str(store_root)!r}), inventory='fake:2')\n"
        "job = jobs.submit({'type': 'training', 'name': 'survivor', 'gpus': 1, 'command':\n"
        "    'for i in 1 2 3 4 5 6; do echo line $i; sleep 0.3; done'})\n"
        "print(job.id)\n"
    )
    proc = subprocess.run([PY, "-c", server], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    job_id = proc.stdout.strip()
    # the process that started it is gone; the job runs on and its log is readable mid-way
    wait_until(lambda: "line 2" in cli.run("job", "logs", job_id).stdout, timeout=20, what="the first lines")
    assert job_json(cli, "survivor")["state"] == "running"
    # a 'restarted server' (a new JobManager in a new process) lists it and follows it to the end
    followed = cli.run("job", "logs", "survivor", "--follow", timeout=60).stdout
    assert [line for line in followed.splitlines() if line.startswith("line")] == [f"line {i}" for i in range(1, 7)]
    assert wait_job(cli, job_id)["state"] == "finished"


def test_stop_ends_a_job_and_every_child_it_spawned(cli, tmp_path):
    script = tmp_path / "spawner.py"
    script.write_text(
        "import signal, subprocess, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)  # only SIGKILL after the grace period ends it\n"
        "for _ in range(3):\n"
        "    subprocess.Popen(['sleep', '300'])\n"
        "subprocess.Popen(['sh', '-c', 'sleep 300 & sleep 300'])\n"
        "print('children started', flush=True)\n"
        "time.sleep(300)\n")
    job_id = cli.run("job", "create", "training", "spawner", "--command", f"python {script}", "--gpus", "1",
                     "--stop-grace", "1").stdout.strip()
    wait_until(lambda: "children started" in cli.run("job", "logs", job_id).stdout, timeout=20, what="children")
    pgid = job_json(cli, job_id)["workers"][0]["worker_pid"]
    assert group_alive(pgid)
    began = time.time()
    cli.run("job", "stop", job_id, "--wait")
    job = wait_job(cli, job_id)
    assert job["state"] == "stopped"
    assert time.time() - began < 15
    assert not group_alive(pgid), "a child of the stopped job is still running"
    log = cli.run("job", "logs", job_id).stdout
    assert "SIGTERM sent" in log and "SIGKILL sent" in log
    assert all(d["free"] for d in cli.json("gpus")["devices"])


def test_stop_can_still_save_the_output_written_so_far(cli, tmp_path):
    job_id = cli.run("job", "create", "training", "partial", "--command",
                     "echo epoch-1 > $ML_OUTPUT_PATH/weights.txt; echo written; sleep 300").stdout.strip()
    wait_until(lambda: "written" in cli.run("job", "logs", job_id).stdout, timeout=20, what="the output")
    cli.run("job", "stop", job_id, "--save-output", "--wait")
    job = wait_job(cli, job_id)
    assert job["state"] == "stopped"
    output = job["workers"][0]["output"]
    assert output["reference"] == "Job - partial:v1" and output["kind"] == "checkpoint"


def test_stop_takes_a_queued_job_out_of_the_queue(cli):
    hog = cli.run("job", "create", "training", "hog2", "--command", "sleep 60", "--gpus", "2").stdout.strip()
    queued = cli.run("job", "create", "training", "waiter", "--command", "echo never", "--gpus", "1").stdout.strip()
    wait_until(lambda: job_json(cli, hog)["state"] == "running", what="hog2 to run")
    cli.run("job", "stop", queued, "--wait")
    assert wait_job(cli, queued)["state"] == "stopped"
    cli.run("job", "stop", hog, "--wait")
    assert wait_job(cli, hog)["state"] == "stopped"
    assert "never" not in cli.run("job", "logs", queued).stdout
    assert "already ended" in cli.fail("job", "stop", hog)


def test_cpu_limit_pins_the_worker_to_cores(cli):
    job_id = cli.run("job", "create", "training", "pinned", "--cpu", "0.5", "--command",
                     "python -c 'import os; print(\"cores\", sorted(os.sched_getaffinity(0)), os.environ[\"OMP_NUM_THREADS\"])'"
                     ).stdout.strip()
    job = wait_job(cli, job_id)
    assert job["state"] == "finished"
    cores = job["workers"][0]["cpus"]
    assert len(cores) == 1
    assert f"cores {cores} 1" in cli.run("job", "logs", job_id).stdout
