"""The SQLite catalog: a fast, rebuildable index of the root, plus local state (leases, stat cache).

Everything in the `artifacts`, `aliases`, `refs`, `tree_files`, `artifact_trees` and `blobs` tables
can be rebuilt from the root (`Store.reindex`); `leases`, `statcache` and `folder_saves` describe this
machine only.

A manifest is stored once per distinct content (`tree_files`, keyed by a hash of every entry) and
artifacts point to it (`artifact_trees`): saving an unchanged folder again adds one row, not one
per file. The `files` view shows the familiar (artifact_id, path, digest, size, mode, link) rows.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import NamedTuple

from .. import database
from .records import Artifact, tree_key

SCHEMA = """
CREATE TABLE IF NOT EXISTS artifacts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    state TEXT NOT NULL,
    digest TEXT,
    size INTEGER NOT NULL DEFAULT 0,
    file_count INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '{}',
    metadata TEXT NOT NULL DEFAULT '{}',
    produced_by TEXT,
    inputs TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    progress TEXT,
    owner TEXT,
    UNIQUE (kind, name, version)
);
CREATE INDEX IF NOT EXISTS artifacts_by_created ON artifacts (created_at DESC);
CREATE INDEX IF NOT EXISTS artifacts_by_kind_created ON artifacts (kind, created_at DESC);
CREATE TABLE IF NOT EXISTS aliases (
    kind TEXT NOT NULL, name TEXT NOT NULL, alias TEXT NOT NULL, artifact_id TEXT NOT NULL,
    PRIMARY KEY (kind, name, alias)
);
CREATE INDEX IF NOT EXISTS aliases_by_artifact ON aliases (artifact_id);
CREATE TABLE IF NOT EXISTS refs (
    src TEXT NOT NULL, dst TEXT NOT NULL, relation TEXT NOT NULL DEFAULT 'ref', PRIMARY KEY (src, dst, relation)
);
CREATE INDEX IF NOT EXISTS refs_by_dst ON refs (dst);
CREATE TABLE IF NOT EXISTS tree_files (
    tree TEXT NOT NULL, path TEXT NOT NULL, digest TEXT, size INTEGER NOT NULL,
    mode INTEGER NOT NULL, link TEXT, PRIMARY KEY (tree, path)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tree_files_by_digest ON tree_files (digest);
CREATE TABLE IF NOT EXISTS artifact_trees (artifact_id TEXT PRIMARY KEY, tree TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS artifact_trees_by_tree ON artifact_trees (tree);
CREATE VIEW IF NOT EXISTS files AS
    SELECT m.artifact_id AS artifact_id, t.path AS path, t.digest AS digest, t.size AS size,
           t.mode AS mode, t.link AS link
    FROM artifact_trees m JOIN tree_files t ON t.tree = m.tree;
CREATE TABLE IF NOT EXISTS blobs (digest TEXT PRIMARY KEY, size INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leases (
    id TEXT PRIMARY KEY, artifact_id TEXT NOT NULL, holder TEXT NOT NULL,
    owner TEXT, created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS leases_by_artifact ON leases (artifact_id);
CREATE TABLE IF NOT EXISTS statcache (
    path TEXT PRIMARY KEY, inode INTEGER NOT NULL, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, digest TEXT NOT NULL
) WITHOUT ROWID;
DROP INDEX IF EXISTS statcache_by_digest;
CREATE TABLE IF NOT EXISTS version_counters (
    kind TEXT NOT NULL, name TEXT NOT NULL, last INTEGER NOT NULL, PRIMARY KEY (kind, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS journal_seen (key TEXT PRIMARY KEY, millis INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS folder_saves (
    folder TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, artifact_id TEXT NOT NULL, tree TEXT NOT NULL,
    manifest_bytes INTEGER NOT NULL
) WITHOUT ROWID;
"""

_COLUMNS = (
    "id, kind, name, version, state, digest, size, file_count, created_at, created_by, source, "
    "metadata, produced_by, inputs, error, progress"
)


class StatRow(NamedTuple):
    """What the stat cache knows of a file: the stat it had when its digest was computed."""

    path: str
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int
    digest: str

    def matches(self, inode: int, size: int, mtime_ns: int, ctime_ns: int) -> bool:
        return self.inode == inode and self.size == size and self.mtime_ns == mtime_ns and self.ctime_ns == ctime_ns


class Catalog:
    """One SQLite file in WAL mode; one connection per thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self._local = threading.local()
        if not self.read_only:
            self.db.executescript(SCHEMA)

    @property
    def read_only(self) -> bool:
        """Opened read-only because the disk is full: reads work, writes fail."""
        return database.is_read_only(self.db)

    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = database.connect(self.path)
            # Publishing inserts one tree_files row per file, and tree_files_by_digest takes them in
            # random order: with SQLite's default 2 MB page cache most of those inserts re-read
            # index pages. The cache grows only as pages are used.
            conn.execute("PRAGMA cache_size=-65536")
            conn.execute("PRAGMA temp_store=MEMORY")
            self._local.conn = conn
        return conn

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return database.transaction(self.db)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- artifacts -------------------------------------------------------------------------
    @staticmethod
    def _row_to_artifact(row: tuple) -> Artifact:
        (aid, kind, name, version, state, digest, size, count, created_at, created_by, source,
         metadata, produced_by, inputs, error, progress) = row
        return Artifact(
            id=aid, kind=kind, name=name, version=version, state=state, digest=digest, size=size,
            file_count=count, created_at=created_at, created_by=created_by, source=json.loads(source),
            metadata=json.loads(metadata), produced_by=json.loads(produced_by) if produced_by else None,
            inputs=json.loads(inputs), error=error, progress=json.loads(progress) if progress else None,
        )

    def _decorate(self, artifacts: list[Artifact]) -> list[Artifact]:
        """Attach aliases and refs in two queries, whatever the page size."""
        if not artifacts:
            return artifacts
        ids = [a.id for a in artifacts]
        marks = ",".join("?" * len(ids))
        by_id = {a.id: a for a in artifacts}
        for aid, alias in self.db.execute(
            f"SELECT artifact_id, alias FROM aliases WHERE artifact_id IN ({marks}) ORDER BY alias", ids
        ):
            by_id[aid].aliases.append(alias)
        for src, dst in self.db.execute(f"SELECT src, dst FROM refs WHERE relation = 'ref' AND src IN ({marks}) ORDER BY dst", ids):
            by_id[src].refs.append(dst)
        return artifacts

    def get(self, artifact_id: str) -> Artifact | None:
        row = self.db.execute(f"SELECT {_COLUMNS} FROM artifacts WHERE id = ?", (artifact_id,)).fetchone()
        return self._decorate([self._row_to_artifact(row)])[0] if row else None

    def find_version(self, kind: str | None, name: str, version: int | None) -> list[Artifact]:
        """The given version, or the newest ready one, of a name (of every kind when kind is None)."""
        clauses, args = ["name = ?"], [name]
        if kind:
            clauses.append("kind = ?")
            args.append(kind)
        if version is None:
            clauses.append("state = 'ready'")
            query = (
                f"SELECT {_COLUMNS} FROM artifacts a WHERE {' AND '.join(clauses)} AND version = "
                "(SELECT MAX(version) FROM artifacts b WHERE b.kind = a.kind AND b.name = a.name AND b.state = 'ready')"
            )
        else:
            clauses.append("version = ?")
            args.append(version)
            query = f"SELECT {_COLUMNS} FROM artifacts WHERE {' AND '.join(clauses)}"
        return self._decorate([self._row_to_artifact(r) for r in self.db.execute(query, args)])

    def find_alias(self, kind: str | None, name: str, alias: str) -> list[Artifact]:
        query = "SELECT artifact_id FROM aliases WHERE name = ? AND alias = ?"
        args: list = [name, alias]
        if kind:
            query += " AND kind = ?"
            args.append(kind)
        return [a for (aid,) in self.db.execute(query, args).fetchall() if (a := self.get(aid))]

    def names_like(self, kind: str | None, name: str) -> list[str]:
        args: list = [name.lower()]
        query = "SELECT DISTINCT name FROM artifacts WHERE lower(name) = ?"
        if kind:
            query += " AND kind = ?"
            args.append(kind)
        return [n for (n,) in self.db.execute(query, args)]

    def list(self, kind: str | None = None, name: str | None = None, query: str | None = None,
             state: str | None = None, limit: int = 100, offset: int = 0, origin: str | None = None,
             job: str | None = None) -> tuple[list[Artifact], int]:
        """A page of artifacts, newest first. `origin`: "job" for what jobs made, "user" for the rest;
        `job`: only what that job (its full id) made."""
        clauses, args = [], []
        for column, value in (("kind", kind), ("name", name), ("state", state)):
            if value:
                clauses.append(f"{column} = ?")
                args.append(value)
        made_by_job = "json_extract(produced_by, '$.job_id')"
        if origin == "job":
            clauses.append(f"{made_by_job} IS NOT NULL")
        elif origin == "user":
            clauses.append(f"(produced_by IS NULL OR {made_by_job} IS NULL)")
        if job:
            clauses.append(f"{made_by_job} = ?")
            args.append(job)
        if query:
            # part of a name, an id, an alias, or a reference the faces show: NAME:vN, NAME:ALIAS, NAME:latest
            name_part, _, tag = query.rpartition(":")
            version = int(tag[1:]) if re.fullmatch(r"v\d{1,9}", tag) else None
            clauses.append("(name LIKE ? ESCAPE '\\' OR id = ? OR id IN (SELECT artifact_id FROM aliases WHERE alias = ?)"
                           " OR (name = ? AND (version = ? OR id IN (SELECT artifact_id FROM aliases a WHERE a.name = ?"
                           " AND a.alias = ? AND a.kind = artifacts.kind) OR (? = 'latest' AND version = (SELECT MAX(version) FROM artifacts l"
                           " WHERE l.name = artifacts.name AND l.kind = artifacts.kind)))))")
            escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            args.extend([f"%{escaped}%", query, query, name_part, version, name_part, tag, tag])
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        total = self.db.execute(f"SELECT COUNT(*) FROM artifacts {where}", args).fetchone()[0]
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM artifacts {where} ORDER BY created_at DESC, version DESC LIMIT ? OFFSET ?",
            [*args, limit, offset],
        ).fetchall()
        return self._decorate([self._row_to_artifact(r) for r in rows]), total

    def insert(self, db: sqlite3.Connection, artifact: Artifact, owner: str | None = None) -> None:
        db.execute(
            f"INSERT INTO artifacts ({_COLUMNS}, owner) VALUES ({','.join('?' * 17)})",
            (artifact.id, artifact.kind, artifact.name, artifact.version, artifact.state, artifact.digest,
             artifact.size, artifact.file_count, artifact.created_at, artifact.created_by,
             json.dumps(artifact.source), json.dumps(artifact.metadata),
             json.dumps(artifact.produced_by) if artifact.produced_by is not None else None,
             json.dumps(artifact.inputs), artifact.error,
             json.dumps(artifact.progress) if artifact.progress else None, owner),
        )

    def next_version(self, db: sqlite3.Connection, kind: str, name: str) -> int:
        """One more than any version this name was ever given (deleted ones included)."""
        row = db.execute(
            "SELECT MAX(v) FROM (SELECT MAX(version) AS v FROM artifacts WHERE kind = ? AND name = ? "
            "UNION ALL SELECT last FROM version_counters WHERE kind = ? AND name = ?)",
            (kind, name, kind, name)).fetchone()
        return (row[0] or 0) + 1

    @staticmethod
    def count_version(db: sqlite3.Connection, kind: str, name: str, version: int) -> None:
        """Remember that a version was given, so that it is never given again after a delete."""
        db.execute("INSERT INTO version_counters (kind, name, last) VALUES (?, ?, ?) "
                   "ON CONFLICT (kind, name) DO UPDATE SET last = MAX(last, excluded.last)", (kind, name, version))

    def set_progress(self, artifact_id: str, progress: dict) -> None:
        """Progress of an artifact being saved or fetched, for readers in other processes; a late
        report never touches an artifact that is published meanwhile."""
        with self.transaction() as db:
            db.execute("UPDATE artifacts SET progress = ? WHERE id = ? AND state IN ('pending', 'downloading')",
                       (json.dumps({**progress, "updated_at": time.time()}), artifact_id))

    def state(self, artifact_id: str) -> str | None:
        row = self.db.execute("SELECT state FROM artifacts WHERE id = ?", (artifact_id,)).fetchone()
        return row[0] if row else None

    def set_state(self, artifact_id: str, state: str, error: str | None = None) -> None:
        with self.transaction() as db:
            db.execute("UPDATE artifacts SET state = ?, error = ? WHERE id = ?", (state, error, artifact_id))

    def index_ready(self, db: sqlite3.Connection, artifact: Artifact, tree: str | None = None) -> None:
        """Record a published artifact's contents: its files, its blobs, its refs.

        `tree` is the manifest's key when known; then `artifact.manifest` is needed only if that
        manifest is not stored yet.
        """
        manifest = artifact.manifest or {}
        db.execute(
            "UPDATE artifacts SET state = 'ready', digest = ?, size = ?, file_count = ?, source = ?, "
            "metadata = ?, error = NULL, progress = NULL, owner = NULL WHERE id = ?",
            (artifact.digest, artifact.size, artifact.file_count, json.dumps(artifact.source),
             json.dumps(artifact.metadata), artifact.id),
        )
        aid = artifact.id
        tree = tree or tree_key(manifest, artifact.digest)
        self._unlink_tree(db, aid)
        db.execute("INSERT INTO artifact_trees (artifact_id, tree) VALUES (?, ?)", (aid, tree))
        if not self.has_tree(db, tree):
            db.executemany(
                "INSERT INTO tree_files (tree, path, digest, size, mode, link) VALUES (?, ?, ?, ?, ?, ?)",
                [(tree, path, e.get("digest"), e.get("size", 0), e["mode"], e.get("link"))
                 for path, e in manifest.items()],
            )
            # the blobs it uses, from the rows just written (no second pass over the manifest in
            # Python); a manifest already stored belongs to a live artifact, whose blobs are listed
            db.execute("INSERT OR IGNORE INTO blobs (digest, size) SELECT digest, size FROM tree_files "
                       "WHERE tree = ? AND digest IS NOT NULL", (tree,))
        db.executemany("INSERT OR IGNORE INTO refs (src, dst, relation) VALUES (?, ?, 'ref')",
                       ((artifact.id, dst) for dst in artifact.refs))
        db.executemany("INSERT OR IGNORE INTO refs (src, dst, relation) VALUES (?, ?, 'input')",
                       ((artifact.id, i["id"]) for i in artifact.inputs if i.get("id")))

    @staticmethod
    def has_tree(db: sqlite3.Connection, tree: str) -> bool:
        return db.execute("SELECT 1 FROM tree_files WHERE tree = ? LIMIT 1", (tree,)).fetchone() is not None

    def manifest(self, artifact_id: str, limit: int | None = None, offset: int = 0) -> dict[str, dict]:
        query = "SELECT path, digest, size, mode, link FROM files WHERE artifact_id = ? ORDER BY path"
        args: list = [artifact_id]
        if limit is not None:
            query += " LIMIT ? OFFSET ?"
            args += [limit, offset]
        manifest = {}
        for path, digest, size, mode, link in self.db.execute(query, args):
            manifest[path] = {"link": link, "mode": mode} if link is not None else {
                "digest": digest, "size": size, "mode": mode}
        return manifest

    def related(self, artifact_id: str, upstream: bool) -> list[tuple[str, str]]:
        """(other id, relation) of what an artifact refers to (upstream) or what refers to it."""
        column, other = ("src", "dst") if upstream else ("dst", "src")
        return self.db.execute(f"SELECT {other}, relation FROM refs WHERE {column} = ? ORDER BY {other}",
                               (artifact_id,)).fetchall()

    def entry(self, artifact_id: str, path: str) -> dict | None:
        """One path's manifest entry (a file's digest, size and mode, or a link), or None."""
        row = self.db.execute("SELECT digest, size, mode, link FROM files WHERE artifact_id = ? AND path = ?",
                              (artifact_id, path)).fetchone()
        if row is None:
            return None
        digest, size, mode, link = row
        return {"link": link, "mode": mode} if link is not None else {"digest": digest, "size": size, "mode": mode}

    def delete(self, db: sqlite3.Connection, artifact_id: str) -> None:
        for table, column in (("artifacts", "id"), ("aliases", "artifact_id"),
                              ("refs", "src"), ("leases", "artifact_id")):
            db.execute(f"DELETE FROM {table} WHERE {column} = ?", (artifact_id,))
        self._unlink_tree(db, artifact_id)

    @staticmethod
    def _unlink_tree(db: sqlite3.Connection, artifact_id: str) -> None:
        """Drop an artifact's pointer to its manifest, and the manifest once nothing points to it."""
        row = db.execute("SELECT tree FROM artifact_trees WHERE artifact_id = ?", (artifact_id,)).fetchone()
        if row is None:
            return
        db.execute("DELETE FROM artifact_trees WHERE artifact_id = ?", (artifact_id,))
        if db.execute("SELECT 1 FROM artifact_trees WHERE tree = ? LIMIT 1", row).fetchone() is None:
            db.execute("DELETE FROM tree_files WHERE tree = ?", row)

    @staticmethod
    def clear_files(db: sqlite3.Connection) -> None:
        """Forget every manifest (reindex rebuilds them)."""
        db.execute("DELETE FROM artifact_trees")
        db.execute("DELETE FROM tree_files")
        db.execute("DELETE FROM folder_saves")

    def unreferenced_blobs(self, digests: Iterable[str]) -> list[str]:
        return [d for d in set(digests)
                if self.db.execute("SELECT 1 FROM files WHERE digest = ? LIMIT 1", (d,)).fetchone() is None]

    def forget_blobs(self, db: sqlite3.Connection, digests: Iterable[str]) -> None:
        digests = list(digests)
        db.executemany("DELETE FROM blobs WHERE digest = ?", ((d,) for d in digests))
        # statcache has no index by digest (it would double the cost of remembering a snapshot's
        # stats): one pass over it, against the digests put in a temporary table
        db.execute("CREATE TEMP TABLE IF NOT EXISTS forgotten (digest TEXT PRIMARY KEY) WITHOUT ROWID")
        db.execute("DELETE FROM temp.forgotten")
        db.executemany("INSERT OR IGNORE INTO temp.forgotten (digest) VALUES (?)", ((d,) for d in digests))
        db.execute("DELETE FROM statcache WHERE digest IN (SELECT digest FROM temp.forgotten)")
        db.execute("DELETE FROM temp.forgotten")

    def usage(self) -> int:
        return self.db.execute("SELECT COALESCE(SUM(size), 0) FROM blobs").fetchone()[0]

    def artifacts_with_digest(self, digest: str) -> list[tuple[str, str]]:
        return self.db.execute(
            "SELECT artifact_id, path FROM files WHERE digest = ? ORDER BY artifact_id, path", (digest,)
        ).fetchall()

    def unfinished_versions(self) -> list[tuple[str, tuple[str, str, int]]]:
        """(id, (kind, name, version)) of every artifact not published (yet) on this machine."""
        return [(aid, (kind, name, version)) for aid, kind, name, version in self.db.execute(
            "SELECT id, kind, name, version FROM artifacts WHERE state NOT IN ('ready', 'deleting')")]

    def rebuild(self, records: list[Artifact], links: list[tuple[str, str]],
                aliases: list[tuple[str, str, str, str]], counters: dict[tuple[str, str], int]) -> None:
        """Replace the index of published artifacts with what was read from the root (reindex);
        saves in progress and failed fetches on this machine stay."""
        with self.transaction() as db:
            self.clear_files(db)
            for table in ("blobs", "refs", "aliases", "version_counters"):
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM artifacts WHERE state IN ('ready', 'deleting')")
            for artifact in records:
                db.execute("DELETE FROM artifacts WHERE id = ?", (artifact.id,))
                self.insert(db, artifact)
                self.index_ready(db, artifact)
            db.executemany("INSERT OR IGNORE INTO refs (src, dst, relation) VALUES (?, ?, 'ref')", links)
            db.executemany("INSERT OR REPLACE INTO aliases (kind, name, alias, artifact_id) VALUES (?, ?, ?, ?)", aliases)
            db.executemany("INSERT INTO version_counters (kind, name, last) VALUES (?, ?, ?)",
                           ((kind, name, last) for (kind, name), last in counters.items()))

    # -- leases ------------------------------------------------------------------------------
    def add_lease(self, lease_id: str, artifact_id: str, holder: str, owner: str | None) -> str | None:
        """Record a lease if the artifact is ready; returns the artifact's state (None: deleted)."""
        with self.transaction() as db:
            row = db.execute("SELECT state FROM artifacts WHERE id = ?", (artifact_id,)).fetchone()
            if row is not None and row[0] == "ready":
                db.execute("INSERT INTO leases (id, artifact_id, holder, owner, created_at) VALUES (?, ?, ?, ?, ?)",
                           (lease_id, artifact_id, holder, owner, time.time()))
        return row[0] if row else None

    def lease(self, lease_id: str) -> tuple[str, str, str | None] | None:
        """(artifact id, holder, owner) of a lease."""
        return self.db.execute("SELECT artifact_id, holder, owner FROM leases WHERE id = ?", (lease_id,)).fetchone()

    def remove_lease(self, lease_id: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM leases WHERE id = ?", (lease_id,))

    def leases_of(self, artifact_id: str) -> list[tuple[str, str, str | None]]:
        """(lease id, holder, owner) of every lease on an artifact."""
        return self.db.execute("SELECT id, holder, owner FROM leases WHERE artifact_id = ?", (artifact_id,)).fetchall()

    def all_leases(self) -> list[tuple[str, str, str, str | None]]:
        return self.db.execute("SELECT id, artifact_id, holder, owner FROM leases").fetchall()

    def mark_deleting(self, artifact_id: str, owner: str, alive: Callable[[str | None], bool]) -> str | None:
        """Mark an artifact as being deleted in one transaction (so a lease taken meanwhile is seen);
        else why not: 'gone', 'writing' (by a live process) or 'held' (a lease)."""
        with self.transaction() as db:
            row = db.execute("SELECT state, owner FROM artifacts WHERE id = ?", (artifact_id,)).fetchone()
            if row is None:
                return "gone"
            if row[0] in ("pending", "downloading") and alive(row[1]):
                return "writing"
            if db.execute("SELECT 1 FROM leases WHERE artifact_id = ?", (artifact_id,)).fetchone():
                return "held"
            db.execute("UPDATE artifacts SET state = 'deleting', owner = ? WHERE id = ?", (owner, artifact_id))
        return None

    def used_digests(self) -> set[str]:
        """Every digest a manifest of this catalog uses."""
        return {d for (d,) in self.db.execute("SELECT DISTINCT digest FROM tree_files WHERE digest IS NOT NULL")}

    def indexed_blobs(self) -> list[str]:
        return [d for (d,) in self.db.execute("SELECT digest FROM blobs")]

    # -- a shared root's view ----------------------------------------------------------------
    def sync_value(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_sync_values(self, db: sqlite3.Connection, **values: object) -> None:
        db.executemany("INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)",
                       ((k, str(v)) for k, v in values.items()))

    def seen_entries(self, keys: Iterable[str]) -> set[str]:
        keys = list(keys)
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            found.update(k for (k,) in self.db.execute(
                f"SELECT key FROM journal_seen WHERE key IN ({','.join('?' * len(chunk))})", chunk))
        return found

    @staticmethod
    def mark_seen(db: sqlite3.Connection, entries: Iterable[tuple[str, int]], forget_before: int) -> None:
        db.executemany("INSERT OR IGNORE INTO journal_seen (key, millis) VALUES (?, ?)", entries)
        db.execute("DELETE FROM journal_seen WHERE millis < ?", (forget_before,))

    def version_holders(self) -> dict[tuple[str, str, int], str]:
        """(kind, name, version) -> id of every artifact this machine knows, in any state."""
        return {(kind, name, version): aid for aid, kind, name, version in
                self.db.execute("SELECT id, kind, name, version FROM artifacts")}

    def ready_names(self) -> dict[str, tuple[str, str]]:
        return {aid: (kind, name) for aid, kind, name in
                self.db.execute("SELECT id, kind, name FROM artifacts WHERE state = 'ready'")}

    def ready_ids(self) -> set[str]:
        return {aid for (aid,) in self.db.execute("SELECT id FROM artifacts WHERE state = 'ready'")}

    def index_published(self, db: sqlite3.Connection, artifact: Artifact) -> None:
        """A record published elsewhere (an import, another host, another process here): its row
        (instead of this machine's unfinished one, if any), files and version."""
        self.count_version(db, artifact.kind, artifact.name, artifact.version)
        db.execute("DELETE FROM artifacts WHERE id = ?", (artifact.id,))
        self.insert(db, artifact)
        self.index_ready(db, artifact)

    def drop(self, db: sqlite3.Connection, artifact_id: str) -> None:
        """Forget an artifact deleted elsewhere, and the blobs it alone used (for the quota)."""
        digests = [d for (d,) in db.execute(
            "SELECT DISTINCT digest FROM files WHERE artifact_id = ? AND digest IS NOT NULL", (artifact_id,))]
        self.delete(db, artifact_id)
        unused = [d for d in digests
                  if db.execute("SELECT 1 FROM files WHERE digest = ? LIMIT 1", (d,)).fetchone() is None]
        db.executemany("DELETE FROM blobs WHERE digest = ?", ((d,) for d in unused))

    @staticmethod
    def set_alias(db: sqlite3.Connection, kind: str, name: str, alias: str, artifact_id: str | None) -> None:
        """Point an alias at an artifact, or remove it (None)."""
        if artifact_id is None:
            db.execute("DELETE FROM aliases WHERE kind = ? AND name = ? AND alias = ?", (kind, name, alias))
        else:
            db.execute("INSERT OR REPLACE INTO aliases (kind, name, alias, artifact_id) VALUES (?, ?, ?, ?)",
                       (kind, name, alias, artifact_id))

    def alias_target(self, kind: str, name: str, alias: str) -> str | None:
        row = self.db.execute("SELECT artifact_id FROM aliases WHERE kind = ? AND name = ? AND alias = ?",
                              (kind, name, alias)).fetchone()
        return row[0] if row else None

    def aliases_of(self, artifact_id: str) -> list[tuple[str, str, str]]:
        """(kind, name, alias) of every alias pointing at an artifact."""
        return self.db.execute("SELECT kind, name, alias FROM aliases WHERE artifact_id = ?", (artifact_id,)).fetchall()

    @staticmethod
    def set_ref(db: sqlite3.Connection, src: str, dst: str, present: bool) -> None:
        if present:
            db.execute("INSERT OR IGNORE INTO refs (src, dst, relation) VALUES (?, ?, 'ref')", (src, dst))
        else:
            db.execute("DELETE FROM refs WHERE src = ? AND dst = ? AND relation = 'ref'", (src, dst))

    def all_aliases(self) -> list[tuple[str, str, str, str]]:
        return self.db.execute("SELECT kind, name, alias, artifact_id FROM aliases ORDER BY kind, name, alias").fetchall()

    def all_links(self) -> list[tuple[str, str]]:
        return self.db.execute("SELECT src, dst FROM refs WHERE relation = 'ref' ORDER BY src, dst").fetchall()

    def counters(self) -> dict[tuple[str, str], int]:
        """The highest version given to each (kind, name), deleted ones included."""
        found: dict[tuple[str, str], int] = {}
        for kind, name, last in self.db.execute(
                "SELECT kind, name, MAX(version) FROM artifacts GROUP BY kind, name "
                "UNION ALL SELECT kind, name, last FROM version_counters"):
            found[(kind, name)] = max(found.get((kind, name), 0), last)
        return found

    def replace_pointers(self, db: sqlite3.Connection, links: list[tuple[str, str]],
                         aliases: list[tuple[str, str, str, str]], counters: dict[tuple[str, str], int]) -> None:
        """Every alias as the root has them, and its added links (a full sync)."""
        db.execute("DELETE FROM aliases")
        db.executemany("INSERT OR IGNORE INTO refs (src, dst, relation) VALUES (?, ?, 'ref')", links)
        db.executemany("INSERT OR REPLACE INTO aliases (kind, name, alias, artifact_id) VALUES (?, ?, ?, ?)", aliases)
        for (kind, name), last in counters.items():
            self.count_version(db, kind, name, last)

    def unfinished(self) -> list[tuple[str, str, str | None]]:
        return self.db.execute(
            "SELECT id, state, owner FROM artifacts WHERE state IN ('pending', 'downloading', 'deleting')"
        ).fetchall()

    # -- stat cache ------------------------------------------------------------------------
    def statcache_under(self, folder: str) -> dict[str, StatRow]:
        low = folder.rstrip("/") + "/"
        high = folder.rstrip("/") + "0"  # '0' sorts right after '/'
        rows = self.db.execute(
            "SELECT path, inode, size, mtime_ns, ctime_ns, digest FROM statcache WHERE path >= ? AND path < ?",
            (low, high)).fetchall()
        return {row[0]: StatRow(*row) for row in rows}

    def remember_stats(self, rows: list[tuple[str, int, int, int, int, str]],
                       save: tuple[str, str, str, str, int] | None = None) -> None:
        """Remember files' stats and digests, and a folder's last save: (folder, fingerprint of its walk,
        artifact id, tree key, length of the manifest's encoding at the end of the record)."""
        if not rows and save is None:
            return
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO statcache VALUES (?, ?, ?, ?, ?, ?)", rows)
            if save is not None:
                db.execute("INSERT OR REPLACE INTO folder_saves VALUES (?, ?, ?, ?, ?)", save)

    def last_save(self, folder: str, fingerprint: str) -> tuple[str, str, str, int, int, int] | None:
        """(artifact id, tree key, digest, size, file count, manifest length) of a folder's last save,
        if its walk had this fingerprint and that artifact is still ready (so the tree's blobs are stored)."""
        return self.db.execute(
            "SELECT s.artifact_id, s.tree, a.digest, a.size, a.file_count, s.manifest_bytes FROM folder_saves s "
            "JOIN artifacts a ON a.id = s.artifact_id AND a.state = 'ready' WHERE s.folder = ? AND s.fingerprint = ?",
            (folder, fingerprint)).fetchone()
