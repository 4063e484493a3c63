"""Running the worker's command: its environment and command line, then the wait, through an
`Executor` (where it runs): saved checkpoints become artifacts meanwhile, and a stop is passed on as
SIGTERM, then SIGKILL once the grace period is over."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable

from .. import outputs
from .context import Worker

RUN_POLL = 0.1  # seconds between looks at the worker, its checkpoints and stop requests
SHELL_CHARS = set(";&|<>()$`\\\n*?[]#~={}!")


class Executor:
    """Where a worker's command runs; `LocalExecutor` (local.py) forks it on this host in a cgroup of
    its own. Another executor (Ray, say) implements these methods and is named by the supervisor's
    `executor_class`: waiting in the queue, preparing, saving the outputs and ending stay as they are."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker

    def start(self, argv: list[str], env: dict[str, str]) -> None:
        """Start the command (it runs in the job's working folder, its output goes to the worker's log)."""
        raise NotImplementedError

    def wait(self, timeout: float) -> int | None:
        """Its exit code (negative: the signal that ended it) once it ended, else None after `timeout`."""
        raise NotImplementedError

    def signal(self, sig: int) -> None:
        """Send `sig` to every process the worker has."""
        raise NotImplementedError

    def alive(self) -> bool:
        """True while any process of the worker still runs."""
        raise NotImplementedError

    def end(self, report: bool = False) -> None:
        """Kill whatever is left of the worker and wait until it is gone: only then may its GPUs go to
        the next job. Called after it exited and whenever a stage fails; `report`: log what it found."""
        raise NotImplementedError

    def failure(self, rc: int) -> str | None:
        """Why it failed, where the executor knows better than its exit code (its memory limit)."""
        return None


def environment(worker: Worker) -> dict[str, str]:
    """The worker's environment: the supervisor's, the ML_* paths, its GPUs, the job's Python first
    on PATH, the worker helper importable, then the job's own variables. Makes ML_OUTPUT_PATH."""
    env = dict(os.environ)
    spec, info, folder = worker.spec, worker.info, worker.folder
    out_dir = folder.output(spec.output)
    os.makedirs(out_dir, exist_ok=True)
    worker.output_made = outputs.folder_id(out_dir)  # what is published must still be this folder
    env.update({
        "ML_JOB_ID": worker.job_id,
        "ML_JOB_NAME": spec.name,
        "ML_WORKER_INDEX": str(worker.idx),
        "ML_PARAMS_PATH": folder.params,
        "ML_OUTPUT_PATH": out_dir,
        "CUDA_VISIBLE_DEVICES": ",".join(str(d) for d in worker.visible_gpus()),
        "PYTHONUNBUFFERED": "1",
        "JUPYTER_ARTIFACTS_WORKER_DIR": folder.folder,
    })
    if info.has_input("model") or spec.output == "model":
        env["ML_MODEL_PATH"] = folder.model
    if info.has_input("checkpoint"):
        env["ML_CHECKPOINT_PATH"] = folder.checkpoints
    if info.has_input("dataset") or spec.data_manifest:
        env["ML_DATA_PATH"] = folder.data
    if worker.cpus:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(var, str(len(worker.cpus)))
    bin_dir = worker.env_bin or os.path.dirname(worker.python)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    if worker.env_bin:
        env["VIRTUAL_ENV"] = os.path.dirname(worker.env_bin)
    # The job's Python imports the package the supervisor runs (artifact:// URLs, the framework
    # integrations); another Python, or an environment built for the job, gets the helper alone.
    same = not worker.env_bin and os.path.realpath(worker.python) == os.path.realpath(sys.executable)
    package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), package if same else worker.layout.pylib)
                                        if p)
    env.update(spec.env or {})
    return env


def command(worker: Worker) -> list[str]:
    """The job's command as an argv: a script of the working folder (a .py one with the job's Python),
    a plain command line run directly (signals reach the program itself), else `/bin/sh -c`."""
    import shlex

    text = worker.spec.command.strip()
    workdir = worker.info.workdir
    try:
        words = shlex.split(text)
    except ValueError:
        words = []
    if words:
        script = os.path.join(workdir, os.path.expanduser(words[0]))
        if os.path.isfile(script):
            if script.endswith(".py"):
                return [worker.python, script, *words[1:]]
            if script.endswith(".sh") and not os.access(script, os.X_OK):
                return ["/bin/bash", script, *words[1:]]
            if os.access(script, os.X_OK):
                return [script, *words[1:]]
    if words and not any(c in text for c in SHELL_CHARS):
        return words
    return ["/bin/sh", "-c", text]


def run(worker: Worker, executor: Executor, tick: Callable[[], None]) -> int:
    """Start the command and wait until it ends, calling `tick` (checkpoints saved meanwhile) between
    looks; a stop sends SIGTERM, then SIGKILL after the job's grace period. Returns the exit code."""
    with open(worker.folder.params, "w", encoding="utf-8") as handle:
        json.dump(worker.row()["params"], handle, indent=2, sort_keys=True)
    env = environment(worker)
    executor.start(command(worker), env)
    stopping_since = None
    killed = False
    grace = float(worker.spec.stop_grace)
    last_db_check = time.time()
    while True:
        tick()
        rc = executor.wait(RUN_POLL)
        if rc is not None:
            break
        now = time.time()
        if not worker.stop_flag and now - last_db_check > 1.0:
            last_db_check = now
            worker.stop_flag = worker.stop_requested()
        if worker.stop_flag and stopping_since is None:
            stopping_since = now
            worker.log(f"stop requested: SIGTERM sent to worker {worker.idx}'s processes; "
                       f"SIGKILL in {grace:g} s if any is still running")
            executor.signal(signal.SIGTERM)
        if stopping_since is not None and not killed and now - stopping_since > grace:
            killed = True
            worker.log("grace period over: SIGKILL sent")
            executor.signal(signal.SIGKILL)
    if stopping_since is not None and not killed:
        # the leader is gone; give what it started the rest of the grace period to end
        while executor.alive() and time.time() - stopping_since <= grace:
            time.sleep(RUN_POLL)
        if executor.alive():
            worker.log("grace period over: SIGKILL sent")
    executor.end(report=True)  # children and daemons it left behind end with it
    tick()
    return rc


def exit_reason(worker: Worker, rc: int) -> str:
    """Why a worker failed, from its exit code alone: the signal that killed it, or the code."""
    if rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = f"signal {-rc}"
        return f"worker {worker.idx} was killed by {name}"
    return f"worker {worker.idx} exited with code {rc}"
