"""Building the worker's environment: a virtual environment from the job's requirements.txt, cached
by the interpreter and the file's content and reused by later jobs (one build at a time per key)."""

from __future__ import annotations

import os

from .context import StageFailed, Worker


def env_key(python: str, requirements: str) -> str:
    """The cache key of the environment built by `python` from this requirements.txt text."""
    import hashlib

    return hashlib.sha256((python + "\0" + requirements).encode()).hexdigest()[:20]


def build_env(worker: Worker) -> None:
    """Build (or reuse) the environment; the worker then runs with its Python and its bin/ on PATH.
    pip's output goes to the job's log; a failed build fails the worker."""
    import shutil
    import subprocess

    text = worker.spec.requirements
    key = env_key(worker.python, text)
    layout = worker.layout
    env_dir = layout.env(key)
    os.makedirs(layout.envs, exist_ok=True)
    with layout.env_lock(key):
        if os.path.exists(os.path.join(env_dir, ".ready")):
            worker.log(f"reusing the environment built from requirements.txt ({key})")
        else:
            worker.log(f"building an environment from requirements.txt ({key})")
            shutil.rmtree(env_dir, ignore_errors=True)
            req = env_dir + ".requirements.txt"
            with open(req, "w", encoding="utf-8") as handle:
                handle.write(text)
            env_python = os.path.join(env_dir, "bin", "python")
            for step in ([worker.python, "-m", "venv", env_dir],
                         [env_python, "-m", "pip", "install", "--disable-pip-version-check", "-r", req]):
                worker.check_stop()
                worker.log("$ " + " ".join(step))
                with open(worker.folder.log, "ab") as out:
                    rc = subprocess.call(step, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         cwd=worker.folder.folder)
                if rc != 0:
                    shutil.rmtree(env_dir, ignore_errors=True)
                    raise StageFailed(f"building the environment failed ({step[2] if step[1] == '-m' else step[0]} "
                                      f"exited with {rc}); see the job's log")
            with open(os.path.join(env_dir, ".ready"), "w") as handle:
                handle.write(text)
    worker.python = os.path.join(env_dir, "bin", "python")
    worker.env_bin = os.path.join(env_dir, "bin")
