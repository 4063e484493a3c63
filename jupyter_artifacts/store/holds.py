"""Who holds an artifact (a job, a kernel, a download), so that nobody deletes it under them.

On every root, a lease is a catalog row owned by a process token (host, pid, start time): a lease
whose process died no longer counts. On a shared root, each lease is also a document in the root
(`leases/<artifact>/<lease>.json`) with an expiry that a live holder's host keeps moving
(`renew`), so other hosts see it; a delete first writes a tombstone and then looks for leases,
and taking a lease first writes it and then looks for a tombstone: one of the two always sees
the other.
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING

from .. import procs
from ..errors import Conflict
from .journal import host_name
from .layout import lease_path, tombstone_path
from .records import dumps
from .roots import random_id

if TYPE_CHECKING:
    from .store import Store


class Holds:
    """The leases of one store, and the tombstones of its deletes in progress."""

    def __init__(self, store: "Store") -> None:
        self.store = store
        self.catalog, self.root = store.catalog, store.root
        self._renewed = 0.0
        self._keeper: threading.Thread | None = None

    @property
    def shared(self) -> bool:
        return self.store.shared

    @property
    def ttl(self) -> float:
        return self.store.settings.lease_ttl

    def _doc(self, holder: str, owner: str | None) -> bytes:
        return dumps({"holder": holder, "host": host_name(), "host_id": self.store.host_id, "owner": owner,
                      "expires_at": time.time() + self.ttl})

    def acquire(self, artifact_id: str, reference: str, holder: str, pid: int | None = None) -> str:
        """A lease on a ready artifact for `holder` (a process `pid`, else this one)."""
        lease_id = random_id()
        owner = procs.token(pid) if pid else None
        state = self.catalog.add_lease(lease_id, artifact_id, holder, owner)
        if state != "ready":
            raise Conflict(f"{reference} is not ready (it is {state or 'deleted'}).")
        if self.shared:
            self.root.write_doc(lease_path(artifact_id, lease_id), self._doc(holder, owner))
            tombstone = _parse(self.root.read_doc(tombstone_path(artifact_id)), ("host", "at"))
            if tombstone is not None and tombstone["at"] > time.time() - self.ttl:  # older: its delete crashed
                self.release(lease_id)
                raise Conflict(f"{reference} is being deleted by {tombstone['host']}; it cannot be attached.")
        return lease_id

    def release(self, lease_id: str) -> None:
        row = self.catalog.lease(lease_id)
        if row is not None and self.shared:
            self.root.delete_doc(lease_path(row[0], lease_id))
        self.catalog.remove_lease(lease_id)

    def holders(self, artifact_id: str) -> list[str]:
        """Who holds an artifact now, on this host and (shared roots) every other; leases of
        processes that died here, and of hosts that stopped renewing theirs, are dropped."""
        rows = self.catalog.leases_of(artifact_id)
        dead = [lease_id for lease_id, _holder, owner in rows if owner is not None and not procs.alive(owner)]
        if dead and not self.catalog.read_only:
            for lease_id in dead:
                self.release(lease_id)
        found = {holder for lease_id, holder, _owner in rows if lease_id not in dead}
        if self.shared:
            for doc in self.root.list_docs(f"leases/{artifact_id}"):
                lease = _parse(self.root.read_doc(doc), ("holder", "host", "host_id", "expires_at"))
                if lease is None or lease["host_id"] == self.store.host_id:
                    continue  # this host's own are its rows (a dead one's document is removed above)
                if lease["expires_at"] > time.time():
                    found.add(f"{lease['holder']} on {lease['host']}")
        return sorted(found)

    # -- keeping leases alive -------------------------------------------------------------------
    def renew(self, force: bool = False) -> None:
        """Move the expiry of every live lease of this host (a third of the ttl before it ends);
        cheap enough to call from a progress callback."""
        if not self.shared or (not force and time.monotonic() - self._renewed < self.ttl / 3):
            return
        self._renewed = time.monotonic()
        for lease_id, artifact_id, holder, owner in self.catalog.all_leases():
            if owner is not None and not procs.alive(owner):
                self.release(lease_id)
            else:
                self.root.write_doc(lease_path(artifact_id, lease_id), self._doc(holder, owner))

    def keep(self) -> None:
        """Renew on a thread, for long-lived processes (the server, a kernel, a job supervisor)."""
        if not self.shared or self._keeper is not None:
            return

        def loop() -> None:
            while True:
                time.sleep(max(self.ttl / 3, 0.05))
                try:
                    self.renew(force=True)
                except Exception:  # noqa: BLE001 - the next round tries again (a network blip)
                    pass

        self._keeper = threading.Thread(target=loop, name="artifact-leases", daemon=True)
        self._keeper.start()

    # -- deletes ------------------------------------------------------------------------------
    def tombstone(self, artifact_id: str, reference: str) -> None:
        """Mark an artifact as being deleted; refused if another host is deleting it right now."""
        doc = tombstone_path(artifact_id)
        body = dumps({"host": host_name(), "at": time.time()})
        if self.root.claim(doc, body):
            return
        current = self.root.read_tagged(doc)
        old = _parse(current.data, ("host", "at")) if current else None
        if current is None or old is None or old["at"] < time.time() - self.ttl:  # left by a crash
            if self.root.replace_doc(doc, body, current.tag if current else None):
                return
        raise Conflict(f"{reference} is being deleted by {(old or {}).get('host', 'another host')}; "
                       "list it again in a moment.")

    def lift(self, artifact_id: str) -> None:
        """Take a tombstone back (the delete was refused)."""
        self.root.delete_doc(tombstone_path(artifact_id))


def _parse(raw: bytes | None, fields: tuple[str, ...] = ("holder", "host", "expires_at")) -> dict | None:
    """A lease or tombstone document from the root, or None if it is not one (untrusted input)."""
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(data, dict) or not all(k in data for k in fields):
        return None
    number = fields[-1]
    if not isinstance(data[number], (int, float)) or not all(isinstance(data[k], str) for k in fields[:-1]):
        return None
    return {k: (data[k][:200] if isinstance(data[k], str) else data[k]) for k in fields}
