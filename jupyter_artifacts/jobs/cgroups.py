"""A worker's processes, all of them: its own cgroup (v2, else v1), or its session and process group.

A daemon the worker starts (`setsid`, a double fork) leaves its process group and its session but
never its cgroup, so every worker runs in a cgroup of its own whenever the host lets us make one,
memory limit or not, and stopping or ending the worker kills the whole cgroup. With a memory limit
the cgroup also has the memory controller: the limit covers all of the worker's processes together
and the kernel counts each OOM kill in it, so a failure is blamed on memory only when the kernel
says so. Where no cgroup can be made, the worker's session and process group are all we can reach.
Only `os` is imported: the supervisor loads this on its way to starting the worker.
"""

from __future__ import annotations

import os
import signal
import time

MODE_ENV = "JUPYTER_ARTIFACTS_MEMORY_LIMITS"
MODES = ("auto", "rlimit")
MODE_FORMS = "auto (a cgroup for the worker's processes where one can be made, else an rlimit per process) or rlimit"
CGROUPS_ENV = "JUPYTER_ARTIFACTS_CGROUPS"
CGROUPS_MODES = ("auto", "off")
CGROUPS_FORMS = "auto (each worker in a cgroup of its own where one can be made) or off"
PREFIX = "jupyter-artifacts-"
RECORD = "cgroup"  # the file in a worker's folder naming its cgroup, for whoever cleans up after a crash
TRACKING = ("pids", "freezer")  # v1 controllers that hold every process without limiting anything


def _setting(name: str, accepted: tuple[str, ...], forms: str) -> str:
    from ..errors import InvalidInput

    value = os.environ.get(name, "auto").strip().lower() or "auto"
    if value not in accepted:
        raise InvalidInput(f"Invalid {name} {value!r}: use {forms}.")
    return value


def mode_from_env() -> str:
    """The enforcement mode $JUPYTER_ARTIFACTS_MEMORY_LIMITS asks for (default auto)."""
    return _setting(MODE_ENV, MODES, MODE_FORMS)


def cgroups_from_env() -> str:
    """Whether $JUPYTER_ARTIFACTS_CGROUPS lets workers run in cgroups of their own (default auto)."""
    return _setting(CGROUPS_ENV, CGROUPS_MODES, CGROUPS_FORMS)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return True  # gone


class Processes:
    """Some set of processes that can be signalled together and killed until none is left."""

    def pids(self) -> list[int]:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def signal(self, sig: int) -> None:
        for pid in self.pids():
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass

    def alive(self) -> bool:
        """True while a process that has not exited is left (zombies have)."""
        return any(not _is_zombie(pid) for pid in self.pids())

    def kill(self, timeout: float | None = None) -> bool:
        """SIGKILL them until none is left, also those started meanwhile; False if some are still
        there after `timeout` seconds (None: wait as long as it takes)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.002
        while True:
            self.signal(signal.SIGKILL)
            if not self.alive():
                return True
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


class SessionProcesses(Processes):
    """Where no cgroup can be made: the worker's session and process group (both named by its pid).
    Processes that start a session of their own are out of reach."""

    def __init__(self, leader: int) -> None:
        self.leader = leader

    def describe(self) -> str:
        return f"session and process group {self.leader}"

    def pids(self) -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if self.leader in (int(fields[2]), int(fields[3])):  # process group, session
                found.append(int(entry))
        return found


class WorkerCgroup(Processes):
    """One cgroup folder made for one worker; `limited` when it carries the worker's memory limit."""

    def __init__(self, path: str, limited: bool = False) -> None:
        self.path = path
        self.limited = limited
        self.version = 2 if os.path.exists(os.path.join(path, "cgroup.events")) else 1

    def _read(self, name: str) -> str:
        with open(os.path.join(self.path, name)) as handle:
            return handle.read()

    def _write(self, name: str, value: str) -> None:
        with open(os.path.join(self.path, name), "w") as handle:
            handle.write(value)

    def describe(self) -> str:
        return f"cgroup v{self.version} {self.path}"

    def join(self, pid: int) -> None:
        """Move a process in; everything it starts from then on is in it too."""
        self._write("cgroup.procs", str(pid))

    def oom_kills(self) -> int:
        """How many of its processes the kernel's OOM killer ended for exceeding the limit."""
        if not self.limited:
            return 0
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

    def signal(self, sig: int) -> None:
        if sig == signal.SIGKILL and self.version == 2:
            try:  # the kernel kills every process in it at once, forks included (Linux 5.14+)
                self._write("cgroup.kill", "1")
            except OSError:
                pass
        super().signal(sig)

    def remove(self, timeout: float | None = 2.0) -> bool:
        """Kill everything in it and remove the folder; False if it is still busy after `timeout`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if not self.kill(None if deadline is None else max(0.0, deadline - time.monotonic())):
                return False
            try:
                os.rmdir(self.path)
                return True
            except FileNotFoundError:
                return True
            except OSError:
                if deadline is not None and time.monotonic() > deadline:
                    return False
                time.sleep(0.02)


def _own_paths() -> dict[str, str]:
    """This process's cgroup per hierarchy: "" for v2, the controller's name for v1."""
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


def _parents(controllers: tuple[str, ...]) -> list[str]:
    """Folders under which this process may make a cgroup: its own v2 cgroup first, then its v1 cgroup
    in the hierarchy of each of `controllers`, in that order."""
    own = _own_paths()
    ranked = []
    for kind, root, point, options in _mounts():
        key = "" if kind == "cgroup2" else next((c for c in controllers if c in options), None)
        path = None if key is None else own.get(key)
        if path is None:
            continue
        relative = os.path.relpath(path, root) if path.startswith(root) else None
        if relative is None or relative.startswith(".."):
            continue  # our cgroup is outside what this mount shows
        rank = 0 if key == "" else 1 + controllers.index(key)
        ranked.append((rank, os.path.normpath(os.path.join(point, relative))))
    return [folder for _, folder in sorted(ranked)]


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


def create(name: str, limit: int | None = None) -> tuple[WorkerCgroup | None, str]:
    """A new cgroup for one worker, or None and why none could be made.

    With `limit`, one with the memory controller, limited to that many bytes (swap included);
    without, any cgroup that holds processes (v2, else v1's pids or freezer hierarchy).
    """
    reasons = []
    for parent in _parents(("memory",) if limit else TRACKING):
        v2 = os.path.exists(os.path.join(parent, "cgroup.controllers"))
        if limit and v2 and not _memory_delegated(parent):
            reasons.append(f"{parent} does not hand the memory controller to its children")
            continue
        path = os.path.join(parent, PREFIX + name)
        try:
            os.mkdir(path)
        except OSError as exc:
            reasons.append(f"cannot create {path}: {exc.strerror or exc}")
            continue
        group = WorkerCgroup(path, limited=bool(limit))
        if not limit:
            return group, ""
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
    wanted = "a memory controller" if limit else "a hierarchy that can hold processes (v2, pids or freezer)"
    return None, "; ".join(reasons) or f"no cgroup hierarchy with {wanted} is mounted"


def record(worker_dir: str, group: WorkerCgroup) -> None:
    with open(os.path.join(worker_dir, RECORD), "w") as handle:
        handle.write(group.path)


def forget(worker_dir: str) -> None:
    try:
        os.unlink(os.path.join(worker_dir, RECORD))
    except FileNotFoundError:
        pass


def end_recorded(worker_dir: str, leader: int | None, timeout: float = 2.0) -> bool:
    """Kill what is left of a worker whose supervisor died: its recorded cgroup (then removed), else
    its session and process group. False if something is still alive after `timeout`."""
    try:
        with open(os.path.join(worker_dir, RECORD)) as handle:
            folder = handle.read().strip()
    except OSError:
        folder = None
    if folder and os.path.basename(folder).startswith(PREFIX):
        if not WorkerCgroup(folder).remove(timeout):
            return False
        forget(worker_dir)
        return True
    return SessionProcesses(leader).kill(timeout) if leader else True
