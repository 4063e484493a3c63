"""A manifest as a stream: its entries in path order, one canonical line each, in chunks.

An entry's line is what `json.dumps(manifest, sort_keys=True, separators=(",", ":"))` writes for
it, then ",\\n":

    "data/a.bin":{"digest":"blake3:...","mode":420,"size":1234},
    "latest":{"link":"data/a.bin","mode":511},

A record holds these lines (the last without its comma) after a first line that ends with
`"manifest":{`, then `}}`: the one JSON document every reader of records knows, which a reader can
also take a line at a time (validation.read_record). The catalog keeps the same lines, compressed,
in chunks that end where a path's hash says (or at a size limit): boundaries depend on paths
only, so two versions of a tree share every chunk their changes do not touch, and a diff skips
them. A chunk is named by a hash of its lines; a tree by the hashes of its chunks.

Nothing here holds a tree whole: a writer holds one chunk, a spool keeps the rest on disk.
"""

from __future__ import annotations

import json
import stat
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as quote_json  # type: ignore[attr-defined]

import blake3

from .digest import ALGORITHM

BOUNDARY = 511  # a chunk ends after a path whose CRC-32 has these low bits all set: 512 entries on average
MAX_ENTRIES = 4096
MAX_BYTES = 1 << 20


def decode(text: bytes) -> dict[str, dict]:
    """A chunk's entries, in order (text written by this module)."""
    return json.loads(b"{" + text[:-2] + b"}") if text else {}


@dataclass(slots=True)
class Chunk:
    """Consecutive entries of a manifest: their canonical lines, named by a hash of them."""

    key: bytes  # 16 bytes of BLAKE3 over `text`
    first: str  # its first path
    count: int
    text: bytes


class ManifestWriter:
    """Takes entries in path order; hands each finished chunk to `sink`, and computes what the
    whole tree gives: its digest (records.tree_digest's), size, count and key."""

    def __init__(self, sink: Callable[[Chunk], None]) -> None:
        self.sink = sink
        self.size = self.count = 0
        self._lines: list[str] = []
        self._digest_lines: list[str] = []
        self._first: str | None = None
        self._bytes = 0
        self._digest = blake3.blake3()
        self._key = blake3.blake3()

    def add_file(self, path: str, digest: str, size: int, mode: int) -> None:
        quoted = quote_json(path)
        line = f'{quoted}:{{"digest":"{digest}","mode":{mode},"size":{size}}},\n'
        self._digest_lines.append(f"F\0{path}\0{digest}\0{'x' if mode & stat.S_IXUSR else '-'}\n")
        self.size += size
        self._add(path, quoted, line)

    def add_link(self, path: str, target: str, mode: int) -> None:
        quoted = quote_json(path)
        self._digest_lines.append(f"L\0{path}\0{target}\n")
        self._add(path, quoted, f'{quoted}:{{"link":{quote_json(target)},"mode":{mode}}},\n')

    def add(self, path: str, entry: dict) -> None:
        if "link" in entry:
            self.add_link(path, entry["link"], entry["mode"])
        else:
            self.add_file(path, entry["digest"], entry["size"], entry["mode"])

    def add_all(self, entries: Iterable[tuple[str, dict]]) -> None:
        for path, entry in entries:
            self.add(path, entry)

    def _add(self, path: str, quoted: str, line: str) -> None:
        if self._first is None:
            self._first = path
        self._lines.append(line)
        self._bytes += len(line)
        self.count += 1
        if zlib.crc32(quoted.encode()) & BOUNDARY == BOUNDARY or len(self._lines) >= MAX_ENTRIES \
                or self._bytes >= MAX_BYTES:
            self._close_chunk()

    def _close_chunk(self) -> None:
        if not self._lines:
            return
        text = "".join(self._lines).encode()
        self._digest.update("".join(self._digest_lines).encode("utf-8", "surrogateescape"))
        key = blake3.blake3(text).digest(length=16)
        self._key.update(key)
        self.sink(Chunk(key, self._first, len(self._lines), text))
        self._lines, self._digest_lines, self._first, self._bytes = [], [], None, 0

    def finish(self) -> tuple[str, int, int, str]:
        """(tree digest, size, count, key) once every entry was added."""
        self._close_chunk()
        return f"{ALGORITHM}:{self._digest.hexdigest()}", self.size, self.count, "c:" + self._key.hexdigest()


@dataclass(slots=True)
class ChunkRef:
    key: bytes
    first: str
    count: int
    offset: int
    length: int


class Spool:
    """A tree's chunks in an anonymous temporary file (gone when closed, or after a crash)."""

    def __init__(self, folder: str | None = None) -> None:
        self.file = tempfile.TemporaryFile(dir=folder)
        self.chunks: list[ChunkRef] = []
        self._end = 0

    def add(self, chunk: Chunk) -> None:
        self.file.seek(self._end)
        self.file.write(chunk.text)
        self.chunks.append(ChunkRef(chunk.key, chunk.first, chunk.count, self._end, len(chunk.text)))
        self._end += len(chunk.text)

    def read(self, ref: ChunkRef) -> bytes:
        self.file.seek(ref.offset)
        return self.file.read(ref.length)

    def close(self) -> None:
        self.file.close()


@dataclass
class Tree:
    """A manifest ready to be published: what follows from it, and its chunks in a spool."""

    digest: str
    size: int
    file_count: int
    key: str
    spool: Spool

    @classmethod
    def write(cls, entries: Iterable[tuple[str, dict]], folder: str | None = None) -> "Tree":
        """The tree of entries given in path order."""
        spool = Spool(folder)
        writer = ManifestWriter(spool.add)
        writer.add_all(entries)
        return cls(*writer.finish(), spool)

    @classmethod
    def of(cls, manifest: dict[str, dict], folder: str | None = None) -> "Tree":
        """The tree of a manifest held whole (a few files: a source's, a test's)."""
        return cls.write(sorted(manifest.items()), folder)

    def chunks(self) -> Iterator[tuple[ChunkRef, bytes]]:
        for ref in self.spool.chunks:
            yield ref, self.spool.read(ref)

    def batches(self) -> Iterator[dict[str, dict]]:
        """Its entries, a chunk at a time."""
        for _ref, text in self.chunks():
            yield decode(text)

    def entries(self) -> dict[str, dict]:
        """Every entry at once (small trees only)."""
        found: dict[str, dict] = {}
        for batch in self.batches():
            found.update(batch)
        return found

    def body(self) -> Iterator[bytes]:
        return record_body(text for _ref, text in self.chunks())

    def close(self) -> None:
        self.spool.close()


def record_body(texts: Iterable[bytes]) -> Iterator[bytes]:
    """A manifest's lines (chunk texts, in order) as a record holds them: the last without its comma."""
    previous = None
    for text in texts:
        if previous is not None:
            yield previous
        previous = text
    if previous is not None:
        yield previous[:-2] + b"\n"


def record_pieces(header: bytes, body: Iterable[bytes]) -> Iterator[bytes]:
    """A record's bytes: its header (`dumps` of every field but the manifest), then the manifest a
    line per entry (see the module's docstring)."""
    yield header[:-1] + b',"manifest":{\n'
    yield from body
    yield b"}}\n"


def compress(text: bytes) -> bytes:
    return zlib.compress(text, 1)


def decompress(data: bytes) -> bytes:
    return zlib.decompress(data)
