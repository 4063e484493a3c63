"""Give a caller its own copy of an artifact's files, which it may change without touching the store."""

from __future__ import annotations

import os
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from ..errors import Conflict, InvalidInput
from .snapshot import Progress

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
        raise InvalidInput(f"Unknown method {method!r}: use one of {', '.join(METHODS)}.")
    dest = check_destination(dest)
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

    def write(paths: list[str]) -> None:
        for rel in paths:
            entry = manifest[rel]
            target = os.path.join(dest, rel)
            if "link" in entry:
                os.symlink(entry["link"], target)
                how = "link"
            else:
                try:
                    how = root.materialize_blob(entry["digest"], target, entry["mode"], state["method"])
                except FileNotFoundError:
                    raise Conflict(f"The stored file for {rel} is missing; run `jupyter artifacts verify`.") from None
                if how == "copy" and state["method"] == "auto":
                    state["method"] = "copy"  # this file system does not clone; stop trying
            with lock:
                used[how] += 1
                done["files"] += 1
                done["bytes"] += entry.get("size", 0)
                if progress:
                    progress(done["bytes"], done["files"], total_bytes, total_files)

    paths = sorted(manifest)
    chunks = [paths[i:i + 256] for i in range(0, len(paths), 256)]
    if len(chunks) <= 1:
        for chunk in chunks:
            write(chunk)
    else:
        with ThreadPoolExecutor(max_workers=workers or min(8, (os.cpu_count() or 1) * 2)) as pool:
            for future in [pool.submit(write, c) for c in chunks]:
                future.result()
    return dict(used)
