"""Turn a folder into a manifest: walk, stat, hash and store each file once, in parallel."""

from __future__ import annotations

import os
import pickle
import signal
import stat
import struct
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, TypeVar

import blake3

from ..errors import InvalidInput, NotFound
from ..progress import Progress
from .roots import NotRegularFile, SourceChanged

if TYPE_CHECKING:
    from .catalog import StatRow

S_ISREG = stat.S_ISREG
STORED_MODE = 0o1777  # permissions and the sticky bit: setuid and setgid never come back from a store
LARGE_FILE = 8 << 20  # files at least this big are stored one per task, ahead of the small ones
FORK_MIN = 2000  # at least this many small files are shared with worker processes (see run_in_lanes)
SHARED_WALK = 16  # folders waiting to be walked once a worker process is worth its fork (see walk)


@dataclass(slots=True)
class ScannedFile:
    relpath: str
    path: str
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int
    mode: int
    link: str | None = None


@dataclass(slots=True)
class FolderScan:
    """What a walk of a folder found, in the order it walked: a path and five numbers per entry
    (inode, size, mtime_ns, ctime_ns, mode), links by position. Kept raw because saving an
    unchanged folder needs only the fingerprint, and 20,000 objects cost more than the walk."""

    folder: str
    relpaths: list[str]
    numbers: array
    links: dict[int, str]

    def fingerprint(self) -> str:
        """One digest of every path with the stat the stat cache trusts, and the folder's device:
        the same as at a folder's last save means every file would hit the stat cache, so that
        save's manifest holds. (Another walk order only makes it differ: never a false match.)"""
        digest = blake3.blake3(self.numbers.tobytes())
        digest.update("\0".join(self.relpaths).encode("utf-8", "surrogateescape"))
        digest.update(repr(sorted(self.links.items())).encode("utf-8", "surrogateescape"))
        digest.update(str(os.stat(self.folder).st_dev).encode())
        return digest.hexdigest()

    def files(self) -> list[ScannedFile]:
        base, numbers, links = self.folder + "/", self.numbers, self.links
        found = [ScannedFile(rel, base + rel, *numbers[i * 5:i * 5 + 5], link=links.get(i))
                 for i, rel in enumerate(self.relpaths)]
        found.sort(key=attrgetter("relpath"))
        return found


def scan(folder: str) -> list[ScannedFile]:
    """List every file under a folder (or the one file named); links must stay inside the folder
    and are stored as links."""
    folder = os.path.abspath(os.path.expanduser(folder))
    if not os.path.exists(folder):
        raise NotFound(f"No such file or folder: {folder}")
    if not os.path.isdir(folder):
        st = os.stat(folder)
        if not S_ISREG(st.st_mode):
            raise InvalidInput(not_regular_message(folder))
        return [ScannedFile(os.path.basename(folder), folder, st.st_ino, st.st_size, st.st_mtime_ns,
                            st.st_ctime_ns, st.st_mode & STORED_MODE)]
    return walk(folder).files()


T = TypeVar("T")


def read_file_once(f: ScannedFile, step: Callable[[str], T], tries: int = 3) -> T:
    """Run a step that reads one file (storing or hashing it), again if the file changed meanwhile;
    what the user must fix (a file that keeps changing, went away, or is a pipe) is one line."""
    for attempt in range(tries):
        try:
            return step(f.path)
        except SourceChanged:
            if attempt == tries - 1:
                raise InvalidInput(f"{f.relpath} kept changing while it was being saved; "
                                   "save it again once whatever writes it has finished.") from None
        except FileNotFoundError:
            raise InvalidInput(f"{f.relpath} disappeared while it was being saved; save the folder again.") from None
        except NotRegularFile:
            raise InvalidInput(not_regular_message(f.relpath)) from None
    raise AssertionError("unreachable")


def not_regular_message(path: str) -> str:
    return (f"{path} is not a regular file, folder or link (a socket, pipe or device); "
            "only files and folders can be saved: remove it or copy its contents into a file.")


class _Listing:
    """Entries found by a walk, in the order found: a path and five numbers each (inode, size,
    mtime_ns, ctime_ns, mode), links by position."""

    def __init__(self, folder: str) -> None:
        self.folder, self.real_root = folder, os.path.realpath(folder)
        self.relpaths: list[str] = []
        self.numbers = array("q")
        self.links: dict[int, str] = {}

    def add_folder(self, directory: str, prefix: str, push: Callable[[tuple[str, str]], None]) -> None:
        """Add the files and links of one folder; hand its subfolders to `push`."""
        add_path, add_numbers = self.relpaths.append, self.numbers.extend
        # Listing through a descriptor makes each entry's lstat an fstatat of a bare name
        # (measured about 10% less time than lstat of the whole path).
        try:
            dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except PermissionError as exc:
            raise InvalidInput(f"Cannot read folder {directory}: permission denied.") from exc
        try:
            try:
                entries = list(os.scandir(dir_fd))
            except PermissionError as exc:
                raise InvalidInput(f"Cannot read folder {directory}: permission denied.") from exc
            for entry in entries:
                name = entry.name
                if entry.is_dir(follow_symlinks=False):  # from the directory entry's type: no stat call
                    push((directory + "/" + name, prefix + name + "/"))
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)  # fstatat(dir_fd, name)
                except FileNotFoundError:
                    continue  # removed since it was listed
                mode = st.st_mode
                if S_ISREG(mode):
                    add_path(prefix + name)
                    add_numbers((st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, mode & STORED_MODE))
                    continue
                rel, path = prefix + name, directory + "/" + name
                if stat.S_ISDIR(mode):  # replaced by a folder since it was listed
                    push((path, rel + "/"))
                elif stat.S_ISLNK(mode):
                    target = os.readlink(path)
                    resolved = os.path.realpath(path)
                    if os.path.isabs(target) or os.path.commonpath([self.real_root, resolved]) != self.real_root:
                        raise InvalidInput(
                            f"The link {rel} -> {target} points outside {self.folder}; links are stored only "
                            "when they stay inside the folder. Replace it with the file it points to."
                        )
                    self.links[len(self.relpaths)] = target
                    add_path(rel)
                    add_numbers((st.st_ino, 0, st.st_mtime_ns, st.st_ctime_ns, 0o777))
                else:
                    raise InvalidInput(not_regular_message(rel))
        finally:
            os.close(dir_fd)

    def add_tree(self, top: tuple[str, str]) -> "_Listing":
        """Add everything under one folder, depth first."""
        stack = [top]
        while stack:
            self.add_folder(*stack.pop(), stack.append)
        return self

    def extend(self, other: "_Listing") -> None:
        base = len(self.relpaths)
        self.links.update((base + i, target) for i, target in other.links.items())
        self.relpaths.extend(other.relpaths)
        self.numbers.extend(other.numbers)


def walk(folder: str) -> FolderScan:
    """Walk a folder (an absolute path): every file, and every link, which must stay inside it.

    The first levels are listed breadth first; once SHARED_WALK folders wait, they are shared
    with a forked worker process where that is safe (see _can_fork): the walk is one stat call
    per file, and two processes make them twice as fast.
    """
    found = _Listing(folder)
    waiting = deque([(folder, "")])
    while waiting and len(waiting) < SHARED_WALK:
        found.add_folder(*waiting.popleft(), waiting.append)
    tops = list(waiting)
    parts: dict[tuple[str, str], _Listing] = {}
    if len(tops) >= SHARED_WALK and _can_fork(os.cpu_count() or 1):
        workers = _Workers(tops, lambda top: _Listing(folder).add_tree(top), 1, chunk=1)
        try:
            workers.run(parts.__setitem__, threading.Event())
        finally:
            workers.close()
    for top in tops:  # in the order listed, whoever walked them
        found.extend(parts.get(top) or _Listing(folder).add_tree(top))
    return FolderScan(folder, found.relpaths, found.numbers, found.links)


@dataclass
class SnapshotResult:
    manifest: dict[str, dict]
    size: int
    new_bytes: int
    hashed_files: int
    cached_files: int
    stat_rows: list[tuple]
    written: set[str]  # digests this save stored (the others it found stored, or trusted from the cache)


def store_files(root, files: list[ScannedFile], cache: dict[str, StatRow], progress: Progress | None = None,
                workers: int | None = None) -> SnapshotResult:
    """Store every scanned file in the root; files whose stat matches the cache are not read.

    Large files are copied and hashed on background threads while this thread stores the small
    ones (see run_in_lanes).
    """
    manifest: dict[str, dict] = {}
    new_rows: list[tuple] = []
    written_digests: set[str] = set()
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
        if cached is not None and cached.matches(f.inode, f.size, f.mtime_ns, f.ctime_ns):
            manifest[f.relpath] = {"digest": cached.digest, "size": f.size, "mode": f.mode}
            done_files += 1
            done_bytes += f.size
        else:
            todo.append(f)
    counters["bytes"], counters["files"] = done_bytes, done_files
    if progress:
        progress(done_bytes, done_files, total_bytes, total_files)

    store_file = root.store_file

    def compute(f: ScannedFile) -> tuple:
        """Store one file (in this process or a worker process): only plain data comes back."""
        digest, written, st = read_file_once(f, store_file)
        return digest, written, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode & STORED_MODE

    def absorb(f: ScannedFile, result: tuple) -> None:
        digest, written, ino, size, mtime_ns, ctime_ns, mode = result
        with lock:
            manifest[f.relpath] = {"digest": digest, "size": size, "mode": mode}
            new_rows.append((f.path, ino, size, mtime_ns, ctime_ns, digest))
            counters["bytes"] += size
            counters["files"] += 1
            counters["new"] += written
            counters["hashed"] += 1
            if written:
                written_digests.add(digest)
            if progress:
                progress(counters["bytes"], counters["files"], total_bytes, total_files)

    def store_one(f: ScannedFile) -> None:
        absorb(f, compute(f))

    run_in_lanes([f for f in todo if f.size >= LARGE_FILE], [f for f in todo if f.size < LARGE_FILE],
                 store_one, workers, compute=compute, absorb=absorb)
    size = counters["bytes"]  # the manifest's sizes: cached files' and stored files' (links count 0)
    return SnapshotResult(manifest, size, counters["new"], counters["hashed"],
                          len(files) - counters["hashed"], new_rows, written_digests)


def default_workers() -> int:
    """Threads for storing or copying files: the work is in the kernel and in BLAKE3, outside the GIL."""
    return max(2, min(8, (os.cpu_count() or 1) * 2))


def run_in_lanes(large: list, small: list, work: Callable[[object], None], workers: int | None = None,
                 probe: int = 64, *, compute: Callable[[object], object] | None = None,
                 absorb: Callable[[object, object], None] | None = None) -> None:
    """Call work(item) for every item, large items on background threads, small ones here.

    A large item's work is an in-kernel copy or BLAKE3 over a mapped file, both outside the GIL,
    so large items overlap well with each other and with the Python-bound work of small items.
    Small items, by contrast, fight over the GIL and the file system's locks when several threads
    take them. Given `compute` (the part of the work that touches only files and returns plain
    data) and `absorb` (the rest, here), many small items are shared with worker processes forked
    before any thread starts (see _Workers); otherwise they run on this thread, unless they wait
    on I/O (a network file system): the first `probe` of them are timed, and the rest get a thread
    pool only when their wall-clock time is mostly waiting rather than CPU. This thread then helps
    with any large items left.
    """
    limit = workers or default_workers()
    if limit <= 1 or len(large) + len(small) <= 1:
        for item in large:
            work(item)
        for item in small:
            work(item)
        return
    cpus = os.cpu_count() or 1
    forked = None
    if compute is not None and absorb is not None and len(small) >= FORK_MIN and _can_fork(min(cpus, limit)):
        forked = _Workers(small, compute, min(cpus, limit) - 1)  # before any thread of ours starts
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
        if forked is not None:
            forked.run(absorb, stop)
            small = []
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
        if forked is not None:
            forked.close()
        for lane in lanes:
            lane.join()
    if failed:
        raise failed[0]


def _can_fork(cpus: int) -> bool:
    """Worker processes need a second CPU, and are safe only while we are single-threaded.

    A process with other threads (a Jupyter server, a job runner) could fork while one of them
    holds a lock that the child then needs; there everything stays on one thread.
    """
    return (cpus >= 2 and hasattr(os, "fork") and threading.active_count() == 1
            and os.environ.get("JUPYTER_ARTIFACTS_NO_FORK") != "1")


class _Workers:
    """Small items shared between this process and forked children, in chunks taken from a pipe.

    The chunk numbers are written to a pipe before forking; every process (this one included)
    reads 4 bytes at a time, so each chunk is taken exactly once, and fast processes take more.
    A child runs only `compute` (file system calls and hashing, never the catalog), sends its
    results (or its exception) back pickled through its own pipe, and leaves with os._exit.
    Blobs are complete before they get a name, so a child killed midway leaves nothing half-made.
    """

    def __init__(self, items: list, compute: Callable[[object], object], children: int,
                 chunk: int | None = None) -> None:
        self.items, self.compute = items, compute
        # at most 16 KB of chunk numbers: fits a pipe
        self.chunk = max(chunk or 64, -(-len(items) // 4096))
        self.queue, feed = os.pipe()
        try:
            data = b"".join(struct.pack("=I", c) for c in range(-(-len(items) // self.chunk)))
            view = memoryview(data)
            while view:
                view = view[os.write(feed, view):]
        finally:
            os.close(feed)
        self.children: list[tuple[int, int]] = []
        for _ in range(children):
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child
                os.close(read_end)
                self._child(write_end)
            os.close(write_end)
            self.children.append((pid, read_end))

    def _take(self) -> range | None:
        raw = os.read(self.queue, 4)
        if len(raw) != 4:
            return None
        start = struct.unpack("=I", raw)[0] * self.chunk
        return range(start, min(start + self.chunk, len(self.items)))

    def _child(self, out: int) -> None:
        status = 0
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # the parent reports the interruption
            items, compute, done = self.items, self.compute, []
            try:
                while (taken := self._take()) is not None:
                    done.append((taken.start, [compute(items[i]) for i in taken]))
                payload = pickle.dumps(("ok", done), pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:  # noqa: BLE001 - handed to the parent
                try:
                    payload = pickle.dumps(("error", exc), pickle.HIGHEST_PROTOCOL)
                except Exception:  # noqa: BLE001
                    payload = pickle.dumps(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
            view = memoryview(payload)
            while view:
                view = view[os.write(out, view):]
        except BaseException:  # noqa: BLE001
            status = 1
        finally:
            os._exit(status)

    def run(self, absorb: Callable[[object, object], None], stop: threading.Event) -> None:
        """Take chunks here too, then collect the children's results; raise the first failure."""
        items, compute = self.items, self.compute
        while not stop.is_set() and (taken := self._take()) is not None:
            for i in taken:
                item = items[i]
                absorb(item, compute(item))
        if stop.is_set():  # a large item failed
            self._drain()
        failure: BaseException | None = None
        while self.children:
            pid, fd = self.children[0]
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            os.close(fd)
            self.children.pop(0)
            _, status = os.waitpid(pid, 0)
            try:
                kind, payload = pickle.loads(b"".join(chunks))
            except Exception:  # noqa: BLE001 - killed, or out of memory
                kind, payload = "error", RuntimeError(f"A worker process stopped unexpectedly (status {status}).")
            if kind == "error":
                failure = failure or payload
                self._drain()
            elif failure is None:
                for start, results in payload:
                    for i, result in enumerate(results, start):
                        absorb(items[i], result)
        if failure is not None:
            raise failure

    def _drain(self) -> None:
        """Take every chunk left, so that the children stop after the one they are on."""
        while self._take() is not None:
            pass

    def close(self) -> None:
        """Stop children still running (after a failure here) and release the pipes."""
        for pid, fd in self.children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            os.close(fd)
        self.children = []
        if self.queue >= 0:
            os.close(self.queue)
            self.queue = -1
