"""A job outlives real `jupyter server` processes: SIGTERM one mid-job, SIGKILL the next, ask a third.

Each server is a subprocess on 127.0.0.1 with a token, the extension, fake GPUs and the same
store; everything is checked over REST.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from .helpers import wait_until

TOKEN = "restart-test-token"
LOOP = """\
import os, sys, time
i = 0
while not os.path.exists(sys.argv[1]):
    i += 1
    print(f"line {i}", flush=True)
    time.sleep(0.1)
print("last line", flush=True)
"""


class Server:
    """One `jupyter server` subprocess with the extension on a free port."""

    def __init__(self, base: Path, root: Path, store: Path, name: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/jupyter-artifacts/api/"
        self.log = base / f"{name}.log"
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(base / "runtime"), "JUPYTER_CONFIG_DIR": str(base / "config"),
               "PYTHONUNBUFFERED": "1"}
        args = [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}",
                f"--ServerApp.root_dir={root}", f"--ArtifactsApp.root_url={store}", "--ArtifactsApp.gpus=fake:2"]
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
                                         headers={"Authorization": f"token {TOKEN}"})
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


def test_a_job_survives_server_restarts_with_its_logs_and_gpu(tmp_path):
    root, store, gate = tmp_path / "root", tmp_path / "store", tmp_path / "gate"
    (root / "work").mkdir(parents=True)
    (root / "work" / "loop.py").write_text(LOOP)
    servers = []
    try:
        first = Server(tmp_path, root, store, "first")
        servers.append(first)
        job = first.ok("jobs", {"type": "training", "name": "survivor", "command": f"loop.py {gate}",
                                "workdir": "work", "resources": {"gpus": 1}}, expect=201)
        job_id = job["id"]
        read, offset = first.read_log(job_id, 0, "line 3")
        first.end(signal.SIGTERM)
        assert first.proc.returncode is not None

        second = Server(tmp_path, root, store, "second")
        servers.append(second)
        shown = second.ok(f"jobs/{job_id}")
        assert shown["state"] == "running", shown
        held = [d for d in second.ok("gpus")["devices"] if not d["free"]]
        assert [d["holder"]["job_id"] for d in held] == [job_id]
        last_line = int(re.findall(r"line (\d+)", read)[-1])
        more, offset = second.read_log(job_id, offset, f"line {last_line + 3}")
        read += more
        second.end(signal.SIGKILL)
        assert second.proc.returncode == -signal.SIGKILL

        third = Server(tmp_path, root, store, "third")
        servers.append(third)
        assert third.ok(f"jobs/{job_id}")["state"] == "running"
        assert [d["holder"]["job_id"] for d in third.ok("gpus")["devices"] if not d["free"]] == [job_id]
        gate.touch()
        deadline = time.monotonic() + 60
        while True:
            chunk = third.ok(f"jobs/{job_id}/logs?offset={offset}")
            read, offset = read + chunk["text"], chunk["offset"]
            if chunk["finished"]:
                break
            assert time.monotonic() < deadline, f"the log did not finish: {read[-500:]!r}"
            time.sleep(0.05)
        job = wait_until(lambda: (j := third.ok(f"jobs/{job_id}"))["state"] != "running" and j, timeout=30,
                         what="the job to end")
        assert job["state"] == "finished" and job["error"] is None, job
        assert job["workers"][0]["exit_code"] == 0
        assert [s for s, _ in job["history"]] == ["queued", "running", "finished"]
        # the log read across three servers is the whole log, and the worker's lines are all there
        assert read == third.ok(f"jobs/{job_id}/logs?offset=0")["text"]
        numbered = [int(n) for n in re.findall(r"^line (\d+)$", read, re.M)]
        assert numbered == list(range(1, len(numbered) + 1)) and len(numbered) > last_line + 3
        assert "last line\n" in read and "[job] worker 0 finished" in read
        assert all(d["free"] for d in third.ok("gpus")["devices"])
    finally:
        gate.touch()  # the worker ends whatever happened above
        for server in servers:
            if server.proc.poll() is None:
                server.end(signal.SIGKILL)
