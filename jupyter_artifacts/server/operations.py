"""Long operations (snapshots, creating from a source, fetching) run in a thread pool off the IO loop.

Each operation has an id, a state (queued, running, succeeded, failed), bytes and files done and
total, and either a result or an error with the HTTP status the same mistake would have got
synchronously. Operations are kept in memory; the oldest finished ones are forgotten first.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..errors import ArtifactsError, NotFound, quote
from ..progress import Progress

STATES = ("queued", "running", "succeeded", "failed")


@dataclass
class Operation:
    id: str
    kind: str
    description: str = ""
    state: str = "queued"
    bytes_done: int = 0
    bytes_total: int | None = None
    files_done: int = 0
    files_total: int | None = None
    result: Any = None
    error: dict | None = None
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    created_by: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("succeeded", "failed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "description": self.description, "state": self.state,
            "bytes_done": self.bytes_done, "bytes_total": self.bytes_total,
            "files_done": self.files_done, "files_total": self.files_total,
            "result": self.result, "error": self.error, "created_at": self.created_at,
            "started_at": self.started_at, "finished_at": self.finished_at, "created_by": self.created_by,
        }


class OperationManager:
    """Runs callables `fn(progress) -> JSON-able result` in a bounded pool and remembers them."""

    def __init__(self, workers: int = 2, keep: int = 1000, log: logging.Logger | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="artifacts-op")
        self._ops: OrderedDict[str, Operation] = OrderedDict()
        self._futures: dict[str, Future] = {}
        self._lock = threading.Lock()
        self.keep = max(1, keep)
        self.log = log or logging.getLogger(__name__)

    def submit(self, kind: str, fn: Callable[[Progress], Any], description: str = "",
               created_by: str | None = None) -> Operation:
        op = Operation(id=uuid.uuid4().hex, kind=kind, description=description, created_by=created_by)
        with self._lock:
            self._ops[op.id] = op
            self._trim()
        future = self._pool.submit(self._run, op, fn)
        if not future.done():
            self._futures[op.id] = future
        return op

    def _run(self, op: Operation, fn: Callable[[Progress], Any]) -> None:
        def progress(done_bytes: int, done_files: int, total_bytes: int, total_files: int) -> None:
            op.bytes_done, op.files_done = done_bytes, done_files
            op.bytes_total, op.files_total = total_bytes, total_files

        op.state, op.started_at = "running", time.time()
        try:
            op.result = fn(progress)
            if op.bytes_total is not None:
                op.bytes_done, op.files_done = op.bytes_total, op.files_total or op.files_done
            op.state = "succeeded"
        except ArtifactsError as exc:
            op.error = {"status": exc.status, **exc.to_dict()}
            op.state = "failed"
        except Exception as exc:  # noqa: BLE001 - reported on the operation, logged with its traceback
            self.log.exception("Operation %s (%s) failed", op.id, op.description)
            op.error = {"status": 500, "message": f"Unexpected error: {exc}; see the server log for details."}
            op.state = "failed"
        finally:
            op.finished_at = time.time()
            self._futures.pop(op.id, None)

    def _trim(self) -> None:
        """Forget the oldest finished operations beyond `keep` (running ones are always kept)."""
        excess = len(self._ops) - self.keep
        if excess <= 0:
            return
        for op_id in [i for i, o in self._ops.items() if o.finished][:excess]:
            del self._ops[op_id]
            self._futures.pop(op_id, None)

    def get(self, op_id: str) -> Operation:
        with self._lock:
            op = self._ops.get(op_id)
        if op is None:
            raise NotFound(f"No operation {quote(op_id)}: it never existed, or finished long ago and was forgotten.")
        return op

    def list(self, limit: int = 100) -> list[Operation]:
        with self._lock:
            ops = list(self._ops.values())
        return list(reversed(ops))[:limit]

    def active(self) -> int:
        with self._lock:
            return sum(1 for o in self._ops.values() if not o.finished)

    def wait(self, op_id: str, timeout: float | None = None) -> Operation:
        """Block until an operation finishes (for tests and scripts)."""
        future = self._futures.get(op_id)
        if future is not None:
            future.result(timeout)
        return self.get(op_id)

    def shutdown(self, wait: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)
