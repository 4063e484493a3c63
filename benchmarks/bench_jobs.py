#!/usr/bin/env python3
"""How long from `job create` to the worker's first line of user code, with the kernel's environment.

Each run submits a one-worker job asking for one (simulated) GPU whose command is a script whose
first line writes `time.time()` to a file; the figure is that time minus the time just before the
submission. Jobs run one after another, so none waits in the queue. Two ways are measured:

  api   JobManager.submit() in this process (what a notebook kernel or the Jupyter server does)
  cli   `jupyter-artifacts job create ...` as a subprocess (includes the CLI's own start-up)

The target is a median under 300 ms. Installed packages carry compiled bytecode; where the
environment forbids writing it (PYTHONDONTWRITEBYTECODE), the benchmark gives its processes a
bytecode cache in its temporary folder (PYTHONPYCACHEPREFIX) unless --no-bytecode-cache is given,
so that every run is not also timing the compilation of the package's sources. The CLI's bare
start-up (`jupyter-artifacts --version`, which loads every command module) is printed too.

    python benchmarks/bench_jobs.py              # 20 runs of each
    python benchmarks/bench_jobs.py --runs 50
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

TARGET_MS = 300.0
FIRST_LINE = "import time; open({path!r}, 'w').write(repr(time.time()))\n"


def wait_for(path: str, timeout: float = 30.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path) as handle:
                text = handle.read()
            if text:
                return float(text)
        except FileNotFoundError:
            pass
        time.sleep(0.002)
    raise SystemExit(f"the worker never wrote {path}")


def run(mode: str, runs: int, base: str) -> list[float]:
    from jupyter_artifacts.jobs import JobManager
    from jupyter_artifacts.store import Store

    root = os.path.join(base, f"store-{mode}")
    work = os.path.join(base, f"work-{mode}")
    os.makedirs(work, exist_ok=True)
    env = {**os.environ, "JUPYTER_ARTIFACTS_ROOT": root, "JUPYTER_ARTIFACTS_GPUS": "fake:2"}
    jobs = JobManager(Store(root=root), inventory="fake:2")
    samples = []
    for n in range(runs + 1):  # the first run warms caches and is not counted
        marker = os.path.join(work, f"first-{n}.txt")
        script = os.path.join(work, f"first_{n}.py")
        with open(script, "w") as handle:
            handle.write(FIRST_LINE.format(path=marker))
        spec = {"type": "training", "name": f"bench-{mode}", "command": script, "gpus": 1, "workdir": work}
        started = time.time()
        if mode == "api":
            job_id = jobs.submit(spec).id
        else:
            proc = subprocess.run([sys.executable, "-m", "jupyter_artifacts.cli.main", "job", "create", "training",
                                   f"bench-{mode}", "--command", script, "--gpus", "1"],
                                  cwd=work, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise SystemExit(proc.stderr)
            job_id = proc.stdout.strip()
        first = wait_for(marker)
        if n:
            samples.append((first - started) * 1000)
        job = jobs.wait(job_id, timeout=60)
        if job.state != "finished":
            raise SystemExit(f"benchmark job {job_id} ended {job.state}: {job.error}")
    return samples


def describe(mode: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    median = statistics.median(samples)
    verdict = "under" if median < TARGET_MS else "OVER"
    return (f"{mode}: median {median:.0f} ms ({verdict} the {TARGET_MS:.0f} ms target), min {ordered[0]:.0f} ms, "
            f"p90 {p90:.0f} ms, max {ordered[-1]:.0f} ms over {len(samples)} runs\n"
            f"     all (ms): {' '.join(f'{s:.0f}' for s in samples)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--mode", choices=("api", "cli", "both"), default="both")
    parser.add_argument("--no-bytecode-cache", action="store_true", help="leave PYTHONDONTWRITEBYTECODE as it is")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} CPU(s); job create -> first line of user code")
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as base:
        if os.environ.get("PYTHONDONTWRITEBYTECODE") and not args.no_bytecode_cache:
            os.environ.pop("PYTHONDONTWRITEBYTECODE")
            os.environ["PYTHONPYCACHEPREFIX"] = os.path.join(base, "pycache")
            print(f"bytecode cache: {os.environ['PYTHONPYCACHEPREFIX']} (PYTHONDONTWRITEBYTECODE was set)")
        if args.mode in ("cli", "both"):
            startup = []
            for _ in range(6):
                began = time.time()
                subprocess.run([sys.executable, "-m", "jupyter_artifacts.cli.main", "--version"], capture_output=True)
                startup.append((time.time() - began) * 1000)
            print(f"cli start-up alone (jupyter-artifacts --version): median {statistics.median(startup[1:]):.0f} ms")
        for mode in ("api", "cli") if args.mode == "both" else (args.mode,):
            samples = run(mode, args.runs, base)
            print(describe(mode, samples), flush=True)
            failed |= statistics.median(samples) >= TARGET_MS
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
