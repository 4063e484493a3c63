"""Give a caller its own copy of an artifact's files, which it may change without touching the store."""

from __future__ import annotations

import os
import threading
from collections import Counter

from ..errors import Conflict, InvalidInput, quote
from ..progress import Progress
from .snapshot import LARGE_FILE, run_in_lanes
from .validation import leads_outside

METHODS = ("auto", "copy", "reflink", "hardlink")


def check_destination(dest: str) -> str:
    dest = os.path.abspath(os.path.expanduser(dest))
    if os.path.exists(dest) and (not os.path.isdir(dest) or os.listdir(dest)):
        raise Conflict(f"{dest} already exists and is not an empty folder; choose a new destination.")
    return dest


def materialize(root, manifest: dict[str, dict], dest: str, method: str = "auto",
                progress: Progress | None = None, workers: int | None = None) -> dict[str, int]:
    """Write the manifest's files under dest; returns how many files each method produced.

    `auto` clones (reflink) where the file system can and copies in the kernel otherwise;
    `hardlink` shares the store's read-only blobs and is only used when asked for.
    """
    if method not in METHODS:
        raise InvalidInput(f"Unknown method {quote(method)}: use one of {', '.join(METHODS)}.")
    dest = check_destination(dest)
    escape = leads_outside(manifest)  # the last line of defence: records are validated when read
    if escape is not None:
        raise InvalidInput(f"The artifact's path {quote(escape)} would be written outside {dest}; nothing was "
                           "written. Run `jupyter artifacts verify` and report how this artifact was made.")
    os.makedirs(dest, exist_ok=True)
    dirs = {os.path.dirname(p) for p in manifest}
    for d in sorted(dirs):
        if d:
            os.makedirs(os.path.join(dest, d), exist_ok=True)
    used: Counter = Counter()
    lock = threading.Lock()
    done = {"bytes": 0, "files": 0}
    total_bytes, total_files = sum(e.get("size", 0) for e in manifest.values()), len(manifest)
    state = {"method": method}
    materialize_blob = root.materialize_blob
    join = os.path.join

    def compute(rel: str) -> str:
        """Write one file (in this process or a worker process); returns the method used."""
        entry = manifest[rel]
        target = join(dest, rel)
        if "link" in entry:
            os.symlink(entry["link"], target)
            return "link"
        try:
            how = materialize_blob(entry["digest"], target, entry["mode"], state["method"], entry.get("size"))
        except FileNotFoundError:
            raise Conflict(f"The stored file for {rel} is missing; run `jupyter artifacts verify`.") from None
        if how == "copy" and state["method"] == "auto":
            state["method"] = "copy"  # this file system does not clone; stop trying
        return how

    def absorb(rel: str, how: str) -> None:
        with lock:
            if how == "copy" and state["method"] == "auto":
                state["method"] = "copy"
            used[how] += 1
            done["files"] += 1
            done["bytes"] += manifest[rel].get("size", 0)
            if progress:
                progress(done["bytes"], done["files"], total_bytes, total_files)

    def write_one(rel: str) -> None:
        absorb(rel, compute(rel))

    # Large files on background threads (in-kernel copies, outside the GIL), small ones here.
    paths = sorted(manifest)
    large = sorted((p for p in paths if manifest[p].get("size", 0) >= LARGE_FILE), key=lambda p: -manifest[p]["size"])
    small = [p for p in paths if manifest[p].get("size", 0) < LARGE_FILE]
    run_in_lanes(large, small, write_one, workers, compute=compute, absorb=absorb)
    return dict(used)
