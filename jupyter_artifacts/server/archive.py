"""A whole artifact as one tar stream, so that a browser downloads it as one file.

Headers are made here and the files' bytes are copied from the store between them, so nothing
is staged on disk and memory stays at one chunk and one page of the manifest.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from typing import Any

PAGE = 10_000
BLOCK = tarfile.BLOCKSIZE
# Two zero blocks end the archive; tar readers expect the whole to fill 20-block records.
END = b"\0" * (2 * BLOCK)


def archive_name(artifact: Any) -> str:
    return f"{artifact.name}-v{artifact.version}.tar"


def header(path: str, entry: dict, mtime: float) -> bytes:
    """The tar header of one manifest entry (PAX, so long and non-ASCII paths survive)."""
    info = tarfile.TarInfo(path)
    info.mtime = int(mtime)
    info.mode = (entry.get("mode") or 0o644) & 0o1777  # never setuid or setgid
    info.uname = info.gname = ""
    if entry.get("link") is not None:
        info.type, info.linkname, info.mode = tarfile.SYMTYPE, entry["link"], 0o777
    else:
        info.size = entry["size"]
    return info.tobuf(format=tarfile.PAX_FORMAT)


def padding(size: int) -> bytes:
    return b"\0" * (-size % BLOCK)


def members(catalog: Any, artifact: Any) -> Iterator[tuple[str, bytes, dict]]:
    """(path, header, entry) for every file of the artifact, by path, a page of the manifest at a time."""
    offset = 0
    while True:
        page = catalog.manifest(artifact.id, PAGE, offset)
        for path, entry in page.items():
            yield path, header(path, entry, artifact.created_at), entry
        if len(page) < PAGE:
            return
        offset += PAGE


def trailer(written: int) -> bytes:
    """The end blocks, then zeros up to a whole record."""
    total = written + len(END)
    return END + b"\0" * (-total % tarfile.RECORDSIZE)
