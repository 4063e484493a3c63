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
from .digest import hash_file
from .roots import NotRegularFile, Root, SourceChanged
from .snapshot import STORED_MODE, LastSave, Stored, TreeBuilder, Walk, read_file_once

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


def upload_walk(root: Root, walked: Walk, last: LastSave | None, builder: TreeBuilder,
                progress: Progress | None = None, workers: int = UPLOADS) -> Stored:
    """Store every file a walk found in a remote root, in path order, into `builder`; files that
    match the last save are not read.

    Entries go into the tree as they are hashed; what to upload (each new content once, with the
    path of one file that has it) is kept until the root has said which blobs it lacks."""
    base = walked.folder + "/"
    done = Stored()
    counts = [0, 0]

    def report(size: int, files: int = 1) -> None:
        counts[0] += size
        counts[1] += files
        if progress:
            progress(counts[0], counts[1], walked.size, walked.count)

    def hashed(relpath: str) -> tuple[str, os.stat_result]:
        return read_file_once(relpath, base + relpath, _hash)

    if progress:
        progress(0, 0, walked.size, walked.count)
    match = last.matcher() if last is not None else None
    sources: dict[str, tuple[str, int]] = {}  # digest -> (relpath, size) of one file with that content
    with ThreadPoolExecutor(max_workers=max(1, min(workers, (os.cpu_count() or 1) * 2))) as pool:
        for batch in walked.batches():
            numbers, links = batch.numbers, batch.links
            cached = {rel: digest for i, rel in enumerate(batch.relpaths) if i not in links and match is not None
                      and (digest := match(rel, numbers, 5 * i)) is not None}
            todo = [rel for i, rel in enumerate(batch.relpaths) if i not in links and rel not in cached]
            found = dict(zip(todo, pool.map(hashed, todo)))
            for i, rel in enumerate(batch.relpaths):
                at = 5 * i
                if i in links:
                    builder.add_link(rel, links[i])
                    report(0)
                elif rel in cached:
                    builder.add_file(rel, cached[rel], numbers[at + 1], numbers[at + 4], numbers[at], numbers[at + 2],
                                     numbers[at + 3])
                    done.cached_files += 1
                    report(numbers[at + 1])
                else:
                    digest, st = found[rel]
                    builder.add_file(rel, digest, st.st_size, st.st_mode & STORED_MODE, st.st_ino, st.st_mtime_ns,
                                     st.st_ctime_ns)
                    sources.setdefault(digest, (rel, st.st_size))
                    done.hashed_files += 1
    missing = root.missing_blobs(set(sources), stored_hint=done.cached_files)
    for digest, (_rel, size) in sources.items():
        if digest not in missing:
            report(size)

    def upload(digest: str) -> int:
        rel, size = sources[digest]
        try:
            return root.upload_file(base + rel, digest, size)
        except (SourceChanged, FileNotFoundError):
            raise InvalidInput(f"{rel} changed while it was being saved; save it again once whatever "
                               "writes it has finished.") from None

    order = sorted(missing, key=lambda d: -sources[d][1])  # the largest first: they take longest
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for digest, new in zip(order, pool.map(upload, order)):
            done.new_bytes += new
            report(sources[digest][1])
    return done
