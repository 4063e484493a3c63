"""The Binder recipe installs a JupyterLab with the panel enabled, on a machine that has never built it,
and JupyterLab opens on the demo notebook with two simulated GPUs.

The recipe's install steps (the pip part of binder/environment.yml, then binder/postBuild) run in a
fresh virtual environment on a copy of the repository's files, without node_modules or built
assets; Node comes from the machine as conda's nodejs would on Binder. Then `binder/start jupyter
lab` runs there as Binder would start it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
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


def _plain(proc: subprocess.CompletedProcess) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)


def _get(url: str, token: str) -> tuple[int, dict, bytes]:
    """One request, redirects not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _start_lab(bin_dir: Path, checkout: Path, env: dict, log: Path) -> tuple[subprocess.Popen, str, str]:
    """`binder/start jupyter lab` as Binder runs it: in the checkout, through the recipe's start script."""
    port, token = _free_port(), secrets.token_hex(8)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["bash", "binder/start", str(bin_dir / "jupyter"), "lab", "--no-browser", "--allow-root",
             "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={token}"],
            cwd=checkout, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        try:
            if _get(f"{url}api/status", token)[0] == 200:
                return proc, url, token
        except OSError:
            pass
        time.sleep(0.3)
    proc.terminate()
    raise AssertionError(f"jupyter lab did not answer in 90 s:\n{log.read_text(errors='replace')[-3000:]}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_binder_recipe_installs_the_panel_and_opens_the_demo(tmp_path):
    assert shutil.which("node"), "the recipe builds the panel with Node.js: install it (apt-get install nodejs)"
    checkout = tmp_path / "repo"
    _copy_checkout(checkout)
    # A clone has neither: the recipe must build the panel itself.
    assert not (checkout / "labextension" / "node_modules").exists()
    assert not (checkout / "jupyter_artifacts" / "labextension").exists()

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / "bin"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)}
    for key in ("PYTHONPATH", "JUPYTER_PATH", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTERLAB_DIR",
                "JUPYTER_ARTIFACTS_GPUS"):
        env.pop(key, None)
    env["HOME"] = str(tmp_path / "home")  # no user-level Jupyter config or data leaks in

    requirements = _pip_requirements((checkout / "binder" / "environment.yml").read_text())
    assert requirements, "binder/environment.yml lists its pip packages"
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", *requirements], cwd=checkout, env=env,
                   check=True)
    build = subprocess.run(["bash", "binder/postBuild"], cwd=checkout, env=env, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]

    output = _plain(subprocess.run([str(bin_dir / "jupyter"), "labextension", "list"], env=env,
                                   capture_output=True, text=True, check=True))
    assert str(venv / "share" / "jupyter" / "labextensions") in output
    assert re.search(r"jupyter-artifacts v\S+ enabled OK", output), output
    servers = _plain(subprocess.run([str(bin_dir / "jupyter"), "server", "extension", "list"], env=env,
                                    capture_output=True, text=True, check=True))
    assert re.search(r"jupyter_artifacts enabled", servers), servers
    assert re.search(r"jupyter_artifacts \S+ OK", servers), servers  # it imports and loads, not only listed

    env["JUPYTER_ARTIFACTS_ROOT"] = str(tmp_path / "store")
    proc, url, token = _start_lab(bin_dir, checkout, env, tmp_path / "lab.log")
    try:
        status, headers, _ = _get(url, token)
        assert status == 302, (status, headers)
        assert urllib.parse.urlsplit(headers["Location"]).path == "/lab/tree/notebooks/demo.ipynb", headers
        status, _, page = _get(f"{url}lab/tree/notebooks/demo.ipynb", token)
        assert status == 200 and b'"jupyter-artifacts"' in page  # the panel is among the lab's extensions
        status, _, body = _get(f"{url}api/contents/notebooks/demo.ipynb?content=0", token)
        assert status == 200 and json.loads(body)["type"] == "notebook"
        status, _, body = _get(f"{url}jupyter-artifacts/api/gpus", token)
        gpus = json.loads(body)
        assert status == 200 and gpus["count"] == len(gpus["devices"]) == 2 and gpus["source"].startswith("fake"), gpus
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
