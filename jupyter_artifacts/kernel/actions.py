"""What the notebook's faces do: one function per action, called by the magics, the widgets and the SDK.

A `Session` belongs to one kernel. "The notebook's folder" is the kernel's current working
directory (Jupyter starts a kernel in its notebook's folder). Attached artifacts are materialized
under that folder (`checkpoint/<name>/`, `models/<name>/`, `data/<name>/`) and held by a store lease
whose owner is the kernel's process, so nothing this kernel uses can be deleted while it lives;
when the kernel ends, the lease ends with it.

Re-attaching: if `checkpoint/<name>/` already exists (left by an earlier kernel, say) it is used
as it is when its content is exactly the artifact's (same tree digest), and refused otherwise:
nothing the user may have changed is ever overwritten.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass, field
from typing import Any

from ..errors import Conflict, InvalidInput, NotFound
from ..progress import Progress
from ..store.names import KINDS, check_kind, check_name

FOLDERS = {"checkpoint": "checkpoint", "model": "models", "dataset": "data"}
PATH_ENV = {"checkpoint": "ML_CHECKPOINT_PATH", "model": "ML_MODEL_PATH", "dataset": "ML_DATA_PATH"}
SAVE_FOLDERS = ("models", "output")


@dataclass
class Attachment:
    """An artifact materialized in the notebook's folder and leased by this kernel."""

    kind: str
    name: str
    path: str
    artifact: Any  # store.Artifact
    lease_id: str
    public_id: str | None = None
    reused: bool = False  # the folder was there already, with exactly this content

    @property
    def reference(self) -> str:
        return self.artifact.reference

    def to_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "path": self.path, "reference": self.reference,
                "id": self.artifact.id, "public_id": self.public_id, "reused": self.reused}


def folder_digest(path: str) -> str | None:
    """The tree digest a folder would get if it were saved (None if it cannot be saved as it is)."""
    from ..errors import ArtifactsError
    from ..store.digest import hash_file
    from ..store.records import tree_digest
    from ..store.snapshot import scan

    try:
        files = scan(path)
    except ArtifactsError:
        return None
    manifest: dict[str, dict] = {}
    for f in files:
        if f.link is not None:
            manifest[f.relpath] = {"link": f.link, "mode": 0o777}
        else:
            manifest[f.relpath] = {"digest": hash_file(f.path, f.size), "size": f.size, "mode": f.mode}
    return tree_digest(manifest)


@dataclass
class Session:
    """One kernel's view of the store and its jobs; `store` and `cwd` are fixed only in tests."""

    fixed_store: Any = None
    fixed_cwd: str | None = None
    pid: int = field(default_factory=os.getpid)
    _attached: dict = field(default_factory=dict)  # (kind, name) -> Attachment
    _saved_env: dict = field(default_factory=dict)
    _store: Any = None
    _store_root: str | None = None
    _local: threading.local = field(default_factory=threading.local)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # -- where things are ------------------------------------------------------------------
    @property
    def cwd(self) -> str:
        return os.path.abspath(self.fixed_cwd or os.getcwd())

    @property
    def store(self):
        """The store named by the kernel's environment (JUPYTER_ARTIFACTS_ROOT, else the default)."""
        if self.fixed_store is not None:
            return self.fixed_store
        from ..store import Store, StoreSettings

        settings = StoreSettings.from_env()
        if self._store is not None and self._store_root == settings.root:
            return self._store  # no lock: a long attach holds it, and monitors read from their threads
        with self._lock:
            if self._store is None or self._store_root != settings.root:
                self._store = Store(settings)
                self._store_root = settings.root
            return self._store

    @property
    def holder(self) -> str:
        """Who holds the leases of this kernel, as `holders` and `InUse` messages show it."""
        return f"kernel {self.pid} ({self.cwd})"

    # -- attach and detach -----------------------------------------------------------------
    def attach(self, kind: str, ref: str, public: bool = False, as_name: str | None = None,
               progress: Progress | None = None) -> Attachment:
        """Materialize an artifact under the notebook's folder, lease it, and set ML_*_PATH."""
        check_kind(kind)
        if not isinstance(ref, str) or not ref.strip():
            raise InvalidInput(f"Say which {kind} to attach: NAME, NAME:vN, NAME:ALIAS or an id.")
        ref = ref.strip()
        store = self.store
        public_id = None
        if public:
            if kind != "checkpoint":
                raise InvalidInput(f"Only checkpoints come from the public catalog; attach a {kind} by its reference.")
            artifact = fetch_public(store, ref, progress)
            public_id = ref
            default_name = ref.replace("/", "-")
        else:
            artifact = store.resolve(ref, kind)
            default_name = artifact.name
        if artifact.state != "ready":
            raise Conflict(f"{artifact.reference} is {artifact.state}, not ready; wait for it or create it again.")
        name = check_name(as_name.strip() if as_name else default_name)
        folder = FOLDERS[kind]
        with self._lock:
            held = self._attached.get((kind, name))
            if held is not None:
                if held.artifact.id == artifact.id:
                    return held
                raise Conflict(f"{folder}/{name} already holds {held.reference}; detach it first "
                               f"(%detach_{kind} {name}) or attach this one with --as OTHER_NAME.")
            path = os.path.join(self.cwd, folder, name)
            lease_id = store.acquire_lease(artifact.id, self.holder, pid=self.pid)
            store.keep_leases()  # a shared root: other hosts see the lease while this kernel lives
            reused = False
            try:
                if os.path.isdir(path) and os.listdir(path):
                    if folder_digest(path) != artifact.digest:
                        raise Conflict(f"{folder}/{name} already exists in {self.cwd} with other content; "
                                       f"move or delete it, or attach with --as OTHER_NAME.")
                    reused = True
                elif os.path.exists(path) and not os.path.isdir(path):
                    raise Conflict(f"{folder}/{name} in {self.cwd} is a file; move it or attach with --as OTHER_NAME.")
                else:
                    store.download(artifact.id, path, kind=kind, progress=progress)
            except BaseException:
                store.release_lease(lease_id)
                raise
            attachment = Attachment(kind, name, path, artifact, lease_id, public_id, reused)
            self._attached[(kind, name)] = attachment
            self._update_env(kind)
            return attachment

    def detach(self, kind: str, name: str, keep_files: bool = False) -> Attachment:
        """Release an attached artifact and remove its folder (unless keep_files)."""
        check_kind(kind)
        name = (name or "").strip()
        with self._lock:
            attachment = self._attached.get((kind, name))
            if attachment is None:
                names = sorted(n for k, n in self._attached if k == kind)
                attached = f"attached: {', '.join(names)}" if names else f"no {kind} is attached"
                raise NotFound(f"No {kind} named {name!r} is attached in this kernel ({attached}).")
            self.store.release_lease(attachment.lease_id)
            del self._attached[(kind, name)]
            if not keep_files and os.path.isdir(attachment.path):
                shutil.rmtree(attachment.path, ignore_errors=True)
                parent = os.path.dirname(attachment.path)
                if os.path.isdir(parent) and not os.listdir(parent):
                    os.rmdir(parent)
            self._update_env(kind)
            return attachment

    def detach_all(self) -> list[Attachment]:
        """Release every lease this session holds, keeping the files (used when the extension unloads)."""
        with self._lock:
            return [self.detach(kind, name, keep_files=True) for kind, name in list(self._attached)]

    def attachments(self, kind: str | None = None) -> list[Attachment]:
        with self._lock:
            return [a for (k, _n), a in sorted(self._attached.items()) if kind in (None, k)]

    def _update_env(self, kind: str) -> None:
        """ML_CHECKPOINT_PATH and ML_DATA_PATH name the folder holding each attached one (as in a job);
        ML_MODEL_PATH names the attached model's own folder (a job has one model)."""
        env = PATH_ENV[kind]
        held = [a for (k, _n), a in self._attached.items() if k == kind]
        if held:
            if env not in self._saved_env:
                self._saved_env[env] = os.environ.get(env)
            os.environ[env] = held[-1].path if kind == "model" else os.path.join(self.cwd, FOLDERS[kind])
        elif env in self._saved_env:
            previous = self._saved_env.pop(env)
            if previous is None:
                os.environ.pop(env, None)
            else:
                os.environ[env] = previous

    # -- save ------------------------------------------------------------------------------
    def save(self, kind: str, folder: str, name: str, progress: Progress | None = None,
             aliases: list[str] = (), metadata: dict | None = None) -> Any:
        """Copy a folder of the notebook (models/, output/, or any path) into a new version of NAME.

        What this kernel worked from (`inputs`) is recorded as the new artifact's inputs, so its
        lineage shows what the notebook worked from.
        """
        check_kind(kind)
        check_name(name)
        if not isinstance(folder, str) or not folder.strip():
            raise InvalidInput("Say which folder to save: models, output, or a path.")
        path = os.path.join(self.cwd, os.path.expanduser(folder.strip()))
        if not os.path.isdir(path):
            raise NotFound(f"There is no {folder.strip()}/ folder in {self.cwd}; create it and write your "
                           f"files there, or name another folder ({', '.join(SAVE_FOLDERS)} or a path).")
        return self.store.create(kind, name, path, aliases=list(aliases), metadata=metadata,
                                 source={"type": "local", "path": os.path.abspath(path)},
                                 inputs=self.inputs(), progress=progress)

    def inputs(self) -> list[dict]:
        """What this kernel worked from, recorded as the inputs of what it saves: the artifacts attached
        in it, then those whose files it read through artifact:// URLs."""
        from ..filesystem import read_artifacts

        attached = [{"id": a.artifact.id, "kind": a.kind, "reference": a.reference, "role": "attached"}
                    for a in self.attachments()]
        held = {item["id"] for item in attached}
        return attached + [item for item in read_artifacts(self.store.root.url) if item["id"] not in held]

    # -- artifacts -------------------------------------------------------------------------
    def list_artifacts(self, kind: str | None = None, query: str | None = None, limit: int = 100,
                       offset: int = 0, name: str | None = None) -> tuple[list, int]:
        if kind is not None:
            check_kind(kind)
        return self.store.list(kind, name=name, query=query or None, limit=limit, offset=offset)

    def get_artifact(self, ref: str, kind: str | None = None):
        return self.store.get(ref, kind)

    def create_artifact(self, kind: str, name: str, path: str, progress: Progress | None = None, **options):
        """Create an artifact from a path or a source (the SDK's `create`), relative to the notebook."""
        from ..sources import create_from_source

        return create_from_source(self.store, kind, name, path, progress=progress, cwd=self.cwd, **options)

    def delete_artifact(self, ref: str, kind: str | None = None) -> dict:
        return self.store.delete(ref, kind)

    def download_artifact(self, ref: str, dest: str, kind: str | None = None, progress: Progress | None = None,
                          method: str = "auto") -> dict:
        dest = os.path.join(self.cwd, os.path.expanduser(dest))
        return self.store.download(ref, dest, kind=kind, method=method, progress=progress)

    def lineage(self, ref: str, kind: str | None = None) -> dict:
        """What went into an artifact, what was made from it, and the jobs that used it."""
        from ..jobs.lineage import lineage

        return lineage(self.store, ref, kind)

    # -- jobs ------------------------------------------------------------------------------
    @property
    def jobs(self):
        """The JobManager of the kernel's store; one per thread (a monitor polls from its own)."""
        from ..jobs import JobManager

        store = self.store
        manager = getattr(self._local, "jobs", None)
        if manager is None or manager.store is not store:
            manager = self._local.jobs = JobManager(store)
        return manager

    def gpus(self) -> dict:
        """The host's GPUs (`count`, `devices` with who holds each, `queue`)."""
        return self.jobs.gpus()

    def gpu_count(self) -> int:
        return self.jobs.inventory.count

    def job_spec(self, type: str, name: str | None, command: str, **options: Any) -> dict:
        """A checked job spec (the dict `JobManager.submit` takes) from the options every face shares
        (`jupyter_artifacts.jobs.options`, keyed as `Option.key`), run in the notebook's folder.

        File options (`params`, `hyperparameters`, `data_manifest`, `requirements`) take a path
        relative to the notebook's folder, or the value itself (a dict, a list; a requirements text
        with `requirements_text`).
        """
        from ..jobs.spec import JobSpec

        options.setdefault("workdir", self.cwd)
        spec = JobSpec.from_options(type, name or self.default_job_name(type), command, options, base_dir=self.cwd)
        return spec.to_dict()

    def default_job_name(self, type: str) -> str:
        import re

        base = re.sub(r"[^A-Za-z0-9 _.\-]", "-", os.path.basename(self.cwd)).strip(" .-") or "notebook"
        return f"{base[:100]} {type}"

    def write_script(self, body: str, name: str, shell: bool = False) -> str:
        """Keep a cell's body as the job's script, next to the store's jobs, and return its path."""
        import re
        import time
        import uuid

        if not body.strip():
            raise InvalidInput("The cell is empty: write the job's script in the cell, below the magic's line.")
        folder = self.jobs.layout.scripts
        os.makedirs(folder, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.\-]", "-", name)[:60]
        path = os.path.join(folder, f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
                                    f"{'.sh' if shell else '.py'}")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(body if body.endswith("\n") else body + "\n")
        return path

    def submit_job(self, spec: dict):
        """Validate and start a job; returns the `Job` at once (its workers run on their own)."""
        if not isinstance(spec, dict):
            raise InvalidInput("A job spec must be a dict such as {'type': 'training', 'name': ..., 'command': ...}.")
        spec = dict(spec)
        spec.setdefault("workdir", self.cwd)
        return self.jobs.submit(spec)

    def run_script(self, type: str, body: str, name: str | None = None, shell: bool = False, **options: Any):
        """A `%%train` / `%%infer` cell: its body becomes the script of a new job."""
        import shlex

        name = name or self.default_job_name(type)
        spec = self.job_spec(type, name, "placeholder", **options)  # a bad option: refused before writing the script
        spec["command"] = shlex.quote(self.write_script(body, name, shell))
        return self.submit_job(spec)

    def list_jobs(self, state: str | None = None, name: str | None = None, limit: int = 100) -> list:
        return self.jobs.list(state=state, name=name, limit=limit)

    def get_job(self, ref: str):
        return self.jobs.get(ref)

    def stop_job(self, ref: str, save_output: bool = False):
        return self.jobs.stop(ref, save_output=save_output)

    def save_job_output(self, ref: str, worker: int | None = None):
        """Save again the output a worker kept because saving it failed."""
        return self.jobs.save_output(ref, worker=worker)

    def job_logs(self, ref: str, worker: int | None = None, offset: int | str = 0):
        """The log's next chunk (`LogChunk`: text, offset, finished, state), as `JobManager.logs` gives it."""
        return self.jobs.logs(ref, worker=worker, offset=offset)

    def follow_job(self, ref: str, worker: int | None = None):
        """The job's log text as it grows, until the job ends."""
        return self.jobs.follow(ref, worker=worker)

    def wait_job(self, ref: str, timeout: float | None = None):
        return self.jobs.wait(ref, timeout=timeout)

    def public_checkpoints(self) -> list[dict]:
        """The public catalog's checkpoints (with the site's entries of the store's settings) as
        [{"id", "title", "description", "license", ...}]."""
        from ..sources.public import list_public

        return [e.to_dict() for e in list_public(self.store.settings.public_catalog)]


def fetch_public(store, public_id: str, progress: Progress | None = None):
    """A public checkpoint, fetched into the store the first time it is asked for."""
    from ..sources.public import fetch_public as fetch

    return fetch(store, public_id, progress=progress)


_default: Session | None = None
_default_lock = threading.Lock()


def session() -> Session:
    """The kernel's session, made on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Session()
        return _default


def set_session(new: Session | None) -> Session | None:
    """Replace the kernel's session (tests); returns the previous one."""
    global _default
    with _default_lock:
        previous, _default = _default, new
        return previous


__all__ = ["FOLDERS", "KINDS", "PATH_ENV", "SAVE_FOLDERS", "Attachment", "Session", "folder_digest",
           "fetch_public", "session", "set_session"]
