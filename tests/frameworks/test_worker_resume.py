"""`worker.resume_path()`: which attached checkpoint a run continues from, in a job (what its supervisor
wrote in attached.json) and in a notebook (the folders under ML_CHECKPOINT_PATH)."""

from __future__ import annotations

import json
import os

import pytest

from jupyter_artifacts import worker


def test_in_a_job_the_resumed_checkpoint_then_the_newest_by_step(tmp_path, monkeypatch):
    monkeypatch.setenv(worker.WORKER_DIR_ENV, str(tmp_path))
    attached = [{"role": "checkpoint", "path": str(tmp_path / "a"), "name": "a", "reference": "a:v1", "step": 30},
                {"role": "checkpoint", "path": str(tmp_path / "b"), "name": "b", "reference": "b:v4", "step": 120,
                 "created_at": 2.0},
                {"role": "checkpoint", "path": str(tmp_path / "c"), "name": "c", "reference": "c:v2", "step": 120,
                 "created_at": 1.0},
                {"role": "dataset", "path": str(tmp_path / "d"), "name": "d", "reference": "d:v1"}]
    (tmp_path / worker.ATTACHED_FILE).write_text(json.dumps({"store": {}, "inputs": attached}))
    assert worker.resume_path() == str(tmp_path / "b")  # the highest step, then the last saved
    assert worker.resume_path("a") == worker.resume_path("a:v1") == str(tmp_path / "a")
    attached[0]["resume"] = True
    (tmp_path / worker.ATTACHED_FILE).write_text(json.dumps({"store": {}, "inputs": attached}))
    assert worker.resume_path() == str(tmp_path / "a")  # --resume's, whatever else is attached
    with pytest.raises(FileNotFoundError, match="No checkpoint 'd' is attached"):
        worker.resume_path("d")
    (tmp_path / worker.ATTACHED_FILE).write_text(json.dumps({"store": {}, "inputs": attached[3:]}))
    assert worker.resume_path() is None


def test_in_a_notebook_the_checkpoint_attached_last(tmp_path, monkeypatch):
    monkeypatch.delenv(worker.WORKER_DIR_ENV, raising=False)
    monkeypatch.setenv("ML_CHECKPOINT_PATH", str(tmp_path))
    assert worker.resume_path() is None
    for name, mtime in (("old", 100), ("new", 200)):
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, (mtime, mtime))
    assert worker.resume_path() == str(tmp_path / "new")
    assert worker.resume_path("old") == str(tmp_path / "old")
