"""Hugging Face Transformers: every `checkpoint-N` folder the Trainer saves becomes a checkpoint artifact.

    from jupyter_artifacts.integrations.transformers import ArtifactsCallback, resume_path

    trainer = Trainer(model=model, args=TrainingArguments("out", save_steps=500), train_dataset=data,
                      callbacks=[ArtifactsCallback()])
    trainer.train(resume_from_checkpoint=resume_path())   # None: from scratch

On each save (`on_save`) the folder the Trainer just wrote (weights, optimizer, scheduler, RNG and
trainer state) is saved with the metrics logged last (`loss`, `eval_loss`, ...), the step and the
epoch. In a job they are the job's checkpoints (its GC ranks them by `--metric`) and every log is
reported to the job; outside a job each is a version of checkpoint `name` (the Trainer's best, where
it tracks one, also gets the alias `best`), with what the notebook worked from as its inputs.
"""

from __future__ import annotations

import os
from typing import Any

from transformers import TrainerCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from .. import worker
from . import numbers, resume_folder, save


def last_logged(log_history: list[dict], step: int) -> dict:
    """The metrics logged up to `step`, the latest value of each (training and evaluation logs are
    separate entries)."""
    merged: dict = {}
    for entry in log_history:
        if entry.get("step", 0) <= step:
            merged.update(numbers(entry))
    merged.pop("step", None)
    return merged


class ArtifactsCallback(TrainerCallback):
    """Saves each checkpoint the Trainer writes as a checkpoint artifact.

    `name`: the checkpoint's name outside a job (default: the model's class name); inside a job the
    job names it.
    """

    def __init__(self, name: str | None = None) -> None:
        self.artifact_name = name
        self.saved: list[str] = []  # the references saved outside a job, in order

    def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any) -> None:
        if worker.in_job() and state.is_world_process_zero and logs:
            metrics = numbers(logs)
            if metrics:
                worker.report(step=state.global_step, **metrics)

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        folder = os.path.join(args.output_dir, f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}")
        if not os.path.isdir(folder):
            return  # a hyperparameter search's run folder: not where this trainer saves
        metrics = {**last_logged(state.log_history, state.global_step), "epoch": state.epoch}
        best = state.best_model_checkpoint is not None and \
            os.path.abspath(state.best_model_checkpoint) == os.path.abspath(folder)
        name = self.artifact_name or type(kwargs.get("model")).__name__
        reference = save(folder, state.global_step, metrics, name, best=best)
        if reference:
            self.saved.append(reference)


def resume_path(ref: str | None = None) -> str | None:
    """The folder for `trainer.train(resume_from_checkpoint=...)`; None when there is none.

    In a job: the checkpoint `worker.resume_path(ref)` gives (the one `--resume` attached, else the
    newest attached). Outside a job: with `ref`, that checkpoint attached to the notebook
    (`checkpoint/<name>/`, held while the kernel lives, an input of what it saves next, as
    `%attach_checkpoint` does: the Trainer reads a folder); without, the newest attached one.
    """
    return resume_folder(ref)


__all__ = ["ArtifactsCallback", "last_logged", "resume_path"]
