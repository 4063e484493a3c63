"""Content digests that carry their algorithm (`blake3:<hex>`), so the algorithm can change later."""

from __future__ import annotations

import os

import blake3

ALGORITHM = "blake3"
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


def split(digest: str) -> tuple[str, str]:
    algorithm, sep, hexdigest = digest.partition(":")
    if not sep or algorithm != ALGORITHM or len(hexdigest) != 64:
        raise ValueError(f"not a {ALGORITHM} digest: {digest!r}")
    return algorithm, hexdigest
