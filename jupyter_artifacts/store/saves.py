"""What a save stores, case by case: a folder (or one file), matched entry by entry against its
last save (the stat cache); or one whose walk is the same as at its last save, whose tree is
published again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..progress import Progress
from .manifests import Tree
from .snapshot import LastSave, TreeBuilder, Walk

if TYPE_CHECKING:
    from .store import Store


class Save:
    """A folder (or one file), its entries matched against its last save."""

    def __init__(self, store: "Store", walked: Walk, last: str | None) -> None:
        self.store, self.walked = store, walked
        self.last = LastSave(store.catalog, last) if last is not None else None
        self.size = walked.size
        self.builder: TreeBuilder | None = None

    def new_bytes(self) -> int | None:
        """Bytes that may be new (files that do not match the last save), for the quota only."""
        if self.store.settings.quota is None:
            return None
        if self.last is None:
            return self.size
        match = self.last.matcher()
        return sum(batch.numbers[5 * i + 1] for batch in self.walked.batches()
                   for i, rel in enumerate(batch.relpaths)
                   if i not in batch.links and match(rel, batch.numbers, 5 * i) is None)

    def source(self, relpath: str) -> str:
        return f"{self.walked.folder}/{relpath}"

    def store_files(self, progress: Progress) -> Tree:
        """Store the files; the tree they make."""
        self.builder = TreeBuilder(self.store.scratch)
        self.store.save_files(self.walked, self.last, self.builder, progress)
        return self.builder.finish()

    def remember(self, folder: str, artifact_id: str) -> None:
        # the newest save is remembered: it outlives the older ones more often
        if self.builder is not None:
            self.store.catalog.remember_save(folder, self.walked.fingerprint, artifact_id, self.builder.stats())

    def close(self) -> None:
        self.walked.close()
        if self.builder is not None:
            self.builder.close()


class UnchangedSave(Save):
    """A folder whose walk has the fingerprint of its last save, whose artifact is still ready:
    that save's tree is published again, no file is matched or read."""

    def __init__(self, store: "Store", walked: Walk, last: str, known: Tree) -> None:
        super().__init__(store, walked, last)
        self.known = known

    def new_bytes(self) -> int | None:
        return 0

    def store_files(self, progress: Progress) -> Tree:
        progress(self.known.size, self.known.file_count, self.known.size, self.known.file_count)
        return self.known

    def remember(self, folder: str, artifact_id: str) -> None:
        self.store.catalog.remember_save(folder, self.walked.fingerprint, artifact_id, None)

    def close(self) -> None:
        super().close()
        self.known.close()


def plan(store: "Store", path: str, walked: Walk) -> Save:
    """The save of a path (call under the store's shared blob lock: a known tree's blobs stay put)."""
    found = store.catalog.last_save(path)
    if found is None:
        return Save(store, walked, None)
    artifact_id, fingerprint = found
    if fingerprint == walked.fingerprint:
        known = store.catalog.tree(artifact_id, store.scratch)
        if known is not None:
            return UnchangedSave(store, walked, artifact_id, known)
    return Save(store, walked, artifact_id)
