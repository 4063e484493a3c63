"""The Python SDK: `from jupyter_artifacts import Client`.

    client = Client()
    job = await client.jobs.create(
        name="finetune", type="training", gpus=1,
        model=dict(checkpoints=[dict(id="stable-diffusion-v2-1", public=True), "my-checkpoint"]),
        data=dict(datasets=["digits"], output_type="checkpoint"),
        command="python train.py",
    )
    await job.wait()
    print(job.logs())
    client.checkpoints.list()
    client.checkpoints.create("my-checkpoint", "output/")

Both styles work with the same client. Every call does its work when it is made and returns a
result that may also be awaited (`await client.checkpoints.list()` and `client.checkpoints.list()`
give the same list), so code written for an async client and plain scripts both run. The one long
call, `Job.wait()`, looks at its caller: called from async code (an `async def`, or a notebook
statement with `await`) it returns an awaitable that waits without blocking the event loop, and
warns if it is never awaited; called from anything else (a plain notebook cell, a script) it
blocks. `Job.wait_sync()` always blocks. The client calls the same session functions as the
magics and the widgets.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import time
import warnings
from typing import Any

from ..errors import InvalidInput
from . import actions


class _Ready:
    """Awaiting a result that is already there gives the result itself."""

    def __await__(self):
        return self._itself().__await__()

    async def _itself(self):
        return self


class ResultList(list, _Ready):
    """A list that may also be awaited."""


class ResultDict(dict, _Ready):
    """A dict that may also be awaited."""


class ResultStr(str, _Ready):
    """A str that may also be awaited."""


_ASYNC_CODE = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
_COMPREHENSIONS = ("<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>")


def _caller_is_async(depth: int = 2) -> bool:
    """Whether the code calling our caller is a coroutine: an `async def`, or an IPython statement with
    top-level `await` (IPython compiles each statement of a cell on its own). A comprehension counts as
    the code around it (before Python 3.12 it has a frame of its own)."""
    frame = sys._getframe(depth)
    while frame.f_code.co_name in _COMPREHENSIONS and frame.f_back is not None:
        frame = frame.f_back
    return bool(frame.f_code.co_flags & _ASYNC_CODE)


class _MustAwait:
    """What `job.wait()` returns in async code: waits when awaited, and warns, at the caller's line,
    when it is dropped without being awaited (the wait would silently not happen)."""

    def __init__(self, coroutine, call: str) -> None:
        caller = sys._getframe(2)
        self._coroutine = coroutine
        self._call = call
        self._where = (caller.f_code.co_filename, caller.f_lineno, caller.f_globals.get("__name__", ""))
        self._awaited = False

    def __await__(self):
        self._awaited = True
        return self._coroutine.__await__()

    def __repr__(self) -> str:
        return f"<{self._call} not awaited: write `await {self._call}` to wait>"

    def __del__(self) -> None:
        if not self._awaited:
            self._coroutine.close()
            filename, lineno, module = self._where
            warnings.warn_explicit(f"{self._call} was never awaited, so nothing waited: in async code write "
                                   f"`await {self._call}` (or call wait_sync() to block).", RuntimeWarning,
                                   filename, lineno, module=module)


class ArtifactHandle(_Ready):
    """One artifact version: the store's fields as attributes, and what can be done with it."""

    def __init__(self, client: "Client", artifact) -> None:
        self._client = client
        self._artifact = artifact

    def __getattr__(self, key: str) -> Any:
        return getattr(self._artifact, key)

    def __repr__(self) -> str:
        return f"<{self._artifact.kind.capitalize()} {self._artifact.reference} {self._artifact.state} {self._artifact.id[:8]}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArtifactHandle) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self._artifact.id)

    def to_dict(self) -> dict:
        return self._artifact.to_dict(manifest=False)

    def refresh(self) -> "ArtifactHandle":
        self._artifact = self._client._session.get_artifact(self._artifact.id)
        return self

    def download(self, dest: str, method: str = "auto") -> ResultDict:
        return ResultDict(self._client._session.download_artifact(self._artifact.id, dest, method=method))

    def attach(self, as_name: str | None = None) -> actions.Attachment:
        return self._client._session.attach(self._artifact.kind, self._artifact.id, as_name=as_name)

    def delete(self) -> ResultDict:
        return ResultDict(self._client._session.delete_artifact(self._artifact.id))

    def lineage(self) -> ResultDict:
        return ResultDict(self._client._session.lineage(self._artifact.id))


class Artifacts:
    """`client.checkpoints`, `client.models`, `client.datasets`."""

    def __init__(self, client: "Client", kind: str) -> None:
        self._client = client
        self.kind = kind

    def __repr__(self) -> str:
        return f"<{self.kind}s of {self._client!r}>"

    def _wrap(self, artifact) -> ArtifactHandle:
        return ArtifactHandle(self._client, artifact)

    def list(self, query: str | None = None, name: str | None = None, limit: int = 100,
             offset: int = 0) -> ResultList:
        """Newest first; `query` matches names, aliases and ids."""
        found, _total = self._client._session.list_artifacts(self.kind, query=query, name=name, limit=limit,
                                                             offset=offset)
        return ResultList(self._wrap(a) for a in found)

    def get(self, ref: str) -> ArtifactHandle:
        """NAME, NAME:vN, NAME:ALIAS or an id."""
        return self._wrap(self._client._session.get_artifact(ref, self.kind))

    def create(self, name: str, path: str, **options: Any) -> ArtifactHandle:
        """A new version of NAME from a folder (relative to the notebook's folder) or a source path.

        Options are those of the CLI's `create`: source_type, endpoint, branch, kaggle_type,
        aliases, refs, metadata.
        """
        return self._wrap(self._client._session.create_artifact(self.kind, name, path, **options))

    def save(self, folder: str, name: str, aliases: list[str] = ()) -> ArtifactHandle:
        """The notebook's folder (models, output, ...) as a new version; attached artifacts become its inputs."""
        return self._wrap(self._client._session.save(self.kind, folder, name, aliases=list(aliases)))

    def delete(self, ref: str) -> ResultDict:
        return ResultDict(self._client._session.delete_artifact(ref, self.kind))

    def download(self, ref: str, dest: str, method: str = "auto") -> ResultDict:
        return ResultDict(self._client._session.download_artifact(ref, dest, kind=self.kind, method=method))

    def attach(self, ref: str, as_name: str | None = None, public: bool = False) -> actions.Attachment:
        """What %attach_checkpoint does: materialize under the notebook's folder and lease it."""
        return self._client._session.attach(self.kind, ref, public=public, as_name=as_name)

    def detach(self, name: str, keep_files: bool = False) -> actions.Attachment:
        return self._client._session.detach(self.kind, name, keep_files=keep_files)

    def lineage(self, ref: str) -> ResultDict:
        return ResultDict(self._client._session.lineage(ref, self.kind))


class Checkpoints(Artifacts):
    def public(self) -> ResultList:
        """The public checkpoint catalog (ids to use with `public=True`)."""
        return ResultList(self._client._session.public_checkpoints())


class Job(_Ready):
    """A job: its fields as attributes (id, name, type, state, workers, outputs, ...), refreshed on demand."""

    def __init__(self, client: "Client", job) -> None:
        self._client = client
        self._job = job

    def __getattr__(self, key: str) -> Any:
        return getattr(self._job, key)

    def __repr__(self) -> str:
        return f"<Job {self._job.name!r} {self._job.id[:8]} {self._job.state}>"

    def to_dict(self) -> dict:
        return self._job.to_dict()

    @property
    def finished(self) -> bool:
        """True once the job has ended and nothing more happens to it (the rule `JobManager.finished`
        and its logs' `finished` follow)."""
        return self._client._session.jobs.finished(self._job.id)

    def refresh(self) -> "Job":
        self._job = self._client._session.get_job(self._job.id)
        return self

    def wait(self, timeout: float | None = None, poll: float = 0.5):
        """Until the job ends (or `timeout` seconds pass), returning the job.

        `await job.wait()` waits without blocking the event loop; a plain `job.wait()` (a notebook
        cell, a script) blocks. In async code a `job.wait()` that is not awaited warns.
        """
        if _caller_is_async():
            return _MustAwait(self._wait_async(timeout, poll), "job.wait()")
        return self.wait_sync(timeout)

    async def _wait_async(self, timeout: float | None, poll: float) -> "Job":
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if await asyncio.to_thread(lambda: self.finished):
                await asyncio.to_thread(self.refresh)
                return self
            if deadline is not None and time.monotonic() >= deadline:
                return self
            await asyncio.sleep(poll)

    def wait_sync(self, timeout: float | None = None) -> "Job":
        """Block until the job ends, even in async code."""
        self._job = self._client._session.wait_job(self._job.id, timeout=timeout)
        return self

    def logs(self, worker: int | None = None) -> ResultStr:
        """Everything the job has logged so far (with several workers, lines start with [worker N])."""
        return ResultStr("".join(self._client._session.jobs.logged(self._job.id, worker=worker)))

    def stop(self, save_output: bool = False) -> "Job":
        self._job = self._client._session.stop_job(self._job.id, save_output=save_output)
        return self

    def save_output(self, worker: int | None = None) -> "Job":
        """Save again the output a worker kept because saving it failed (every such worker by default)."""
        self._job = self._client._session.save_job_output(self._job.id, worker=worker)
        return self

    def monitor(self):
        """A live JobMonitor widget for this job."""
        from .widgets import JobMonitor

        return JobMonitor(self._job, session=self._client._session)

    @property
    def output_artifacts(self) -> list[ArtifactHandle]:
        self.refresh()
        return [ArtifactHandle(self._client, self._client._session.get_artifact(o["id"]))
                for o in self._job.outputs if o.get("id") and o.get("state") != "deleted"]


def _checkpoint_refs(items: Any) -> tuple[list[str], list[str]]:
    """proxiML-style checkpoint entries: "ref", {"id": "ref"} or {"id": "public-id", "public": True}."""
    if items is None:
        return [], []
    if isinstance(items, (str, dict)):
        items = [items]
    stored, public = [], []
    for item in items:
        if isinstance(item, str):
            stored.append(item)
        elif isinstance(item, dict) and isinstance(item.get("id"), str):
            (public if item.get("public") else stored).append(item["id"])
        else:
            raise InvalidInput(f"Invalid checkpoint {item!r}: use a reference, {{'id': REF}} or "
                               "{'id': PUBLIC_ID, 'public': True}.")
    return stored, public


def _dataset_refs(items: Any) -> list[str]:
    if items is None:
        return []
    if isinstance(items, (str, dict)):
        items = [items]
    refs = []
    for item in items:
        if isinstance(item, str):
            refs.append(item)
        elif isinstance(item, dict) and isinstance(item.get("id"), str) and not item.get("public"):
            refs.append(item["id"])
        else:
            raise InvalidInput(f"Invalid dataset {item!r}: use a reference or {{'id': REF}} (no public datasets).")
    return refs


class Jobs:
    """`client.jobs`: create, list, get, stop, save_output."""

    def __init__(self, client: "Client") -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<jobs of {self._client!r}>"

    def create(self, name: str, type: str = "training", command: str | None = None, *, script: str | None = None,
               gpus: int = 0, gpu_count: int | None = None, cpu: float | None = None, memory: str | int | None = None,
               model: str | dict | None = None, data: dict | None = None, checkpoints: Any = None,
               hyperparameters: dict | None = None, params: dict | None = None, env: dict | None = None,
               environment: dict | None = None, requirements: str | None = None, metric: str | None = None,
               larger_is_better: bool = False, workers: list[str] | None = None, **gc_policy: Any) -> Job:
        """Start a job and return it at once (its workers run on their own).

        model: a model reference, or {"source_uri"/"id": REF, "checkpoints": [...]} where each
        checkpoint is a reference, {"id": REF} or {"id": PUBLIC_ID, "public": True}.
        data: {"datasets": [...], "output_type": "checkpoint" | "model" | "url", "output_uri": URL,
        "manifest": FILE}. Give `command` (or `workers=[command]`) or `script` (Python source).
        gc_policy: save_experiment_best, save_trial_best, save_trial_latest.
        """
        session = self._client._session
        if workers:
            if command is not None or len(workers) != 1:
                raise InvalidInput("Give one command (command= or workers=[command]); the hyperparameter grid makes "
                                   "one worker per combination.")
            command = workers[0]
        unknown = set(gc_policy) - {"save_experiment_best", "save_trial_best", "save_trial_latest"}
        if unknown:
            raise InvalidInput(f"Unknown job option(s): {', '.join(sorted(unknown))}.")
        model_ref, stored, public = None, [], []
        if isinstance(model, str):
            model_ref = model
        elif isinstance(model, dict):
            extra = set(model) - {"source_uri", "id", "source_type", "checkpoints"}
            if extra:
                raise InvalidInput(f"Unknown model field(s): {', '.join(sorted(extra))}; use source_uri and checkpoints.")
            model_ref = model.get("source_uri") or model.get("id")
            stored, public = _checkpoint_refs(model.get("checkpoints"))
        elif model is not None:
            raise InvalidInput("model must be a reference or a dict with source_uri and/or checkpoints.")
        more_stored, more_public = _checkpoint_refs(checkpoints)
        stored, public = stored + more_stored, public + more_public
        data = dict(data or {})
        extra = set(data) - {"datasets", "output_type", "output_uri", "manifest", "data_manifest"}
        if extra:
            raise InvalidInput(f"Unknown data field(s): {', '.join(sorted(extra))}; "
                               "use datasets, output_type, output_uri and manifest.")
        output = data.get("output_type") or "checkpoint"
        if str(output).lower() in ("url", "uri"):
            output = data.get("output_uri")
            if not output:
                raise InvalidInput("output_type 'url' needs output_uri, such as s3://bucket/folder.")
        elif data.get("output_uri"):
            output = data["output_uri"]
        environment = dict(environment or {})
        env = {**(environment.get("env") or {}), **(env or {})}
        options = {
            "gpus": gpu_count if gpu_count is not None else gpus, "cpu": cpu, "memory": memory, "model": model_ref,
            "checkpoints": stored, "public_checkpoints": public, "data": _dataset_refs(data.get("datasets")),
            "data_manifest": data.get("manifest") or data.get("data_manifest"), "output": output,
            "hyperparameters": hyperparameters, "params": params, "env": env, "metric": metric,
            "larger_is_better": larger_is_better,
            "requirements": requirements or environment.get("requirements"), **gc_policy,
        }
        if script is not None:
            if command is not None:
                raise InvalidInput("Give command or script, not both.")
            found = session.run_script(type, script, name=name, **options)
        else:
            if not command:
                raise InvalidInput("A job needs command= (a shell command or a script path) or script= (Python source).")
            found = session.submit_job(session.job_spec(type, name, command, **options))
        return Job(self._client, found)

    def list(self, state: str | None = None, name: str | None = None, limit: int = 100) -> ResultList:
        return ResultList(Job(self._client, j) for j in self._client._session.list_jobs(state=state, name=name,
                                                                                          limit=limit))

    def get(self, ref: str) -> Job:
        """A job by id (or its start) or name (the newest of that name)."""
        return Job(self._client, self._client._session.get_job(ref))

    def stop(self, ref: str, save_output: bool = False) -> Job:
        return Job(self._client, self._client._session.stop_job(ref, save_output=save_output))

    def save_output(self, ref: str, worker: int | None = None) -> Job:
        """Save again the output a worker kept because saving it failed (every such worker by default)."""
        return Job(self._client, self._client._session.save_job_output(ref, worker=worker))

    def gpus(self) -> ResultDict:
        return ResultDict(self._client._session.gpus())


class Client:
    """The store and the jobs of this host, from Python.

    `Client()` in a kernel shares the kernel's session with the magics and widgets (same store,
    same notebook folder, same attachments). `Client(root=..., cwd=...)` opens another store or
    works from another folder.
    """

    def __init__(self, root: str | None = None, *, cwd: str | None = None, session: actions.Session | None = None) -> None:
        if session is None:
            if root is None and cwd is None:
                session = actions.session()
            else:
                store = None
                if root is not None:
                    from ..store import StoreSettings
                    from ..store import Store

                    store = Store(StoreSettings.from_env(root))
                session = actions.Session(fixed_store=store, fixed_cwd=cwd)
        self._session = session
        self.checkpoints = Checkpoints(self, "checkpoint")
        self.models = Artifacts(self, "model")
        self.datasets = Artifacts(self, "dataset")
        self.jobs = Jobs(self)

    def __repr__(self) -> str:
        return f"<Client {self._session.store.root.url}>"

    @property
    def session(self) -> actions.Session:
        return self._session

    def artifacts(self, query: str | None = None, limit: int = 100) -> ResultList:
        """Every kind, newest first."""
        found, _total = self._session.list_artifacts(None, query=query, limit=limit)
        return ResultList(ArtifactHandle(self, a) for a in found)

    def attachments(self) -> ResultList:
        return ResultList(self._session.attachments())


__all__ = ["ArtifactHandle", "Artifacts", "Checkpoints", "Client", "Job", "Jobs"]
