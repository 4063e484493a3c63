"""Content digests that carry their algorithm (`blake3:<hex>`), so the algorithm can change later."""

from __future__ import annotations

import os
import re

import blake3

ALGORITHM = "blake3"
DIGEST_RE = re.compile(r"^blake3:[0-9a-f]{64}\Z")
_MT_THRESHOLD = 4 << 20  # below this, threads cost more than they save


def hash_bytes(data: bytes) -> str:
    return f"{ALGORITHM}:{blake3.blake3(data).hexdigest()}"


# With two cores or fewer, a second hashing thread only takes the core that another file's copy
# (or the small files) would use: measured slower, not faster, on a 2-CPU machine.
_SPARE_CORES = (os.cpu_count() or 1) > 2


def hash_file(path: str | os.PathLike, size: int | None = None) -> str:
    """Hash a file through mmap; large files use every core where there are cores to spare."""
    if size is None:
        size = os.stat(path).st_size
    if size == 0:
        return hash_bytes(b"")
    threads = blake3.blake3.AUTO if size >= _MT_THRESHOLD and _SPARE_CORES else 1
    hasher = blake3.blake3(max_threads=threads)
    hasher.update_mmap(os.fspath(path))
    return f"{ALGORITHM}:{hasher.hexdigest()}"


def is_digest(value: object) -> bool:
    """`blake3:` and 64 lowercase hex digits, nothing else: a digest names a blob's path, so
    anything looser could lead outside the store."""
    return isinstance(value, str) and DIGEST_RE.match(value) is not None


def split(digest: str) -> tuple[str, str]:
    if not is_digest(digest):
        raise ValueError(f"not a {ALGORITHM} digest: {digest[:80]!r}" if isinstance(digest, str)
                         else f"not a {ALGORITHM} digest: {type(digest).__name__}")
    return ALGORITHM, digest[7:]
