"""This machine's copy of the blobs it fetched from a remote root, so that a second download or
attach of the same files is a local copy (a clone where the file system can), not a download.

Content-addressed like a root (`objects/ab/cdef...`), so an entry is never stale; size-limited,
the least recently used entries going first (a hit moves a file's mtime). A file is fetched to a
temporary name, hashed, and renamed into place: a cache entry is always what its name says.
"""

from __future__ import annotations

import os
import threading

from ..errors import Conflict, InvalidInput
from .digest import hash_file
from .roots import Root, blob_name
from .roots.local import clone_or_copy

FOLDER = "blob-cache"


class BlobCache:
    """A remote root's blobs, kept on this machine up to `limit` bytes."""

    def __init__(self, root: Root, folder: str, limit: int) -> None:
        self.root, self.folder, self.limit = root, folder, limit

    def path(self, digest: str) -> str:
        return os.path.join(self.folder, "objects", blob_name(digest))

    def local_path(self, digest: str) -> str:
        """The cached file of a blob, fetched first if it is not here."""
        path = self.path(digest)
        try:
            os.utime(path)  # recently used: evicted last
            return path
        except FileNotFoundError:
            pass
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.part"
        try:
            self.root.fetch_blob(digest, tmp)
            if hash_file(tmp) != digest:
                raise Conflict(f"The stored file {digest} in {self.root.url} is damaged; run `jupyter artifacts verify`.")
            os.chmod(tmp, 0o444)
            os.replace(tmp, path)
        except FileNotFoundError:
            raise Conflict(f"The stored file {digest} is missing from {self.root.url}; run `jupyter artifacts verify`.") from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return path

    def materialize_blob(self, digest: str, dest: str, mode: int, method: str, size: int | None = None) -> str:
        """As a root's: the caller's own copy of a blob, from the cache ('cache') or fetched into
        it first ('download')."""
        if method == "hardlink":
            raise InvalidInput(f"The hardlink method needs a local store root; {self.root.url} is remote.")
        hit = os.path.exists(self.path(digest))
        clone_or_copy(self.local_path(digest), dest, mode, "auto" if method == "reflink" else method, size)
        return "cache" if hit else "download"

    def trim(self) -> int:
        """Evict the least recently used blobs until the cache fits its limit; bytes removed."""
        entries, total = [], 0
        objects = os.path.join(self.folder, "objects")
        for prefix in os.scandir(objects) if os.path.isdir(objects) else []:
            for entry in os.scandir(prefix.path):
                try:
                    st = entry.stat()
                except FileNotFoundError:
                    continue
                entries.append((st.st_mtime, st.st_size, entry.path))
                total += st.st_size
        removed = 0
        for _mtime, size, path in sorted(entries):
            if total - removed <= self.limit:
                break
            try:
                os.unlink(path)
                removed += size
            except FileNotFoundError:
                pass
        return removed
