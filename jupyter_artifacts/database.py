"""SQLite as the catalog and the jobs database use it: WAL, a long busy timeout, queued writers."""

from __future__ import annotations

import os
import sqlite3
import time
from urllib.parse import quote
from collections.abc import Iterator
from contextlib import contextmanager

BUSY_TIMEOUT_S = 60


FULL_DISK = 1 << 20  # less free space than this counts as a full disk


def connect(path: str) -> sqlite3.Connection:
    """A connection for reading and writing; on a full disk (where SQLite cannot even make its
    shared-memory file), a read-only one, so that lists, status and verify keep working."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        _use_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.OperationalError:
        conn.close()
        if not disk_is_full(path) or not os.path.exists(path):
            raise
        return _read_only(path)
    return conn


def disk_is_full(path: str) -> bool:
    try:
        st = os.statvfs(os.path.dirname(os.path.abspath(path)))
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < FULL_DISK


def _read_only(path: str) -> sqlite3.Connection:
    """Without the write-ahead log: everything committed is in the main file once the last writer
    closed (a log left by a crash is read too, where its shared memory exists)."""
    wal = f"{path}-wal"
    pending = os.path.exists(wal) and os.path.getsize(wal) > 0
    uri = f"file:{quote(path)}?{'mode=ro' if pending else 'immutable=1'}"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA query_only=1")
    return conn


def is_read_only(conn: sqlite3.Connection) -> bool:
    return conn.execute("PRAGMA query_only").fetchone()[0] == 1


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL once per file. SQLite answers "locked" at once, without waiting, when two
    processes create the same database together, so the switch is retried."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE: writers queue up instead of failing on a lock upgrade."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
