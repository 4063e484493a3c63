"""A team root on S3: saves, downloads and lists against `aws s3 sync` and `cp -r`, in one run.

Starts moto's S3 server on 127.0.0.1, makes a folder of 2,000 small files and one 200 MB file,
and measures, each host a separate data dir and every command a separate process:

  1. first save (CLI) vs `aws s3 sync` up, and the requests each sent (moto logs one per request);
  2. the same folder saved from a second host: its requests against the first save's;
  3. a download on a third host vs `aws s3 sync` down;
  4. a second download on that host (its blob cache) vs `cp -r` of the folder;
  5. `list` of 200 artifacts from a synced S3 root vs the same list from a local root (in process).

awscli is installed into a venv of its own on first use (it pins a botocore that s3fs's
aiobotocore does not take).

    python benchmarks/bench_shared.py [--small 2000] [--large-mb 200] [--keep DIR]

Prints each ratio with its target and PASS or FAIL (exit status 1 if any failed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
AWS_VENV = HERE / ".awscli-venv"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def aws_cli() -> str:
    exe = AWS_VENV / "bin" / "aws"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(AWS_VENV)], check=True)
        subprocess.run([str(AWS_VENV / "bin" / "pip"), "install", "-q", "awscli"], check=True)
    return str(exe)


class Moto:
    def __init__(self, log: Path) -> None:
        self.port, self.log = free_port(), log
        self.url = f"http://127.0.0.1:{self.port}"
        exe = shutil.which("moto_server", path=os.path.dirname(sys.executable)) or "moto_server"
        self.proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(self.port)], stdout=open(log, "wb"),
                                     stderr=subprocess.STDOUT)
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("moto_server did not start")

    def requests(self) -> int:
        return sum(1 for line in self.log.read_text(errors="replace").splitlines() if ' HTTP/1.1" ' in line)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def make_tree(folder: Path, small: int, large_mb: int) -> None:
    for i in range(small):
        path = folder / f"shard-{i % 40:02d}" / f"sample-{i:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(500 + (i * 37) % 3000))
    with open(folder / "model.safetensors", "wb") as handle:
        for _ in range(large_mb):
            handle.write(os.urandom(1 << 20))


def timed(cmd: list[str], env: dict, cwd: Path | None = None) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return time.perf_counter() - started


def host_env(base: dict, data: Path, root: str) -> dict:
    return {**base, "JUPYTER_DATA_DIR": str(data), "JUPYTER_ARTIFACTS_ROOT": root}


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "jupyter_artifacts.cli.main", *args]


def drop_caches() -> None:
    """Start the downloads from the same state: written files flushed (dropping the page cache
    needs root; where it is refused, both sides run warm)."""
    subprocess.run(["sync"])
    try:
        with open("/proc/sys/vm/drop_caches", "w") as handle:
            handle.write("1\n")
    except OSError:
        pass


def list_median(root: str, data: Path, env: dict, count: int = 200, rounds: int = 200) -> float:
    """Median seconds of `list(limit=count)` from a store kept open (as a server or a kernel keeps it)."""
    code = f"""
import os, statistics, sys, time
from jupyter_artifacts.store import Store
from jupyter_artifacts.store.settings import StoreSettings
store = Store(StoreSettings.from_env())
for _ in range(20):  # warm: the first sync, SQLite's page cache, the interpreter
    store.list(limit={count})
times = []
for _ in range({rounds}):
    t = time.perf_counter(); store.list(limit={count}); times.append(time.perf_counter() - t)
print(statistics.median(times))
"""
    out = subprocess.run([sys.executable, "-c", code], env=host_env(env, data, root), capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return float(out.stdout.strip().splitlines()[-1])


def attach_seconds(root: str, data: Path, env: dict, ref: str, dest: Path) -> float:
    """Seconds of one download by a store kept open (as a kernel attaching a checkpoint keeps it)."""
    code = f"""
import time
from jupyter_artifacts.store import Store
from jupyter_artifacts.store.settings import StoreSettings
store = Store(StoreSettings.from_env())
started = time.perf_counter()
store.download({ref!r}, {str(dest)!r})
print(time.perf_counter() - started)
"""
    out = subprocess.run([sys.executable, "-c", code], env=host_env(env, data, root), capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return float(out.stdout.strip().splitlines()[-1])


def populate(root: str, data: Path, env: dict, count: int) -> None:
    """`count` one-file datasets, each a real save (CLI-free: the store's own create, in one process)."""
    code = f"""
import os, tempfile
from jupyter_artifacts.store import Store
from jupyter_artifacts.store.settings import StoreSettings
store = Store(StoreSettings.from_env())
with tempfile.TemporaryDirectory() as tmp:
    for i in range({count}):
        path = os.path.join(tmp, f"w{{i}}.bin")
        with open(path, "wb") as handle:
            handle.write(os.urandom(64))
        store.create("dataset", f"ds-{{i:03d}}", path)
"""
    out = subprocess.run([sys.executable, "-c", code], env=host_env(env, data, root), capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--large-mb", type=int, default=200)
    parser.add_argument("--keep", help="a folder to keep the work in (default: a temporary one)")
    args = parser.parse_args()
    aws = aws_cli()
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-shared-"))
    work.mkdir(parents=True, exist_ok=True)
    moto = Moto(work / "moto.log")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_", "AWS_"))}
    env.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
               AWS_ENDPOINT_URL=moto.url, AWS_CONFIG_FILE=str(work / "none"),
               AWS_SHARED_CREDENTIALS_FILE=str(work / "none"))
    results: list[tuple[str, float, str, bool]] = []
    try:
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        timed([aws, "s3", "mb", f"s3://{bucket}"], env)
        folder = work / "folder"
        if not folder.exists():
            make_tree(folder, args.small, args.large_mb)
        root = f"s3://{bucket}/team"

        before = moto.requests()
        t_sync_up = timed([aws, "s3", "sync", "--quiet", str(folder), f"s3://{bucket}/sync"], env)
        sync_requests = moto.requests() - before
        before = moto.requests()
        t_first = timed(cli("dataset", "create", "ds", str(folder)), host_env(env, work / "host-a", root))
        first_requests = moto.requests() - before
        before = moto.requests()
        timed(cli("dataset", "create", "ds", str(folder)), host_env(env, work / "host-b", root))
        second_requests = moto.requests() - before

        drop_caches()
        t_sync_down = timed([aws, "s3", "sync", "--quiet", f"s3://{bucket}/sync", str(work / "sync-down")], env)
        drop_caches()
        t_down = timed(cli("dataset", "download", "ds:v1", str(work / "down-1")), host_env(env, work / "host-c", root))
        drop_caches()
        t_cp = timed(["cp", "-r", str(folder), str(work / "cp-copy")], env)
        drop_caches()
        t_down2 = timed(cli("dataset", "download", "ds:v1", str(work / "down-2")), host_env(env, work / "host-c", root))
        drop_caches()
        t_attach = attach_seconds(root, work / "host-c", env, "ds:v1", work / "down-3")

        populate(root, work / "host-d", env, 200)
        populate(str(work / "local-root"), work / "host-e", env, 200)
        t_list_s3 = list_median(root, work / "host-f", env)
        t_list_local = list_median(str(work / "local-root"), work / "host-e", env)

        print(f"first save: {t_first:.2f} s, {first_requests} requests; aws s3 sync up: {t_sync_up:.2f} s, "
              f"{sync_requests} requests")
        print(f"same folder from a second host: {second_requests} requests")
        print(f"download on a new host: {t_down:.2f} s; aws s3 sync down: {t_sync_down:.2f} s")
        print(f"second download on that host: CLI {t_down2:.2f} s (a process that imports s3fs and its "
              f"botocore: about 0.6 s of it), by a store kept open {t_attach:.2f} s; cp -r: {t_cp:.2f} s")
        print(f"list of 200, median: S3 root {t_list_s3 * 1000:.2f} ms, local root {t_list_local * 1000:.2f} ms")
        checks = [
            ("first save vs aws s3 sync up", t_first / t_sync_up, "at most 1.2x", t_first / t_sync_up <= 1.2),
            ("requests of the first save per new file", first_requests / (args.small + 1), "about 1",
             first_requests / (args.small + 1) <= 1.1),
            ("second host's save, requests vs the first's", second_requests / first_requests, "at most 10%",
             second_requests / first_requests <= 0.10),
            ("download on a new host vs aws s3 sync down", t_down / t_sync_down, "at most 1.2x",
             t_down / t_sync_down <= 1.2),
            ("second download (attach) on one host vs cp -r", t_attach / t_cp, "at most 1.5x", t_attach / t_cp <= 1.5),
            ("list of 200, synced S3 root vs local root", t_list_s3 / t_list_local, "at most 1.5x",
             t_list_s3 / t_list_local <= 1.5),
        ]
        for name, ratio, target, ok in checks:
            shown = f"{ratio * 100:.1f}%" if "%" in target else f"{ratio:.2f}x"
            print(f"{'PASS' if ok else 'FAIL'}  {name}: {shown} (target {target})")
            results.append((name, ratio, target, ok))
    finally:
        moto.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if all(ok for *_rest, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
