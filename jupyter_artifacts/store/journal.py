"""The change journal of a shared root: how each host learns what the others did.

Every change (a record published, an alias moved, a link added, an artifact deleted, a version
claimed) appends one empty object whose key says what changed:

    journal/<bucket>/<milliseconds>-<host>-<random>~<op>~<argument>

Keys sort by time; a bucket holds BUCKET_SECONDS of them, so a reader lists only the buckets
since it last looked (from a key on, where the backend can), however long the journal is. An
entry only says *what* to read again (the record, the alias document), never the new state
itself, so entries may be applied in any order, twice, or late: the documents are the truth.
Hosts' clocks differ, so readers look back a window (`clock_skew`) and remember which keys in
that window they have already applied.
"""

from __future__ import annotations

import os
import socket
import time
from typing import NamedTuple
from urllib.parse import quote, unquote

from .roots import Root

BUCKET_SECONDS = 1000
OPS = ("record", "alias", "link", "delete", "claim")


class Entry(NamedTuple):
    key: str
    millis: int
    op: str
    arg: str


def host_name() -> str:
    return socket.gethostname() or "host"


def _bucket(millis: int) -> int:
    return millis // (BUCKET_SECONDS * 1000)


def entry_key(op: str, arg: str, millis: int | None = None) -> str:
    millis = int(time.time() * 1000) if millis is None else millis
    host = quote(host_name()[:32], safe="")
    return f"journal/{_bucket(millis):010d}/{millis:013d}-{host}-{os.urandom(4).hex()}~{op}~{quote(arg, safe='')}"


def parse(key: str) -> Entry | None:
    """The entry a key names; None for a key this version does not write (skipped, not trusted)."""
    name = key.rpartition("/")[2]
    head, sep, rest = name.partition("~")
    op, sep2, arg = rest.partition("~")
    stamp = head.split("-", 1)[0]
    if not sep or not sep2 or op not in OPS or not stamp.isdigit() or len(stamp) != 13:
        return None
    return Entry(key, int(stamp), op, unquote(arg))


class Journal:
    """Append to and read the journal of one root."""

    def __init__(self, root: Root) -> None:
        self.root = root

    def append(self, op: str, arg: str) -> None:
        self.root.write_doc(entry_key(op, arg), b"")

    def since(self, millis: int, ahead_millis: int = 0) -> list[Entry]:
        """Entries from `millis` on, oldest first, including those of hosts whose clocks are up
        to `ahead_millis` ahead of ours."""
        first, last = _bucket(max(millis, 0)), _bucket(int(time.time() * 1000) + ahead_millis)
        start_after = f"journal/{first:010d}/{max(millis, 0):013d}"
        found: list[Entry] = []
        for bucket in range(first, last + 1):
            prefix = f"journal/{bucket:010d}/"
            for key in self.root.list_keys(prefix, start_after if bucket == first else None):
                entry = parse(key)
                if entry is not None:
                    found.append(entry)
        found.sort(key=lambda e: (e.millis, e.key))
        return found

    def buckets(self) -> list[int]:
        """Every bucket the journal holds (for pruning and for a host far behind)."""
        return sorted(int(k.rstrip("/").rpartition("/")[2]) for k in self.root.list_keys("journal/")
                      if k.rstrip("/").rpartition("/")[2].isdigit())

    def prune(self, before_millis: int) -> int:
        """Remove the buckets that end before a time (gc does, after writing a snapshot)."""
        removed = 0
        for bucket in self.buckets():
            if (bucket + 1) * BUCKET_SECONDS * 1000 <= before_millis:
                for key in self.root.list_keys(f"journal/{bucket:010d}/"):
                    self.root.delete_doc(key)
                    removed += 1
        return removed
