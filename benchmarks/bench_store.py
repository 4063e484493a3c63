#!/usr/bin/env python3
"""Benchmark of the store against `cp -r` and DVC, on the same tree, in the same run.

The tree is about 2.2 GB: three large files (~700 MB each, like model weights) and 20,000
small files of a few KB spread over subfolders (like a tokenized dataset or an optimizer's
shards). Its content is random but deterministic, so every run stores the same bytes.

Every operation is timed as a command a user would type, in a subprocess, with a warm page
cache and after a `sync`, so that no step pays for the previous step's dirty pages:

  cp -r TREE DEST                                           (median of --repeat runs)
  jupyter-artifacts --root ROOT checkpoint create NAME TREE --json   first snapshot, fresh root
  the same command again                                    snapshot of the unchanged tree
  jupyter-artifacts --root ROOT checkpoint download REF DEST --json
  dvc add TREE                                              (fresh DVC repository and cache)
  dvc add TREE again                                        DVC's re-add of the unchanged tree

DVC is installed with pip into benchmarks/.scratch/dvc-venv (git-ignored) on first use.
Everything big is written under benchmarks/.scratch/ and removed at the end unless --keep.

    python benchmarks/bench_store.py            # the full ~2.2 GB tree
    python benchmarks/bench_store.py --small    # a ~200 MB tree, for a quick look
    python benchmarks/bench_store.py --keep     # keep (and reuse) the generated tree
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

import blake3

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SCRATCH = os.path.join(HERE, ".scratch")
DVC_VENV = os.path.join(SCRATCH, "dvc-venv")

FULL = {"large": 3, "large_size": 700 * 10**6, "small": 20_000, "dirs": (20, 10)}
SMALL = {"large": 3, "large_size": 60 * 10**6, "small": 5_000, "dirs": (10, 5)}

TARGETS = {
    "snapshot_vs_cp": 1.5,         # first snapshot <= 1.5x cp -r
    "dvc_add_vs_snapshot": 4.0,    # dvc add >= 4x our first snapshot
    "dvc_readd_vs_resnapshot": 10.0,  # DVC's unchanged re-add >= 10x our unchanged snapshot
    "download_vs_cp": 1.1,         # download <= 1.1x cp -r
}


# -- the tree ------------------------------------------------------------------------------
def generate_tree(tree: str, spec: dict) -> None:
    """Deterministic content from BLAKE3's extendable output, seeded per file."""
    marker = os.path.join(tree, ".bench-spec.json")
    wanted = json.dumps(spec, sort_keys=True)
    if os.path.exists(marker):
        with open(marker) as handle:
            if handle.read() == wanted:
                print(f"Reusing the tree in {tree}")
                return
    if os.path.exists(tree):
        shutil.rmtree(tree)
    print(f"Generating the tree in {tree} ...", flush=True)
    started = time.perf_counter()
    os.makedirs(os.path.join(tree, "weights"))
    chunk = 64 << 20
    for i in range(spec["large"]):
        xof = blake3.blake3(f"large-{i}".encode())
        with open(os.path.join(tree, "weights", f"shard-{i:02d}.safetensors"), "wb") as handle:
            for offset in range(0, spec["large_size"], chunk):
                handle.write(xof.digest(length=min(chunk, spec["large_size"] - offset), seek=offset))
    groups, subs = spec["dirs"]
    per_dir = -(-spec["small"] // (groups * subs))
    stream = blake3.blake3(b"small-files").digest(length=spec["small"] * 8200)
    sizes = blake3.blake3(b"small-sizes").digest(length=spec["small"] * 2)
    offset = 0
    for n in range(spec["small"]):
        group, rest = divmod(n, subs * per_dir)
        sub = rest // per_dir
        folder = os.path.join(tree, "data", f"group-{group:02d}", f"part-{sub:02d}")
        if n % per_dir == 0:
            os.makedirs(folder, exist_ok=True)
        size = 1024 + int.from_bytes(sizes[2 * n:2 * n + 2], "little") % 7168  # 1 KB to 8 KB
        with open(os.path.join(folder, f"sample-{n:05d}.bin"), "wb") as handle:
            handle.write(stream[offset:offset + size])
        offset += size
    with open(os.path.join(tree, "README.txt"), "w") as handle:
        handle.write("Benchmark tree for jupyter-artifacts.\n")
    with open(marker, "w") as handle:
        handle.write(wanted)
    print(f"  generated in {time.perf_counter() - started:.1f} s")


def tree_stats(tree: str) -> tuple[int, int]:
    files = size = 0
    for dirpath, _dirs, names in os.walk(tree):
        for name in names:
            files += 1
            size += os.lstat(os.path.join(dirpath, name)).st_size
    return files, size


def warm(tree: str) -> None:
    """Read every file once so that every contender starts from a warm page cache."""
    buf = bytearray(8 << 20)
    for dirpath, _dirs, names in os.walk(tree):
        for name in names:
            with open(os.path.join(dirpath, name), "rb", buffering=0) as handle:
                while handle.readinto(buf):
                    pass


def sync() -> None:
    subprocess.run(["sync"], check=True)


def rmtree(path: str) -> None:
    if os.path.lexists(path):
        # blobs are read-only files in read-only-free folders; rm -rf is much faster than shutil here
        subprocess.run(["rm", "-rf", path], check=True)


def folder_bytes(path: str) -> int:
    total = 0
    for dirpath, _dirs, names in os.walk(path):
        for name in names:
            total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


# -- timing --------------------------------------------------------------------------------
def timed(cmd: list[str], env: dict | None = None, cwd: str | None = None) -> tuple[float, str]:
    sync()
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return elapsed, proc.stdout


def timed_call(func) -> tuple[float, object]:
    sync()
    started = time.perf_counter()
    result = func()
    return time.perf_counter() - started, result


def median(values: list[float]) -> float:
    return statistics.median(values)


def fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


# -- contenders ----------------------------------------------------------------------------
class Ours:
    """Our store, through the CLI as a subprocess (or the Python API with --api)."""

    def __init__(self, root: str, use_api: bool) -> None:
        self.root = root
        self.exe = os.path.join(os.path.dirname(sys.executable), "jupyter-artifacts")
        self.use_api = use_api or not self._cli_works()
        self.env = {**os.environ, "JUPYTER_ARTIFACTS_ROOT": root}

    def _cli_works(self) -> bool:
        if not os.path.exists(self.exe):
            return False
        for verb in ("create", "download"):
            proc = subprocess.run([self.exe, "checkpoint", verb, "--help"], capture_output=True, text=True)
            if proc.returncode != 0:
                return False
        return True

    @property
    def how(self) -> str:
        return "Python API (Store.create / Store.download)" if self.use_api else f"CLI ({self.exe})"

    def create(self, name: str, path: str) -> tuple[float, dict]:
        if self.use_api:
            from jupyter_artifacts.store import Store

            elapsed, artifact = timed_call(lambda: Store(root=self.root).create("checkpoint", name, path))
            return elapsed, artifact.to_dict(manifest=False)
        elapsed, out = timed([self.exe, "--root", self.root, "checkpoint", "create", name, path, "--json"], env=self.env)
        return elapsed, json.loads(out)

    def download(self, ref: str, dest: str) -> float:
        if self.use_api:
            from jupyter_artifacts.store import Store

            return timed_call(lambda: Store(root=self.root).download(ref, dest))[0]
        return timed([self.exe, "--root", self.root, "checkpoint", "download", ref, dest, "--json"], env=self.env)[0]


def ensure_dvc() -> str:
    dvc = os.path.join(DVC_VENV, "bin", "dvc")
    if os.path.exists(dvc):
        return dvc
    print(f"Installing DVC into {DVC_VENV} (once) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", DVC_VENV], check=True)
    subprocess.run([os.path.join(DVC_VENV, "bin", "python"), "-m", "pip", "install", "-q",
                    "--disable-pip-version-check", "dvc"], check=True, stderr=subprocess.DEVNULL)
    return dvc


# -- main ----------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="a ~200 MB tree instead of ~2.2 GB")
    parser.add_argument("--keep", action="store_true", help="keep the generated tree (reused next time)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median); default 3")
    parser.add_argument("--api", action="store_true", help="time the Python API instead of the CLI")
    parser.add_argument("--no-dvc", action="store_true", help="skip DVC (its targets are then not checked)")
    parser.add_argument("--scratch", default=SCRATCH, help="where to put the tree, roots and copies")
    args = parser.parse_args()

    spec = SMALL if args.small else FULL
    work = os.path.join(os.path.abspath(args.scratch), "small" if args.small else "full")
    tree = os.path.join(work, "tree")
    os.makedirs(work, exist_ok=True)
    for leftover in ("cp-dest", "root", "download", "dvc"):
        rmtree(os.path.join(work, leftover))
    try:
        return run(args, spec, work, tree)
    finally:
        for leftover in ("cp-dest", "root", "download", "dvc"):
            rmtree(os.path.join(work, leftover))
        if not args.keep:
            rmtree(work)


def run(args: argparse.Namespace, spec: dict, work: str, tree: str) -> int:
    generate_tree(tree, spec)
    files, size = tree_stats(tree)
    print(f"Tree: {files:,} files, {size / 1e9:.2f} GB; warming the page cache ...", flush=True)
    warm(tree)
    repeat = max(1, args.repeat)
    results: dict[str, list[float]] = {}

    # cp -r
    dest = os.path.join(work, "cp-dest")
    results["cp -r"] = []
    for _ in range(repeat):
        rmtree(dest)
        results["cp -r"].append(timed(["cp", "-r", tree, dest])[0])
    rmtree(dest)
    print(f"cp -r: {fmt(results['cp -r'])} s", flush=True)

    # ours: first snapshot (fresh root each run), unchanged re-snapshot, download
    root = os.path.join(work, "root")
    ours = Ours(root, args.api)
    results["snapshot (first)"] = []
    for _ in range(repeat):
        rmtree(root)
        elapsed, first = ours.create("bench", tree)
        results["snapshot (first)"].append(elapsed)
    print(f"Our store through the {ours.how}")
    print(f"snapshot (first): {fmt(results['snapshot (first)'])} s", flush=True)
    objects = os.path.join(root, "objects")

    results["snapshot (unchanged)"] = []
    new_blob_bytes = []
    for _ in range(repeat):
        before = folder_bytes(objects)
        elapsed, again = ours.create("bench", tree)
        new_blob_bytes.append(folder_bytes(objects) - before)
        results["snapshot (unchanged)"].append(elapsed)
        if again.get("digest") != first.get("digest"):
            sys.exit(f"The unchanged tree got another digest: {again.get('digest')} != {first.get('digest')}")
    print(f"snapshot (unchanged): {fmt(results['snapshot (unchanged)'])} s; new blob bytes {new_blob_bytes}",
          flush=True)

    download = os.path.join(work, "download")
    results["download"] = []
    for _ in range(repeat):
        rmtree(download)
        results["download"].append(ours.download(f"bench:v{first['version']}", download))
    got = tree_stats(download)
    rmtree(download)
    if got != (files, size):
        sys.exit(f"The download holds {got[0]} files and {got[1]} bytes; the tree {files} and {size}.")
    print(f"download: {fmt(results['download'])} s", flush=True)
    rmtree(root)

    # DVC
    if not args.no_dvc:
        dvc = ensure_dvc()
        version = subprocess.run([dvc, "--version"], capture_output=True, text=True).stdout.strip()
        repo = os.path.join(work, "dvc")
        os.makedirs(repo)
        env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
        subprocess.run([dvc, "init", "--no-scm", "-q"], cwd=repo, env=env, check=True)
        subprocess.run([dvc, "config", "core.analytics", "false"], cwd=repo, env=env, check=True)
        subprocess.run(["cp", "-r", tree, os.path.join(repo, "tree")], check=True)
        warm(os.path.join(repo, "tree"))
        results["dvc add (first)"] = [timed([dvc, "add", "-q", "tree"], env=env, cwd=repo)[0]]
        print(f"dvc add (first), DVC {version}: {fmt(results['dvc add (first)'])} s", flush=True)
        results["dvc add (unchanged)"] = [timed([dvc, "add", "-q", "tree"], env=env, cwd=repo)[0]
                                          for _ in range(repeat)]
        print(f"dvc add (unchanged): {fmt(results['dvc add (unchanged)'])} s", flush=True)
        rmtree(repo)

    report(results, new_blob_bytes, files, size, ours.how, args)
    return 0 if all(ok for _, ok in checks(results, new_blob_bytes)) else 1


def checks(results: dict[str, list[float]], new_blob_bytes: list[int]) -> list[tuple[str, bool]]:
    m = {k: median(v) for k, v in results.items()}
    out = [
        (f"first snapshot <= {TARGETS['snapshot_vs_cp']}x cp -r", m["snapshot (first)"] / m["cp -r"] <= TARGETS["snapshot_vs_cp"]),
        (f"download <= {TARGETS['download_vs_cp']}x cp -r", m["download"] / m["cp -r"] <= TARGETS["download_vs_cp"]),
        ("unchanged snapshot writes no new blob bytes", not any(new_blob_bytes)),
    ]
    if "dvc add (first)" in m:
        out.insert(1, (f"first snapshot >= {TARGETS['dvc_add_vs_snapshot']}x faster than dvc add",
                       m["dvc add (first)"] / m["snapshot (first)"] >= TARGETS["dvc_add_vs_snapshot"]))
        out.insert(2, (f"unchanged snapshot >= {TARGETS['dvc_readd_vs_resnapshot']}x faster than DVC's re-add",
                       m["dvc add (unchanged)"] / m["snapshot (unchanged)"] >= TARGETS["dvc_readd_vs_resnapshot"]))
    return out


def report(results: dict[str, list[float]], new_blob_bytes: list[int], files: int, size: int, how: str,
           args: argparse.Namespace) -> None:
    m = {k: median(v) for k, v in results.items()}
    cp = m["cp -r"]
    print()
    print(f"Tree: {files:,} files, {size / 1e9:.2f} GB ({'--small' if args.small else 'full'}); "
          f"{os.cpu_count()} CPUs; ours via the {how}")
    print(f"{'operation':<24}{'median s':>10}{'x cp -r':>10}   runs (s)")
    for name, values in results.items():
        print(f"{name:<24}{m[name]:>10.3f}{m[name] / cp:>10.2f}   {fmt(values)}")
    print()
    print(f"{'target':<58}{'measured':>12}   result")
    rows = [
        (f"first snapshot <= {TARGETS['snapshot_vs_cp']}x cp -r", f"{m['snapshot (first)'] / cp:.2f}x"),
    ]
    if "dvc add (first)" in m:
        rows.append((f"first snapshot >= {TARGETS['dvc_add_vs_snapshot']}x faster than dvc add",
                     f"{m['dvc add (first)'] / m['snapshot (first)']:.1f}x"))
        rows.append((f"unchanged snapshot >= {TARGETS['dvc_readd_vs_resnapshot']}x faster than DVC's re-add",
                     f"{m['dvc add (unchanged)'] / m['snapshot (unchanged)']:.1f}x"))
    rows.append((f"download <= {TARGETS['download_vs_cp']}x cp -r", f"{m['download'] / cp:.2f}x"))
    rows.append(("unchanged snapshot writes no new blob bytes", f"{max(new_blob_bytes)} B"))
    verdict = dict(checks(results, new_blob_bytes))
    for (name, value) in rows:
        print(f"{name:<58}{value:>12}   {'PASS' if verdict[name] else 'FAIL'}")
    if args.no_dvc:
        print("(DVC skipped: its two targets were not checked)")


if __name__ == "__main__":
    sys.exit(main())
