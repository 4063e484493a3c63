"""Jobs: submit, list, show, stop, follow the logs, save a kept output again, change the checkpoint GC policy."""

from __future__ import annotations

import os
import re
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from ...errors import ArtifactsError, InvalidInput, NotFound
from ...jobs.db import STATES
from ...jobs.options import MAX_COUNT
from ...jobs.spec import GC_FIELDS
from ..paths import resolve_in_root, resolve_local_source
from .base import API_PREFIX, ArtifactsHandler

PAGE = 100
MAX_PAGE = 1000
MAX_OFFSET = 1 << 62
MAX_WORKER_INDEX = 10**6
_OFFSET_RE = re.compile(r"^\d{1,19}(,\d{1,19}){0,9999}$")


def prepare_job_body(body: dict, root_dir: str, allowed_roots: list[str], max_workers: int) -> Any:
    """A REST job body as a validated JobSpec whose local paths all lie inside the folders the server may read.

    - the fields' JSON types are checked first, from the option table (jobs/body.py);
    - `workdir` is relative to root_dir (default: root_dir) and must stay inside it (403 otherwise);
    - `params`, `hyperparameters` and `data_manifest` are JSON values, or the path of a JSON file;
      `requirements_file` names a requirements.txt (`requirements` is its text); such files are read
      by the core's one loader, relative to the working folder, and must lie inside root_dir or
      `allowed_local_roots` (else 403), as must local manifest URLs and a `file://` output.
    """
    from ...jobs import body as job_body
    from ...jobs.spec import JobSpec
    from ...sources.roots import check_fsspec_url

    job_body.check(body)
    data = dict(body)
    workdir_given = data.pop("workdir", None)
    workdir = resolve_in_root(root_dir, workdir_given or ".", "working folder")
    if not os.path.isdir(workdir):
        raise NotFound(f"No folder {workdir_given!r} in the Jupyter root folder for the job to run in.")
    data["workdir"] = workdir
    readable = [root_dir, *allowed_roots]
    try:
        spec = JobSpec.from_body(data, resolve=lambda path: resolve_local_source(path, workdir, readable))
        workers = len(spec.worker_params())
    except ArtifactsError:
        raise
    except (TypeError, ValueError, OverflowError) as exc:  # a value no spec could hold, e.g. a 400-digit size
        raise InvalidInput(f"Invalid job: {exc}.") from None
    for entry in spec.data_manifest or []:  # read from this disk: inside the folders the server may read
        entry["url"] = check_fsspec_url(entry["url"], workdir, readable)
    if "://" in spec.output:  # file://, local://, chains: written on this disk
        checked = check_fsspec_url(spec.output, workdir, readable)
        spec.output = checked if "://" in checked else f"file://{checked}"
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
        state = self.query_str("state", STATES)
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

    @web.authenticated
    @authorized
    async def delete(self, job_id: str) -> None:
        self.reply(await self.blocking(self.jobs.delete, job_id))


class JobMetricsHandler(JobsBase):
    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        limit = self.query_int("limit", 2000, 2, 10000)
        self.reply(await self.blocking(self.jobs.metrics, job_id, limit))


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
            offset: int | str = int(offset_text) if "," not in offset_text else offset_text
            chunk = jobs.logs(job_id, worker=worker, offset=offset)
            return {"text": chunk.text, "offset": chunk.offset, "worker": worker, "state": chunk.state,
                    "finished": chunk.finished}

        self.reply(await self.blocking(read))



class JobGcPolicyHandler(JobsBase):
    @web.authenticated
    @authorized
    async def post(self, job_id: str) -> None:
        body = self.body() if (self.request.body or b"").strip() else {}
        counts = {}
        for key in GC_FIELDS:  # the bounds a job body's gc_policy has (jobs/options.py)
            value = self.field(body, key, int)
            if value is not None and not 0 <= value <= MAX_COUNT:
                raise InvalidInput(f"{key} must be between 0 and {MAX_COUNT}.")
            counts[key] = value
        dry_run = self.field(body, "dry_run", bool, default=False)
        jobs = self.jobs
        self.reply(await self.blocking(jobs.set_gc_policy, job_id, dry_run=dry_run, **counts))
