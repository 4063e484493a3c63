"""Latency of `GET artifacts` (first page) on a live server with 10,000 artifacts in the catalog.

Creates the artifacts through the store's own record and catalog calls (tiny, all sharing one
blob, so it takes seconds), starts `jupyter server` on 127.0.0.1 with a token, and times the
first page of `GET {base_url}jupyter-artifacts/api/artifacts` over one keep-alive connection.

    python benchmarks/bench_api.py [--count 10000] [--requests 200] [--target-ms 50]

Prints the median and p95 and PASS or FAIL against the target (exit status 1 on FAIL).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from jupyter_artifacts.store import Store
from jupyter_artifacts.store.manifests import Tree, record_pieces
from jupyter_artifacts.store.records import Artifact
from jupyter_artifacts.store.layout import record_path

KINDS = ("model", "checkpoint", "dataset")
BASE_URL = "/bench/"


def populate(root: str, count: int, batch: int = 1000, kinds: tuple[str, ...] = KINDS) -> float:
    """Publish `count` one-file artifacts (records in the root, rows in the catalog), of `kinds` in
    turn; seconds taken. The browser tests reuse it for a list of 10,000."""
    started = time.perf_counter()
    store = Store(root=root)
    digest, size = store.root.store_bytes(b"tiny weights")
    manifest = {"weights.bin": {"digest": digest, "size": size, "mode": 0o644}}
    tree = Tree.of(manifest)
    body = b"".join(tree.body())
    now = time.time() - count
    pool = ThreadPoolExecutor(max_workers=32)
    for start in range(0, count, batch):
        artifacts = []
        for i in range(start, min(count, start + batch)):
            kind = kinds[i % len(kinds)]
            artifact = Artifact(
                id=uuid.uuid4().hex, kind=kind, name=f"{kind}-{i % 1000:04d}", version=i // 1000 + 1,
                state="ready", digest=tree.digest, size=size, file_count=1, created_at=now + i, created_by="bench",
                source={"type": "local", "path": f"/data/run-{i}/models"}, metadata={"epoch": i % 90, "lr": 0.001},
                )
            artifacts.append(artifact)
        # each record is written durably (fsync); many at once keeps the disk busy
        list(pool.map(lambda a: store.root.write_doc(record_path(a.id), b"".join(record_pieces(a.record_header(), [body]))),
                      artifacts))
        with store.catalog.transaction() as db:
            for artifact in artifacts:
                store.catalog.insert(db, artifact)
                store.catalog.index_ready(db, artifact, tree)
    pool.shutdown()
    store.catalog.close()
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(work: str, store_root: str) -> tuple[subprocess.Popen, str, dict]:
    root_dir = os.path.join(work, "root")
    config_dir = os.path.join(work, "config")
    os.makedirs(root_dir, exist_ok=True)
    os.makedirs(config_dir, exist_ok=True)
    with open(os.path.join(config_dir, "jupyter_server_config.json"), "w") as handle:
        json.dump({"ServerApp": {"jpserver_extensions": {"jupyter_artifacts": True}}}, handle)
    token = secrets.token_hex(16)
    port = free_port()
    env = {**os.environ, "JUPYTER_ARTIFACTS_ROOT": store_root, "JUPYTER_CONFIG_DIR": config_dir,
           "JUPYTER_RUNTIME_DIR": os.path.join(work, "runtime"), "JUPYTER_ARTIFACTS_GPUS": "none"}
    log = open(os.path.join(work, "server.log"), "w")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root_dir}", f"--ServerApp.base_url={BASE_URL}",
         "--ServerApp.log_level=WARN"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{port}{BASE_URL}jupyter-artifacts/api"
    headers = {"Authorization": f"token {token}"}
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"jupyter server exited; see {log.name}")
        try:
            if requests.get(f"{api}/status", headers=headers, timeout=2).status_code == 200:
                return proc, api, headers
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"jupyter server did not start; see {log.name}")


def measure(session: requests.Session, url: str, params: dict, n: int, warmup: int = 20) -> list[float]:
    for _ in range(warmup):
        session.get(url, params=params, timeout=30).raise_for_status()
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = session.get(url, params=params, timeout=30)
        response.raise_for_status()
        response.json()
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="artifacts in the catalog (default 10,000)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per figure (default 200)")
    parser.add_argument("--target-ms", type=float, default=50.0, help="median target in ms (default 50)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)

    work = tempfile.mkdtemp(prefix="bench-api-")
    store_root = os.path.join(work, "store")
    proc = None
    try:
        seconds = populate(store_root, args.count)
        print(f"catalog: {args.count:,} artifacts created in {seconds:.1f} s")
        proc, api, headers = start_server(work, store_root)
        with requests.Session() as session:
            session.headers.update(headers)
            first = session.get(f"{api}/artifacts", timeout=30).json()
            assert first["total"] == args.count, first["total"]
            print(f"GET artifacts: first page of {len(first['artifacts'])} (limit {first['limit']}), "
                  f"total {first['total']:,}")
            figures = {
                "first page": measure(session, f"{api}/artifacts", {}, args.requests),
                "first page, kind=model": measure(session, f"{api}/artifacts", {"kind": "model"}, args.requests),
                "page at offset 5000": measure(session, f"{api}/artifacts", {"offset": 5000}, args.requests),
                "search q=model-04": measure(session, f"{api}/artifacts", {"q": "model-04"}, args.requests),
            }
        for label, times in figures.items():
            median, p95 = summary(times)
            print(f"  {label:<24} median {median:6.2f} ms   p95 {p95:6.2f} ms   ({len(times)} requests)")
        median, p95 = summary(figures["first page"])
        ok = median < args.target_ms
        print(f"{'PASS' if ok else 'FAIL'}: GET artifacts first page median {median:.2f} ms "
              f"(target < {args.target_ms:.0f} ms) with {args.count:,} artifacts")
        return 0 if ok else 1
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        if args.keep:
            print(f"scratch kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
