"""Saving into a remote root: hash every file here, ask the root once which blobs it lacks, then
upload only those, many at a time.

On an object store a request costs far more than reading a small file twice, so this is cheaper
than asking (or sending) once per file: the first save of a folder costs about one request per
new file (a conditional PUT), and saving it again from another machine a listing or two.
"""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor

from ..errors import InvalidInput
from ..progress import Progress
from .catalog import StatRow
from .digest import hash_file
from .roots import NotRegularFile, Root, SourceChanged
from .snapshot import STORED_MODE, ScannedFile, SnapshotResult, read_file_once

UPLOADS = 16  # requests in flight: object stores answer each slowly, but many at once


def _hash(path: str) -> tuple[str, os.stat_result]:
    before = os.stat(path, follow_symlinks=False)
    if not stat.S_ISREG(before.st_mode):
        raise NotRegularFile(path)
    digest = hash_file(path, before.st_size)
    after = os.stat(path, follow_symlinks=False)
    if (before.st_size, before.st_mtime_ns, before.st_ctime_ns) != (after.st_size, after.st_mtime_ns, after.st_ctime_ns):
        raise SourceChanged(path)
    return digest, before


def upload_files(root: Root, files: list[ScannedFile], cache: dict[str, StatRow],
                 progress: Progress | None = None, workers: int = UPLOADS) -> SnapshotResult:
    """Store every scanned file in a remote root; files whose stat matches the cache are not read."""
    manifest: dict[str, dict] = {}
    rows: list[tuple] = []
    total_bytes = sum(f.size for f in files)
    done = {"bytes": 0, "files": 0}

    def report(size: int) -> None:
        done["bytes"] += size
        done["files"] += 1
        if progress:
            progress(done["bytes"], done["files"], total_bytes, len(files))

    todo = []
    for f in files:
        cached = cache.get(f.path)
        if f.link is not None:
            manifest[f.relpath] = {"link": f.link, "mode": 0o777}
            report(0)
        elif cached is not None and cached.matches(f.inode, f.size, f.mtime_ns, f.ctime_ns):
            manifest[f.relpath] = {"digest": cached.digest, "size": f.size, "mode": f.mode}
            report(f.size)
        else:
            todo.append(f)

    def hashed(f: ScannedFile) -> tuple[str, os.stat_result]:
        return read_file_once(f, _hash)

    sources: dict[str, ScannedFile] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, (os.cpu_count() or 1) * 2))) as pool:
        for f, (digest, st) in zip(todo, pool.map(hashed, todo)):
            manifest[f.relpath] = {"digest": digest, "size": st.st_size, "mode": st.st_mode & STORED_MODE}
            rows.append((f.path, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, digest))
            sources.setdefault(digest, f)
    missing = root.missing_blobs(set(sources), stored_hint=len(cache))
    for digest, f in sources.items():
        if digest not in missing:
            report(f.size)

    def upload(digest: str) -> int:
        f = sources[digest]
        try:
            written = root.upload_file(f.path, digest, manifest[f.relpath]["size"])
        except (SourceChanged, FileNotFoundError):
            raise InvalidInput(f"{f.relpath} changed while it was being saved; save it again once whatever "
                               "writes it has finished.") from None
        return written

    order = sorted(missing, key=lambda d: -sources[d].size)  # the largest first: they take longest
    new_bytes, stored = 0, set()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for digest, written in zip(order, pool.map(upload, order)):
            new_bytes += written
            if written or not sources[digest].size:
                stored.add(digest)
            report(sources[digest].size)
    return SnapshotResult(manifest, sum(e.get("size", 0) for e in manifest.values()), new_bytes, len(todo),
                          len(files) - len(todo), rows, stored)
