"""Turn a folder into a manifest: walk, stat, hash and store each file once, in parallel."""

from __future__ import annotations

import os
import stat
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import InvalidInput, NotFound
from .roots import SourceChanged

Progress = Callable[[int, int, int, int], None]  # (bytes done, files done, bytes total, files total)
S_ISREG = stat.S_ISREG
LARGE_FILE = 8 << 20  # files at least this big are stored one per task, ahead of the small ones


@dataclass(slots=True)
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
            if entry.is_dir(follow_symlinks=False):  # from the directory entry's type: no stat call
                stack.append((entry.path, rel + "/"))
                continue
            st = entry.stat(follow_symlinks=False)
            mode = st.st_mode
            if S_ISREG(mode):
                found.append(ScannedFile(rel, entry.path, st.st_size, mode & 0o7777, st.st_ino,
                                         st.st_mtime_ns, st.st_ctime_ns))
            elif stat.S_ISDIR(mode):  # replaced by a folder since it was listed
                stack.append((entry.path, rel + "/"))
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
    """Store every scanned file in the root; files whose stat matches the cache are not read.

    Large files are copied and hashed on background threads while this thread stores the small
    ones (see run_in_lanes).
    """
    manifest: dict[str, dict] = {}
    new_rows: list[tuple] = []
    lock = threading.Lock()
    counters = {"bytes": 0, "files": 0, "new": 0, "hashed": 0}
    todo: list[ScannedFile] = []
    total_bytes = total_files = 0
    done_bytes = done_files = 0
    get = cache.get
    for f in files:
        total_files += 1
        total_bytes += f.size
        if f.link is not None:
            manifest[f.relpath] = {"link": f.link, "mode": 0o777}
            done_files += 1
            continue
        cached = get(f.path)
        if cached is not None and cached[0] == f.inode and cached[1] == f.size and cached[2] == f.mtime_ns \
                and cached[3] == f.ctime_ns:
            manifest[f.relpath] = {"digest": cached[4], "size": f.size, "mode": f.mode}
            done_files += 1
            done_bytes += f.size
        else:
            todo.append(f)
    counters["bytes"], counters["files"] = done_bytes, done_files
    if progress:
        progress(done_bytes, done_files, total_bytes, total_files)

    store_file = root.store_file

    def store_one(f: ScannedFile) -> None:
        for attempt in range(3):
            try:
                digest, written, st = store_file(f.path)
                break
            except SourceChanged:
                if attempt == 2:
                    raise InvalidInput(f"{f.relpath} kept changing while it was being saved; "
                                       "save it again once whatever writes it has finished.") from None
            except FileNotFoundError:
                raise InvalidInput(f"{f.relpath} disappeared while it was being saved; save the folder again.") from None
        entry = {"digest": digest, "size": st.st_size, "mode": st.st_mode & 0o7777}
        row = (f.path, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, digest)
        with lock:
            manifest[f.relpath] = entry
            new_rows.append(row)
            counters["bytes"] += st.st_size
            counters["files"] += 1
            counters["new"] += written
            counters["hashed"] += 1
            if progress:
                progress(counters["bytes"], counters["files"], total_bytes, total_files)

    run_in_lanes([f for f in todo if f.size >= LARGE_FILE], [f for f in todo if f.size < LARGE_FILE],
                 store_one, workers)
    size = sum(e.get("size", 0) for e in manifest.values())
    return SnapshotResult(manifest, size, counters["new"], counters["hashed"],
                          len(files) - counters["hashed"], new_rows)


def default_workers() -> int:
    """Threads for storing or copying files: the work is in the kernel and in BLAKE3, outside the GIL."""
    return max(2, min(8, (os.cpu_count() or 1) * 2))


def run_in_lanes(large: list, small: list, work: Callable[[object], None], workers: int | None = None,
                 probe: int = 64) -> None:
    """Call work(item) for every item, large items on background threads, small ones here.

    A large item's work is an in-kernel copy or BLAKE3 over a mapped file, both outside the GIL,
    so large items overlap well with each other and with the Python-bound work of small items.
    Small items, by contrast, fight over the GIL and the file system's locks when several threads
    take them, and are faster on one thread, unless they wait on I/O (a network file system):
    the first `probe` of them are timed, and the rest get a thread pool only when their wall-clock
    time is mostly waiting rather than CPU. This thread then helps with any large items left.
    """
    limit = workers or default_workers()
    if limit <= 1 or len(large) + len(small) <= 1:
        for item in large:
            work(item)
        for item in small:
            work(item)
        return
    cpus = os.cpu_count() or 1
    pending = deque(large)
    failed: list[BaseException] = []
    stop = threading.Event()

    def drain() -> None:
        while not stop.is_set():
            try:
                item = pending.popleft()
            except IndexError:
                return
            try:
                work(item)
            except BaseException as exc:  # handed to the calling thread
                failed.append(exc)
                stop.set()
                return

    lanes = [threading.Thread(target=drain, name="store-lane", daemon=True)
             for _ in range(min(len(large), max(1, min(limit, cpus) - 1)))]
    for lane in lanes:
        lane.start()
    try:
        started, cpu = time.perf_counter(), time.thread_time()
        for item in small[:probe]:
            if stop.is_set():
                break
            work(item)
        rest = small[probe:]
        waiting = (time.perf_counter() - started) > 3 * (time.thread_time() - cpu) + 0.01
        if rest and waiting and not stop.is_set():
            from concurrent.futures import ThreadPoolExecutor

            def batch(items: list) -> None:
                for item in items:
                    if stop.is_set():
                        return
                    work(item)

            with ThreadPoolExecutor(max_workers=max(2, limit)) as pool:
                futures = [pool.submit(batch, rest[i:i + probe]) for i in range(0, len(rest), probe)]
                try:
                    for future in futures:
                        future.result()
                except BaseException:
                    stop.set()
                    raise
        else:
            for item in rest:
                if stop.is_set():
                    break
                work(item)
        drain()
    except BaseException:
        stop.set()
        raise
    finally:
        for lane in lanes:
            lane.join()
    if failed:
        raise failed[0]
