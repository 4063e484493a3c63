"""Keras 3: the model, saved at the end of each epoch, becomes a checkpoint artifact.

    from jupyter_artifacts.integrations.keras import ArtifactsCallback, resume_path

    model.fit(x, y, validation_split=0.1, epochs=10, callbacks=[ArtifactsCallback(monitor="val_loss")])
    model = keras.models.load_model(resume_path()) if resume_path() else build_model()

Each epoch the model is saved to `filepath` (a `.keras` file; `save_best_only`: only when `monitor`
improved) with the epoch's logs (`loss`, `val_loss`, ...), the step (the optimizer's iterations) and
the epoch: in a job as the job's checkpoint (its GC ranks them by `--metric`; the logs are reported
to the job), outside one as a version of checkpoint `name` (default: the model's name), the best so
far aliased `best`. Any backend (TensorFlow, JAX, PyTorch).
"""

from __future__ import annotations

import os

import keras

from .. import worker
from . import latest, numbers, resume_folder, save


class ArtifactsCallback(keras.callbacks.Callback):
    """Saves the model each epoch (or each improvement) as a checkpoint artifact."""

    def __init__(self, filepath: str = "checkpoint-{epoch}.keras", monitor: str = "val_loss", mode: str = "min",
                 save_best_only: bool = False, name: str | None = None) -> None:
        super().__init__()
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be min or max, not {mode!r}")
        self.filepath, self.monitor, self.mode = filepath, monitor, mode
        self.save_best_only, self.artifact_name = save_best_only, name
        self.best: float | None = None
        self.saved: list[str] = []  # the references saved outside a job, in order

    def _improved(self, value: float | None) -> bool:
        if value is None:
            return False
        if self.best is None or (value < self.best if self.mode == "min" else value > self.best):
            self.best = value
            return True
        return False

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        step = int(self.model.optimizer.iterations)
        metrics = {**numbers(logs or {}), "epoch": epoch + 1}
        if worker.in_job():
            worker.report(step=step, **metrics)
        improved = self._improved(metrics.get(self.monitor))
        if self.save_best_only and not improved:
            return
        path = os.path.abspath(self.filepath.format(**metrics))
        fresh = f"{path}.{os.getpid()}.keras"  # a new file renamed into place: never rewritten in place,
        self.model.save(fresh)                  # so a job links it rather than copy it
        os.replace(fresh, path)
        reference = save(path, step, metrics, self.artifact_name or self.model.name, best=improved)
        if reference:
            self.saved.append(reference)


def resume_path(ref: str | None = None) -> str | None:
    """The `.keras` file for `keras.models.load_model(...)`; None when there is none.

    In a job: in the checkpoint `worker.resume_path(ref)` gives (the one `--resume` attached, else
    the newest attached). Outside a job: with `ref`, that checkpoint attached to the notebook (Keras
    reads a local file); without, in the newest attached one.
    """
    folder = resume_folder(ref)
    found = [name for name in os.listdir(folder) if name.endswith(".keras")] if folder else []
    return os.path.join(folder, latest(found)) if found else None


__all__ = ["ArtifactsCallback", "resume_path"]
