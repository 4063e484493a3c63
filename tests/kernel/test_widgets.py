"""The widgets driven from Python: set values, click, and check what they did through the session."""

from __future__ import annotations

import time

from jupyter_artifacts.kernel import actions, widgets


def wait_until(predicate, timeout: float = 90.0) -> None:
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def test_job_form_creates_the_job_it_shows(nb, sample):
    nb.store.create("checkpoint", "base", str(sample({"a.txt": "one"})))
    nb.store.create("model", "clf", str(sample({"m.txt": "m"}, name="m")))
    nb.store.create("dataset", "digits", str(sample({"d.csv": "1"}, name="d")))
    nb.write("train.py", "import os\nprint('form job', sorted(os.listdir(os.environ['ML_DATA_PATH'])))\n")
    form = widgets.JobForm()
    assert form.gpus.max == 2  # the host's GPUs
    assert [v for _label, v in form.model.options] == ["", "clf:v1"]
    assert [v for _label, v in form.checkpoints.options] == ["base:v1"]
    form.name.value = "from-form"
    form.command.value = "train.py"
    form.gpus.value = 1
    form.cpu.value = 1
    form.memory.value = "1G"
    form.model.value = "clf:v1"
    form.checkpoints.value = ("base:v1",)
    form.datasets.value = ("digits:v1",)
    form.hyperparameters.value = '{"lr": [0.1, 0.2], "epochs": 1}'
    form.create_button.click()
    assert "Started training job 'from-form'" in form.error.value, form.error.value
    job = form.job
    assert job.name == "from-form" and job.spec["command"] == "train.py"
    assert job.spec["gpus"] == 1 and job.spec["cpu"] == 1 and job.spec["memory"] == 1_000_000_000
    assert job.spec["model"] == "clf:v1" and job.spec["checkpoints"] == ["base:v1"] and job.spec["data"] == ["digits:v1"]
    assert job.spec["hyperparameters"] == {"lr": [0.1, 0.2], "epochs": 1}
    assert len(job.workers) == 2
    assert isinstance(form.result.children[0], widgets.JobMonitor)
    final = actions.session().wait_job(job.id, timeout=120)
    assert final.state == "finished"
    assert "form job ['digits']" in actions.session().job_logs(job.id, worker=0)[0]
    form.monitor.join(10)
    assert "finished" in form.monitor.header.value


def test_job_form_script_and_public_checkpoints(nb, mirror):
    form = widgets.JobForm()
    form.public.value = True
    ids = [v for _label, v in form.checkpoints.options]
    assert "stable-diffusion-v2-1" in ids and "whisper-tiny" in ids
    form.checkpoints.value = ("stable-diffusion-v2-1",)
    form.type.value = "inference"
    form.source.value = "Script"
    assert form.command.layout.display == "none" and form.script.layout.display is None
    form.script.value = "import os\nprint(sorted(os.listdir(os.environ['ML_CHECKPOINT_PATH'])))"
    form.name.value = "sd"
    form.gpus.value = 0
    job = form.create()
    assert job is not None, form.error.value
    assert job.type == "inference" and job.spec["public_checkpoints"] == ["stable-diffusion-v2-1"]
    assert job.spec["checkpoints"] == []
    assert actions.session().wait_job(job.id, timeout=120).state == "finished"
    assert "['stable-diffusion-v2-1']" in actions.session().job_logs(job.id)[0]


def test_job_form_with_a_manifest_file_and_a_url_output(nb, tmp_path):
    rows = tmp_path / "shared" / "rows.csv"
    rows.parent.mkdir()
    rows.write_text("1,2\n")
    nb.write("manifest.jsonl", f'# one entry a line\n{{"url": "file://{rows}", "path": "in/rows.csv"}}\n')
    nb.write("score.py", "import os, shutil\n"
                         "source = os.path.join(os.environ['ML_DATA_PATH'], 'in', 'rows.csv')\n"
                         "shutil.copy(source, os.path.join(os.environ['ML_OUTPUT_PATH'], 'scored.csv'))\n")
    target = tmp_path / "exported"
    form = widgets.JobForm()
    form.name.value = "export"
    form.type.value = "inference"
    form.command.value = "score.py"
    form.gpus.value = 0
    form.manifest.value = "manifest.jsonl"
    form.output_type.value = "url"
    form.output_uri.value = f"file://{target}"
    form.create_button.click()
    job = form.job
    assert job is not None, form.error.value
    assert job.type == "inference" and job.spec["command"] == "score.py"
    assert job.spec["data_manifest"] == [{"url": f"file://{rows}", "path": "in/rows.csv"}]
    assert job.spec["output"] == f"file://{target}"
    final = actions.session().wait_job(job.id, timeout=120)
    assert final.state == "finished", actions.session().job_logs(job.id)[0]
    assert final.workers[0]["output_url"] == f"file://{target}" and final.outputs == []
    assert (target / "scored.csv").read_text() == "1,2\n"
    form.monitor.join(10)
    assert f"output: file://{target}" in form.monitor.header.value


def test_job_form_shows_errors_inline(nb):
    form = widgets.JobForm()
    form.name.value = "bad"
    form.command.value = ""
    form.create_button.click()
    assert "Give the command to run" in form.error.value and form.job is None
    form.command.value = "python x.py"
    form.hyperparameters.value = "{not json"
    form.create_button.click()
    assert "Hyperparameters are not valid JSON" in form.error.value
    form.hyperparameters.value = "[1, 2]"
    form.create_button.click()
    assert "must be a JSON object" in form.error.value
    form.hyperparameters.value = ""
    form.manifest.value = "missing.jsonl"
    form.create_button.click()
    assert "No such data manifest file: missing.jsonl." in form.error.value
    form.manifest.value = ""
    form.output_type.value = "url"
    assert not form.output_uri.disabled
    form.create_button.click()
    assert "Give the output URI" in form.error.value
    form.output_type.value = "checkpoint"
    form.name.value = "bad/name"
    form.create_button.click()
    assert "Invalid name" in form.error.value
    form.gpus.value = 7  # clamped to what the host has
    assert form.gpus.value == 2
    assert actions.session().list_jobs() == []


def test_artifact_browser_attach_save_delete(nb, sample):
    nb.store.create("checkpoint", "alpha", str(sample({"a.txt": "a"})))
    nb.store.create("checkpoint", "beta", str(sample({"b.txt": "b"}, name="b")))
    nb.store.create("model", "gamma", str(sample({"g.txt": "g"}, name="g")))
    browser = widgets.ArtifactBrowser(kind="checkpoint")
    labels = [label for label, _id in browser.table.options]
    assert len(labels) == 2 and labels[0].startswith("beta:v1")
    browser.filter.value = "alp"
    assert [label.split()[0] for label, _id in browser.table.options] == ["alpha:v1"]
    browser.attach_as.value = "first"
    browser.attach_button.click()
    assert "Attached checkpoint alpha:v1" in browser.status.value
    assert (nb.folder / "checkpoint" / "first" / "a.txt").exists()
    browser.delete_button.click()
    assert "Click Delete again" in browser.status.value
    browser.delete_button.click()
    assert "in use by kernel" in browser.status.value  # attached: the lease protects it
    actions.session().detach("checkpoint", "first")
    browser.delete_button.click()
    browser.delete_button.click()
    assert "Deleted checkpoint alpha:v1" in browser.status.value
    assert browser.table.options == ()
    browser.filter.value = ""
    nb.write("output/result.txt", "r")
    browser.save_folder.value = "output"
    browser.save_name.value = "saved"
    browser.save_button.click()
    assert "Saved output/ as checkpoint saved:v1" in browser.status.value
    assert nb.store.get("saved", "checkpoint").file_count == 1
    browser.save_folder.value = "nowhere"
    browser.save_button.click()
    assert "There is no nowhere/ folder" in browser.status.value
    browser.kind.value = ""
    assert len(browser.table.options) == 3  # beta, saved, gamma


def test_job_monitor_updates_in_the_background_and_stops(nb):
    session = actions.session()
    job = session.run_script("training", "import time\nprint('started', flush=True)\ntime.sleep(60)", name="mon")
    monitor = widgets.JobMonitor(job, interval=0.1)
    wait_until(lambda: "started" in monitor.logs.value)
    assert "running" in monitor.header.value and not monitor.stop_button.disabled
    assert "WORKER" in monitor.workers.value
    monitor.stop_button.click()
    wait_until(lambda: monitor.finished)
    monitor.join(10)
    assert not monitor._thread.is_alive()
    assert "stopped" in monitor.header.value and monitor.stop_button.disabled
    assert monitor.progress.value == 1 and monitor.progress.bar_style == "warning"
    monitor.stop_button.click()  # stopping again says why, inline
    assert "has already ended" in monitor.status.value


def test_the_job_form_is_built_from_the_option_table(nb):
    from jupyter_artifacts.jobs.options import OPTIONS

    form = widgets.JobForm()
    assert set(form.fields) == {o.name for o in OPTIONS if o.widget}
    for option in OPTIONS:
        if option.widget:
            field = form.fields[option.name]
            assert field.description == option.widget[1]
            assert getattr(form, form.ATTRIBUTES.get(option.name, option.name)) is field
            # Every label whole, in one column ("Hyperparameters" was cut to "Hyper-par…").
            assert field.style.description_width == widgets.LABEL["description_width"]
