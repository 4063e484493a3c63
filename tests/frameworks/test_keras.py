"""Keras 3 (on the PyTorch backend, on the CPU) with artifacts: ArtifactsCallback saving each epoch's
model in a job, the GC keeping the best val_loss, and a job continued with --resume."""

from __future__ import annotations

from .conftest import run_job, saved

FIT = '''
import os
os.environ.setdefault("KERAS_BACKEND", "torch")
import keras
import numpy as np
from jupyter_artifacts.integrations.keras import ArtifactsCallback, resume_path

rng = np.random.default_rng(0)
x = rng.normal(size=(512, 8)).astype("float32")
y = (x.sum(axis=1) > 0).astype("float32")
start = resume_path()
if start:
    model = keras.models.load_model(start)
    first = int(model.optimizer.iterations) // 8
else:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
    first = 0
print(f"starting at epoch {first} from {start}", flush=True)
model.fit(x, y, batch_size=56, validation_split=0.125, epochs=int(os.environ.get("EPOCHS", "3")),
          initial_epoch=first, verbose=0, callbacks=[ArtifactsCallback(monitor="val_loss")])
'''


def test_keras_in_a_job_saves_each_epoch_and_resume_goes_on(cli, project):
    (project / "fit.py").write_text(FIT)
    job = run_job(cli, "keras", "--command", "fit.py", "--metric", "val_loss")
    checkpoints = saved(job)
    assert [(c["step"], c["metrics"]["epoch"]) for c in checkpoints] == [(8, 1), (16, 2), (24, 3)]
    assert all({"loss", "val_loss"} <= set(c["metrics"]) for c in checkpoints)
    best = min(checkpoints, key=lambda c: c["metrics"]["val_loss"])
    assert {c["id"] for c in checkpoints if not c["deleted"]} == {best["id"], checkpoints[-1]["id"]}
    assert list(cli.json("checkpoint", "show", checkpoints[-1]["id"])["manifest"]) == ["checkpoint-3.keras"]

    resumed = run_job(cli, "keras", "--command", "fit.py", "--metric", "val_loss", "--resume", "--env", "EPOCHS=5")
    assert "starting at epoch 3 from" in resumed["log"] and "checkpoints/resume/checkpoint-3.keras" in resumed["log"]
    assert [(c["step"], c["metrics"]["epoch"]) for c in saved(resumed)] == [(32, 4), (40, 5)]
