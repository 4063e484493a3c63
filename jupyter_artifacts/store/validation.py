"""Records from outside this process are user input: an export file, a root shared with other
hosts, a catalog rebuilt from a root. One function checks each before anything is written.

A record names blobs by digest and files by path, and both become paths on this machine
(`objects/ab/cd...`, `DEST/path`); a digest or a path that is not exactly what this store writes
could lead outside the store or the destination. So every field is checked as strictly as if a
user had typed it, and the artifact's digest is recomputed from its manifest.
"""

from __future__ import annotations

import json
import stat
from typing import Any

from ..errors import InvalidInput, quote
from .digest import is_digest
from .names import KINDS, MAX_VERSION, check_alias, check_name, is_artifact_id
from .records import Artifact, tree_digest

METADATA_MAX_DEPTH = 32
METADATA_MAX_BYTES = 1 << 20
LINK_HOPS = 40  # as the kernel's limit on links followed in one path
_MODE_BITS = 0o777 | stat.S_ISVTX  # what a stored file may keep: permissions; never setuid/setgid

class InvalidRecord(InvalidInput):
    """A record that this store would never write; it names the file and the field."""

    def __init__(self, where: str, field: str, problem: str) -> None:
        super().__init__(f"{where}: field {field!r} {problem}; the record was not used.",
                         file=where, field=field)


def _is_bad(path: object) -> bool:
    if not isinstance(path, str) or not path or path[0] == "/" or path[-1] == "/" or "\x00" in path:
        return True
    return "//" in path or any(part in (".", "..") for part in path.split("/"))


def bad_path(paths: list) -> str | None:
    """The first path that is not a clean relative path inside its folder, else None (one regex
    pass when all are clean, which is the case that must be fast)."""
    if all(isinstance(p, str) for p in paths):
        joined = "\x00".join(paths)
        if joined.count("\x00") == len(paths) - 1:  # no NUL inside a path
            # with every path between slashes, an empty path or component, a leading or trailing
            # slash, '.' and '..' all show up as one of three substrings
            slashed = f"/{joined.replace(chr(0), '/')}/"
            if "//" not in slashed and "/./" not in slashed and "/../" not in slashed:
                return None
    return next((p if isinstance(p, str) else repr(p) for p in paths if _is_bad(p)), None)


def resolve_inside(path: str, links: dict[str, str]) -> str | None:
    """Where a path leads, relative to the tree's top, following the tree's own links as the
    kernel would; None if it leads outside the tree (or loops)."""
    todo = path.split("/")
    done: list[str] = []
    hops = 0
    while todo:
        part = todo.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if not done:
                return None
            done.pop()
            continue
        done.append(part)
        target = links.get("/".join(done))
        if target is not None:
            hops += 1
            if target.startswith("/"):
                return None
            if hops > LINK_HOPS:  # a loop: never resolved, so never outside
                return "/".join(done)
            done.pop()
            todo[:0] = target.split("/")
    return "/".join(done)


def leads_outside(manifest: dict[str, dict]) -> str | None:
    """The first path that would be written outside its folder: a bad path, a path under another
    entry (a file or a link), or a link that leads out. None if every path stays inside."""
    bad = bad_path(list(manifest))
    if bad is not None:
        return bad
    for folder in {path.rpartition("/")[0] for path in manifest}:
        cut = len(folder)
        while cut > 0:
            if folder[:cut] in manifest:
                return next(p for p in manifest if p.startswith(folder[:cut] + "/"))
            cut = folder.rfind("/", 0, cut)
    links = {path: entry["link"] for path, entry in manifest.items() if "link" in entry}
    for path, target in links.items():
        if not isinstance(target, str) or resolve_inside(f"{path.rpartition('/')[0]}/{target}", links) is None:
            return path
    return None


def check_manifest(manifest: Any, where: str) -> dict[str, dict]:
    """Every entry of a manifest: a clean relative path, a digest, size and mode as this store
    writes them, links that stay inside, and no entry under another file or link."""
    if not isinstance(manifest, dict):
        raise InvalidRecord(where, "manifest", "is not an object of path -> entry")
    bad = bad_path(list(manifest))
    if bad is not None:
        raise InvalidRecord(where, "manifest", f"has the path {quote(bad)}: paths must be relative, without "
                                               "'..', '.', '//', NUL or a leading or trailing '/'")
    for path, entry in manifest.items():
        if not isinstance(entry, dict):
            raise InvalidRecord(where, "manifest", f"entry {quote(path)} is not an object")
        mode = entry.get("mode")
        if not isinstance(mode, int) or isinstance(mode, bool) or mode < 0 or mode & ~_MODE_BITS:
            raise InvalidRecord(where, "manifest", f"entry {quote(path)} has the mode {quote(mode)}: "
                                                   "only permission bits (no setuid or setgid) are stored")
        if "link" in entry:
            target = entry["link"]
            if not isinstance(target, str) or not target or "\x00" in target or target.startswith("/") \
                    or set(entry) != {"link", "mode"}:
                raise InvalidRecord(where, "manifest", f"entry {quote(path)} is a link to {quote(target)}: "
                                                       "links must be relative and stay inside")
            continue
        size = entry.get("size")
        if not is_digest(entry.get("digest")):
            raise InvalidRecord(where, "manifest", f"entry {quote(path)} has the digest {quote(entry.get('digest'))}: "
                                                   "a digest is 'blake3:' and 64 lowercase hex digits")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0 or set(entry) != {"digest", "size", "mode"}:
            raise InvalidRecord(where, "manifest", f"entry {quote(path)} has the size {quote(size)} or unknown fields")
    escape = leads_outside(manifest)
    if escape is not None:
        raise InvalidRecord(where, "manifest", f"entry {quote(escape)} would be written through another "
                                               "entry, or is a link leading outside the artifact")
    return manifest


def check_metadata(metadata: Any, what: str = "Metadata") -> dict:
    """A JSON object of bounded depth and size: deeper or bigger would fail later, in some other
    face, instead of now."""
    if not isinstance(metadata, dict):
        raise InvalidInput(f"{what} must be a JSON object (KEY=VALUE pairs on the command line).")
    stack: list[tuple[Any, int]] = [(metadata, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > METADATA_MAX_DEPTH:
            raise InvalidInput(f"{what} is nested more than {METADATA_MAX_DEPTH} levels deep; flatten it.")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    try:
        size = len(json.dumps(metadata))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what} must hold only JSON values ({exc}).") from None
    if size > METADATA_MAX_BYTES:
        raise InvalidInput(f"{what} takes {size:,} bytes as JSON, over the {METADATA_MAX_BYTES:,}-byte limit; "
                           "keep large data in the artifact's files.")
    return metadata


def _field(where: str, data: dict, name: str, kinds: type | tuple, optional: bool = False) -> Any:
    value = data.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,))):
        raise InvalidRecord(where, name, f"is {quote(value)}, not what this store writes")
    return value


def check_record(data: Any, where: str) -> Artifact:
    """An artifact record from outside this process, checked field by field; InvalidRecord names
    the file and the first field that is wrong."""
    if not isinstance(data, dict):
        raise InvalidRecord(where, "record", "is not a JSON object")
    artifact_id = data.get("id")
    if not is_artifact_id(artifact_id):
        raise InvalidRecord(where, "id", f"is {quote(artifact_id)}, not 32 lowercase hex digits")
    kind = data.get("kind")
    if kind not in KINDS:
        raise InvalidRecord(where, "kind", f"is {quote(kind)}, not one of {', '.join(KINDS)}")
    for name, check in (("name", check_name),):
        try:
            check(data.get(name))
        except InvalidInput as exc:
            raise InvalidRecord(where, name, f"is not allowed ({exc.message})") from None
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= MAX_VERSION:
        raise InvalidRecord(where, "version", f"is {quote(version)}, not a whole number from 1")
    for name, kinds in (("created_at", (int, float)), ("created_by", str), ("source", dict)):
        _field(where, data, name, kinds)
    try:
        check_metadata(_field(where, data, "metadata", dict))
    except InvalidInput as exc:
        raise InvalidRecord(where, "metadata", f"is refused ({exc.message})") from None
    refs = _field(where, data, "refs", list)
    if not all(is_artifact_id(r) for r in refs):
        raise InvalidRecord(where, "refs", "holds something other than artifact ids")
    inputs = _field(where, data, "inputs", list)
    if not all(isinstance(i, dict) and (i.get("id") is None or is_artifact_id(i["id"])) for i in inputs):
        raise InvalidRecord(where, "inputs", "holds something other than objects with artifact ids")
    _field(where, data, "produced_by", dict, optional=True)
    manifest = check_manifest(data.get("manifest"), where)
    digest = data.get("digest")
    if not is_digest(digest) or tree_digest(manifest) != digest:
        raise InvalidRecord(where, "digest", f"is {quote(digest)}, which is not the digest of its manifest")
    files = [e for e in manifest.values() if "link" not in e]
    if data.get("size") != sum(e["size"] for e in files) or data.get("file_count") != len(manifest):
        raise InvalidRecord(where, "size", "or 'file_count' does not match its manifest")
    return Artifact.from_record(data)


def check_alias_doc(kind: Any, name: Any, alias: Any, artifact_id: Any, where: str) -> None:
    """An alias pointer from outside: its kind, name and alias as a user may type them."""
    if kind not in KINDS:
        raise InvalidRecord(where, "kind", f"is {quote(kind)}, not one of {', '.join(KINDS)}")
    try:
        check_name(name)
    except InvalidInput as exc:
        raise InvalidRecord(where, "name", f"is not allowed ({exc.message})") from None
    try:
        check_alias(alias)
    except InvalidInput as exc:
        raise InvalidRecord(where, "alias", f"is not allowed ({exc.message})") from None
    if not is_artifact_id(artifact_id):
        raise InvalidRecord(where, "artifact_id", f"is {quote(artifact_id)}, not 32 lowercase hex digits")
