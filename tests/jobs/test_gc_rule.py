"""The checkpoint GC rule against Determined's documented example, and GC on a real store."""

from __future__ import annotations

import pytest

from jupyter_artifacts.jobs.db import JobsDB
from jupyter_artifacts.jobs.gc import Candidate, collect, keep
from jupyter_artifacts.jobs.layout import JobsLayout

# Two trials, checkpoints 1-10, smaller is better (Determined's checkpoint storage docs).
METRICS = {1: None, 2: None, 3: 0.6, 4: 0.5, 5: 0.4, 6: None, 7: 0.2, 8: 0.3, 9: None, 10: None}
TABLE = [
    # save_experiment_best, save_trial_best, save_trial_latest, saved checkpoint ids
    (0, 0, 0, set()),
    (2, 0, 0, {8, 7}),
    (5, 0, 0, {8, 7, 5, 4, 3}),
    (6, 0, 0, {8, 7, 5, 4, 3}),  # ">= 5"
    (0, 1, 0, {7, 5}),
    (0, 3, 0, {8, 7, 5, 4, 3}),
    (0, 4, 0, {8, 7, 5, 4, 3}),  # ">= 3"
    (0, 0, 1, {10, 5}),
    (0, 0, 3, {10, 9, 8, 5, 4, 3}),
    (2, 1, 1, {10, 8, 7, 5}),
    (2, 1, 3, {10, 9, 8, 7, 5, 4, 3}),
]


def candidates() -> list[Candidate]:
    return [Candidate(id=str(n), trial=1 if n <= 5 else 2, step=float(n if n <= 5 else n - 5), value=METRICS[n],
                      order=n) for n in range(1, 11)]


@pytest.mark.parametrize("exp_best, trial_best, trial_latest, saved", TABLE)
def test_determined_table(exp_best, trial_best, trial_latest, saved):
    kept = keep(candidates(), smaller_is_better=True, save_experiment_best=exp_best,
                save_trial_best=trial_best, save_trial_latest=trial_latest)
    assert {int(k) for k in kept} == saved


def test_larger_is_better_mirrors_the_ranking():
    flipped = [Candidate(c.id, c.trial, c.step, None if c.value is None else -c.value, c.order) for c in candidates()]
    assert {int(k) for k in keep(flipped, False, 2, 0, 0)} == {8, 7}
    assert {int(k) for k in keep(flipped, False, 0, 1, 0)} == {7, 5}


def _job_with_checkpoints(store, tmp_path):
    """A finished job's record with ten real checkpoint artifacts, saved as workers would."""
    db_path = JobsLayout(store.state_dir).db_path
    db = JobsDB(db_path)
    job = {"id": "a" * 32, "name": "table", "type": "training",
           "spec": {"metric": "loss", "smaller_is_better": True},
           "info": {}, "gc_policy": {"save_experiment_best": 2, "save_trial_best": 1, "save_trial_latest": 1},
           "created_at": 1.0}
    db.insert_job(job, [{"idx": 0, "params": {}}, {"idx": 1, "params": {}}], [])
    ids = {}
    for n in range(1, 11):
        folder = tmp_path / f"ckpt{n}"
        folder.mkdir()
        (folder / "weights.bin").write_bytes(f"checkpoint {n}".encode())
        artifact = store.create("checkpoint", "Job - table Checkpoint", str(folder))
        metrics = {} if METRICS[n] is None else {"loss": METRICS[n]}
        db.add_checkpoint(artifact.id, job["id"], 0 if n <= 5 else 1, n if n <= 5 else n - 5, metrics)
        ids[n] = artifact.id
    return db, db.job(job["id"]), ids


def test_collect_deletes_exactly_what_the_policy_drops(store, tmp_path):
    db, job, ids = _job_with_checkpoints(store, tmp_path)
    plan = collect(store, db, job, dry_run=True)
    assert {d["id"] for d in plan["deleted"]} == {ids[n] for n in (1, 2, 3, 4, 6, 9)}
    assert all(store.catalog.get(ids[n]) for n in ids)  # a dry run deletes nothing
    result = collect(store, db, job)
    assert {d["id"] for d in result["deleted"]} == {ids[n] for n in (1, 2, 3, 4, 6, 9)}
    for n, artifact_id in ids.items():
        assert (store.catalog.get(artifact_id) is None) == (n in (1, 2, 3, 4, 6, 9))
    deleted = {c["artifact_id"] for c in db.checkpoints(job["id"]) if c["deleted_at"]}
    assert deleted == {ids[n] for n in (1, 2, 3, 4, 6, 9)}


def test_collect_spares_aliased_leased_and_used_checkpoints(store, tmp_path):
    db, job, ids = _job_with_checkpoints(store, tmp_path)
    store.set_alias(ids[1], "keepme")
    lease = store.acquire_lease(ids[2], "a notebook")
    other = {"id": "b" * 32, "name": "other", "type": "inference", "spec": {}, "info": {},
             "gc_policy": {}, "created_at": 2.0}
    db.insert_job(other, [{"idx": 0, "params": {}}], [{"id": ids[3], "role": "checkpoint"}])
    result = collect(store, db, job)
    protected = {p["id"]: p["reason"] for p in result["protected"]}
    assert "alias keepme" in protected[ids[1]]
    assert "a notebook" in protected[ids[2]]
    assert "other" in protected[ids[3]]
    assert {d["id"] for d in result["deleted"]} == {ids[n] for n in (4, 6, 9)}
    store.release_lease(lease)


def test_collect_carries_on_past_missing_files_and_records(store, tmp_path):
    db, job, ids = _job_with_checkpoints(store, tmp_path)
    # one checkpoint's blob is already gone from disk, another's whole artifact was deleted by hand
    manifest = store.catalog.manifest(ids[4])
    for entry in manifest.values():
        store.root.remove_blob(entry["digest"])
    store.delete(ids[6])
    result = collect(store, db, job)
    assert not result["errors"]
    assert {d["id"] for d in result["deleted"]} == {ids[n] for n in (1, 2, 3, 4, 9)}
    assert [m["id"] for m in result["already_missing"]] == [ids[6]]
    assert all(c["deleted_at"] for c in db.checkpoints(job["id"]) if c["artifact_id"] in {ids[n] for n in (1, 2, 3, 4, 6, 9)})
    # a second run finds nothing more to do
    again = collect(store, db, job)
    assert not again["deleted"] and not again["errors"]
