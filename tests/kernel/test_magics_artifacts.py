"""The artifact magics in a real IPython shell: attach, detach, save, list, and their errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from jupyter_artifacts.errors import InUse


HEAVY = ("jupyter_artifacts.kernel.actions", "jupyter_artifacts.kernel.widgets", "jupyter_artifacts.kernel.sdk",
         "jupyter_artifacts.store", "jupyter_artifacts.jobs", "jupyter_artifacts.sources", "jupyter_artifacts.server",
         "ipywidgets", "tornado", "jupyter_server", "sqlite3", "blake3", "fsspec", "tqdm")
# the job options %%train and %%infer are built from: a table that imports nothing (its package is lazy)
LIGHT = ("jupyter_artifacts.jobs", "jupyter_artifacts.jobs.options")


def test_loading_is_light():
    """`%load_ext jupyter_artifacts` in a fresh process imports nothing heavy and takes well under a second
    (about 20 ms; the bound leaves room for a loaded machine, not for importing the store or ipywidgets)."""
    code = (
        "import json, sys, time\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "before = set(sys.modules)\n"
        "start = time.perf_counter()\n"
        "ip.run_line_magic('load_ext', 'jupyter_artifacts')\n"
        "seconds = time.perf_counter() - start\n"
        "new = sorted(set(sys.modules) - before)\n"
        "import jupyter_artifacts\n"
        "print(json.dumps({'seconds': seconds, 'new': new, 'line': sorted(ip.magics_manager.magics['line']),\n"
        "                  'cell': sorted(ip.magics_manager.magics['cell']), 'client': jupyter_artifacts.Client.__name__,\n"
        "                  'after_client': sorted(set(sys.modules) - before)}))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], check=True, timeout=60, capture_output=True, text=True)
    found = json.loads(run.stdout)
    assert not [m for m in found["new"] if m.startswith(HEAVY) and m not in LIGHT], found["new"]
    assert "jupyter_artifacts.kernel.magics" in found["new"]
    assert found["seconds"] < 1.0, found["seconds"]
    assert {"attach_checkpoint", "save_dataset", "gpus"} <= set(found["line"]) and "train" in found["cell"]
    assert found["client"] == "Client" and "jupyter_artifacts.kernel.sdk" in found["after_client"]


def test_attach_checkpoint_materializes_leases_and_sets_env(nb, sample):
    src = sample({"weights.bin": "w" * 100, "config/model.yml": "layers: 3\n"})
    nb.store.create("checkpoint", "base", str(src))
    out = nb.run("%attach_checkpoint base")
    target = nb.folder / "checkpoint" / "base"
    assert f"Attached checkpoint base:v1 at {target}" in out
    assert (target / "weights.bin").read_text() == "w" * 100
    assert (target / "config" / "model.yml").exists()
    assert os.environ["ML_CHECKPOINT_PATH"] == str(nb.folder / "checkpoint")
    with pytest.raises(InUse) as err:
        nb.store.delete("base", "checkpoint")
    assert f"kernel {os.getpid()} ({nb.folder})" in err.value.message
    # attaching the same checkpoint again is a no-op
    assert "Attached checkpoint base:v1" in nb.run("%attach_checkpoint base:v1")
    out = nb.run("%attached")
    assert "base:v1" in out and str(target) in out


def test_attach_as_other_name_and_conflicts(nb, sample):
    nb.store.create("checkpoint", "base", str(sample({"a.txt": "one"})))
    nb.store.create("checkpoint", "base", str(sample({"a.txt": "two"}, name="src2")))
    nb.run("%attach_checkpoint base:v1")
    message = nb.fail("%attach_checkpoint base:v2")
    assert "checkpoint/base already holds base:v1" in message and "--as" in message
    nb.run("%attach_checkpoint base:v2 --as newer")
    assert (nb.folder / "checkpoint" / "newer" / "a.txt").read_text() == "two"
    assert (nb.folder / "checkpoint" / "base" / "a.txt").read_text() == "one"


def test_existing_folder_reused_when_same_refused_when_different(nb, sample):
    nb.store.create("checkpoint", "base", str(sample({"a.txt": "one", "sub/b.txt": "b"})))
    nb.run("%attach_checkpoint base")
    nb.run("%detach_checkpoint base --keep")
    assert (nb.folder / "checkpoint" / "base" / "a.txt").exists()
    assert "ML_CHECKPOINT_PATH" not in os.environ
    out = nb.run("%attach_checkpoint base")  # the folder a previous kernel left holds the same files
    assert "already there" in out
    nb.run("%detach_checkpoint base --keep")
    (nb.folder / "checkpoint" / "base" / "a.txt").write_text("changed by hand")
    message = nb.fail("%attach_checkpoint base")
    assert "checkpoint/base already exists" in message and "other content" in message
    assert (nb.folder / "checkpoint" / "base" / "a.txt").read_text() == "changed by hand"
    nb.store.delete("base", "checkpoint")  # the failed attach left no lease behind


def test_detach_releases_and_removes(nb, sample):
    nb.store.create("checkpoint", "base", str(sample({"a.txt": "one"})))
    nb.run("%attach_checkpoint base")
    out = nb.run("%detach_checkpoint base")
    assert "Detached checkpoint base:v1" in out
    assert not (nb.folder / "checkpoint").exists()
    assert "ML_CHECKPOINT_PATH" not in os.environ
    nb.store.delete("base", "checkpoint")
    message = nb.fail("%detach_checkpoint base")
    assert message == "No checkpoint named 'base' is attached in this kernel (no checkpoint is attached)."


def test_env_restored_to_previous_value(nb, sample, monkeypatch):
    monkeypatch.setenv("ML_MODEL_PATH", "/somewhere")
    nb.store.create("model", "m", str(sample({"m.bin": "m"})))
    nb.run("%attach_model m")
    assert os.environ["ML_MODEL_PATH"] == str(nb.folder / "models" / "m")
    nb.run("%detach_model m")
    assert os.environ["ML_MODEL_PATH"] == "/somewhere"


def test_attach_model_and_dataset(nb, sample):
    nb.store.create("model", "resnet", str(sample({"m.bin": "m"})))
    nb.store.create("dataset", "digits", str(sample({"d.csv": "1,2"}, name="data-src")))
    nb.run("%attach_model resnet")
    nb.run("%attach_dataset digits --as train")
    assert (nb.folder / "models" / "resnet" / "m.bin").exists()
    assert (nb.folder / "data" / "train" / "d.csv").exists()
    assert os.environ["ML_MODEL_PATH"] == str(nb.folder / "models" / "resnet")
    assert os.environ["ML_DATA_PATH"] == str(nb.folder / "data")
    nb.run("%detach_dataset train")
    assert "ML_DATA_PATH" not in os.environ and "ML_MODEL_PATH" in os.environ


def test_attach_errors_are_one_line(nb, sample):
    nb.store.create("model", "resnet", str(sample({"m.bin": "m"})))
    assert nb.fail("%attach_checkpoint nope") .startswith("No checkpoint named 'nope'.")
    assert "there is a model" in nb.fail("%attach_checkpoint resnet")
    assert "Invalid reference" in nb.fail("%attach_checkpoint 'a:b:c'")
    assert "Invalid name" in nb.fail("%attach_model resnet --as a/b")
    assert nb.fail("%attach_checkpoint").startswith("UsageError:")
    assert "unrecognized arguments: --bogus" in nb.fail("%attach_checkpoint x --bogus")
    assert not (nb.folder / "models" / "a").exists()


def test_attach_public_checkpoint(nb, mirror):
    from jupyter_artifacts.errors import InvalidInput
    from jupyter_artifacts.kernel import actions

    out = nb.run("%attach_checkpoint --public stable-diffusion-v2-1")
    assert "Attached public checkpoint stable-diffusion-v2-1 (public.stable-diffusion-v2-1:v1)" in out
    folder = nb.folder / "checkpoint" / "stable-diffusion-v2-1"
    assert (folder / "README.md").exists()
    nb.run("%detach_checkpoint stable-diffusion-v2-1")
    nb.run("%attach_checkpoint --public stable-diffusion-v2-1 --as sd")  # fetched once: the same artifact
    assert (nb.folder / "checkpoint" / "sd" / "README.md").exists()
    found, total = nb.store.list("checkpoint")
    assert total == 1
    with pytest.raises(InvalidInput, match="Only checkpoints come from the public catalog"):
        actions.session().attach("model", "x", public=True)


def test_unknown_public_checkpoint(nb, mirror):
    message = nb.fail("%attach_checkpoint --public stable-diffusion-v9")
    assert message.startswith("No public checkpoint 'stable-diffusion-v9'.")


def test_save_checkpoint_records_attached_inputs(nb, sample):
    base = nb.store.create("checkpoint", "base", str(sample({"a.txt": "one"})))
    nb.run("%attach_checkpoint base")
    nb.write("output/result.txt", "trained")
    out = nb.run("%save_checkpoint output finetuned --alias best")
    assert "Saved output/ as checkpoint finetuned:v1 (1 file, 7 B)" in out
    saved = nb.store.get("finetuned:best", "checkpoint")
    assert saved.file_count == 1 and saved.source["path"] == str(nb.folder / "output")
    assert [i["id"] for i in saved.inputs] == [base.id]
    lineage = nb.store.lineage("finetuned", "checkpoint")
    assert [(n["reference"], n["relation"]) for n in lineage["upstream"]] == [("base:v1", "input")]


def test_save_model_defaults_to_models_folder(nb):
    nb.write("models/model.pt", "pt")
    out = nb.run("%save_model my-model")
    assert "Saved models/ as model my-model:v1" in out
    nb.write("models/model.pt", "pt2")
    assert "my-model:v2" in nb.run("%save_model models my-model")
    assert nb.store.get("my-model", "model").version == 2


def test_save_errors(nb):
    message = nb.fail("%save_checkpoint output ckpt")
    assert message.startswith("There is no output/ folder in ")
    nb.write("output/x.txt")
    assert "Invalid name" in nb.fail("%save_checkpoint output 'bad/name'")
    assert "at most a folder and a name" in nb.fail("%save_checkpoint output a b")
    assert nb.fail("%save_checkpoint").startswith("UsageError:")


def test_save_dataset_defaults_to_data_folder(nb):
    nb.write("data/train.csv", "1,2\n")
    out = nb.run("%save_dataset digits --alias clean")
    assert "Saved data/ as dataset digits:v1 (1 file, 4 B)" in out
    saved = nb.store.get("digits:clean", "dataset")
    assert saved.kind == "dataset" and saved.source["path"] == str(nb.folder / "data")
    nb.write("output/predictions.csv", "3\n")
    assert "Saved output/ as dataset digits:v2 (1 file, 2 B)" in nb.run("%save_dataset output digits")
    assert nb.store.get("digits", "dataset").source["path"] == str(nb.folder / "output")


def test_save_dataset_errors(nb):
    assert nb.fail("%save_dataset digits").startswith("There is no data/ folder in ")
    nb.write("data/x.csv")
    assert "Invalid name" in nb.fail("%save_dataset 'bad/name'")
    assert nb.fail("%save_dataset data a b") == \
        "Give at most a folder and a name, e.g. `output my-dataset`; quote names with spaces."
    assert nb.fail("%save_dataset").startswith("UsageError: the following arguments are required: NAME")
    assert nb.fail("%save_dataset data d --bogus").startswith("UsageError: unrecognized arguments: --bogus")
    assert nb.store.list("dataset") == ([], 0)


def test_save_shows_a_progress_bar(nb):
    nb.write("output/a.bin", "a" * 3000)
    nb.write("output/b.bin", "b" * 2000)
    nb.capsys.readouterr()
    assert nb.ip.run_cell("%save_checkpoint output big").success
    out = nb.capsys.readouterr()
    assert out.out.startswith("Saved output/ as checkpoint big:v1 (2 files, 5 KB)")
    bar = out.err.split("\r")  # tqdm redraws its line in place
    assert bar[-1].startswith("Saving output/: 100%|") and "5.00k/5.00k" in bar[-1] and "2/2 files]" in bar[-1], bar


def test_attached_and_gpus_errors(nb):
    assert nb.fail("%attached widgets").startswith("Unknown kind 'widgets'")
    assert nb.fail("%attached model extra").startswith("UsageError: unrecognized arguments: extra")
    assert nb.fail("%gpus all") == "UsageError: unrecognized arguments: all"


def test_artifacts_table(nb, sample):
    assert nb.run("%artifacts").strip() == "No artifacts yet."
    nb.store.create("checkpoint", "ck", str(sample({"a.txt": "one"})))
    nb.store.create("model", "mo", str(sample({"m.txt": "m"}, name="m")))
    out = nb.run("%artifacts")
    assert out.splitlines()[0].split()[:3] == ["KIND", "REFERENCE", "ALIASES"]
    assert "ck:v1" in out and "mo:v1" in out
    out = nb.run("%artifacts models")
    assert "mo:v1" in out and "ck:v1" not in out
    assert "ck:v1" in nb.run("%artifacts --filter ck")
    assert nb.run("%artifacts --filter zzz").strip() == "Nothing matches."
    assert nb.fail("%artifacts widgets").startswith("Unknown kind 'widget'")


def test_table_html(nb, sample):
    from jupyter_artifacts.kernel.display import artifacts_table

    nb.store.create("checkpoint", "ck", str(sample({"a.txt": "one"})))
    html = artifacts_table(*nb.store.list())._repr_html_()
    assert "<table>" in html and "ck:v1" in html


USAGE = {  # what `%name?` shows first: the usage line, options and arguments included
    "attach_checkpoint": "%attach_checkpoint [--public] [--as NAME] REF",
    "attach_model": "%attach_model [--as NAME] REF",
    "attach_dataset": "%attach_dataset [--as NAME] REF",
    "detach_checkpoint": "%detach_checkpoint [--keep] NAME",
    "detach_model": "%detach_model [--keep] NAME",
    "detach_dataset": "%detach_dataset [--keep] NAME",
    "attached": "%attached [KIND]",
    "save_checkpoint": "%save_checkpoint [--alias ALIAS] [FOLDER] NAME",
    "save_model": "%save_model [--alias ALIAS] [FOLDER] NAME",
    "save_dataset": "%save_dataset [--alias ALIAS] [FOLDER] NAME",
    "artifacts": "%artifacts [--filter TEXT] [--name NAME] [--limit LIMIT] [KIND]",
    "jobs": "%jobs [--state STATE] [--limit LIMIT]",
    "job": "%job JOB",
    "job_logs": "%job_logs [--follow] [--worker N] JOB",
    "stop_job": "%stop_job [--save-output] [--wait] JOB",
    "save_job_output": "%save_job_output [--worker N] JOB",
    "gpus": "%gpus",
    "train": "%%train [--name NAME] [--gpus N] [--cpu F] [--memory SIZE] [--model REF]",
    "infer": "%%infer [--name NAME] [--gpus N] [--cpu F] [--memory SIZE] [--model REF]",
}


def help_text(ip, capsys, question: str) -> str:
    """What IPython shows for `%name?`, typed as a user types it, without colors."""
    capsys.readouterr()
    assert ip.run_cell(question).success
    return re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)


def test_help_shows_usage_of_every_magic(ip, capsys):
    registered = ip.magics_manager.registry["ArtifactsMagics"].magics
    assert set(USAGE) == set(registered["line"]) | set(registered["cell"])
    for name, usage in USAGE.items():
        text = help_text(ip, capsys, usage.split()[0] + "?")
        assert f"Docstring:\n::\n\n  {usage}" in text, text  # the usage line, as argparse writes it
    job_options = help_text(ip, capsys, "%%train?")
    for option in ("--checkpoint <REF [REF ...]>", "--public-checkpoint", "--data <REF [REF ...]>", "--hyperparams FILE",
                   "--output-type <checkpoint|model|URL>", "--wait", "--follow", "--shell", "ML_OUTPUT_PATH"):
        assert option in job_options, option
    assert "REF is a checkpoint of the public catalog" in help_text(ip, capsys, "%attach_checkpoint?")
    assert "FOLDER         the notebook's folder to save: data (default)" in help_text(ip, capsys, "%save_dataset?")
