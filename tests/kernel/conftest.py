"""An IPython shell with the extension loaded, in a notebook folder, against a store in a temp root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jupyter_artifacts.kernel import actions
from jupyter_artifacts.store import Store


@pytest.fixture(scope="session")
def ip():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_artifacts")
    return shell


class Notebook:
    """The notebook's folder, its store, and a way to run cells and read what they printed."""

    def __init__(self, ip, folder: Path, store: Store, capsys) -> None:
        self.ip = ip
        self.folder = folder
        self.store = store
        self.capsys = capsys

    def run(self, cell: str):
        """Run a cell that must succeed; return its stdout."""
        self.capsys.readouterr()
        result = self.ip.run_cell(cell)
        out = self.capsys.readouterr()
        if not result.success:
            raise AssertionError(f"cell failed: {result.error_before_exec or result.error_in_exec!r}\n{out.out}\n{out.err}")
        return out.out

    def fail(self, cell: str) -> str:
        """Run a cell that must fail with one readable line and no traceback; return that line."""
        self.capsys.readouterr()
        result = self.ip.run_cell(cell)
        out = self.capsys.readouterr()
        assert not result.success, f"expected failure:\n{out.out}"
        text = (out.out + out.err).strip()
        assert "Traceback" not in text, text
        assert len(text.splitlines()) == 1, text
        return text.replace("\x1b[31m", "").replace("\x1b[0m", "")

    def write(self, rel: str, content: str = "x") -> Path:
        path = self.folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        return path


@pytest.fixture
def nb(ip, tmp_path: Path, monkeypatch, capsys) -> Notebook:
    root = tmp_path / "store"
    folder = tmp_path / "notebook"
    folder.mkdir()
    monkeypatch.setenv("JUPYTER_ARTIFACTS_ROOT", str(root))
    monkeypatch.setenv("JUPYTER_ARTIFACTS_GPUS", "fake:2")
    for env in actions.PATH_ENV.values():
        monkeypatch.delenv(env, raising=False)
    monkeypatch.chdir(folder)
    previous = actions.set_session(actions.Session())
    notebook = Notebook(ip, folder, Store(root=str(root)), capsys)
    yield notebook
    current = actions.set_session(previous)
    if current is not None:
        current.detach_all()
    os.chdir(tmp_path)


@pytest.fixture
def sample(tmp_path: Path):
    """Write a folder outside the notebook from {relative path: text}."""

    def make(files: dict[str, str], name: str = "src") -> Path:
        base = tmp_path / name
        for rel, content in files.items():
            path = base / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        return base

    return make


PUBLIC_ID = "stable-diffusion-v2-1"


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch) -> Path:
    """A local mirror of the public catalog holding one small checkpoint (no internet needed)."""
    base = tmp_path / "mirror"
    folder = base / PUBLIC_ID
    folder.mkdir(parents=True)
    (folder / "v2-1_768-ema-pruned.safetensors").write_bytes(b"\0" * 1000)
    (folder / "README.md").write_text("A tiny stand-in for the public checkpoint.\n")
    monkeypatch.setenv("JUPYTER_ARTIFACTS_PUBLIC_MIRROR", str(base))
    return base
