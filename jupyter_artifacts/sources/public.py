"""The catalog of well-known public checkpoints, fetched once per store and shared after that.

The catalog is data (`public_checkpoints.json` in this package) plus a site's own entries from a
JSON file (the store settings' `public_catalog`: `JUPYTER_ARTIFACTS_PUBLIC_CATALOG`, or the server's
`c.ArtifactsApp.public_catalog`). Sites without internet point the settings' `public_mirror`
(`JUPYTER_ARTIFACTS_PUBLIC_MIRROR`, or `c.ArtifactsApp.public_mirror`) at a mirror laid out as
`<id>/...`: a local folder or any supported URL. Both travel with the store's settings, so a job's
supervisor fetches from the mirror its server was configured with.
"""

from __future__ import annotations

import difflib
import fcntl
import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from importlib import resources

from ..errors import InvalidInput, NotFound
from ..store import Artifact, Store, StoreSettings
from ..store.settings import PUBLIC_CATALOG_ENV as CATALOG_ENV
from ..store.settings import PUBLIC_MIRROR_ENV as MIRROR_ENV
from .progress import Progress
from .spec import SourceSpec, parse_source

KIND = "checkpoint"
NAME_PREFIX = "public."
LICENSE_FILE_RE = re.compile(r"^(licen[sc]e|copying|notice|readme|model[_-]?card)([._-].*)?$", re.IGNORECASE)
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,150}$")


def current_mirror(settings: StoreSettings, mirror: str | None = None) -> str | None:
    """The mirror to fetch from: the one asked for, else the store settings' (None: the sources)."""
    return mirror or settings.public_mirror or None


@dataclass
class PublicCheckpoint:
    id: str
    title: str
    description: str = ""
    category: str = "other"
    source: dict = field(default_factory=dict)
    license: str = ""
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    origin: str = "builtin"  # builtin, or the site catalog file it came from

    @property
    def artifact_name(self) -> str:
        return NAME_PREFIX + self.id

    @property
    def source_text(self) -> str:
        src = self.source
        if src.get("type") == "hf" and src.get("repo"):
            text = f"hf:{src['repo']}"
            return text + (f"@{src['branch']}" if src.get("branch") else "")
        return src.get("path", "")

    def to_dict(self) -> dict:
        data = asdict(self)
        data["artifact_name"] = self.artifact_name
        data["source_text"] = self.source_text
        return data

    def spec(self, mirror: str | None = None) -> SourceSpec:
        """Where to fetch it from: the mirror's `<id>/` folder, else its own source."""
        if mirror:
            if "://" in mirror:
                return parse_source(mirror.rstrip("/") + "/" + self.id + "/")
            return parse_source(os.path.join(os.path.expanduser(mirror), self.id) + "/", source_type="local")
        src = self.source
        if src.get("type") == "hf" or ("repo" in src and "path" not in src):
            return parse_source(src["repo"], source_type="hf", branch=src.get("branch"))
        return parse_source(src["path"], source_type=src.get("type"), endpoint=src.get("endpoint"),
                            branch=src.get("branch"), kaggle_type=src.get("kaggle_type"))


def _entry(data: object, origin: str) -> PublicCheckpoint:
    if not isinstance(data, dict):
        raise InvalidInput(f"{origin}: each public checkpoint must be a JSON object.")
    known = {k: v for k, v in data.items() if k in PublicCheckpoint.__dataclass_fields__ and k != "origin"}
    pid = known.get("id")
    if not isinstance(pid, str) or not _ID_RE.match(pid):
        raise InvalidInput(f"{origin}: invalid public checkpoint id {pid!r} "
                           "(lowercase letters, digits, '.', '-' and '_').")
    source = known.get("source")
    if not isinstance(source, dict) or not (source.get("repo") or source.get("path")):
        raise InvalidInput(f"{origin}: {pid} needs a source: {{\"type\": \"hf\", \"repo\": \"NAMESPACE/REPO\"}} "
                           "or {\"path\": URL}.")
    known.setdefault("title", pid)
    return PublicCheckpoint(**known, origin=origin)


def _parse(text: str, origin: str) -> list[PublicCheckpoint]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{origin} is not valid JSON ({exc.msg} at line {exc.lineno}).") from exc
    items = data.get("checkpoints") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise InvalidInput(f'{origin} must hold a list of entries, or {{"checkpoints": [...]}}.')
    return [_entry(item, origin) for item in items]


def load_catalog(catalog: str | None = None) -> dict[str, PublicCheckpoint]:
    """The built-in entries, then those of the site's file `catalog` (a store settings' `public_catalog`),
    which may add ids or replace built-in ones."""
    text = resources.files(__package__).joinpath("public_checkpoints.json").read_text(encoding="utf-8")
    entries = {e.id: e for e in _parse(text, "builtin")}
    if catalog:
        path = os.path.expanduser(catalog)
        try:
            with open(path, encoding="utf-8") as f:
                site_text = f.read()
        except OSError as exc:
            raise InvalidInput(f"Cannot read the public checkpoint catalog {path} ({exc.strerror}); "
                               f"check {CATALOG_ENV}.") from exc
        for e in _parse(site_text, path):
            entries[e.id] = e
    return entries


def list_public(catalog: str | None = None) -> list[PublicCheckpoint]:
    return list(load_catalog(catalog).values())


def get_public(public_id: str, catalog: str | None = None) -> PublicCheckpoint:
    entries = load_catalog(catalog)
    if public_id in entries:
        return entries[public_id]
    close = difflib.get_close_matches(str(public_id), list(entries), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise NotFound(f"No public checkpoint {public_id!r}.{hint} List them with `jupyter artifacts public list`.")


def find_fetched(store: Store, public_id: str) -> Artifact | None:
    """The newest ready artifact of a public checkpoint in this store, if it was fetched before."""
    artifacts, _total = store.list(kind=KIND, name=NAME_PREFIX + public_id, state="ready", limit=1000)
    ours = [a for a in artifacts if (a.metadata or {}).get("public_id") == public_id]
    return max(ours, key=lambda a: a.version) if ours else None


def fetch_public(store: Store, public_id: str, progress: Progress | None = None, *, mirror: str | None = None,
                 catalog: str | None = None, user: str | None = None) -> Artifact:
    """The store's copy of a public checkpoint: fetched on first use, then shared by everyone.

    Concurrent callers (two jobs starting together) wait for one fetch. Each call records that
    `user` (default: the current user) accepted the checkpoint's license.
    """
    from ..store.store import current_user
    from .create import create_from_spec

    entry = get_public(public_id, catalog or store.settings.public_catalog)
    user = user or current_user()
    found = find_fetched(store, public_id)
    if found is None:
        lock_dir = os.path.join(store.state_dir, "locks")
        os.makedirs(lock_dir, exist_ok=True)
        fd = os.open(os.path.join(lock_dir, f"public-{public_id}.lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            found = find_fetched(store, public_id)
            if found is None:
                where = current_mirror(store.settings, mirror)
                spec = entry.spec(where)
                if spec.type == "local" and not os.path.isdir(spec.local_path):
                    raise NotFound(f"The public checkpoint mirror {where} has no folder {public_id}/; "
                                   f"copy it there, or unset {MIRROR_ENV} to fetch from {entry.source_text}.")
                metadata = {"public_id": public_id, "title": entry.title, "license": entry.license,
                            "category": entry.category}
                record = {**spec.record(), "public_id": public_id, "mirror": bool(where)}
                found = create_from_spec(
                    store, KIND, entry.artifact_name, spec, metadata=metadata, created_by=user, progress=progress,
                    include=None if where else (entry.include or None),
                    exclude=None if where else (entry.exclude or None), source_record=record)
        finally:
            os.close(fd)
    record_acceptance(store, entry, found, user)
    return found


def license_files(store: Store, artifact: Artifact) -> list[str]:
    """The license, readme and model-card files found in a fetched checkpoint."""
    manifest = store.catalog.manifest(artifact.id)
    return sorted(p for p in manifest if LICENSE_FILE_RE.match(p.rsplit("/", 1)[-1]) and p.count("/") <= 1)


def _acceptance_doc(public_id: str, user: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", user) or "_"
    return f"public/{public_id}/accepted/{safe}.json"


def record_acceptance(store: Store, entry: PublicCheckpoint, artifact: Artifact, user: str) -> dict:
    """Record (once per user) that `user` accepted the checkpoint's license by attaching it."""
    doc = _acceptance_doc(entry.id, user)
    existing = store.root.read_doc(doc)
    if existing is not None:
        return json.loads(existing)
    record = {"public_id": entry.id, "user": user, "accepted_at": time.time(), "license": entry.license,
              "license_files": license_files(store, artifact), "artifact_id": artifact.id,
              "reference": artifact.reference}
    store.root.write_doc(doc, json.dumps(record, indent=2, sort_keys=True).encode())
    return record


def license_acceptance(store: Store, public_id: str, user: str | None = None) -> dict | None:
    """When and on which files `user` accepted a public checkpoint's license; None if never."""
    from ..store.store import current_user

    raw = store.root.read_doc(_acceptance_doc(public_id, user or current_user()))
    return json.loads(raw) if raw is not None else None
