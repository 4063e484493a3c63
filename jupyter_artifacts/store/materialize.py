"""Give a caller its own copy of an artifact's files, which it may change without touching the store."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from ..errors import Conflict, InvalidInput, quote
from ..progress import Progress
from .snapshot import FORK_MIN, LARGE_FILE, REPORTS
from .validation import InvalidRecord, PathCheck
from .workers import Pool, workers_for

METHODS = ("auto", "copy", "reflink", "hardlink")


def check_destination(dest: str) -> str:
    dest = os.path.abspath(os.path.expanduser(dest))
    if os.path.exists(dest) and (not os.path.isdir(dest) or os.listdir(dest)):
        raise Conflict(f"{dest} already exists and is not an empty folder; choose a new destination.")
    return dest


class Materializing:
    """What to write: an artifact's entries in path order, a batch at a time, and their totals."""

    def __init__(self, batches: Iterable[dict[str, dict]], size: int, count: int) -> None:
        self.batches, self.size, self.count = batches, size, count

    @classmethod
    def of(cls, manifest: dict[str, dict]) -> "Materializing":
        """A manifest held whole (a few files)."""
        return cls([dict(sorted(manifest.items()))], sum(e.get("size", 0) for e in manifest.values()), len(manifest))


def materialize(root, manifest: Materializing | dict[str, dict], dest: str, method: str = "auto",
                progress: Progress | None = None) -> dict[str, int]:
    """Write the manifest's files under dest; returns how many files each method produced.

    `auto` clones (reflink) where the file system can and copies in the kernel otherwise;
    `hardlink` shares the store's read-only blobs and is only used when asked for. Every batch's
    paths are checked before it is written (records are checked when read: this is the last line
    of defence), and links are made last, once all of them are known to lead inside.
    """
    if method not in METHODS:
        raise InvalidInput(f"Unknown method {quote(method)}: use one of {', '.join(METHODS)}.")
    dest = check_destination(dest)
    entries = manifest if isinstance(manifest, Materializing) else Materializing.of(manifest)
    check = PathCheck(dest)
    used: Counter = Counter()
    state = {"method": method}
    done = [0, 0]  # bytes, files
    links: list[tuple[str, str]] = []
    made: set[str] = set()
    materialize_blob = root.materialize_blob

    def compute(item: tuple) -> str:
        """Write one file (here, on a thread or in a worker process); returns the method used."""
        rel, digest, mode, size = item
        try:
            how = materialize_blob(digest, f"{dest}/{rel}", mode, state["method"], size)
        except FileNotFoundError:
            raise Conflict(f"The stored file for {rel} is missing; run `jupyter artifacts verify`.") from None
        if how == "copy" and state["method"] == "auto":
            state["method"] = "copy"  # this file system does not clone; stop trying
        return how

    def refuse(exc: InvalidRecord) -> InvalidInput:
        return InvalidInput(f"The artifact's path {quote(check.offender)} would be written outside {dest}; nothing "
                            "outside was written. Run `jupyter artifacts verify` and report how this artifact was made.")

    every = max(1, entries.count // REPORTS)

    def absorb(items: list[tuple], results: list[str]) -> None:
        for (_rel, _digest, _mode, size), how in zip(items, results):
            used[how] += 1
            done[0] += size
            done[1] += 1
            if progress and not done[1] % every:
                progress(done[0], done[1], entries.size, entries.count)

    large: list[tuple[tuple, Future]] = []

    def units(threads: ThreadPoolExecutor) -> Iterator[tuple[list, list[tuple]]]:
        for batch in entries.batches:
            try:
                check.add_paths(list(batch))
                for rel, entry in batch.items():
                    if "link" in entry:
                        check.add_link(rel, entry["link"])
            except InvalidRecord as exc:
                raise refuse(exc) from None
            for rel in batch:
                folder = rel.rpartition("/")[0]
                if folder not in made:
                    os.makedirs(f"{dest}/{folder}" if folder else dest, exist_ok=True)
                    while folder not in made:
                        made.add(folder)
                        folder = folder.rpartition("/")[0]
            small = []
            for rel, entry in batch.items():
                if "link" in entry:
                    links.append((rel, entry["link"]))
                    continue
                item = (rel, entry["digest"], entry["mode"], entry["size"])
                if entry["size"] >= LARGE_FILE:  # an in-kernel copy on a thread, outside the GIL
                    large.append((item, threads.submit(compute, item)))
                else:
                    small.append(item)
            yield small, small

    with Pool(compute, workers_for(entries.count, FORK_MIN)) as pool:  # forked before any thread starts
        with ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 1) - 1)) as threads:
            try:
                for items, results in pool.map(units(threads)):
                    absorb(items, results)
                for item, future in large:
                    absorb([item], [future.result()])
            except BaseException:
                for _item, future in large:
                    future.cancel()
                raise
    os.makedirs(dest, exist_ok=True)
    try:
        check.finish()
    except InvalidRecord as exc:
        raise refuse(exc) from None
    for rel, target in links:
        os.symlink(target, f"{dest}/{rel}")
        used["link"] += 1
    done[1] += len(links)
    if progress and links:
        progress(done[0], done[1], entries.size, entries.count)
    return dict(used)
