"""A tiny helper for training code running as a job's worker; needs nothing but the standard library.

    from jupyter_artifacts import worker

    p = worker.params({"C": 1.0})          # the worker's merged parameters over your defaults
    worker.report(step=3, val_accuracy=0.97)
    worker.save_checkpoint("ckpt/", step=3)  # an intermediate checkpoint, with that step's metrics

Outside a job, `params` returns the defaults, `report` prints, and `save_checkpoint` refuses.
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


def save_checkpoint(path: str, step: int | float | None = None, metrics: dict | None = None) -> str:
    """Save a file or folder as an intermediate checkpoint of this worker, with the step and its metrics.

    The files are copied at once, so `path` may be overwritten right after; the job stores the copy
    as a checkpoint artifact while training goes on. Metrics default to those reported at `step`.
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
    if os.path.isdir(source):
        shutil.copytree(source, target, symlinks=True)
    else:
        os.makedirs(target)
        shutil.copy2(source, os.path.join(target, os.path.basename(source)))
    _append("checkpoints.jsonl", {"id": request_id, "dir": target, "step": step, "metrics": merged,
                                  "time": time.time()})
    print(f"[checkpoint] step={step} saved from {source}", file=sys.stdout, flush=True)
    return request_id


__all__ = ["in_job", "params", "report", "save_checkpoint"]
