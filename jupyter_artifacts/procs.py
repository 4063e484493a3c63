"""Process identity that survives pid reuse: (host, pid, start time), used by leases and jobs."""

from __future__ import annotations

import os


def hostname() -> str:
    """The host's name, as socket.gethostname() gives it (without importing socket)."""
    return os.uname().nodename


def start_time(pid: int) -> int | None:
    """The kernel's start time of a process in clock ticks since boot, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # the command name may hold spaces and parentheses: fields start after the last ')'
    fields = data[data.rfind(b")") + 2:].split()
    if fields and fields[0] == b"Z":  # a zombie has finished its work
        return None
    return int(fields[19]) if len(fields) > 19 else None


def token(pid: int | None = None) -> str:
    """A string naming one run of one process on this host."""
    pid = pid or os.getpid()
    return f"{hostname()}:{pid}:{start_time(pid) or 0}"


def alive(process_token: str | None) -> bool:
    """True while the process named by a token still runs; tokens from other hosts count as alive."""
    if not process_token:
        return False
    host, _, rest = process_token.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != hostname():
        return True
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    current = start_time(pid)
    return current is not None and (started in ("", "0") or str(current) == started)
