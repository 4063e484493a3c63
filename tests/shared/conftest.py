"""A team on one root: each host a separate data dir, every command a separate process.

The root is a bucket on a real S3-compatible server on 127.0.0.1 (moto's server mode) or one local
folder marked shared; each test runs against both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

LEASE_TTL = "3s"  # hosts that stop renewing a lease lose it quickly here


class Host:
    """One machine of the team: its own JUPYTER_DATA_DIR (catalog, stat cache, host id)."""

    def __init__(self, name: str, base: Path, root: str, env: dict[str, str]) -> None:
        self.name = name
        self.data = base / name
        self.data.mkdir(parents=True)
        self.cwd = self.data
        self.env = {**env, "JUPYTER_DATA_DIR": str(self.data), "JUPYTER_ARTIFACTS_ROOT": root,
                    "JUPYTER_ARTIFACTS_SYNC_INTERVAL": "0", "JUPYTER_ARTIFACTS_LEASE_TTL": LEASE_TTL,
                    "JUPYTER_ARTIFACTS_NO_FORK": "1", "JUPYTER_ARTIFACTS_GPUS": "fake:1"}

    def popen(self, *args: str, **kwargs) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "jupyter_artifacts.cli.main", *args], cwd=self.cwd,
                                env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)

    def run(self, *args: str, check: bool = True, timeout: float = 180) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "-m", "jupyter_artifacts.cli.main", *args], cwd=self.cwd,
                              env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"{self.name}: jupyter-artifacts {' '.join(args)} exited {proc.returncode}:\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc

    def json(self, *args: str):
        return json.loads(self.run(*args, "--json").stdout)

    def fail(self, *args: str) -> str:
        """A command that must fail with one line and no traceback; its stderr."""
        proc = self.run(*args, check=False)
        assert proc.returncode != 0, f"{self.name}: expected a failure, got:\n{proc.stdout}"
        assert "Traceback" not in proc.stderr, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        return lines[0]

    def names(self, kind: str = "dataset") -> list[str]:
        return sorted(f"{a['name']}:v{a['version']}" for a in self.json(kind, "list"))

    def store(self):
        """This host's store, in this process (for what the CLI does not show)."""
        from jupyter_artifacts.store import Store
        from jupyter_artifacts.store.settings import StoreSettings

        old = dict(os.environ)
        os.environ.update(self.env)
        try:
            return Store(StoreSettings.from_env())
        finally:
            os.environ.clear()
            os.environ.update(old)


class Team:
    """Hosts that share one root, and what the root holds."""

    def __init__(self, backend: str, base: Path, root: str, env: dict[str, str], inspect) -> None:
        self.backend, self.base, self.root, self.env = backend, base, root, env
        self.inspect = inspect  # relpath prefix -> list of keys in the root
        self.hosts: dict[str, Host] = {}

    def host(self, name: str) -> Host:
        if name not in self.hosts:
            self.hosts[name] = Host(name, self.base / "hosts", self.root, self.env)
        return self.hosts[name]

    def blobs(self) -> list[str]:
        return [k for k in self.inspect("objects/") if k.count("/") == 2]


def write_tree(base: Path, files: dict[str, bytes | str]) -> Path:
    for rel, content in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    base.mkdir(parents=True, exist_ok=True)
    return base


@pytest.fixture(params=["s3", "folder"])
def team(request, tmp_path, moto_server, aws_credentials) -> Team:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_")}
    if request.param == "s3":
        import fsspec

        bucket = f"team-{uuid.uuid4().hex[:12]}"
        fs = fsspec.filesystem("s3", endpoint_url=moto_server.url, skip_instance_cache=True)
        fs.mkdir(bucket)
        env["AWS_ENDPOINT_URL"] = moto_server.url
        os.environ["AWS_ENDPOINT_URL"] = moto_server.url  # for the in-process stores

        def inspect(prefix: str) -> list[str]:
            fs.invalidate_cache()
            try:
                return sorted(p[len(bucket) + len("/root/"):] for p in fs.find(f"{bucket}/root/{prefix}"))
            except FileNotFoundError:
                return []

        yield Team("s3", tmp_path, f"s3://{bucket}/root", env, inspect)
        os.environ.pop("AWS_ENDPOINT_URL", None)
        return
    root = tmp_path / "nfs" / "root"
    env["JUPYTER_ARTIFACTS_SHARED"] = "1"

    def inspect_folder(prefix: str) -> list[str]:
        base = root / prefix
        return sorted(str(p.relative_to(root)) for p in base.rglob("*") if p.is_file()) if base.exists() else []

    yield Team("folder", tmp_path, str(root), env, inspect_folder)


def wait_until(check, timeout: float = 60, what: str = "condition"):
    """Until `check()` is true; what it returned."""
    deadline = time.time() + timeout
    while not (value := check()):
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return value
