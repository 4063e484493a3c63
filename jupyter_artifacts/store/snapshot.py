"""Turn a folder into a manifest: walk, stat, hash and store each file once, in parallel."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..errors import InvalidInput, NotFound
from .roots import SourceChanged

Progress = Callable[[int, int, int, int], None]  # (bytes done, files done, bytes total, files total)


@dataclass
class ScannedFile:
    relpath: str
    path: str
    size: int
    mode: int
    inode: int
    mtime_ns: int
    ctime_ns: int
    link: str | None = None


def scan(folder: str) -> list[ScannedFile]:
    """List every file under a folder; links must stay inside it and are stored as links."""
    folder = os.path.abspath(os.path.expanduser(folder))
    if not os.path.exists(folder):
        raise NotFound(f"No such file or folder: {folder}")
    if not os.path.isdir(folder):
        st = os.stat(folder)
        name = os.path.basename(folder)
        return [ScannedFile(name, folder, st.st_size, stat.S_IMODE(st.st_mode), st.st_ino,
                            st.st_mtime_ns, st.st_ctime_ns)]
    real_root = os.path.realpath(folder)
    found: list[ScannedFile] = []
    stack = [(folder, "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except PermissionError as exc:
            raise InvalidInput(f"Cannot read folder {directory}: permission denied.") from exc
        for entry in entries:
            rel = prefix + entry.name
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                stack.append((entry.path, rel + "/"))
            elif stat.S_ISREG(st.st_mode):
                found.append(ScannedFile(rel, entry.path, st.st_size, stat.S_IMODE(st.st_mode), st.st_ino,
                                         st.st_mtime_ns, st.st_ctime_ns))
            elif stat.S_ISLNK(st.st_mode):
                target = os.readlink(entry.path)
                resolved = os.path.realpath(entry.path)
                if os.path.isabs(target) or os.path.commonpath([real_root, resolved]) != real_root:
                    raise InvalidInput(
                        f"The link {rel} -> {target} points outside {folder}; links are stored only "
                        "when they stay inside the folder. Replace it with the file it points to."
                    )
                found.append(ScannedFile(rel, entry.path, 0, 0o777, st.st_ino, st.st_mtime_ns,
                                         st.st_ctime_ns, link=target))
            else:
                raise InvalidInput(f"{rel} is not a regular file, folder or link (a socket, pipe or device); "
                                   "remove it from the folder first.")
    found.sort(key=lambda f: f.relpath)
    return found


@dataclass
class SnapshotResult:
    manifest: dict[str, dict]
    size: int
    new_bytes: int
    hashed_files: int
    cached_files: int
    stat_rows: list[tuple]


def store_files(root, files: list[ScannedFile], cache: dict[str, tuple], progress: Progress | None = None,
                workers: int | None = None) -> SnapshotResult:
    """Store every scanned file in the root; files whose stat matches the cache are not read."""
    manifest: dict[str, dict] = {}
    new_rows: list[tuple] = []
    lock = threading.Lock()
    counters = {"bytes": 0, "files": 0, "new": 0, "hashed": 0}
    todo: list[ScannedFile] = []
    total_bytes, total_files = sum(f.size for f in files), len(files)
    for f in files:
        if f.link is not None:
            manifest[f.relpath] = {"link": f.link, "mode": 0o777}
            counters["files"] += 1
            continue
        cached = cache.get(f.path)
        if cached and cached[0] == f.inode and cached[1] == f.size and cached[2] == f.mtime_ns and cached[3] == f.ctime_ns:
            manifest[f.relpath] = {"digest": cached[4], "size": f.size, "mode": f.mode}
            counters["files"] += 1
            counters["bytes"] += f.size
        else:
            todo.append(f)
    if progress:
        progress(counters["bytes"], counters["files"], total_bytes, total_files)

    def store_batch(batch: list[ScannedFile]) -> None:
        for f in batch:
            for attempt in range(3):
                try:
                    digest, written, st = root.store_file(f.path)
                    break
                except SourceChanged:
                    if attempt == 2:
                        raise InvalidInput(f"{f.relpath} kept changing while it was being saved; "
                                           "save it again once whatever writes it has finished.") from None
                except FileNotFoundError:
                    raise InvalidInput(f"{f.relpath} disappeared while it was being saved; save the folder again.") from None
            with lock:
                manifest[f.relpath] = {"digest": digest, "size": st.st_size, "mode": stat.S_IMODE(st.st_mode)}
                new_rows.append((f.path, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, digest))
                counters["bytes"] += st.st_size
                counters["files"] += 1
                counters["new"] += written
                counters["hashed"] += 1
                if progress:
                    progress(counters["bytes"], counters["files"], total_bytes, total_files)

    batches = _batches(todo)
    if len(batches) <= 1:
        for batch in batches:
            store_batch(batch)
    else:
        with ThreadPoolExecutor(max_workers=workers or min(8, (os.cpu_count() or 1) * 2)) as pool:
            for future in [pool.submit(store_batch, b) for b in batches]:
                future.result()
    size = sum(e.get("size", 0) for e in manifest.values())
    return SnapshotResult(manifest, size, counters["new"], counters["hashed"],
                          len(files) - counters["hashed"], new_rows)


def _batches(files: list[ScannedFile], target_bytes: int = 64 << 20, max_files: int = 256) -> list[list[ScannedFile]]:
    """Group small files so thread hand-offs do not dominate; big files go alone."""
    batches: list[list[ScannedFile]] = []
    current: list[ScannedFile] = []
    current_bytes = 0
    for f in sorted(files, key=lambda f: -f.size):
        current.append(f)
        current_bytes += f.size
        if current_bytes >= target_bytes or len(current) >= max_files:
            batches.append(current)
            current, current_bytes = [], 0
    if current:
        batches.append(current)
    return batches
