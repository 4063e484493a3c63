"""A dataset of 50,000 small files: streamed in batches, the same manifest and digest as a file at a
time would give; a damaged file found by verify; every path paged exactly once (CLI and REST)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_artifacts.store import Store
from jupyter_artifacts.store import snapshot
from jupyter_artifacts.store.digest import hash_file
from jupyter_artifacts.store.records import tree_digest

FILES = 50_000


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """50,000 files of 1 to 40 bytes, 500 a folder, a few links and an executable among them."""
    base = tmp_path_factory.mktemp("many") / "images"
    for i in range(FILES):
        folder = base / f"class-{i // 500:03d}"
        if i % 500 == 0:
            folder.mkdir(parents=True)
        (folder / f"img-{i:05d}.bin").write_bytes(f"{i}:".encode() * (1 + i % 13))
    os.symlink("class-000/img-00000.bin", base / "first")
    os.chmod(base / "class-007" / "img-03501.bin", 0o755)
    return base


def expected_manifest(folder: Path) -> dict[str, dict]:
    """The manifest as a plain walk, a file at a time, would make it."""
    manifest: dict[str, dict] = {}
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, folder)
            st = os.lstat(path)
            if os.path.islink(path):
                manifest[rel] = {"link": os.readlink(path), "mode": 0o777}
            else:
                manifest[rel] = {"digest": hash_file(path), "size": st.st_size, "mode": st.st_mode & 0o1777}
    return manifest


@pytest.fixture(scope="module")
def saved(tree, tmp_path_factory):
    """The tree saved with batches of 37 entries and 4 KiB (thousands of batches, links among them)."""
    root = tmp_path_factory.mktemp("root") / "store"
    patch = pytest.MonkeyPatch()
    patch.setattr(snapshot, "WALK_BATCH", 37)
    patch.setattr(snapshot, "BATCH_BYTES", 4096)
    try:
        store = Store(root=str(root))
        artifact = store.create("dataset", "images", str(tree))
    finally:
        patch.undo()
    return store, artifact, root


def test_a_save_in_small_batches_gives_the_manifest_and_digest_of_a_plain_walk(tree, saved):
    store, artifact, _root = saved
    expected = expected_manifest(tree)
    assert artifact.file_count == FILES + 1 and artifact.digest == tree_digest(expected)
    assert artifact.size == sum(e.get("size", 0) for e in expected.values())
    streamed = dict(store.catalog.page(artifact.id))
    assert list(streamed) == sorted(expected) and streamed == expected
    # The record in the root holds the same manifest, and a save in the default batches the same digest.
    record = json.loads((saved[2] / "artifacts" / f"{artifact.id}.json").read_bytes())
    assert record["manifest"] == expected
    other = Store(root=str(saved[2].parent / "default-batches"))
    assert other.create("dataset", "images", str(tree)).digest == artifact.digest


def test_a_damaged_file_among_fifty_thousand_is_found_by_verify(saved):
    store, artifact, root = saved
    entry = store.catalog.entry(artifact.id, "class-042/img-21042.bin")
    blob = root / "objects" / entry["digest"].split(":")[1][:2] / entry["digest"].split(":")[1][2:]
    assert blob.is_file()
    os.chmod(blob, 0o644)
    blob.write_bytes(b"not what was stored")
    try:
        report = store.verify("images:v1")
        assert not report["ok"]
        damaged = json.dumps(report)
        assert "class-042/img-21042.bin" in damaged and "img-21043" not in damaged
    finally:
        blob.write_bytes(f"{21042}:".encode() * (1 + 21042 % 13))
    assert store.verify("images:v1")["ok"]


def test_paged_show_returns_every_path_exactly_once(saved):
    _store, _artifact, root = saved
    paths: list[str] = []
    offset = 0
    while offset is not None:
        run = subprocess.run([sys.executable, "-m", "jupyter_artifacts.cli.main", "--root", str(root), "dataset",
                              "show", "images:v1", "--files", "--limit", "7000", "--offset", str(offset), "--json"],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        page = json.loads(run.stdout)
        assert page["total"] == FILES + 1 and len(page["files"]) <= 7000
        paths += [f["path"] for f in page["files"]]
        offset = page["next_offset"]
    assert len(paths) == FILES + 1 and paths == sorted(set(paths))
    # The human page: a line per file, and where the next page starts.
    text = subprocess.run([sys.executable, "-m", "jupyter_artifacts.cli.main", "--root", str(root), "dataset", "show",
                           "images:v1", "--files", "--limit", "3", "--offset", "25000"],
                          capture_output=True, text=True, timeout=120).stdout.splitlines()
    assert text[0] == "images:v1: files 25,001-25,003 of 50,001"
    assert text[1].split()[-1] == paths[25000] and text[-1] == "(see more with --offset 25003)"
