"""Shared fixtures: a store in a temporary root, and the CLI run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
