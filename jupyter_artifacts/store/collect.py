"""Removing blobs no artifact uses (`jupyter artifacts gc`).

On a root that one machine uses, gc takes the blob lock alone (saves hold it shared) and removes
every unused blob at once. On a shared root no lock spans the hosts, so a blob is removed only when
all of these hold: no record, no save in progress (`pending/`) and no lease uses it; it was
already unused at the previous gc (`gc/candidates.json`); and it is older than the grace period.
One gc runs at a time (`gc/lock.json`, a lease with an expiry). A save that relied on stored
blobs re-checks them after any gc that ran meanwhile (see Store._publish_shared), so a save and
a gc never lose a blob between them.
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING

from ..errors import Conflict
from .journal import Journal, host_name
from .layout import GC_CANDIDATES, GC_LAST, GC_LOCK
from .records import dumps
from .sync import JOURNAL_RETENTION

if TYPE_CHECKING:
    from .store import Store


def collect_local(store: "Store", wait: bool = True) -> dict:
    """Remove blobs no artifact uses and leftovers of interrupted work; idempotent."""
    catalog, root = store.catalog, store.root
    with store.blob_lock(exclusive=True, wait=wait):
        used = catalog.used_digests()
        removed, freed = 0, 0
        for info in list(root.list_blobs()):
            if info.digest not in used:
                freed += info.size
                root.remove_blob(info.digest)
                removed += 1
        tmp = root.clean_tmp()
    return {"removed_blobs": removed, "freed_bytes": freed, "removed_tmp": tmp}


class GcLock:
    """One gc at a time on a shared root: a document made by exclusive create, with an expiry
    that the running gc moves; one left by a crash is taken over once it has expired."""

    def __init__(self, store: "Store") -> None:
        self.root, self.ttl = store.root, store.settings.lease_ttl
        self.tag: str | None = None
        self.started = time.time()
        self._done = threading.Event()
        self._renewing = threading.Thread(target=self._keep, name="gc-lock", daemon=True)

    def _body(self) -> bytes:
        return dumps({"host": host_name(), "started": self.started, "expires_at": time.time() + self.ttl})

    def __enter__(self) -> "GcLock":
        if not self.root.claim(GC_LOCK, self._body()):
            current = self.root.read_tagged(GC_LOCK)
            holder = running_gc(current.data if current else None)
            if holder is not None:
                raise Conflict(f"A gc is already running on {holder['host']} (since "
                               f"{time.strftime('%H:%M:%S', time.localtime(holder['started']))}); "
                               "run it again when that one is done.")
            if not self.root.replace_doc(GC_LOCK, self._body(), current.tag if current else None):
                raise Conflict("Another gc started just now; run it again when that one is done.")
        self.tag = self.root.read_tagged(GC_LOCK).tag
        self._renewing.start()
        return self

    def _keep(self) -> None:
        """Move the expiry on from a thread, whatever step the gc is at (a save that finds the
        lock expired does not wait for this gc: a slow step must never let it expire)."""
        while not self._done.wait(self.ttl / 3):
            current = self.root.read_tagged(GC_LOCK)
            if current is None or current.tag != self.tag or not self.root.replace_doc(GC_LOCK, self._body(), self.tag):
                return
            self.tag = self.root.read_tagged(GC_LOCK).tag

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._renewing.join()
        self.root.delete_doc(GC_LOCK)


def running_gc(raw: bytes | None) -> dict | None:
    """The gc lock's holder if it has not expired (None: free, expired, or not a lock)."""
    try:
        data = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("expires_at"), (int, float)) \
            or data["expires_at"] < time.time() or not isinstance(data.get("started"), (int, float)):
        return None
    return {"host": str(data.get("host", "another host"))[:100], "started": data["started"]}


def _digest_set(raw: bytes | None) -> set[str]:
    try:
        data = json.loads(raw) if raw else {}
    except (ValueError, UnicodeDecodeError):
        return set()
    digests = data.get("digests") if isinstance(data, dict) else None
    return {d for d in digests if isinstance(d, str)} if isinstance(digests, list) else set()


def collect_shared(store: "Store", grace: float | None = None) -> dict:
    """One gc of a shared root; see the module's docstring for what may be removed."""
    root, catalog = store.root, store.catalog
    grace = store.settings.gc_grace if grace is None else grace
    with GcLock(store) as lock:
        blobs = list(root.list_blobs())  # before the records: a blob stored after this is not a candidate
        # Saves in progress before the records: a save that publishes meanwhile (and drops its
        # pending document) is then seen by one or the other; one that starts later waits for this gc.
        pending = store.pending_digests()
        store.syncer.full()
        used = catalog.used_digests() | pending
        previous = _digest_set(root.read_doc(GC_CANDIDATES))
        now = time.time()
        unused = [b for b in blobs if b.digest not in used]
        doomed = [b for b in unused if b.digest in previous and b.mtime < now - grace]
        for blob in doomed:
            root.remove_blob(blob.digest)
        gone = {b.digest for b in doomed}
        root.write_doc(GC_CANDIDATES, dumps({"at": now, "digests": sorted(b.digest for b in unused
                                                                         if b.digest not in gone)}))
        store.syncer.write_snapshot()  # before pruning: a new host then needs no entry older than it
        pruned = Journal(root).prune(int((now - JOURNAL_RETENTION) * 1000))
        stale = store.clear_stale_documents(now - max(grace, store.settings.lease_ttl))
        root.write_doc(GC_LAST, dumps({"host": host_name(), "started": lock.started, "ended": time.time()}))
    return {"removed_blobs": len(doomed), "freed_bytes": sum(b.size for b in doomed),
            "candidates": len(unused) - len(doomed), "removed_tmp": 0, "journal_entries_pruned": pruned,
            "stale_documents": stale}
