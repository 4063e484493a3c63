"""%%train, %%infer, %jobs, %job, %job_logs, %stop_job, %save_job_output and %gpus on the fake GPU inventory."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

from jupyter_artifacts.kernel import actions

TRAIN = """
import os
from jupyter_artifacts import worker
ckpt = os.environ.get("ML_CHECKPOINT_PATH")
print("gpus", os.environ["CUDA_VISIBLE_DEVICES"], "checkpoints", sorted(os.listdir(ckpt)) if ckpt else None)
p = worker.params({"lr": 0.1})
worker.report(step=1, accuracy=0.5 + p["lr"])
with open(os.path.join(os.environ["ML_OUTPUT_PATH"], "weights.txt"), "w") as f:
    f.write(f"lr={p['lr']}")
"""


def test_train_wait_runs_the_cell_and_saves_the_output(nb, sample):
    base = nb.store.create("checkpoint", "base", str(sample({"a.txt": "one"})))
    out = nb.run(f"%%train --gpus 1 --checkpoint base --name fit --wait\n{TRAIN}")
    lines = out.strip().splitlines()
    assert lines[0].startswith("Started training job 'fit' (") and lines[0].endswith("1 worker, 1 GPU")
    assert lines[-1].startswith("Job 'fit' finished in ") and lines[-1].endswith("output: checkpoint Job - fit:v1")
    output = nb.store.get("Job - fit", "checkpoint", manifest=True)
    assert set(output.manifest) == {"weights.txt"}
    assert output.produced_by["job_name"] == "fit"
    assert [i["id"] for i in output.inputs] == [base.id]
    job = actions.session().get_job("fit")
    assert job.workers[0]["last_metrics"]["metrics"] == {"accuracy": 0.6}
    logs = nb.run("%job_logs fit")
    assert "gpus 0 checkpoints ['base']" in logs


def test_train_returns_at_once_and_follow(nb):
    out = nb.run("%%train --name sleepy\nimport time\ntime.sleep(1.5)\nprint('woke up')")
    assert "Started training job 'sleepy'" in out
    assert "Job 'sleepy' is queued" in out or "Job 'sleepy' is running" in out or "Job 'sleepy' is building" in out
    assert actions.session().get_job("sleepy").state not in ("finished", "failed")
    out = nb.run("%job_logs sleepy --follow")
    assert "woke up" in out and "worker 0 finished" in out
    assert actions.session().get_job("sleepy").state == "finished"


def test_train_follow_streams_logs(nb):
    out = nb.run("%%train --follow --name chatty\nfor i in range(3):\n    print('line', i)")
    assert "line 0\nline 1\nline 2" in out
    assert out.strip().splitlines()[-1].startswith("Job 'chatty' finished")


def test_infer_with_a_model_and_a_grid(nb, sample):
    nb.store.create("model", "clf", str(sample({"model.txt": "m"})))
    nb.write("grid.json", json.dumps({"lr": [0.1, 0.2]}))
    out = nb.run("%%infer --model clf --hyperparams grid.json --output-type model --name predict --wait\n"
                 "import os\nassert os.path.exists(os.path.join(os.environ['ML_MODEL_PATH'], 'model.txt'))\n"
                 + TRAIN)
    assert "2 workers, 0 GPUs each" in out
    job = actions.session().get_job("predict")
    assert job.type == "inference" and job.state == "finished"
    assert sorted(w["params"]["lr"] for w in job.workers) == [0.1, 0.2]
    assert sorted(o["kind"] for o in job.outputs) == ["model", "model"]


def test_shell_cell(nb):
    out = nb.run("%%train --shell --name sh --follow\necho \"from the shell $ML_JOB_NAME\"")
    assert "from the shell sh" in out


def test_jobs_table_and_job(nb):
    assert nb.run("%jobs").strip() == "No jobs yet. Start one with a %%train cell."
    nb.run("import json\njson.dump({'lr': [1, 2]}, open('grid2.json', 'w'))")
    nb.run("%%train --name one --gpus 1 --hyperparams grid2.json --wait\n"
           "import os\nopen(os.path.join(os.environ['ML_OUTPUT_PATH'], 'w.txt'), 'w').write('w')")
    out = nb.run("%jobs")
    header = out.splitlines()[0].split()
    assert header[:5] == ["ID", "NAME", "TYPE", "STATE", "WORKERS"]
    assert "one" in out and "finished" in out
    # The GPUs its workers held, as the panel shows them, and the first output with how many more.
    row = out.splitlines()[1]
    assert re.search(r" #0(, #1)? ", row), row  # GPU 0 reads as #0; the second worker takes #1, or #0 once free
    assert "checkpoint Job - one Worker " in row and "(+1 more)" in row
    assert nb.run("%jobs --state running").strip() == "No running jobs."
    out = nb.run("%job one")
    assert out.startswith("Job one (training) finished") and "WORKER" in out


def test_stop_job(nb):
    nb.run("%%train --name long\nimport time\ntime.sleep(60)")
    deadline = time.time() + 20
    while actions.session().get_job("long").state != "running" and time.time() < deadline:
        time.sleep(0.1)
    out = nb.run("%stop_job long --wait")
    assert out.strip() == f"Stopping job 'long' ({actions.session().get_job('long').id[:12]}): stopped"
    assert "has already ended (stopped)" in nb.fail("%stop_job long")


def test_save_job_output_from_the_magic_and_the_sdk(nb):
    from jupyter_artifacts.kernel.sdk import Client

    result = nb.ip.run_cell("%%train --name leaky --wait\nimport os\nout = os.environ['ML_OUTPUT_PATH']\n"
                            "open(os.path.join(out, 'w.txt'), 'w').write('w')\n"
                            "os.symlink('/etc/hostname', os.path.join(out, 'leak'))")
    assert not result.success
    kept = actions.session().get_job("leaky").workers[0]["kept_output"]
    assert nb.fail("%save_job_output leaky").startswith("Saving the output of worker 0 failed again: The link leak")
    os.unlink(os.path.join(kept, "leak"))
    job = Client().jobs.get("leaky").save_output(worker=0)
    assert job.state == "finished" and job.workers[0]["output"]["reference"] == "Job - leaky:v1"
    assert "has no kept output to save" in nb.fail("%save_job_output leaky")


def test_failed_job_with_wait_is_one_error_line(nb, capsys):
    nb.capsys.readouterr()
    result = nb.ip.run_cell("%%train --name broken --wait\nraise SystemExit(3)")
    out = nb.capsys.readouterr().out
    assert not result.success
    assert "Traceback" not in out
    assert "Job 'broken' failed in" in out and "exited with code 3" in out


def test_gpus(nb):
    out = nb.run("%gpus")
    assert out.splitlines()[0].split() == ["GPU", "NAME", "MEMORY", "HELD", "BY"]
    assert out.count("Simulated GPU") == 2


def test_plain_ipython_shows_the_text_job_view_without_ipywidgets(tmp_path):
    """No kernel, so no front end that shows widgets: %%train and %job print text, and ipywidgets stays unimported."""
    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "ip.run_line_magic('load_ext', 'jupyter_artifacts')\n"
        "for cell in ('%%train --name plain\\nprint(\"from the cell\")', '%job plain', '%job_logs plain --follow',\n"
        "             '%job plain'):\n"
        "    print('>>>', cell.split(chr(10))[0], flush=True)\n"
        "    assert ip.run_cell(cell).success, cell\n"
        "print('ipywidgets imported:', 'ipywidgets' in sys.modules)\n"
    )
    folder = tmp_path / "notebook"
    folder.mkdir()
    env = {**os.environ, "JUPYTER_ARTIFACTS_ROOT": str(tmp_path / "store"), "JUPYTER_ARTIFACTS_GPUS": "fake:1"}
    run = subprocess.run([sys.executable, "-c", code], cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    train, job, logs, done = run.stdout.split(">>> ")[1:]
    assert "Started training job 'plain'" in train and "Follow it with %job_logs" in train and "VBox" not in train
    assert job.splitlines()[1].startswith("Job plain (training) ") and "WORKER" in job
    assert "from the cell" in logs
    assert done.splitlines()[1].startswith("Job plain (training) finished")
    assert done.splitlines()[-1] == "ipywidgets imported: False"


def test_job_errors_are_one_line(nb):
    assert nb.fail("%%train --gpus 5\nprint(1)") == \
        "The job asks for 5 GPUs but this host has 2 (fake inventory); ask for at most 2."
    assert nb.fail("%%train --gpus many\nprint(1)").startswith("Invalid GPU count 'many'")
    assert "cell body is empty" in nb.fail("%%train --name x\n")
    assert nb.fail("%%train --name x\n   \n").startswith("The cell is empty")
    assert nb.fail("%%train --checkpoint nope\nprint(1)").startswith("No checkpoint named 'nope'.")
    assert nb.fail("%%train --hyperparams missing.json\nprint(1)").startswith("No such hyperparameters file")
    assert nb.fail("%%train --env NOVALUE\nprint(1)") == "Invalid --env 'NOVALUE': use KEY=VALUE."
    assert nb.fail("%%train --output-type somewhere\nprint(1)").startswith("Invalid output 'somewhere'")
    assert nb.fail("%%train --bogus\nprint(1)").startswith("UsageError: unrecognized arguments: --bogus")
    assert nb.fail("%job nope").startswith("No job 'nope'")
    assert nb.fail("%job").startswith("UsageError: the following arguments are required: JOB")
    assert nb.fail("%job one two") == "UsageError: unrecognized arguments: two"
    assert nb.fail("%job_logs nope").startswith("No job 'nope'")
    assert nb.fail("%stop_job nope").startswith("No job 'nope'")
    assert nb.fail("%jobs --state sideways").startswith("Unknown job state 'sideways'")
    assert actions.session().list_jobs() == []  # nothing was started by a refused cell


def test_the_cell_magics_take_the_option_tables_options():
    """%%train / %%infer parse the option table's arguments, and their own --shell, --wait, --follow."""
    from jupyter_artifacts.jobs.options import MAGIC, arguments
    from jupyter_artifacts.kernel.magics import ArtifactsMagics

    for magic in (ArtifactsMagics.train, ArtifactsMagics.infer):
        dests = {a.dest for a in magic.parser._actions} - {"help"}
        assert dests == {kwargs["dest"] for _flags, kwargs in arguments(MAGIC)} | {"shell", "wait", "follow"}
