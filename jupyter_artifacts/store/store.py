"""The store: every operation on artifacts, called by every face (CLI, REST, magics, SDK, jobs)."""

from __future__ import annotations

import errno
import fcntl
import functools
import getpass
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from .. import database, procs
from ..errors import (
    Conflict,
    DiskFull,
    InUse,
    InvalidInput,
    LimitExceeded,
    NotFound,
    QuotaExceeded,
    Unavailable,
    quote,
)
from ..progress import Progress, Report
from . import saves
from .blobcache import FOLDER as BLOB_CACHE_FOLDER
from .blobcache import BlobCache
from .catalog import Catalog, Changes
from .collect import collect_local, collect_shared, running_gc
from .digest import hash_file
from .holds import Holds
from .journal import Journal, host_name
from .layout import (
    GC_LOCK,
    MARKER,
    alias_path,
    link_path,
    pending_path,
    record_path,
    version_path,
)
from .manifests import Tree, decode, record_pieces
from .materialize import Materializing, check_destination, materialize
from .names import (
    KINDS,
    Ref,
    check_alias,
    check_kind,
    check_name,
    is_artifact_id,
    parse_ref,
)
from .records import Artifact, dumps
from .roots import CONTENT_FOLDERS, SourceChanged, open_root, random_id
from .settings import SHARED_ENV, StoreSettings, default_catalog_path, format_size
from .snapshot import FORK_MIN, LastSave, TreeBuilder, Walk, store_walk, walk
from .sync import RootReader, Syncer
from .upload import upload_walk
from .validation import LINK_HOPS, check_metadata, resolve_inside
from .workers import Pool, workers_for

T = TypeVar("T")
log = logging.getLogger("jupyter_artifacts")


def _is_disk_full(exc: BaseException, catalog: Catalog) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return isinstance(exc, sqlite3.OperationalError) and (
        "full" in str(exc) or ("readonly" in str(exc) and catalog.read_only))


def disk_full(where: str, advice: str = "free space or run `jupyter artifacts gc`") -> DiskFull:
    """A full disk is the user's to fix, not a traceback: one line that says where and what to do."""
    return DiskFull(f"The disk is full at {where}: {advice}.", path=where)


_UNREACHABLE = ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ClientConnectorError",
                "ServerDisconnectedError", "ConnectionClosedError", "ConnectionRefusedError", "ConnectionResetError")


def _unreachable(exc: BaseException) -> bool:
    """A network failure on the way to a remote root (by class name: botocore, aiohttp and the
    standard library each have their own)."""
    return any(cls.__name__ in _UNREACHABLE for cls in type(exc).__mro__)


def reaches_root(method: Callable[..., T]) -> Callable[..., T]:
    """A store method that talks to the root: a root out of reach is one line, not a traceback."""
    @functools.wraps(method)
    def wrapper(self: "Store", *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            if not _unreachable(exc):
                raise
            raise Unavailable(f"The store root {self.root.url} could not be reached ({type(exc).__name__}); "
                              "nothing was changed by what failed: check the connection and try again.") from None

    return wrapper


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

    return reaches_root(wrapper)


def _inside(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:
        return False


def _empty_message(path: str) -> str:
    return f"{path} is empty: put the files to save in it first."


def root_is_shared(root: str, shared: bool | None = None) -> bool:
    """Whether a root is used as a team's, without opening a store (a job supervisor asks, to
    know whether it must keep its leases alive): a remote root unless told no; a local folder
    when told so or marked so (its root.json)."""
    if "://" in root and not root.startswith("file://"):
        return shared is not False
    if shared:
        return True
    try:
        with open(os.path.join(root.removeprefix("file://"), MARKER), "rb") as handle:
            return bool(json.loads(handle.read()).get("shared"))
    except (OSError, ValueError, AttributeError):
        return False


def _pointed(raw: bytes | None) -> str | None:
    """The artifact id an alias document points at (None: gone, or not an alias document)."""
    try:
        target = json.loads(raw).get("artifact_id") if raw else None
    except (ValueError, AttributeError, UnicodeDecodeError):
        return None
    return target if is_artifact_id(target) else None


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
            marked = self._marked_shared()
            # a shared folder's catalog is each host's own, like a remote root's
            self.catalog = Catalog(settings.catalog_path or default_catalog_path(
                self.root.url, self.root.is_local and not marked, self.root.local_folder()))
        except (OSError, sqlite3.OperationalError) as exc:
            if isinstance(exc, OSError) and exc.errno not in (errno.ENOSPC, errno.EDQUOT) \
                    or isinstance(exc, sqlite3.OperationalError) and not database.disk_is_full(
                        settings.catalog_path or os.path.join(str(settings.root), "catalog.sqlite")):
                raise
            raise disk_full(settings.root, "free space there first") from None
        self._lock_path = os.path.join(self.state_dir, "blobs.lock")
        self.shared = self._sharing()
        self.host_id = self._host_id()
        self.holds = Holds(self)
        self.syncer = Syncer(self)
        self.journal = Journal(self.root)
        # where files come from when they are materialized: a remote root's through this machine's cache
        limit = self.settings.blob_cache
        self.blob_cache = None if self.root.is_local or not limit else \
            BlobCache(self.root, os.path.join(self.state_dir, BLOB_CACHE_FOLDER), limit)
        self.blobs = self.blob_cache or self.root
        self._recover()
        if self.catalog.former_layout:  # a catalog of an earlier version: its index comes back from the root
            self.reindex()

    def _marked_shared(self) -> bool:
        """A local folder is shared once a host said so (its root.json), or when this one does now."""
        if not self.root.is_local:
            return False
        marker = self.root.read_doc(MARKER)
        try:
            shared = bool(json.loads(marker).get("shared")) if marker else False
        except (ValueError, AttributeError, UnicodeDecodeError):
            shared = False
        if self.settings.shared and not shared:
            self.root.write_doc(MARKER, dumps({"format": 1, "shared": True}))
            shared = True
        return shared

    def _sharing(self) -> bool:
        """Whether many hosts use this root: a remote root whose service can be shared, unless the
        settings say no; a local folder once marked shared. A shared root must guarantee exclusive
        creates and compare-and-swap: asked for one that cannot, say why."""
        if self.root.is_local:
            shared = self._marked_shared()
        else:
            asked = self.settings.shared
            shared = asked if asked is not None else self.root.capabilities.shareable
        if shared:
            why = self._cannot_share()
            if why:
                raise InvalidInput(f"{self.root.url} cannot be shared by several hosts: {why}. To use it from this "
                                   f"machine alone, set {SHARED_ENV}=0.")
        return shared

    def _cannot_share(self) -> str | None:
        """Why this root cannot be shared (None if it can); a probe of the service runs once per machine."""
        capabilities = self.root.capabilities
        if not capabilities.shareable:
            return capabilities.why_not or "it guarantees neither exclusive creates nor compare-and-swap"
        seen = os.path.join(self.state_dir, "capabilities-checked")
        if os.path.exists(seen):
            return None
        why = self.root.probe()
        if why is None:
            with open(seen, "w") as handle:
                handle.write(self.root.url)
        return why

    def _host_id(self) -> str:
        """This machine's name for itself in a shared root (one per state folder, so that two
        users, or two test hosts, on one machine are two hosts)."""
        path = os.path.join(self.state_dir, "host-id")
        try:
            with open(path) as handle:
                return handle.read().strip()
        except FileNotFoundError:
            value = f"{host_name()}-{random_id()[:8]}"
            try:
                with open(path, "x") as handle:
                    handle.write(value)
            except FileExistsError:
                return self._host_id()
            except OSError:
                pass
            return value

    @property
    def state_dir(self) -> str:
        """This machine's folder for the store: its catalog, locks, staging and jobs' working folders."""
        return os.path.dirname(os.path.abspath(self.catalog.path))

    # -- references ------------------------------------------------------------------------
    def resolve(self, ref: str | Ref, kind: str | None = None) -> Artifact:
        """Find the artifact a reference names; a clear NotFound otherwise. On a shared root, what
        this machine has not seen yet is looked for in the root's journal first."""
        if kind:
            check_kind(kind)
        parsed = ref if isinstance(ref, Ref) else parse_ref(ref)
        self.sync()
        try:
            return self._resolve(parsed, kind)
        except NotFound:
            if not self.shared or not self.sync(force=True):
                raise
        return self._resolve(parsed, kind)

    @reaches_root
    def sync(self, force: bool = False) -> int:
        """Learn what other hosts changed in a shared root (at most every `sync_interval` seconds
        unless forced); returns how many changes were read. Nothing to do for a local root."""
        return self.syncer.sync(force) if self.shared else 0

    def _resolve(self, parsed: Ref, kind: str | None) -> Artifact:
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
        self.sync(force=True)
        with self.catalog.transaction() as db:
            version = self.catalog.next_version(db, kind, name)
            while not self.root.claim(version_path(kind, name, version), dumps({"artifact_id": artifact.id})):
                version += 1  # given before (another host, an import, an artifact whose row is gone)
            artifact.version = version
            self.catalog.count_version(db, kind, name, version)
            self.catalog.insert(db, artifact, owner=procs.token())
        if self.shared:
            self.journal.append("claim", f"{kind}/{name}/{version}")
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
        path = os.path.abspath(os.path.expanduser(path))
        save = saves.plan(self, path, self._walk(path))
        try:
            self.check_size(kind, save.size, save.new_bytes())
        finally:
            save.close()

    def check_size(self, kind: str, total: int, new_bytes: int | None = None) -> None:
        """Refuse before any byte is written when a limit or the quota would be exceeded (the quota
        over every host's artifacts, on a shared root)."""
        limit = self.settings.max_size.get(kind)
        if limit is not None and total > limit:
            raise LimitExceeded(
                f"This {kind} would hold {format_size(total)}, over the {format_size(limit)} limit for a {kind}; "
                "save a smaller folder or raise the limit.", size=total, limit=limit)
        quota = self.settings.quota
        if quota is not None:
            self.sync(force=True)
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

        A folder whose walk has the fingerprint of its last save (Walk.fingerprint) is not
        matched file by file against the stat cache: that save's tree is published again.
        """
        check_kind(kind)
        check_name(name)
        path = os.path.abspath(os.path.expanduser(path))
        self.check_not_store(path)
        walked = self._walk(path)
        with self.blob_lock(exclusive=False):  # before the lookup: a known tree's blobs stay put
            save = saves.plan(self, path, walked)
            try:
                self.check_size(kind, save.size, save.new_bytes())
                artifact = self.begin(kind, name, source=source or {"type": "local", "path": path}, metadata=metadata,
                                      refs=list(refs), aliases=list(aliases), created_by=created_by,
                                      produced_by=produced_by, inputs=inputs)
                try:
                    tree = save.store_files(self._recording(artifact, progress))
                    with self._relying(artifact, tree, save.source):
                        self.publish(artifact, tree)
                except BaseException:
                    self.abandon(artifact)
                    raise
                save.remember(path, artifact.id)
            finally:
                save.close()
        return artifact

    def _walk(self, path: str) -> Walk:
        """Walk a folder (or one file) to save; an empty folder is refused."""
        walked = walk(path, self.scratch)
        if not walked.count:
            walked.close()
            raise InvalidInput(_empty_message(path))
        return walked

    @property
    def scratch(self) -> str:
        """Where a save spools what it does not keep in memory (the walk, the tree): the root's
        tmp/ for a local root (a record is then copied out of it on one file system)."""
        folder = self.root.local_folder()
        folder = os.path.join(folder, "tmp") if folder else os.path.join(self.state_dir, "tmp")
        os.makedirs(folder, exist_ok=True)
        return folder

    def _recording(self, artifact: Artifact, progress: Progress | None, interval: float = 0.25) -> Progress:
        """A save's progress callback that also records its progress on the pending artifact (a few
        times a second), so that `show`, lists and the panel in other processes see it."""
        last = 0.0

        def report(done_bytes: int, done_files: int, total_bytes: int, total_files: int) -> None:
            nonlocal last
            if time.monotonic() - last >= interval:
                last = time.monotonic()
                self.catalog.set_progress(artifact.id, Report("saving", done_bytes, done_files, total_bytes,
                                                              total_files).to_dict())
            if progress:
                progress(done_bytes, done_files, total_bytes, total_files)

        return report

    @writes_to_store
    def store_folder(self, artifact: Artifact, folder: str, progress: Progress | None = None) -> Artifact:
        """Publish a reserved artifact from a folder that was filled by a source or a job."""
        walked = walk(folder, self.scratch)
        builder = TreeBuilder(self.scratch)
        try:
            self.check_size(artifact.kind, walked.size)
            with self.blob_lock(exclusive=False):
                self.save_files(walked, None, builder, progress)
                tree = builder.finish()
                with self._relying(artifact, tree, lambda rel: f"{walked.folder}/{rel}"):
                    return self.publish(artifact, tree)
        finally:
            walked.close()
            builder.close()

    def save_files(self, walked: Walk, last: LastSave | None, builder: TreeBuilder, progress: Progress | None) -> None:
        """Store what a walk found into `builder`.

        A local root stores each file in one pass; a remote one hashes them all, asks which blobs
        it lacks (a listing per prefix, not a request per file), then uploads only those."""
        if self.root.is_local:
            store_walk(self.root, walked, last, builder, progress)
        else:
            upload_walk(self.root, walked, last, builder, progress)

    @contextmanager
    def _relying(self, artifact: Artifact, tree: Tree, source: Callable[[str], str]) -> Iterator[None]:
        """Publish a save on a shared root, where another host's gc may remove an unused blob at
        any time: one it found stored (or trusted from the stat cache), or one it stored itself
        whose content a gc had already found unused.

        Every blob of the tree is written to `pending/<id>.json` (a gc that starts later keeps
        them); a gc already running is waited for; then each is checked once more, one listing per
        prefix, and any that went is stored again from its file."""
        if not self.shared:
            yield
            return
        relied = {e["digest"] for batch in tree.batches() for e in batch.values() if "digest" in e}
        marker = pending_path(artifact.id)
        self.root.write_doc(marker, dumps({"host": host_name(), "host_id": self.host_id, "digests": sorted(relied),
                                           "expires_at": time.time() + max(self.settings.lease_ttl, 3600.0)}))
        try:
            self._wait_for_gc()
            missing = self.root.missing_blobs(relied)
            if missing:
                self._store_again(missing, tree, source)
            yield
        finally:
            self.root.delete_doc(marker)

    def _wait_for_gc(self) -> None:
        deadline = time.monotonic() + self.settings.lease_ttl + 60
        while running_gc(self.root.read_doc(GC_LOCK)) is not None and time.monotonic() < deadline:
            time.sleep(0.2)

    def _store_again(self, missing: set[str], tree: Tree, source: Callable[[str], str]) -> None:
        """Store again, from the files being saved, blobs a gc removed while the save ran."""
        paths = {e["digest"]: rel for batch in tree.batches() for rel, e in batch.items() if e.get("digest") in missing}
        for digest, rel in paths.items():
            try:
                stored = self.root.store_file(source(rel))[0]
            except (OSError, SourceChanged):
                stored = None
            if stored != digest:
                raise Conflict(f"{rel} changed (or went) while it was being saved, and a gc on another host removed "
                               "its stored copy meanwhile; save the folder again.")

    @writes_to_store
    def publish(self, artifact: Artifact, tree: Tree) -> Artifact:
        """Write the record (the commit point), then index it; a crash between the two is recovered.

        Only a reserved artifact is published: a ready one never changes."""
        state = self.catalog.state(artifact.id)
        if state not in ("pending", "downloading"):
            raise Conflict(f"{artifact.reference} is {state or 'deleted'}; a published artifact never "
                           "changes: save a new version instead.")
        artifact.digest, artifact.size, artifact.file_count = tree.digest, tree.size, tree.file_count
        self.root.write_doc_stream(record_path(artifact.id), record_pieces(artifact.record_header(), tree.body()))
        with self.catalog.transaction() as db:
            self.catalog.index_ready(db, artifact, tree)
        if self.shared:
            self.journal.append("record", artifact.id)
        artifact.state = "ready"
        artifact.progress = None
        for alias in artifact.aliases:
            self.set_alias(artifact.id, alias)
        return artifact

    def abandon(self, artifact: Artifact) -> None:
        """Forget a reserved artifact that will never be published (kept as failed if the root
        cannot even be asked)."""
        try:
            if self.root.has_doc(record_path(artifact.id)):
                return  # published after all
        except Exception:  # noqa: BLE001 - the root is out of reach: not published, as far as anyone knows
            self.fail(artifact, "the store root could not be reached; save again")
            return
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
            reader = RootReader(self)
            loaded = reader.fetch_record(artifact_id)
            reader.report("recovery")
            if loaded is not None:
                artifact, tree = loaded
                try:
                    with self.catalog.transaction() as db:
                        self.catalog.index_ready(db, artifact, tree)
                finally:
                    tree.close()
                if self.shared:
                    self.journal.append("record", artifact.id)
            elif state == "downloading":
                self.catalog.set_state(artifact_id, "failed", "interrupted: the process fetching it stopped")
            else:
                with self.catalog.transaction() as db:
                    self.catalog.delete(db, artifact_id)

    # -- reading ---------------------------------------------------------------------------
    def get(self, ref: str, kind: str | None = None, manifest: bool = False) -> Artifact:
        artifact = self.resolve(ref, kind)
        if manifest:
            artifact.manifest = self.catalog.manifest(artifact.id)
        return artifact

    def list(self, kind: str | None = None, name: str | None = None, query: str | None = None,
             state: str | None = None, limit: int = 100, offset: int = 0, origin: str | None = None,
             job: str | None = None) -> tuple[list[Artifact], int]:
        """Artifacts newest first; `origin` "job" (made by a job) or "user" (saved or created), `job`
        what one job (its id) made."""
        if kind:
            check_kind(kind)
        if limit < 1 or limit > 10000 or offset < 0:
            raise InvalidInput("limit must be between 1 and 10000 and offset at least 0.")
        if origin not in (None, "job", "user"):
            raise InvalidInput(f"Unknown origin {origin!r}: use job or user.")
        self.sync()
        return self.catalog.list(kind, name, query, state, limit, offset, origin, job)

    def files(self, ref: str, kind: str | None = None, limit: int | None = None, offset: int = 0) -> dict[str, dict]:
        return self.catalog.manifest(self.resolve(ref, kind).id, limit, offset)

    def entries(self, artifact: Artifact, offset: int = 0, limit: int | None = None) -> Iterator[tuple[str, dict]]:
        """An artifact's manifest entries in path order, read a chunk at a time (never held whole)."""
        return self.catalog.page(artifact.id, offset, limit)

    def files_page(self, ref: str, kind: str | None = None, limit: int = 100, offset: int = 0) -> dict:
        """A page of an artifact's files in path order, as every face pages them (REST, `show --files`):
        only the manifest chunks that hold the page are read, whatever the artifact's size."""
        if limit < 1 or limit > 10000 or offset < 0:
            raise InvalidInput("limit must be between 1 and 10000 and offset at least 0.")
        artifact = self.resolve(ref, kind)
        files = [{"path": path, **entry} for path, entry in self.entries(artifact, offset, limit)]
        total = artifact.file_count
        return {"reference": artifact.reference, "id": artifact.id, "files": files, "total": total,
                "limit": limit, "offset": offset,
                "next_offset": offset + len(files) if offset + len(files) < total else None}

    def file(self, artifact: Artifact, path: str) -> tuple[str, dict]:
        """The path and manifest entry of one file of an artifact, following the artifact's own
        links (never out of it)."""
        seen: set[str] = set()
        while True:
            entry = self.catalog.entry(artifact.id, path)
            if entry is None:
                raise NotFound(f"{artifact.reference} has no file {quote(path)}; list its files to see them.")
            if "link" not in entry:
                return path, entry
            seen.add(path)
            target = resolve_inside(f"{path.rpartition('/')[0]}/{entry['link']}", {})
            if target is None or target in seen or len(seen) > LINK_HOPS:
                raise Conflict(f"{quote(path)} is a link ({entry['link']}) that does not lead to a file of {artifact.reference}.")
            path = target

    def usage(self) -> dict:
        """Bytes stored by every artifact of the root (on a shared root: every host's, as last synced)."""
        self.sync()
        return {"used": self.catalog.usage(), "quota": self.settings.quota, "root": self.root.url,
                "shared": self.shared}

    # -- aliases and links -----------------------------------------------------------------
    @writes_to_store
    def set_alias(self, ref: str, alias: str, kind: str | None = None) -> Artifact:
        """Point an alias of a name at one of its versions (moving it if it pointed elsewhere).

        The move is a compare-and-swap against the alias as this machine last saw it, so two
        hosts moving one alias at once never both believe they won."""
        check_alias(alias)
        artifact = self.resolve(ref, kind)
        if artifact.state != "ready":
            raise Conflict(f"{artifact.reference} is {artifact.state}; aliases can point only at ready artifacts.")
        doc = alias_path(artifact.kind, artifact.name, alias)
        current = self.root.read_tagged(doc)
        body = dumps({"artifact_id": artifact.id, "alias": alias})
        if (current is None or current.data != body) and not self.root.replace_doc(doc, body, current.tag if current else None):
            self._learn_alias(artifact.kind, artifact.name, alias)
            raise Conflict(f"The alias {alias!r} of {artifact.name} was moved by another host just now "
                           f"(to {self._alias_shown(artifact.kind, artifact.name, alias)}); move it again if you "
                           "still want it on yours.")
        self._alias_changed(artifact.kind, artifact.name, alias, artifact.id)
        return self.catalog.get(artifact.id)

    @writes_to_store
    def remove_alias(self, ref: str, alias: str, kind: str | None = None) -> Artifact:
        artifact = self.resolve(ref, kind)
        if alias not in artifact.aliases:
            raise NotFound(f"{artifact.reference} has no alias {quote(alias)}.")
        if not self._drop_alias(artifact, alias):
            raise Conflict(f"The alias {alias!r} of {artifact.name} was moved by another host meanwhile (it points at "
                           f"{self._alias_shown(artifact.kind, artifact.name, alias)} now); nothing was removed.")
        return self.catalog.get(artifact.id)

    def _drop_alias(self, artifact: Artifact, alias: str) -> bool:
        """Remove an alias only if it still points where this machine saw it (another host may
        have moved it since: then it stays, this machine learns where it went, and False)."""
        doc = alias_path(artifact.kind, artifact.name, alias)
        current = self.root.read_tagged(doc)
        points_here = current is not None and _pointed(current.data) == artifact.id
        if points_here and self.root.delete_doc(doc, current.tag):
            self._alias_changed(artifact.kind, artifact.name, alias, None)
            return True
        self._learn_alias(artifact.kind, artifact.name, alias)
        return current is None

    def _alias_changed(self, kind: str, name: str, alias: str, artifact_id: str | None) -> None:
        with self.catalog.transaction() as db:
            self.catalog.set_alias(db, kind, name, alias, artifact_id)
        if self.shared:
            self.journal.append("alias", f"{kind}/{name}/{alias}")

    def _learn_alias(self, kind: str, name: str, alias: str) -> None:
        """Index an alias as the root has it now."""
        current = self.root.read_doc(alias_path(kind, name, alias))
        target = _pointed(current)
        if target is not None and self.catalog.get(target) is None:
            self.sync(force=True)
        with self.catalog.transaction() as db:
            self.catalog.set_alias(db, kind, name, alias, target if self.catalog.get(target or "") else None)

    def _alias_shown(self, kind: str, name: str, alias: str) -> str:
        target = self.catalog.alias_target(kind, name, alias)
        found = self.catalog.get(target) if target else None
        return found.reference if found else "nothing"

    @writes_to_store
    def link(self, ref: str, target: str, kind: str | None = None) -> Artifact:
        """Record that an artifact refers to another (e.g. a model to its training data)."""
        artifact = self.resolve(ref, kind)
        other = self.resolve(target)
        if other.id == artifact.id:
            raise InvalidInput("An artifact cannot refer to itself.")
        self.root.write_doc(link_path(artifact.id, other.id), dumps({"src": artifact.id, "dst": other.id}))
        with self.catalog.transaction() as db:
            self.catalog.set_ref(db, artifact.id, other.id, True)
        if self.shared:
            self.journal.append("link", f"{artifact.id}/{other.id}")
        return self.catalog.get(artifact.id)

    def lineage(self, ref: str, kind: str | None = None, depth: int = 20) -> dict:
        """What went into an artifact (refs, inputs, the job) and what was made from it, as nested trees
        (the jobs that used it are added by jupyter_artifacts.jobs.lineage)."""
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
            rows = self.catalog.related(a.id, upstream=direction == "up")
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

        return {**summary(artifact), "inputs": artifact.inputs,
                "upstream": walk(artifact, "up", {artifact.id}, 0),
                "downstream": walk(artifact, "down", {artifact.id}, 0)}

    # -- compare and find ------------------------------------------------------------------
    def diff(self, ref_a: str, ref_b: str, kind: str | None = None, files: int | None = None) -> dict:
        """Paths added, removed and changed from one artifact to another, and how many are the same.
        With `files`, also the first `files` of them (added, then removed, then changed) with their
        sizes in a and in b, from the same pass (`files_truncated` if there were more)."""
        a, b = self.resolve(ref_a, kind), self.resolve(ref_b, kind)
        found: dict[str, list[str]] = {"added": [], "removed": [], "changed": []}
        sizes: dict[str, tuple] = {}
        changes = self.changes(a, b)
        for change, path, old, new in changes:
            found[change].append(path)
            if files is not None:
                sizes[path] = ((old or {}).get("size"), (new or {}).get("size"))
        result = {"a": a.reference, "b": b.reference, "same_content": a.digest == b.digest, **found,
                  "unchanged": changes.unchanged}
        if files is not None:
            listed = [{"path": path, "change": change, "size_a": sizes[path][0], "size_b": sizes[path][1]}
                      for change in ("added", "removed", "changed") for path in found[change]]
            result.update(files=listed[:files], files_truncated=len(listed) > files)
        return result

    def changes(self, a: Artifact, b: Artifact) -> "Changes":
        """The paths that differ between two artifacts, in path order, as they are found."""
        return Changes(self.catalog, a.id, b.id)

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
    @reaches_root
    def verify(self, ref: str | None = None, kind: str | None = None) -> dict:
        """Re-hash every stored file (of one artifact, or of all) and name each damaged artifact and
        path. Each chunk of manifest the artifacts share is checked once, a chunk at a time, its
        files shared with worker processes where that is safe."""
        if ref:
            ids = [self.resolve(ref, kind).id]
        else:
            if self.shared:
                self.syncer.full()  # every host's artifacts
            ids = sorted(self.catalog.ready_ids())
        holders: dict[int, list[str]] = {}
        total = 0
        for artifact_id in ids:
            for chunk_id, _key, _first, entries in self.catalog.chunk_list(artifact_id):
                if chunk_id not in holders:
                    total += entries
                holders.setdefault(chunk_id, []).append(artifact_id)
        hash_blob = self.root.hash_blob

        def units() -> Iterator[tuple[list, list[str]]]:
            for chunk_id in holders:
                files = [(p, e["digest"]) for p, e in decode(self.catalog.chunk_text(chunk_id)).items() if "digest" in e]
                yield (chunk_id, files), [digest for _path, digest in files]

        damaged, checked = [], 0
        with Pool(hash_blob, workers_for(total, FORK_MIN)) as pool:
            for (chunk_id, files), actual in pool.map(units()):
                checked += len(files)
                for (path, digest), found in zip(files, actual):
                    if found == digest:
                        continue
                    for artifact_id in holders[chunk_id]:
                        artifact = self.catalog.get(artifact_id)
                        damaged.append({"id": artifact_id, "reference": artifact.reference, "kind": artifact.kind,
                                        "path": path, "digest": digest,
                                        "problem": "missing" if found is None else "content changed"})
        missing_records = [i for i in ids if not self.root.has_doc(record_path(i))]
        damaged.sort(key=lambda d: (d["reference"], d["path"]))
        return {"artifacts": len(ids), "blobs": checked, "damaged": damaged,
                "missing_records": missing_records, "ok": not damaged and not missing_records}

    # -- leases ----------------------------------------------------------------------------
    def acquire_lease(self, ref: str, holder: str, pid: int | None = None, kind: str | None = None) -> str:
        """Hold an artifact for a job, a kernel or a download: it cannot be deleted while the holder
        lives (on a shared root: on any host)."""
        artifact = self.resolve(ref, kind)
        return self.holds.acquire(artifact.id, artifact.reference, holder, pid)

    def release_lease(self, lease_id: str) -> None:
        self.holds.release(lease_id)

    def holders(self, artifact_id: str) -> list[str]:
        """Who holds an artifact now; leases of processes (and hosts) that stopped are dropped."""
        return self.holds.holders(artifact_id)

    def keep_leases(self) -> None:
        """Keep this machine's leases alive in a shared root from a thread (long-lived processes)."""
        self.holds.keep()

    # -- deleting --------------------------------------------------------------------------
    @writes_to_store
    def delete(self, ref: str, kind: str | None = None) -> dict:
        """Delete an artifact unless something holds it. On a root of one machine its blobs go
        when nothing else uses them; on a shared root `gc` removes them (another host's save in
        progress may rely on them)."""
        artifact = self.resolve(ref, kind)
        if self.shared:
            return self._delete_shared(artifact)
        self._refuse_if_held(artifact)
        refused = self.catalog.mark_deleting(artifact.id, procs.token(), procs.alive)
        if refused == "gone":
            raise NotFound(f"{artifact.reference} was deleted meanwhile.")
        if refused == "writing":
            raise Conflict(f"{artifact.reference} is still being written; wait for it to finish.")
        if refused == "held":
            raise InUse(f"{artifact.reference} was just attached by another process; try again later.")
        freed = self._finish_delete(artifact.id)
        return {"id": artifact.id, "reference": artifact.reference, "kind": artifact.kind, "freed_bytes": freed}

    def _refuse_if_held(self, artifact: Artifact) -> None:
        holders = self.holders(artifact.id)
        if holders:
            raise InUse(f"{artifact.kind.capitalize()} {artifact.reference} is in use by {', '.join(holders)}; "
                        "stop or detach it first.", holders=holders)

    def _delete_shared(self, artifact: Artifact) -> dict:
        """A tombstone first, then the leases of every host: a lease taken meanwhile sees the tombstone."""
        self.holds.tombstone(artifact.id, artifact.reference)
        try:
            self._refuse_if_held(artifact)
        except InUse:
            self.holds.lift(artifact.id)
            raise
        for kind, name, alias in self.catalog.aliases_of(artifact.id):
            self._drop_alias(artifact, alias)
        for doc in self.root.list_docs(f"links/{artifact.id}"):
            self.root.delete_doc(doc)
        self.root.delete_doc(record_path(artifact.id))
        self.journal.append("delete", artifact.id)
        with self.catalog.transaction() as db:
            self.catalog.drop(db, artifact.id)
        return {"id": artifact.id, "reference": artifact.reference, "kind": artifact.kind, "freed_bytes": 0}

    def _finish_delete(self, artifact_id: str) -> int:
        """Remove the record, then the index rows, then unused blobs; safe to run again after a crash."""
        found = self.catalog.get(artifact_id)
        if found is not None:
            for _kind, _name, alias in self.catalog.aliases_of(artifact_id):
                self.root.delete_doc(alias_path(found.kind, found.name, alias))
        for doc in self.root.list_docs(f"links/{artifact_id}"):
            self.root.delete_doc(doc)
        self.root.delete_doc(record_path(artifact_id))
        with self.catalog.transaction() as db:
            self.catalog.delete(db, artifact_id)
        return self._drop_freed_blobs()

    def _drop_freed_blobs(self) -> int:
        """Delete the blobs that deleted artifacts alone used; if a snapshot is running, leave them
        for `gc`. Returns the bytes freed."""
        try:
            with self.blob_lock(exclusive=True, wait=False):
                freed = 0
                for batch in self.catalog.freed_blobs():
                    for digest, size in batch:
                        self.root.remove_blob(digest)
                        freed += size
                return freed
        except BlockingIOError:
            self.catalog.forget_freed()
            return 0

    def collect_orphans(self) -> None:
        """After a write failed for lack of space: remove what it stored, unless another save runs."""
        if self.shared:
            return  # a shared root's gc decides, with its grace period
        try:
            self.gc(wait=False)
        except (BlockingIOError, OSError, sqlite3.Error):
            pass  # `gc` will, once the other save is done or there is room for the catalog

    @reaches_root
    def gc(self, wait: bool = True, grace: float | None = None) -> dict:
        """Remove blobs no artifact uses and leftovers of interrupted work; idempotent. On a shared
        root a blob goes only once it was unused at two gcs and is older than the grace period."""
        if self.shared:
            return collect_shared(self, grace)
        return collect_local(self, wait)

    def pending_digests(self) -> set[str]:
        """Stored blobs that saves in progress on any host rely on (their `pending/` documents)."""
        found: set[str] = set()
        now = time.time()
        for doc in self.root.list_docs("pending"):
            try:
                data = json.loads(self.root.read_doc(doc) or b"{}")
            except (ValueError, UnicodeDecodeError):
                continue
            if isinstance(data, dict) and isinstance(data.get("expires_at"), (int, float)) and data["expires_at"] > now:
                found.update(d for d in data.get("digests") or [] if isinstance(d, str))
        return found

    def clear_stale_documents(self, before: float) -> int:
        """Remove what crashed hosts left in a shared root: expired leases, save markers and
        tombstones of finished deletes (gc calls this)."""
        removed = 0
        for prefix, field in (("leases", "expires_at"), ("pending", "expires_at"), ("tombstones", "at")):
            for doc in self.root.list_docs(prefix):
                try:
                    data = json.loads(self.root.read_doc(doc) or b"{}")
                    stale = not isinstance(data, dict) or not (data.get(field, 0) >= before)
                except (ValueError, UnicodeDecodeError, TypeError):
                    stale = True
                if prefix == "tombstones":
                    stale = stale and not self.root.has_doc(record_path(doc[len("tombstones/"):-5]))
                if stale and self.root.delete_doc(doc):
                    removed += 1
        return removed

    @contextmanager
    def blob_lock(self, exclusive: bool, wait: bool = True) -> Iterator[None]:
        """Snapshots share this lock; blob removal takes it alone, so it never races a snapshot."""
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            flags = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
            fcntl.flock(fd, flags if wait else flags | fcntl.LOCK_NB)
            yield
        finally:
            os.close(fd)

    # -- sharing ---------------------------------------------------------------------------
    @reaches_root
    def download(self, ref: str, dest: str, kind: str | None = None, refs: bool = False, method: str = "auto",
                 progress: Progress | None = None) -> dict:
        """Materialize an artifact (and with refs, everything it refers to) into a new folder."""
        artifact = self.resolve(ref, kind)
        if artifact.state != "ready":
            raise Conflict(f"{artifact.reference} is {artifact.state}, not ready; wait for it or create it again.")
        dest = check_destination(dest)
        todo = [artifact] + ([a for a in self._closure(artifact) if a.id != artifact.id] if refs else [])
        leases = [self.holds.acquire(a.id, a.reference, f"a download to {dest}") for a in todo]
        renewing = self._renewing(progress)
        try:
            return self._download(artifact, todo, dest, refs, method, renewing)
        finally:
            for lease_id in leases:
                self.holds.release(lease_id)
            if self.blob_cache is not None:
                self.blob_cache.trim()

    def _renewing(self, progress: Progress | None) -> Progress:
        """A progress callback that also keeps this machine's leases alive (a long download)."""
        def report(*counts: int) -> None:
            self.holds.renew()
            if progress:
                progress(*counts)

        return report

    def _download(self, artifact: Artifact, todo: list[Artifact], dest: str, refs: bool, method: str,
                  progress: Progress) -> dict:
        if not refs:
            methods = materialize(self.blobs, self._materializing(artifact), dest, method, progress)
            return {"reference": artifact.reference, "path": dest, "methods": methods, "artifacts": 1}
        used_names: set[str] = set()
        methods: dict[str, int] = {}
        placed = []
        for item in todo:
            folder = item.name if item.name not in used_names else f"{item.name}-v{item.version}"
            used_names.add(folder)
            counts = materialize(self.blobs, self._materializing(item), os.path.join(dest, folder), method, progress)
            for how, n in counts.items():
                methods[how] = methods.get(how, 0) + n
            placed.append({"reference": item.reference, "kind": item.kind, "path": os.path.join(dest, folder)})
        return {"reference": artifact.reference, "path": dest, "methods": methods, "artifacts": len(todo), "placed": placed}

    def _materializing(self, artifact: Artifact) -> Materializing:
        return Materializing(self.catalog.batches(artifact.id), artifact.size, artifact.file_count)

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

    @reaches_root
    def export(self, ref: str, tar_path: str, kind: str | None = None, refs: bool = False) -> dict:
        from .transfer import export_tar

        artifact = self.resolve(ref, kind)
        todo = self._closure(artifact) if refs else [artifact]
        return export_tar(self, todo, tar_path)

    @writes_to_store
    def import_tar(self, tar_path: str) -> dict:
        from .transfer import import_tar

        return import_tar(self, tar_path)

    def index_record(self, artifact: Artifact, tree: Tree) -> None:
        """Add a published record (from an import) to the catalog as it is."""
        with self.catalog.transaction() as db:
            self.catalog.index_published(db, artifact, tree)
        if self.shared:
            self.journal.append("record", artifact.id)

    def version_holder(self, kind: str, name: str, version: int) -> str | None:
        """The id of the artifact a version was given to, from its claim in the root (None: never
        given; 'unknown': claimed, by a claim that names no artifact)."""
        reader = RootReader(self)
        if reader.pointer(version_path(kind, name, version)) is None:
            return None
        return reader.claim_holder(kind, name, version) or "unknown"

    def claim_version(self, artifact: Artifact) -> None:
        """Claim a record's own version (an import keeps versions); refused if another artifact has it."""
        path = version_path(artifact.kind, artifact.name, artifact.version)
        if not self.root.claim(path, dumps({"artifact_id": artifact.id})) \
                and self.version_holder(artifact.kind, artifact.name, artifact.version) != artifact.id:
            raise Conflict(f"{artifact.kind.capitalize()} {artifact.reference} was given to another artifact "
                           "meanwhile; import into another store.")

    # -- rebuilding ------------------------------------------------------------------------
    @reaches_root
    def reindex(self) -> dict:
        """Rebuild the catalog's index from the root alone (records, aliases, links, version claims).

        Everything read is checked as untrusted input: a record, alias or link that this store
        would never write is skipped, named in `skipped`, and changes nothing."""
        started = time.time()
        reader = RootReader(self)
        _ids, records = reader.records()
        counters = reader.counters()
        for artifact in records:
            key = (artifact.kind, artifact.name)
            counters[key] = max(counters.get(key, 0), artifact.version)
        taken = {key: aid for aid, key in self.catalog.unfinished_versions()}
        records = reader.one_per_version(records, taken)
        with self.catalog.transaction() as db:
            self.catalog.clear_index(db)
            records = reader.index(db, self.catalog, records)
            known = {a.id: (a.kind, a.name) for a in records}
            links, aliases = reader.links(set(known)), reader.aliases(known)
            self.catalog.replace_pointers(db, links, aliases, counters)
            self.catalog.set_sync_values(db, last_millis=int(started * 1000), checked_at=started)
        if not self.catalog.read_only:
            reader.claim_unclaimed(records)
        return {"artifacts": len(records), "aliases": len(aliases), "skipped": reader.report("reindex")}
