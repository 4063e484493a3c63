"""`make demo`: save a sample models/ folder twice and show the two versions and what changed.

Runs the real CLI against the default store (under the Jupyter data dir, or
$JUPYTER_ARTIFACTS_ROOT), printing each command first so it can be repeated by hand.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
import time


def run(*args: str, cwd: str) -> None:
    print(f"\n$ jupyter artifacts {shlex.join(args)}", flush=True)
    subprocess.run([sys.executable, "-m", "jupyter_artifacts.cli.main", *args], cwd=cwd, check=True)


def write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)


def main() -> None:
    name = f"demo-classifier-{time.strftime('%Y%m%d-%H%M%S')}"
    with tempfile.TemporaryDirectory(prefix="jupyter-artifacts-demo-") as work:
        models = os.path.join(work, "models")
        write(os.path.join(models, "model.yml"), "layers: 3\nactivation: relu\n")
        write(os.path.join(models, "weights", "layer0.bin"), "0" * 100_000)
        write(os.path.join(models, "README.md"), "A tiny demo model.\n")
        print(f"A sample models/ folder is in {models}")
        run("checkpoint", "create", name, "models", "--alias", "baseline", "--meta", "epochs=1", cwd=work)
        write(os.path.join(models, "model.yml"), "layers: 4\nactivation: gelu\n")
        write(os.path.join(models, "metrics.json"), '{"accuracy": 0.93}\n')
        run("checkpoint", "create", name, "models", "--meta", "epochs=5", cwd=work)
        run("checkpoint", "list", "--name", name, cwd=work)
        run("checkpoint", "diff", f"{name}:baseline", name, cwd=work)
        run("checkpoint", "show", name, cwd=work)
        run("verify", f"{name}:v2", cwd=work)
        run("status", cwd=work)


if __name__ == "__main__":
    main()
