"""Shared fixtures: a store in a temporary root, and the CLI run as a real subprocess."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from jupyter_artifacts.store import Store


@pytest.fixture
def store_root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(store_root: Path) -> Store:
    return Store(root=str(store_root))


@pytest.fixture
def make_tree(tmp_path: Path):
    """Write a folder from {relative path: bytes or str}."""

    def make(files: dict[str, bytes | str], name: str = "models") -> Path:
        base = tmp_path / name
        for rel, content in files.items():
            path = base / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content.encode() if isinstance(content, str) else content)
        base.mkdir(parents=True, exist_ok=True)
        return base

    return make


def pytest_collection_modifyitems(items: list) -> None:
    """Browser tests last: the slowest, and the only ones that hold an event loop open."""
    items.sort(key=lambda item: "browser" in item.path.parts)


class CLI:
    """Runs `jupyter-artifacts` in a real subprocess against one store root."""

    def __init__(self, root: Path, cwd: Path) -> None:
        self.root = root
        self.cwd = cwd
        self.env = {**os.environ, "JUPYTER_ARTIFACTS_ROOT": str(root), "JUPYTER_ARTIFACTS_GPUS": "fake:2"}

    def run(self, *args: str, check: bool = True, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [sys.executable, "-m", "jupyter_artifacts.cli.main", *args],
            cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=timeout, **kwargs,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"jupyter-artifacts {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def json(self, *args: str) -> object:
        return json.loads(self.run(*args, "--json").stdout)

    def fail(self, *args: str, timeout: float = 120) -> str:
        """Run a command that must fail with one readable line and no traceback; return stderr."""
        proc = self.run(*args, check=False, timeout=timeout)
        assert proc.returncode != 0, f"expected failure, got success:\n{proc.stdout}"
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc.stderr.strip()


@pytest.fixture
def cli(store_root: Path, tmp_path: Path) -> CLI:
    return CLI(store_root, tmp_path)


# -- S3 (moto in server mode), for the sources and the shared-root tests --------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    """A real S3-compatible server on 127.0.0.1 (moto's server mode), started and ended here."""

    def __init__(self, log_path: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> "MotoServer":
        import moto  # noqa: F401 - a test dependency: fail here, clearly, if it is missing

        exe = shutil.which("moto_server", path=os.path.dirname(sys.executable)) or shutil.which("moto_server")
        cmd = [exe] if exe else [sys.executable, "-m", "moto.server"]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([*cmd, "-H", "127.0.0.1", "-p", str(self.port)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.stop()
                    pytest.fail(f"moto_server ({' '.join(cmd)}) did not start on port {self.port}:\n"
                                f"{self.log_path.read_text(errors='replace')[-2000:]}")
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def requests(self) -> int:
        """Requests answered so far (moto logs one line per request)."""
        return sum(1 for line in self.log_path.read_text(errors="replace").splitlines() if ' HTTP/1.1" ' in line)


@pytest.fixture
def new_moto_server(tmp_path):
    """Make moto servers of this test's own (to stop and restart); all are stopped at its end."""
    made: list[MotoServer] = []

    def make() -> MotoServer:
        made.append(MotoServer(tmp_path / f"moto-{len(made)}.log").start())
        return made[-1]

    yield make
    for server in made:
        server.stop()


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def moto_url(moto_server):
    return moto_server.url


@pytest.fixture
def aws_credentials(monkeypatch, tmp_path):
    """Dummy credentials and no shared config: nothing from the real machine is read."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)


# -- real `jupyter server` processes, for the tests of jobs that outlive the server ----------------
SERVER_TOKEN = "restart-test-token"


class JupyterServer:
    """One `jupyter server` subprocess with the extension on a free port, a token, two fake GPUs and
    the store at `store`; `env` replaces the environment, `args` are more command-line options."""

    def __init__(self, base: Path, root: Path, store: Path | str, name: str, env: dict[str, str] | None = None,
                 args: tuple[str, ...] = ()) -> None:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}/jupyter-artifacts/api/"
        self.log = base / f"{name}.log"
        env = {**(os.environ if env is None else env), "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
               "JUPYTER_CONFIG_DIR": str(base / "config"), "PYTHONUNBUFFERED": "1"}
        args = [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={SERVER_TOKEN}",
                f"--ServerApp.root_dir={root}", f"--ArtifactsApp.root_url={store}", "--ArtifactsApp.gpus=fake:2", *args]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=root, env=env,
                                         start_new_session=True)
        deadline = time.monotonic() + 90
        while True:
            assert self.proc.poll() is None, f"{name} exited {self.proc.returncode}:\n{self.log.read_text()[-3000:]}"
            try:
                if self.call("status")[0] == 200:
                    return
            except OSError:
                pass
            assert time.monotonic() < deadline, f"{name} did not answer:\n{self.log.read_text()[-3000:]}"
            time.sleep(0.2)

    def call(self, path: str, body: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(self.url + path, data=None if body is None else json.dumps(body).encode(),
                                         method="GET" if body is None else "POST",
                                         headers={"Authorization": f"token {SERVER_TOKEN}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def ok(self, path: str, body: dict | None = None, expect: int = 200) -> dict:
        status, data = self.call(path, body)
        assert status == expect, (path, status, data)
        return data

    def end(self, sig: int) -> None:
        self.proc.send_signal(sig)
        self.proc.wait(30)

    def read_log(self, job_id: str, offset: int, until: str) -> tuple[str, int]:
        """GET logs from `offset` on until the text read contains `until`."""
        text = ""
        deadline = time.monotonic() + 60
        while until not in text:
            chunk = self.ok(f"jobs/{job_id}/logs?offset={offset}")
            text, offset = text + chunk["text"], chunk["offset"]
            assert time.monotonic() < deadline, f"no {until!r} in the log after {text!r}"
            time.sleep(0.05)
        return text, offset



@pytest.fixture
def jupyter_server(tmp_path):
    """Start `JupyterServer`s (root dir, store, name[, env, args]); each still running is killed at the end."""
    started: list[JupyterServer] = []

    def start(root: Path, store: Path | str, name: str, **kwargs) -> JupyterServer:
        started.append(JupyterServer(tmp_path, root, store, name, **kwargs))
        return started[-1]

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.end(signal.SIGKILL)
