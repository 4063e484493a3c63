"""Hugging Face Transformers with artifacts: a real Trainer on the CPU (a tiny BERT built from a config,
data made here; nothing from a hub), saving each `checkpoint-N` folder as a checkpoint artifact
through ArtifactsCallback, then continued from the last one, in a job (--resume) and in a plain script."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import run_job, saved

TRAIN = '''
import os
import torch
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments
from jupyter_artifacts.integrations.transformers import ArtifactsCallback, resume_path

torch.manual_seed(0)
config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                    max_position_embeddings=16, num_labels=2)
ids = torch.randint(0, 50, (48, 8))
data = [{"input_ids": row, "attention_mask": torch.ones(8, dtype=torch.long), "labels": int(row[0] % 2)}
        for row in ids]
args = TrainingArguments(output_dir="out", max_steps=int(os.environ.get("STEPS", "6")), save_steps=3,
                         logging_steps=1, per_device_train_batch_size=8, report_to=[], use_cpu=True,
                         disable_tqdm=True)
trainer = Trainer(model=BertForSequenceClassification(config), args=args, train_dataset=data,
                  callbacks=[ArtifactsCallback(name=os.environ.get("NAME"))])
start = resume_path(os.environ.get("RESUME_FROM"))
print(f"starting from {start}", flush=True)
trainer.train(resume_from_checkpoint=start)
print(f"ended at step {trainer.state.global_step}", flush=True)
'''


def test_a_trainer_in_a_job_saves_each_checkpoint_and_resume_goes_on(cli, project):
    (project / "train.py").write_text(TRAIN)
    job = run_job(cli, "bert", "--command", "train.py", "--metric", "loss", "--save-trial-latest", "2")
    checkpoints = saved(job)
    assert [c["step"] for c in checkpoints] == [3, 6]  # save_steps=3 over 6 steps: two checkpoint artifacts
    assert not any(c["deleted"] for c in checkpoints)
    for c in checkpoints:
        assert set(c["metrics"]) >= {"loss", "learning_rate", "epoch"}
        shown = cli.json("checkpoint", "show", c["id"])
        assert {"model.safetensors", "trainer_state.json", "optimizer.pt", "config.json"} <= set(shown["manifest"])
    assert checkpoints[1]["metrics"]["epoch"] == 1.0
    assert job["workers"][0]["last_metrics"]["step"] == 6  # every log was reported to the job

    resumed = run_job(cli, "bert", "--command", "train.py", "--metric", "loss", "--resume", "--env", "STEPS=9")
    assert "checkpoints/resume" in resumed["log"] and "ended at step 9" in resumed["log"]
    assert [c["step"] for c in saved(resumed)] == [9]  # it went on from step 6: the next save is step 9's
    assert next(i for i in resumed["inputs"] if i.get("resume"))["id"] == checkpoints[1]["id"]
    state = json.loads(_file(cli, saved(resumed)[0]["id"], "trainer_state.json"))
    assert state["global_step"] == 9 and [e["step"] for e in state["log_history"] if "loss" in e] == list(range(1, 10))


def test_a_script_saves_versions_and_resumes_from_an_attached_checkpoint(cli, project):
    (project / "train.py").write_text(TRAIN)
    env = {**cli.env, "NAME": "bert"}
    first = subprocess.run([sys.executable, "train.py"], cwd=project, env=env, capture_output=True, text=True,
                           timeout=300, check=False)
    assert first.returncode == 0, first.stderr[-3000:]
    assert [(a["version"], a["metadata"]["step"]) for a in cli.json("checkpoint", "list")] == [(2, 6), (1, 3)]

    again = subprocess.run([sys.executable, "train.py"], cwd=project, env={**env, "STEPS": "9", "RESUME_FROM": "bert"},
                           capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"starting from {project / 'checkpoint' / 'bert'}" in again.stdout and "ended at step 9" in again.stdout
    newest = cli.json("checkpoint", "show", "bert")
    assert newest["version"] == 3 and newest["metadata"]["step"] == 9
    v2 = cli.json("checkpoint", "show", "bert:v2")
    assert {"id": v2["id"], "kind": "checkpoint", "reference": "bert:v2", "role": "attached"} in newest["inputs"]


def _file(cli, ref: str, path: str) -> str:
    """A file of an artifact, read through artifact:// in another process."""
    code = "import fsspec, sys; print(fsspec.open(sys.argv[1], 'rt').open().read())"
    proc = subprocess.run([sys.executable, "-c", code, f"artifact://checkpoint/{ref}/{path}"], env=cli.env,
                          capture_output=True, text=True, timeout=60, check=True)
    return proc.stdout
