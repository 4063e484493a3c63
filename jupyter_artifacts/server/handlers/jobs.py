"""Jobs: submit, list, show, stop, follow the logs, save a kept output again, change the checkpoint GC policy."""

from __future__ import annotations

import os
import re
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from ...errors import ArtifactsError, InvalidInput, NotFound
from ..paths import resolve_in_root, resolve_local_source
from .base import API_PREFIX, ArtifactsHandler

JOB_STATES = ("queued", "building", "running", "uploading", "finished", "failed", "stopped")
TERMINAL = ("finished", "failed", "stopped")
PAGE = 100
MAX_PAGE = 1000
MAX_COUNT = 10**6  # GC policy counts
MAX_OFFSET = 1 << 62
MAX_WORKER_INDEX = 10**6
_OFFSET_RE = re.compile(r"^\d{1,19}(,\d{1,19}){0,9999}$")
GC_FIELDS = ("save_experiment_best", "save_trial_best", "save_trial_latest")

# What each top-level field of a job body may be, checked before the spec's own validation so that
# a value of the wrong type is a 400 that names the field. `None` (JSON null) is always accepted.
_STR, _LIST, _DICT, _NUM = (str,), (list,), (dict,), (int, float)
BODY_TYPES: dict[str, tuple] = {
    "type": _STR, "name": _STR, "command": _STR, "resources": _DICT, "gpus": (int,), "cpu": (int, float, str),
    "memory": (int, float, str), "model": _STR, "checkpoints": (list, str), "public_checkpoints": _LIST,
    "data": (list, str), "data_manifest": (list, dict, str), "params": (dict, str), "hyperparameters": (dict, str),
    "requirements": _STR, "requirements_file": _STR, "python": _STR, "output": _STR, "metric": _STR,
    "smaller_is_better": (bool,), "gc_policy": _DICT, "save_experiment_best": (int,), "save_trial_best": (int,),
    "save_trial_latest": (int,), "workdir": _STR, "env": _DICT, "stop_grace": _NUM,
}
_TYPE_NAMES = {str: "a string", list: "a list", dict: "an object", int: "an integer", float: "a number",
               bool: "true or false"}


def _type_error(where: str, kinds: tuple) -> InvalidInput:
    names = " or ".join(dict.fromkeys(_TYPE_NAMES[k] for k in kinds))
    return InvalidInput(f"The field {where!r} must be {names}.")


def check_types(body: dict) -> None:
    """Top-level types of a job body (and of resources and gc_policy); unknown fields are left to JobSpec."""
    for key, value in body.items():
        kinds = BODY_TYPES.get(key)
        if kinds is None or value is None:
            continue
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise _type_error(key, kinds)
    for group, keys in (("resources", ("gpus", "cpu", "memory")), ("gc_policy", GC_FIELDS)):
        inner = body.get(group) or {}
        for key in keys:
            value = inner.get(key)
            kinds = BODY_TYPES[key]
            if value is not None and (not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds)):
                raise _type_error(f"{group}.{key}", kinds)
    for key in ("checkpoints", "public_checkpoints", "data"):
        value = body.get(key)
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise InvalidInput(f"The field {key!r} must be a list of references (strings).")
    env = body.get("env")
    if isinstance(env, dict) and not all(isinstance(v, str) for v in env.values()):
        raise InvalidInput("The field 'env' must be an object of string values.")
    for key in GC_FIELDS:
        for value in (body.get(key), (body.get("gc_policy") or {}).get(key)):
            if isinstance(value, int) and not 0 <= value <= MAX_COUNT:
                raise InvalidInput(f"{key} must be between 0 and {MAX_COUNT}.")


def prepare_job_body(body: dict, root_dir: str, allowed_roots: list[str], max_workers: int) -> Any:
    """A REST job body as a validated JobSpec whose local paths all lie inside the folders the server may read.

    - `workdir` is relative to root_dir (default: root_dir) and must stay inside it (403 otherwise);
    - `params`, `hyperparameters` and `data_manifest` are JSON values, or the path of a JSON file;
      `requirements_file` names a requirements.txt (`requirements` is its text);
    - such files, local manifest URLs and a `file://` output must resolve inside root_dir (relative
      paths: inside the working folder) or `allowed_local_roots`, else 403.
    """
    from ...jobs.spec import JobSpec, load_json_file, load_manifest_file, parse_manifest
    from ...sources.roots import check_fsspec_url

    check_types(body)
    data = dict(body)
    workdir_given = data.pop("workdir", None)
    workdir = resolve_in_root(root_dir, workdir_given or ".", "working folder")
    if not os.path.isdir(workdir):
        raise NotFound(f"No folder {workdir_given!r} in the Jupyter root folder for the job to run in.")
    data["workdir"] = workdir
    readable = [root_dir, *allowed_roots]

    def local_file(path: str, what: str) -> str:
        real = resolve_local_source(path, workdir, readable)
        if not os.path.isfile(real):
            raise NotFound(f"No {what} file {path!r}.")
        return real

    for key, what in (("params", "params"), ("hyperparameters", "hyperparameters")):
        if isinstance(data.get(key), str):
            data[key] = load_json_file(local_file(data[key], what), what)
    requirements_file = data.pop("requirements_file", None)
    if requirements_file is not None:
        if data.get("requirements") is not None:
            raise InvalidInput("Give 'requirements' (the text of a requirements.txt) or 'requirements_file', not both.")
        try:
            with open(local_file(requirements_file, "requirements"), encoding="utf-8") as handle:
                data["requirements"] = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"Cannot read the requirements file {requirements_file!r}: {exc}.") from None
    manifest = data.get("data_manifest")
    if isinstance(manifest, str):
        manifest = load_manifest_file(local_file(manifest, "data manifest"))
    if manifest is not None:
        entries = parse_manifest(manifest)
        for entry in entries:
            entry["url"] = check_fsspec_url(entry["url"], workdir, readable)
        data["data_manifest"] = entries
    output = data.get("output")
    if isinstance(output, str) and "://" in output:  # file://, local://, chains: written on this disk
        checked = check_fsspec_url(output, workdir, readable)
        data["output"] = checked if "://" in checked else f"file://{checked}"
    try:
        spec = JobSpec.from_dict(data)
        workers = len(spec.worker_params())
    except ArtifactsError:
        raise
    except (TypeError, ValueError, OverflowError) as exc:  # a value no spec could hold, e.g. a 400-digit size
        raise InvalidInput(f"Invalid job: {exc}.") from None
    if workers > max_workers:
        raise InvalidInput(f"The hyperparameter grid makes {workers} workers; this server runs at most {max_workers} "
                           "per job (c.ArtifactsApp.max_job_workers).")
    return spec


class JobsBase(ArtifactsHandler):
    @property
    def jobs(self) -> Any:
        return self.artifacts_app.job_manager()


class JobsHandler(JobsBase):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        state = self.query_str("state", JOB_STATES)
        name = self.query_str("name")
        limit = self.query_int("limit", PAGE, 1, MAX_PAGE)
        offset = self.query_int("offset", 0, 0, 10**9)
        jobs = self.jobs

        def listing() -> list[dict]:
            return [job.to_dict() for job in jobs.list(state=state, name=name, limit=limit + 1, offset=offset)]

        found = await self.blocking(listing)
        more = len(found) > limit
        found = found[:limit]
        self.reply({"jobs": found, "limit": limit, "offset": offset,
                    "next_offset": offset + len(found) if more else None})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.body()
        app = self.artifacts_app
        root_dir, allowed, max_workers = self.root_dir, list(app.allowed_local_roots), app.max_job_workers
        jobs = self.jobs

        def submit() -> dict:
            spec = prepare_job_body(body, root_dir, allowed, max_workers)
            return jobs.submit(spec).to_dict()

        job = await self.blocking(submit)
        self.log.info("jupyter-artifacts: job %s (%s) submitted by %s", job["name"], job["id"][:8], self.username)
        self.set_header("Location", url_path_join(self.base_url, API_PREFIX, "jobs", job["id"]))
        self.reply(job, status=201)


class JobHandler(JobsBase):
    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        jobs = self.jobs
        self.reply(await self.blocking(lambda: jobs.get(job_id).to_dict()))


class JobStopHandler(JobsBase):
    @web.authenticated
    @authorized
    async def post(self, job_id: str) -> None:
        body = self.body() if (self.request.body or b"").strip() else {}
        save_output = self.field(body, "save_output", bool, default=False)
        jobs = self.jobs
        self.reply(await self.blocking(lambda: jobs.stop(job_id, save_output=save_output).to_dict()))


class JobSaveOutputHandler(JobsBase):
    @web.authenticated
    @authorized
    async def post(self, job_id: str) -> None:
        body = self.body() if (self.request.body or b"").strip() else {}
        worker = self.field(body, "worker", int)
        if worker is not None and not 0 <= worker <= MAX_WORKER_INDEX:
            raise InvalidInput(f"worker must be between 0 and {MAX_WORKER_INDEX}.")
        jobs = self.jobs
        self.reply(await self.blocking(lambda: jobs.save_output(job_id, worker=worker).to_dict()))


def _log_sizes(job: dict, worker: int | None) -> list[int]:
    sizes = []
    for w in job["workers"]:
        if worker is None or w["index"] == worker:
            try:
                sizes.append(os.path.getsize(w["log_path"]))
            except OSError:
                sizes.append(0)
    return sizes


class JobLogsHandler(JobsBase):
    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        worker_text = self.get_query_argument("worker", None)
        worker = None if worker_text in (None, "") else self.query_int("worker", 0, 0, MAX_WORKER_INDEX)
        offset_text = self.query_str("offset") or "0"
        if not _OFFSET_RE.match(offset_text) or any(int(x) > MAX_OFFSET for x in offset_text.split(",")):
            raise InvalidInput(f"Invalid offset {offset_text[:80]!r}: pass back the offset the last call returned "
                               "(0 to start from the beginning).")
        jobs = self.jobs

        def read() -> dict:
            from ... import procs

            job = jobs.get(job_id).to_dict()  # reconciles dead supervisors first
            chosen = [w for w in job["workers"] if worker is None or w["index"] == worker]
            if worker is not None and not chosen:
                raise NotFound(f"The job has no worker {worker}; its workers are 0 to {len(job['workers']) - 1}.")
            # decided before reading: once every supervisor is gone, nothing more is written to the log
            ended = all(w["state"] in TERMINAL for w in chosen) and not any(
                procs.alive(w["supervisor"]) for w in jobs.db.workers(job["id"])
                if w["supervisor"] and (worker is None or w["idx"] == worker))
            offset: int | str = int(offset_text) if "," not in offset_text else offset_text
            text, next_offset = jobs.logs(job["id"], worker=worker, offset=offset)
            ends = [int(x) for x in str(next_offset).split(",")]
            at_end = all(end >= size for end, size in zip(ends, _log_sizes(job, worker)))
            state = chosen[0]["state"] if worker is not None else job["state"]
            return {"text": text, "offset": next_offset, "worker": worker, "state": state,
                    "finished": bool(ended and at_end)}

        self.reply(await self.blocking(read))



class JobGcPolicyHandler(JobsBase):
    @web.authenticated
    @authorized
    async def post(self, job_id: str) -> None:
        body = self.body() if (self.request.body or b"").strip() else {}
        counts = {}
        for key in GC_FIELDS:
            value = self.field(body, key, int)
            if value is not None and not 0 <= value <= MAX_COUNT:
                raise InvalidInput(f"{key} must be between 0 and {MAX_COUNT}.")
            counts[key] = value
        dry_run = self.field(body, "dry_run", bool, default=False)
        jobs = self.jobs
        self.reply(await self.blocking(jobs.set_gc_policy, job_id, dry_run=dry_run, **counts))
