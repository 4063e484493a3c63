"""The artifact record: one immutable JSON document per artifact, the truth the catalog indexes."""

from __future__ import annotations

import json
import stat
from dataclasses import asdict, dataclass, field
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
        data = asdict(self)
        data["reference"] = self.reference
        if not manifest:
            data.pop("manifest")
        return data

    def to_record(self) -> dict[str, Any]:
        """What is written to the root: everything that never changes after publishing."""
        data = self.to_dict()
        for transient in ("state", "aliases", "error", "progress", "reference"):
            data.pop(transient)
        data["format"] = RECORD_FORMAT
        return data

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> "Artifact":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["state"] = "ready"
        return cls(**known)


def entry_is_link(entry: dict) -> bool:
    return "link" in entry


def tree_digest(manifest: dict[str, dict]) -> str:
    """Digest of a whole tree: relative paths, contents, links and the executable bit.

    The folder's own name, timestamps and owner do not count, so the same content in any folder
    gives the same digest.
    """
    hasher = blake3.blake3()
    for path in sorted(manifest):
        entry = manifest[path]
        if entry_is_link(entry):
            line = f"L\0{path}\0{entry['link']}\n"
        else:
            executable = "x" if entry["mode"] & stat.S_IXUSR else "-"
            line = f"F\0{path}\0{entry['digest']}\0{executable}\n"
        hasher.update(line.encode("utf-8", "surrogateescape"))
    return f"{ALGORITHM}:{hasher.hexdigest()}"


def dumps(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
