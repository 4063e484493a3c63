#!/usr/bin/env python3
"""The product's own job path on this host's real GPUs, in one short run that prints what it saw.

1. the GPU inventory the jobs use (NVML, else nvidia-smi) and each device's memory;
2. a store in a temporary folder holding a dataset made here, which the jobs read through
   `artifact://` (so their outputs record it as an input);
3. one job per GPU, submitted at once (`JobManager.submit`, one GPU each): a Lightning fit on CUDA
   with `ArtifactsCheckpoint` (every epoch saved with `val_loss`), its model written to ML_OUTPUT_PATH;
4. per job: the GPU it was given and what torch saw there, the checkpoints saved, what the GC kept
   (the best by val_loss and the latest), the output artifact and its inputs;
5. with --save-mib N, benchmarks/bench_torch_save.py on that machine (threaded BLAKE3 where cores
   are spare, unlike a 2-core machine).

Exits 1 when a check fails; with $OUT set (the device tool), also writes $OUT/gpu_check.json.
`--cpu` runs the same path on a simulated GPU with a CPU fit, to try the script where no GPU is.

On a lent GPU machine, whose image has torch, lightning, fsspec and nvidia-ml-py but not blake3 and
reaches no registry: once, here, in the repository's root

    echo /.whl/ >> .git/info/exclude
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \\
        --platform manylinux_2_17_x86_64 -d .whl blake3==1.0.11

then run it there with carry [".whl"]:

    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl && \\
    PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 python3 benchmarks/gpu_check.py --save-mib 2048
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

EPOCHS = 3
FIT = '''
import os, time
import fsspec
import torch
import lightning as L
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset
from jupyter_artifacts.integrations.lightning import ArtifactsCheckpoint

ACCELERATOR = os.environ["CHECK_ACCELERATOR"]
if ACCELERATOR == "cuda":
    assert torch.cuda.is_available(), "torch sees no CUDA device"
    print(f"[check] CUDA_VISIBLE_DEVICES={os.environ['CUDA_VISIBLE_DEVICES']} torch sees "
          f"{torch.cuda.device_count()} device(s): {torch.cuda.get_device_name(0)}", flush=True)
with fsspec.open("artifact://dataset/gpu-check-data/data.pt") as f:  # read from the store, no copy
    data = torch.load(f)
split = len(data["y"]) * 7 // 8
train = TensorDataset(data["X"][:split], data["y"][:split])
val = TensorDataset(data["X"][split:], data["y"][split:])


class Model(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(256, 2048), torch.nn.ReLU(), torch.nn.Linear(2048, 2048),
                                       torch.nn.ReLU(), torch.nn.Linear(2048, 10))

    def training_step(self, batch, _):
        x, target = batch
        loss = F.cross_entropy(self.net(x), target)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, _):
        x, target = batch
        self.log("val_loss", F.cross_entropy(self.net(x), target))

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=1e-3)


model = Model()
trainer = L.Trainer(max_epochs=int(os.environ["CHECK_EPOCHS"]), accelerator=ACCELERATOR, devices=1, logger=False,
                    enable_progress_bar=False, enable_model_summary=False,
                    callbacks=[ArtifactsCheckpoint(monitor="val_loss", save_last=True, save_top_k=-1)])
started = time.perf_counter()
trainer.fit(model, DataLoader(train, batch_size=1024, shuffle=True), DataLoader(val, batch_size=4096))
print(f"[check] fit of {trainer.global_step} steps on {next(model.parameters()).device} in "
      f"{time.perf_counter() - started:.1f} s", flush=True)
torch.save(model.state_dict(), os.path.join(os.environ["ML_OUTPUT_PATH"], "model.pt"))
'''


def make_data(folder: str) -> None:
    """A classification set with structure to learn: 10 classes around random centres."""
    import torch

    generator = torch.Generator().manual_seed(0)
    centres = torch.randn(10, 256, generator=generator) * 0.08  # overlapping classes: a loss to improve
    y = torch.randint(0, 10, (65536,), generator=generator)
    X = centres[y] + torch.randn(65536, 256, generator=generator)
    os.makedirs(folder, exist_ok=True)
    torch.save({"X": X, "y": y}, os.path.join(folder, "data.pt"))


def check_job(store, job: dict, seen: dict) -> list[str]:
    """What is wrong with one ended job, as lines (none: it did what it should)."""
    problems = []
    worker = job["workers"][0]
    if job["state"] != "finished":
        problems.append(f"{job['name']}: {job['state']}: {job['error']}")
    saved = job["checkpoints"]
    if len(saved) != 2 * EPOCHS:
        problems.append(f"{job['name']}: {len(saved)} checkpoints saved, not {2 * EPOCHS} (each epoch's and last)")
    kept = [c for c in saved if not c["deleted"]]
    with_loss = [c for c in saved if "val_loss" in c["metrics"]]
    best = min(with_loss, key=lambda c: c["metrics"]["val_loss"]) if with_loss else None
    latest = max(saved, key=lambda c: (c["step"], c["created_at"])) if saved else None
    if best is None or latest is None or {c["id"] for c in kept} != {best["id"], latest["id"]}:
        problems.append(f"{job['name']}: GC kept {[c['reference'] for c in kept]}, not the best and the latest")
    if not worker["output"]:
        problems.append(f"{job['name']}: no output artifact")
    else:
        inputs = store.get(worker["output"]["id"]).inputs
        if not any(i.get("role") == "read" and i.get("reference", "").startswith("gpu-check-data") for i in inputs):
            problems.append(f"{job['name']}: its output does not record the dataset read through artifact://")
    if seen["accelerator"] == "cuda" and not any(line.startswith("[check] CUDA_VISIBLE_DEVICES") for line in
                                                 job["check_lines"]):
        problems.append(f"{job['name']}: the worker did not report its CUDA device")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu", action="store_true", help="a simulated GPU and a CPU fit (no GPU here)")
    parser.add_argument("--save-mib", type=int, default=0, help="also run bench_torch_save.py with this many MiB")
    parser.add_argument("--timeout", type=float, default=420, help="seconds to wait for the jobs (default 420)")
    args = parser.parse_args()

    from jupyter_artifacts.jobs import JobManager
    from jupyter_artifacts.jobs.gpus import detect
    from jupyter_artifacts.store import Store

    started = time.time()
    inventory = detect("fake:1" if args.cpu else "auto")
    seen: dict = {"inventory": inventory.to_dict(), "accelerator": "cpu" if args.cpu else "cuda", "jobs": []}
    print(f"inventory ({inventory.source}): {inventory.count} GPU(s)")
    used = inventory.memory_used()
    for d in inventory.devices:
        memory = f"{d.memory_total / 2**30:.0f} GiB" if d.memory_total else "?"
        print(f"  GPU {d.index}: {d.name}, {memory}, {used.get(d.index, 0) / 2**30:.1f} GiB in use, {d.uuid}")
    if not inventory.count or (inventory.source == "fake" and not args.cpu):
        print("no GPU found: nothing to check (--cpu runs the same path on a simulated one)")
        return 1

    base = tempfile.mkdtemp(prefix="gpu-check-")
    store = Store(root=os.path.join(base, "store"))
    make_data(os.path.join(base, "data"))
    store.create("dataset", "gpu-check-data", os.path.join(base, "data"))
    with open(os.path.join(base, "fit.py"), "w") as handle:
        handle.write(FIT)
    jobs = JobManager(store, inventory=inventory)
    env = {"CHECK_ACCELERATOR": seen["accelerator"], "CHECK_EPOCHS": str(EPOCHS)}
    submitted = [jobs.submit({"type": "training", "name": f"gpu-check-{d.index}", "command": "fit.py",
                              "workdir": base, "gpus": 1, "metric": "val_loss", "env": env})
                 for d in inventory.devices]
    print(f"submitted {len(submitted)} job(s), one per GPU, at {time.time() - started:.1f} s")
    problems = []
    for job in submitted:
        ended = jobs.wait(job.id, timeout=args.timeout).to_dict()
        log = "".join(jobs.logged(job.id))
        ended["check_lines"] = [line for line in log.splitlines() if line.startswith("[check]")]
        worker = ended["workers"][0]
        print(f"\n{ended['name']}: {ended['state']} on GPU {worker['gpus']} in "
              f"{(worker['ended_at'] or time.time()) - (worker['started_at'] or started):.1f} s")
        for line in ended["check_lines"]:
            print(f"  {line}")
        for c in sorted(ended["checkpoints"], key=lambda c: c["created_at"]):
            print(f"  checkpoint step {c['step']} epoch {c['metrics'].get('epoch')} val_loss "
                  f"{c['metrics'].get('val_loss', float('nan')):.4f} {'deleted by GC' if c['deleted'] else 'kept'}")
        print(f"  output: {worker['output']['reference'] if worker['output'] else None}")
        if ended["state"] != "finished":
            print("  log tail:\n    " + "\n    ".join(log.splitlines()[-25:]))
        problems += check_job(store, ended, seen)
        seen["jobs"].append({k: ended[k] for k in ("id", "name", "state", "error", "checkpoints", "gc_result",
                                                   "check_lines")} | {"gpus": worker["gpus"]})
    gpus = [tuple(j["gpus"] or ()) for j in seen["jobs"]]
    if len(set(gpus)) != len(gpus):
        problems.append(f"two jobs shared a GPU: {gpus}")
    if args.save_mib:
        bench = subprocess.run([sys.executable, os.path.join(HERE, "bench_torch_save.py"), "--mib", str(args.save_mib)],
                               capture_output=True, text=True, check=False)
        print("\n" + "\n".join(line for line in bench.stdout.splitlines() if not line.startswith("[checkpoint]")))
        seen["bench_torch_save"] = bench.stdout
        if bench.returncode:
            problems.append(f"bench_torch_save exited {bench.returncode}: {bench.stderr[-500:]}")
    seen.update(problems=problems, seconds=round(time.time() - started, 1))
    if os.environ.get("OUT"):
        with open(os.path.join(os.environ["OUT"], "gpu_check.json"), "w") as handle:
            json.dump(seen, handle, indent=1, default=str)
    print(f"\n{'ALL CHECKS PASSED' if not problems else 'PROBLEMS:'} in {seen['seconds']} s")
    for line in problems:
        print(f"  {line}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
