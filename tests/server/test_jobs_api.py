"""Jobs over REST on pretend GPUs: submit, follow the logs, list, show, stop, save a kept output, GC policy,
refusals."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from jupyter_artifacts.jobs import JobManager
from jupyter_artifacts.jobs.db import JobsDB
from jupyter_artifacts.store import Store

PRINTER = """\
import sys, time
for i in range(5):
    print(f"line {i}", flush=True)
    time.sleep(0.05)
"""

CHECKPOINTS = """\
import os
from jupyter_artifacts import worker
for step, loss in enumerate([0.5, 0.2, 0.9], 1):
    with open("ckpt.txt", "w") as handle:
        handle.write(f"step {step}")
    worker.save_checkpoint("ckpt.txt", step=step, metrics={"loss": loss})
with open(os.path.join(os.environ["ML_OUTPUT_PATH"], "final.txt"), "w") as handle:
    handle.write("done")
"""


class RecordingJobManager(JobManager):
    """A pluggable job manager (c.ArtifactsApp.job_manager_class) that counts reconciliations."""

    reconciled = 0

    def reconcile(self) -> list[str]:
        type(self).reconciled += 1
        return super().reconcile()


@pytest.fixture
def artifacts_config(store_root, allowed_root):
    return {"root_url": str(store_root), "allowed_local_roots": [str(allowed_root)], "gpus": "fake:2",
            "max_job_workers": 4, "job_manager_class": RecordingJobManager}


async def submit(api, **body: Any) -> dict:
    body = {"type": "training", "name": "job", "command": "true", **body}
    code, job = await api.post("jobs", body=body, raw=False)
    assert code == 201, job
    return job


async def follow(api, job_id: str, timeout: float = 30, **params: Any) -> tuple[str, dict]:
    """GET logs from offset 0 until `finished`, passing the offset back as given."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    text, offset, calls = "", "0", 0
    while True:
        chunk = await api.ok("GET", "jobs", job_id, "logs", params={**params, "offset": str(offset)})
        calls += 1
        text += chunk["text"]
        offset = chunk["offset"]
        if chunk["finished"]:
            return text, {**chunk, "calls": calls}
        assert loop.time() < deadline, f"logs not finished after {timeout}s: {text}"
        await asyncio.sleep(0.05)


async def wait_state(api, job_id: str, states: tuple[str, ...], timeout: float = 30) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        job = await api.ok("GET", "jobs", job_id)
        if job["state"] in states:
            return job
        assert loop.time() < deadline, f"job still {job['state']} after {timeout}s"
        await asyncio.sleep(0.05)


async def test_submit_follow_logs_list_and_show(api, write_tree, jp_root_dir, jp_serverapp):
    write_tree({"proj/count.py": PRINTER})
    code, response = await api.post("jobs", raw=True, body={
        "type": "training", "name": "printer", "command": "count.py", "workdir": "proj",
        "resources": {"gpus": 1, "cpu": 1, "memory": "2G"}, "params": {"lr": 0.1}})
    assert code == 201
    job = json.loads(response.body)
    assert response.headers["Location"].endswith(f"/jupyter-artifacts/api/jobs/{job['id']}")
    assert job["name"] == "printer" and job["state"] in ("queued", "building", "running", "finished")
    assert job["resources"] == {"gpus": 1, "cpu": 1.0, "memory": 2_000_000_000}
    assert job["workdir"] == str((jp_root_dir / "proj").resolve())
    assert job["workers"][0]["params"] == {"lr": 0.1}

    text, last = await follow(api, job["id"])
    assert [line for line in text.splitlines() if line.startswith("line ")] == [f"line {i}" for i in range(5)]
    assert last["state"] == "finished" and isinstance(last["offset"], int)
    again = await api.ok("GET", "jobs", job["id"], "logs", params={"offset": str(last["offset"])})
    assert again == {**again, "text": "", "offset": last["offset"], "finished": True}
    part = await api.ok("GET", "jobs", job["id"], "logs", params={"offset": "5", "worker": "0"})
    assert part["text"] == text[5:] and part["worker"] == 0

    shown = await api.ok("GET", "jobs", "printer")  # by name, by id and by id prefix
    assert shown["id"] == job["id"] and shown["state"] == "finished"
    assert shown["workers"][0]["gpus"] and shown["workers"][0]["exit_code"] == 0
    assert (await api.ok("GET", "jobs", job["id"][:8]))["id"] == job["id"]

    second = await submit(api, name="later", command="echo later")
    listed = await api.ok("GET", "jobs")
    assert [j["id"] for j in listed["jobs"]][:2] == [second["id"], job["id"]]  # newest first
    assert listed["next_offset"] is None
    page = await api.ok("GET", "jobs", params={"limit": "1"})
    assert [j["id"] for j in page["jobs"]] == [second["id"]] and page["next_offset"] == 1
    assert [j["id"] for j in (await api.ok("GET", "jobs", params={"name": "printer"}))["jobs"]] == [job["id"]]
    finished = await api.ok("GET", "jobs", params={"state": "finished"})
    assert job["id"] in [j["id"] for j in finished["jobs"]]
    assert (await api.ok("GET", "jobs", params={"state": "stopped"}))["jobs"] == []
    code, body = await api.get("jobs", params={"state": "sleeping"})
    assert code == 400 and "state" in body["message"]
    assert RecordingJobManager.reconciled > 0
    assert isinstance(jp_serverapp.web_app.settings["jupyter_artifacts_app"].job_manager(), RecordingJobManager)


async def test_grid_job_logs_of_all_workers_with_a_combined_offset(api, write_tree):
    write_tree({"count.py": PRINTER})
    job = await submit(api, name="grid", command="count.py", hyperparameters={"n": [1, 2]})
    assert len(job["workers"]) == 2
    text, last = await follow(api, job["id"])
    assert isinstance(last["offset"], str) and last["offset"].count(",") == 1
    for worker in (0, 1):
        assert [line for line in text.splitlines() if line.startswith(f"[worker {worker}] line ")] == \
               [f"[worker {worker}] line {i}" for i in range(5)]
    one, _ = await follow(api, job["id"], worker=1)
    assert "line 4" in one and "[worker" not in one
    code, body = await api.get("jobs", job["id"], "logs", params={"worker": "7"})
    assert code == 404 and "worker" in body["message"]
    for bad in ("-1", "abc", "1;2", "9" * 40):
        code, body = await api.get("jobs", job["id"], "logs", params={"offset": bad})
        assert code == 400, (bad, body)


REPORTER = """\
import os
from jupyter_artifacts import worker
lr = worker.params()["lr"]
for step in (1, 2, 3):
    worker.report(step, loss=round(1 / (step * lr), 3))
with open(os.path.join(os.environ["ML_OUTPUT_PATH"], "model.txt"), "w") as handle:
    handle.write(f"lr {lr}")
"""


async def test_metrics_of_each_worker_over_its_steps_then_delete_the_job(api, write_tree, store_root):
    write_tree({"report.py": REPORTER})
    job = await submit(api, name="reporter", command="python report.py", hyperparameters={"lr": [1, 2]})
    code, body = await api.delete("jobs", job["id"])
    assert code in (200, 409)  # usually still running: refused, and nothing is removed
    if code == 409:
        assert "stop it" in body["message"] and (await api.get("jobs", job["id"]))[0] == 200
    await follow(api, job["id"])
    metrics = await api.ok("GET", "jobs", "reporter", "metrics")
    assert metrics["id"] == job["id"]
    assert [w["index"] for w in metrics["workers"]] == [0, 1]
    assert [w["params"] for w in metrics["workers"]] == [{"lr": 1}, {"lr": 2}]
    assert [(p["step"], p["metrics"]) for p in metrics["workers"][1]["points"]] == \
        [(1, {"loss": 0.5}), (2, {"loss": 0.25}), (3, {"loss": 0.167})]
    thinned = await api.ok("GET", "jobs", job["id"], "metrics", params={"limit": "2"})
    assert [p["step"] for p in thinned["workers"][0]["points"]] == [1, 3]  # the last point is kept
    assert (await api.get("jobs", job["id"], "metrics", params={"limit": "1"}))[0] == 400

    # what jobs made, apart from what people saved, and one job's outputs
    write_tree({"mine/w.txt": "mine"})
    await api.create("checkpoint", "mine", "mine")
    made = await api.ok("GET", "artifacts", params={"origin": "job"})
    assert made["total"] == 2 and {a["produced_by"]["job_id"] for a in made["artifacts"]} == {job["id"]}
    assert [a["name"] for a in (await api.ok("GET", "artifacts", params={"origin": "user"}))["artifacts"]] == ["mine"]
    assert (await api.ok("GET", "artifacts", params={"job": job["id"]}))["total"] == 2
    assert (await api.ok("GET", "artifacts", params={"job": "0" * 32}))["total"] == 0

    deleted = await api.ok("DELETE", "jobs", job["id"])
    assert deleted == {"id": job["id"], "name": "reporter", "state": "finished"}
    assert (await api.get("jobs", job["id"]))[0] == 404
    assert job["id"] not in [j["id"] for j in (await api.ok("GET", "jobs"))["jobs"]]
    assert not (store_root / "jobs" / job["id"]).exists()
    assert (await api.delete("jobs", job["id"]))[0] == 404


async def test_stop_a_long_running_job(api):
    job = await submit(api, name="sleeper", command="sleep 60", stop_grace=2, resources={"gpus": 2})
    await wait_state(api, job["id"], ("running",))
    gpus = await api.ok("GET", "gpus")
    assert not any(d["free"] for d in gpus["devices"])
    stopped = await api.ok("POST", "jobs", job["id"], "stop")  # no body
    assert stopped["workers"][0]["stop_requested"]
    done = await wait_state(api, job["id"], ("stopped", "failed", "finished"))
    assert done["state"] == "stopped"
    text, last = await follow(api, job["id"])
    assert last["state"] == "stopped" and "stopped" in text
    code, body = await api.post("jobs", job["id"], "stop", body={"save_output": True})
    assert code == 409 and "already ended" in body["message"]
    code, body = await api.post("jobs", job["id"], "stop", body={"save_output": "yes"})
    assert code == 400


async def test_gc_policy_dry_run_and_apply(api, write_tree):
    write_tree({"ckpt.py": CHECKPOINTS})
    job = await submit(api, name="ckpts", command="ckpt.py", metric="loss",
                       gc_policy={"save_trial_best": 3, "save_trial_latest": 3})
    await follow(api, job["id"])
    job = await api.ok("GET", "jobs", job["id"])
    assert job["state"] == "finished", job
    assert len([c for c in job["checkpoints"] if not c["deleted"]]) == 3

    dry = await api.ok("POST", "jobs", job["id"], "gc-policy",
                       body={"save_trial_best": 1, "save_trial_latest": 0, "dry_run": True})
    assert dry["dry_run"] is True and dry["applied"] is False
    assert sorted(c["step"] for c in dry["deleted"]) == [1, 3]  # the best (loss 0.2, step 2) stays
    job = await api.ok("GET", "jobs", job["id"])
    assert not any(c["deleted"] for c in job["checkpoints"])  # nothing went

    applied = await api.ok("POST", "jobs", "ckpts", "gc-policy", body={"save_trial_best": 1, "save_trial_latest": 0})
    assert applied["applied"] is True and sorted(c["step"] for c in applied["deleted"]) == [1, 3]
    job = await api.ok("GET", "jobs", job["id"])
    assert [c["step"] for c in job["checkpoints"] if not c["deleted"]] == [2]
    assert job["gc_policy"]["save_trial_best"] == 1

    for bad in ({"save_trial_best": -1}, {"save_trial_best": "2"}, {"dry_run": "no"}, {"save_trial_latest": 10**30}):
        code, body = await api.post("jobs", job["id"], "gc-policy", body=bad)
        assert code == 400, (bad, body)


async def test_an_output_refused_by_the_store_is_kept_and_saved_again(api, store_root):
    job = await submit(api, name="leaky", command="echo ok > $ML_OUTPUT_PATH/w.txt; "
                                                   "ln -s /etc/hostname $ML_OUTPUT_PATH/leak")
    job = await wait_state(api, job["id"], ("finished", "failed"))
    worker = job["workers"][0]
    kept = worker["kept_output"]
    assert job["state"] == "failed" and kept == f"{store_root}/jobs/{job['id']}/0/output"
    assert worker["error"].startswith("saving the output failed: The link leak -> /etc/hostname points outside")
    assert worker["error"].endswith(f"save it with `jupyter artifacts job save-output {job['id'][:12]}`")

    code, body = await api.post("jobs", job["id"], "save-output")  # no body: every kept output
    assert code == 400 and body["message"].startswith("Saving the output of worker 0 failed again: The link leak")
    assert body["message"].endswith(f"; it is still kept in {kept}.")
    assert await api.post("jobs", job["id"], "save-output", body={"worker": 3}) == (
        404, {"message": "The job has no worker 3; its workers are 0 to 0."})
    for bad in ({"worker": "0"}, {"worker": -1}, {"worker": 10**30}):
        code, body = await api.post("jobs", job["id"], "save-output", body=bad)
        assert code == 400, (bad, body)

    os.unlink(os.path.join(kept, "leak"))
    saved = await api.ok("POST", "jobs", "leaky", "save-output", body={"worker": 0})
    worker = saved["workers"][0]
    assert (saved["state"], worker["state"], worker["error"], worker["kept_output"]) == ("finished", "finished",
                                                                                        None, None)
    artifact = await api.ok("GET", "artifacts", worker["output"]["id"])
    assert artifact["name"] == "Job - leaky" and artifact["produced_by"]["job_id"] == job["id"]
    assert artifact["produced_by"]["code"] == job["code"] and not os.path.exists(kept)
    code, body = await api.post("jobs", job["id"], "save-output")
    assert code == 409 and body["message"] == (f"Job 'leaky' ({job['id'][:8]}) has no kept output to save: an "
                                               "output is kept only when saving it failed.")


async def test_unknown_jobs_are_404(api):
    for method, parts in (("GET", ("jobs", "nope")), ("POST", ("jobs", "nope", "stop")),
                          ("POST", ("jobs", "nope", "save-output")),
                          ("GET", ("jobs", "nope", "logs")), ("POST", ("jobs", "nope", "gc-policy")),
                          ("GET", ("jobs", "abcdef12"))):
        code, body = await api.call(method, *parts)
        assert code == 404, (method, parts, body)
        assert "No job" in body["message"]


async def test_bad_bodies_are_refused_before_anything_runs(api, write_tree, jp_root_dir, tmp_path):
    write_tree({"inside/params.json": '{"lr": 0.5}', "inside/data.csv": "1,2"})
    (tmp_path / "outside.json").write_text("{}")
    (tmp_path / "secret.csv").write_text("s")
    base = {"type": "training", "name": "bad", "command": "true"}
    cases: list[tuple[dict, int, str]] = [
        ({**base, "resources": {"memory": "lots"}}, 400, "SI units"),
        ({**base, "resources": {"memory": "9" * 400 + "T"}}, 400, ""),
        ({**base, "resources": {"gpus": 3}}, 400, "this host has 2"),
        ({**base, "resources": {"gpus": 1.5}}, 400, "gpus"),
        ({**base, "resources": {"cpu": 1000}}, 400, "CPU"),
        ({**base, "model": "no-such-model"}, 404, "no-such-model"),
        ({**base, "data": ["no-such-data"]}, 404, "no-such-data"),
        ({**base, "type": "painting"}, 400, "training or inference"),
        ({"type": "training", "name": "bad"}, 400, "command"),
        ({**base, "name": 7}, 400, "'name'"),
        ({**base, "name": "bad/name"}, 400, ""),
        ({**base, "colour": "blue"}, 400, "Unknown job field"),
        ({**base, "checkpoints": [1, 2]}, 400, "checkpoints"),
        ({**base, "env": {"A": 1}}, 400, "env"),
        ({**base, "hyperparameters": {"a": [1, 2, 3], "b": [1, 2]}}, 400, "max_job_workers"),
        ({**base, "hyperparameters": {"a": []}}, 400, "empty"),
        ({**base, "gc_policy": {"save_trial_best": -1}}, 400, "save_trial_best"),
        ({**base, "workdir": "../"}, 403, "outside the Jupyter root folder"),
        ({**base, "workdir": "/"}, 403, "outside"),
        ({**base, "workdir": "missing"}, 404, "missing"),
        ({**base, "params": str(tmp_path / "outside.json")}, 403, "allowed_local_roots"),
        ({**base, "params": "inside/nope.json"}, 404, "params"),
        ({**base, "data_manifest": [{"url": str(tmp_path / "secret.csv"), "path": "s.csv"}]}, 403, "outside"),
        ({**base, "data_manifest": [{"url": "file:///etc/passwd"}]}, 403, "outside"),
        ({**base, "data_manifest": [{"url": "inside/data.csv", "path": "../up"}]}, 400, "'..'"),
        ({**base, "output": "file:///tmp/elsewhere"}, 403, "outside"),
        ({**base, "output": "somewhere"}, 400, "output"),
        ({**base, "requirements_file": "inside/params.json", "requirements": "numpy"}, 400, "not both"),
        ({**base, "public_checkpoints": ["no-such-public-checkpoint"]}, 404, ""),
    ]
    for body, status, words in cases:
        code, data = await api.post("jobs", body=body)
        assert code == status, (body, code, data)
        assert words in data["message"], (body, data)
    for raw in ("", "[]", "{not json", '{"type": "training", "name": "x", "command": "true", "stop_grace": NaN}'):
        code, data = await api.post("jobs", body=raw)
        assert code == 400, (raw, data)
    assert (await api.ok("GET", "jobs"))["jobs"] == []  # nothing was submitted


async def test_paths_inside_the_root_are_accepted(api, write_tree, jp_root_dir, allowed_root):
    write_tree({"exp/params.json": '{"lr": 0.5}', "exp/grid.json": '{"k": [1, 2]}', "exp/rows.csv": "1,2\n",
                "exp/show.py": "import json, os\nprint(json.dumps(json.load(open(os.environ['ML_PARAMS_PATH'])), sort_keys=True))\n"
                               "print(sorted(os.listdir(os.environ['ML_DATA_PATH'])))\n"})
    (allowed_root / "shared.csv").write_text("3,4\n")
    job = await submit(api, name="paths", command="show.py", workdir="exp", params="params.json",
                       hyperparameters="grid.json",
                       data_manifest=[{"url": "rows.csv", "path": "rows.csv"},
                                      {"url": f"file://{allowed_root / 'shared.csv'}", "path": "shared.csv"}])
    assert [w["params"] for w in job["workers"]] == [{"lr": 0.5, "k": 1}, {"lr": 0.5, "k": 2}]
    assert job["spec"]["data_manifest"][0]["url"] == str((jp_root_dir / "exp" / "rows.csv").resolve())
    text, last = await follow(api, job["id"], worker=0)
    assert last["state"] == "finished", text
    assert '{"k": 1, "lr": 0.5}' in text and "['rows.csv', 'shared.csv']" in text, text


@pytest.fixture
def orphaned_job(store_root: Path, tmp_path: Path) -> str:
    """A job whose supervisor was killed before the server started (as if the machine had restarted)."""
    jobs = JobManager(Store(root=str(store_root)), inventory="fake:2")
    job = jobs.submit({"type": "training", "name": "orphan", "command": "sleep 60", "workdir": str(tmp_path)})
    deadline = time.monotonic() + 20
    while jobs.get(job.id).state != "running":
        assert time.monotonic() < deadline, jobs.get(job.id).to_dict()
        time.sleep(0.05)
    os.kill(jobs.get(job.id).workers[0]["supervisor_pid"], signal.SIGKILL)
    return job.id


class TestStartUp:
    @pytest.fixture
    def artifacts_config(self, store_root, allowed_root, orphaned_job):
        return {"root_url": str(store_root), "allowed_local_roots": [str(allowed_root)], "gpus": "fake:2"}

    async def test_the_server_reconciles_jobs_whose_supervisor_died(self, jp_serverapp, store_root, orphaned_job):
        db = JobsDB(str(store_root / "jobs.sqlite"))
        deadline = time.monotonic() + 20
        while db.job(orphaned_job)["state"] != "failed":  # read directly: no request reconciles it
            assert time.monotonic() < deadline, db.job(orphaned_job)
            await asyncio.sleep(0.05)
        assert "supervisor" in db.workers(orphaned_job)[0]["error"]


LIST_CHECKPOINTS = """\
import os
root = os.environ["ML_CHECKPOINT_PATH"]
print("ATTACHED", sorted(os.listdir(root)), sorted(os.listdir(os.path.join(root, "whisper-tiny"))), flush=True)
"""


class TestPublicMirrorOfTheServer:
    """c.ArtifactsApp.public_mirror, with nothing in the environment: the job's supervisor (another
    process) fetches the public checkpoint from that mirror, since the setting travels with the job."""

    @pytest.fixture
    def artifacts_config(self, store_root, allowed_root, tmp_path, monkeypatch):
        monkeypatch.delenv("JUPYTER_ARTIFACTS_PUBLIC_MIRROR", raising=False)
        mirror = tmp_path / "site-mirror"
        (mirror / "whisper-tiny").mkdir(parents=True)
        (mirror / "whisper-tiny" / "config.json").write_text("{}")
        (mirror / "whisper-tiny" / "README.md").write_text("---\nlicense: apache-2.0\n---\n")
        return {"root_url": str(store_root), "allowed_local_roots": [str(allowed_root)], "gpus": "fake:2",
                "public_mirror": str(mirror)}

    async def test_a_job_attaches_a_public_checkpoint_from_the_servers_mirror(self, api, write_tree):
        write_tree({"probe.py": LIST_CHECKPOINTS})
        assert "JUPYTER_ARTIFACTS_PUBLIC_MIRROR" not in os.environ
        job = await submit(api, name="public-probe", command="probe.py", public_checkpoints=["whisper-tiny"])
        text, last = await follow(api, job["id"], timeout=60)
        assert last["state"] == "finished", text
        assert "ATTACHED ['whisper-tiny'] ['README.md', 'config.json']" in text
        shown = await api.ok("GET", "jobs", job["id"])
        assert [i["reference"] for i in shown["inputs"]] == ["public:whisper-tiny"]
        fetched = await api.ok("GET", "public-checkpoints", "whisper-tiny")
        assert fetched["fetched"] == "public.whisper-tiny:v1"
