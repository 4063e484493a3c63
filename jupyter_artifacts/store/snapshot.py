"""Turn a folder into a tree: walk it in path order, then store each file once, in parallel, in
memory that does not grow with the folder.

The walk lists each folder's entries sorted (a folder's name with a trailing '/'), so its order
is the manifest's; it spills what it finds to a temporary file a batch at a time. Storing reads
those batches back, matches each entry against the folder's last save (the stat cache: a merge,
both being in path order), and shares the files to store with worker processes (workers.py),
large files on threads, ahead of the rest. Entries reach the tree in path order.
"""

from __future__ import annotations

import os
import pickle
import stat
import tempfile
from array import array
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, TypeVar

import blake3

from ..errors import InvalidInput, NotFound
from ..progress import Progress
from .manifests import Chunk, ManifestWriter, Spool, Tree, compress, decode
from .roots import NotRegularFile, SourceChanged
from .workers import Pool, workers_for

if TYPE_CHECKING:
    from .catalog import Catalog

S_ISREG = stat.S_ISREG
STORED_MODE = 0o1777  # permissions and the sticky bit: setuid and setgid never come back from a store
LARGE_FILE = 8 << 20  # files at least this big are stored one per task, ahead of the small ones
FORK_MIN = 2000  # at least this many files are shared with worker processes
SHARED_WALK = 16  # folders waiting to be walked once a worker process is worth its fork (see walk)
EXPAND_LIMIT = 10_000  # entries listed in place, at most, while looking for folders to share
WALK_BATCH = 512  # entries spilled, matched and shared with a worker process at once
BATCH_BYTES = 2 << 20  # ...or fewer, as many as hold this much: progress and the workers' shares stay even
AHEAD = 64  # batches stored ahead of the first one not done yet (a large file's)
REPORTS = 1000  # progress reports in a save, at most (one per file below that)


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


class WalkBatch(NamedTuple):
    relpaths: list[str]
    numbers: array  # inode, size, mtime_ns, ctime_ns and mode of each entry
    links: dict[int, str]  # link targets by position in the batch


class Walk:
    """What a walk found, in path order: a path and five numbers per entry, spilled to an anonymous
    temporary file a batch at a time, and what they add up to. Kept raw because saving an
    unchanged folder needs only the fingerprint, and a million objects cost more than the walk."""

    def __init__(self, folder: str, spool: str | None = None) -> None:
        self.folder = folder  # the base of the relative paths
        self.count = self.size = 0
        self.large: list[tuple[str, tuple]] = []  # (relpath, numbers) of files of LARGE_FILE or more
        self.fingerprint = ""
        self._spill = tempfile.TemporaryFile(dir=spool)
        self._digest = blake3.blake3()
        self._relpaths: list[str] = []
        self._numbers = array("q")
        self._links: dict[int, str] = {}
        self._bytes = 0  # in the batch being filled

    def _add(self, relpath: str, numbers: tuple, link: str | None = None) -> None:
        if link is not None:
            self._links[len(self._relpaths)] = link
        elif numbers[1] >= LARGE_FILE:
            self.large.append((relpath, numbers))
        self._relpaths.append(relpath)
        self._numbers.extend(numbers)
        self.count += 1
        self.size += numbers[1]
        if link is None and numbers[1] < LARGE_FILE:
            self._bytes += numbers[1]
        if len(self._relpaths) >= WALK_BATCH or self._bytes >= BATCH_BYTES:
            self._flush()

    def _flush(self) -> None:
        if not self._relpaths:
            return
        numbers = self._numbers.tobytes()
        self._digest.update(numbers)
        self._digest.update("\0".join(self._relpaths).encode("utf-8", "surrogateescape") + b"\0")
        self._digest.update(repr(sorted(self._links.items())).encode("utf-8", "surrogateescape"))
        pickle.dump((self._relpaths, numbers, self._links), self._spill, pickle.HIGHEST_PROTOCOL)
        self._relpaths, self._numbers, self._links, self._bytes = [], array("q"), {}, 0

    def _finish(self, device: int) -> "Walk":
        """One digest of every path with the stat the stat cache trusts, and the folder's device:
        the same as at a folder's last save means every file would hit the stat cache, so that
        save's tree holds."""
        self._flush()
        self._digest.update(str(device).encode())
        self.fingerprint = self._digest.hexdigest()
        return self

    def batches(self) -> Iterator[WalkBatch]:
        self._spill.seek(0)
        while True:
            try:
                relpaths, numbers, links = pickle.load(self._spill)
            except EOFError:
                return
            yield WalkBatch(relpaths, array("q", numbers), links)

    def close(self) -> None:
        self._spill.close()


def walk(path: str, spool: str | None = None) -> Walk:
    """Walk a folder (or take the one file named): every file, and every link, which must stay
    inside the folder and is stored as a link. `spool`: where to spill (a temporary folder)."""
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.exists(path):
        raise NotFound(f"No such file or folder: {path}")
    if not os.path.isdir(path):
        st = os.stat(path)
        if not S_ISREG(st.st_mode):
            raise InvalidInput(not_regular_message(path))
        found = Walk(os.path.dirname(path), spool)
        found._add(os.path.basename(path), (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns,
                                            st.st_mode & STORED_MODE))
        return found._finish(st.st_dev)
    found = Walk(path, spool)
    try:
        real_root = os.path.realpath(path)
        pieces = _listing(path, path, "", real_root)
        folders = sum(1 for item in pieces if item[2] is None)
        # The first folders are listed in place (their entries sort where they do) until enough
        # wait to share: the walk is a stat call per file, and two processes make them faster.
        while 0 < folders < SHARED_WALK and len(pieces) < EXPAND_LIMIT:
            at = next(i for i, item in enumerate(pieces) if item[2] is None)
            inner = _listing(path, f"{path}/{pieces[at][1]}", pieces[at][1] + "/", real_root)
            pieces[at:at + 1] = inner
            folders += sum(1 for item in inner if item[2] is None) - 1
        tops = [(path, item[1], real_root) for item in pieces if item[2] is None]
        with Pool(_subtree, workers_for(len(tops), SHARED_WALK)) as pool:
            walked = pool.map((top, [top]) for top in tops)  # in order, whoever walks them
            for item in pieces:
                if item[2] is not None:
                    found._add(item[1], item[2], item[3])
                    continue
                for entry in next(walked)[1][0]:
                    found._add(*entry)
        return found._finish(os.stat(path).st_dev)
    except BaseException:
        found.close()
        raise


def _subtree(top: tuple[str, str, str]) -> list[tuple]:
    """(relative path, numbers, link target) of every file and link under one folder of a walk,
    in path order (here, or in a worker process)."""
    path, relpath, real_root = top
    out: list[tuple] = []
    stack = [iter(_listing(path, f"{path}/{relpath}", relpath + "/", real_root))]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
        elif item[2] is None:  # a folder: everything in it comes next
            stack.append(iter(_listing(path, f"{path}/{item[1]}", item[1] + "/", real_root)))
        else:
            out.append((item[1], item[2], item[3]))
    return out


def _listing(top: str, directory: str, prefix: str, real_root: str) -> list[tuple]:
    """(sort key, relative path, numbers or None for a folder, link target) of each entry of one
    folder, in path order: a folder sorts as its name and a '/', where its entries' paths do."""
    # Listing through a descriptor makes each entry's lstat an fstatat of a bare name
    # (measured about 10% less time than lstat of the whole path).
    try:
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except PermissionError as exc:
        raise InvalidInput(f"Cannot read folder {directory}: permission denied.") from exc
    found = []
    add = found.append
    try:
        try:
            entries = list(os.scandir(dir_fd))
        except PermissionError as exc:
            raise InvalidInput(f"Cannot read folder {directory}: permission denied.") from exc
        for entry in entries:
            name = entry.name
            if entry.is_dir(follow_symlinks=False):  # from the directory entry's type: no stat call
                add((name + "/", prefix + name, None, None))
                continue
            try:
                st = entry.stat(follow_symlinks=False)  # fstatat(dir_fd, name)
            except FileNotFoundError:
                continue  # removed since it was listed
            mode = st.st_mode
            if S_ISREG(mode):
                add((name, prefix + name, (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, mode & STORED_MODE),
                     None))
                continue
            rel, full = prefix + name, f"{directory}/{name}"
            if stat.S_ISDIR(mode):  # replaced by a folder since it was listed
                add((name + "/", rel, None, None))
            elif stat.S_ISLNK(mode):
                target = os.readlink(full)
                resolved = os.path.realpath(full)
                if os.path.isabs(target) or os.path.commonpath([real_root, resolved]) != real_root:
                    raise InvalidInput(
                        f"The link {rel} -> {target} points outside {top}; links are stored only "
                        "when they stay inside the folder. Replace it with the file it points to."
                    )
                add((name, rel, (st.st_ino, 0, st.st_mtime_ns, st.st_ctime_ns, 0o777), target))
            else:
                raise InvalidInput(not_regular_message(rel))
    finally:
        os.close(dir_fd)
    found.sort()
    return found


def scan(folder: str) -> list[ScannedFile]:
    """Every file under a folder (or the one file named) at once: for small folders."""
    walked = walk(folder)
    try:
        base = walked.folder + "/"
        return [ScannedFile(rel, base + rel, *batch.numbers[i * 5:i * 5 + 5], link=batch.links.get(i))
                for batch in walked.batches() for i, rel in enumerate(batch.relpaths)]
    finally:
        walked.close()


def not_regular_message(path: str) -> str:
    return (f"{path} is not a regular file, folder or link (a socket, pipe or device); "
            "only files and folders can be saved: remove it or copy its contents into a file.")


T = TypeVar("T")


def read_file_once(relpath: str, path: str, step: Callable[[str], T], tries: int = 3) -> T:
    """Run a step that reads one file (storing or hashing it), again if the file changed meanwhile;
    what the user must fix (a file that keeps changing, went away, or is a pipe) is one line."""
    for attempt in range(tries):
        try:
            return step(path)
        except SourceChanged:
            if attempt == tries - 1:
                raise InvalidInput(f"{relpath} kept changing while it was being saved; "
                                   "save it again once whatever writes it has finished.") from None
        except FileNotFoundError:
            raise InvalidInput(f"{relpath} disappeared while it was being saved; save the folder again.") from None
        except NotRegularFile:
            raise InvalidInput(not_regular_message(relpath)) from None
    raise AssertionError("unreachable")


# -- the stat cache: a folder's last save ---------------------------------------------------------
class LastSave:
    """A folder's last save as the stat cache: each entry of its tree with the inode and times it
    had when saved. An entry matches when its path, inode, size, mtime and ctime are the same."""

    def __init__(self, catalog: "Catalog", artifact_id: str) -> None:
        self.catalog, self.artifact_id = catalog, artifact_id

    def _stream(self) -> Iterator[tuple[str, dict, int, int, int]]:
        stats = self.catalog.save_stats(self.artifact_id)
        for _start, text in self.catalog.texts(self.artifact_id):
            numbers = next(stats)
            for i, (path, entry) in enumerate(decode(text).items()):
                yield path, entry, numbers[3 * i], numbers[3 * i + 1], numbers[3 * i + 2]

    def matcher(self) -> Callable[[str, array, int], str | None]:
        """match(relpath, numbers, at): the digest the last save had for an unchanged file, else
        None; called with relative paths in increasing order (numbers[at:at + 5] is the walk's)."""
        stream = self._stream()
        current = next(stream, None)

        def match(relpath: str, numbers: array, at: int) -> str | None:
            nonlocal current
            while current is not None and current[0] < relpath:
                current = next(stream, None)
            if current is None or current[0] != relpath:
                return None
            _path, entry, inode, mtime_ns, ctime_ns = current
            if (entry.get("size"), inode, mtime_ns, ctime_ns) == (numbers[at + 1], numbers[at], numbers[at + 2],
                                                                  numbers[at + 3]):
                return entry["digest"]
            return None

        return match

    def lookup(self, relpath: str, numbers: tuple) -> str | None:
        """The digest of one unchanged file (a large one, stored ahead of the rest), else None."""
        found = self.catalog.stats_entry(self.artifact_id, relpath)
        if found is None:
            return None
        entry, inode, mtime_ns, ctime_ns = found
        if (entry.get("size"), inode, mtime_ns, ctime_ns) == (numbers[1], numbers[0], numbers[2], numbers[3]):
            return entry["digest"]
        return None


class TreeBuilder:
    """The tree a save makes, in path order, and the inode and times of each of its entries (the
    next save's stat cache), both spooled: a chunk of stats for each chunk of the tree."""

    def __init__(self, folder: str | None = None) -> None:
        self.spool = Spool(folder)
        self._stats = tempfile.TemporaryFile(dir=folder)
        self._stat_chunks: list[tuple[int, int]] = []
        self._pending = array("q")
        self.writer = ManifestWriter(self._chunk)

    def _chunk(self, chunk: Chunk) -> None:
        self.spool.add(chunk)
        data = compress(self._pending.tobytes())
        self._stat_chunks.append((self._stats.tell(), len(data)))
        self._stats.write(data)
        self._pending = array("q")

    def add_file(self, relpath: str, digest: str, size: int, mode: int, inode: int, mtime_ns: int,
                 ctime_ns: int) -> None:
        self._pending.extend((inode, mtime_ns, ctime_ns))
        self.writer.add_file(relpath, digest, size, mode)

    def add_link(self, relpath: str, target: str) -> None:
        self._pending.extend((0, 0, 0))
        self.writer.add_link(relpath, target, 0o777)

    def finish(self) -> Tree:
        return Tree(*self.writer.finish(), self.spool)

    def stats(self) -> Iterator[bytes]:
        """The compressed stats of each chunk of the tree, in order."""
        for offset, length in self._stat_chunks:
            self._stats.seek(offset)
            yield self._stats.read(length)

    def close(self) -> None:
        self._stats.close()
        self.spool.close()


@dataclass
class Stored:
    new_bytes: int = 0
    hashed_files: int = 0
    cached_files: int = 0


def store_walk(root, walked: Walk, last: LastSave | None, builder: TreeBuilder,
               progress: Progress | None = None) -> Stored:
    """Store every file a walk found in a local root, in path order, into `builder`; files that
    match the last save are not read.

    Small files are shared with worker processes in batches; large ones are copied and hashed on
    threads, started first (each is one in-kernel copy and BLAKE3 outside the GIL)."""
    base = walked.folder + "/"
    store_file = root.store_file

    def compute(relpath: str) -> tuple:
        """Store one file (here, on a thread or in a worker process): only plain data comes back."""
        digest, new, st = read_file_once(relpath, base + relpath, store_file)
        return digest, new, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode & STORED_MODE

    large = [rel for rel, numbers in walked.large if last is None or last.lookup(rel, numbers) is None]
    match = last.matcher() if last is not None else None
    done = Stored()
    counts = [0, 0]  # bytes and files in the tree so far

    def units() -> Iterator[tuple[tuple, list[str]]]:
        for batch in walked.batches():
            plan: list = []
            todo: list[str] = []
            numbers, links = batch.numbers, batch.links
            for i, rel in enumerate(batch.relpaths):
                if i in links:
                    plan.append(links[i])
                elif rel in futures:
                    plan.append(futures[rel])
                elif match is not None and (digest := match(rel, numbers, 5 * i)) is not None:
                    plan.append((digest,))
                else:
                    plan.append(len(todo))
                    todo.append(rel)
            yield (batch, plan), todo

    def emit(batch: WalkBatch, plan: list, results: list) -> None:
        numbers = batch.numbers
        for i, rel in enumerate(batch.relpaths):
            step = plan[i]
            if type(step) is str:
                builder.add_link(rel, step)
                counts[1] += 1
                continue
            if type(step) is tuple:
                at = 5 * i
                size = numbers[at + 1]
                builder.add_file(rel, step[0], size, numbers[at + 4], numbers[at], numbers[at + 2], numbers[at + 3])
                done.cached_files += 1
            else:
                digest, new, inode, size, mtime_ns, ctime_ns, mode = results[step] if type(step) is int \
                    else step.result()
                builder.add_file(rel, digest, size, mode, inode, mtime_ns, ctime_ns)
                done.hashed_files += 1
                done.new_bytes += new
            counts[0] += size
            counts[1] += 1
            if progress and not counts[1] % every:
                progress(counts[0], counts[1], walked.size, walked.count)
        if progress:
            progress(counts[0], counts[1], walked.size, walked.count)

    every = max(1, walked.count // REPORTS)
    if progress:
        progress(0, 0, walked.size, walked.count)
    children = workers_for(walked.count - len(large), FORK_MIN)
    with Pool(compute, children, AHEAD) as pool:  # forked before any thread starts
        lanes = max(1, min(len(large), (os.cpu_count() or 1) - 1))
        with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="store-lane") as threads:
            futures: dict[str, Future] = {rel: threads.submit(compute, rel) for rel in large}
            try:
                waiting: deque[tuple] = deque()
                for (batch, plan), results in pool.map(units()):
                    waiting.append((batch, plan, results))
                    while waiting and (len(waiting) > AHEAD or _ready(waiting[0][1])):
                        emit(*waiting.popleft())
                while waiting:
                    emit(*waiting.popleft())
            except BaseException:
                for future in futures.values():
                    future.cancel()
                raise
    return done


def _ready(plan: list) -> bool:
    return all(step.done() for step in plan if isinstance(step, Future))
