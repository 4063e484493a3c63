"""The Binder recipe installs a JupyterLab with the panel enabled, on a machine that has never built it.

The recipe's install steps (the pip part of binder/environment.yml, then binder/postBuild) run in a
fresh virtual environment on a copy of the repository's files, without node_modules or built
assets; Node comes from the machine as conda's nodejs would on Binder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _pip_requirements(environment: str) -> list[str]:
    """The `pip:` list of a conda environment file (no YAML library needed for this shape)."""
    requirements, in_pip = [], False
    for line in environment.splitlines():
        stripped = line.strip()
        if stripped.startswith("- pip:"):
            in_pip = True
            continue
        if in_pip:
            if stripped.startswith("- ") and line.startswith(" " * 6):
                requirements.append(stripped[2:].strip())
            elif stripped:
                in_pip = False
    return requirements


def _copy_checkout(dest: Path) -> None:
    """The files git knows or would add (what a clone has), nothing ignored."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if not source.is_file():
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


@pytest.mark.skipif(shutil.which("node") is None, reason="the recipe builds the panel with Node")
def test_binder_recipe_installs_the_panel(tmp_path):
    checkout = tmp_path / "repo"
    _copy_checkout(checkout)
    assert not (checkout / "labextension" / "node_modules").exists()
    assert not (checkout / "jupyter_artifacts" / "labextension").exists()

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / "bin"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)}
    for key in ("PYTHONPATH", "JUPYTER_PATH", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTERLAB_DIR"):
        env.pop(key, None)
    env["HOME"] = str(tmp_path / "home")  # no user-level Jupyter config or data leaks in

    requirements = _pip_requirements((checkout / "binder" / "environment.yml").read_text())
    assert requirements, "binder/environment.yml lists its pip packages"
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", *requirements], cwd=checkout, env=env,
                   check=True)
    build = subprocess.run(["bash", "binder/postBuild"], cwd=checkout, env=env, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]

    listed = subprocess.run([str(bin_dir / "jupyter"), "labextension", "list"], env=env, capture_output=True,
                            text=True, check=True)
    output = re.sub(r"\x1b\[[0-9;]*m", "", listed.stdout + listed.stderr)
    assert str(venv / "share" / "jupyter" / "labextensions") in output
    assert re.search(r"jupyter-artifacts v\S+ enabled OK", output), output

    servers = subprocess.run([str(bin_dir / "jupyter"), "server", "extension", "list"], env=env,
                             capture_output=True, text=True, check=True)
    server_output = re.sub(r"\x1b\[[0-9;]*m", "", servers.stdout + servers.stderr)
    assert re.search(r"jupyter_artifacts enabled", server_output), server_output

    overrides = json.loads((venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    config = json.loads((venv / "etc" / "jupyter" / "jupyter_server_config.d" / "jupyter_artifacts_binder.json")
                        .read_text())
    assert config["ArtifactsApp"]["gpus"] == "fake:2"
    assert (checkout / "notebooks" / "demo.ipynb").exists()
