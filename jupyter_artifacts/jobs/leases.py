"""Exclusive, crash-safe GPU leases: an flock on one lock file per device, held by the supervisor.

When the holder dies for any reason the kernel drops its locks, so a crashed job never keeps a GPU.
"""

from __future__ import annotations

import fcntl
import os


def lock_path(locks_dir: str, index: int) -> str:
    return os.path.join(locks_dir, f"gpu-{index}.lock")


def try_lock(locks_dir: str, index: int) -> int | None:
    """An fd holding device `index` exclusively, or None if another process holds it."""
    os.makedirs(locks_dir, exist_ok=True)
    fd = os.open(lock_path(locks_dir, index), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def is_free(locks_dir: str, index: int) -> bool:
    fd = try_lock(locks_dir, index)
    if fd is None:
        return False
    os.close(fd)
    return True


def acquire(locks_dir: str, indexes: list[int], count: int) -> dict[int, int] | None:
    """Lock `count` free devices among `indexes`: {index: fd}, or None (holding nothing) if too few are free."""
    held: dict[int, int] = {}
    for index in indexes:
        if len(held) == count:
            break
        fd = try_lock(locks_dir, index)
        if fd is not None:
            held[index] = fd
    if len(held) < count:
        release(held)
        return None
    return held


def release(held: dict[int, int]) -> None:
    for fd in held.values():
        try:
            os.close(fd)
        except OSError:
            pass
    held.clear()
