#!/usr/bin/env python3
"""Benchmark of the store against `cp -r` and DVC, on the same tree, in the same run.

The tree is about 2.2 GB: three large files (~700 MB each, like model weights) and 20,000
small files of a few KB spread over subfolders (like a tokenized dataset or an optimizer's
shards). Its content is random but deterministic, so every run stores the same bytes.

Every operation is timed as a command a user would type, in a subprocess, in rounds that
interleave cp -r with our operations; before each step its input is read once (a warm page
cache) and `sync` runs; cp -r and the download run back to back from the same state.
Medians of --repeat rounds; CPU time is reported too:

  cp -r TREE DEST
  jupyter-artifacts --root ROOT checkpoint create NAME TREE --json   first snapshot, new root
  the same command again                                    snapshot of the unchanged tree
  jupyter-artifacts --root ROOT checkpoint download REF DEST --json
  dvc add TREE                                              (fresh DVC repository and cache)
  dvc add TREE again                                        DVC's re-add of the unchanged tree

DVC is installed with pip into benchmarks/.scratch/dvc-venv (git-ignored) on first use.
Everything big is written under benchmarks/.scratch/ and removed at the end unless --keep.
See docs/performance.md for the method and the figures.

    python benchmarks/bench_store.py            # the full ~2.2 GB tree
    python benchmarks/bench_store.py --small    # a ~200 MB tree, for a quick look
    python benchmarks/bench_store.py --keep     # keep (and reuse) the generated tree
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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
        # blobs are read-only files; rm -rf is much faster than shutil here
        subprocess.run(["rm", "-rf", path], check=True)


def shed(path: str) -> None:
    """Free the memory a finished step's output holds (its large files) but keep its small files.

    On ext4 without a journal (this kind of VM), the inode allocator skips inodes freed in the
    last 60 to 360 seconds and reads an inode table block for each one it skips: right after
    20,000 files are deleted, creating files costs milliseconds each instead of microseconds,
    for whichever command runs next. Deleting thousands of files between timed steps would time
    that, not the commands; so small files stay until the end of the run.
    """
    for dirpath, _dirs, names in os.walk(path):
        for name in names:
            full = os.path.join(dirpath, name)
            if os.lstat(full).st_size >= 1 << 20:
                os.unlink(full)


def prime(work: str, size: int) -> None:
    """Write and delete `size` bytes, so that every timed step that writes finds the same memory.

    In a VM that hands freed memory back to the host, writing to pages the guest freed moments
    ago is several times cheaper than writing to pages it must fault in from the host again; so
    a step that follows a deletion (cp -r after the previous round's copy was dropped) would get
    an unfair start over one that does not (a download after a snapshot). Each timed step that
    writes data follows this untimed write-and-delete of the tree's size, after its warm-up: a
    warm-up that has to read from disk (page cache that was paged out) takes freed pages too.
    """
    path = os.path.join(work, "ballast")
    chunk = blake3.blake3(b"ballast").digest(length=64 << 20)
    with open(path, "wb") as handle:
        for offset in range(0, size, len(chunk)):
            handle.write(chunk[:min(len(chunk), size - offset)])
    sync()
    os.unlink(path)


def folder_bytes(path: str) -> int:
    total = 0
    for dirpath, _dirs, names in os.walk(path):
        for name in names:
            total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


# -- timing ----------------------------------------------------------------------------------
def timed(cmd: list[str], env: dict | None = None, cwd: str | None = None) -> tuple[float, float, str]:
    """Wall-clock seconds, CPU seconds (user + system, all threads) and stdout of one command."""
    sync()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, proc.stdout


def timed_call(func) -> tuple[float, float, object]:
    sync()
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), result


def median(values: list[float]) -> float:
    return statistics.median(values)


def fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


# -- contenders ----------------------------------------------------------------------------
class Ours:
    """Our store, through the CLI as a subprocess (or the Python API with --api)."""

    def __init__(self, root: str, use_api: bool) -> None:
        self.root = root
        self.exe = os.path.join(os.path.dirname(sys.executable), "jupyter-artifacts")
        # as installed by pip: with compiled bytecode (the checkout may be an editable install)
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        self.env["JUPYTER_ARTIFACTS_ROOT"] = root
        subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(REPO, "jupyter_artifacts")],
                       env=self.env, stdout=subprocess.DEVNULL, check=False)
        self.use_api = use_api or not self._cli_works()

    def _cli_works(self) -> bool:
        if not os.path.exists(self.exe):
            return False
        for verb in ("create", "download"):
            proc = subprocess.run([self.exe, "checkpoint", verb, "--help"], capture_output=True, text=True,
                                  env=self.env)
            if proc.returncode != 0:
                return False
        return True

    @property
    def how(self) -> str:
        return "Python API (Store.create / Store.download)" if self.use_api else "CLI (jupyter-artifacts)"

    def create(self, name: str, path: str) -> tuple[float, float, dict]:
        if self.use_api:
            from jupyter_artifacts.store import Store

            elapsed, cpu, artifact = timed_call(lambda: Store(root=self.root).create("checkpoint", name, path))
            return elapsed, cpu, artifact.to_dict(manifest=False)
        elapsed, cpu, out = timed([self.exe, "--root", self.root, "checkpoint", "create", name, path, "--json"],
                                  env=self.env)
        return elapsed, cpu, json.loads(out)

    def download(self, ref: str, dest: str) -> tuple[float, float]:
        if self.use_api:
            from jupyter_artifacts.store import Store

            return timed_call(lambda: Store(root=self.root).download(ref, dest))[:2]
        return timed([self.exe, "--root", self.root, "checkpoint", "download", ref, dest, "--json"], env=self.env)[:2]


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
    runs = os.path.join(work, "runs")
    os.makedirs(work, exist_ok=True)
    rmtree(runs)  # what an interrupted run left
    try:
        return run(args, spec, runs, tree)
    finally:
        rmtree(runs)
        if not args.keep:
            rmtree(work)


def run(args: argparse.Namespace, spec: dict, work: str, tree: str) -> int:
    generate_tree(tree, spec)
    os.makedirs(work, exist_ok=True)
    files, size = tree_stats(tree)
    print(f"Tree: {files:,} files, {size / 1e9:.2f} GB", flush=True)
    repeat = max(1, args.repeat)
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}

    def record(name: str, measured: tuple) -> None:
        wall.setdefault(name, []).append(measured[0])
        cpu.setdefault(name, []).append(measured[1])
        print(f"  {name:<22} {measured[0]:7.2f} s wall {measured[1]:7.2f} s cpu", flush=True)

    dvc = env = None
    if not args.no_dvc:
        dvc = ensure_dvc()
        version = subprocess.run([dvc, "--version"], capture_output=True, text=True).stdout.strip()
        print(f"DVC {version}", flush=True)
        env = {**os.environ, "DVC_NO_ANALYTICS": "1"}

    def dvc_round(round_no: int) -> None:
        """DVC's first add into a fresh repository and cache, then its re-add, in every round next
        to ours: timed once, minutes away from ours, the first add's ratio measured the machine."""
        repo = os.path.join(work, f"dvc-{round_no}")
        os.makedirs(repo)
        subprocess.run([dvc, "init", "--no-scm", "-q"], cwd=repo, env=env, check=True)
        subprocess.run([dvc, "config", "core.analytics", "false"], cwd=repo, env=env, check=True)
        subprocess.run(["cp", "-r", tree, os.path.join(repo, "tree")], check=True)
        warm(os.path.join(repo, "tree"))
        prime(work, size)
        record("dvc add (first)", timed([dvc, "add", "-q", "tree"], env=env, cwd=repo))
        warm(os.path.join(repo, "tree"))
        record("dvc add (unchanged)", timed([dvc, "add", "-q", "tree"], env=env, cwd=repo))
        shed(repo)

    ours = Ours(os.path.join(work, "root-0"), args.api)
    print(f"Our store through the {ours.how}")
    new_blob_bytes: list[int] = []
    first: dict = {}
    # Rounds interleave cp -r, our operations and DVC's, so that whatever else the machine does
    # weighs on all alike. Every output goes to a new folder (see shed). Before each timed step the
    # data it reads is read once (a warm page cache) and `sync` flushes earlier writes. cp -r and
    # the download, the two copies compared, run back to back from the same state (the tree and
    # the store both read, the same ballast written and freed), in turns first.
    for round_no in range(1, repeat + 1):
        print(f"Round {round_no} of {repeat}", flush=True)
        ours.root = root = os.path.join(work, f"root-{round_no}")
        ours.env["JUPYTER_ARTIFACTS_ROOT"] = root
        objects = os.path.join(root, "objects")
        warm(tree)
        prime(work, size)
        elapsed, used, first = ours.create("bench", tree)
        record("snapshot (first)", (elapsed, used))

        warm(tree)
        before = folder_bytes(objects)
        elapsed, used, again = ours.create("bench", tree)
        new_blob_bytes.append(folder_bytes(objects) - before)
        record("snapshot (unchanged)", (elapsed, used))
        if again.get("digest") != first.get("digest"):
            sys.exit(f"The unchanged tree got another digest: {again.get('digest')} != {first.get('digest')}")

        copies = [("cp -r", os.path.join(work, f"cp-{round_no}")),
                  ("download", os.path.join(work, f"download-{round_no}"))]
        for name, dest in copies if round_no % 2 else copies[::-1]:
            warm(tree)
            warm(objects)
            prime(work, size)
            if name == "cp -r":
                record(name, timed(["cp", "-r", tree, dest]))
            else:
                record(name, ours.download(f"bench:v{first['version']}", dest))
                got = tree_stats(dest)
                if got != (files, size):
                    sys.exit(f"The download holds {got[0]} files and {got[1]} bytes; the tree {files} and {size}.")
            shed(dest)
        shed(root)
        if dvc:
            dvc_round(round_no)

    report(wall, cpu, new_blob_bytes, files, size, ours.how, args)
    return 0 if all(ok for _, _, ok in checks(wall, new_blob_bytes)) else 1


def checks(wall: dict[str, list[float]], new_blob_bytes: list[int]) -> list[tuple[str, str, bool]]:
    """(target, measured, passed) for every target, on the medians of wall-clock time."""
    m = {k: median(v) for k, v in wall.items()}
    out = [(f"first snapshot <= {TARGETS['snapshot_vs_cp']}x cp -r", f"{m['snapshot (first)'] / m['cp -r']:.2f}x",
            m["snapshot (first)"] / m["cp -r"] <= TARGETS["snapshot_vs_cp"])]
    if "dvc add (first)" in m:
        ratio = m["dvc add (first)"] / m["snapshot (first)"]
        out.append((f"first snapshot >= {TARGETS['dvc_add_vs_snapshot']:g}x faster than dvc add", f"{ratio:.1f}x",
                    ratio >= TARGETS["dvc_add_vs_snapshot"]))
        ratio = m["dvc add (unchanged)"] / m["snapshot (unchanged)"]
        out.append((f"unchanged snapshot >= {TARGETS['dvc_readd_vs_resnapshot']:g}x faster than DVC's re-add",
                    f"{ratio:.1f}x", ratio >= TARGETS["dvc_readd_vs_resnapshot"]))
    out.append(("unchanged snapshot writes no new blob bytes", f"{max(new_blob_bytes)} B", not any(new_blob_bytes)))
    out.append((f"download <= {TARGETS['download_vs_cp']}x cp -r", f"{m['download'] / m['cp -r']:.2f}x",
                m["download"] / m["cp -r"] <= TARGETS["download_vs_cp"]))
    return out


def report(wall: dict[str, list[float]], cpu: dict[str, list[float]], new_blob_bytes: list[int], files: int,
           size: int, how: str, args: argparse.Namespace) -> None:
    m = {k: median(v) for k, v in wall.items()}
    c = {k: median(v) for k, v in cpu.items()}
    cp = m["cp -r"]
    load = os.getloadavg()[0]
    print()
    print(f"Tree: {files:,} files, {size / 1e9:.2f} GB ({'--small' if args.small else 'full'}); "
          f"{os.cpu_count()} CPUs, load average {load:.1f}; ours via the {how}")
    print(f"{'operation':<22}{'wall s':>9}{'x cp -r':>9}{'cpu s':>9}   wall of each run (s)")
    for name in sorted(wall, key=lambda n: (n != "cp -r", n.startswith("dvc"))):
        print(f"{name:<22}{m[name]:>9.2f}{m[name] / cp:>9.2f}{c[name]:>9.2f}   {fmt(wall[name])}")
    print("(medians; cpu = user + system time of the command, all its threads)")
    print()
    print(f"{'target (wall-clock medians)':<58}{'measured':>10}   result")
    for name, value, ok in checks(wall, new_blob_bytes):
        print(f"{name:<58}{value:>10}   {'PASS' if ok else 'FAIL'}")
    if args.no_dvc:
        print("(DVC skipped: its two targets were not checked)")
    if load > (os.cpu_count() or 1):
        print(f"Note: the load average ({load:.1f}) exceeds the CPU count; other work on the machine "
              "makes these figures noisy.")


if __name__ == "__main__":
    sys.exit(main())
