"""Validating a data manifest: every line checked (JSON, keys, url, path, collisions, packages) before
anything is fetched, as `dataset create --manifest` and `POST artifacts` do.

Writes manifests of 20,000 and 100,000 lines (web, S3, GCS and git URLs in turn; paths spread over
100 folders; the last line collides with line 5, so the whole file is read and one error reported)
and times `read_manifest` plus the per-line preflight, with the server's local roots. Then again
with one line in five a local path, which the server resolves (links followed) and checks against
its roots: a few system calls per line, reported but not held to the target. Linear checks take
about 5 times as long for 5 times the lines; the old pairwise collision check took 25 times (36 s
for 20,000 lines).

    python benchmarks/bench_manifest.py [--lines 100000] [--target 2.0]

Prints the best of three times, the ratio, and PASS or FAIL against the target (exit status 1 on FAIL).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

from jupyter_artifacts.errors import InvalidInput
from jupyter_artifacts.sources.create import preflight
from jupyter_artifacts.sources.manifests import read_manifest


REMOTE = ("https://example.com/data/{i}.csv", "s3://bucket/shards/{i}.parquet", "https://github.com/org/tools-{i}.git",
          "gs://bucket/images/{i}.png")


def write_manifest(folder: str, lines: int, urls: tuple[str, ...] = REMOTE) -> str:
    """`lines` lines cycling through `urls`; the last one collides with line 5."""
    path = os.path.join(folder, f"manifest-{lines}-{len(urls)}.jsonl")
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(1, lines):
            handle.write(json.dumps({"url": urls[i % len(urls)].format(i=i), "path": f"part{i % 100}/f{i}"}) + "\n")
        handle.write(json.dumps({"url": "https://example.com/again.csv", "path": "part5/f5"}) + "\n")
    return path


def validate(path: str, lines: int, root: str) -> float:
    """Seconds to check every line, as creating a dataset from the manifest does before fetching."""
    started = time.perf_counter()
    try:
        for entry in read_manifest(path, cwd=root, local_roots=[root]):
            preflight(entry.spec)
    except InvalidInput as exc:
        assert exc.details["errors"] == [f"line {lines}: path 'part5/f5' collides with line 5"], exc.message
    else:
        raise AssertionError("the colliding last line was not reported")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--target", type=float, default=2.0, help="seconds allowed for --lines lines of URLs")
    args = parser.parse_args()
    small = args.lines // 5
    with tempfile.TemporaryDirectory() as root:
        local = (*REMOTE, os.path.join(root, "local", "{i}.csv"))  # one line in five a path on this machine
        runs = {}
        for name, urls in (("remote URLs", REMOTE), ("with local paths", local)):
            files = {n: write_manifest(root, n, urls) for n in (small, args.lines)}
            validate(files[small], small, root)  # warm-up: imports, first package look-ups
            # the best of three: the check is CPU-bound, and other work on a shared machine only adds
            runs[name] = {n: min(validate(files[n], n, root) for _ in range(3)) for n in (small, args.lines)}
    ok = runs["remote URLs"][args.lines] <= args.target
    for name, times in runs.items():
        print(f"{name}: {small:,} lines {times[small]:.2f} s, {args.lines:,} lines {times[args.lines]:.2f} s "
              f"(x{times[args.lines] / times[small]:.1f} for x5 the lines)")
    print(f"target: {args.lines:,} lines of URLs in {args.target:.1f} s: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
