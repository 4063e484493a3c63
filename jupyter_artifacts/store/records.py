"""The artifact record: one immutable JSON document per artifact, the truth the catalog indexes."""

from __future__ import annotations

import json
import stat
from array import array
from copy import deepcopy
from dataclasses import dataclass, field, fields
from typing import Any

import blake3

from .digest import ALGORITHM

STATES = ("pending", "downloading", "ready", "failed")
RECORD_FORMAT = 1
MANIFEST_KEY = b',"manifest":'


@dataclass
class Artifact:
    id: str
    kind: str
    name: str
    version: int
    state: str = "pending"
    digest: str | None = None
    size: int = 0
    file_count: int = 0
    created_at: float = 0.0
    created_by: str = ""
    source: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    refs: list[str] = field(default_factory=list)
    produced_by: dict | None = None
    inputs: list[dict] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    error: str | None = None
    progress: dict | None = None
    manifest: dict[str, dict] | None = None

    @property
    def reference(self) -> str:
        return f"{self.name}:v{self.version}"

    def to_dict(self, manifest: bool = True) -> dict[str, Any]:
        # Like dataclasses.asdict, but a manifest (flat entries, often tens of thousands) is copied
        # in one comprehension instead of recursively; asdict's deep copy cost more than the rest
        # of saving an unchanged folder.
        data = {name: deepcopy(value) if isinstance(value := getattr(self, name), (dict, list)) else value
                for name in _FIELDS}
        if manifest:
            data["manifest"] = None if self.manifest is None else {p: dict(e) for p, e in self.manifest.items()}
        data["reference"] = self.reference
        return data

    def to_record(self) -> dict[str, Any]:
        """What is written to the root: everything that never changes after publishing.

        Made to be serialized at once: the manifest's entries are this artifact's own, not copies.
        """
        data = self._record_header()
        data["manifest"] = self.manifest
        return data

    def record_bytes(self, manifest_json: bytes) -> bytes:
        """The record as `dumps(self.to_record())` would read back, around a manifest already
        encoded (re-encoding 20,000 entries costs more than the rest of saving an unchanged folder).
        The manifest comes last, so `manifest_in_record` finds it again."""
        head = dumps(self._record_header())
        return head[:-1] + MANIFEST_KEY + manifest_json + b"}"

    def _record_header(self) -> dict[str, Any]:
        data = self.to_dict(manifest=False)
        for transient in ("state", "aliases", "error", "progress", "reference"):
            data.pop(transient)
        data["format"] = RECORD_FORMAT
        return data

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> "Artifact":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["state"] = "ready"
        return cls(**known)


_FIELDS = tuple(f.name for f in fields(Artifact) if f.name != "manifest")


def entry_is_link(entry: dict) -> bool:
    return "link" in entry


def tree_digest(manifest: dict[str, dict]) -> str:
    """Digest of a whole tree: relative paths, contents, links and the executable bit.

    The folder's own name, timestamps and owner do not count, so the same content in any folder
    gives the same digest.
    """
    lines = []
    for path in sorted(manifest):
        entry = manifest[path]
        if "link" in entry:
            lines.append(f"L\0{path}\0{entry['link']}\n")
        else:
            lines.append(f"F\0{path}\0{entry['digest']}\0{'x' if entry['mode'] & stat.S_IXUSR else '-'}\n")
    return f"{ALGORITHM}:{blake3.blake3(''.join(lines).encode('utf-8', 'surrogateescape')).hexdigest()}"


def dumps(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def manifest_in_record(raw: bytes | None, length: int) -> bytes | None:
    """The encoding of the manifest (`length` bytes) that ends a record written by
    `Artifact.record_bytes`; None if the record is gone or not laid out so."""
    if raw is None or not raw.endswith(b"}"):
        return None
    start = len(raw) - 1 - length
    if start < len(MANIFEST_KEY) or raw[start - len(MANIFEST_KEY):start] != MANIFEST_KEY:
        return None
    return raw[start:-1]


def tree_key(manifest: dict[str, dict], digest: str | None = None) -> str:
    """Names a manifest by every field of every entry.

    Given the manifest's tree digest (tree_digest: paths, contents, links and the executable bit;
    a content's size follows from its digest), only the full modes are added.
    """
    paths = sorted(manifest)
    if digest:
        modes = array("H", [manifest[p]["mode"] & 0xFFFF for p in paths]).tobytes()
        return "m:" + blake3.blake3(digest.encode() + b"\0" + modes).hexdigest()
    text = "".join([f"{path}\0{e.get('digest')}\0{e.get('size', 0)}\0{e['mode']}\0{e.get('link')}\n"
                    for path in paths for e in (manifest[path],)])
    return blake3.blake3(text.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(slots=True)
class Tree:
    """A stored manifest and what follows from it: digest, size, count, catalog key and encoding.

    `manifest` is None when only its encoding is at hand (an unchanged folder saved again).
    """

    digest: str
    size: int
    file_count: int
    key: str
    json: bytes
    manifest: dict[str, dict] | None = None

    @classmethod
    def of(cls, manifest: dict[str, dict]) -> "Tree":
        digest = tree_digest(manifest)
        return cls(digest, sum(e.get("size", 0) for e in manifest.values()), len(manifest),
                   tree_key(manifest, digest), dumps(manifest), manifest)

    def entries(self) -> dict[str, dict]:
        if self.manifest is None:
            self.manifest = json.loads(self.json)
        return self.manifest
