"""Schemathesis against a live `jupyter server` and the served OpenAPI document: no 5xx, ever."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from jupyter_artifacts.server.handlers.misc import OPENAPI_PATH

BASE_URL = "/base/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """`jupyter server` in a subprocess on 127.0.0.1 with a token, its root_dir and store in tmp."""

    def __init__(self, tmp: Path) -> None:
        self.root_dir = tmp / "root"
        self.root_dir.mkdir()
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.api = f"http://127.0.0.1:{self.port}{BASE_URL}jupyter-artifacts/api"
        config_dir = tmp / "config"
        config_dir.mkdir()
        (config_dir / "jupyter_server_config.json").write_text(json.dumps(
            {"ServerApp": {"jpserver_extensions": {"jupyter_artifacts": True}},
             # fuzzed jobs stay small: at most 2 workers each
             "ArtifactsApp": {"max_job_workers": 2}}))
        env = {**os.environ, "JUPYTER_ARTIFACTS_ROOT": str(tmp / "store"), "JUPYTER_CONFIG_DIR": str(config_dir),
               "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "JUPYTER_DATA_DIR": str(tmp / "data"),
               # no network: public checkpoints come from an (empty) mirror, GPUs are pretend ones
               "JUPYTER_ARTIFACTS_PUBLIC_MIRROR": str(tmp / "mirror"), "JUPYTER_ARTIFACTS_GPUS": "fake:2",
               # a fuzzed job's requirements fail at once instead of waiting on a package index
               "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        self.log = open(tmp / "server.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root", "--ip=127.0.0.1",
             f"--port={self.port}", f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root_dir}",
             f"--ServerApp.base_url={BASE_URL}", "--ServerApp.port_retries=0"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.log_path = tmp / "server.log"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter server exited:\n{self.log_path.read_text()}")
            try:
                if requests.get(f"{self.api}/status", headers=self.headers, timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"jupyter server did not start:\n{self.log_path.read_text()}")

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.api}/{path}", headers=self.headers, timeout=30, **kwargs)

    def wait_op(self, op: dict) -> dict:
        for _ in range(300):
            data = self.call("GET", f"operations/{op['id']}").json()
            if data["state"] in ("succeeded", "failed"):
                return data
            time.sleep(0.05)
        raise AssertionError(f"operation {op} did not finish")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture
def live_server(tmp_path: Path):
    server = LiveServer(tmp_path)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def seed(server: LiveServer) -> None:
    """The artifacts and files the document's examples name, so the happy paths are exercised too."""
    files = {"notebooks/train.ipynb": "{}", "notebooks/models/config.json": '{"layers": 2}',
             "notebooks/models/weights.bin": "w1", "notebooks/output/step-1.pt": "s1", "data/train/rows.csv": "1,2\n"}
    for rel, content in files.items():
        path = server.root_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    data = server.call("POST", "artifacts", json={"kind": "dataset", "name": "my-data", "source": "data/train"})
    assert data.status_code == 202, data.text
    assert server.wait_op(data.json())["state"] == "succeeded"
    for weights in ("w1", "w2"):
        (server.root_dir / "notebooks/models/weights.bin").write_text(weights)
        op = server.call("POST", "snapshots", json={"notebook": "notebooks/train.ipynb", "folder": "models",
                                                     "kind": "model", "name": "my-model"})
        assert op.status_code == 202, op.text
        assert server.wait_op(op.json())["state"] == "succeeded"


@pytest.mark.timeout(240)
def test_schemathesis_finds_no_server_errors(live_server: LiveServer, tmp_path: Path):
    seed(live_server)
    served = live_server.call("GET", "openapi.json")
    assert served.status_code == 200
    schema_file = tmp_path / "openapi.json"
    schema_file.write_text(served.text)
    st = shutil.which("st", path=os.path.dirname(sys.executable)) or "st"
    examples = os.environ.get("ARTIFACTS_SCHEMATHESIS_EXAMPLES", "25")
    proc = subprocess.run(
        [st, "run", str(schema_file), "--url", live_server.api, "-H", f"Authorization: token {live_server.token}",
         "--checks", "not_a_server_error", "--max-examples", examples, "--seed", "20240601",
         "--phases", "examples,coverage,fuzzing", "--workers", "1", "--no-shrink", "--request-timeout", "30",
         "--suppress-health-check", "all", "--warnings", "off"],
        capture_output=True, text=True, timeout=200, cwd=tmp_path)
    server_log = live_server.log_path.read_text()
    assert proc.returncode == 0, f"{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}\n--- server log ---\n{server_log[-4000:]}"
    at = server_log.find("Traceback")
    assert at < 0, server_log[max(0, at - 1500):at + 3000]
    # the served document is the packaged one, pointed at this server's base URL
    document, packaged = json.loads(served.text), json.loads(Path(OPENAPI_PATH).read_text())
    assert document["servers"] == [{"url": f"{BASE_URL}jupyter-artifacts/api"}]
    assert {**document, "servers": packaged["servers"]} == packaged
