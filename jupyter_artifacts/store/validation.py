"""Records from outside this process are user input: an export file, a root shared with other
hosts, a catalog rebuilt from a root. `read_record` checks each before anything is written, the
same rules for a record laid out an entry a line (read in bounded memory) as for one read whole.

A record names blobs by digest and files by path, and both become paths on this machine
(`objects/ab/cd...`, `DEST/path`); a digest or a path that is not exactly what this store writes
could lead outside the store or the destination. So every field is checked as strictly as if a
user had typed it, and the artifact's digest is recomputed from its manifest.
"""

from __future__ import annotations

import json
import stat
from typing import IO, Any

from ..errors import InvalidInput, quote
from .digest import is_digest
from .manifests import ManifestWriter, Spool, Tree
from .names import KINDS, MAX_VERSION, check_alias, check_name, is_artifact_id
from .records import Artifact

METADATA_MAX_DEPTH = 32
METADATA_MAX_BYTES = 1 << 20
LINK_HOPS = 40  # as the kernel's limit on links followed in one path
_MODE_BITS = 0o777 | stat.S_ISVTX  # what a stored file may keep: permissions; never setuid/setgid
BATCH = 4096  # manifest entries checked at once
HEADER_MAX = 16 << 20  # a first line longer than this is not one this store wrote: the record is read whole
READ_BLOCK = 1 << 20
FIRST_LINE_END = b',"manifest":{\n'

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


class PathCheck:
    """The paths of a manifest, given in path order a batch at a time, in one pass: each a clean
    relative path, in strictly increasing order, none under another entry (a file or a link), and
    (at `finish`) every link leading inside the tree. `offender` names the path refused.

    An entry E can hold later paths only in [E + "/", E + "0"), a contiguous range in path order;
    a stack keeps the entries whose range may still come, so memory stays at the tree's depth
    (and its links)."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.links: dict[str, str] = {}
        self.offender: str | None = None
        self._last: str | None = None
        self._open: list[tuple[str, str]] = []  # (entry + "/", entry + "0")

    def refuse(self, path: str, problem: str) -> InvalidRecord:
        self.offender = path
        return InvalidRecord(self.where, "manifest", problem)

    def add_paths(self, paths: list) -> None:
        bad = bad_path(paths)
        if bad is not None:
            raise self.refuse(bad, f"has the path {quote(bad)}: paths must be relative, without "
                                   "'..', '.', '//', NUL or a leading or trailing '/'")
        if not paths:
            return
        if (self._last is not None and paths[0] <= self._last) or (len(paths) > 1 and sorted(paths) != paths):
            previous = [self._last] if self._last is not None else []
            late = next(b for a, b in zip(previous + paths, paths) if b <= a)
            raise self.refuse(late, f"has the path {quote(late)} out of order (or twice): entries come sorted by path")
        stack = self._open
        for path in paths:
            while stack and path >= stack[-1][1]:
                stack.pop()
            if stack and path.startswith(stack[-1][0]):
                raise self.refuse(path, f"entry {quote(path)} would be written through another entry, or is a "
                                        "link leading outside the artifact")
            stack.append((path + "/", path + "0"))
        self._last = paths[-1]

    def add_link(self, path: str, target: object) -> None:
        if not isinstance(target, str) or not target or "\x00" in target or target.startswith("/"):
            raise self.refuse(path, f"entry {quote(path)} is a link to {quote(target)}: links must be relative "
                                    "and stay inside")
        self.links[path] = target

    def finish(self) -> None:
        for path, target in self.links.items():
            if resolve_inside(f"{path.rpartition('/')[0]}/{target}", self.links) is None:
                raise self.refuse(path, f"entry {quote(path)} would be written through another entry, or is a "
                                        "link leading outside the artifact")


class ManifestCheck(PathCheck):
    """PathCheck, and every entry as this store writes it: a digest, size and mode, or a link."""

    def add(self, batch: object) -> None:
        if not isinstance(batch, dict):
            raise InvalidRecord(self.where, "manifest", "is not an object of path -> entry")
        self.add_paths(list(batch))
        for path, entry in batch.items():
            if type(entry) is not dict:
                raise self.refuse(path, f"entry {quote(path)} is not an object")
            mode = entry.get("mode")
            if type(mode) is not int or mode < 0 or mode & ~_MODE_BITS:
                raise self.refuse(path, f"entry {quote(path)} has the mode {quote(mode)}: only permission bits "
                                        "(no setuid or setgid) are stored")
            if "link" in entry:
                if len(entry) != 2:
                    raise self.refuse(path, f"entry {quote(path)} is a link with unknown fields: links must be "
                                            "relative and stay inside")
                self.add_link(path, entry["link"])
                continue
            digest, size = entry.get("digest"), entry.get("size")
            if not is_digest(digest):
                raise self.refuse(path, f"entry {quote(path)} has the digest {quote(digest)}: a digest is "
                                        "'blake3:' and 64 lowercase hex digits")
            if type(size) is not int or size < 0 or len(entry) != 3:
                raise self.refuse(path, f"entry {quote(path)} has the size {quote(size)} or unknown fields")


def leads_outside(manifest: dict[str, dict]) -> str | None:
    """The first path that would be written outside its folder: a bad path, a path under another
    entry (a file or a link), or a link that leads out. None if every path stays inside."""
    check = PathCheck("")
    try:
        check.add_paths(sorted(manifest))
        for path, entry in manifest.items():
            if "link" in entry:
                check.add_link(path, entry["link"])
        check.finish()
    except InvalidRecord:
        return check.offender
    return None


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


def check_header(data: Any, where: str) -> Artifact:
    """Every field of a record but its manifest, checked as user input; the artifact they describe
    (InvalidRecord names the file and the first field that is wrong)."""
    if not isinstance(data, dict):
        raise InvalidRecord(where, "record", "is not a JSON object")
    artifact_id = data.get("id")
    if not is_artifact_id(artifact_id):
        raise InvalidRecord(where, "id", f"is {quote(artifact_id)}, not 32 lowercase hex digits")
    kind = data.get("kind")
    if kind not in KINDS:
        raise InvalidRecord(where, "kind", f"is {quote(kind)}, not one of {', '.join(KINDS)}")
    try:
        check_name(data.get("name"))
    except InvalidInput as exc:
        raise InvalidRecord(where, "name", f"is not allowed ({exc.message})") from None
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
    return Artifact.from_record(data)


class _Reading:
    """A record's manifest being checked and spooled a batch at a time; `finish` compares what
    it adds up to with what the header claims."""

    def __init__(self, data: dict, where: str, folder: str | None) -> None:
        self.data, self.where = data, where
        self.artifact = check_header(data, where)
        self.check = ManifestCheck(where)
        self.spool = Spool(folder)
        self.writer = ManifestWriter(self.spool.add)

    def add(self, batch: object) -> None:
        self.check.add(batch)
        self.writer.add_all(batch.items())  # type: ignore[union-attr]

    def finish(self) -> tuple[Artifact, Tree]:
        self.check.finish()
        tree = Tree(*self.writer.finish(), self.spool)
        data, where = self.data, self.where
        if not is_digest(data.get("digest")) or tree.digest != data["digest"]:
            raise InvalidRecord(where, "digest", f"is {quote(data.get('digest'))}, which is not the digest of its "
                                                 "manifest")
        if data.get("size") != tree.size or data.get("file_count") != tree.file_count:
            raise InvalidRecord(where, "size", "or 'file_count' does not match its manifest")
        return self.artifact, tree

    def fail(self) -> None:
        self.spool.close()


def check_record(data: Any, where: str, folder: str | None = None) -> tuple[Artifact, Tree]:
    """A record held whole (an export's, a snapshot's), checked as user input: the artifact and
    its tree (spooled under `folder`)."""
    reading = _Reading(data, where, folder)
    try:
        manifest = data.get("manifest")
        if not isinstance(manifest, dict):
            raise InvalidRecord(where, "manifest", "is not an object of path -> entry")
        items = sorted(manifest.items())  # keys are unique: values are never compared
        for start in range(0, len(items), BATCH):
            reading.add(dict(items[start:start + BATCH]))
        return reading.finish()
    except BaseException:
        reading.fail()
        raise


def read_header(stream: IO[bytes], where: str) -> Artifact:
    """What a record from outside says of its artifact, its manifest aside, checked: from its first
    line where it is laid out an entry a line (see read_record), else from the whole document."""
    first = stream.readline(HEADER_MAX)
    if first.endswith(FIRST_LINE_END):
        return check_header(_load(first[:-1] + b"}}", where), where)
    return check_header(_load(first + stream.read(), where), where)


def read_record(stream: IO[bytes], where: str, folder: str | None = None) -> tuple[Artifact, Tree]:
    """A record from outside (a root's, an export's), read and checked as user input a batch of
    lines at a time: the artifact and its tree (spooled under `folder`).

    A record laid out as this store writes it (a first line ending with `"manifest":{`, then an
    entry a line: manifests.py) is read in bounded memory; what the whole document means to a
    JSON reader is what is checked, batch by batch, and any other layout is read whole."""
    first = stream.readline(HEADER_MAX)
    if not first.endswith(FIRST_LINE_END):
        return check_record(_load(first + stream.read(), where), where, folder)
    reading = _Reading(_load(first[:-1] + b"}}", where), where, folder)
    try:
        lines: list[bytes] = []
        rest = b""
        while True:
            block = stream.read(READ_BLOCK)
            found = (rest + block).split(b"\n")
            rest = found.pop()
            for i, line in enumerate(found):
                if line == b"}}":
                    if any(extra.strip() for extra in found[i + 1:]) or rest.strip() or _goes_on(stream):
                        raise InvalidRecord(where, "record", "goes on after its end")
                    reading.add(_batch(lines, final=True, where=where))
                    return reading.finish()
                lines.append(line)
                if len(lines) > BATCH:  # one line kept back: the manifest's last has no comma
                    reading.add(_batch(lines[:BATCH], final=False, where=where))
                    del lines[:BATCH]
            if not block:
                raise InvalidRecord(where, "record", "ends before its manifest does")
    except BaseException:
        reading.fail()
        raise


def _goes_on(stream: IO[bytes]) -> bool:
    """Whether anything but white space follows."""
    while block := stream.read(READ_BLOCK):
        if block.strip():
            return True
    return False


def _load(raw: bytes, where: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidRecord(where, "record", "is not valid JSON") from None


def _batch(lines: list[bytes], final: bool, where: str) -> Any:
    """Consecutive member lines of the manifest object, as the object they make: every line but
    the manifest's last ends with a comma."""
    text = b"".join(lines)
    if not final:
        if not text.endswith(b","):
            raise InvalidRecord(where, "manifest", "is not laid out a member a line")
        text = text[:-1]
    try:
        return json.loads(b"{" + text + b"}")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidRecord(where, "manifest", "is not valid JSON (or not laid out a member a line)") from None


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
