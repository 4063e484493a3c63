"""The jobs database: one SQLite file (WAL) next to the store's catalog, shared by every process.

Supervisors write their worker's state here; the manager reads it. Kept free of heavy imports:
the supervisor loads this module on its way to starting the worker.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import AbstractContextManager

from .. import database

ACTIVE = ("queued", "building", "running", "uploading")
TERMINAL = ("finished", "failed", "stopped")
STATES = ACTIVE + TERMINAL

SCHEMA_VERSION = 3
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    state TEXT NOT NULL,
    error TEXT,
    spec TEXT NOT NULL,
    info TEXT NOT NULL DEFAULT '{}',
    gc_policy TEXT NOT NULL,
    gc_done INTEGER NOT NULL DEFAULT 0,
    gc_result TEXT,
    created_by TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    ended_at REAL,
    history TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS jobs_by_name ON jobs (name, created_at);
CREATE INDEX IF NOT EXISTS jobs_by_created ON jobs (created_at);
CREATE TABLE IF NOT EXISTS workers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    state TEXT NOT NULL,
    error TEXT,
    params TEXT NOT NULL DEFAULT '{}',
    gpus TEXT NOT NULL DEFAULT '[]',
    cpus TEXT,
    supervisor TEXT,
    worker_pid INTEGER,
    exit_code INTEGER,
    stop_requested INTEGER NOT NULL DEFAULT 0,
    save_on_stop INTEGER NOT NULL DEFAULT 0,
    output_id TEXT,
    output_url TEXT,
    kept_output TEXT,
    leases TEXT NOT NULL DEFAULT '[]',
    placement TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    ended_at REAL,
    history TEXT NOT NULL DEFAULT '[]',
    UNIQUE (job_id, idx)
);
CREATE INDEX IF NOT EXISTS workers_by_state ON workers (state, seq);
CREATE TABLE IF NOT EXISTS job_inputs (
    job_id TEXT NOT NULL, artifact_id TEXT NOT NULL, role TEXT NOT NULL,
    PRIMARY KEY (job_id, artifact_id, role)
);
CREATE INDEX IF NOT EXISTS job_inputs_by_artifact ON job_inputs (artifact_id);
CREATE TABLE IF NOT EXISTS checkpoints (
    artifact_id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    worker INTEGER NOT NULL,
    step REAL,
    metrics TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL,
    deleted_at REAL
);
CREATE INDEX IF NOT EXISTS checkpoints_by_job ON checkpoints (job_id, created_at);
"""
# what takes a database of version N-1 to version N
MIGRATIONS = {
    2: "ALTER TABLE workers ADD COLUMN kept_output TEXT",  # {path, produced_by, inputs} of an output not saved
    3: "ALTER TABLE workers ADD COLUMN placement TEXT",  # {submission_id, node_id, node} of a worker on a Ray cluster
}

_WORKER_COLUMNS = ("seq", "job_id", "idx", "state", "error", "params", "gpus", "cpus", "supervisor", "worker_pid",
                   "exit_code", "stop_requested", "save_on_stop", "output_id", "output_url", "kept_output", "leases",
                   "created_at", "started_at", "ended_at", "history", "placement")
_JOB_COLUMNS = ("id", "name", "type", "state", "error", "spec", "info", "gc_policy", "gc_done", "gc_result",
                "created_by", "created_at", "started_at", "ended_at", "history")
_JSON = {"params", "gpus", "cpus", "leases", "history", "spec", "info", "gc_policy", "gc_result", "kept_output",
         "placement"}


def _where(query: str, conditions: list[tuple[str, list | None]]) -> tuple[str, list]:
    """`query` narrowed by the conditions whose values were given (None: no condition), and its arguments."""
    used = [(sql, values) for sql, values in conditions if values]
    if not used:
        return query, []
    return query + " WHERE " + " AND ".join(sql for sql, _ in used), [v for _, values in used for v in values]


def _row(columns: tuple[str, ...], row: tuple) -> dict:
    out = dict(zip(columns, row))
    for key in _JSON & set(out):
        if out[key] is not None:
            out[key] = json.loads(out[key])
    return out


def job_state(worker_states: list[str], stop_requested: bool = False) -> str:
    """A job's state from its workers' states."""
    if all(s in TERMINAL for s in worker_states):
        if "stopped" in worker_states:
            return "stopped"
        if "failed" in worker_states:
            return "failed"
        return "finished"
    for state in ("running", "building", "uploading"):
        if state in worker_states:
            return state
    return "queued" if not any(s in TERMINAL for s in worker_states) else "running"


class JobsDB:
    """One connection per process (supervisors are single-threaded; the manager guards with a lock)."""

    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self._conn: sqlite3.Connection | None = None
        self._pid = os.getpid()
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            self.conn.executescript(SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION};")
        elif version < SCHEMA_VERSION:
            self._migrate()

    def _migrate(self) -> None:
        """Bring an older database up to SCHEMA_VERSION, once even when several processes open it at once."""
        with self.transaction() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for target in range(version + 1, SCHEMA_VERSION + 1):
                db.execute(MIGRATIONS[target])
            db.execute(f"PRAGMA user_version = {max(version, SCHEMA_VERSION)}")

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            conn = database.connect(self.path)
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return database.transaction(self.conn)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- jobs ------------------------------------------------------------------------------
    def insert_job(self, job: dict, workers: list[dict], inputs: list[dict]) -> None:
        """Add a job and these workers; a job or worker already there is left as it is (a Ray node adds
        the job once per worker it runs)."""
        now = job["created_at"]
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO jobs (id, name, type, state, spec, info, gc_policy, created_by, created_at, "
                "history) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)",
                (job["id"], job["name"], job["type"], json.dumps(job["spec"]), json.dumps(job["info"]),
                 json.dumps(job["gc_policy"]), job.get("created_by"), now, json.dumps([["queued", now]])))
            for w in workers:
                db.execute("INSERT OR IGNORE INTO workers (job_id, idx, state, params, created_at, history) "
                           "VALUES (?, ?, 'queued', ?, ?, ?)",
                           (job["id"], w["idx"], json.dumps(w["params"]), now, json.dumps([["queued", now]])))
            self._insert_inputs(db, job["id"], inputs)

    def add_inputs(self, job_id: str, inputs: list[dict]) -> None:
        """Artifacts a job used besides those it was given (read through artifact:// by a worker)."""
        with self.transaction() as db:
            self._insert_inputs(db, job_id, inputs)

    @staticmethod
    def _insert_inputs(db: sqlite3.Connection, job_id: str, inputs: list[dict]) -> None:
        db.executemany("INSERT OR IGNORE INTO job_inputs (job_id, artifact_id, role) VALUES (?, ?, ?)",
                       ((job_id, i["id"], i["role"]) for i in inputs if i.get("id")))

    def job(self, job_id: str) -> dict | None:
        row = self.conn.execute(f"SELECT {', '.join(_JOB_COLUMNS)} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _row(_JOB_COLUMNS, row) if row else None

    def jobs(self, limit: int = 1000, offset: int = 0, state: str | None = None, name: str | None = None) -> list[dict]:
        query, args = _where(f"SELECT {', '.join(_JOB_COLUMNS)} FROM jobs",
                             [("state = ?", [state] if state else None), ("name = ?", [name] if name else None)])
        query += " ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?"
        return [_row(_JOB_COLUMNS, r) for r in self.conn.execute(query, (*args, limit, offset))]

    def find_job_ids(self, ref: str) -> list[str]:
        """Ids matching a job reference: the exact id, the newest job of that name, or an id prefix."""
        rows = self.conn.execute("SELECT id FROM jobs WHERE id = ?", (ref,)).fetchall()
        if rows:
            return [rows[0][0]]
        rows = self.conn.execute("SELECT id FROM jobs WHERE name = ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
                                 (ref,)).fetchall()
        if rows:
            return [rows[0][0]]
        if len(ref) >= 4 and all(c in "0123456789abcdef" for c in ref):
            return [r[0] for r in self.conn.execute("SELECT id FROM jobs WHERE id LIKE ? LIMIT 5", (ref + "%",))]
        return []

    def set_job_fields(self, job_id: str, **fields) -> None:
        if not fields:
            return
        sets = ", ".join(f"{k} = ?" for k in fields)
        values = [json.dumps(v) if k in _JSON and v is not None else v for k, v in fields.items()]
        with self.transaction() as db:
            db.execute(f"UPDATE jobs SET {sets} WHERE id = ?", (*values, job_id))

    def delete_job(self, job_id: str) -> None:
        """Forget a job: its row, its workers, its inputs and its checkpoint records (the artifacts stay)."""
        with self.transaction() as db:
            for table, column in (("workers", "job_id"), ("job_inputs", "job_id"), ("checkpoints", "job_id"),
                                  ("jobs", "id")):
                db.execute(f"DELETE FROM {table} WHERE {column} = ?", (job_id,))

    def ended_without_gc(self) -> list[str]:
        marks = ",".join("?" * len(TERMINAL))
        return [r[0] for r in self.conn.execute(
            f"SELECT id FROM jobs WHERE gc_done = 0 AND state IN ({marks})", TERMINAL)]

    def jobs_using(self, artifact_id: str, exclude: str | None = None) -> list[str]:
        rows = self.conn.execute(
            "SELECT DISTINCT j.name, j.id FROM job_inputs i JOIN jobs j ON j.id = i.job_id "
            "WHERE i.artifact_id = ? AND i.job_id != ?", (artifact_id, exclude or "")).fetchall()
        return [f"{name} ({job_id[:8]})" for name, job_id in rows]

    def jobs_with_input(self, artifact_id: str) -> list[dict]:
        """The jobs that took an artifact as an input, newest first, with their roles and workers'
        outputs (the "used by" of its lineage)."""
        rows = self.conn.execute(
            "SELECT j.id, j.name, j.type, j.state, j.created_at, j.ended_at, group_concat(i.role) "
            "FROM job_inputs i JOIN jobs j ON j.id = i.job_id WHERE i.artifact_id = ? "
            "GROUP BY j.id ORDER BY j.created_at DESC, j.rowid DESC", (artifact_id,)).fetchall()
        jobs = []
        for job_id, name, type_, state, created_at, ended_at, roles in rows:
            workers = self.conn.execute("SELECT idx, state, output_id, output_url FROM workers WHERE job_id = ? "
                                        "ORDER BY idx", (job_id,)).fetchall()
            jobs.append({"id": job_id, "name": name, "type": type_, "state": state, "roles": sorted(roles.split(",")),
                         "created_at": created_at, "ended_at": ended_at,
                         "workers": [{"index": idx, "state": w_state, "output_id": output_id, "output_url": url}
                                     for idx, w_state, output_id, url in workers]})
        return jobs

    # -- workers ---------------------------------------------------------------------------
    def workers(self, job_id: str | None = None, states: tuple[str, ...] | None = None) -> list[dict]:
        query, args = _where(f"SELECT {', '.join(_WORKER_COLUMNS)} FROM workers",
                             [("job_id = ?", [job_id] if job_id else None),
                              (f"state IN ({','.join('?' * len(states or ()))})", list(states or ()))])
        query += " ORDER BY seq"
        return [_row(_WORKER_COLUMNS, r) for r in self.conn.execute(query, args)]

    def worker(self, job_id: str, idx: int) -> dict | None:
        rows = self.conn.execute(f"SELECT {', '.join(_WORKER_COLUMNS)} FROM workers WHERE job_id = ? AND idx = ?",
                                 (job_id, idx)).fetchall()
        return _row(_WORKER_COLUMNS, rows[0]) if rows else None

    def update_worker(self, job_id: str, idx: int, state: str | None = None, db: sqlite3.Connection | None = None,
                      only_if_active: bool = False, at: float | None = None, **fields) -> str | None:
        """Change a worker's fields and state (noting when: now, or `at`, the time another host saw it
        change), then the job's state; returns the job's new state when it changed. With
        only_if_active, a worker already ended is left alone."""
        if db is None:
            with self.transaction() as tx:
                return self.update_worker(job_id, idx, state, tx, only_if_active, at, **fields)
        row = db.execute("SELECT state, history FROM workers WHERE job_id = ? AND idx = ?", (job_id, idx)).fetchone()
        if row is None or (only_if_active and row[0] in TERMINAL):
            return None
        now = time.time() if at is None else at
        if state and state != row[0]:
            history = json.loads(row[1])
            history.append([state, now])
            fields["history"] = history
            fields["state"] = state
            if state in ("building", "running") and row[0] == "queued":
                fields.setdefault("started_at", now)
            if state in TERMINAL:
                fields.setdefault("ended_at", now)
        if fields:
            sets = ", ".join(f"{k} = ?" for k in fields)
            values = [json.dumps(v) if k in _JSON and v is not None else v for k, v in fields.items()]
            db.execute(f"UPDATE workers SET {sets} WHERE job_id = ? AND idx = ?", (*values, job_id, idx))
        return self._refresh_job(db, job_id, now)

    def _refresh_job(self, db: sqlite3.Connection, job_id: str, now: float) -> str | None:
        rows = db.execute("SELECT state, error, idx FROM workers WHERE job_id = ? ORDER BY idx", (job_id,)).fetchall()
        job = db.execute("SELECT state, history, started_at FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if not rows or job is None:
            return None
        new = job_state([r[0] for r in rows])
        if new == job[0]:
            return None
        history = json.loads(job[1])
        history.append([new, now])
        error = None
        if new == "failed":
            errors = [f"worker {idx}: {err}" if len(rows) > 1 else err for state, err, idx in rows
                      if state == "failed" and err]
            error = "; ".join(errors[:5]) or "a worker failed"
        elif new == "stopped":
            error = "stopped by request"
        started = job[2] if job[2] is not None else (now if new != "queued" else None)
        db.execute("UPDATE jobs SET state = ?, error = ?, history = ?, started_at = ?, ended_at = ? WHERE id = ?",
                   (new, error, json.dumps(history), started, now if new in TERMINAL else None, job_id))
        return new

    # -- checkpoints -----------------------------------------------------------------------
    def add_checkpoint(self, artifact_id: str, job_id: str, worker: int, step: float | None, metrics: dict) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO checkpoints (artifact_id, job_id, worker, step, metrics, created_at) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (artifact_id, job_id, worker, step, json.dumps(metrics), time.time()))

    def checkpoints(self, job_id: str, include_deleted: bool = True) -> list[dict]:
        query = ("SELECT artifact_id, job_id, worker, step, metrics, created_at, deleted_at FROM checkpoints "
                 "WHERE job_id = ?")
        if not include_deleted:
            query += " AND deleted_at IS NULL"
        query += " ORDER BY created_at, rowid"
        out = []
        for aid, jid, worker, step, metrics, created, deleted in self.conn.execute(query, (job_id,)):
            if isinstance(step, float) and step.is_integer():
                step = int(step)
            out.append({"artifact_id": aid, "job_id": jid, "worker": worker, "step": step,
                        "metrics": json.loads(metrics), "created_at": created, "deleted_at": deleted})
        return out

    def mark_checkpoint_deleted(self, artifact_id: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE checkpoints SET deleted_at = ? WHERE artifact_id = ? AND deleted_at IS NULL",
                       (time.time(), artifact_id))
