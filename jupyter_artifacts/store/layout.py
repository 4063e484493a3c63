"""Where each kind of document lives in a root (see roots/__init__.py for the whole layout)."""

from __future__ import annotations

MARKER = "root.json"  # what kind of root this is: {"format": 1, "shared": bool}
GC_LOCK = "gc/lock.json"
GC_CANDIDATES = "gc/candidates.json"  # blobs unused at the last gc: removed at the next if still unused
GC_LAST = "gc/last.json"


def record_path(artifact_id: str) -> str:
    return f"artifacts/{artifact_id}.json"


def alias_path(kind: str, name: str, alias: str) -> str:
    return f"aliases/{kind}/{name}/{alias}.json"


def link_path(src: str, dst: str) -> str:
    return f"links/{src}/{dst}.json"


def version_path(kind: str, name: str, version: int) -> str:
    """A version's claim: made once, by exclusive create, and never removed, so that a version
    number is never given twice, even after a delete (the counters are read back from these)."""
    return f"versions/{kind}/{name}/{version:010d}.json"


def lease_path(artifact_id: str, lease_id: str) -> str:
    return f"leases/{artifact_id}/{lease_id}.json"


def tombstone_path(artifact_id: str) -> str:
    return f"tombstones/{artifact_id}.json"


def pending_path(artifact_id: str) -> str:
    """A save in progress on some host, and the stored blobs it relies on (gc keeps them)."""
    return f"pending/{artifact_id}.json"
