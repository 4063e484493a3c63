"""A real `jupyter lab` (token, non-root base_url, fake GPUs) and Debian's Chromium driven by Playwright.

The server runs once per session on 127.0.0.1 with a temporary root folder, store, settings and
workspaces, so the tests never touch the user's own. Each test gets a fresh browser page on the
lab and saves a screenshot under test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("JUPYTER_ARTIFACTS_CHROMIUM", "/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
TOKEN = "browser-test-token"
BASE_URL = "/lab-base/"
PANEL_ID = "jupyter-artifacts-panel"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]

def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes minutes (installs into a fresh virtual environment)")


def _labextension_built() -> bool:
    from jupyter_core.paths import jupyter_path

    return any(os.path.exists(os.path.join(p, "labextensions", "jupyter-artifacts", "package.json"))
               for p in jupyter_path())


def missing_prerequisites() -> list[str]:
    """What `make test` installs that these tests need, each with the command that provides it."""
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Playwright for Python: run `make install` (pip install -e '.[test]')")
    if not os.path.exists(CHROMIUM):
        missing.append(f"Chromium at {CHROMIUM}: run `make browser-deps` (apt-get install chromium), "
                       "or set JUPYTER_ARTIFACTS_CHROMIUM")
    if not _labextension_built():
        missing.append("the jupyter-artifacts labextension: run `pip install -e .`, or `cd labextension && "
                       "jlpm build` then `jupyter labextension develop --overwrite .`")
    return missing


@pytest.fixture(scope="session")
def prerequisites() -> None:
    missing = missing_prerequisites()
    if missing:
        pytest.fail("The browser tests need " + "; ".join(missing), pytrace=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "execution_count": None, "id": "train", "metadata": {}, "outputs": [],
         "source": ["import os\n", "os.makedirs('models', exist_ok=True)\n",
                    "open('models/weights.bin', 'wb').write(os.urandom(1 << 20))"]},
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5,
}

TRAIN_SCRIPT = """\
import json, os, sys, time
steps = int(os.environ.get("STEPS", "600"))
for step in range(steps):
    print(f"step {step} loss {1.0 / (step + 1):.4f}", flush=True)
    time.sleep(0.2)
"""


REPORT_SCRIPT = """\
import time
from jupyter_artifacts import worker
lr = worker.params()["lr"]
for step in (1, 2, 3):
    worker.report(step, accuracy=round(lr * step, 3), loss=round(1 / (step * lr), 3))
    time.sleep(0.3)
"""


SWEEP_SCRIPT = """\
import os, tempfile, time
from jupyter_artifacts import worker
lr = worker.params()["lr"]
for step in (1, 2, 3):
    worker.report(step, accuracy=round(lr * step, 3), loss=round(1 / (step * lr), 3))
    path = os.path.join(tempfile.mkdtemp(), "weights.txt")
    with open(path, "w") as handle:
        handle.write(f"lr {lr} step {step}")
    worker.save_checkpoint(path, step=step)
    time.sleep(float(os.environ.get("STEP_SECONDS", "0.2")))
with open(os.path.join(os.environ["ML_OUTPUT_PATH"], "model.txt"), "w") as handle:
    handle.write(f"lr {lr}" * 100)
"""


def _write_root(root: Path) -> None:
    work = root / "work"
    (work / "models").mkdir(parents=True)
    (work / "train.ipynb").write_text(json.dumps(NOTEBOOK, indent=1))
    (work / "models" / "weights.bin").write_bytes(os.urandom(3 << 20))
    (work / "models" / "config.json").write_text(json.dumps({"layers": 4, "lr": 0.01}))
    (work / "train.py").write_text(TRAIN_SCRIPT)
    (work / "report metrics.py").write_text(REPORT_SCRIPT)
    (work / "sweep.py").write_text(SWEEP_SCRIPT)
    source = root / "data" / "ckpt_src"
    (source / "sub").mkdir(parents=True)
    (source / "model.pt").write_bytes(os.urandom(200_000))
    (source / "sub" / "notes.txt").write_text("a local folder saved as a checkpoint\n")


class Lab:
    def __init__(self, url: str, root: Path, store: Path, log: Path) -> None:
        self.url = url  # http://127.0.0.1:PORT/lab-base/
        self.root = root
        self.store = store
        self.log = log

    def api(self, path: str, method: str = "GET", body: dict | None = None) -> tuple[int, dict]:
        """Call the REST API directly (for setup and checks, not for what the UI is tested on)."""
        return self.request(f"jupyter-artifacts/api/{path}", method, body)

    def request(self, path: str, method: str = "GET", body: dict | None = None) -> tuple[int, dict]:
        """Any JSON route of the server, under its base URL."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method,
                                         headers={"Authorization": f"token {TOKEN}",
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def create(self, kind: str, name: str, source: str) -> dict:
        """The newest `name` of `kind`, created from a path in the root folder unless it exists."""
        status, found = self.api(f"artifacts/{urllib.parse.quote(name)}?kind={kind}")
        if status == 200:
            return found
        status, op = self.api("artifacts", "POST", {"kind": kind, "name": name, "source": source})
        assert status == 202, op
        done = self.wait_operation(op)
        assert done["state"] == "succeeded", done
        return done["result"]

    def wait_operation(self, op: dict, timeout: float = 60) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            status, op = self.api(f"operations/{op['id']}")
            if op.get("state") in ("succeeded", "failed"):
                return op
            time.sleep(0.2)
        raise AssertionError(f"operation {op} did not finish")


@contextmanager
def running_lab(base: Path, gpus: str = "fake:2", env: dict[str, str] | None = None) -> Iterator[Lab]:
    """`jupyter lab` on 127.0.0.1 with the token and base URL, over base/root and base/store, with
    its own settings and workspaces; stopped on the way out."""
    root, store, settings, workspaces = base / "root", base / "store", base / "settings", base / "workspaces"
    root.mkdir(exist_ok=True)
    # No news popup and no update check covering the page.
    notification = settings / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port = _free_port()
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings), "JUPYTERLAB_WORKSPACES_DIR": str(workspaces),
           "JUPYTER_ARTIFACTS_GPUS": gpus, "JUPYTER_ARTIFACTS_ROOT": str(store), "PYTHONUNBUFFERED": "1",
           **(env or {})}
    log = base / "jupyter-lab.log"
    args = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.base_url={BASE_URL}", f"--ServerApp.root_dir={root}",
            f"--ArtifactsApp.root_url={store}", f"--ArtifactsApp.gpus={gpus}", "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=root, env=env,
                                start_new_session=True)
    lab = Lab(f"http://127.0.0.1:{port}{BASE_URL}", root, store, log)
    try:
        deadline = time.time() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
            try:
                status, _ = lab.api("status")
                if status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"jupyter lab did not answer in 60 s:\n{log.read_text()[-4000:]}")
            time.sleep(0.2)
        yield lab
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if os.environ.get("JUPYTER_ARTIFACTS_KEEP_LOG"):
            shutil.copy(log, REPO / "test-artifacts" / f"{base.name}.log")


@pytest.fixture(scope="session")
def lab(tmp_path_factory) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("lab")
    _write_root(base / "root")
    with running_lab(base) as lab:
        yield lab


@pytest.fixture(scope="module")
def browser(prerequisites):
    """Playwright's sync API keeps an event loop running in this thread while it is open, which
    would break every later test that starts its own loop: so it lives for one module only."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextmanager
def lab_page(browser, lab: Lab, name: str):
    """A fresh page on the lab with the default layout, once it is ready; a screenshot named after the
    test when it ends. The page may read what it copies to the clipboard."""
    context = browser.new_context(viewport={"width": 1400, "height": 900},
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(20_000)
    # A fresh layout for each page (`reset`): views a previous test opened are not restored.
    page.goto(f"{lab.url}lab?reset&token={TOKEN}")
    page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
    # The splash screen goes once the saved layout is restored; clicks before then race with it
    # (a sidebar the restore opens is closed again by a click on its tab).
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60_000)
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    finally:
        context.close()


@pytest.fixture
def page(browser, lab, request):
    with lab_page(browser, lab, request.node.name) as page:
        yield page


def dialog_ready(page) -> None:
    """Wait until a dialog just shown has put the cursor in its form. It does so once its body has
    rendered, so text typed before then can land in whichever field it focuses."""
    page.wait_for_function("() => !!document.activeElement?.closest('.jp-Dialog .jp-Dialog-body')")


def expect_focused(locator) -> None:
    """Wait for the element to be the page's active element (the page itself need not have the
    window's focus, which Playwright's own to_be_focused also asks)."""
    locator.wait_for()
    locator.page.wait_for_function("el => el === document.activeElement", arg=locator.element_handle())


def accept_dialog(page, lab: Lab) -> None:
    """Press the dialog's accept button and wait for it to close; a dialog that stays (or
    reopens with an error) fails with its own text and the end of the server's log."""
    page.locator(".jp-Dialog .jp-mod-accept").click()
    try:
        page.locator(".jp-Dialog").wait_for(state="detached", timeout=30_000)
    except Exception:
        shown = page.locator(".jp-Dialog")
        text = shown.first.inner_text() if shown.count() else "(no dialog)"
        log = lab.log.read_text(errors="replace")[-3000:]
        raise AssertionError(f"the dialog did not close:\n{text}\n--- jupyter lab log ---\n{log}") from None


def browse(page, *folders: str):
    """Show the file browser at a folder under the root; returns its listing. The folder is opened by
    command, since clicks that open folders count towards a double-click on the row that takes their
    place, which opens that file."""
    path = "/".join(folders)
    page.evaluate("path => window.jupyterapp.commands.execute('filebrowser:go-to-path', {path})", path or "/")
    browser = page.locator("#filebrowser")
    browser.wait_for(state="visible")
    crumbs = browser.locator(".jp-BreadCrumbs-item")
    if folders:
        crumbs.filter(has_text=folders[-1]).wait_for()
    else:
        crumbs.first.wait_for(state="detached")
    return browser.locator(".jp-DirListing-content")


def open_panel(page):
    """Click the Artifacts tab of the left sidebar (unless the panel is already showing)."""
    panel = page.locator(f"#{PANEL_ID}")
    if not panel.is_visible():
        page.click(f'.jp-SideBar.jp-mod-left li[data-id="{PANEL_ID}"]')
    panel.wait_for(state="visible")
    return panel


def wait_job(lab: Lab, job_id: str, timeout: float = 90, settled: str = "gc") -> dict:
    """The job once it has ended and its supervisors are done: its log complete and (unless `settled`
    is "logs") its checkpoints collected."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, job = lab.api(f"jobs/{job_id}")
        assert status == 200, job
        logs = lab.api(f"jobs/{job_id}/logs?offset=0")[1]
        if logs.get("finished") and (settled == "logs" or job.get("gc_result")):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not end in {timeout} s")


@pytest.fixture(scope="session")
def sweep(lab) -> dict:
    """A finished grid job over two learning rates that took the checkpoint warm-input:v1 (alias best):
    each worker reported metrics over three steps, saved a checkpoint at each (the GC kept the best
    and latest: step 3) and an output checkpoint."""
    warm = lab.create("checkpoint", "warm-input", "work/models")
    assert lab.api(f"artifacts/{warm['reference']}/aliases?kind=checkpoint", "POST", {"alias": "best"})[0] == 200
    status, job = lab.api("jobs", "POST", {
        "type": "training", "name": "sweep", "command": "python work/sweep.py", "resources": {"gpus": 0},
        "checkpoints": [warm["reference"]], "hyperparameters": {"lr": [0.1, 0.2]}, "metric": "loss",
        "gc_policy": {"save_experiment_best": 0, "save_trial_best": 1, "save_trial_latest": 1}})
    assert status == 201, job
    return wait_job(lab, job["id"])


@contextmanager
def theme(lab: Lab, name: str) -> Iterator[None]:
    """JupyterLab's theme for the pages opened inside (set before they load), the light one after."""
    raw = json.dumps({"theme": name})
    assert lab.request("lab/api/settings/@jupyterlab/apputils-extension:themes", "PUT", {"raw": raw})[0] == 204
    try:
        yield
    finally:
        lab.request("lab/api/settings/@jupyterlab/apputils-extension:themes", "PUT", {"raw": "{}"})


def run_command(page, command: str, **args) -> None:
    """Start a JupyterLab command (what a menu or the palette would run), without waiting for it to
    end: a command that opens a dialog ends when the dialog closes."""
    page.evaluate("([id, args]) => { window.jupyterapp.commands.execute(id, args); }", [command, args])
