"""Ray jobs in a shared root: each host's jobs database is its own, so the jobs it sends to a Ray
cluster are also kept in the root, where every host of the team lists, follows and stops them.

    cluster-jobs/index/<job>.json              the job as its submitting host's database holds it
                                               (its supervisors write it again on every change)
    cluster-jobs/runs/<job>/stop.json          a stop asked for from any host (and whether to save)
    cluster-jobs/runs/<job>/<N>/node.json      what the node running worker N reports (state, output,
                                               checkpoints, exit code): the node writes only this
    cluster-jobs/runs/<job>/<N>/metrics.jsonl  worker N's reported metrics, copied by the node
    cluster-jobs/runs/<job>/<N>/log.txt        worker N's log, copied by the submitting host at its end

Every document has one writer (the submitting host, the node, or a stopping host writing the same
request), so no write needs a compare-and-swap. What other hosts wrote is user input: documents are
checked before use (`check_summary`, `check_report`) and skipped when malformed; checkpoint and
output ids a node reports are taken only for artifacts that name this job and worker.

`TeamJobs` is how a host reads the jobs other hosts submitted: listing, finding, logs (Ray's while the
job runs, the root's copy once it is done) and stopping (the root's request, then Ray's stop).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable
from typing import Any

from ..store.records import dumps
from ..store.store import reaches_root
from .db import STATES, TERMINAL, JobsDB
from .layout import FileLock, JobsLayout
from .logs import last_metrics
from .options import JOB_TYPES

PREFIX = "cluster-jobs"
FORMAT = 1
PRIVATE_SETTINGS = ("storage_options", "catalog_path")  # this host's own: credentials, its catalog's path
JOB_ID = re.compile(r"^[0-9a-f]{32}$")
LOG_LIMIT = 256 * 2**20  # a log copied into the root is cut to its last 256 MB
SCRIPT_LIMIT = 2**20  # a script outside the working folder travels in the job's summary up to this size


def index_path(job_id: str) -> str:
    return f"{PREFIX}/index/{job_id}.json"


def run_path(job_id: str, *parts: object) -> str:
    return "/".join((PREFIX, "runs", job_id, *map(str, parts)))


def shared_settings(settings: dict) -> dict:
    """The store settings a job carries, less what is this host's own (credentials, its catalog):
    a node opens the root with its own credentials and catalog."""
    return {k: v for k, v in settings.items() if k not in PRIVATE_SETTINGS}


def shared_job(job: dict) -> dict:
    """A job's row as it may leave this host: its store settings without this host's own."""
    return {**job, "info": {**job["info"], "store": shared_settings(job["info"].get("store") or {})}}


def summary(db: JobsDB, layout: JobsLayout, job_id: str, done: Iterable[int] = ()) -> dict | None:
    """The root's copy of a job from this host's database: its row, its workers (with their last
    reported metrics), its checkpoints, and which workers' supervisors are done (nothing more comes)."""
    job = db.job(job_id)
    if job is None:
        return None
    job = shared_job(job)
    workers = []
    for w in db.workers(job_id):
        row = {k: v for k, v in w.items() if k not in ("leases", "seq")}
        row["last_metrics"] = last_metrics(layout.worker(job_id, w["idx"]).metrics)
        workers.append(row)
    from .. import procs

    finished = set(done) | {w["idx"] for w in workers if w["state"] in TERMINAL and not procs.alive(w["supervisor"])}
    return {"format": FORMAT, "job": job, "workers": workers, "checkpoints": db.checkpoints(job_id),
            "done": sorted(finished), "scripts": outside_scripts(job), "host": os.uname().nodename,
            "updated_at": time.time()}


def outside_scripts(job: dict) -> dict[str, str]:
    """The script the command names when it lies outside the working folder (a %%train cell's, kept
    next to this host's jobs): Ray ships the working folder only, so the script travels in the root."""
    import shlex

    try:
        words = shlex.split(job["spec"]["command"])
    except ValueError:
        return {}
    workdir = os.path.join(job["info"]["workdir"], "")
    path = os.path.join(job["info"]["workdir"], os.path.expanduser(words[0])) if words else ""
    if not path or path.startswith(workdir) or not os.path.isfile(path) or os.path.getsize(path) > SCRIPT_LIMIT:
        return {}
    with open(path, encoding="utf-8", errors="replace") as handle:
        return {words[0]: handle.read()}


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_summary(doc: object) -> dict | None:
    """A summary read from the root, if it has the shape this module writes; else None (skipped)."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return None
    job, workers, checkpoints = doc.get("job"), doc.get("workers"), doc.get("checkpoints")
    if not (isinstance(job, dict) and isinstance(workers, list) and workers and isinstance(checkpoints, list)):
        return None
    if not (isinstance(job.get("id"), str) and JOB_ID.match(job["id"]) and isinstance(job.get("name"), str)
            and job.get("type") in JOB_TYPES and job.get("state") in STATES and _number(job.get("created_at"))
            and all(isinstance(job.get(k), dict) for k in ("spec", "info", "gc_policy"))
            and isinstance(job.get("history"), list)):
        return None
    for w in workers:
        if not (isinstance(w, dict) and isinstance(w.get("idx"), int) and w.get("state") in STATES
                and isinstance(w.get("params"), dict) and isinstance(w.get("history"), list)
                and isinstance(w.get("gpus") or [], list)):
            return None
    if not all(isinstance(c, dict) and isinstance(c.get("artifact_id"), str) and isinstance(c.get("worker"), int)
               for c in checkpoints):
        return None
    done = doc.get("done")
    if not isinstance(done, list) or not all(isinstance(i, int) for i in done):
        return None
    return doc


def check_report(doc: object) -> dict | None:
    """A node's report read from the root, if well formed; else None."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("state") not in STATES:
        return None
    if not isinstance(doc.get("history"), list) or not isinstance(doc.get("checkpoints"), list):
        return None
    if not all(isinstance(c, dict) and isinstance(c.get("artifact_id"), str) for c in doc["checkpoints"]):
        return None
    return doc


def _json(raw: bytes | None) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


class Record:
    """The root's documents about Ray jobs (see the module's docstring); a root out of reach is one line."""

    def __init__(self, root) -> None:
        self.root = root

    @reaches_root
    def publish(self, doc: dict) -> None:
        self.root.write_doc(index_path(doc["job"]["id"]), dumps(doc))

    def _summary(self, job_id: str) -> dict | None:
        if not JOB_ID.match(job_id):
            return None
        doc = check_summary(_json(self.root.read_doc(index_path(job_id))))
        return doc if doc and doc["job"]["id"] == job_id else None

    summary = reaches_root(_summary)

    @reaches_root
    def summaries(self) -> list[dict]:
        """Every job's summary the root holds (malformed ones skipped), newest first."""
        from concurrent.futures import ThreadPoolExecutor

        ids = [p.rsplit("/", 1)[-1][:-len(".json")] for p in self.root.list_docs(f"{PREFIX}/index")]
        ids = [i for i in ids if JOB_ID.match(i)]
        with ThreadPoolExecutor(max_workers=min(16, max(1, len(ids)))) as pool:
            found = [d for d in pool.map(self._summary, ids) if d]
        return sorted(found, key=lambda d: d["job"]["created_at"], reverse=True)

    @reaches_root
    def report(self, job_id: str, idx: int, doc: dict) -> None:
        self.root.write_doc(run_path(job_id, idx, "node.json"), dumps({"format": FORMAT, **doc}))

    @reaches_root
    def node_report(self, job_id: str, idx: int) -> dict | None:
        return check_report(_json(self.root.read_doc(run_path(job_id, idx, "node.json"))))

    @reaches_root
    def ask_stop(self, job_id: str, save_output: bool, by: str) -> None:
        """A stop of the whole job, from any host; asking again with save_output keeps it asked."""
        asked = self.stop_asked(job_id) or {}
        body = {"save_output": bool(save_output or asked.get("save_output")), "by": by, "at": time.time()}
        self.root.write_doc(run_path(job_id, "stop.json"), dumps(body))

    @reaches_root
    def stop_asked(self, job_id: str) -> dict | None:
        doc = _json(self.root.read_doc(run_path(job_id, "stop.json")))
        return doc if isinstance(doc, dict) and isinstance(doc.get("save_output"), bool) else None

    @reaches_root
    def put(self, job_id: str, idx: int, name: str, data: bytes) -> None:
        self.root.write_doc(run_path(job_id, idx, name), data[-LOG_LIMIT:])

    @reaches_root
    def get(self, job_id: str, idx: int, name: str) -> bytes | None:
        return self.root.read_doc(run_path(job_id, idx, name))

    @reaches_root
    def forget(self, job_id: str) -> None:
        """Remove a job's documents (its summary last, so a listing never shows half a job)."""
        for path in self.root.list_docs(run_path(job_id), suffix=""):
            self.root.delete_doc(path)
        self.root.delete_doc(index_path(job_id))


def publish(record: Record, db: JobsDB, layout: JobsLayout, job_id: str, done: Iterable[int] = ()) -> None:
    """Write the job's summary from this host's database, one writer at a time (the job's several
    supervisors all write it: the lock keeps the last write the newest state)."""
    with FileLock(os.path.join(layout.jobs_dir, job_id, "publish.lock")):
        doc = summary(db, layout, job_id, done)
        if doc is not None:
            record.publish(doc)


def jobs_with_input(docs: list[dict], artifact_id: str) -> list[dict]:
    """The Ray jobs of these summaries that took the artifact as an input, as `JobsDB.jobs_with_input`
    gives a host's jobs."""
    found = []
    for doc in docs:
        job = doc["job"]
        roles = sorted({i.get("role") for i in job["info"].get("inputs") or [] if i.get("id") == artifact_id} - {None})
        if roles:
            found.append({"id": job["id"], "name": job["name"], "type": job["type"], "state": job["state"],
                          "roles": roles, "created_at": job["created_at"], "ended_at": job.get("ended_at"),
                          "workers": [{"index": w["idx"], "state": w["state"], "output_id": w.get("output_id"),
                                       "output_url": w.get("output_url")} for w in doc["workers"]]})
    return found


class TeamJobs:
    """The Ray jobs other hosts of the team submitted, read from the root by this host."""

    def __init__(self, store, layout: JobsLayout) -> None:
        self.store = store
        self.layout = layout
        self.record = Record(store.root)
        self._listed: tuple[float, list[dict]] | None = None

    def all(self) -> list[dict]:
        """Every summary in the root (read again at most every sync_interval)."""
        now = time.monotonic()
        if self._listed is None or now - self._listed[0] >= self.store.settings.sync_interval:
            self._listed = (now, self.record.summaries())
        return self._listed[1]

    def get(self, job_id: str) -> dict | None:
        return self.record.summary(job_id)

    def find(self, ref: str) -> list[str]:
        """Ids matching a job reference, as JobsDB.find_job_ids matches them: the id, the newest job
        of that name, or an id prefix."""
        docs = self.all()
        exact = [d["job"]["id"] for d in docs if d["job"]["id"] == ref]
        if exact:
            return exact
        named = [d["job"]["id"] for d in docs if d["job"]["name"] == ref]
        if named:
            return named[:1]
        if len(ref) >= 4 and all(c in "0123456789abcdef" for c in ref):
            return [d["job"]["id"] for d in docs if d["job"]["id"].startswith(ref)][:5]
        return []

    @staticmethod
    def ended(doc: dict, workers: Iterable[int] | None = None) -> bool:
        """Every chosen worker has ended and its supervisor is done: nothing more happens to it."""
        chosen = [w for w in doc["workers"] if workers is None or w["idx"] in workers]
        return all(w["state"] in TERMINAL and w["idx"] in doc["done"] for w in chosen)

    def cluster(self, doc: dict):
        from .raycluster import RayCluster

        return RayCluster(os.environ.get("RAY_ADDRESS") or doc["job"]["info"].get("cluster"))

    def fetch_logs(self, doc: dict, workers: Iterable[int]) -> None:
        """Bring the chosen workers' logs to this host's cache: the root's copy once a worker is done
        (kept: it never changes), else what Ray has logged so far (its log is the start of that copy)."""
        from .raycluster import submission_id

        job_id = doc["job"]["id"]
        cluster = None
        for idx in workers:
            folder = self.layout.worker(job_id, idx)
            final = folder.log + ".final"
            if os.path.exists(final):
                continue
            if idx in doc["done"]:
                data = self.record.get(job_id, idx, "log.txt") or b""
                _write(folder.log, data)
                _write(final, b"")
                continue
            w = next(w for w in doc["workers"] if w["idx"] == idx)
            if w["state"] == "queued":
                continue
            cluster = cluster or self.cluster(doc)
            try:
                text = cluster.logs(submission_id(job_id, idx))
            except Exception:  # noqa: BLE001 - the cluster away: the log shows what came so far
                continue
            data = text.encode()
            if len(data) > _size(folder.log):
                _write(folder.log, data)

    def stop(self, doc: dict, save_output: bool) -> None:
        """Ask the submitting host's supervisors to stop (queued workers leave the queue) and ask Ray
        to stop each worker it runs, now."""
        from .. import procs
        from .raycluster import submission_id

        job_id = doc["job"]["id"]
        self.record.ask_stop(job_id, save_output, f"{procs.hostname()} ({self.store.host_id})")
        cluster = self.cluster(doc)
        for w in doc["workers"]:
            if w["state"] not in ("queued",) + TERMINAL:
                cluster.stop(submission_id(job_id, w["idx"]))

    def metrics(self, doc: dict, idx: int) -> str:
        """Where worker `idx`'s metrics are on this host (fetched from the root)."""
        path = self.layout.worker(doc["job"]["id"], idx).metrics
        data = self.record.get(doc["job"]["id"], idx, "metrics.jsonl")
        if data is not None:
            _write(path, data)
        return path


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _write(path: str, data: bytes) -> None:
    """Replace a cached file at once (a reader sees the old or the new one whole)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


__all__ = ["PREFIX", "Record", "TeamJobs", "check_report", "check_summary", "jobs_with_input", "outside_scripts",
           "publish", "shared_job", "shared_settings", "summary"]
