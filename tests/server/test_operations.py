"""Progress of a large snapshot, observed through GET operations/{id}."""

from __future__ import annotations

import asyncio
import time

from jupyter_artifacts.store.roots.local import LocalRoot


async def test_progress_of_a_large_snapshot(api, write_tree, monkeypatch):
    files = {f"exp/output/shard-{i:03d}.bin": bytes([i % 256]) * (256 * 1024 + i) for i in range(48)}
    write_tree({**files, "exp/train.ipynb": "{}"})
    total_bytes = sum(len(v) for v in files.values())

    original = LocalRoot.store_file

    def slow_store_file(self, src):
        time.sleep(0.03)  # a slow disk: long enough to watch the operation move
        return original(self, src)

    monkeypatch.setattr(LocalRoot, "store_file", slow_store_file)
    op = await api.ok("POST", "snapshots", expect=202,
                      body={"notebook": "exp/train.ipynb", "folder": "output", "kind": "checkpoint", "name": "big"})
    seen = []
    while True:
        status, data = await api.get("operations", op["id"])
        assert status == 200
        seen.append(data)
        if data["state"] in ("succeeded", "failed"):
            break
        await asyncio.sleep(0.02)
    final = seen[-1]
    assert final["state"] == "succeeded", final
    assert final["bytes_done"] == final["bytes_total"] == total_bytes
    assert final["files_done"] == final["files_total"] == 48
    assert final["result"]["reference"] == "big:v1" and final["error"] is None
    assert final["started_at"] <= final["finished_at"]

    running = [s for s in seen if s["state"] == "running" and s["files_total"] == 48]
    partial = [s for s in running if 0 < s["files_done"] < 48]
    assert len(partial) >= 3, [(s["state"], s["files_done"]) for s in seen]
    done_counts = [s["bytes_done"] for s in running]
    assert done_counts == sorted(done_counts), "progress never goes backwards"
    assert all(s["bytes_total"] == total_bytes for s in running)


def test_operations_are_bounded_and_failures_keep_their_status():
    from jupyter_artifacts.errors import LimitExceeded, NotFound
    from jupyter_artifacts.server.operations import OperationManager

    manager = OperationManager(workers=1, keep=3)
    ops = [manager.submit("test", lambda progress, i=i: i) for i in range(6)]
    for op in ops:
        try:
            manager.wait(op.id, 10)
        except NotFound:
            pass

    def too_big(progress):
        progress(5, 1, 10, 2)
        raise LimitExceeded("Too big: 10 B over the 5 B limit.", size=10, limit=5)

    last = manager.submit("test", too_big)
    manager.wait(last.id, 10)
    remembered = [o.id for o in manager.list()]
    assert len(remembered) == 3 and remembered[0] == last.id and ops[0].id not in remembered
    assert last.state == "failed" and last.bytes_done == 5 and last.files_total == 2
    assert last.error == {"status": 413, "message": "Too big: 10 B over the 5 B limit.", "size": 10, "limit": 5}

    crash = manager.submit("test", lambda progress: 1 / 0)
    manager.wait(crash.id, 10)
    assert crash.error["status"] == 500 and "division by zero" in crash.error["message"]
    manager.shutdown()
