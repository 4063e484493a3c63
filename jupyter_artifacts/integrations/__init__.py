"""Artifacts from the frameworks people train with: each framework's module turns the checkpoints it
writes into checkpoint artifacts, and finds the one to continue from.

    from jupyter_artifacts.integrations.lightning import ArtifactsCheckpoint
    from jupyter_artifacts.integrations.transformers import ArtifactsCallback
    from jupyter_artifacts.integrations.keras import ArtifactsCallback

All save through `save`: inside a job, `worker.save_checkpoint` (the job names the artifact, its
checkpoint GC ranks by the job's metric); outside one, a checkpoint artifact with what the notebook
worked from as its inputs. Nothing here imports a framework: each module imports its own.
"""

from __future__ import annotations

import math
import os
import re
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


def resume_folder(ref: str | None = None) -> str | None:
    """The folder of the checkpoint a run continues from: in a job (or without `ref`),
    `worker.resume_path(ref)`; outside a job, checkpoint `ref` attached to the notebook (as
    `%attach_checkpoint` does: held while the kernel lives, an input of what it saves next)."""
    if ref is None or worker.in_job():
        return worker.resume_path(ref)
    from ..kernel.actions import session

    return session().attach("checkpoint", ref).path


def latest(names: list[str], preferred: str | None = None) -> str:
    """The file to resume from among a checkpoint's: `preferred` where it is there, else the last by
    name with numbers as numbers (`epoch=10` after `epoch=9`)."""
    chosen = [n for n in names if os.path.basename(n) == preferred]
    if chosen:
        return chosen[0]
    return max(names, key=lambda n: [(0, int(part), "") if part.isdigit() else (1, 0, part)
                                     for part in re.split(r"(\d+)", n)])


__all__ = ["latest", "numbers", "resume_folder", "save"]
