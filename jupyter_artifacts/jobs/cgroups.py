"""A memory limit on a worker's whole process tree: its own cgroup (v2, else v1's memory controller).

A cgroup counts the memory of every process the worker starts, and the kernel counts each OOM
kill in it, so a failure is blamed on memory only when the kernel says so. Where no memory cgroup
can be made (no permission, no memory controller), the supervisor falls back to an rlimit per
process. Only `os` is imported: the supervisor loads this on its way to starting the worker.
"""

from __future__ import annotations

import os
import signal
import time

MODE_ENV = "JUPYTER_ARTIFACTS_MEMORY_LIMITS"
MODES = ("auto", "rlimit")
MODE_FORMS = "auto (a cgroup for the worker's processes where one can be made, else an rlimit per process) or rlimit"
PREFIX = "jupyter-artifacts-"
RECORD = "cgroup"  # the file in a worker's folder naming its cgroup, for whoever cleans up after a crash


def mode_from_env() -> str:
    """The enforcement mode $JUPYTER_ARTIFACTS_MEMORY_LIMITS asks for (default auto)."""
    from ..errors import InvalidInput

    value = os.environ.get(MODE_ENV, "auto").strip().lower() or "auto"
    if value not in MODES:
        raise InvalidInput(f"Invalid {MODE_ENV} {value!r}: use {MODE_FORMS}.")
    return value


class MemoryCgroup:
    """One cgroup folder made for one worker."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.version = 2 if os.path.exists(os.path.join(path, "cgroup.events")) else 1

    def _read(self, name: str) -> str:
        with open(os.path.join(self.path, name)) as handle:
            return handle.read()

    def _write(self, name: str, value: str) -> None:
        with open(os.path.join(self.path, name), "w") as handle:
            handle.write(value)

    def describe(self) -> str:
        return f"cgroup v{self.version} {self.path}"

    def oom_kills(self) -> int:
        """How many of its processes the kernel's OOM killer ended for exceeding the limit."""
        try:
            text = self._read("memory.events" if self.version == 2 else "memory.oom_control")
        except OSError:
            return 0
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in self._read("cgroup.procs").split()]
        except OSError:
            return []

    def kill(self) -> None:
        """SIGKILL everything still in it, including processes that left the worker's process group."""
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def remove(self, timeout: float = 2.0) -> bool:
        """Kill what is left and remove the folder; False if it is still busy after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            self.kill()
            try:
                os.rmdir(self.path)
                return True
            except FileNotFoundError:
                return True
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.02)


def _own_paths() -> dict[str, str]:
    """This process's cgroup per hierarchy: "" for v2, "memory" for v1's memory controller."""
    found = {}
    try:
        with open("/proc/self/cgroup") as handle:
            for line in handle:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                for name in controllers.split(","):
                    found.setdefault(name, path)
    except (OSError, ValueError):
        pass
    return found


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(type, root, mount point, options) of each cgroup mount, from /proc/self/mountinfo."""
    mounts = []
    try:
        with open("/proc/self/mountinfo") as handle:
            for line in handle:
                head, _, tail = line.partition(" - ")
                fields, extra = head.split(), tail.split()
                if len(fields) >= 5 and len(extra) >= 3 and extra[0] in ("cgroup", "cgroup2"):
                    mounts.append((extra[0], fields[3], fields[4], set(extra[2].split(","))))
    except OSError:
        pass
    return mounts


def _parents() -> list[str]:
    """Folders under which this process may make a memory cgroup: its own v2 cgroup, then its v1 one."""
    own = _own_paths()
    parents = []
    for kind, root, point, options in _mounts():
        path = own.get("") if kind == "cgroup2" else own.get("memory") if "memory" in options else None
        if path is None:
            continue
        relative = os.path.relpath(path, root) if path.startswith(root) else None
        if relative is None or relative.startswith(".."):
            continue  # our cgroup is outside what this mount shows
        folder = os.path.normpath(os.path.join(point, relative))
        if kind == "cgroup2":
            parents.insert(0, folder)
        else:
            parents.append(folder)
    return parents


def _memory_delegated(parent: str) -> bool:
    """For v2: whether children of `parent` get the memory controller (enabling it if we may)."""
    try:
        with open(os.path.join(parent, "cgroup.controllers")) as handle:
            if "memory" not in handle.read().split():
                return False
        with open(os.path.join(parent, "cgroup.subtree_control")) as handle:
            if "memory" in handle.read().split():
                return True
        with open(os.path.join(parent, "cgroup.subtree_control"), "w") as handle:
            handle.write("+memory")
        return True
    except OSError:
        return False


def create(name: str, limit: int) -> tuple[MemoryCgroup | None, str]:
    """A new cgroup limited to `limit` bytes (swap included), or None and why none could be made."""
    reasons = []
    for parent in _parents():
        v2 = os.path.exists(os.path.join(parent, "cgroup.controllers"))
        if v2 and not _memory_delegated(parent):
            reasons.append(f"{parent} does not hand the memory controller to its children")
            continue
        path = os.path.join(parent, PREFIX + name)
        try:
            os.mkdir(path)
        except OSError as exc:
            reasons.append(f"cannot create {path}: {exc.strerror or exc}")
            continue
        group = MemoryCgroup(path)
        try:
            group._write("memory.max" if v2 else "memory.limit_in_bytes", str(limit))
        except OSError as exc:
            group.remove()
            reasons.append(f"cannot set the limit in {path}: {exc.strerror or exc}")
            continue
        swap = "memory.swap.max" if v2 else "memory.memsw.limit_in_bytes"
        try:
            group._write(swap, "0" if v2 else str(limit))
        except OSError:
            pass  # no swap accounting: the limit still holds for memory in RAM
        return group, ""
    return None, "; ".join(reasons) or "no cgroup hierarchy with a memory controller is mounted"


def record(worker_dir: str, group: MemoryCgroup) -> None:
    with open(os.path.join(worker_dir, RECORD), "w") as handle:
        handle.write(group.path)


def release_recorded(worker_dir: str) -> None:
    """Kill what is left in a worker's recorded cgroup and remove it (after its supervisor died)."""
    path = os.path.join(worker_dir, RECORD)
    try:
        with open(path) as handle:
            folder = handle.read().strip()
    except OSError:
        return
    if os.path.basename(folder).startswith(PREFIX) and MemoryCgroup(folder).remove():
        os.unlink(path)
