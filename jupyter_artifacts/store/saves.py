"""What a save stores, case by case: one file; a folder, matched file by file against the stat
cache; or a folder whose walk is the same as at its last save, whose tree is published again."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..progress import Progress
from .records import Tree
from .snapshot import FolderScan, ScannedFile, scan

if TYPE_CHECKING:
    from .store import Store


class FileSave:
    """One file: its folder is the manifest's base."""

    def __init__(self, store: "Store", path: str, files: list[ScannedFile] | None = None,
                 cache: dict | None = None) -> None:
        self.store, self.path = store, path
        self.files = scan(path) if files is None else files
        self.cache = cache or {}
        self.size = sum(f.size for f in self.files)

    def new_bytes(self) -> int | None:
        """Bytes that may be new (files not in the stat cache), for the quota only."""
        if self.store.settings.quota is None:
            return None
        return sum(f.size for f in self.files if f.path not in self.cache)

    def source(self, relpath: str) -> str:
        return os.path.join(os.path.dirname(self.path), relpath)

    def store_files(self, progress: Progress) -> tuple[Tree, set[str]]:
        """Store the files; the tree and the digests this save wrote."""
        result = self.store.save_files(self.files, self.cache, progress)
        self.stat_rows = result.stat_rows
        return Tree.of(result.manifest), result.written

    def remember(self, artifact_id: str, tree: Tree) -> None:
        self.store.catalog.remember_stats(self.stat_rows)


class FolderSave(FileSave):
    """A folder, its files matched against the stat cache."""

    def __init__(self, store: "Store", path: str, walked: FolderScan, fingerprint: str) -> None:
        self.walked, self.fingerprint = walked, fingerprint
        super().__init__(store, path, walked.files(), store.catalog.statcache_under(path))

    def source(self, relpath: str) -> str:
        return os.path.join(self.path, relpath)

    def remember(self, artifact_id: str, tree: Tree) -> None:
        # the newest save is remembered: it outlives the older ones more often
        self.store.catalog.remember_stats(self.stat_rows, (self.path, self.fingerprint, artifact_id, tree.key,
                                                           len(tree.json)))


class UnchangedFolderSave(FolderSave):
    """A folder whose walk has the fingerprint of its last save, whose artifact is still ready:
    that save's tree is published again, no file is matched or read."""

    def __init__(self, store: "Store", path: str, walked: FolderScan, fingerprint: str, known: Tree) -> None:
        self.store, self.path, self.walked, self.known = store, path, walked, known
        self.fingerprint, self.size, self.stat_rows = fingerprint, known.size, []

    def new_bytes(self) -> int | None:
        return 0

    def store_files(self, progress: Progress) -> tuple[Tree, set[str]]:
        progress(self.known.size, self.known.file_count, self.known.size, self.known.file_count)
        return self.known, set()


def plan(store: "Store", path: str, walked: FolderScan | None) -> FileSave:
    """The save for a path (call under the store's shared blob lock: a known tree's blobs stay put)."""
    if walked is None:
        return FileSave(store, path)
    fingerprint = walked.fingerprint()
    known = store.last_tree(path, fingerprint)
    if known is None:
        return FolderSave(store, path, walked, fingerprint)
    return UnchangedFolderSave(store, path, walked, fingerprint, known)
