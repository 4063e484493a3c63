"""The store: every operation on artifacts, called by every face (CLI, REST, magics, SDK, jobs)."""

from __future__ import annotations

import errno
import fcntl
import getpass
import json
import logging
import os
import sqlite3
import time
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from .. import database, procs
from ..errors import Conflict, DiskFull, InUse, InvalidInput, LimitExceeded, NotFound, QuotaExceeded, quote
from .catalog import Catalog
from .digest import hash_file
from .materialize import check_destination, materialize
from .names import KINDS, Ref, check_alias, check_kind, check_name, is_artifact_id, parse_ref
from .records import Artifact, Tree, dumps, manifest_in_record
from .roots import CONTENT_FOLDERS, open_root, random_id
from .settings import StoreSettings, default_catalog_path, format_size
from .snapshot import Progress, scan, store_files, walk
from .validation import InvalidRecord, check_alias_doc, check_metadata, check_record


T = TypeVar("T")
log = logging.getLogger("jupyter_artifacts")


def record_path(artifact_id: str) -> str:
    return f"artifacts/{artifact_id}.json"


def alias_path(kind: str, name: str, alias: str) -> str:
    return f"aliases/{kind}/{name}/{alias}.json"


def link_path(src: str, dst: str) -> str:
    return f"links/{src}/{dst}.json"


def version_path(kind: str, name: str, version: int) -> str:
    """A version's claim: made once, by exclusive create, and never removed, so that a version
    number is never given twice, even after a delete (reindex reads the counters back from these)."""
    return f"versions/{kind}/{name}/{version:010d}.json"


def _is_disk_full(exc: BaseException, catalog: Catalog) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return isinstance(exc, sqlite3.OperationalError) and (
        "full" in str(exc) or ("readonly" in str(exc) and catalog.read_only))


def disk_full(where: str, advice: str = "free space or run `jupyter artifacts gc`") -> DiskFull:
    """A full disk is the user's to fix, not a traceback: one line that says where and what to do."""
    return DiskFull(f"The disk is full at {where}: {advice}.", path=where)


def writes_to_store(method: Callable[..., T]) -> Callable[..., T]:
    """A store method that writes: a full disk is reported in one line, and blobs that the failed
    write left behind are removed if no other save is running (else `gc` removes them)."""
    @functools.wraps(method)
    def wrapper(self: "Store", *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except (OSError, sqlite3.OperationalError) as exc:
            if not _is_disk_full(exc, self.catalog):
                raise
            self.collect_orphans()
            raise disk_full(self.root.url) from None

    return wrapper


def _inside(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:
        return False


def _empty_message(path: str) -> str:
    return f"{path} is empty: put the files to save in it first."


def current_user() -> str:
    return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()


class Store:
    """Artifacts in one storage root, indexed by one catalog."""

    def __init__(self, settings: StoreSettings | None = None, **overrides: Any) -> None:
        settings = settings or StoreSettings()
        for key, value in overrides.items():
            setattr(settings, key, value)
        self.settings = settings
        try:
            self.root = open_root(settings.root, settings.storage_options)
            self.catalog = Catalog(settings.catalog_path or default_catalog_path(
                self.root.url, self.root.is_local, self.root.local_folder()))
        except (OSError, sqlite3.OperationalError) as exc:
            if isinstance(exc, OSError) and exc.errno not in (errno.ENOSPC, errno.EDQUOT) \
                    or isinstance(exc, sqlite3.OperationalError) and not database.disk_is_full(
                        settings.catalog_path or os.path.join(str(settings.root), "catalog.sqlite")):
                raise
            raise disk_full(settings.root, "free space there first") from None
        self._lock_path = os.path.join(self.state_dir, "blobs.lock")
        self._recover()

    @property
    def state_dir(self) -> str:
        """This machine's folder for the store: its catalog, locks, staging and jobs' working folders."""
        return os.path.dirname(os.path.abspath(self.catalog.path))

    # -- references ------------------------------------------------------------------------
    def resolve(self, ref: str | Ref, kind: str | None = None) -> Artifact:
        """Find the artifact a reference names; a clear NotFound otherwise."""
        if kind:
            check_kind(kind)
        parsed = ref if isinstance(ref, Ref) else parse_ref(ref)
        if parsed.artifact_id:
            found = self.catalog.get(parsed.artifact_id)
            if found:
                return self._check_kind(found, kind, parsed.text)
        if parsed.alias:
            matches = self.catalog.find_alias(kind, parsed.name, parsed.alias)
        else:
            matches = self.catalog.find_version(kind, parsed.name, parsed.version)
        if len(matches) > 1:
            kinds = ", ".join(sorted(m.kind for m in matches))
            raise Conflict(f"{parsed.text!r} names more than one artifact ({kinds}); say which kind you mean.")
        if matches:
            return matches[0]
        raise NotFound(self._not_found_message(parsed, kind))

    def _check_kind(self, artifact: Artifact, kind: str | None, text: str) -> Artifact:
        if kind and artifact.kind != kind:
            raise NotFound(f"{text!r} is a {artifact.kind}, not a {kind}; use `jupyter artifacts {artifact.kind} ...`.")
        return artifact

    def _not_found_message(self, parsed: Ref, kind: str | None) -> str:
        what = kind or "artifact"
        if kind:
            for other in KINDS:
                if other != kind and self.catalog.find_version(other, parsed.name, None):
                    return f"No {kind} named {parsed.name!r}, but there is a {other}: use `jupyter artifacts {other} ...`."
        if not self.catalog.list(kind=kind, name=parsed.name, limit=1)[1]:
            similar = [n for n in self.catalog.names_like(kind, parsed.name) if n != parsed.name]
            listing = f"`jupyter artifacts {kind} list`" if kind else \
                "`jupyter artifacts model list` (or checkpoint, dataset)"
            hint = f" Did you mean {similar[0]!r}?" if similar else f" List them with {listing}."
            return f"No {what} named {parsed.name!r}.{hint}"
        if parsed.version is not None:
            return f"{parsed.name!r} has no version {parsed.version}."
        if parsed.alias:
            return f"{parsed.name!r} has no alias {parsed.alias!r}."
        return f"{parsed.name!r} has no ready version yet."

    def _resolve_many(self, refs: list[str]) -> list[Artifact]:
        return [self.resolve(r) for r in refs]

    # -- creating --------------------------------------------------------------------------
    @writes_to_store
    def begin(self, kind: str, name: str, *, state: str = "pending", source: dict | None = None,
              metadata: dict | None = None, refs: list[str] = (), aliases: list[str] = (),
              created_by: str | None = None, produced_by: dict | None = None,
              inputs: list[dict] | None = None) -> Artifact:
        """Reserve the next version of a name; the artifact is not ready until `publish`."""
        check_kind(kind)
        check_name(name)
        for alias in aliases:
            check_alias(alias)
        if metadata is not None:
            check_metadata(metadata)
        ref_ids = [a.id for a in self._resolve_many(list(refs))]
        artifact = Artifact(
            id=random_id(), kind=kind, name=name, version=0, state=state, created_at=time.time(),
            created_by=created_by or current_user(), source=source or {}, metadata=metadata or {},
            refs=ref_ids, produced_by=produced_by, inputs=list(inputs or []), aliases=list(aliases),
        )
        with self.catalog.transaction() as db:
            version = self.catalog.next_version(db, kind, name)
            while not self.root.claim(version_path(kind, name, version), dumps({"artifact_id": artifact.id})):
                version += 1  # given before (by an import, or to an artifact whose row is gone)
            artifact.version = version
            self.catalog.count_version(db, kind, name, version)
            self.catalog.insert(db, artifact, owner=procs.token())
        return artifact

    def check_not_store(self, path: str) -> None:
        """Saving the store's own folders (or a folder around them) would copy the store into itself."""
        real = os.path.realpath(path)
        local = self.root.local_folder()
        holders = [self.state_dir] + ([local] if local else [])
        contents = [os.path.join(local, sub) for sub in CONTENT_FOLDERS] if local else []
        # around the store (or its catalog), or inside what it holds; jobs' working folders are fine
        for folder, clash in [(f, _inside(os.path.realpath(f), real)) for f in holders] + \
                             [(f, _inside(real, os.path.realpath(f))) for f in contents]:
            if clash:
                raise InvalidInput(f"{path} holds the artifact store itself ({folder}); save a folder outside it.")

    def precheck(self, kind: str, path: str) -> None:
        """Refuse, before anything is reserved or copied, what `create` would refuse: the store's own
        folder, an empty folder, a pipe or device, a size over a limit or the quota."""
        check_kind(kind)
        self.check_not_store(path)
        files = scan(path)
        if not files:
            raise InvalidInput(_empty_message(path))
        cache = self.catalog.statcache_under(path) if os.path.isdir(path) else {}
        self.check_size(kind, sum(f.size for f in files),
                        sum(f.size for f in files if f.path not in cache) if self.settings.quota is not None else None)

    def check_size(self, kind: str, total: int, new_bytes: int | None = None) -> None:
        """Refuse before any byte is written when a limit or the quota would be exceeded."""
        limit = self.settings.max_size.get(kind)
        if limit is not None and total > limit:
            raise LimitExceeded(
                f"This {kind} would hold {format_size(total)}, over the {format_size(limit)} limit for a {kind}; "
                "save a smaller folder or raise the limit.", size=total, limit=limit)
        quota = self.settings.quota
        if quota is not None:
            used = self.catalog.usage()
            needed = total if new_bytes is None else new_bytes
            if used + needed > quota:
                raise QuotaExceeded(
                    f"Saving needs up to {format_size(needed)} but the store holds {format_size(used)} of its "
                    f"{format_size(quota)} quota; delete artifacts you no longer need, or raise the quota.",
                    needed=needed, used=used, quota=quota)

    @writes_to_store
    def create(self, kind: str, name: str, path: str, *, aliases: list[str] = (), refs: list[str] = (),
               metadata: dict | None = None, source: dict | None = None, created_by: str | None = None,
               produced_by: dict | None = None, inputs: list[dict] | None = None,
               progress: Progress | None = None) -> Artifact:
        """Snapshot a folder (or one file) into a new, immutable version of `name`.

        A folder whose walk has the fingerprint of its last save (FolderScan.fingerprint) is not
        matched file by file against the stat cache: that save's tree is published again.
        """
        check_kind(kind)
        check_name(name)
        path = os.path.abspath(os.path.expanduser(path))
        self.check_not_store(path)
        walked = walk(path) if os.path.isdir(path) else None
        if walked is not None and not walked.relpaths:
            raise InvalidInput(_empty_message(path))
        with self._blob_lock(exclusive=False):  # before the lookup: a known tree's blobs stay put
            scanned = walked.fingerprint() if walked else None
            known = self._last_tree(path, scanned) if walked else None
            if known is not None:
                self.check_size(kind, known.size, 0)
            else:
                files = walked.files() if walked else scan(path)
                cache = self.catalog.statcache_under(path) if walked else {}
                # only the quota needs the new bytes (an estimate: files not in the stat cache)
                new_estimate = sum(f.size for f in files if f.path not in cache) \
                    if self.settings.quota is not None else None
                self.check_size(kind, sum(f.size for f in files), new_estimate)
            artifact = self.begin(kind, name, source=source or {"type": "local", "path": path}, metadata=metadata,
                                  refs=list(refs), aliases=list(aliases), created_by=created_by,
                                  produced_by=produced_by, inputs=inputs)
            try:
                if known is not None:
                    if progress:
                        progress(known.size, known.file_count, known.size, known.file_count)
                    tree, stat_rows = known, []
                else:
                    result = store_files(self.root, files, cache, self._recording(artifact, progress))
                    tree, stat_rows = Tree.of(result.manifest), result.stat_rows
                self.publish(artifact, tree)
            except BaseException:
                self.abandon(artifact)
                raise
        # the newest save is remembered: it outlives the older ones more often
        self.catalog.remember_stats(stat_rows, (path, scanned, artifact.id, tree.key, len(tree.json)) if walked else None)
        return artifact

    def _last_tree(self, folder: str, fingerprint: str) -> Tree | None:
        """The tree of a folder's last save, if the folder's walk is the same now and that artifact
        is still ready; the manifest's encoding is read back from the end of that artifact's record."""
        found = self.catalog.last_save(folder, fingerprint)
        if found is None:
            return None
        artifact_id, key, digest, size, count, length = found
        encoded = manifest_in_record(self.root.read_doc(record_path(artifact_id)), length)
        return None if encoded is None else Tree(digest, size, count, key, encoded)

    def _recording(self, artifact: Artifact, progress: Progress | None, interval: float = 0.25) -> Progress:
        """A save's progress callback that also records its progress on the pending artifact (a few
        times a second), so that `show`, lists and the panel in other processes see it."""
        last = 0.0

        def report(done_bytes: int, done_files: int, total_bytes: int, total_files: int) -> None:
            nonlocal last
            if time.monotonic() - last >= interval:
                last = time.monotonic()
                self.catalog.set_progress(artifact.id, {"phase": "saving", "bytes": done_bytes, "files": done_files,
                                                        "total_bytes": total_bytes, "total_files": total_files})
            if progress:
                progress(done_bytes, done_files, total_bytes, total_files)

        return report

    @writes_to_store
    def store_folder(self, artifact: Artifact, folder: str, progress: Progress | None = None) -> Artifact:
        """Publish a reserved artifact from a folder that was filled by a source or a job."""
        files = scan(folder)
        self.check_size(artifact.kind, sum(f.size for f in files))
        with self._blob_lock(exclusive=False):
            result = store_files(self.root, files, {}, progress)
            return self.publish(artifact, Tree.of(result.manifest))

    @writes_to_store
    def publish(self, artifact: Artifact, tree: Tree) -> Artifact:
        """Write the record (the commit point), then index it; a crash between the two is recovered.

        Only a reserved artifact is published: a ready one never changes."""
        row = self.catalog.db.execute("SELECT state FROM artifacts WHERE id = ?", (artifact.id,)).fetchone()
        if row is None or row[0] not in ("pending", "downloading"):
            raise Conflict(f"{artifact.reference} is {row[0] if row else 'deleted'}; a published artifact never "
                           "changes: save a new version instead.")
        artifact.manifest = tree.manifest
        artifact.digest, artifact.size, artifact.file_count = tree.digest, tree.size, tree.file_count
        self.root.write_doc(record_path(artifact.id), artifact.record_bytes(tree.json))
        with self.catalog.transaction() as db:
            if not self.catalog.has_tree(db, tree.key):
                artifact.manifest = tree.entries()  # the tree's last other artifact went meanwhile
            self.catalog.index_ready(db, artifact, tree.key)
        artifact.state = "ready"
        artifact.progress = None
        for alias in artifact.aliases:
            self.set_alias(artifact.id, alias)
        return artifact

    def abandon(self, artifact: Artifact) -> None:
        """Forget a reserved artifact that will never be published."""
        if self.root.read_doc(record_path(artifact.id)) is not None:
            return  # published after all
        with self.catalog.transaction() as db:
            self.catalog.delete(db, artifact.id)

    def fail(self, artifact: Artifact, reason: str) -> None:
        """Keep a reserved artifact as `failed`, with the reason, so the user can see and retry."""
        self.catalog.set_state(artifact.id, "failed", reason)
        artifact.state, artifact.error = "failed", reason

    def _recover(self) -> None:
        """Finish or forget work whose process died: a kill -9 leaves no half-made artifact."""
        if self.catalog.read_only:
            return  # the disk is full: reading works, recovering waits for space
        for artifact_id, state, owner in self.catalog.unfinished():
            if procs.alive(owner):
                continue
            if state == "deleting":
                self._finish_delete(artifact_id)
                continue
            raw = self.root.read_doc(record_path(artifact_id))
            try:
                artifact = None if raw is None else self._read_record(record_path(artifact_id), raw)
            except InvalidRecord as exc:
                log.warning("%s", exc.message)
                artifact = None
            if artifact is not None:
                with self.catalog.transaction() as db:
                    self.catalog.index_ready(db, artifact)
            elif state == "downloading":
                self.catalog.set_state(artifact_id, "failed", "interrupted: the process fetching it stopped")
            else:
                with self.catalog.transaction() as db:
                    self.catalog.delete(db, artifact_id)

    def _read_record(self, doc: str, raw: bytes) -> Artifact:
        """A record read back from the root, checked as untrusted input (InvalidRecord if wrong)."""
        where = f"{self.root.url.rstrip('/')}/{doc}"
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise InvalidRecord(where, "record", "is not valid JSON") from None
        artifact = check_record(data, where)
        if doc != record_path(artifact.id):
            raise InvalidRecord(where, "id", "does not match the file's name")
        return artifact

    # -- reading ---------------------------------------------------------------------------
    def get(self, ref: str, kind: str | None = None, manifest: bool = False) -> Artifact:
        artifact = self.resolve(ref, kind)
        if manifest:
            artifact.manifest = self.catalog.manifest(artifact.id)
        return artifact

    def list(self, kind: str | None = None, name: str | None = None, query: str | None = None,
             state: str | None = None, limit: int = 100, offset: int = 0) -> tuple[list[Artifact], int]:
        if kind:
            check_kind(kind)
        if limit < 1 or limit > 10000 or offset < 0:
            raise InvalidInput("limit must be between 1 and 10000 and offset at least 0.")
        return self.catalog.list(kind, name, query, state, limit, offset)

    def files(self, ref: str, kind: str | None = None, limit: int | None = None, offset: int = 0) -> dict[str, dict]:
        return self.catalog.manifest(self.resolve(ref, kind).id, limit, offset)

    def usage(self) -> dict:
        return {"used": self.catalog.usage(), "quota": self.settings.quota, "root": self.root.url}

    # -- aliases and links -----------------------------------------------------------------
    @writes_to_store
    def set_alias(self, ref: str, alias: str, kind: str | None = None) -> Artifact:
        """Point an alias of a name at one of its versions (moving it if it pointed elsewhere)."""
        check_alias(alias)
        artifact = self.resolve(ref, kind)
        if artifact.state != "ready":
            raise Conflict(f"{artifact.reference} is {artifact.state}; aliases can point only at ready artifacts.")
        self.root.write_doc(alias_path(artifact.kind, artifact.name, alias),
                            dumps({"artifact_id": artifact.id, "alias": alias}))
        with self.catalog.transaction() as db:
            db.execute("INSERT OR REPLACE INTO aliases (kind, name, alias, artifact_id) VALUES (?, ?, ?, ?)",
                       (artifact.kind, artifact.name, alias, artifact.id))
        return self.catalog.get(artifact.id)

    @writes_to_store
    def remove_alias(self, ref: str, alias: str, kind: str | None = None) -> Artifact:
        artifact = self.resolve(ref, kind)
        if alias not in artifact.aliases:
            raise NotFound(f"{artifact.reference} has no alias {quote(alias)}.")
        self.root.delete_doc(alias_path(artifact.kind, artifact.name, alias))
        with self.catalog.transaction() as db:
            db.execute("DELETE FROM aliases WHERE kind = ? AND name = ? AND alias = ?", (artifact.kind, artifact.name, alias))
        return self.catalog.get(artifact.id)

    @writes_to_store
    def link(self, ref: str, target: str, kind: str | None = None) -> Artifact:
        """Record that an artifact refers to another (e.g. a model to its training data)."""
        artifact = self.resolve(ref, kind)
        other = self.resolve(target)
        if other.id == artifact.id:
            raise InvalidInput("An artifact cannot refer to itself.")
        self.root.write_doc(link_path(artifact.id, other.id), dumps({"src": artifact.id, "dst": other.id}))
        with self.catalog.transaction() as db:
            db.execute("INSERT OR IGNORE INTO refs (src, dst, relation) VALUES (?, ?, 'ref')", (artifact.id, other.id))
        return self.catalog.get(artifact.id)

    def lineage(self, ref: str, kind: str | None = None, depth: int = 20) -> dict:
        """What went into an artifact (refs, inputs, the job) and what used it, as nested trees."""
        artifact = self.resolve(ref, kind)

        def summary(a: Artifact, relation: str | None = None) -> dict:
            node = {"id": a.id, "kind": a.kind, "name": a.name, "version": a.version,
                    "reference": a.reference, "state": a.state}
            if relation:
                node["relation"] = relation
            if a.produced_by:
                node["produced_by"] = a.produced_by
            return node

        def walk(a: Artifact, direction: str, seen: set[str], level: int) -> list[dict]:
            if level >= depth:
                return []
            column, other = ("src", "dst") if direction == "up" else ("dst", "src")
            rows = self.catalog.db.execute(
                f"SELECT {other}, relation FROM refs WHERE {column} = ? ORDER BY {other}", (a.id,)).fetchall()
            nodes = []
            for other_id, relation in rows:
                found = self.catalog.get(other_id)
                if found is None:
                    nodes.append({"id": other_id, "relation": relation, "state": "deleted"})
                    continue
                node = summary(found, relation)
                if other_id not in seen:
                    node["children"] = walk(found, direction, seen | {other_id}, level + 1)
                nodes.append(node)
            return nodes

        def output(artifact_id: str | None) -> dict | None:
            if artifact_id is None:
                return None
            found = self.catalog.get(artifact_id)
            return summary(found) if found else {"id": artifact_id, "state": "deleted"}

        used_by = self._jobs_with_input(artifact.id)
        for job in used_by:
            for worker in job["workers"]:
                worker["output"] = output(worker.pop("output_id"))
        return {**summary(artifact), "inputs": artifact.inputs,
                "upstream": walk(artifact, "up", {artifact.id}, 0),
                "downstream": walk(artifact, "down", {artifact.id}, 0),
                "used_by": used_by}

    def _jobs_with_input(self, artifact_id: str) -> list[dict]:
        """From the jobs database next to the catalog, which every JobManager of this store writes."""
        from ..jobs.db import JobsDB, paths_for

        path = paths_for(self.catalog.path)[0]
        if not os.path.exists(path):
            return []
        db = JobsDB(path)
        try:
            return db.jobs_with_input(artifact_id)
        finally:
            db.close()

    # -- compare and find ------------------------------------------------------------------
    def diff(self, ref_a: str, ref_b: str, kind: str | None = None) -> dict:
        a, b = self.resolve(ref_a, kind), self.resolve(ref_b, kind)
        ma, mb = self.catalog.manifest(a.id), self.catalog.manifest(b.id)
        added = sorted(set(mb) - set(ma))
        removed = sorted(set(ma) - set(mb))
        changed = sorted(p for p in set(ma) & set(mb) if ma[p] != mb[p])
        return {"a": a.reference, "b": b.reference, "same_content": a.digest == b.digest,
                "added": added, "removed": removed, "changed": changed,
                "unchanged": len(set(ma) & set(mb)) - len(changed)}

    def find(self, file_or_digest: str) -> dict:
        """Which artifacts hold a file with this content (a local file's path or a digest)."""
        if file_or_digest.startswith("blake3:"):
            digest = file_or_digest
        else:
            path = os.path.abspath(os.path.expanduser(file_or_digest))
            if not os.path.isfile(path):
                raise NotFound(f"No such file: {path}; give a file's path or a blake3:<hex> digest.")
            digest = hash_file(path)
        matches: dict[str, dict] = {}
        for artifact_id, path in self.catalog.artifacts_with_digest(digest):
            artifact = self.catalog.get(artifact_id)
            if artifact is None:
                continue
            entry = matches.setdefault(artifact_id, {**artifact.to_dict(manifest=False), "paths": []})
            entry["paths"].append(path)
        found = sorted(matches.values(), key=lambda m: -m["created_at"])
        return {"digest": digest, "artifacts": found}

    # -- integrity -------------------------------------------------------------------------
    def verify(self, ref: str | None = None, kind: str | None = None, workers: int = 4) -> dict:
        """Re-hash every blob (of one artifact, or of all) and name each damaged artifact and path."""
        from concurrent.futures import ThreadPoolExecutor

        if ref:
            ids = [self.resolve(ref, kind).id]
        else:
            ids = [r[0] for r in self.catalog.db.execute("SELECT id FROM artifacts WHERE state = 'ready'")]
        uses: dict[str, list[tuple[str, str]]] = {}
        for artifact_id in ids:
            for path, entry in self.catalog.manifest(artifact_id).items():
                if "digest" in entry:
                    uses.setdefault(entry["digest"], []).append((artifact_id, path))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = dict(zip(uses, pool.map(self.root.hash_blob, uses)))
        damaged = []
        for digest, actual in results.items():
            if actual == digest:
                continue
            for artifact_id, path in uses[digest]:
                artifact = self.catalog.get(artifact_id)
                damaged.append({"id": artifact_id, "reference": artifact.reference, "kind": artifact.kind,
                                "path": path, "digest": digest,
                                "problem": "missing" if actual is None else "content changed"})
        missing_records = [i for i in ids if self.root.read_doc(record_path(i)) is None]
        return {"artifacts": len(ids), "blobs": len(uses), "damaged": damaged,
                "missing_records": missing_records, "ok": not damaged and not missing_records}

    # -- leases ----------------------------------------------------------------------------
    def acquire_lease(self, ref: str, holder: str, pid: int | None = None, kind: str | None = None) -> str:
        """Hold an artifact for a job or a kernel: it cannot be deleted while the holder lives."""
        artifact = self.resolve(ref, kind)
        lease_id = random_id()
        with self.catalog.transaction() as db:
            row = db.execute("SELECT state FROM artifacts WHERE id = ?", (artifact.id,)).fetchone()
            if row is None or row[0] != "ready":
                raise Conflict(f"{artifact.reference} is not ready (it is {row[0] if row else 'deleted'}).")
            db.execute("INSERT INTO leases (id, artifact_id, holder, owner, created_at) VALUES (?, ?, ?, ?, ?)",
                       (lease_id, artifact.id, holder, procs.token(pid) if pid else None, time.time()))
        return lease_id

    def release_lease(self, lease_id: str) -> None:
        with self.catalog.transaction() as db:
            db.execute("DELETE FROM leases WHERE id = ?", (lease_id,))

    def holders(self, artifact_id: str) -> list[str]:
        """Who holds an artifact now; leases of processes that died are dropped on the way."""
        rows = self.catalog.db.execute("SELECT id, holder, owner FROM leases WHERE artifact_id = ?", (artifact_id,)).fetchall()
        dead = [lease_id for lease_id, _holder, owner in rows if owner is not None and not procs.alive(owner)]
        if dead and not self.catalog.read_only:
            with self.catalog.transaction() as db:
                db.executemany("DELETE FROM leases WHERE id = ?", ((d,) for d in dead))
        return sorted({holder for lease_id, holder, _owner in rows if lease_id not in dead})

    # -- deleting --------------------------------------------------------------------------
    @writes_to_store
    def delete(self, ref: str, kind: str | None = None) -> dict:
        """Delete an artifact unless something holds it; its blobs go when nothing else uses them."""
        artifact = self.resolve(ref, kind)
        holders = self.holders(artifact.id)
        if holders:
            raise InUse(f"{artifact.kind.capitalize()} {artifact.reference} is in use by {', '.join(holders)}; "
                        "stop or detach it first.", holders=holders)
        with self.catalog.transaction() as db:
            row = db.execute("SELECT state, owner FROM artifacts WHERE id = ?", (artifact.id,)).fetchone()
            if row is None:
                raise NotFound(f"{artifact.reference} was deleted meanwhile.")
            if row[0] in ("pending", "downloading") and procs.alive(row[1]):
                raise Conflict(f"{artifact.reference} is still being written; wait for it to finish.")
            if db.execute("SELECT 1 FROM leases WHERE artifact_id = ?", (artifact.id,)).fetchone():
                raise InUse(f"{artifact.reference} was just attached by another process; try again later.")
            db.execute("UPDATE artifacts SET state = 'deleting', owner = ? WHERE id = ?", (procs.token(), artifact.id))
        freed = self._finish_delete(artifact.id)
        return {"id": artifact.id, "reference": artifact.reference, "kind": artifact.kind, "freed_bytes": freed}

    def _finish_delete(self, artifact_id: str) -> int:
        """Remove the record, then the index rows, then unused blobs; safe to run again after a crash."""
        digests = {e["digest"]: e["size"] for e in self.catalog.manifest(artifact_id).values() if "digest" in e}
        row = self.catalog.db.execute("SELECT kind, name FROM artifacts WHERE id = ?", (artifact_id,)).fetchone()
        if row:
            for (alias,) in self.catalog.db.execute("SELECT alias FROM aliases WHERE artifact_id = ?", (artifact_id,)).fetchall():
                self.root.delete_doc(alias_path(row[0], row[1], alias))
        for doc in self.root.list_docs(f"links/{artifact_id}"):
            self.root.delete_doc(doc)
        self.root.delete_doc(record_path(artifact_id))
        with self.catalog.transaction() as db:
            self.catalog.delete(db, artifact_id)
        return self._drop_unused_blobs(digests, wait=False)

    def _drop_unused_blobs(self, digests: dict[str, int], wait: bool) -> int:
        """Delete blobs no artifact uses; if a snapshot is running, leave them for `gc`."""
        try:
            with self._blob_lock(exclusive=True, wait=wait):
                unused = self.catalog.unreferenced_blobs(digests)
                for digest in unused:
                    self.root.remove_blob(digest)
                with self.catalog.transaction() as db:
                    self.catalog.forget_blobs(db, unused)
                return sum(digests.get(d, 0) for d in unused)
        except BlockingIOError:
            return 0

    def collect_orphans(self) -> None:
        """After a write failed for lack of space: remove what it stored, unless another save runs."""
        try:
            self.gc(wait=False)
        except (BlockingIOError, OSError, sqlite3.Error):
            pass  # `gc` will, once the other save is done or there is room for the catalog

    def gc(self, wait: bool = True) -> dict:
        """Remove blobs no artifact uses and leftovers of interrupted work; idempotent."""
        with self._blob_lock(exclusive=True, wait=wait):
            used = {d for (d,) in self.catalog.db.execute("SELECT DISTINCT digest FROM files WHERE digest IS NOT NULL")}
            removed, freed = 0, 0
            for digest in list(self.root.iter_blobs()):
                if digest not in used:
                    freed += self.root.blob_size(digest) or 0
                    self.root.remove_blob(digest)
                    removed += 1
            tmp = self.root.clean_tmp()
            if not self.catalog.read_only:  # on a full disk the files go first; the index follows next time
                with self.catalog.transaction() as db:
                    stale = [d for (d,) in db.execute("SELECT digest FROM blobs") if d not in used]
                    self.catalog.forget_blobs(db, stale)
        return {"removed_blobs": removed, "freed_bytes": freed, "removed_tmp": tmp}

    @contextmanager
    def _blob_lock(self, exclusive: bool, wait: bool = True) -> Iterator[None]:
        """Snapshots share this lock; blob removal takes it alone, so it never races a snapshot."""
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            flags = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
            fcntl.flock(fd, flags if wait else flags | fcntl.LOCK_NB)
            yield
        finally:
            os.close(fd)

    # -- sharing ---------------------------------------------------------------------------
    def download(self, ref: str, dest: str, kind: str | None = None, refs: bool = False, method: str = "auto",
                 progress: Progress | None = None) -> dict:
        """Materialize an artifact (and with refs, everything it refers to) into a new folder."""
        artifact = self.resolve(ref, kind)
        if artifact.state != "ready":
            raise Conflict(f"{artifact.reference} is {artifact.state}, not ready; wait for it or create it again.")
        dest = check_destination(dest)
        if not refs:
            methods = materialize(self.root, self.catalog.manifest(artifact.id), dest, method, progress)
            return {"reference": artifact.reference, "path": dest, "methods": methods, "artifacts": 1}
        todo = [artifact] + [a for a in self._closure(artifact) if a.id != artifact.id]
        used_names: set[str] = set()
        methods: dict[str, int] = {}
        placed = []
        for item in todo:
            folder = item.name if item.name not in used_names else f"{item.name}-v{item.version}"
            used_names.add(folder)
            counts = materialize(self.root, self.catalog.manifest(item.id), os.path.join(dest, folder), method, progress)
            for how, n in counts.items():
                methods[how] = methods.get(how, 0) + n
            placed.append({"reference": item.reference, "kind": item.kind, "path": os.path.join(dest, folder)})
        return {"reference": artifact.reference, "path": dest, "methods": methods, "artifacts": len(todo), "placed": placed}

    def _closure(self, artifact: Artifact) -> list[Artifact]:
        """The artifact and everything it refers to, transitively."""
        seen = {artifact.id: artifact}
        stack = [artifact]
        while stack:
            current = stack.pop()
            for dst in current.refs:
                if dst not in seen and (found := self.catalog.get(dst)) is not None:
                    seen[dst] = found
                    stack.append(found)
        return list(seen.values())

    def export(self, ref: str, tar_path: str, kind: str | None = None, refs: bool = False) -> dict:
        from .transfer import export_tar

        artifact = self.resolve(ref, kind)
        todo = self._closure(artifact) if refs else [artifact]
        return export_tar(self, todo, tar_path)

    @writes_to_store
    def import_tar(self, tar_path: str) -> dict:
        from .transfer import import_tar

        return import_tar(self, tar_path)

    def index_record(self, artifact: Artifact) -> None:
        """Add a published record (from an import) to the catalog as it is."""
        with self.catalog.transaction() as db:
            self.catalog.count_version(db, artifact.kind, artifact.name, artifact.version)
            self.catalog.insert(db, artifact)
            self.catalog.index_ready(db, artifact)

    def version_holder(self, kind: str, name: str, version: int) -> str | None:
        """The id of the artifact a version was given to, from its claim in the root (None: never given)."""
        claim = self._pointer(version_path(kind, name, version), [])
        if claim is None:
            return None
        holder = claim.get("artifact_id")
        return holder if is_artifact_id(holder) else "unknown"

    def claim_version(self, artifact: Artifact) -> None:
        """Claim a record's own version (an import keeps versions); refused if another artifact has it."""
        path = version_path(artifact.kind, artifact.name, artifact.version)
        if not self.root.claim(path, dumps({"artifact_id": artifact.id})) \
                and self.version_holder(artifact.kind, artifact.name, artifact.version) != artifact.id:
            raise Conflict(f"{artifact.kind.capitalize()} {artifact.reference} was given to another artifact "
                           "meanwhile; import into another store.")

    # -- rebuilding ------------------------------------------------------------------------
    def reindex(self) -> dict:
        """Rebuild the catalog's index from the root alone (records, aliases, links, version claims).

        Everything read is checked as untrusted input: a record, alias or link that this store
        would never write is skipped, named in `skipped`, and changes nothing."""
        skipped: list[str] = []
        records = self._records_in_root(skipped)
        counters: dict[tuple[str, str], int] = {}
        for doc in self.root.list_docs("versions"):
            parts = doc.split("/")
            try:
                if len(parts) != 4 or not parts[3][:-5].isdigit():
                    raise InvalidRecord(doc, "path", "is not versions/KIND/NAME/NUMBER.json")
                check_alias_doc(parts[1], parts[2], "claim", "0" * 32, doc)
            except InvalidRecord as exc:
                skipped.append(exc.message)
                continue
            key = (parts[1], parts[2])
            counters[key] = max(counters.get(key, 0), int(parts[3][:-5]))
        for artifact in records:
            key = (artifact.kind, artifact.name)
            counters[key] = max(counters.get(key, 0), artifact.version)
        records = self._one_record_per_version(records, skipped)
        known = {a.id: a for a in records}
        links = []
        for doc in self.root.list_docs("links"):
            link = self._pointer(doc, skipped)
            if link is not None and link.get("src") in known and is_artifact_id(link.get("dst")) \
                    and doc == link_path(link["src"], link["dst"]):
                links.append((link["src"], link["dst"]))
            elif link is not None:
                skipped.append(f"{doc}: not a link between known artifacts; skipped.")
        aliases = []
        for doc in self.root.list_docs("aliases"):
            parts, pointer = doc.split("/"), self._pointer(doc, skipped)
            if pointer is None:
                continue
            try:
                if len(parts) != 4:
                    raise InvalidRecord(doc, "path", "is not aliases/KIND/NAME/ALIAS.json")
                check_alias_doc(parts[1], parts[2], parts[3][:-5], pointer.get("artifact_id"), doc)
            except InvalidRecord as exc:
                skipped.append(exc.message)
                continue
            target = known.get(pointer["artifact_id"])
            if target is None or (target.kind, target.name) != (parts[1], parts[2]):
                skipped.append(f"{doc}: points at no {parts[1]} named {parts[2]!r}; skipped.")
                continue
            aliases.append((parts[1], parts[2], parts[3][:-5], target.id))
        self.catalog.rebuild(records, links, aliases, counters)
        for message in skipped:
            log.warning("reindex: %s", message)
        return {"artifacts": len(records), "aliases": len(aliases), "skipped": skipped}

    def _records_in_root(self, skipped: list[str]) -> list[Artifact]:
        records = []
        for doc in self.root.list_docs("artifacts"):
            raw = self.root.read_doc(doc)
            if raw is None:
                continue
            try:
                records.append(self._read_record(doc, raw))
            except InvalidRecord as exc:
                skipped.append(exc.message)
        return records

    def _one_record_per_version(self, records: list[Artifact], skipped: list[str]) -> list[Artifact]:
        """Where two records (or a record and a save in progress here) claim one version, keep the
        one its claim names (else the older) and report the others."""
        unfinished = {key: aid for aid, key in self.catalog.unfinished_versions()}
        by_version: dict[tuple[str, str, int], list[Artifact]] = {}
        for artifact in records:
            by_version.setdefault((artifact.kind, artifact.name, artifact.version), []).append(artifact)
        kept = []
        for key, group in by_version.items():
            if len(group) == 1 and unfinished.get(key, group[0].id) == group[0].id:
                kept.append(group[0])
                continue
            holder = unfinished.get(key) or (self._pointer(version_path(*key), []) or {}).get("artifact_id")
            group.sort(key=lambda a: (a.id != holder, a.created_at, a.id))
            keep = group[0] if key not in unfinished or group[0].id == holder else None
            for other in group:
                if other is not keep:
                    skipped.append(f"{record_path(other.id)}: {other.kind} {other.reference} is also held by "
                                   "another artifact; skipped (delete one of the two records).")
            if keep is not None:
                kept.append(keep)
        return kept

    def _pointer(self, doc: str, skipped: list[str]) -> dict | None:
        """A small JSON document from the root (an alias, a link, a claim); None if it is gone or not an object."""
        raw = self.root.read_doc(doc)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            skipped.append(f"{doc}: not a JSON object; skipped.")
            return None
        return data
