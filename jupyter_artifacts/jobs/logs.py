"""A job's logs: appended to by its supervisors, read incrementally by every face through
`JobManager.logs`, which says with `finished` when nothing more will come.

With one worker (or one chosen) the offset is a byte offset; for several workers, lines come
prefixed with `[worker N] ` and the offset is a string of per-worker byte offsets ("120,0,388").
Only `os` and `collections` are imported: a supervisor loads this on its way to the worker.
"""

from __future__ import annotations

import os
from collections import namedtuple

from ..errors import InvalidInput

CHUNK = 1 << 20  # at most this much of one worker's log per call

LogChunk = namedtuple("LogChunk", "text offset finished state")
LogChunk.__doc__ = """New log text, the offset to ask from next time, whether the job (or the worker
asked for) has ended and all of its log was returned (`finished`: stop following), and its state."""


def append_log(path: str, text: str) -> None:
    """Add to a worker's log (O_APPEND: whole lines, whoever else writes); never fails the caller."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError:
        return
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def read_chunk(path: str, offset: int, final: bool) -> tuple[bytes, int]:
    """Up to CHUNK bytes from `offset`, cut after the last whole line unless the worker has ended
    (`final`) or one line fills the chunk; and the offset after them."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read(CHUNK)
    except FileNotFoundError:
        return b"", offset
    if not final and data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        if cut or len(data) < CHUNK:
            data = data[:cut]
    return data, offset + len(data)


def _starts(offset: int | str | None, count: int) -> list[int]:
    """Per-worker start offsets from what the last call returned (0 or '' for the beginning)."""
    if not offset:
        return [0] * count
    try:
        starts = [int(x) for x in str(offset).split(",")]
    except ValueError:
        raise InvalidInput(f"Invalid offset {offset!r}: use the offset the last call returned.") from None
    return ([max(0, s) for s in starts] + [0] * count)[:count]


def read(logs: list[tuple[int, str, bool]], offset: int | str | None, prefixed: bool) -> tuple[str, int | str, bool]:
    """New text of the logs [(worker index, log path, ended)], the next offset, and whether every
    log was read to its end. `prefixed`: several workers' lines, each marked with its worker."""
    starts = _starts(offset, len(logs))
    parts, ends, at_end = [], [], True
    for (idx, path, ended), start in zip(logs, starts):
        data, end = read_chunk(path, start, ended)
        ends.append(end)
        try:
            at_end = at_end and end >= os.path.getsize(path)
        except OSError:
            pass  # no log yet: nothing to read
        text = data.decode("utf-8", "replace")
        if not prefixed:
            parts.append(text)
            continue
        for line in text.splitlines(keepends=True):
            parts.append(f"[worker {idx}] " + (line if line.endswith("\n") else line + "\n"))
    next_offset: int | str = ",".join(map(str, ends)) if prefixed else ends[0]
    return "".join(parts), next_offset, at_end


def last_metrics(path: str) -> dict | None:
    """The last whole line of a worker's metrics.jsonl (what `worker.report` wrote last), or None."""
    import json

    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            handle.seek(max(0, size - 8192))
            lines = handle.read().splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return None


__all__ = ["CHUNK", "LogChunk", "append_log", "last_metrics", "read", "read_chunk"]
