"""A real Ray cluster on 127.0.0.1, for the Ray tests and benchmarks/bench_ray.py.

A head (`ray start --head`) and a second raylet (`ray start --address`), each with one pretend GPU
(two raylets on one machine both hand out GPU 0), each with its own JUPYTER_DATA_DIR (so each
node keeps its own catalog and blob cache, as separate machines would) and its own dashboard agent
port; their temp dir is one of their own. Each `ray start --block` runs in a session of its own
and is ended by its process group, then any process left whose command line names the temp dir
(`ray stop` would end every Ray process of the machine).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalRayCluster:
    """`nodes` raylets with `gpus` pretend GPUs each; `env` is what the nodes' processes see (the
    store root's credentials and endpoint: each node of a real cluster has its own)."""

    def __init__(self, base: Path, env: dict[str, str], nodes: int = 2, gpus: int = 1, cpus: int = 2) -> None:
        self.base = base
        self.env = {k: v for k, v in env.items() if not k.startswith(("JUPYTER_", "RAY_"))}
        bin_dir = os.path.dirname(sys.executable)
        self.env["PATH"] = bin_dir + os.pathsep + self.env.get("PATH", "")  # `python` is this environment's
        self.ray = shutil.which("ray", path=bin_dir) or "ray"
        self.count, self.gpus, self.cpus = nodes, gpus, cpus
        self.temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
        self.gcs_port, self.dashboard_port = free_port(), free_port()
        self.address = f"http://127.0.0.1:{self.dashboard_port}"
        self.procs: list[subprocess.Popen] = []
        self.data_dirs: list[Path] = []  # each node's JUPYTER_DATA_DIR

    def _node(self, index: int) -> subprocess.Popen:
        """Start node `index` (0: the head): a `ray start --block` in a session of its own."""
        data = self.base / f"node{index}"
        data.mkdir(parents=True, exist_ok=True)
        role = (("--head", f"--port={self.gcs_port}", "--dashboard-host=127.0.0.1",
                 f"--dashboard-port={self.dashboard_port}", f"--temp-dir={self.temp}") if index == 0
                else (f"--address=127.0.0.1:{self.gcs_port}",))
        with open(self.base / f"node{index}.log", "ab") as log:
            return subprocess.Popen(
                [self.ray, "start", "--block", f"--num-gpus={self.gpus}", f"--num-cpus={self.cpus}",
                 "--object-store-memory=100000000", "--disable-usage-stats", "--node-ip-address=127.0.0.1",
                 f"--dashboard-agent-listen-port={free_port()}", *role],
                env={**self.env, "JUPYTER_DATA_DIR": str(data)}, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)

    def start(self, timeout: float = 180, attempts: int = 3) -> "LocalRayCluster":
        """The head, then (once its GCS answers) the other nodes; a node that gives up (Ray gives a
        raylet 30 s to register, which a loaded machine can miss) is started again, `attempts` times."""
        self.data_dirs = [self.base / f"node{i}" for i in range(self.count)]
        self.procs = [self._node(0)]
        deadline = time.monotonic() + timeout
        while not _answers(self.gcs_port):
            self._check(deadline, self.procs[0].poll() is None)
            time.sleep(0.2)
        self.procs += [self._node(i) for i in range(1, self.count)]
        tries = [1] * self.count
        while True:
            try:
                if len(self.nodes()) >= self.count:
                    return self
            except OSError:
                pass
            for index, proc in enumerate(self.procs):
                if proc.poll() is not None:
                    self._check(deadline, index > 0 and tries[index] < attempts)
                    _end_group(proc)
                    tries[index] += 1
                    self.procs[index] = self._node(index)
            self._check(deadline, True)
            time.sleep(0.5)

    def _check(self, deadline: float, going: bool) -> None:
        """Give up (the nodes' logs in the error) when a node cannot come up or time is out."""
        if going and time.monotonic() < deadline:
            return
        logs = "\n".join((self.base / f"node{i}.log").read_text(errors="replace")[-2000:]
                         for i in range(len(self.procs)))
        self.stop()
        raise RuntimeError(f"the Ray cluster did not come up with {self.count} nodes:\n{logs}")

    def nodes(self) -> list[dict]:
        with urllib.request.urlopen(f"{self.address}/api/v0/nodes", timeout=5) as response:
            found = json.loads(response.read())["data"]["result"]["result"]
        return [n for n in found if n["state"] == "ALIVE"]

    def stop(self) -> None:
        """End each raylet by its process group, then whatever still names the temp dir."""
        for proc in self.procs:
            _end_group(proc)
        for _ in range(50):
            left = [pid for pid in _pids() if self.temp in _cmdline(pid)]
            if not left:
                break
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        shutil.rmtree(self.temp, ignore_errors=True)


def _end_group(proc: subprocess.Popen) -> None:
    """SIGTERM to a `ray start` and its process group, then SIGKILL to what is left of the group
    (`ray start --block` may take long over SIGTERM)."""
    for sig, wait in ((signal.SIGTERM, 2), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            pass


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
