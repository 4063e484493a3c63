#!/usr/bin/env python3
"""How long from `job create` to the worker's first line on a Ray cluster, against a bare `ray job
submit` of the same command, in the same run.

Starts moto's S3 server (the store root: a bucket) and a Ray cluster on 127.0.0.1 (one node, two
pretend GPUs; tests/shared/raycluster.py), then alternates, one job at a time so none waits:

  ours  `jupyter-artifacts job create training ... --executor ray --gpus 1 --command "python first.py OUT"`
  bare  `ray job submit --no-wait --entrypoint-num-gpus 1 --working-dir W -- python first.py OUT`

Both ship the same working folder and run the same script, whose first line writes `time.time()`
to OUT; each figure is that time minus the time just before the command started (both CLIs' own
start-up included). Also printed, from Ray's own record of each job: submission to first line
(Ray's floor, and ours with this project's supervisor on the node) and, for ours, create to
submission (the CLI, the queue's look at the cluster, importing Ray's client in the supervisor).

The target: the median of ours within 1.5 times the median of bare.

    python benchmarks/bench_ray.py            # 10 runs of each
    python benchmarks/bench_ray.py --runs 20 --keep DIR
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_jobs import wait_for  # noqa: E402

TARGET = 1.5
FIRST_LINE = "import sys, time; open(sys.argv[1], 'w').write(repr(time.time()))\n"


def ray_job(address: str, sid: str) -> dict:
    with urllib.request.urlopen(f"{address}/api/jobs/{sid}", timeout=10) as response:
        return json.loads(response.read())


def wait_ended(address: str, sid: str, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            job = ray_job(address, sid)
            if job["status"] in ("SUCCEEDED", "FAILED", "STOPPED"):
                return job
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"Ray job {sid} did not end")


def main() -> int:
    from bench_shared import Moto
    from tests.shared.raycluster import LocalRayCluster

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--keep", help="keep the working folder here")
    args = parser.parse_args()
    base = Path(args.keep or tempfile.mkdtemp(prefix="bench-ray-"))
    base.mkdir(parents=True, exist_ok=True)
    aws = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
    moto = Moto(base / "moto.log")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_", "RAY_"))}, **aws,
           "AWS_ENDPOINT_URL": moto.url}
    cluster = None
    try:
        import fsspec

        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        fsspec.filesystem("s3", endpoint_url=moto.url, key="testing", secret="testing").mkdir(bucket)
        started = time.monotonic()
        cluster = LocalRayCluster(base / "ray", env, nodes=1, gpus=2, cpus=4).start()
        print(f"Ray cluster up in {time.monotonic() - started:.1f} s at {cluster.address}", flush=True)
        work = base / "work"
        work.mkdir(exist_ok=True)
        (work / "first.py").write_text(FIRST_LINE)
        host = {**env, "JUPYTER_DATA_DIR": str(base / "host"), "JUPYTER_ARTIFACTS_ROOT": f"s3://{bucket}/root",
                "JUPYTER_ARTIFACTS_EXECUTOR": "ray", "RAY_ADDRESS": cluster.address}
        ray_cli = shutil.which("ray", path=os.path.dirname(sys.executable)) or "ray"
        ours, bare, ours_ray, bare_ray, ours_submit = [], [], [], [], []
        for i in range(args.runs + 1):  # the first of each warms Ray (its worker pool, the working folder's package)
            out = base / f"ours-{i}.txt"
            t0 = time.time()
            proc = subprocess.run([sys.executable, "-m", "jupyter_artifacts.cli.main", "job", "create", "training",
                                   f"bench-{i}", "--gpus", "1", "--workdir", str(work), "--command",
                                   f"python first.py {out}"], env=host, capture_output=True, text=True)
            if proc.returncode:
                raise SystemExit(proc.stderr)
            first = wait_for(str(out), timeout=120.0)
            took = first - t0
            job = wait_ended(cluster.address, f"jupyter-artifacts-{proc.stdout.strip()}-0")
            subprocess.run([sys.executable, "-m", "jupyter_artifacts.cli.main", "job", "logs", proc.stdout.strip(),
                            "--follow"], env=host, capture_output=True)  # its supervisor done: the GPU free
            if i:
                ours.append(took)
                ours_ray.append(first - job["start_time"] / 1000)
                ours_submit.append(job["start_time"] / 1000 - t0)

            out, sid = base / f"bare-{i}.txt", f"bare-{uuid.uuid4().hex[:12]}"
            t0 = time.time()
            proc = subprocess.run([ray_cli, "job", "submit", "--no-wait", "--submission-id", sid,
                                   "--entrypoint-num-gpus", "1", "--working-dir", str(work), "--", "python",
                                   "first.py", str(out)], env={**env, "RAY_ADDRESS": cluster.address},
                                  capture_output=True, text=True)
            if proc.returncode:
                raise SystemExit(proc.stderr)
            first = wait_for(str(out), timeout=120.0)
            job = wait_ended(cluster.address, sid)
            if i:
                bare.append(first - t0)
                bare_ray.append(first - job["start_time"] / 1000)
            print(f"run {i}{' (warm-up)' if not i else ''}: ours {took:.2f} s, bare {first - t0:.2f} s", flush=True)
    finally:
        if cluster is not None:
            cluster.stop()
        moto.stop()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)

    med = statistics.median
    ratio = med(ours) / med(bare)
    print(f"\njob create to the worker's first line, median of {args.runs}:")
    print(f"  ours (jupyter-artifacts job create --executor ray)   {med(ours):6.2f} s")
    print(f"  bare (ray job submit, same command and folder)       {med(bare):6.2f} s")
    print(f"  of which Ray's submission to first line: ours {med(ours_ray):.2f} s (with this project's node "
          f"supervisor), bare {med(bare_ray):.2f} s; ours from create to submission {med(ours_submit):.2f} s")
    ok = ratio <= TARGET
    print(f"  ratio {ratio:.2f} (target at most {TARGET}): {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
