#!/usr/bin/env python3
"""Benchmark of datasets of many small files: speed against `cp -r` and peak memory, in one run.

The tree is N files of 300 to 1,500 bytes, about 1,000 a folder in two levels of folders (an
image or audio dataset). Its content is random but deterministic, so every run stores the same
bytes. Every operation is a command a user would type, a subprocess, timed from the same state
as `cp -r` (see benchmarks/bench_store.py and docs/performance.md for the method):

  cp -r TREE DEST
  jupyter-artifacts --root ROOT dataset create bench TREE --json      first save, new root
  the same command again                                              unchanged save
  jupyter-artifacts --root ROOT dataset download bench:v1 DEST --json
  jupyter-artifacts --root ROOT verify bench:v1 --json
  jupyter-artifacts --root ROOT dataset show bench:v1                 its summary
  jupyter-artifacts --root ROOT dataset show bench:v1 --files --limit 100 --offset N/2
  jupyter-artifacts --root ROOT dataset diff bench:v1 bench:v2 --json (v2: the download with 300
                                                                       files added, removed, changed)
  find TREE -type f -printf '%s'                                      a walk, for the diff

Peak memory is the largest of: the peak resident set of the command or of any of its worker
processes (VmHWM), and the sum of the proportional set sizes of its process tree; both sampled
every 20 ms. The catalog's growth per file is its size after the first save over the file count.

    python benchmarks/bench_files.py                    # 200,000 files
    python benchmarks/bench_files.py --files 1000000 --keep --repeat 1
    python benchmarks/bench_files.py --files 50000      # a quick look

Everything is written under benchmarks/.scratch/files-N/; the tree is kept (and reused) with
--keep, the rest is removed at the end. Prints each target with PASS or FAIL (exit status 1 if
any failed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time

import blake3

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_store import SCRATCH, Ours, fmt, median, prime, rmtree, sync, tree_stats, warm  # noqa: E402

PER_FOLDER = 1000
TARGETS = {
    "first save": 1.5,       # x cp -r
    "unchanged save": 0.15,  # x cp -r
    "download": 1.3,         # x cp -r
    "verify": 2.0,           # x cp -r
    "diff": 1.5,             # x a walk of the tree (find)
}
MEMORY_LIMIT = 500 << 20    # peak of save, download, verify and show
CATALOG_PER_FILE = 200      # bytes the catalog grows by per file of a new tree
CHANGED = 100               # files added, removed and changed for the diff's second version


# -- the tree ------------------------------------------------------------------------------
def generate_tree(tree: str, files: int) -> None:
    """`files` files of 300 to 1,500 bytes from BLAKE3's extendable output, 1,000 a folder."""
    marker = os.path.join(tree, ".bench-files.json")
    wanted = json.dumps({"files": files, "per_folder": PER_FOLDER, "sizes": [300, 1500]})
    if os.path.exists(marker):
        with open(marker) as handle:
            if handle.read() == wanted:
                print(f"Reusing the tree in {tree}")
                return
    rmtree(tree)
    print(f"Generating {files:,} files in {tree} ...", flush=True)
    started = time.perf_counter()
    block = 10_000  # files whose content is drawn at once
    for first in range(0, files, block):
        count = min(block, files - first)
        stream = blake3.blake3(f"files-{first}".encode()).digest(length=count * 1500)
        sizes = blake3.blake3(f"sizes-{first}".encode()).digest(length=count * 2)
        for i in range(count):
            n = first + i
            folder = os.path.join(tree, f"shard-{n // (PER_FOLDER * 32):03d}", f"part-{n // PER_FOLDER % 32:02d}")
            if n % PER_FOLDER == 0:
                os.makedirs(folder, exist_ok=True)
            size = 300 + int.from_bytes(sizes[2 * i:2 * i + 2], "little") % 1201
            fd = os.open(os.path.join(folder, f"item-{n:07d}.bin"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, stream[i * 1500:i * 1500 + size])
            os.close(fd)
    with open(marker, "w") as handle:
        handle.write(wanted)
    print(f"  generated in {time.perf_counter() - started:.1f} s", flush=True)


def change(copy: str) -> None:
    """Add, remove and change CHANGED files each in a copy of the tree (the diff's second version)."""
    paths = []
    for dirpath, _dirs, names in os.walk(copy):
        paths.extend(os.path.join(dirpath, n) for n in sorted(names) if not n.startswith("."))
        if len(paths) >= 3 * CHANGED:
            break
    for i, path in enumerate(paths[:3 * CHANGED]):
        if i % 3 == 0:
            os.unlink(path)
        elif i % 3 == 1:
            with open(path, "ab") as handle:
                handle.write(b"changed")
        else:
            with open(path + ".new", "wb") as handle:
                handle.write(b"added %d" % i)


# -- measuring -----------------------------------------------------------------------------
def _tree_memory(pid: int, peaks: dict[int, int]) -> int:
    """The summed proportional set size of a process and its descendants (bytes); the peak
    resident set of each (VmHWM, which starts again at exec) goes into `peaks`."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/status", "rb") as handle:
                for line in handle:
                    if line.startswith(b"VmHWM:"):
                        peaks[current] = max(peaks.get(current, 0), int(line.split()[1]) * 1024)
                        break
            with open(f"/proc/{current}/smaps_rollup", "rb") as handle:
                for line in handle:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", "rb") as handle:
                    todo.extend(int(c) for c in handle.read().split())
        except (OSError, ValueError):
            continue
    return total


class Measured:
    """Wall-clock and CPU seconds, peak memory (bytes) and stdout of one command."""

    def __init__(self, cmd: list[str], env: dict | None = None) -> None:
        sync()
        out_path = os.path.join(SCRATCH, f"stdout-{os.getpid()}")
        os.makedirs(SCRATCH, exist_ok=True)
        with open(out_path, "w+b") as out:
            started = time.perf_counter()
            proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.PIPE)
            summed, peaks = [0], {}
            done = threading.Event()

            def sample() -> None:
                while not done.wait(0.02):
                    summed[0] = max(summed[0], _tree_memory(proc.pid, peaks))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            _, status, usage = os.wait4(proc.pid, 0)
            self.wall = time.perf_counter() - started
            done.set()
            sampler.join()
            proc.returncode = os.waitstatus_to_exitcode(status)
            errors = proc.stderr.read().decode(errors="replace")
            proc.stderr.close()
            out.seek(0)
            self.stdout = out.read().decode(errors="replace")
        os.unlink(out_path)
        if proc.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{self.stdout[-2000:]}\n{errors[-4000:]}")
        self.cpu = usage.ru_utime + usage.ru_stime
        self.memory = max([summed[0], *peaks.values()])


# -- main ----------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200_000, help="files in the tree (default 200,000)")
    parser.add_argument("--keep", action="store_true", help="keep the generated tree (reused next time)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (medians); default 3")
    parser.add_argument("--scratch", default=SCRATCH, help="where to put the tree, roots and copies")
    args = parser.parse_args()
    work = os.path.join(os.path.abspath(args.scratch), f"files-{args.files}")
    tree, runs = os.path.join(work, "tree"), os.path.join(work, "runs")
    os.makedirs(work, exist_ok=True)
    rmtree(runs)  # what an interrupted run left
    try:
        generate_tree(tree, args.files)
        os.makedirs(runs)
        return run(args, tree, runs)
    finally:
        rmtree(runs)
        if not args.keep:
            rmtree(work)


def run(args: argparse.Namespace, tree: str, work: str) -> int:
    files, size = tree_stats(tree)
    print(f"Tree: {files:,} files, {size / 1e6:.0f} MB; load average {os.getloadavg()[0]:.1f}", flush=True)
    ours = Ours(os.path.join(work, "root-0"), use_api=False)
    exe = ours.exe
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    memory: dict[str, list[int]] = {}
    catalog: list[float] = []

    def record(name: str, measured: Measured) -> Measured:
        wall.setdefault(name, []).append(measured.wall)
        cpu.setdefault(name, []).append(measured.cpu)
        memory.setdefault(name, []).append(measured.memory)
        print(f"  {name:<18} {measured.wall:8.2f} s wall {measured.cpu:8.2f} s cpu "
              f"{measured.memory / 1e6:8.0f} MB peak", flush=True)
        return measured

    def ours_cmd(root: str, *words: str) -> list[str]:
        return [exe, "--root", root, *words]

    for round_no in range(1, max(1, args.repeat) + 1):
        print(f"Round {round_no} of {args.repeat}", flush=True)
        root = os.path.join(work, f"root-{round_no}")
        env = {**ours.env, "JUPYTER_ARTIFACTS_ROOT": root}
        warm(tree)
        prime(work, size)
        first = json.loads(record("first save", Measured(ours_cmd(root, "dataset", "create", "bench", tree, "--json"),
                                                         env)).stdout)
        db = os.path.join(root, "catalog.sqlite")
        catalog.append(sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p)) / files)
        warm(tree)
        again = json.loads(record("unchanged save", Measured(ours_cmd(root, "dataset", "create", "bench", tree,
                                                                      "--json"), env)).stdout)
        if again["digest"] != first["digest"]:
            sys.exit(f"The unchanged tree got another digest: {again['digest']} != {first['digest']}")
        ref = f"bench:v{first['version']}"
        copies = [("cp -r", os.path.join(work, f"cp-{round_no}")), ("download", os.path.join(work, f"dl-{round_no}"))]
        for name, dest in copies if round_no % 2 else copies[::-1]:
            warm(tree)
            warm(os.path.join(root, "objects"))
            prime(work, size)
            if name == "cp -r":
                record(name, Measured(["cp", "-r", tree, dest]))
            else:
                record(name, Measured(ours_cmd(root, "dataset", "download", ref, dest, "--json"), env))
                got = tree_stats(dest)
                if got != (files, size):
                    sys.exit(f"The download holds {got[0]} files and {got[1]} bytes; the tree {files} and {size}.")
        warm(os.path.join(root, "objects"))
        verified = json.loads(record("verify", Measured(ours_cmd(root, "verify", ref, "--json"), env)).stdout)
        if not verified["ok"]:
            sys.exit(f"verify found damage: {verified['damaged'][:3]}")
        record("show", Measured(ours_cmd(root, "dataset", "show", ref), env))
        shown = record("show --files", Measured(ours_cmd(root, "dataset", "show", ref, "--files", "--limit", "100",
                                                         "--offset", str(files // 2)), env))
        if shown.stdout.count("\n") < 100:
            sys.exit(f"show --files printed:\n{shown.stdout[-2000:]}")
        if round_no == 1:
            second = os.path.join(work, f"dl-{round_no}")
            change(second)
            v2 = json.loads(Measured(ours_cmd(root, "dataset", "create", "bench", second, "--json"), env).stdout)
            warm(tree)
            record("walk (find)", Measured(["find", tree, "-type", "f", "-printf", "%s\n"]))
            diff = json.loads(record("diff", Measured(ours_cmd(root, "dataset", "diff", ref, f"bench:v{v2['version']}",
                                                               "--json"), env)).stdout)
            counts = (len(diff["added"]), len(diff["removed"]), len(diff["changed"]))
            if counts != (CHANGED, CHANGED, CHANGED):
                sys.exit(f"diff found {counts} added, removed, changed; expected {CHANGED} each")
    return report(wall, cpu, memory, catalog, files, size)


def checks(wall: dict[str, list[float]], memory: dict[str, list[int]], catalog: list[float]) -> list[tuple[str, str, bool]]:
    """(target, measured, passed) for every target, on medians of wall-clock time."""
    m = {k: median(v) for k, v in wall.items()}
    out = []
    for name, limit in TARGETS.items():
        base = "walk (find)" if name == "diff" else "cp -r"
        ratio = m[name] / m[base]
        out.append((f"{name} <= {limit}x {base}", f"{ratio:.2f}x", ratio <= limit))
    for name in ("first save", "unchanged save", "download", "verify", "show", "show --files", "diff"):
        peak = max(memory[name])
        out.append((f"peak memory of {name} <= {MEMORY_LIMIT >> 20} MB", f"{peak / 1e6:.0f} MB", peak <= MEMORY_LIMIT))
    per_file = max(catalog)
    out.append((f"catalog growth <= {CATALOG_PER_FILE} bytes per file", f"{per_file:.0f} B", per_file <= CATALOG_PER_FILE))
    return out


def report(wall: dict[str, list[float]], cpu: dict[str, list[float]], memory: dict[str, list[int]],
           catalog: list[float], files: int, size: int) -> int:
    cp = median(wall["cp -r"])
    print()
    print(f"Tree: {files:,} files, {size / 1e6:.0f} MB; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"{'operation':<18}{'wall s':>9}{'x cp -r':>9}{'cpu s':>9}{'peak MB':>9}   wall of each run (s)")
    for name in wall:
        print(f"{name:<18}{median(wall[name]):>9.2f}{median(wall[name]) / cp:>9.2f}{median(cpu[name]):>9.2f}"
              f"{max(memory[name]) / 1e6:>9.0f}   {fmt(wall[name])}")
    print("(medians; cpu = user + system time of the command and its workers; peak = the largest of any round)")
    print()
    results = checks(wall, memory, catalog)
    print(f"{'target':<52}{'measured':>10}   result")
    for name, value, ok in results:
        print(f"{name:<52}{value:>10}   {'PASS' if ok else 'FAIL'}")
    if os.getloadavg()[0] > (os.cpu_count() or 1):
        print(f"Note: the load average ({os.getloadavg()[0]:.1f}) exceeds the CPU count; other work on the machine "
              "makes these figures noisy: run again when it is quiet.")
    return 0 if all(ok for _, _, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
