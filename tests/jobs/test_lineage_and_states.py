"""The code's git commit in lineage, every state a job passes through, and the lease on its inputs."""

from __future__ import annotations

import subprocess

from .helpers import job_json, wait_job, wait_until

WRITE_OUTPUT = "echo weights > $ML_OUTPUT_PATH/weights.txt"


def git(repo, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def test_lineage_names_the_git_commit_and_whether_the_checkout_was_dirty(jobs, store, tmp_path):
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "train.sh").write_text(WRITE_OUTPUT + "\n")
    git(repo, "init", "-q")
    git(repo, "-c", "user.name=Test", "-c", "user.email=test@example.org", "add", ".")
    git(repo, "-c", "user.name=Test", "-c", "user.email=test@example.org", "commit", "-q", "-m", "first")
    head = git(repo, "rev-parse", "HEAD")

    def run(name: str) -> tuple[dict, dict]:
        job = jobs.wait(jobs.submit({"type": "training", "name": name, "command": "train.sh",
                                     "workdir": str(repo / "src")}).id, timeout=60)
        assert job.state == "finished", jobs.logs(job.id)[0]
        return job.code, store.get(job.workers[0]["output"]["id"]).produced_by["code"]

    code, lineage = run("clean")
    assert code == {"command": "train.sh", "workdir": str(repo / "src"), "git_commit": head, "git_dirty": False,
                    "git_root": str(repo)}
    assert lineage == code
    (repo / "notes.txt").write_text("untracked files do not count\n")
    assert run("untracked")[0]["git_dirty"] is False
    with open(repo / "src" / "train.sh", "a") as handle:
        handle.write("echo changed\n")
    code, lineage = run("dirty")
    assert (code["git_commit"], code["git_dirty"]) == (head, True)
    assert lineage["git_dirty"] is True

    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "train.sh").write_text(WRITE_OUTPUT + "\n")
    job = jobs.submit({"type": "training", "name": "plain", "command": "train.sh", "workdir": str(plain)})
    assert job.code == {"command": "train.sh", "workdir": str(plain)}
    jobs.wait(job.id, timeout=60)


def test_every_state_a_job_passes_through_is_noted_in_order(jobs, store, tmp_path):
    data = tmp_path / "rows"
    data.mkdir()
    (data / "rows.csv").write_text("a,b\n")
    store.create("dataset", "rows", str(data))
    job = jobs.submit({"type": "training", "name": "states", "command": WRITE_OUTPUT, "data": ["rows"],
                       "workdir": str(tmp_path)})
    job = jobs.wait(job.id, timeout=60)
    assert job.state == "finished", jobs.logs(job.id)[0]
    expected = ["queued", "building", "running", "uploading", "finished"]
    worker = job.workers[0]
    for history in (job.history, worker["history"]):
        assert [state for state, _ in history] == expected
        times = [at for _, at in history]
        assert times == sorted(times) and len(set(times)) == len(times), history
    assert job.created_at == job.history[0][1]
    assert job.started_at == job.history[1][1] and job.ended_at == job.history[-1][1]
    assert worker["started_at"] == worker["history"][1][1] and worker["ended_at"] == worker["history"][-1][1]
    assert worker["output"]["reference"] == "Job - states:v1"


def test_an_attached_checkpoint_cannot_be_deleted_until_the_job_ends(cli, tmp_path):
    folder = tmp_path / "warm"
    folder.mkdir()
    (folder / "state.bin").write_bytes(b"\1" * 64)
    cli.run("checkpoint", "create", "warmup", str(folder))
    gate = tmp_path / "gate"
    (tmp_path / "hold.py").write_text(
        "import os, time\n"
        "print('attached', os.listdir(os.path.join(os.environ['ML_CHECKPOINT_PATH'], 'warmup')), flush=True)\n"
        "deadline = time.time() + 120\n"
        f"while not os.path.exists({str(gate)!r}) and time.time() < deadline:\n"
        "    time.sleep(0.05)\n")
    job_id = cli.run("job", "create", "training", "holder", "--checkpoint", "warmup", "--command",
                     "hold.py").stdout.strip()
    wait_until(lambda: "attached ['state.bin']" in cli.run("job", "logs", job_id).stdout, timeout=30,
               what="the checkpoint to be attached")
    error = cli.fail("checkpoint", "delete", "warmup:v1", "--yes")
    assert error == (f"Error: Checkpoint warmup:v1 is in use by job holder ({job_id[:8]}) worker 0; "
                     "stop or detach it first.")
    assert job_json(cli, job_id)["state"] == "running"
    gate.touch()
    assert wait_job(cli, job_id)["state"] == "finished"
    assert cli.json("checkpoint", "delete", "warmup:v1", "--yes")["reference"] == "warmup:v1"
    assert cli.run("checkpoint", "show", "warmup:v1", check=False).returncode != 0
