"""PyTorch Lightning: every checkpoint Lightning saves becomes a checkpoint artifact.

    from jupyter_artifacts.integrations.lightning import ArtifactsCheckpoint, resume_path

    checkpoint = ArtifactsCheckpoint(monitor="val_loss", save_last=True)   # ModelCheckpoint's arguments
    trainer = L.Trainer(max_epochs=10, callbacks=[checkpoint])
    trainer.fit(model, data, ckpt_path=resume_path())   # None: from scratch

`ArtifactsCheckpoint` is Lightning's own `ModelCheckpoint` (same arguments, same files), so the
best (by `monitor`) and the last are chosen as Lightning chooses them; each file it writes is then
saved with `val_loss` and the other logged metrics, the step and the epoch. In a job they are the
job's checkpoints, which its GC ranks by `--metric`, and the logged metrics are reported to the
job at each validation; outside a job each is a version of checkpoint `name` (the best also gets
the alias `best`), with what the notebook worked from as its inputs.

Works with `lightning` (`import lightning as L`) and the older `pytorch_lightning` package: the
callback is made from whichever the process uses.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from .. import worker
from . import latest, numbers, save


def _lightning():
    """`lightning.pytorch`, or `pytorch_lightning` when only that one is in use: a Trainer accepts
    only callbacks of its own package."""
    if "pytorch_lightning" in sys.modules and "lightning.pytorch" not in sys.modules:
        import pytorch_lightning as pl
        return pl
    try:
        import lightning.pytorch as pl
    except ImportError:
        import pytorch_lightning as pl
    return pl


pl = _lightning()


class ArtifactsCheckpoint(pl.callbacks.ModelCheckpoint):
    """Lightning's `ModelCheckpoint`, whose every saved file is also saved as a checkpoint artifact.

    `name`: the checkpoint's name outside a job (default: the LightningModule's class name); inside
    a job the job names it. Files must be local (`dirpath` a folder, not a URL).
    """

    def __init__(self, *args: Any, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.dirpath and "://" in str(self.dirpath) and not str(self.dirpath).startswith("file://"):
            raise ValueError(f"ArtifactsCheckpoint saves local files: give a folder as dirpath, not {self.dirpath}.")
        self.artifact_name = name
        self.saved: list[str] = []  # the references saved outside a job, in order

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if worker.in_job() and trainer.is_global_zero and not trainer.sanity_checking:
            metrics = numbers(trainer.callback_metrics)
            if metrics:
                worker.report(step=trainer.global_step, **{**metrics, "epoch": trainer.current_epoch})
        super().on_validation_end(trainer, pl_module)

    def _save_checkpoint(self, trainer: pl.Trainer, filepath: str) -> None:
        super()._save_checkpoint(trainer, filepath)
        if not trainer.is_global_zero:
            return
        metrics = {**numbers(trainer.callback_metrics), "epoch": trainer.current_epoch}
        best = bool(self.best_model_path) and os.path.abspath(filepath) == os.path.abspath(self.best_model_path)
        reference = save(filepath, trainer.global_step, metrics,
                         self.artifact_name or type(trainer.lightning_module).__name__, best=best)
        if reference:
            self.saved.append(reference)


def resume_path(ref: str | None = None) -> str | None:
    """The checkpoint for `trainer.fit(..., ckpt_path=...)`; None when there is none (start afresh).

    In a job: the `.ckpt` file of the checkpoint `worker.resume_path(ref)` gives (the one `--resume`
    attached, else the newest attached). Outside a job: with `ref` (NAME, NAME:vN, NAME:ALIAS, an
    id), its `.ckpt` file as an `artifact://` URL, which Lightning reads from the store without a
    copy (and the notebook's lineage records); without, the notebook's newest attached checkpoint.
    """
    if ref is not None and not worker.in_job():
        from ..filesystem import ArtifactFileSystem, url

        fs = ArtifactFileSystem()
        artifact = fs.store.resolve(ref, "checkpoint")
        files = [f for f in fs.store.files(artifact.id) if f.endswith(".ckpt")]
        if not files:
            raise FileNotFoundError(f"Checkpoint {artifact.reference} holds no .ckpt file; resume from a checkpoint "
                                    "that ArtifactsCheckpoint saved.")
        return url("checkpoint", artifact.id, latest(files, "last.ckpt"))
    folder = worker.resume_path(ref)
    if folder is None:
        return None
    files = [os.path.relpath(os.path.join(top, f), folder) for top, _dirs, names in os.walk(folder)
             for f in names if f.endswith(".ckpt")]
    return os.path.join(folder, latest(files, "last.ckpt")) if files else None


__all__ = ["ArtifactsCheckpoint", "resume_path"]
