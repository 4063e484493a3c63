"""Populating artifacts from where the files already are.

Every face calls `create_from_source`; it validates the path for its source type before anything
is fetched, fetches into a staging folder on this machine, and publishes through the store.

Modules, one job each: `spec` (types, inference, validation), `filesystems` (fsspec arguments),
`fetch` (listing, parallel downloads, retries), `archives` (safe extraction), `git`, `kaggle`,
`manifests`, `public` (the public checkpoint catalog), `create` (reserve, fetch, publish).
"""

from __future__ import annotations

import os

from ..errors import InvalidInput
from ..progress import Progress
from ..store import Artifact, Store

_EXPORTS = {"ACCEPTED_FORMS": ".spec", "SOURCE_TYPES": ".spec", "SourceSpec": ".spec", "parse_source": ".spec",
            "fetch_public": ".public", "get_public": ".public", "list_public": ".public"}
__all__ = sorted([*_EXPORTS, "create_from_manifest", "create_from_source"])


def __getattr__(name: str):
    """Submodules load on first use: saving a local folder needs none of them (ssl, urllib, git)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name], __name__), name)


def plain_local_folder(path: str | None, cwd: str | None = None) -> str | None:
    """The absolute path when `path` is plainly an existing local folder (no variable, URL or
    host:path that could mean another source type), else None."""
    if not isinstance(path, str) or not path.strip() or any(c in path for c in "$:@?#"):
        return None
    folder = os.path.abspath(os.path.join(cwd or os.getcwd(), os.path.expanduser(path.strip())))
    return folder if os.path.isdir(folder) else None


def create_from_source(store: Store, kind: str, name: str, path: str | None = None, *,
                       source_type: str | None = None, endpoint: str | None = None, branch: str | None = None,
                       kaggle_type: str | None = None, aliases: list[str] = (), refs: list[str] = (),
                       metadata: dict | None = None, created_by: str | None = None,
                       progress: Progress | None = None, manifest: str | None = None, cwd: str | None = None,
                       local_roots: list[str] | None = None) -> Artifact:
    """Create a new version of `name` from a local path, a remote source, or a data manifest.

    The source type is inferred from `path` unless `source_type` is given; a path that does not
    fit is refused before anything is fetched. Relative local paths resolve against `cwd` (default:
    the current folder); with `local_roots` (the server) local paths must resolve inside them.
    While fetching the artifact is `downloading` (progress visible to `show`); a failure leaves it
    `failed` with the reason, and creating it again makes the next version.
    """
    if manifest is None and local_roots is None and source_type in (None, "local") \
            and not any((endpoint, branch, kaggle_type)) and (folder := plain_local_folder(path, cwd)):
        return store.create(kind, name, folder, aliases=list(aliases), refs=list(refs), metadata=metadata,
                            source={"type": "local", "path": folder}, created_by=created_by, progress=progress)
    from .create import create_from_spec
    from .spec import parse_source

    if manifest is not None:
        if path:
            raise InvalidInput("Give either a source PATH or --manifest FILE, not both.")
        if any((source_type, endpoint, branch, kaggle_type)):
            raise InvalidInput("--source-type, --endpoint, --branch and --kaggle-type apply to a PATH; "
                               "in a manifest, give them per line (keys source_type, endpoint, branch, kaggle_type).")
        return create_from_manifest(store, kind, name, manifest, aliases=aliases, refs=refs, metadata=metadata,
                                    created_by=created_by, progress=progress, cwd=cwd, local_roots=local_roots)
    if path is None:
        raise InvalidInput("A source PATH is needed (or, for a dataset, --manifest FILE).")
    spec = parse_source(path, source_type=source_type, endpoint=endpoint, branch=branch, kaggle_type=kaggle_type,
                        cwd=cwd, local_roots=local_roots)
    return create_from_spec(store, kind, name, spec, aliases=aliases, refs=refs, metadata=metadata,
                            created_by=created_by, progress=progress)


def create_from_manifest(store: Store, kind: str, name: str, manifest: str, *, aliases: list[str] = (),
                         refs: list[str] = (), metadata: dict | None = None, created_by: str | None = None,
                         progress: Progress | None = None, cwd: str | None = None,
                         local_roots: list[str] | None = None) -> Artifact:
    """Create an artifact (usually a dataset) from a JSON-lines manifest of {"url", "path"}."""
    from .create import preflight, run_fetch
    from .manifests import fetch_manifest, read_manifest

    entries = read_manifest(manifest, cwd=cwd, local_roots=local_roots)
    for entry in entries:
        try:
            preflight(entry.spec)
        except InvalidInput as exc:
            raise type(exc)(f"line {entry.line}: {exc.message}") from exc
    manifest_path = os.path.abspath(os.path.join(cwd or os.getcwd(), os.path.expanduser(manifest)))
    source = {"type": "manifest", "path": manifest_path, "entries": len(entries)}
    artifact = store.begin(kind, name, state="downloading", source=source, metadata=metadata, refs=list(refs),
                           aliases=list(aliases), created_by=created_by)
    return run_fetch(store, artifact, progress,
                     lambda content, work, tracker: fetch_manifest(entries, content, work, tracker, store.settings) and None)
