"""Artifact kinds, names, aliases and the reference strings that address an artifact everywhere."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import InvalidInput, quote

KINDS = ("model", "checkpoint", "dataset")
NAME_RULE = "letters, digits, spaces, '-', '_' and '.' (at most 200 characters)"
_NAME_RE = re.compile(r"^[A-Za-z0-9 _.\-]{1,200}\Z")
_ALIAS_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,100}\Z")
_VERSION_RE = re.compile(r"^v(\d+)\Z")
_ID_RE = re.compile(r"^[0-9a-f]{32}\Z")
MAX_VERSION = 2**63 - 1  # SQLite's largest integer


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidInput(f"Unknown kind {quote(kind)}: use one of {', '.join(KINDS)}.")
    return kind


def check_name(name: str) -> str:
    """Refuse names that cannot be used as a reference or a folder name."""
    if not isinstance(name, str) or not _NAME_RE.match(name) or name.strip() != name or name in (".", ".."):
        shown = quote(name) if isinstance(name, str) else type(name).__name__
        raise InvalidInput(
            f"Invalid name {shown}: a name may hold {NAME_RULE}, "
            "must not start or end with a space, and cannot be '.' or '..' ('/' and ':' are not allowed)."
        )
    return name


def check_alias(alias: str) -> str:
    if not isinstance(alias, str) or not _ALIAS_RE.match(alias) or alias in ("latest", ".", "..") \
            or _VERSION_RE.match(alias):
        shown = quote(alias) if isinstance(alias, str) else type(alias).__name__
        raise InvalidInput(
            f"Invalid alias {shown}: an alias may hold letters, digits, '-', '_' and '.' (at most 100), "
            "and cannot be 'latest', '.', '..' or look like a version ('v3')."
        )
    return alias


def is_artifact_id(text: object) -> bool:
    return isinstance(text, str) and bool(_ID_RE.match(text))


@dataclass(frozen=True)
class Ref:
    """A parsed reference: `NAME`, `NAME:vN`, `NAME:ALIAS` or an artifact id."""

    text: str
    name: str | None = None
    version: int | None = None
    alias: str | None = None
    artifact_id: str | None = None


def parse_ref(text: str) -> Ref:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("Empty reference: use NAME, NAME:vN, NAME:ALIAS or an artifact id.")
    text = text.strip()
    name, sep, suffix = text.partition(":")
    if not sep:
        check_name(name)
        return Ref(text, name=name, artifact_id=text if is_artifact_id(text) else None)
    if ":" in suffix or not suffix:
        raise InvalidInput(f"Invalid reference {quote(text)}: use NAME, NAME:vN, NAME:ALIAS or an artifact id.")
    check_name(name)
    match = _VERSION_RE.match(suffix)
    if match:
        version = int(match.group(1)) if len(match.group(1)) <= 19 else MAX_VERSION + 1
        if not 1 <= version <= MAX_VERSION:
            raise InvalidInput(f"Invalid version in {quote(text)}: versions count from v1 (at most v{MAX_VERSION}).")
        return Ref(text, name=name, version=version)
    if suffix == "latest":
        return Ref(text, name=name)
    return Ref(text, name=name, alias=check_alias(suffix))
