"""Jobs on a team root: another host's queued job, aliases and leases protect checkpoints from a
delete and from a job's checkpoint GC on this host."""

from __future__ import annotations

import time

from .conftest import LEASE_TTL, wait_until, write_tree


def test_10_a_queued_job_on_another_host_keeps_its_checkpoint(team, tmp_path):
    a, b = team.host("a"), team.host("b")
    a.run("checkpoint", "create", "ck", str(write_tree(tmp_path / "ck", {"w.bin": "weights"})))
    blocker = b.json("job", "create", "training", "blocker", "--gpus", "1", "--command", "sleep 60")
    queued = b.json("job", "create", "training", "waiting", "--gpus", "1", "--checkpoint", "ck:v1",
                    "--command", "ls $ML_CHECKPOINT_PATH")
    try:
        wait_until(lambda: b.json("job", "show", queued["id"])["state"] == "queued", what="the job to queue")
        time.sleep(float(LEASE_TTL.rstrip("s")) + 1)  # longer than a lease lives unless renewed
        assert b.json("job", "show", queued["id"])["state"] == "queued"
        message = a.fail("checkpoint", "delete", "ck", "--yes")
        assert "job waiting" in message and " on " in message, message
    finally:
        for job in (queued, blocker):
            b.run("job", "stop", job["id"], "--wait", check=False)
    a.run("checkpoint", "delete", "ck", "--yes")  # once the job is gone
    assert a.names("checkpoint") == []


def test_11_checkpoint_gc_on_one_host_spares_what_another_aliased_or_holds(team, tmp_path):
    from jupyter_artifacts.jobs.db import JobsDB
    from jupyter_artifacts.jobs.gc import collect
    from jupyter_artifacts.jobs.layout import JobsLayout

    a, b = team.host("a"), team.host("b")
    store_a = a.store()
    db = JobsDB(JobsLayout(store_a.state_dir).db_path)
    job = {"id": "a" * 32, "name": "sweep", "type": "training", "spec": {"metric": "loss", "smaller_is_better": True},
           "info": {}, "gc_policy": {"save_experiment_best": 1, "save_trial_best": 0, "save_trial_latest": 0},
           "created_at": 1.0}
    db.insert_job(job, [{"idx": 0, "params": {}}], [])
    ids = []
    for step, loss in enumerate([0.9, 0.8, 0.7, 0.1]):
        made = store_a.create("checkpoint", "Job - sweep Checkpoint", str(write_tree(tmp_path / f"c{step}", {"w": str(step)})))
        db.add_checkpoint(made.id, job["id"], 0, step, {"loss": loss})
        ids.append(made.id)
    store_a.settings.sync_interval = 3600  # A's own view is old: only the GC's own sync shows B's doings
    store_b = b.store()
    store_b.set_alias(ids[0], "paper")
    lease = store_b.acquire_lease(ids[1], "kernel 7 (analysis.ipynb)")
    result = collect(store_a, db, db.job(job["id"]))
    protected = {p["id"]: p["reason"] for p in result["protected"]}
    assert "paper" in protected[ids[0]] and "analysis.ipynb" in protected[ids[1]], protected
    assert {d["id"] for d in result["deleted"]} == {ids[2]}
    assert {x.id for x in store_b.list(kind="checkpoint")[0]} == {ids[0], ids[1], ids[3]}
    store_b.release_lease(lease)
