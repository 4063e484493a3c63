"""`jupyter artifacts job create` with its input, parameter and output flags, run as real subprocesses."""

from __future__ import annotations

import json

from tests.jobs.helpers import wait_job

PROBE = """\
import json, os
from jupyter_artifacts import worker
seen = {"params": worker.params(), "model": sorted(os.listdir(os.environ["ML_MODEL_PATH"])),
        "checkpoints": {name: sorted(os.listdir(os.path.join(os.environ["ML_CHECKPOINT_PATH"], name)))
                        for name in sorted(os.listdir(os.environ["ML_CHECKPOINT_PATH"]))},
        "data": sorted(os.listdir(os.environ["ML_DATA_PATH"])),
        "notes": open(os.path.join(os.environ["ML_DATA_PATH"], "extra", "notes.txt")).read(),
        "same_folder": os.environ["ML_OUTPUT_PATH"] == os.environ["ML_MODEL_PATH"]}
print("SEEN", os.environ["ML_WORKER_INDEX"], json.dumps(seen, sort_keys=True), flush=True)
for step, loss in ((1, 0.5), (2, 0.25)):
    open("ckpt.txt", "w").write(f"step {step}")
    worker.save_checkpoint("ckpt.txt", step=step, metrics={"loss": loss * worker.params()["seed"]})
with open(os.path.join(os.environ["ML_MODEL_PATH"], "weights.txt"), "a") as f:
    f.write(" tuned")
"""


def folder(tmp_path, name: str, files: dict[str, str]):
    path = tmp_path / name
    path.mkdir()
    for rel, text in files.items():
        (path / rel).write_text(text)
    return str(path)


def test_create_with_every_input_and_parameter_flag(cli, tmp_path):
    cli.run("model", "create", "base", folder(tmp_path, "base", {"weights.txt": "base"}))
    cli.run("checkpoint", "create", "warmup", folder(tmp_path, "warm", {"state.txt": "s"}))
    cli.run("dataset", "create", "rows", folder(tmp_path, "rows", {"rows.csv": "a,b\n"}))
    mirror = tmp_path / "mirror"
    folder(mirror.parent, "mirror", {})
    folder(mirror, "whisper-tiny", {"config.json": "{}", "README.md": "---\nlicense: apache-2.0\n---\n"})
    cli.env["JUPYTER_ARTIFACTS_PUBLIC_MIRROR"] = str(mirror)
    work = tmp_path / "work"
    work.mkdir()
    (work / "probe.py").write_text(PROBE)
    (work / "notes.txt").write_text("from the manifest")
    (work / "manifest.jsonl").write_text(json.dumps({"url": str(work / "notes.txt"), "path": "extra/notes.txt"}) + "\n")
    (work / "params.json").write_text('{"lr": 0.1}')
    (work / "grid.json").write_text('{"seed": [1, 2]}')
    cli.cwd = work
    created = json.loads(cli.run(
        "job", "create", "training", "probe", "--command", "probe.py", "--model", "base", "--checkpoint", "warmup",
        "--public-checkpoint", "whisper-tiny", "--data", "rows", "--data-manifest", "manifest.jsonl",
        "--params", "params.json", "--hyperparams", "grid.json", "--output-type", "model", "--metric", "loss",
        "--save-trial-latest", "0", "--json").stdout)
    assert created["state"] in ("queued", "building") and len(created["workers"]) == 2
    job = wait_job(cli, created["id"], timeout=120)
    assert job["state"] == "finished", cli.run("job", "logs", created["id"]).stdout

    spec = job["spec"]
    assert (spec["model"], spec["checkpoints"], spec["public_checkpoints"], spec["data"], spec["output"]) == (
        "base", ["warmup"], ["whisper-tiny"], ["rows"], "model")
    assert spec["data_manifest"] == [{"url": str(work / "notes.txt"), "path": "extra/notes.txt"}]
    assert [w["params"] for w in job["workers"]] == [{"lr": 0.1, "seed": 1}, {"lr": 0.1, "seed": 2}]
    assert [(i["role"], i["reference"]) for i in job["inputs"]] == [
        ("model", "base:v1"), ("checkpoint", "warmup:v1"), ("dataset", "rows:v1"), ("checkpoint", "public:whisper-tiny")]

    # --worker: only that worker's lines, unprefixed
    log = cli.run("job", "logs", "probe", "--worker", "1").stdout
    seen = [line.split(" ", 2) for line in log.splitlines() if line.startswith("SEEN ")]
    assert [index for _, index, _ in seen] == ["1"] and "[worker" not in log
    assert json.loads(seen[0][2]) == {
        "params": {"lr": 0.1, "seed": 2}, "model": ["weights.txt"],
        "checkpoints": {"warmup": ["state.txt"], "whisper-tiny": ["README.md", "config.json"]},
        "data": ["extra", "rows"], "notes": "from the manifest", "same_folder": True}

    # --output-type model: each worker's output is the input model with its changes, linked to every input
    for w in job["workers"]:
        assert w["output"]["kind"] == "model" and w["output"]["reference"] == f"Job - probe Worker {w['index']}:v1"
        art = cli.json("model", "show", w["output"]["id"])
        assert {(i["role"], i["reference"]) for i in art["inputs"]} == {
            ("model", "base:v1"), ("checkpoint", "warmup:v1"), ("checkpoint", "public.whisper-tiny:v1"),
            ("dataset", "rows:v1")}
    target = tmp_path / "tuned"
    cli.run("model", "download", job["workers"][0]["output"]["id"], str(target))
    assert (target / "weights.txt").read_text() == "base tuned"

    # the policy from the flags kept each worker's best (step 2); --dry-run names what would go and deletes nothing
    kept = sorted((c["worker"], c["step"]) for c in job["checkpoints"] if not c["deleted"])
    assert kept == [(0, 2), (1, 2)]
    plan = cli.run("job", "gc-policy", "probe", "--save-trial-best", "0", "--dry-run").stdout
    assert "policy: save_experiment_best=0, save_trial_best=0, save_trial_latest=0" in plan
    assert sorted(line.split(" (", 1)[1] for line in plan.splitlines() if line.startswith("would delete")) == [
        "worker 0, step 2, metric 0.25)", "worker 1, step 2, metric 0.5)"]
    after = cli.json("job", "show", "probe")
    assert sorted((c["worker"], c["step"]) for c in after["checkpoints"] if not c["deleted"]) == kept
    assert after["gc_policy"]["save_trial_best"] == 1


def test_create_follow_streams_the_log_and_exits_with_the_outcome(cli):
    done = cli.run("job", "create", "inference", "talks", "--command", "echo one; echo two", "--follow")
    job_id, *lines = done.stdout.splitlines()
    assert [line for line in lines if not line.startswith("[job]")] == ["one", "two"]
    assert done.stderr.strip() == "Job 'talks' finished"
    assert cli.json("job", "show", job_id)["state"] == "finished"
    failed = cli.run("job", "create", "inference", "breaks", "--command", "echo bad; exit 3", "--follow", check=False)
    assert failed.returncode == 1
    assert "bad" in failed.stdout.splitlines()
    assert failed.stderr.strip() == "Job 'breaks' failed: worker 0 exited with code 3"
