"""The SQLite catalog: a fast, rebuildable index of the root, plus local state (leases, stat cache).

Everything in the `artifacts`, `aliases`, `refs`, `trees`, `chunks`, `tree_chunks`, `artifact_trees`
and `blob_refs` tables can be rebuilt from the root (`Store.reindex`); `leases`, `last_saves` and
`save_stats` describe this machine only.

A manifest is kept as its chunks (manifests.py: canonical lines, compressed), each distinct chunk
once (`chunks`), each distinct tree once (`trees`, `tree_chunks`), and artifacts point to their
tree (`artifact_trees`): saving an unchanged folder again adds one row, a folder with a few changes
a few chunks, and nothing is one row per file but `blob_refs` (how many entries of stored chunks
use each blob: the quota's count, and which blobs a delete frees).

The stat cache is each folder's last save (`last_saves`) with the inode and times of every entry
when it was saved (`save_stats`, a chunk for each of its tree's): a walk in path order is matched
against it entry by entry, and while that artifact is ready its blobs are stored.
"""

from __future__ import annotations

import binascii
import json
import os
import re
import sqlite3
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager

from .. import database
from .manifests import Chunk, Spool, Tree, compress, decode, decompress, record_body
from .records import Artifact
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
CREATE TABLE IF NOT EXISTS trees (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, key BLOB NOT NULL UNIQUE, first TEXT NOT NULL, entries INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS tree_chunks (
    tree INTEGER NOT NULL, seq INTEGER NOT NULL, chunk INTEGER NOT NULL, PRIMARY KEY (tree, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tree_chunks_by_chunk ON tree_chunks (chunk);
CREATE TABLE IF NOT EXISTS artifact_trees (artifact_id TEXT PRIMARY KEY, tree INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS artifact_trees_by_tree ON artifact_trees (tree);
CREATE TABLE IF NOT EXISTS blob_refs (digest BLOB PRIMARY KEY, size INTEGER NOT NULL, refs INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leases (
    id TEXT PRIMARY KEY, artifact_id TEXT NOT NULL, holder TEXT NOT NULL,
    owner TEXT, created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS leases_by_artifact ON leases (artifact_id);
CREATE TABLE IF NOT EXISTS version_counters (
    kind TEXT NOT NULL, name TEXT NOT NULL, last INTEGER NOT NULL, PRIMARY KEY (kind, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS journal_seen (key TEXT PRIMARY KEY, millis INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS last_saves (
    folder TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, artifact_id TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS last_saves_by_artifact ON last_saves (artifact_id);
CREATE TABLE IF NOT EXISTS save_stats (
    artifact_id TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (artifact_id, seq)
);
"""
# A catalog of the former layout (a row per file of every manifest, and a stat cache row per file)
# loses those tables when opened; Store rebuilds its index from the root (reindex).
FORMER_TABLES = ("files", "tree_files", "artifact_trees", "blobs", "statcache", "folder_saves")
_FILE = re.compile(rb'"digest":"blake3:([0-9a-f]{64})","mode":[0-9]+,"size":([0-9]+)')

_COLUMNS = (
    "id, kind, name, version, state, digest, size, file_count, created_at, created_by, source, "
    "metadata, produced_by, inputs, error, progress"
)


class Catalog:
    """One SQLite file in WAL mode; one connection per thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self._local = threading.local()
        self.former_layout = False  # opened with a row per file: the store reindexes it
        if not self.read_only:
            self.former_layout = self._drop_former_layout()
            self.db.executescript(SCHEMA)

    def _drop_former_layout(self) -> bool:
        """Drop the tables of the former layout (a row per file of every manifest); True if there were any."""
        if self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'tree_files'").fetchone() is None:
            return False
        with self.transaction() as db:
            db.execute("DROP VIEW IF EXISTS files")
            for table in FORMER_TABLES[1:]:
                db.execute(f"DROP TABLE IF EXISTS {table}")
        return True

    @property
    def read_only(self) -> bool:
        """Opened read-only because the disk is full: reads work, writes fail."""
        return database.is_read_only(self.db)

    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = database.connect(self.path)
            # A new tree adds a blob_refs row per new blob, at random places in its index: with
            # SQLite's default 2 MB page cache most of those inserts re-read index pages. The cache
            # grows only as pages are used.
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

    def index_ready(self, db: sqlite3.Connection, artifact: Artifact, tree: Tree) -> None:
        """Record a published artifact's contents: its tree (stored once: see the module's
        docstring), its refs."""
        db.execute(
            "UPDATE artifacts SET state = 'ready', digest = ?, size = ?, file_count = ?, source = ?, "
            "metadata = ?, error = NULL, progress = NULL, owner = NULL WHERE id = ?",
            (artifact.digest, artifact.size, artifact.file_count, json.dumps(artifact.source),
             json.dumps(artifact.metadata), artifact.id),
        )
        self._unlink_tree(db, artifact.id)
        db.execute("INSERT INTO artifact_trees (artifact_id, tree) VALUES (?, ?)",
                   (artifact.id, self._store_tree(db, tree)))
        db.executemany("INSERT OR IGNORE INTO refs (src, dst, relation) VALUES (?, ?, 'ref')",
                       ((artifact.id, dst) for dst in artifact.refs))
        db.executemany("INSERT OR IGNORE INTO refs (src, dst, relation) VALUES (?, ?, 'input')",
                       ((artifact.id, i["id"]) for i in artifact.inputs if i.get("id")))

    @staticmethod
    def _store_tree(db: sqlite3.Connection, tree: Tree) -> int:
        """The id of a tree, stored with the chunks not stored yet (and their blobs counted)."""
        row = db.execute("SELECT id FROM trees WHERE key = ?", (tree.key,)).fetchone()
        if row is not None:
            return row[0]
        tree_id = db.execute("INSERT INTO trees (key) VALUES (?)", (tree.key,)).lastrowid
        for seq, (ref, text) in enumerate(tree.chunks()):
            found = db.execute("SELECT id FROM chunks WHERE key = ?", (ref.key,)).fetchone()
            if found is None:
                chunk_id = db.execute("INSERT INTO chunks (key, first, entries, data) VALUES (?, ?, ?, ?)",
                                      (ref.key, ref.first, ref.count, compress(text))).lastrowid
                db.executemany("INSERT INTO blob_refs (digest, size, refs) VALUES (?, ?, 1) "
                               "ON CONFLICT (digest) DO UPDATE SET refs = refs + 1", _blob_rows(text))
            else:
                chunk_id = found[0]
            db.execute("INSERT INTO tree_chunks (tree, seq, chunk) VALUES (?, ?, ?)", (tree_id, seq, chunk_id))
        return tree_id

    # -- reading manifests -----------------------------------------------------------------
    def tree_of(self, artifact_id: str) -> tuple[int, str] | None:
        """(id, key) of an artifact's tree."""
        return self.db.execute("SELECT t.id, t.key FROM artifact_trees a JOIN trees t ON t.id = a.tree "
                               "WHERE a.artifact_id = ?", (artifact_id,)).fetchone()

    def chunk_list(self, artifact_id: str) -> list[tuple[int, bytes, str, int]]:
        """(chunk id, chunk key, first path, entries) of each chunk of an artifact's tree, in order."""
        return self.db.execute(
            "SELECT c.id, c.key, c.first, c.entries FROM artifact_trees a JOIN tree_chunks t ON t.tree = a.tree "
            "JOIN chunks c ON c.id = t.chunk WHERE a.artifact_id = ? ORDER BY t.seq", (artifact_id,)).fetchall()

    def chunk_text(self, chunk_id: int) -> bytes:
        """A chunk's canonical lines."""
        row = self.db.execute("SELECT data FROM chunks WHERE id = ?", (chunk_id,)).fetchone()
        if row is None:
            raise LookupError(f"chunk {chunk_id} is gone")
        return decompress(row[0])

    def texts(self, artifact_id: str, skip: int = 0) -> Iterator[tuple[int, bytes]]:
        """(index of its first entry, canonical lines) of each chunk of an artifact's tree, in
        path order, from the chunk that holds entry `skip` on; one chunk in memory at a time."""
        start = 0
        for chunk_id, _key, _first, entries in self.chunk_list(artifact_id):
            if start + entries > skip:
                yield start, self.chunk_text(chunk_id)
            start += entries

    def body(self, artifact_id: str) -> Iterator[bytes]:
        """An artifact's manifest as its record holds it, a chunk at a time."""
        return record_body(text for _start, text in self.texts(artifact_id))

    def batches(self, artifact_id: str) -> Iterator[dict[str, dict]]:
        """An artifact's entries in path order, a chunk at a time."""
        for _start, text in self.texts(artifact_id):
            yield decode(text)

    def page(self, artifact_id: str, offset: int = 0, limit: int | None = None) -> Iterator[tuple[str, dict]]:
        """(path, entry) from the `offset`th entry in path order, at most `limit` of them; only
        the chunks that hold them are read."""
        left = limit
        for start, text in self.texts(artifact_id, offset):
            for path, entry in list(decode(text).items())[max(0, offset - start):]:
                if left is not None:
                    if left <= 0:
                        return
                    left -= 1
                yield path, entry

    def manifest(self, artifact_id: str, limit: int | None = None, offset: int = 0) -> dict[str, dict]:
        """An artifact's entries (a page of them with `limit`) at once: for small artifacts and pages."""
        return dict(self.page(artifact_id, offset, limit))

    def tree(self, artifact_id: str, folder: str | None = None) -> Tree | None:
        """An artifact's tree, its chunks copied into a spool under `folder` (so that it outlives
        the artifact, or is published again)."""
        found = self.tree_of(artifact_id)
        row = self.db.execute("SELECT digest, size, file_count FROM artifacts WHERE id = ?", (artifact_id,)).fetchone()
        if found is None or row is None:
            return None
        spool = Spool(folder)
        try:
            for chunk_id, key, first, entries in self.chunk_list(artifact_id):
                spool.add(Chunk(key, first, entries, self.chunk_text(chunk_id)))
        except BaseException:
            spool.close()
            raise
        return Tree(row[0], row[1], row[2], found[1], spool)

    def related(self, artifact_id: str, upstream: bool) -> list[tuple[str, str]]:
        """(other id, relation) of what an artifact refers to (upstream) or what refers to it."""
        column, other = ("src", "dst") if upstream else ("dst", "src")
        return self.db.execute(f"SELECT {other}, relation FROM refs WHERE {column} = ? ORDER BY {other}",
                               (artifact_id,)).fetchall()

    def entry(self, artifact_id: str, path: str) -> dict | None:
        """One path's manifest entry (a file's digest, size and mode, or a link), or None."""
        row = self.db.execute(
            "SELECT c.data FROM artifact_trees a JOIN tree_chunks t ON t.tree = a.tree JOIN chunks c ON c.id = t.chunk "
            "WHERE a.artifact_id = ? AND c.first <= ? ORDER BY t.seq DESC LIMIT 1", (artifact_id, path)).fetchone()
        return None if row is None else decode(decompress(row[0])).get(path)

    def delete(self, db: sqlite3.Connection, artifact_id: str) -> None:
        """Forget an artifact; blobs its tree alone used go into `temp.freed` (see freed_blobs)."""
        for table, column in (("artifacts", "id"), ("aliases", "artifact_id"), ("refs", "src"),
                              ("leases", "artifact_id"), ("last_saves", "artifact_id"), ("save_stats", "artifact_id")):
            db.execute(f"DELETE FROM {table} WHERE {column} = ?", (artifact_id,))
        self._unlink_tree(db, artifact_id)

    def _unlink_tree(self, db: sqlite3.Connection, artifact_id: str) -> None:
        """Drop an artifact's pointer to its tree; the tree once nothing points to it, and then its
        chunks no other tree uses, uncounting their blobs."""
        row = db.execute("SELECT tree FROM artifact_trees WHERE artifact_id = ?", (artifact_id,)).fetchone()
        if row is None:
            return
        db.execute("DELETE FROM artifact_trees WHERE artifact_id = ?", (artifact_id,))
        if db.execute("SELECT 1 FROM artifact_trees WHERE tree = ? LIMIT 1", row).fetchone() is not None:
            return
        chunk_ids = [c for (c,) in db.execute("SELECT DISTINCT chunk FROM tree_chunks WHERE tree = ?", row)]
        db.execute("DELETE FROM tree_chunks WHERE tree = ?", row)
        db.execute("DELETE FROM trees WHERE id = ?", row)
        self._temp_tables(db)
        for chunk_id in chunk_ids:
            if db.execute("SELECT 1 FROM tree_chunks WHERE chunk = ? LIMIT 1", (chunk_id,)).fetchone() is not None:
                continue
            (data,) = db.execute("DELETE FROM chunks WHERE id = ? RETURNING data", (chunk_id,)).fetchone()
            db.execute("DELETE FROM temp.released")
            db.executemany("INSERT INTO temp.released (digest, size, n) VALUES (?, ?, 1) "
                           "ON CONFLICT (digest) DO UPDATE SET n = n + 1", _blob_rows(decompress(data)))
            db.execute("UPDATE blob_refs SET refs = refs - (SELECT n FROM temp.released r WHERE r.digest = blob_refs.digest) "
                       "WHERE digest IN (SELECT digest FROM temp.released)")
            db.execute("INSERT OR IGNORE INTO temp.freed (digest, size) SELECT digest, size FROM blob_refs "
                       "WHERE refs <= 0 AND digest IN (SELECT digest FROM temp.released)")
            db.execute("DELETE FROM blob_refs WHERE refs <= 0 AND digest IN (SELECT digest FROM temp.released)")

    @staticmethod
    def _temp_tables(db: sqlite3.Connection) -> None:
        db.execute("CREATE TEMP TABLE IF NOT EXISTS released (digest BLOB PRIMARY KEY, size INTEGER, n INTEGER) WITHOUT ROWID")
        db.execute("CREATE TEMP TABLE IF NOT EXISTS freed (digest BLOB PRIMARY KEY, size INTEGER) WITHOUT ROWID")

    def freed_blobs(self, batch: int = 4096) -> Iterator[list[tuple[str, int]]]:
        """(digest, size) of blobs deleted artifacts used and nothing uses now, a batch at a time;
        each batch is forgotten once the next is asked for (a blob counted again meanwhile, by a
        save since the delete, is left out)."""
        self._temp_tables(self.db)
        while True:
            rows = self.db.execute(
                "SELECT digest, size FROM temp.freed f WHERE NOT EXISTS "
                "(SELECT 1 FROM blob_refs r WHERE r.digest = f.digest) ORDER BY digest LIMIT ?", (batch,)).fetchall()
            if not rows:
                self.db.execute("DELETE FROM temp.freed")
                return
            yield [(f"blake3:{digest.hex()}", size) for digest, size in rows]
            self.db.executemany("DELETE FROM temp.freed WHERE digest = ?", ((d,) for d, _ in rows))

    def forget_freed(self) -> None:
        """Leave the blobs of deleted artifacts to gc (a save was running)."""
        self._temp_tables(self.db)
        self.db.execute("DELETE FROM temp.freed")

    def clear_files(self, db: sqlite3.Connection) -> None:
        """Forget every manifest and every folder's last save (reindex rebuilds the trees)."""
        for table in ("artifact_trees", "tree_chunks", "trees", "chunks", "blob_refs", "last_saves", "save_stats"):
            db.execute(f"DELETE FROM {table}")

    def usage(self) -> int:
        return self.db.execute("SELECT COALESCE(SUM(size), 0) FROM blob_refs").fetchone()[0]

    def artifacts_with_digest(self, digest: str) -> list[tuple[str, str]]:
        """(artifact id, path) of every entry with this content: the chunks that hold it are found
        by searching their lines (`find` is rare; nothing is kept per file for it)."""
        if self.db.execute("SELECT 1 FROM blob_refs WHERE digest = ?", (_raw(digest),)).fetchone() is None:
            return []
        needle = f'"digest":"{digest}"'.encode()
        found = []
        for chunk_id, data in self.db.execute("SELECT id, data FROM chunks").fetchall():
            text = decompress(data)
            if needle not in text:
                continue
            paths = [p for p, e in decode(text).items() if e.get("digest") == digest]
            for (artifact_id,) in self.db.execute(
                    "SELECT DISTINCT a.artifact_id FROM tree_chunks t JOIN artifact_trees a ON a.tree = t.tree "
                    "WHERE t.chunk = ?", (chunk_id,)):
                found.extend((artifact_id, p) for p in paths)
        return sorted(found)

    def unfinished_versions(self) -> list[tuple[str, tuple[str, str, int]]]:
        """(id, (kind, name, version)) of every artifact not published (yet) on this machine."""
        return [(aid, (kind, name, version)) for aid, kind, name, version in self.db.execute(
            "SELECT id, kind, name, version FROM artifacts WHERE state NOT IN ('ready', 'deleting')")]

    def clear_index(self, db: sqlite3.Connection) -> None:
        """Forget every published artifact, its tree and pointers (reindex adds them again from the
        root); saves in progress and failed fetches on this machine stay."""
        self.clear_files(db)
        for table in ("refs", "aliases", "version_counters"):
            db.execute(f"DELETE FROM {table}")
        db.execute("DELETE FROM artifacts WHERE state IN ('ready', 'deleting')")

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
        """Every digest a stored tree uses."""
        return {f"blake3:{d.hex()}" for (d,) in self.db.execute("SELECT digest FROM blob_refs")}

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

    def index_published(self, db: sqlite3.Connection, artifact: Artifact, tree: Tree) -> None:
        """A record published elsewhere (an import, another host, another process here): its row
        (instead of this machine's unfinished one, if any), tree and version."""
        self.count_version(db, artifact.kind, artifact.name, artifact.version)
        db.execute("DELETE FROM artifacts WHERE id = ?", (artifact.id,))
        self.insert(db, artifact)
        self.index_ready(db, artifact, tree)

    def drop(self, db: sqlite3.Connection, artifact_id: str) -> None:
        """Forget an artifact deleted elsewhere (its blobs stop counting for the quota; another
        host's gc removes them)."""
        self.delete(db, artifact_id)
        self._temp_tables(db)
        db.execute("DELETE FROM temp.freed")

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

    # -- each folder's last save (the stat cache) ------------------------------------------
    def last_save(self, folder: str) -> tuple[str, str] | None:
        """(artifact id, fingerprint of its walk) of a folder's last save, if that artifact is still
        ready (so its tree's blobs are stored) and its stats are whole."""
        return self.db.execute(
            "SELECT s.artifact_id, s.fingerprint FROM last_saves s JOIN artifacts a ON a.id = s.artifact_id "
            "AND a.state = 'ready' WHERE s.folder = ? AND (SELECT COUNT(*) FROM save_stats t WHERE t.artifact_id = "
            "s.artifact_id) = (SELECT COUNT(*) FROM artifact_trees m JOIN tree_chunks c ON c.tree = m.tree "
            "WHERE m.artifact_id = s.artifact_id)", (folder,)).fetchone()

    def stats_entry(self, artifact_id: str, path: str) -> tuple[dict, int, int, int] | None:
        """(entry, inode, mtime_ns, ctime_ns) of one path of a saved tree, or None."""
        row = self.db.execute(
            "SELECT t.seq, c.data FROM artifact_trees a JOIN tree_chunks t ON t.tree = a.tree JOIN chunks c "
            "ON c.id = t.chunk WHERE a.artifact_id = ? AND c.first <= ? ORDER BY t.seq DESC LIMIT 1",
            (artifact_id, path)).fetchone()
        if row is None:
            return None
        paths = list(decode(decompress(row[1])).items())
        index = next((i for i, (p, _e) in enumerate(paths) if p == path), None)
        stats = self.db.execute("SELECT data FROM save_stats WHERE artifact_id = ? AND seq = ?",
                                (artifact_id, row[0])).fetchone()
        if index is None or stats is None:
            return None
        numbers = array("q", decompress(stats[0]))
        return paths[index][1], numbers[3 * index], numbers[3 * index + 1], numbers[3 * index + 2]

    def save_stats(self, artifact_id: str) -> Iterator[array]:
        """The inode, mtime_ns and ctime_ns of each entry of a saved tree, a chunk at a time."""
        for (seq,) in self.db.execute("SELECT seq FROM save_stats WHERE artifact_id = ? ORDER BY seq",
                                      (artifact_id,)).fetchall():
            (data,) = self.db.execute("SELECT data FROM save_stats WHERE artifact_id = ? AND seq = ?",
                                      (artifact_id, seq)).fetchone()
            yield array("q", decompress(data))

    def remember_save(self, folder: str, fingerprint: str, artifact_id: str, stats: Iterable[bytes] | None) -> None:
        """A folder's last save, with the stats of its entries (a compressed chunk for each of its
        tree's); None: the same as the folder's previous save (an unchanged folder saved again)."""
        with self.transaction() as db:
            previous = db.execute("SELECT artifact_id FROM last_saves WHERE folder = ?", (folder,)).fetchone()
            if previous is not None and previous[0] != artifact_id:
                if stats is None:
                    db.execute("UPDATE save_stats SET artifact_id = ? WHERE artifact_id = ?", (artifact_id, previous[0]))
                else:
                    db.execute("DELETE FROM save_stats WHERE artifact_id = ?", previous)
            if stats is not None:
                db.executemany("INSERT OR REPLACE INTO save_stats (artifact_id, seq, data) VALUES (?, ?, ?)",
                               ((artifact_id, seq, data) for seq, data in enumerate(stats)))
            db.execute("INSERT OR REPLACE INTO last_saves (folder, fingerprint, artifact_id) VALUES (?, ?, ?)",
                       (folder, fingerprint, artifact_id))


class Changes:
    """The entries that differ between two artifacts' trees, in path order: (change, path, entry
    in a, entry in b), change one of added, removed, changed. Where both sides reach a chunk they
    share, it is skipped whole (chunk boundaries depend on paths only, so the two sides meet at
    one again after each change); `unchanged` counts the same entries, once iterated."""

    def __init__(self, catalog: Catalog, a: str, b: str) -> None:
        self.catalog = catalog
        self.sides = (catalog.chunk_list(a), catalog.chunk_list(b))
        self.unchanged = 0

    def __iter__(self) -> Iterator[tuple[str, str, dict | None, dict | None]]:
        chunks_a, chunks_b = self.sides
        ia = ib = pa = pb = 0
        ea: list | None = None
        eb: list | None = None
        while True:
            if ea is None and eb is None:
                while ia < len(chunks_a) and ib < len(chunks_b) and chunks_a[ia][1] == chunks_b[ib][1]:
                    self.unchanged += chunks_a[ia][3]
                    ia, ib = ia + 1, ib + 1
            if ea is None and ia < len(chunks_a):
                ea, pa = list(decode(self.catalog.chunk_text(chunks_a[ia][0])).items()), 0
            if eb is None and ib < len(chunks_b):
                eb, pb = list(decode(self.catalog.chunk_text(chunks_b[ib][0])).items()), 0
            if ea is None and eb is None:
                return
            path_a, entry_a = ea[pa] if ea is not None else (None, None)
            path_b, entry_b = eb[pb] if eb is not None else (None, None)
            if path_b is None or (path_a is not None and path_a < path_b):
                yield "removed", path_a, entry_a, None
                step_a, step_b = True, False
            elif path_a is None or path_b < path_a:
                yield "added", path_b, None, entry_b
                step_a, step_b = False, True
            else:
                if entry_a == entry_b:
                    self.unchanged += 1
                else:
                    yield "changed", path_a, entry_a, entry_b
                step_a = step_b = True
            if step_a:
                pa += 1
                if pa == len(ea):
                    ea, ia = None, ia + 1
            if step_b:
                pb += 1
                if pb == len(eb):
                    eb, ib = None, ib + 1


def _raw(digest: str) -> bytes:
    return bytes.fromhex(digest[7:])


def _blob_rows(text: bytes) -> list[tuple[bytes, int]]:
    """(raw digest, size) of each file entry of a chunk's lines, by digest (inserted in order, the
    index's pages are visited once each)."""
    return sorted((binascii.unhexlify(h), int(size)) for h, size in _FILE.findall(text))
