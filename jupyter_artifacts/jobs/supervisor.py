"""One worker's supervisor: `python -m jupyter_artifacts.jobs.supervisor JOBS_DB JOB_ID INDEX`.

Started detached (its own session, stdin from /dev/null) so that it outlives the kernel and the
server that submitted the job. It waits its turn in the queue, holds the worker's GPU leases
(flocks that die with it), builds the environment, runs the worker in its own process group,
turns saved checkpoints and the output folder into artifacts, writes every state change to the
jobs database, and frees everything when the worker ends. Its imports stay lean: the time from
`job create` to the worker's first line is spent here.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sys
import time

from .. import procs
from ..units import format_size
from . import cgroups
from . import leases as gpu_leases
from . import outputs
from .db import ACTIVE, TERMINAL, JobsDB

QUEUE_POLL = 0.1  # seconds between looks at the queue while waiting for GPUs
RUN_POLL = 0.1  # seconds between looks at the worker, its checkpoints and stop requests
SPAWN_GRACE = 60.0  # a queued row without a supervisor token is someone's spawn in progress
MEMORY_MARKERS = (b"MemoryError", b"Cannot allocate memory", b"Unable to allocate", b"std::bad_alloc",
                  b"out of memory", b"xmalloc: cannot allocate")
PR_SET_PDEATHSIG = 1
SHELL_CHARS = set(";&|<>()$`\\\n*?[]#~={}!")


def jobs_dir_for(db_path: str) -> str:
    return os.path.join(os.path.dirname(os.path.abspath(db_path)), "jobs")


def worker_dir(jobs_dir: str, job_id: str, idx: int) -> str:
    return os.path.join(jobs_dir, job_id, str(idx))


class schedule_lock:
    """The lock around every scheduling decision: one process at a time picks who starts."""

    def __init__(self, jobs_dir: str) -> None:
        self.path = os.path.join(jobs_dir, "locks", "schedule.lock")

    def __enter__(self) -> "schedule_lock":
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc) -> None:
        os.close(self.fd)


def reconcile(db: JobsDB, jobs_dir: str) -> list[str]:
    """Kill what is left of workers whose supervisor is gone (their cgroup, else their session and
    process group), then mark them failed: their GPUs count as free only from then on.

    Returns the ids of jobs that ended because of it.
    """
    ended = []
    now = time.time()
    for w in db.workers(states=ACTIVE):
        token = w["supervisor"]
        if token is None:
            if now - w["created_at"] < SPAWN_GRACE:
                continue
        elif procs.alive(token):
            continue
        if not cgroups.end_recorded(worker_dir(jobs_dir, w["job_id"], w["idx"]), w["worker_pid"]):
            continue  # something of it still runs: it keeps its GPUs until a later look ends it
        pid = token.split(":")[1] if token else "?"
        if w["stop_requested"]:
            state, reason = "stopped", None
        else:
            state = "failed"
            reason = (f"its supervisor (pid {pid}) is gone: it was killed or the machine restarted "
                      f"while the worker was {w['state']}; its GPUs were freed")
        new = db.update_worker(w["job_id"], w["idx"], state, only_if_active=True, error=reason)
        if new:
            append_log(os.path.join(worker_dir(jobs_dir, w["job_id"], w["idx"]), "log.txt"),
                        f"[job] {reason or 'stopped'}\n")
        if new in TERMINAL:
            ended.append(w["job_id"])
    return ended


def append_log(path: str, text: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError:
        return
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


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


class Supervisor:
    def __init__(self, db_path: str, job_id: str, idx: int) -> None:
        self.db = JobsDB(db_path)
        self.jobs_dir = jobs_dir_for(db_path)
        self.locks_dir = os.path.join(self.jobs_dir, "locks")
        self.job_id, self.idx = job_id, idx
        job = self.db.job(job_id)
        if job is None:
            raise SystemExit(f"no job {job_id}")
        self.job = job
        self.spec, self.info = job["spec"], job["info"]
        self.several = self.info["workers"] > 1
        self.wdir = worker_dir(self.jobs_dir, job_id, idx)
        os.makedirs(self.wdir, exist_ok=True)
        self.log_path = os.path.join(self.wdir, "log.txt")
        self.stop_flag = False
        self.held: dict[int, int] = {}
        self.cpus: list[int] | None = None
        self.store = None
        self.proc: Child | None = None
        self.spool_offset = 0
        self.python = self.spec.get("python") or sys.executable
        self.env_bin: str | None = None
        self.cgroup: cgroups.WorkerCgroup | None = None
        self.processes: cgroups.Processes | None = None  # everything of the worker that stop must end
        self.oom_kills = 0
        self.run_log_start = 0
        self.output_made: list[int] | None = None  # (device, inode) of the folder made for ML_OUTPUT_PATH
        self.kept_output: str | None = None  # the output folder kept because it could not be saved
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    def _on_stop(self, signum, frame) -> None:
        self.stop_flag = True

    def log(self, message: str) -> None:
        append_log(self.log_path, f"[job] {message}\n")

    def set_state(self, state: str | None, **fields) -> str | None:
        return self.db.update_worker(self.job_id, self.idx, state, **fields)

    def stop_requested(self) -> bool:
        if self.stop_flag:
            return True
        row = self.db.worker(self.job_id, self.idx)
        return bool(row and row["stop_requested"])

    def open_store(self):
        if self.store is None:
            from ..store import Store, StoreSettings

            carried = self.info["store"]  # the settings of the store that submitted the job
            known = StoreSettings.__dataclass_fields__
            self.store = Store(StoreSettings(**{k: v for k, v in carried.items() if k in known}))
        return self.store

    # -- the whole life --------------------------------------------------------------------
    def main(self) -> int:
        outcome = None
        try:
            if not self.wait_for_resources():
                return 0
            self.prepare()
            if self.stop_requested():
                outcome = ("stopped", None)
            else:
                outcome = self.finish(self.run_worker())
        except StopRequested:
            outcome = ("stopped", None)
        except Exception as exc:  # a bug or an environment problem: say so in the job's log
            import traceback

            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            self.log(f"failed: {message}")
            traceback.print_exc()
            outcome = ("failed", message)
        finally:
            self.end_processes()  # a no-op unless something above failed while the worker ran
            gpu_leases.release(self.held)
            if outcome is not None:
                state, reason = outcome
                ended = self.set_state(state, error=reason, only_if_active=True)
                self.log(f"worker {self.idx} {state}" + (f": {reason}" if reason else ""))
                self.cleanup()
                self.release_leases()
                if ended in TERMINAL:
                    self.after_job()
        return 0

    # -- queue -----------------------------------------------------------------------------
    def wait_for_resources(self) -> bool:
        wanted = int(self.spec.get("gpus") or 0)
        devices = list(self.info.get("devices") or [])
        gpus_by_job: dict[str, int] = {self.job_id: wanted}
        last_reconcile = time.time()  # a worker that starts at once leaves reconciling to the others
        while True:
            if self.stop_requested():
                self.set_state("stopped", only_if_active=True)
                self.log("stopped while queued")
                ended = self.db.job(self.job_id)
                if ended and ended["state"] in TERMINAL:
                    self.after_job()
                return False
            with schedule_lock(self.jobs_dir):
                now = time.time()
                if now - last_reconcile > 1.0:
                    reconcile(self.db, self.jobs_dir)
                    last_reconcile = now
                row = self.db.worker(self.job_id, self.idx)
                if row is None or row["state"] != "queued":
                    return False
                if wanted == 0:
                    self.start(row, [])
                    return True
                head = None
                for w in self.db.workers(states=("queued",)):
                    if w["job_id"] not in gpus_by_job:
                        job = self.db.job(w["job_id"])
                        gpus_by_job[w["job_id"]] = int((job or {}).get("spec", {}).get("gpus") or 0)
                    if gpus_by_job[w["job_id"]] > 0:
                        head = w
                        break
                if head is not None and head["seq"] == row["seq"]:
                    # a device whose flock is free but that a worker not yet ended still names may
                    # still run a crashed supervisor's leftovers, until reconcile has killed them
                    taken = {d for w in self.db.workers(states=("building", "running", "uploading")) for d in w["gpus"]}
                    held = gpu_leases.acquire(self.locks_dir, [d for d in devices if d not in taken], wanted)
                    if held is not None:
                        self.held = held
                        self.start(row, sorted(held))
                        return True
            time.sleep(QUEUE_POLL)

    def start(self, row: dict, devices: list[int]) -> None:
        """Leave the queue (the schedule lock is held): pick CPU cores and note the GPUs."""
        cpu = self.spec.get("cpu")
        if cpu:
            import math

            count = math.ceil(cpu)
            available = sorted(os.sched_getaffinity(0))
            load = {c: 0 for c in available}
            for w in self.db.workers(states=("building", "running", "uploading")):
                for c in w["cpus"] or []:
                    if c in load:
                        load[c] += 1
            self.cpus = sorted(sorted(available, key=lambda c: (load[c], c))[:count])
        needs_build = bool(self.spec.get("requirements") or self.info.get("inputs") or self.spec.get("data_manifest"))
        self.set_state("building" if needs_build else "running", gpus=devices, cpus=self.cpus)
        if devices:
            self.log(f"worker {self.idx} got GPU(s) {', '.join(map(str, devices))}")

    # -- building ----------------------------------------------------------------------------
    def prepare(self) -> None:
        if self.spec.get("requirements"):
            self.build_env()
        self.materialize_inputs()

    def build_env(self) -> None:
        import hashlib
        import shutil
        import subprocess

        text = self.spec["requirements"]
        key = hashlib.sha256((self.python + "\0" + text).encode()).hexdigest()[:20]
        env_dir = os.path.join(self.jobs_dir, "envs", key)
        os.makedirs(os.path.dirname(env_dir), exist_ok=True)
        lock = os.open(env_dir + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if os.path.exists(os.path.join(env_dir, ".ready")):
                self.log(f"reusing the environment built from requirements.txt ({key})")
            else:
                self.log(f"building an environment from requirements.txt ({key})")
                shutil.rmtree(env_dir, ignore_errors=True)
                req = env_dir + ".requirements.txt"
                with open(req, "w", encoding="utf-8") as handle:
                    handle.write(text)
                env_python = os.path.join(env_dir, "bin", "python")
                for step in ([self.python, "-m", "venv", env_dir],
                             [env_python, "-m", "pip", "install", "--disable-pip-version-check", "-r", req]):
                    if self.stop_requested():
                        raise StopRequested()
                    self.log("$ " + " ".join(step))
                    with open(self.log_path, "ab") as out:
                        rc = subprocess.call(step, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             cwd=self.wdir)
                    if rc != 0:
                        shutil.rmtree(env_dir, ignore_errors=True)
                        raise BuildFailed(f"building the environment failed ({step[2] if step[1] == '-m' else step[0]} "
                                          f"exited with {rc}); see the job's log")
                with open(os.path.join(env_dir, ".ready"), "w") as handle:
                    handle.write(text)
        finally:
            os.close(lock)
        self.python = os.path.join(env_dir, "bin", "python")
        self.env_bin = os.path.join(env_dir, "bin")

    def materialize_inputs(self) -> None:
        inputs = self.info.get("inputs") or []
        manifest = self.spec.get("data_manifest")
        if not inputs and not manifest:
            return
        store = self.open_store() if inputs else None
        used: dict[str, set] = {}
        for item in inputs:
            if self.stop_requested():
                raise StopRequested()
            role = item["role"]
            if role == "model":
                dest = os.path.join(self.wdir, "model")
            else:
                base = os.path.join(self.wdir, "checkpoints" if role == "checkpoint" else "data")
                label = item.get("label") or item["name"]
                seen = used.setdefault(role, set())
                if label in seen:
                    label = f"{label}-v{item['version']}"
                seen.add(label)
                dest = os.path.join(base, label)
            if item.get("id") is None and item.get("public_id"):
                from ..sources.public import fetch_public

                self.log(f"fetching public checkpoint {item['public_id']}")
                artifact = fetch_public(store, item["public_id"])
                item.update(id=artifact.id, reference=artifact.reference, version=artifact.version)
                lease = store.acquire_lease(artifact.id, f"job {self.spec['name']} ({self.job_id[:8]}) worker {self.idx}",
                                            pid=os.getpid())
                row = self.db.worker(self.job_id, self.idx)
                self.set_state(None, leases=list(row["leases"] or []) + [lease])
            self.log(f"attaching {role} {item['reference']}")
            store.download(item["id"], dest)
        if manifest:
            import fsspec

            base = os.path.join(self.wdir, "data")
            os.makedirs(base, exist_ok=True)
            for entry in manifest:
                self.log(f"fetching {entry['url']}")
                fs, path = fsspec.core.url_to_fs(entry["url"])
                target = os.path.join(base, entry["path"])
                os.makedirs(os.path.dirname(target), exist_ok=True)
                fs.get(path, target, recursive=fs.isdir(path))
        self.set_state("running")

    # -- running -----------------------------------------------------------------------------
    def worker_env(self) -> dict[str, str]:
        env = dict(os.environ)
        has_model = any(i["role"] == "model" for i in self.info.get("inputs") or [])
        output_model = self.spec.get("output") == "model"
        out_dir = self.output_dir()
        os.makedirs(out_dir, exist_ok=True)
        self.output_made = outputs.folder_id(out_dir)  # what save_output publishes must still be this folder
        params_path = os.path.join(self.wdir, "params.json")
        env.update({
            "ML_JOB_ID": self.job_id,
            "ML_JOB_NAME": self.spec["name"],
            "ML_WORKER_INDEX": str(self.idx),
            "ML_PARAMS_PATH": params_path,
            "ML_OUTPUT_PATH": out_dir,
            "CUDA_VISIBLE_DEVICES": ",".join(str(d) for d in sorted(self.held)),
            "PYTHONUNBUFFERED": "1",
            "JUPYTER_ARTIFACTS_WORKER_DIR": self.wdir,
        })
        if has_model or output_model:
            env["ML_MODEL_PATH"] = os.path.join(self.wdir, "model")
        if any(i["role"] == "checkpoint" for i in self.info.get("inputs") or []):
            env["ML_CHECKPOINT_PATH"] = os.path.join(self.wdir, "checkpoints")
        if any(i["role"] == "dataset" for i in self.info.get("inputs") or []) or self.spec.get("data_manifest"):
            env["ML_DATA_PATH"] = os.path.join(self.wdir, "data")
        if self.cpus:
            for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                env.setdefault(var, str(len(self.cpus)))
        bin_dir = self.env_bin or os.path.dirname(self.python)
        env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
        if self.env_bin:
            env["VIRTUAL_ENV"] = os.path.dirname(self.env_bin)
        shim = os.path.join(self.jobs_dir, "pylib")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), shim) if p)
        env.update(self.spec.get("env") or {})
        return env

    def command(self) -> list[str]:
        import shlex

        command = self.spec["command"].strip()
        workdir = self.info["workdir"]
        try:
            words = shlex.split(command)
        except ValueError:
            words = []
        if words:
            script = os.path.join(workdir, os.path.expanduser(words[0]))
            if os.path.isfile(script):
                if script.endswith(".py"):
                    return [self.python, script, *words[1:]]
                if script.endswith(".sh") and not os.access(script, os.X_OK):
                    return ["/bin/bash", script, *words[1:]]
                if os.access(script, os.X_OK):
                    return [script, *words[1:]]
        if words and not any(c in command for c in SHELL_CHARS):
            return words  # a plain command line: no shell in between, so signals reach the program itself
        return ["/bin/sh", "-c", command]

    def run_worker(self) -> int:
        params_path = os.path.join(self.wdir, "params.json")
        row = self.db.worker(self.job_id, self.idx)
        with open(params_path, "w", encoding="utf-8") as handle:
            json.dump(row["params"], handle, indent=2, sort_keys=True)
        env = self.worker_env()
        argv = self.command()
        memory = self.spec.get("memory")
        cpus = self.cpus
        reasons = self.make_cgroup(memory)
        rlimit = None
        if memory:
            import resource

            # CUDA reserves huge address ranges: with GPUs, limit data, not address space
            rlimit = resource.RLIMIT_DATA if self.held else resource.RLIMIT_AS
        supervisor_pid = os.getpid()
        libc = None
        if sys.platform.startswith("linux"):
            import ctypes

            try:
                libc = ctypes.CDLL(None, use_errno=True)
            except OSError:
                libc = None

        log_fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.run_log_start = os.fstat(log_fd).st_size
        workdir = self.info["workdir"]
        ready_r, ready_w = os.pipe()
        pid = os.fork()  # fork and exec by hand: no subprocess import on the way to the first line
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
        self.proc = Child(pid)
        try:
            per_process = self.confine(pid, memory, *reasons)
            os.write(ready_w, b"r" if per_process else b"c")
        finally:
            os.close(ready_w)
        self.set_state(None, worker_pid=pid)
        stopping_since = None
        killed = False
        grace = float(self.spec.get("stop_grace", 10.0))
        last_db_check = time.time()
        while True:
            self.process_spool()
            rc = self.proc.wait(RUN_POLL)
            if rc is not None:
                break
            now = time.time()
            if not self.stop_flag and now - last_db_check > 1.0:
                last_db_check = now
                self.stop_flag = self.stop_requested()
            if self.stop_flag and stopping_since is None:
                stopping_since = now
                self.log(f"stop requested: SIGTERM sent to worker {self.idx}'s processes; "
                         f"SIGKILL in {grace:g} s if any is still running")
                self.processes.signal(signal.SIGTERM)
            if stopping_since is not None and not killed and now - stopping_since > grace:
                killed = True
                self.log("grace period over: SIGKILL sent")
                self.processes.signal(signal.SIGKILL)
        if stopping_since is not None and not killed:
            # the leader is gone; give what it started the rest of the grace period to end
            while self.processes.alive() and time.time() - stopping_since <= grace:
                time.sleep(RUN_POLL)
            if self.processes.alive():
                self.log("grace period over: SIGKILL sent")
        self.end_processes()  # children and daemons it left behind end with it
        if self.oom_kills:
            self.log(f"the kernel's OOM killer ended {self.oom_kills} process(es) of worker {self.idx} "
                     f"for exceeding its memory limit of {format_size(memory)}")
        self.process_spool()
        return rc

    def make_cgroup(self, memory: int | None) -> tuple[str, str]:
        """Make the worker's cgroup: one with its memory limit where asked and possible, else one that
        only holds its processes. Returns (why the memory limit is no cgroup's, why there is no cgroup)."""
        if self.info.get("cgroups", "auto") == "off":
            reason = f"{cgroups.CGROUPS_ENV} is off"
            return reason, reason
        name = f"{self.job_id}-{self.idx}"
        memory_reason, reason = f"{cgroups.MODE_ENV} is rlimit", ""
        if memory and self.info.get("memory_limits", "auto") == "auto":
            self.cgroup, memory_reason = cgroups.create(name, memory)
        if self.cgroup is None:
            self.cgroup, reason = cgroups.create(name)
        if self.cgroup:
            cgroups.record(self.wdir, self.cgroup)
        return memory_reason, reason

    def confine(self, pid: int, memory: int | None, memory_reason: str, reason: str) -> bool:
        """Move the just-forked worker into its cgroup and say in the log what reaches its processes and
        what limits its memory; True when each of its processes must limit itself (an rlimit)."""
        if self.cgroup:
            try:
                self.cgroup.join(pid)
            except OSError as exc:
                reason = f"cannot move it into {self.cgroup.path}: {exc.strerror or exc}"
                memory_reason = reason if self.cgroup.limited else memory_reason
                self.cgroup.remove()
                cgroups.forget(self.wdir)
                self.cgroup = None
        self.processes = self.cgroup or cgroups.SessionProcesses(pid)
        if self.cgroup:
            self.log(f"worker {self.idx} runs in its own cgroup ({self.cgroup.describe()}): stop and its end "
                     "kill every process in it")
        else:
            self.log(f"worker {self.idx} runs without a cgroup ({reason}): stop ends its session and process "
                     "group; processes that start a session of their own outlive it")
        if not memory:
            return False
        if self.cgroup and self.cgroup.limited:
            self.log(f"memory limit {format_size(memory)} for all of worker {self.idx}'s processes together "
                     f"({self.cgroup.describe()})")
            return False
        name = "RLIMIT_DATA" if self.held else "RLIMIT_AS"
        self.log(f"memory limit {format_size(memory)} for each of worker {self.idx}'s processes ({name}; "
                 f"no memory cgroup: {memory_reason})")
        return True

    def end_processes(self) -> None:
        """SIGKILL whatever is left of the worker (its cgroup, else its session and process group) and
        wait until it is gone: only then may its GPUs go to the next job."""
        target = self.processes or self.cgroup
        if target is None:
            return
        if not target.kill(10.0):
            self.log(f"processes of worker {self.idx} still run 10 s after SIGKILL ({target.describe()}); "
                     "its GPUs stay held until they are gone")
            target.kill()
        if self.cgroup:
            self.oom_kills = max(self.oom_kills, self.cgroup.oom_kills())
            if self.cgroup.remove():
                cgroups.forget(self.wdir)
        self.processes = None

    def process_spool(self) -> None:
        """Turn checkpoints the worker saved (worker.save_checkpoint) into checkpoint artifacts."""
        path = os.path.join(self.wdir, "checkpoints.jsonl")
        try:
            size = os.path.getsize(path)
        except OSError:
            return
        if size <= self.spool_offset:
            return
        with open(path, "rb") as handle:
            handle.seek(self.spool_offset)
            data = handle.read()
        end = data.rfind(b"\n") + 1
        self.spool_offset += end
        for line in data[:end].splitlines():
            try:
                request = json.loads(line)
            except ValueError:
                continue
            self.store_checkpoint(request)

    def lineage(self, step: float | None = None) -> tuple[dict, list[dict]]:
        row = self.db.worker(self.job_id, self.idx)
        return outputs.lineage(self.job, self.idx, row["params"] if row else {}, step)

    def store_checkpoint(self, request: dict) -> None:
        import shutil

        folder = request.get("dir")
        if not folder or not os.path.isdir(folder):
            return
        step, metrics = request.get("step"), request.get("metrics") or {}
        produced_by, inputs = self.lineage(step)
        try:
            store = self.open_store()
            artifact = store.create("checkpoint", outputs.artifact_name(self.job, self.idx, " Checkpoint"), folder,
                                    metadata={"job_id": self.job_id, "job_name": self.spec["name"],
                                              "worker": self.idx, "step": step, "metrics": metrics},
                                    produced_by=produced_by, inputs=inputs)
        except Exception as exc:
            self.log(f"could not save the checkpoint of step {step}: {getattr(exc, 'message', exc)}")
            return
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        self.db.add_checkpoint(artifact.id, self.job_id, self.idx, step, metrics)
        self.log(f"saved checkpoint {artifact.reference} (step {step})")

    # -- ending ------------------------------------------------------------------------------
    def failure_reason(self, rc: int) -> str:
        """Why the worker failed, blaming memory only on the kernel's OOM kills or a failed allocation."""
        memory = self.spec.get("memory")
        if memory and self.oom_kills:
            return (f"worker {self.idx} exceeded its memory limit of {format_size(memory)}: the kernel's OOM "
                    f"killer ended {self.oom_kills} of its processes (exit code {rc})")
        if memory and not (self.cgroup and self.cgroup.limited):
            marker = self.allocation_failure()
            if marker:
                return (f"worker {self.idx} exceeded its memory limit of {format_size(memory)} per process: "
                        f"an allocation failed ({marker}) (exit code {rc})")
        if rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = f"signal {-rc}"
            return f"worker {self.idx} was killed by {name}"
        return f"worker {self.idx} exited with code {rc}"

    def allocation_failure(self) -> str | None:
        """The first sign of a failed allocation in what the worker wrote to its log, if any."""
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(max(self.run_log_start, os.path.getsize(self.log_path) - 65536))
                tail = handle.read()
        except OSError:
            return None
        return next((m.decode() for m in MEMORY_MARKERS if m in tail), None)

    def finish(self, rc: int) -> tuple[str, str | None]:
        stopped = self.stop_flag or self.stop_requested()
        row = self.db.worker(self.job_id, self.idx)
        self.set_state(None, exit_code=rc)
        if stopped:
            self.log(f"worker {self.idx} stopped (exit code {rc})")
            if row and row["save_on_stop"]:
                error = self.save_output()
                if error:
                    return "failed", error
            return "stopped", None
        if rc != 0:
            return "failed", self.failure_reason(rc)
        self.log(f"worker {self.idx} exited with code 0")
        error = self.save_output()
        return ("failed", error) if error else ("finished", None)

    def save_output(self) -> str | None:
        """Everything in ML_OUTPUT_PATH becomes an artifact (or is copied to the output URL); returns why
        not. A folder that could not be saved is kept, with its lineage, for `job save-output`."""
        out_dir = self.output_dir()
        problem, keepable = outputs.check_folder(out_dir, self.output_made, "ML_OUTPUT_PATH")
        empty = not keepable or not os.listdir(out_dir)  # keepable: a real folder is there
        if problem and empty:
            return f"{problem}; nothing was published"
        if empty:
            self.log("ML_OUTPUT_PATH is empty: no output artifact")
            return None
        produced_by, inputs = self.lineage()
        if not problem:
            self.set_state("uploading")
            try:
                fields, note = outputs.publish(self.open_store(), self.job, self.idx, out_dir, produced_by, inputs)
                self.set_state(None, **fields)
                self.log(note)
                return None
            except Exception as exc:
                problem = f"saving the output failed: {getattr(exc, 'message', None) or f'{type(exc).__name__}: {exc}'}"
        self.kept_output = out_dir
        self.set_state(None, kept_output={"path": out_dir, "produced_by": produced_by, "inputs": inputs})
        return (f"{problem.rstrip('.')}; nothing was published, the output is kept in {out_dir}: save it with "
                f"`{outputs.save_command(self.job_id, self.idx, self.several)}`")

    def output_dir(self) -> str:
        return os.path.join(self.wdir, "model" if self.spec.get("output") == "model" else "output")

    def cleanup(self) -> None:
        """Drop the worker's copies of its inputs and its output (now stored, unless kept for a later
        save, or refused); keep logs and params. Links there are removed, never followed."""
        import shutil

        for name in ("model", "checkpoints", "data", "output", "spool"):
            path = os.path.join(self.wdir, name)
            if path == self.kept_output:
                continue
            if os.path.islink(path):
                os.unlink(path)
            else:
                shutil.rmtree(path, ignore_errors=True)

    def release_leases(self) -> None:
        row = self.db.worker(self.job_id, self.idx)
        if not row or not row["leases"]:
            return
        try:
            store = self.open_store()
            for lease_id in row["leases"]:
                store.release_lease(lease_id)
        except Exception as exc:
            self.log(f"could not release leases: {exc}")

    def after_job(self) -> None:
        """The last worker to end collects the job's checkpoints."""
        try:
            run_job_gc(self.db, self.job_id, self.open_store)
        except Exception as exc:
            self.log(f"checkpoint garbage collection failed: {getattr(exc, 'message', exc)}")


def run_job_gc(db: JobsDB, job_id: str, open_store, dry_run: bool = False) -> dict | None:
    from . import gc

    job = db.job(job_id)
    if job is None:
        return None
    if not db.checkpoints(job_id, include_deleted=False):
        result = {"dry_run": dry_run, "policy": job["gc_policy"], "kept": [], "deleted": [], "protected": [],
                  "already_missing": [], "errors": [], "at": time.time()}
    else:
        with schedule_lock_gc(jobs_dir_for(db.path)):
            result = gc.collect(open_store(), db, job, dry_run=dry_run)
    if not dry_run:
        db.set_job_fields(job_id, gc_done=1, gc_result=result)
        if result["deleted"]:
            names = ", ".join(d.get("reference", d["id"]) for d in result["deleted"])
            for w in db.workers(job_id):
                append_log(os.path.join(worker_dir(jobs_dir_for(db.path), job_id, w["idx"]), "log.txt"),
                            f"[job] checkpoint GC deleted {names}\n")
                break
    return result


class schedule_lock_gc(schedule_lock):
    """One GC at a time per jobs folder."""

    def __init__(self, jobs_dir: str) -> None:
        self.path = os.path.join(jobs_dir, "locks", "gc.lock")


class StopRequested(Exception):
    message = "stopped while building"


class BuildFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3:
        print("usage: python -m jupyter_artifacts.jobs.supervisor JOBS_DB JOB_ID INDEX", file=sys.stderr)
        return 2
    supervisor = Supervisor(argv[0], argv[1], int(argv[2]))
    return supervisor.main()


if __name__ == "__main__":
    sys.exit(main())
