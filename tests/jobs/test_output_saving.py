"""A worker's output that cannot be saved is kept, named, and saved later with the same lineage
(`job save-output`); an ML_OUTPUT_PATH that is no longer the folder made for it is never published."""

from __future__ import annotations

import json
import os

from .helpers import job_json, wait_job

BIG_OUTPUT = ("python -c 'import os; "
              "open(os.environ[\"ML_OUTPUT_PATH\"] + \"/weights.bin\", \"wb\").write(b\"w\" * 5000)'")


def test_an_output_over_the_quota_is_kept_and_saved_again_with_its_lineage(cli, store, tmp_path):
    (tmp_path / "rows").mkdir()
    (tmp_path / "rows" / "rows.csv").write_text("a,b\n")
    data = store.create("dataset", "rows", str(tmp_path / "rows"))
    (tmp_path / "params.json").write_text(json.dumps({"lr": 0.1}))
    cli.env["JUPYTER_ARTIFACTS_QUOTA"] = "1000"
    job_id = cli.run("job", "create", "training", "big", "--data", "rows", "--params", "params.json",
                     "--command", BIG_OUTPUT).stdout.strip()
    job = wait_job(cli, job_id)
    kept = job["workers"][0]["kept_output"]
    assert job["state"] == "failed"
    assert kept == str(store.catalog.path).rsplit("/", 1)[0] + f"/jobs/{job_id}/0/output"
    assert job["error"].startswith("saving the output failed: Saving needs up to ") and " quota" in job["error"]
    assert job["error"].endswith(f"; nothing was published, the output is kept in {kept}: save it with "
                                 f"`jupyter artifacts job save-output {job_id[:12]}`")
    assert os.listdir(kept) == ["weights.bin"]
    assert f"    output kept in {kept}" in cli.run("job", "show", job_id).stdout
    assert store.list(name="Job - big")[0] == []

    del cli.env["JUPYTER_ARTIFACTS_QUOTA"]  # the user raises the quota and saves again
    assert cli.run("job", "save-output", job_id).stdout == "worker 0: output saved as checkpoint Job - big:v1\n"
    job = job_json(cli, job_id)
    worker = job["workers"][0]
    assert (job["state"], job["error"], worker["error"], worker["kept_output"]) == ("finished", None, None, None)
    assert [state for state, _ in worker["history"]][-2:] == ["failed", "finished"]
    artifact = store.get(worker["output"]["id"])
    assert artifact.produced_by == {"type": "job", "job_id": job_id, "job_name": "big", "job_type": "training",
                                    "worker": 0, "params": {"lr": 0.1}, "code": job["code"]}
    assert artifact.inputs == [{"id": data.id, "role": "dataset", "reference": data.reference}]
    assert list(store.files(artifact.id)) == ["weights.bin"]
    assert not os.path.exists(kept)
    assert "(job save-output)" in cli.run("job", "logs", job_id).stdout
    assert cli.fail("job", "save-output", job_id) == (
        f"Error: Job 'big' ({job_id[:8]}) has no kept output to save: an output is kept only when saving it failed.")


LEAKY = ("echo ok > $ML_OUTPUT_PATH/weights.txt; "
         "python -c 'import json, os, sys; sys.exit(json.load(open(os.environ[\"ML_PARAMS_PATH\"]))[\"leak\"])' "
         "|| ln -s /etc/hostname $ML_OUTPUT_PATH/leak")


def test_a_refused_output_of_one_worker_is_saved_once_the_user_fixed_it(cli, store, tmp_path):
    (tmp_path / "grid.json").write_text(json.dumps({"leak": [0, 1]}))
    job_id = cli.run("job", "create", "training", "grid", "--hyperparams", "grid.json", "--command",
                     LEAKY).stdout.strip()
    job = wait_job(cli, job_id)
    good, leaky = job["workers"]
    assert (good["state"], good["kept_output"]) == ("finished", None)
    assert leaky["state"] == "failed" and "points outside" in leaky["error"]
    assert leaky["error"].endswith(f"save it with `jupyter artifacts job save-output {job_id[:12]} --worker 1`")
    kept = leaky["kept_output"]

    again = cli.fail("job", "save-output", job_id, "--worker", "1")
    assert again.startswith("Error: Saving the output of worker 1 failed again: The link leak -> /etc/hostname")
    assert again.endswith(f"; it is still kept in {kept}.") and "\n" not in again
    assert cli.fail("job", "save-output", job_id, "--worker", "0") == (
        f"Error: Worker 0 of job 'grid' ({job_id[:8]}) has no kept output to save: an output is kept only when "
        "saving it failed.")
    assert cli.fail("job", "save-output", job_id, "--worker", "5") == (
        "Error: The job has no worker 5; its workers are 0 to 1.")

    os.unlink(os.path.join(kept, "leak"))
    assert cli.run("job", "save-output", job_id, "--worker", "1").stdout == (
        "worker 1: output saved as checkpoint Job - grid Worker 1:v1\n")
    job = job_json(cli, job_id)
    assert job["state"] == "finished" and [w["output"]["reference"] for w in job["workers"]] == [
        "Job - grid Worker 0:v1", "Job - grid Worker 1:v1"]
    assert store.get(job["workers"][1]["output"]["id"]).produced_by["params"] == {"leak": 1}


def test_an_output_folder_replaced_by_a_link_is_refused_and_another_folder_is_kept(cli, store):
    before = sorted(os.listdir("/etc/default"))
    linked = wait_job(cli, cli.run("job", "create", "training", "linked", "--command",
                                   "rmdir $ML_OUTPUT_PATH && ln -s /etc/default $ML_OUTPUT_PATH").stdout.strip())
    out = str(store.catalog.path).rsplit("/", 1)[0] + f"/jobs/{linked['id']}/0/output"
    assert linked["state"] == "failed"
    assert linked["error"] == (f"ML_OUTPUT_PATH {out} was replaced by a symbolic link to /etc/default; nothing "
                               "was published")
    assert linked["workers"][0]["kept_output"] is None and not os.path.lexists(out)
    assert store.list()[0] == [] and sorted(os.listdir("/etc/default")) == before
    assert "has no kept output to save" in cli.fail("job", "save-output", linked["id"])

    replaced = wait_job(cli, cli.run("job", "create", "training", "replaced", "--command",
                                     "mv $ML_OUTPUT_PATH $ML_OUTPUT_PATH.old && mkdir $ML_OUTPUT_PATH && "
                                     "echo w > $ML_OUTPUT_PATH/w.txt").stdout.strip())
    kept = replaced["workers"][0]["kept_output"]
    assert replaced["state"] == "failed" and replaced["error"].startswith(
        f"ML_OUTPUT_PATH {kept} was replaced by another folder during the run; nothing was published, the "
        f"output is kept in {kept}")
    assert store.list()[0] == []
    cli.run("job", "save-output", replaced["id"])  # the user looked at it and vouches for it
    assert job_json(cli, replaced["id"])["workers"][0]["output"]["reference"] == "Job - replaced:v1"


def test_a_jobs_database_from_before_kept_outputs_gets_the_column(tmp_path):
    import sqlite3

    from jupyter_artifacts.jobs import db

    path = str(tmp_path / "jobs.sqlite")
    with sqlite3.connect(path) as conn:
        schema = db.SCHEMA.replace("    kept_output TEXT,\n", "").replace("    placement TEXT,\n", "")
        conn.executescript(schema + "PRAGMA user_version = 1;")
        conn.execute("INSERT INTO workers (job_id, idx, state, created_at) VALUES ('j', 0, 'failed', 0)")
    jobs_db = db.JobsDB(path)
    assert jobs_db.worker("j", 0)["kept_output"] is None and jobs_db.worker("j", 0)["placement"] is None
    jobs_db.update_worker("j", 0, None, kept_output={"path": "/kept"})
    assert db.JobsDB(path).worker("j", 0)["kept_output"] == {"path": "/kept"}
    assert jobs_db.conn.execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA_VERSION
