"""A tiny helper for training code running as a job's worker; needs nothing but the standard library.

    from jupyter_artifacts import worker

    p = worker.params({"C": 1.0})          # the worker's merged parameters over your defaults
    worker.report(step=3, val_accuracy=0.97)
    worker.save_checkpoint("ckpt/", step=3)  # an intermediate checkpoint, with that step's metrics
    trainer.fit(model, ckpt_path=worker.resume_path())   # continue from the checkpoint --resume attached

Outside a job, `params` returns the defaults, `report` prints, `save_checkpoint` refuses, and
`resume_path` looks at the notebook's attached checkpoints.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
import uuid

WORKER_DIR_ENV = "JUPYTER_ARTIFACTS_WORKER_DIR"
ATTACHED_FILE = "attached.json"  # written by the supervisor: the job's store and the worker's attached inputs
READS_FILE = "reads.jsonl"  # artifacts read through artifact://, inputs of the worker's checkpoints and output
_reported: dict = {}  # step -> the metrics reported at that step, for save_checkpoint


def in_job() -> bool:
    """True inside a job's worker."""
    return bool(os.environ.get(WORKER_DIR_ENV))


def params(defaults: dict | None = None) -> dict:
    """The worker's parameters (static params merged with its grid combination) over `defaults`."""
    merged = dict(defaults or {})
    path = os.environ.get("ML_PARAMS_PATH")
    if path:
        with open(path, encoding="utf-8") as handle:
            merged.update(json.load(handle))
    return merged


def _clean(metrics: dict) -> dict:
    out = {}
    for key, value in metrics.items():
        if hasattr(value, "item"):  # numpy scalars
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        out[str(key)] = value
    return out


def _append(name: str, record: dict) -> None:
    folder = os.environ.get(WORKER_DIR_ENV)
    if not folder:
        return
    line = (json.dumps(record, default=str) + "\n").encode()
    fd = os.open(os.path.join(folder, name), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def report(step: int | float | None = None, **metrics) -> None:
    """Record metrics (for example validation accuracy) at a step; also printed to the job's log."""
    metrics = _clean(metrics)
    if step is not None:
        _reported.setdefault(step, {}).update(metrics)
    _append("metrics.jsonl", {"step": step, "metrics": metrics, "time": time.time()})
    shown = " ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items())
    print(f"[metrics] step={step} {shown}".rstrip(), flush=True)


def save_checkpoint(path: str, step: int | float | None = None, metrics: dict | None = None,
                    copy: bool = True) -> str:
    """Save a file or folder as an intermediate checkpoint of this worker, with the step and its metrics.

    The files are copied at once, so `path` may be overwritten right after; the job stores the copy
    as a checkpoint artifact while training goes on. Metrics default to those reported at `step`.
    `copy=False` links the files instead (a copy where linking cannot be done), so a 2 GB checkpoint
    costs the training loop nothing: only for files never rewritten in place afterwards (a new file
    each save, or one replaced by a rename, as Lightning and Transformers write them).
    Returns the request's id.
    """
    folder = os.environ.get(WORKER_DIR_ENV)
    if not folder:
        raise RuntimeError("save_checkpoint works only inside a job's worker (JUPYTER_ARTIFACTS_WORKER_DIR is not set).")
    source = os.path.abspath(os.path.expanduser(str(path)))
    if not os.path.exists(source):
        raise FileNotFoundError(f"Cannot save checkpoint: {source} does not exist.")
    merged = dict(_reported.get(step, {})) if step is not None else {}
    merged.update(_clean(metrics or {}))
    request_id = uuid.uuid4().hex
    spool = os.path.join(folder, "spool")
    target = os.path.join(spool, request_id)
    os.makedirs(spool, exist_ok=True)
    place = shutil.copy2 if copy else _link_or_copy
    if os.path.isdir(source):
        shutil.copytree(source, target, symlinks=True, copy_function=place)
    else:
        os.makedirs(target)
        place(source, os.path.join(target, os.path.basename(source)))
    _append("checkpoints.jsonl", {"id": request_id, "dir": target, "step": step, "metrics": merged,
                                  "time": time.time()})
    print(f"[checkpoint] step={step} saved from {source}", file=sys.stdout, flush=True)
    return request_id


def _link_or_copy(source: str, target: str) -> None:
    """A hard link (no byte copied), else a copy (another file system, or links not allowed)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def attached() -> dict | None:
    """Inside a job: what its supervisor wrote for the worker (`store`: the job's store settings;
    `inputs`: each attached artifact with its `path`, `step` and `created_at`). None outside a job."""
    folder = os.environ.get(WORKER_DIR_ENV)
    if not folder:
        return None
    try:
        with open(os.path.join(folder, ATTACHED_FILE), encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def note_input(item: dict) -> None:
    """Record an artifact the worker read (through artifact://) as an input of what it saves; the
    file system calls this. Nothing happens outside a job."""
    _append(READS_FILE, item)


def resume_path(name: str | None = None) -> str | None:
    """The folder of the checkpoint to continue from, or None when there is none.

    In a job: the checkpoint `--resume` attached, else the newest attached checkpoint (by step, then
    when it was saved); `name` picks an attached checkpoint by its folder name under
    ML_CHECKPOINT_PATH or its reference. Outside a job: the notebook's attached checkpoints (the
    folders under ML_CHECKPOINT_PATH), `name` or else the one attached last.
    """
    info = attached()
    if info is not None:
        found = [i for i in info.get("inputs") or [] if i.get("role") == "checkpoint" and i.get("path")]
        if name is not None:
            found = [i for i in found if name in (os.path.basename(i["path"]), i.get("reference"), i.get("name"))]
        else:
            found.sort(key=lambda i: (bool(i.get("resume")), _number(i.get("step")), i.get("created_at") or 0))
        paths = [i["path"] for i in found]
    else:
        folder = os.environ.get("ML_CHECKPOINT_PATH")
        paths = [e.path for e in os.scandir(folder) if e.is_dir()] if folder and os.path.isdir(folder) else []
        if name is not None:
            paths = [p for p in paths if os.path.basename(p) == name]
        paths.sort(key=lambda p: os.stat(p).st_mtime)
    if name is not None and not paths:
        raise FileNotFoundError(f"No checkpoint {name!r} is attached; attach it (--checkpoint, %attach_checkpoint) "
                                "or leave the name out for the newest.")
    return paths[-1] if paths else None


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else -math.inf


__all__ = ["attached", "in_job", "note_input", "params", "report", "resume_path", "save_checkpoint"]
