"""Artifacts from the frameworks people train with: each framework's module turns the checkpoints it
writes into checkpoint artifacts, and finds the one to continue from.

    from jupyter_artifacts.integrations.lightning import ArtifactsCheckpoint
    from jupyter_artifacts.integrations.transformers import ArtifactsCallback

Both save through `save`: inside a job, `worker.save_checkpoint` (the job names the artifact, its
checkpoint GC ranks by the job's metric); outside one, a checkpoint artifact with what the notebook
worked from as its inputs. Nothing here imports a framework: each module imports its own.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

from .. import worker


def numbers(metrics: Mapping[str, Any]) -> dict[str, float | int]:
    """The scalar metrics of a mapping (a tensor of one value counts), as plain numbers."""
    found: dict[str, float | int] = {}
    for key, value in metrics.items():
        if hasattr(value, "item"):  # a tensor, a numpy scalar
            try:
                value = value.item()
            except (ValueError, RuntimeError):
                continue  # more than one value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if isinstance(value, float) and not math.isfinite(value):
            continue
        found[str(key)] = value
    return found


def save(path: str, step: int, metrics: dict, name: str, best: bool = False) -> str | None:
    """Save a checkpoint a framework wrote (a file or a folder, never rewritten in place: linked, not
    copied, into a job's spool). Inside a job the job stores it, named after the job; outside, it is
    stored now as checkpoint `name` (`best`: with the alias `best`), with the notebook's inputs and
    the step and metrics in its metadata. Returns the new reference outside a job."""
    if worker.in_job():
        worker.save_checkpoint(path, step=step, metrics=metrics, copy=False)
        return None
    from ..kernel.actions import session

    notebook = session()
    artifact = notebook.store.create("checkpoint", name, path, aliases=["best"] if best else [],
                                     metadata={"step": step, "metrics": metrics},
                                     source={"type": "local", "path": os.path.abspath(path)},
                                     inputs=notebook.inputs())
    print(f"[checkpoint] step={step} saved as checkpoint {artifact.reference}", flush=True)
    return artifact.reference


__all__ = ["numbers", "save"]
