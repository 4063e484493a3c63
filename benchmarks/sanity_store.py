#!/usr/bin/env python3
"""A quick end-to-end check of the store's fast paths: create, re-create, change, download, verify.

Runs both ways a local root can write blobs (anonymous O_TMPFILE files linked into place, and
the fallback of a temporary name renamed into place) and both kinds of file (small ones read
whole, large ones copied in the kernel and hashed after). Exits non-zero on the first problem.

    python benchmarks/sanity_store.py
"""

from __future__ import annotations

import filecmp
import os
import stat
import sys
import tempfile

import blake3

from jupyter_artifacts.store import Store, snapshot
from jupyter_artifacts.store.roots.local import SMALL_FILE
from jupyter_artifacts.store.snapshot import LARGE_FILE


def check(condition: bool, what: str) -> None:
    if not condition:
        sys.exit(f"FAILED: {what}")


def write(path: str, data: bytes, mode: int = 0o644) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)


def make_tree(base: str) -> None:
    write(f"{base}/weights/big.bin", blake3.blake3(b"big").digest(length=LARGE_FILE + 12345))
    write(f"{base}/weights/medium.bin", blake3.blake3(b"medium").digest(length=SMALL_FILE + 1))
    write(f"{base}/weights/copy-of-big.bin", blake3.blake3(b"big").digest(length=LARGE_FILE + 12345))
    write(f"{base}/run.sh", b"#!/bin/sh\necho hi\n", 0o755)
    write(f"{base}/empty", b"")
    for i in range(600):
        write(f"{base}/data/part-{i % 7}/sample-{i:04d}.txt", f"sample {i}\n".encode() * (i % 50 + 1))
    write(f"{base}/data/dup-a.txt", b"same")
    write(f"{base}/data/dup-b.txt", b"same")
    os.symlink("run.sh", f"{base}/link-to-run")


def blob_files(root: str) -> dict[str, os.stat_result]:
    found = {}
    for dirpath, _dirs, names in os.walk(os.path.join(root, "objects")):
        for name in names:
            found[os.path.join(dirpath, name)] = os.lstat(os.path.join(dirpath, name))
    return found


def same_tree(a: str, b: str) -> bool:
    for dirpath, _dirs, names in os.walk(a):
        for name in names:
            left = os.path.join(dirpath, name)
            right = os.path.join(b, os.path.relpath(left, a))
            if os.path.islink(left):
                if not os.path.islink(right) or os.readlink(left) != os.readlink(right):
                    return False
                continue
            if not filecmp.cmp(left, right, shallow=False):
                return False
            if bool(os.stat(left).st_mode & stat.S_IXUSR) != bool(os.stat(right).st_mode & stat.S_IXUSR):
                return False
    count = lambda top: sum(len(n) for _, _, n in os.walk(top))  # noqa: E731
    return count(a) == count(b)


def run(work: str, anonymous: bool, processes: bool = False) -> None:
    tree, root = os.path.join(work, "tree"), os.path.join(work, "root")
    make_tree(tree)
    store = Store(root=root)
    if not anonymous:
        store.root._tmpfile = False
    how = "O_TMPFILE" if store.root._tmpfile else "rename"
    # small files shared with worker processes (normally only from snapshot.FORK_MIN files on)
    snapshot.FORK_MIN = 100 if processes else 10**9
    if processes:
        how += ", worker processes"

    first = store.create("checkpoint", "ck", tree)
    blobs = blob_files(root)
    check(first.file_count == 608, f"[{how}] file count {first.file_count}")
    for path, st in blobs.items():
        check(stat.S_IMODE(st.st_mode) == 0o444, f"[{how}] blob {path} is not read-only")
        digest = "blake3:" + os.path.basename(os.path.dirname(path)) + os.path.basename(path)
        check(store.root.hash_blob(digest) == digest, f"[{how}] blob {path} does not match its name")
    check(len(blobs) == 608 - 3, f"[{how}] {len(blobs)} blobs (duplicates must be stored once)")
    check(os.listdir(os.path.join(root, "tmp")) == [], f"[{how}] leftovers in tmp/")

    again = store.create("checkpoint", "ck", tree)
    check(again.digest == first.digest, f"[{how}] the unchanged tree got another digest")
    check(blob_files(root).keys() == blobs.keys(), f"[{how}] the unchanged tree wrote blobs")

    write(f"{tree}/data/part-3/sample-0003.txt", b"changed\n")
    write(f"{tree}/weights/big.bin", blake3.blake3(b"big2").digest(length=LARGE_FILE + 1))
    third = store.create("checkpoint", "ck", tree)
    check(third.digest != first.digest, f"[{how}] the changed tree kept its digest")
    diff = store.diff("ck:v2", "ck:v3")
    check(sorted(diff["changed"]) == ["data/part-3/sample-0003.txt", "weights/big.bin"], f"[{how}] diff {diff}")

    out = os.path.join(work, "out")
    result = store.download("ck:v3", out)
    check(same_tree(tree, out), f"[{how}] the download differs from the tree")
    check(sum(result["methods"].values()) == 608, f"[{how}] methods {result['methods']}")
    old = os.path.join(work, "old")
    store.download("ck:v1", old)
    check(filecmp.cmp(f"{old}/weights/big.bin", f"{old}/weights/copy-of-big.bin", shallow=False),
          f"[{how}] v1 lost its content")
    report = store.verify()
    check(report["ok"], f"[{how}] verify: {report}")
    print(f"ok: {how}: create, unchanged re-create (no new blobs), change, download, verify")


def main() -> int:
    for anonymous, processes in ((True, False), (False, False), (True, True), (False, True)):
        with tempfile.TemporaryDirectory(dir=os.path.join(os.path.dirname(__file__), ".scratch")
                                         if os.path.isdir(os.path.join(os.path.dirname(__file__), ".scratch"))
                                         else None) as work:
            run(work, anonymous, processes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
