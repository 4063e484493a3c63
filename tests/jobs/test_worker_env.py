"""What a worker sees (paths, params, GPUs), attached artifacts and their leases, outputs, logs, the API."""

from __future__ import annotations

import json
import sys

import pytest

from jupyter_artifacts.errors import InUse, InvalidInput, NotFound
from jupyter_artifacts.jobs import JobSpec

from .helpers import job_json, wait_job, wait_until

PROBE = '''
import json, os
from jupyter_artifacts import worker
names = ["ML_MODEL_PATH", "ML_CHECKPOINT_PATH", "ML_DATA_PATH", "ML_OUTPUT_PATH", "ML_PARAMS_PATH", "ML_JOB_ID",
         "ML_WORKER_INDEX", "CUDA_VISIBLE_DEVICES"]
seen = {n: os.environ.get(n) for n in names}
seen["params"] = worker.params({"default": 1})
seen["model_files"] = sorted(os.listdir(os.environ["ML_MODEL_PATH"]))
seen["checkpoints"] = sorted(os.listdir(os.environ["ML_CHECKPOINT_PATH"]))
seen["data"] = sorted(os.listdir(os.environ["ML_DATA_PATH"]))
seen["output_empty"] = os.listdir(os.environ["ML_OUTPUT_PATH"]) == sorted(seen["model_files"])
print("SEEN " + json.dumps(seen), flush=True)
with open(os.path.join(os.environ["ML_MODEL_PATH"], "weights.txt"), "a") as f:
    f.write(" fine-tuned")
with open(os.path.join(os.environ["ML_OUTPUT_PATH"], "extra.txt"), "w") as f:
    f.write("new")
import time
time.sleep(float(os.environ.get("HOLD", "0")))
'''


def make(store, tmp_path, kind, name, files):
    folder = tmp_path / f"src-{kind}-{name}"
    folder.mkdir()
    for rel, text in files.items():
        (folder / rel).write_text(text)
    return store.create(kind, name, str(folder))


def test_worker_sees_its_inputs_and_a_model_output_is_the_changed_model(jobs, store, tmp_path):
    model = make(store, tmp_path, "model", "base", {"weights.txt": "base weights"})
    make(store, tmp_path, "checkpoint", "warmup", {"state.txt": "s"})
    make(store, tmp_path, "dataset", "train-set", {"rows.csv": "a,b\n"})
    (tmp_path / "script.py").write_text(PROBE)
    job = jobs.submit(JobSpec(type="training", name="probe", command="script.py", gpus=1, model="base",
                              checkpoints=["warmup"], data=["train-set"], output="model",
                              params={"lr": 0.1}, hyperparameters={"seed": [7]}, workdir=str(tmp_path),
                              env={"HOLD": "1.5"}))
    # while the job runs, its attached artifacts cannot be deleted
    wait_until(lambda: jobs.get(job.id).state == "running", what="the job to run")
    with pytest.raises(InUse):
        store.delete("base", kind="model")
    with pytest.raises(InUse):
        store.delete("train-set", kind="dataset")
    job = jobs.wait(job.id, timeout=60)
    assert job.state == "finished", jobs.logs(job.id)[0]
    log = jobs.logs(job.id).text
    seen = json.loads(next(line for line in log.splitlines() if line.startswith("SEEN "))[5:])
    assert seen["ML_OUTPUT_PATH"] == seen["ML_MODEL_PATH"]
    assert seen["model_files"] == ["weights.txt"]
    assert seen["checkpoints"] == ["warmup"]
    assert seen["data"] == ["train-set"]
    assert seen["ML_JOB_ID"] == job.id and seen["ML_WORKER_INDEX"] == "0"
    assert seen["CUDA_VISIBLE_DEVICES"] in ("0", "1")
    assert seen["params"] == {"default": 1, "lr": 0.1, "seed": 7}
    # the output model is the input model with the job's changes; the stored model is untouched
    out = store.get(job.workers[0]["output"]["id"], manifest=True)
    assert out.kind == "model" and out.name == "Job - probe"
    target = tmp_path / "check"
    store.download(out.id, str(target))
    assert (target / "weights.txt").read_text() == "base weights fine-tuned"
    assert (target / "extra.txt").read_text() == "new"
    original = tmp_path / "original"
    store.download(model.id, str(original))
    assert (original / "weights.txt").read_text() == "base weights"
    roles = {i["role"] for i in out.inputs}
    assert roles == {"model", "checkpoint", "dataset"}
    # once the job ended its leases are gone: the inputs can be deleted again
    store.delete("train-set", kind="dataset")


def test_an_empty_output_folder_creates_no_artifact_and_url_outputs_are_copied(jobs, store, tmp_path):
    empty = jobs.wait(jobs.submit({"type": "inference", "name": "nothing", "command": "true",
                                   "workdir": str(tmp_path)}).id, timeout=30)
    assert empty.state == "finished" and empty.outputs == []
    assert "no output artifact" in jobs.logs(empty.id)[0]
    target = tmp_path / "exported"
    job = jobs.submit({"type": "inference", "name": "to-url", "command": "echo scored > $ML_OUTPUT_PATH/preds.txt",
                       "output": f"file://{target}", "hyperparameters": {"shard": [0, 1]}, "workdir": str(tmp_path)})
    job = jobs.wait(job.id, timeout=30)
    assert job.state == "finished"
    for w in job.workers:
        assert (target / f"worker-{w['index']}" / "preds.txt").read_text() == "scored\n"
        assert w["output_url"] == f"file://{target}/worker-{w['index']}"


def test_logs_are_incremental_per_worker_and_combined(jobs, tmp_path):
    job = jobs.submit({"type": "training", "name": "chatty", "workdir": str(tmp_path),
                       "command": "for i in 1 2 3; do echo w$ML_WORKER_INDEX-$i; done",
                       "hyperparameters": {"x": [1, 2]}})
    jobs.wait(job.id, timeout=30)
    text, offset, finished, state = jobs.logs(job.id, worker=1)
    assert "w1-1\nw1-2\nw1-3\n" in text and isinstance(offset, int)
    assert finished and state == "finished"  # the worker ended and its whole log was returned
    assert jobs.logs(job.id, worker=1, offset=offset) == ("", offset, True, "finished")
    combined = jobs.logs("chatty")
    assert "[worker 0] w0-3" in combined.text and "[worker 1] w1-1" in combined.text
    assert combined.finished and jobs.finished("chatty") and jobs.finished("chatty", worker=0)
    assert jobs.logs("chatty", offset=combined.offset).text == ""
    assert "".join(jobs.logged("chatty")) == combined.text
    with pytest.raises(NotFound):
        jobs.logs(job.id, worker=5)


def test_logs_are_finished_only_once_the_job_ended_and_all_was_read(jobs, tmp_path):
    """The one rule every face follows logs by: not while the worker runs, nor while text is left."""
    job = jobs.submit({"type": "training", "name": "talker", "workdir": str(tmp_path),
                       "command": "echo started; sleep 30", "stop_grace": 1})
    wait_until(lambda: "started" in jobs.logs(job.id).text, what="the worker's first line")
    running = jobs.logs(job.id)
    assert not running.finished and running.state == "running" and not jobs.finished(job.id)
    jobs.stop(job.id)
    jobs.wait(job.id, timeout=30)
    assert jobs.finished(job.id)
    first = jobs.logs(job.id, offset=0)
    assert "started" in first.text and first.finished and first.state == "stopped"
    assert list(jobs.follow(job.id)) == [first.text]  # follow ends by itself once it is finished


def test_intermediate_checkpoints_carry_step_and_metrics(jobs, store, tmp_path):
    (tmp_path / "train.py").write_text(
        "from jupyter_artifacts import worker\n"
        "import os\n"
        "for step in (1, 2, 3):\n"
        "    worker.report(step=step, loss=1.0 / step)\n"
        "    open('w.txt', 'w').write(str(step))\n"
        "    worker.save_checkpoint('w.txt', step=step)\n")
    job = jobs.submit({"type": "training", "name": "ckpts", "command": "train.py", "workdir": str(tmp_path),
                       "metric": "loss", "save_trial_best": 1, "save_trial_latest": 0})
    job = jobs.wait(job.id, timeout=30)
    assert job.state == "finished"
    steps = {c["step"]: c for c in job.checkpoints}
    assert sorted(steps) == [1, 2, 3]
    assert steps[2]["metrics"] == {"loss": 0.5}
    assert [c["step"] for c in job.checkpoints if not c["deleted"]] == [3]  # best loss, kept by the policy
    kept = store.get(steps[3]["id"])
    assert kept.name == "Job - ckpts Checkpoint" and kept.metadata["step"] == 3
    folder = tmp_path / "restored"
    store.download(kept.id, str(folder))
    assert (folder / "w.txt").read_text() == "3"


def test_job_refs_spec_errors_and_public_checkpoints(jobs, tmp_path):
    with pytest.raises(InvalidInput, match="Unknown job field"):
        JobSpec.from_dict({"type": "training", "name": "x", "command": "true", "gpu": 1})
    spec = JobSpec.from_dict({"type": "training", "name": "x", "command": "true",
                              "resources": {"gpus": 1, "cpu": 1, "memory": "8G"}})
    assert (spec.gpus, spec.cpu, spec.memory) == (1, 1.0, 8 * 10**9)
    with pytest.raises(InvalidInput, match="training or inference"):
        jobs.submit({"type": "eval", "name": "x", "command": "true"})
    with pytest.raises(NotFound):
        jobs.submit({"type": "training", "name": "x", "command": "true", "model": "no-such-model"})
    with pytest.raises((InvalidInput, NotFound)):
        jobs.submit({"type": "training", "name": "x", "command": "true", "public_checkpoints": ["no-such-id-xyz"]})
    with pytest.raises(NotFound):
        jobs.get("missing")
    first = jobs.submit({"type": "training", "name": "same", "command": "true", "workdir": str(tmp_path)})
    second = jobs.submit({"type": "training", "name": "same", "command": "true", "workdir": str(tmp_path)})
    assert jobs.get("same").id == second.id
    assert jobs.get(first.id[:10]).id == first.id
    jobs.wait(first.id, timeout=30)
    jobs.wait(second.id, timeout=30)
    assert [j.id for j in jobs.list()][:2] == [second.id, first.id]


def test_requirements_build_a_cached_environment(cli, tmp_path):
    (tmp_path / "requirements.txt").write_text("# nothing beyond the standard library\n")
    command = "python -c 'import sys, jupyter_artifacts.worker as w; print(\"PREFIX\", sys.prefix, w.params())'"
    first_id = cli.run("job", "create", "training", "venv", "--command", command,
                       "--requirements", "requirements.txt").stdout.strip()
    first = wait_job(cli, first_id, timeout=120)
    log = cli.run("job", "logs", first_id).stdout
    assert first["state"] == "finished", log
    assert first["spec"]["requirements"] == "# nothing beyond the standard library\n"
    assert "building an environment" in log and "$ " in log
    prefix = next(line for line in log.splitlines() if line.startswith("PREFIX")).split()[1]
    assert prefix != sys.prefix and "envs" in prefix
    assert [s for s, _ in first["history"]][:2] == ["queued", "building"]
    second_id = cli.run("job", "create", "training", "venv", "--command", command,
                        "--requirements", "requirements.txt").stdout.strip()
    second = wait_job(cli, second_id, timeout=60)
    log2 = cli.run("job", "logs", second_id).stdout
    assert second["state"] == "finished" and "reusing the environment" in log2 and prefix in log2
    error = cli.fail("job", "create", "training", "venv", "--command", command, "--requirements", "missing.txt")
    assert error == "Error: No such requirements file: missing.txt."


def test_cli_show_and_list_speak_for_people(cli):
    job_id = cli.run("job", "create", "inference", "human", "--command", "echo hi", "--gpus", "1").stdout.strip()
    wait_job(cli, job_id)
    listing = cli.run("job", "list").stdout
    assert "human" in listing and "finished" in listing
    shown = cli.run("job", "show", "human").stdout
    assert "state:     finished" in shown and "worker 0: finished on GPU" in shown
    assert "GPU  NAME" in cli.run("gpus").stdout
    assert job_json(cli, job_id)["type"] == "inference"
    assert "No job" in cli.fail("job", "show", "nobody")
