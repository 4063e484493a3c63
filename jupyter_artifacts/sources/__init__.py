"""Populating artifacts from where the files already are.

Every face calls `create_from_source`; it validates the path for its source type before anything
is fetched, fetches into a staging folder, and publishes through the store.
"""

from __future__ import annotations

import os

from ..errors import InvalidInput
from ..store import Artifact, Store
from ..store.snapshot import Progress


def create_from_source(store: Store, kind: str, name: str, path: str, *, source_type: str | None = None,
                       endpoint: str | None = None, branch: str | None = None, kaggle_type: str | None = None,
                       aliases: list[str] = (), refs: list[str] = (), metadata: dict | None = None,
                       created_by: str | None = None, progress: Progress | None = None) -> Artifact:
    """Create an artifact from a local path (remote source types are added by the sources module)."""
    if source_type not in (None, "local") or "://" in path:
        raise InvalidInput(f"Source type {source_type or path.split('://')[0]!r} is not supported yet; use a local path.")
    path = os.path.expandvars(os.path.expanduser(path))
    return store.create(kind, name, path, aliases=aliases, refs=refs, metadata=metadata,
                        created_by=created_by, progress=progress)
