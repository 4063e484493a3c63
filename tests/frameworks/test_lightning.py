"""PyTorch Lightning with artifacts: real fits on the CPU, inside jobs (ArtifactsCheckpoint saving the
job's checkpoints with val_loss, GC keeping the best, a failed job continued with --resume) and
outside one (a plain script's checkpoints, resumed from an artifact:// URL)."""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import run_job, saved

FIT = '''
import os, tempfile
import torch
import lightning as L
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset
from jupyter_artifacts.integrations.lightning import ArtifactsCheckpoint, resume_path

torch.manual_seed(0)
X = torch.randn(256, 8)
y = (X.sum(1, keepdim=True) > 0).float()
CRASH_AT = int(os.environ.get("CRASH_AT_EPOCH", "-1"))
FLIP_FROM = int(os.environ.get("FLIP_FROM_EPOCH", "-1"))


class Model(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Linear(8, 1)

    def training_step(self, batch, _):
        if self.current_epoch == CRASH_AT:
            os._exit(3)  # the machine went away
        x, target = batch
        if 0 <= FLIP_FROM <= self.current_epoch:
            target = 1 - target  # trained on wrong labels from then on: validation gets worse
        loss = F.binary_cross_entropy_with_logits(self.net(x), target)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, _):
        x, target = batch
        self.log("val_loss", F.binary_cross_entropy_with_logits(self.net(x), target))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.5)


data = DataLoader(TensorDataset(X, y), batch_size=64)
checkpoint = ArtifactsCheckpoint(dirpath=tempfile.mkdtemp(dir="."), monitor="val_loss", save_last=True,
                                 save_top_k=int(os.environ.get("TOP_K", "1")), name=os.environ.get("NAME"))
trainer = L.Trainer(max_epochs=int(os.environ.get("EPOCHS", "4")), callbacks=[checkpoint], logger=False,
                    enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")
start = resume_path(os.environ.get("RESUME_FROM"))
print(f"starting from {start}", flush=True)
trainer.fit(Model(), data, data, ckpt_path=start)
print(f"saved {checkpoint.saved}", flush=True)
'''


def test_a_fit_in_a_job_saves_its_checkpoints_and_gc_keeps_the_best(cli, project):
    (project / "fit.py").write_text(FIT)
    job = run_job(cli, "fit", "--command", "fit.py", "--metric", "val_loss", "--env", "FLIP_FROM_EPOCH=2",
                  "--env", "TOP_K=-1")
    checkpoints = saved(job)
    # every epoch: its own file and last.ckpt, each with the step, the epoch and the logged metrics
    assert [(c["step"], c["metrics"]["epoch"]) for c in checkpoints] == [(s, s // 4 - 1) for s in (4, 4, 8, 8, 12, 12,
                                                                                                    16, 16)]
    assert all({"val_loss", "train_loss"} <= set(c["metrics"]) for c in checkpoints)
    losses = [c["metrics"]["val_loss"] for c in checkpoints]
    assert min(losses) == losses[2] < losses[0] and losses[7] > losses[2]  # worse after the flip
    # Determined's rule on val_loss (smaller is better): the worker's best and its latest stay
    best, latest = checkpoints[2], checkpoints[7]
    assert {c["id"] for c in checkpoints if not c["deleted"]} == {best["id"], latest["id"]}
    assert job["gc_result"]["metric"] == "val_loss" and len(job["gc_result"]["deleted"]) == 6
    assert list(cli.json("checkpoint", "show", best["id"])["manifest"]) == ["epoch=1-step=8.ckpt"]
    kept = cli.json("checkpoint", "show", latest["id"])
    assert list(kept["manifest"]) == ["last.ckpt"]
    assert kept["metadata"]["step"] == 16 and kept["metadata"]["metrics"]["val_loss"] == losses[7]
    assert kept["produced_by"]["job_id"] == job["id"]
    # each validation's metrics were reported to the job as well
    assert job["workers"][0]["last_metrics"]["metrics"]["val_loss"] == losses[7]


def test_a_failed_job_continues_from_its_last_checkpoint_with_resume(cli, project):
    (project / "fit.py").write_text(FIT)
    failed = run_job(cli, "fit", "--command", "fit.py", "--metric", "val_loss", "--env", "CRASH_AT_EPOCH=2",
                     finished=False)
    assert failed["state"] == "failed" and "exited with code 3" in failed["error"]
    last = saved(failed)[-1]
    assert last["step"] == 8 and not last["deleted"]  # GC keeps a worker's latest

    resumed = run_job(cli, "fit", "--command", "fit.py", "--metric", "val_loss", "--resume")
    folder = os.path.join(resumed["workers"][0]["log_path"].rsplit("/", 1)[0], "checkpoints", "resume")
    assert f"starting from {folder}/last.ckpt" in resumed["log"]
    assert "Restored all states from the checkpoint" in resumed["log"]
    assert [c["step"] for c in saved(resumed)] == [12, 12, 16, 16]  # epochs 2 and 3 only: it went on
    item = next(i for i in resumed["inputs"] if i.get("resume"))
    assert (item["id"], item["worker"], item["resumed_job"]) == (last["id"], 0, failed["id"])
    lineage = cli.json("checkpoint", "show", saved(resumed)[-1]["id"])["inputs"]
    assert {"id": last["id"], "role": "checkpoint", "reference": last["reference"]} in lineage
    # the checkpoint it continued from is attached to the new job: the old job's GC keeps it
    plan = cli.json("job", "gc-policy", failed["id"], "--save-trial-latest", "0", "--save-trial-best", "0",
                    "--dry-run")
    assert last["id"] in {p["id"] for p in plan["protected"]}


def test_resume_says_in_one_line_what_it_cannot_continue(cli, project):
    assert "No job 'never'" in cli.fail("job", "create", "training", "never", "--command", "true", "--resume")
    run_job(cli, "plain", "--command", "true")
    assert "left no checkpoint to continue from" in cli.fail("job", "create", "training", "again", "--command", "true",
                                                             "--resume", "plain")


def test_a_script_outside_a_job_saves_versions_and_resumes_from_a_url(cli, project, store_root):
    (project / "fit.py").write_text(FIT)
    env = {**cli.env, "NAME": "lit"}
    first = subprocess.run([sys.executable, "fit.py"], cwd=project, env=env, capture_output=True, text=True,
                           timeout=300, check=False)
    assert first.returncode == 0, first.stderr[-3000:]
    versions = {a["version"]: a for a in cli.json("checkpoint", "list")}
    assert sorted(versions) == list(range(1, 9))  # each epoch improves: its file and last.ckpt
    assert versions[7]["aliases"] == ["best"]
    assert versions[8]["metadata"]["step"] == 16 and versions[8]["metadata"]["metrics"]["epoch"] == 3

    again = subprocess.run([sys.executable, "fit.py"], cwd=project, capture_output=True, text=True, timeout=300,
                           env={**env, "EPOCHS": "5", "RESUME_FROM": "lit:v8"}, check=False)
    assert again.returncode == 0, again.stderr[-3000:]
    source = f"artifact://checkpoint/{versions[8]['id']}/last.ckpt"
    assert f"starting from {source}" in again.stdout and "Restored all states" in again.stdout + again.stderr
    newest = cli.json("checkpoint", "show", "lit")
    assert newest["metadata"]["step"] == 20  # epoch 4 alone: it went on from step 16
    assert {"id": versions[8]["id"], "kind": "checkpoint", "reference": "lit:v8", "role": "read"} in newest["inputs"]
