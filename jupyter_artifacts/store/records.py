"""The artifact record: one immutable JSON document per artifact, the truth the catalog indexes."""

from __future__ import annotations

import json
import stat
from copy import deepcopy
from dataclasses import dataclass, field, fields
from typing import Any

import blake3

from .digest import ALGORITHM

STATES = ("pending", "downloading", "ready", "failed")
RECORD_FORMAT = 1


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

    def record_header(self) -> bytes:
        """Every field of the record but its manifest, encoded; manifests.record_pieces adds the
        manifest a line per entry after it."""
        return dumps(self._record_header())

    def _record_header(self) -> dict[str, Any]:
        data = self.to_dict(manifest=False)
        for transient in ("state", "aliases", "error", "progress", "reference"):
            data.pop(transient)
        data["format"] = RECORD_FORMAT
        return data

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> "Artifact":
        """The artifact a checked record describes (its manifest is read as a tree, apart)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "manifest"}
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
