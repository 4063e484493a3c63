"""Work on many small files shared with forked worker processes, a batch at a time, in bounded
memory; large files on threads.

A worker process only touches files (stores, copies or hashes them: never the catalog, never
SQLite): it gets batches of items through a pipe, sends back plain results (or its exception)
pickled through another, and leaves with os._exit. Blobs are complete before they are named, so
a worker killed midway leaves nothing half-made. Workers are forked before any thread of this
process starts (a fork while another thread holds a lock could copy the lock held), and only
where it is safe: see can_fork.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import select
import signal
import struct
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

WINDOW = 3  # batches sent to a worker before this process computes one itself
PIPE_SIZE = 1 << 20
_FRAME = struct.Struct("=I")
_F_SETPIPE_SZ = 1031


def can_fork(cpus: int | None = None) -> bool:
    """Worker processes need a second CPU, and are safe only while this process is single-threaded.

    A process with other threads (a Jupyter server, a job runner) could fork while one of them
    holds a lock that the child then needs; there everything stays on one thread.
    """
    if cpus is None:
        cpus = os.cpu_count() or 1
    return (cpus >= 2 and hasattr(os, "fork") and threading.active_count() == 1
            and os.environ.get("JUPYTER_ARTIFACTS_NO_FORK") != "1")


def _widen(fd: int) -> None:
    try:
        fcntl.fcntl(fd, _F_SETPIPE_SZ, PIPE_SIZE)
    except OSError:
        pass  # the default size; writes here never block anyway


class _Child:
    def __init__(self, pid: int, tasks: int, results: int) -> None:
        self.pid, self.tasks, self.results = pid, tasks, results
        self.outbox = bytearray()
        self.inbox = bytearray()
        self.waiting: deque[list] = deque()  # slots of the batches sent, oldest first


class Pool:
    """`compute` over batches of items, shared between this process and `children` forked ones;
    results come back batch by batch in the order the batches were given.

    A batch goes to a worker with fewer than WINDOW batches on hand, or is computed here; at most
    `ahead` batches wait for their turn to be given back, so memory stays at a few batches.
    """

    def __init__(self, compute: Callable[[Any], Any], children: int, ahead: int = 64) -> None:
        self.compute, self.ahead = compute, ahead
        self.children: list[_Child] = []
        self.failure: BaseException | None = None
        for _ in range(children):
            task_read, task_write = os.pipe()
            result_read, result_write = os.pipe()
            for fd in (task_write, result_write):
                _widen(fd)
            pid = os.fork()
            if pid == 0:  # the worker
                for other in self.children:
                    os.close(other.tasks)
                    os.close(other.results)
                os.close(task_write)
                os.close(result_read)
                self._serve(task_read, result_write)
            os.close(task_read)
            os.close(result_write)
            os.set_blocking(task_write, False)
            self.children.append(_Child(pid, task_write, result_read))

    # -- the worker ----------------------------------------------------------------------------
    def _serve(self, tasks: int, results: int) -> None:
        status = 0
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # this process reports the interruption
            while (payload := _read_frame(tasks)) is not None:
                items = pickle.loads(payload)
                try:
                    reply = ("ok", [self.compute(item) for item in items])
                except BaseException as exc:  # noqa: BLE001 - handed to the parent
                    reply = ("error", exc)
                try:
                    data = pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
                except Exception:  # noqa: BLE001 - an exception that does not pickle
                    data = pickle.dumps(("error", RuntimeError(f"{type(reply[1]).__name__}: {reply[1]}")))
                _write_all(results, _FRAME.pack(len(data)) + data)
                if reply[0] == "error":
                    break
        except BaseException:  # noqa: BLE001
            status = 1
        finally:
            os._exit(status)

    # -- this process --------------------------------------------------------------------------
    def map(self, batches: Iterable[tuple[Any, list]]) -> Iterator[tuple[Any, list]]:
        """(tag, results) of every (tag, items) given, in the order given."""
        order: deque[list] = deque()  # [tag, results or None]
        for tag, items in batches:
            child = min(self.children, key=lambda c: len(c.waiting)) if self.children and items else None
            if child is not None and len(child.waiting) < WINDOW:
                slot = [tag, None]
                child.waiting.append(slot)
                child.outbox += _frame(pickle.dumps(items, pickle.HIGHEST_PROTOCOL))
                order.append(slot)
            else:
                order.append([tag, [self.compute(item) for item in items]])
            self._exchange(block=False)
            while order and (order[0][1] is not None or len(order) > self.ahead):
                if order[0][1] is None:
                    self._exchange(block=True)
                    continue
                tag_done, results = order.popleft()
                yield tag_done, results
        while order:
            if order[0][1] is None:
                self._exchange(block=True)
                continue
            tag_done, results = order.popleft()
            yield tag_done, results

    def _exchange(self, block: bool) -> None:
        """Send what waits to be sent, and take what the workers sent back (waiting for something
        when `block`); raise a worker's failure."""
        if self.failure is not None:
            raise self.failure
        readable = [c.results for c in self.children if c.waiting]
        writable = [c.tasks for c in self.children if c.outbox]
        if not readable and not writable:
            return
        ready_r, ready_w, _ = select.select(readable, writable, [], None if block else 0)
        for child in self.children:
            if child.tasks in ready_w:
                try:
                    sent = os.write(child.tasks, child.outbox)
                    del child.outbox[:sent]
                except BlockingIOError:
                    pass
            if child.results in ready_r:
                self._receive(child)
        if self.failure is not None:
            raise self.failure

    def _receive(self, child: _Child) -> None:
        data = os.read(child.results, PIPE_SIZE)
        if not data:
            _, status = os.waitpid(child.pid, 0)
            child.pid = 0
            self.failure = RuntimeError(f"A worker process stopped unexpectedly (status {status}).")
            return
        child.inbox += data
        while len(child.inbox) >= 4:
            size = _FRAME.unpack_from(child.inbox)[0]
            if len(child.inbox) < 4 + size:
                return
            try:
                kind, payload = pickle.loads(child.inbox[4:4 + size])
            except Exception:  # noqa: BLE001
                kind, payload = "error", RuntimeError("A worker process sent back what cannot be read.")
            del child.inbox[:4 + size]
            slot = child.waiting.popleft()
            if kind == "error":
                self.failure = self.failure or payload
                return
            slot[1] = payload

    def close(self) -> None:
        """Stop the workers (at once, after a failure here) and release the pipes."""
        for child in self.children:
            os.close(child.tasks)  # a worker waiting for work leaves
            if child.pid and (child.waiting or self.failure is not None):
                try:
                    os.kill(child.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if child.pid:
                os.waitpid(child.pid, 0)
            os.close(child.results)
        self.children = []

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _frame(payload: bytes) -> bytes:
    return _FRAME.pack(len(payload)) + payload


def _read_exact(fd: int, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _read_frame(fd: int) -> bytes | None:
    head = _read_exact(fd, 4)
    return None if head is None else _read_exact(fd, _FRAME.unpack(head)[0])


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def workers_for(items: int, least: int) -> int:
    """How many worker processes to fork for `items` small items: CPUs - 1 when there are at
    least `least` items and forking is safe, else none."""
    cpus = os.cpu_count() or 1
    return cpus - 1 if items >= least and can_fork(cpus) else 0
