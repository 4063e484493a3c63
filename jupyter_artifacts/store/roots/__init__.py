"""Where the truth lives: blobs named by digest and small JSON documents, under a folder or a URL.

    objects/ab/cdef...                      read-only blobs, named by the hex of their digest
    artifacts/<id>.json                     one immutable record per published artifact
    aliases/<kind>/<name>/<alias>.json      an alias, moved by compare-and-swap
    links/<id>/<target id>.json             references added after creation
    versions/<kind>/<name>/<N>.json         a version's claim (exclusive create, never removed)
    journal/<bucket>/<time>-<host>-<n>~op~arg   what changed, for the other hosts (shared roots)
    leases/<id>/<lease>.json, tombstones/<id>.json, pending/<id>.json, gc/   shared-root state
    tmp/                                    staging; anything here is garbage after a crash

`Root` is what the store asks of a root; `LocalRoot` (roots/local.py) talks to the operating
system directly, `FsspecRoot` and `S3Root` (roots/remote.py) go through fsspec. Each states its
`Capabilities`; nothing outside this package looks at a root's class.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, NamedTuple, Protocol

from ..digest import ALGORITHM, split

PREFIX = len(ALGORITHM) + 1  # "blake3:"

# What a root holds; the rest of a local root's folder (its catalog, jobs' working folders) is
# this machine's state.
CONTENT_FOLDERS = ("objects", "artifacts", "aliases", "links", "versions", "journal", "leases",
                   "tombstones", "pending", "gc", "snapshots", "locks", "tmp")


class SourceChanged(Exception):
    """A file changed while it was being stored."""


class NotRegularFile(Exception):
    """A path to store is a pipe, a socket or a device (it would block, or never end)."""


@dataclass(frozen=True)
class Capabilities:
    """What a root guarantees, so that the store knows whether many hosts may share it.

    exclusive_create: `claim` is atomic: of two hosts claiming one name, exactly one wins.
    compare_and_swap: `replace_doc` and `delete_doc` with a tag change a document only if it is
    still the version that was read.
    """

    exclusive_create: bool
    compare_and_swap: bool
    why_not: str = ""  # when either is missing: what the backend lacks, for the user

    @property
    def shareable(self) -> bool:
        return self.exclusive_create and self.compare_and_swap


class Tagged(NamedTuple):
    """A document and the tag that identifies this version of it (an ETag, a content hash)."""

    data: bytes
    tag: str


class BlobInfo(NamedTuple):
    digest: str
    size: int
    mtime: float  # seconds since the epoch: when the blob was last written


class Root(Protocol):
    """Blobs and documents; everything the store keeps in a root goes through these methods."""

    url: str
    is_local: bool
    capabilities: Capabilities

    def local_folder(self) -> str | None: ...
    def probe(self) -> str | None: ...  # asks the service whether it keeps `capabilities` (once per machine)

    # blobs
    def has_blob(self, digest: str) -> bool: ...
    def blob_size(self, digest: str) -> int | None: ...
    def store_bytes(self, data: bytes) -> tuple[str, int]: ...
    def store_file(self, src: str) -> tuple[str, int, os.stat_result]: ...
    def read_blob(self, digest: str) -> bytes: ...
    def open_blob(self, digest: str) -> IO[bytes]: ...
    def hash_blob(self, digest: str) -> str | None: ...
    def materialize_blob(self, digest: str, dest: str, mode: int, method: str, size: int | None = None) -> str: ...
    def missing_blobs(self, digests: set[str], stored_hint: int = 0) -> set[str]: ...
    def remove_blob(self, digest: str) -> None: ...
    def iter_blobs(self) -> Iterator[str]: ...
    def list_blobs(self, prefix: str = "") -> Iterator[BlobInfo]: ...

    # documents
    def read_doc(self, relpath: str) -> bytes | None: ...
    def open_doc(self, relpath: str) -> IO[bytes] | None: ...  # read a piece at a time (a large record)
    def has_doc(self, relpath: str) -> bool: ...  # without reading it (a record may be 100 MB)
    def read_tagged(self, relpath: str) -> Tagged | None: ...
    def write_doc(self, relpath: str, data: bytes) -> None: ...
    def write_doc_stream(self, relpath: str, pieces: Iterable[bytes]) -> None: ...  # as write_doc, from pieces
    def claim(self, relpath: str, data: bytes) -> bool: ...
    def replace_doc(self, relpath: str, data: bytes, tag: str | None) -> bool: ...
    def delete_doc(self, relpath: str, tag: str | None = None) -> bool: ...
    def list_docs(self, prefix: str, suffix: str = ".json") -> list[str]: ...
    def list_keys(self, prefix: str, start_after: str | None = None) -> list[str]: ...
    def clean_tmp(self, older_than: float = 0.0) -> int: ...


def random_id() -> str:
    """32 hex digits, as uuid.uuid4().hex gives them (without importing uuid, which imports platform)."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    return raw.hex()


def blob_name(digest: str) -> str:
    """`ab/cdef...`: a blob's name under `objects/`, for digests this process computed or already
    checked (a hot path: no validation here; `blob_relpath` validates)."""
    hexdigest = digest[PREFIX:]
    return f"{hexdigest[:2]}/{hexdigest[2:]}"


def blob_relpath(digest: str) -> str:
    split(digest)  # a digest from a record names a path: only a valid one gets one
    return f"objects/{blob_name(digest)}"


def digest_from_relpath(relpath: str) -> str | None:
    parts = relpath.split("/")
    if len(parts) != 3 or parts[0] != "objects" or len(parts[1]) != 2 or len(parts[2]) != 62:
        return None
    return f"blake3:{parts[1]}{parts[2]}"


def open_root(url: str, storage_options: dict[str, Any] | None = None) -> Root:
    """A plain path or file:// URL gives the fast local root; s3:// (and S3-compatible endpoints)
    the S3 root with conditional writes; any other URL goes through fsspec."""
    if url.startswith("file://"):
        url = url[len("file://"):]
    if "://" not in url:
        from .local import LocalRoot

        return LocalRoot(url)
    from .remote import FsspecRoot, S3Root

    if url.split("://", 1)[0] in ("s3", "s3a"):
        return S3Root(url, storage_options)
    return FsspecRoot(url, storage_options)
