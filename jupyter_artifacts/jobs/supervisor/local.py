"""The local executor: the worker's command forked on this host, in its own session and cgroup
(every process it starts ends with it), pinned to its cores, under its memory limit (the cgroup's,
else an rlimit per process), its output appended to the worker's log."""

from __future__ import annotations

import os
import signal
import sys
import time

from ...units import format_size
from .. import cgroups
from .context import Worker
from .run import Executor

PR_SET_PDEATHSIG = 1
MEMORY_MARKERS = (b"MemoryError", b"Cannot allocate memory", b"Unable to allocate", b"std::bad_alloc",
                  b"out of memory", b"xmalloc: cannot allocate")


class Child:
    """The worker process, waited on without the subprocess module."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def wait(self, timeout: float) -> int | None:
        """The exit code (negative: killed by that signal) once it ended, else None after `timeout`."""
        deadline = time.monotonic() + timeout
        delay = 0.002
        while self.returncode is None:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() >= deadline:
                return None
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        return self.returncode


class LocalExecutor(Executor):
    """Fork and exec by hand (no subprocess import on the way to the worker's first line)."""

    def __init__(self, worker: Worker) -> None:
        super().__init__(worker)
        self.child: Child | None = None
        self.cgroup: cgroups.WorkerCgroup | None = None
        self.processes: cgroups.Processes | None = None  # everything of the worker that stop must end
        self.oom_kills = 0
        self.log_start = 0  # where the worker's own output starts in the log

    def start(self, argv: list[str], env: dict[str, str]) -> None:
        worker = self.worker
        memory = worker.spec.memory
        cpus = worker.cpus
        reasons = self.make_cgroup(memory)
        rlimit = None
        if memory:
            import resource

            # CUDA reserves huge address ranges: with GPUs, limit data, not address space
            rlimit = resource.RLIMIT_DATA if worker.visible_gpus() else resource.RLIMIT_AS
        supervisor_pid = os.getpid()
        libc = None
        if sys.platform.startswith("linux"):
            import ctypes

            try:
                libc = ctypes.CDLL(None, use_errno=True)
            except OSError:
                libc = None

        log_fd = os.open(worker.folder.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.log_start = os.fstat(log_fd).st_size
        workdir = worker.info.workdir
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: its own session and process group, stdin from /dev/null, output to the log
            try:
                os.setsid()
                if libc is not None:
                    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
                    if os.getppid() != supervisor_pid:  # the supervisor died before the line above
                        os._exit(137)
                os.close(ready_w)
                # the supervisor puts this process in the worker's cgroup, then says whether to set the rlimit
                answer = os.read(ready_r, 1)
                if not answer:  # the supervisor died meanwhile
                    os._exit(137)
                if cpus:
                    os.sched_setaffinity(0, cpus)
                if answer == b"r":
                    import resource

                    resource.setrlimit(rlimit, (memory, memory))
                os.chdir(workdir)
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(log_fd, 1)
                os.dup2(log_fd, 2)
                os.closerange(3, 65536)
                os.execvpe(argv[0], argv, env)
            except BaseException as exc:  # noqa: BLE001 - anything here must end this child
                try:
                    os.write(2, f"[job] cannot start {argv[0]}: {exc}\n".encode())
                finally:
                    os._exit(127)
        os.close(log_fd)
        os.close(ready_r)
        self.child = Child(pid)
        try:
            per_process = self.confine(pid, memory, *reasons)
            os.write(ready_w, b"r" if per_process else b"c")
        finally:
            os.close(ready_w)
        worker.set_state(None, worker_pid=pid)

    def wait(self, timeout: float) -> int | None:
        return self.child.wait(timeout)

    def signal(self, sig: int) -> None:
        self.processes.signal(sig)

    def alive(self) -> bool:
        return self.processes.alive()

    def make_cgroup(self, memory: int | None) -> tuple[str, str]:
        """Make the worker's cgroup: one with its memory limit where asked and possible, else one that
        only holds its processes. Returns (why the memory limit is no cgroup's, why there is no cgroup)."""
        worker = self.worker
        if worker.info.cgroups == "off":
            reason = f"{cgroups.CGROUPS_ENV} is off"
            return reason, reason
        name = f"{worker.job_id}-{worker.idx}"
        memory_reason, reason = f"{cgroups.MODE_ENV} is rlimit", ""
        if memory and (worker.info.memory_limits or "auto") == "auto":
            self.cgroup, memory_reason = cgroups.create(name, memory)
        if self.cgroup is None:
            self.cgroup, reason = cgroups.create(name)
        if self.cgroup:
            cgroups.record(worker.folder.folder, self.cgroup)
        return memory_reason, reason

    def confine(self, pid: int, memory: int | None, memory_reason: str, reason: str) -> bool:
        """Move the just-forked worker into its cgroup and say in the log what reaches its processes and
        what limits its memory; True when each of its processes must limit itself (an rlimit)."""
        worker = self.worker
        if self.cgroup:
            try:
                self.cgroup.join(pid)
            except OSError as exc:
                reason = f"cannot move it into {self.cgroup.path}: {exc.strerror or exc}"
                memory_reason = reason if self.cgroup.limited else memory_reason
                self.cgroup.remove()
                cgroups.forget(worker.folder.folder)
                self.cgroup = None
        self.processes = self.cgroup or cgroups.SessionProcesses(pid)
        if self.cgroup:
            worker.log(f"worker {worker.idx} runs in its own cgroup ({self.cgroup.describe()}): stop and its end "
                       "kill every process in it")
        else:
            worker.log(f"worker {worker.idx} runs without a cgroup ({reason}): stop ends its session and process "
                       "group; processes that start a session of their own outlive it")
        if not memory:
            return False
        if self.cgroup and self.cgroup.limited:
            worker.log(f"memory limit {format_size(memory)} for all of worker {worker.idx}'s processes together "
                       f"({self.cgroup.describe()})")
            return False
        name = "RLIMIT_DATA" if worker.visible_gpus() else "RLIMIT_AS"
        worker.log(f"memory limit {format_size(memory)} for each of worker {worker.idx}'s processes ({name}; "
                   f"no memory cgroup: {memory_reason})")
        return True

    def end(self, report: bool = False) -> None:
        """SIGKILL whatever is left of the worker (its cgroup, else its session and process group) and
        wait until it is gone; `report`: say in the log how many processes the OOM killer ended."""
        worker = self.worker
        target = self.processes or self.cgroup
        if target is not None:
            if not target.kill(10.0):
                worker.log(f"processes of worker {worker.idx} still run 10 s after SIGKILL ({target.describe()}); "
                           "its GPUs stay held until they are gone")
                target.kill()
            if self.cgroup:
                self.oom_kills = max(self.oom_kills, self.cgroup.oom_kills())
                if self.cgroup.remove():
                    cgroups.forget(worker.folder.folder)
            self.processes = None
        if report and self.oom_kills:
            worker.log(f"the kernel's OOM killer ended {self.oom_kills} process(es) of worker {worker.idx} "
                       f"for exceeding its memory limit of {format_size(worker.spec.memory)}")

    def failure(self, rc: int) -> str | None:
        """Blame memory only on the kernel's OOM kills in the worker's cgroup or, with a limit per
        process, on a failed allocation the worker wrote to its log."""
        worker = self.worker
        memory = worker.spec.memory
        if memory and self.oom_kills:
            return (f"worker {worker.idx} exceeded its memory limit of {format_size(memory)}: the kernel's OOM "
                    f"killer ended {self.oom_kills} of its processes (exit code {rc})")
        if memory and not (self.cgroup and self.cgroup.limited):
            marker = self.allocation_failure()
            if marker:
                return (f"worker {worker.idx} exceeded its memory limit of {format_size(memory)} per process: "
                        f"an allocation failed ({marker}) (exit code {rc})")
        return None

    def allocation_failure(self) -> str | None:
        """The first sign of a failed allocation in what the worker wrote to its log, if any."""
        path = self.worker.folder.log
        try:
            with open(path, "rb") as handle:
                handle.seek(max(self.log_start, os.path.getsize(path) - 65536))
                tail = handle.read()
        except OSError:
            return None
        return next((m.decode() for m in MEMORY_MARKERS if m in tail), None)
