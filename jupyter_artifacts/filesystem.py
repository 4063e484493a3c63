"""`artifact://KIND/REF/PATH`: the files of stored artifacts for every library that takes an fsspec URL.

    pandas.read_csv("artifact://dataset/iris:prod/train.csv")
    with fsspec.open("artifact://checkpoint/resnet:v3/model.pt") as f:
        state = torch.load(f)
    fsspec.filesystem("artifact", root="s3://team/artifacts").glob("dataset/iris/**/*.csv")

Registered with fsspec through the `fsspec.specs` entry point, so any process with the package
installed knows the protocol. REF is any reference the CLI takes (NAME, NAME:vN, NAME:ALIAS, an id).
The root is the job's store inside a job, else `JUPYTER_ARTIFACTS_ROOT` (or the default), unless
`root` is given (`storage_options={"root": ...}`).

Read-only, because artifacts are immutable: a write is refused with one line. Files are read
straight from their blobs (a local root's file, or a remote root's blob through this host's blob
cache; a byte range of a blob not cached is read from the root itself), never by materializing
the artifact. A file read is recorded as an input of what this process saves next: the kernel's
next save (kernel/actions.py) or, inside a job, the worker's checkpoints and output.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import threading
from collections import OrderedDict
from typing import IO, Any

from fsspec import AbstractFileSystem

from .errors import Forbidden, NotFound
from .store.names import KINDS

PROTOCOL = "artifact"
TREES_KEPT = 64  # manifests indexed per process (an artifact never changes: its index never goes stale)


class ArtifactNotFound(NotFound, FileNotFoundError):
    """No such artifact or file: one line for the faces, a FileNotFoundError for the libraries."""


class ReadOnly(Forbidden, PermissionError):
    """A write to an artifact: artifacts are immutable."""


def _refuse_write(path: str = "") -> ReadOnly:
    where = f" ({PROTOCOL}://{path})" if path else ""
    kind = path.split("/", 1)[0]
    return ReadOnly(f"Artifacts are immutable: {PROTOCOL}:// is read-only{where}; write your files to a folder "
                    f"and save it as a new version (`jupyter artifacts {kind if kind in KINDS else 'KIND'} create "
                    "NAME FOLDER`).")


# -- what this process read, for the lineage of what it saves next ---------------------------------
_read: dict[tuple[str, str], dict] = {}  # (root URL, artifact id) -> the input it is
_read_lock = threading.Lock()


def record_read(root_url: str, artifact: Any) -> None:
    """Note an artifact of the root at `root_url` whose files this process read: an input of the
    kernel's next save, and inside a job of the worker's checkpoints and output (`reads.jsonl`,
    which its supervisor reads)."""
    with _read_lock:
        if (root_url, artifact.id) in _read:
            return
        item = {"id": artifact.id, "kind": artifact.kind, "reference": artifact.reference, "role": "read",
                "root": root_url}
        _read[(root_url, artifact.id)] = item
    from . import worker

    worker.note_input(item)


def read_artifacts(root_url: str) -> list[dict]:
    """The artifacts of that root this process read through `artifact://`, in the order first read."""
    with _read_lock:
        return [{k: v for k, v in item.items() if k != "root"} for item in _read.values() if item["root"] == root_url]


# -- which store -----------------------------------------------------------------------------------
_stores: dict[str, Any] = {}
_stores_lock = threading.Lock()


def _job_settings() -> dict | None:
    """Inside a job, the settings of the store the job was submitted to (written by its supervisor)."""
    from . import worker

    attached = worker.attached()
    return attached.get("store") if attached else None


def open_store(root: str | None = None, root_options: dict | None = None):
    """The store a URL reads from: `root` if given, else the job's store, else the environment's;
    one Store per settings in a process."""
    from .store import Store, StoreSettings

    job = None if root else _job_settings()
    if job:
        known = StoreSettings.__dataclass_fields__
        settings = StoreSettings(**{k: v for k, v in job.items() if k in known})
    else:
        settings = StoreSettings.from_env(root)
    if root_options:
        settings.storage_options = dict(root_options)
    key = json.dumps(dataclasses.asdict(settings), sort_keys=True, default=str)
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = Store(settings)
        return store


# -- an artifact's tree ----------------------------------------------------------------------------
class Tree:
    """An artifact's manifest indexed by folder: what `ls` lists at each level."""

    def __init__(self, manifest: dict[str, dict]) -> None:
        self.files = manifest
        self.children: dict[str, dict[str, bool]] = {"": {}}  # folder -> {child name: is a folder}
        for path in manifest:
            parent, _, leaf = path.rpartition("/")
            self.children.setdefault(parent, {})[leaf] = False
            while parent:
                grand, _, name = parent.rpartition("/")
                siblings = self.children.setdefault(grand, {})
                if siblings.get(name):
                    break
                siblings[name] = True
                self.children.setdefault(parent, {})
                parent = grand


class BlobFile(io.BufferedReader):
    """A stored file opened for reading, with what fsspec's callers ask of a file besides: its size
    and its path in the file system."""

    def __init__(self, blob: str, size: int, path: str) -> None:
        super().__init__(io.FileIO(blob, "r"))
        self.size = size
        self.path = path


_trees: OrderedDict[str, Tree] = OrderedDict()
_trees_lock = threading.Lock()


class ArtifactFileSystem(AbstractFileSystem):
    """Read-only fsspec file system over a store's artifacts: `KIND/REF/PATH`."""

    protocol = PROTOCOL
    root_marker = ""
    # Not fsspec's instance cache: it would keep the store of the first root the environment named.
    # Stores are kept per settings instead (open_store), so making one of these is cheap.
    cachable = False

    def __init__(self, root: str | None = None, root_options: dict | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.root = root
        self.root_options = root_options
        self._store = None

    @property
    def store(self):
        if self._store is None:
            self._store = open_store(self.root, self.root_options)
        return self._store

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        path = path[len(PROTOCOL) + 3:] if path.startswith(f"{PROTOCOL}://") else path
        return path.strip("/")

    # -- resolving -------------------------------------------------------------------------
    def _split(self, path: str) -> tuple[str | None, str | None, str]:
        """(kind, ref, path inside the artifact) of a path; a kind that is not one is not found."""
        parts = self._strip_protocol(path).split("/", 2)
        kind = parts[0] or None
        if kind is not None and kind not in KINDS:
            raise ArtifactNotFound(f"No such path {PROTOCOL}://{path.strip('/')}: it starts with a kind "
                                   f"({', '.join(KINDS)}), then a reference, then the file's path.")
        return kind, parts[1] if len(parts) > 1 else None, parts[2] if len(parts) > 2 else ""

    def _artifact(self, kind: str, ref: str):
        """The ready artifact a reference names (resolved at each call: an alias may move)."""
        try:
            artifact = self.store.resolve(ref, kind)
        except NotFound as exc:
            raise ArtifactNotFound(exc.message) from None
        if artifact.state != "ready":
            raise ArtifactNotFound(f"{kind.capitalize()} {artifact.reference} is {artifact.state}, not ready.")
        return artifact

    def _tree(self, artifact) -> Tree:
        with _trees_lock:
            tree = _trees.get(artifact.id)
            if tree is not None:
                _trees.move_to_end(artifact.id)
                return tree
        tree = Tree(self.store.catalog.manifest(artifact.id))
        with _trees_lock:
            _trees[artifact.id] = tree
            while len(_trees) > TREES_KEPT:
                _trees.popitem(last=False)
        return tree

    def _file(self, path: str) -> tuple[Any, str, dict]:
        """(artifact, path inside it, manifest entry) of a file, links inside the artifact followed."""
        kind, ref, inner = self._split(path)
        if not kind or not ref or not inner:
            raise IsADirectoryError(f"{PROTOCOL}://{self._strip_protocol(path)} is a folder, not a file.")
        artifact = self._artifact(kind, ref)
        tree = self._tree(artifact)
        if inner not in tree.files:
            if inner in tree.children:
                raise IsADirectoryError(f"{PROTOCOL}://{self._strip_protocol(path)} is a folder, not a file.")
            raise ArtifactNotFound(f"{artifact.kind.capitalize()} {artifact.reference} has no file {inner!r}.")
        entry = tree.files[inner]
        if "link" in entry:
            inner, entry = self.store.file(artifact, inner)  # a link inside the artifact, followed
        return artifact, inner, entry

    # -- listing ---------------------------------------------------------------------------
    def _entry(self, name: str, artifact, inner: str, tree: Tree) -> dict:
        entry = tree.files.get(inner)
        if entry is None:
            return {"name": name, "size": 0, "type": "directory", "created": artifact.created_at}
        if "link" in entry:
            try:
                _path, entry = self.store.file(artifact, inner)
            except Exception:  # noqa: BLE001 - a link to a folder, or out of the artifact
                return {"name": name, "size": 0, "type": "other", "link": entry["link"]}
        return {"name": name, "size": entry["size"], "type": "file", "digest": entry["digest"],
                "ETag": entry["digest"], "mode": entry["mode"], "created": artifact.created_at}

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list:
        path = self._strip_protocol(path)
        kind, ref, inner = self._split(path)
        if kind is None:
            found = [{"name": k, "size": 0, "type": "directory"} for k in KINDS]
        elif ref is None:
            found = [{"name": f"{kind}/{name}", "size": 0, "type": "directory"} for name in self._names(kind)]
        else:
            artifact = self._artifact(kind, ref)
            tree = self._tree(artifact)
            if inner in tree.files:
                found = [self._entry(path, artifact, inner, tree)]
            elif inner in tree.children:
                prefix = f"{inner}/" if inner else ""
                found = [self._entry(f"{path}/{name}", artifact, prefix + name, tree)
                         for name in sorted(tree.children[inner])]
            else:
                raise ArtifactNotFound(f"{artifact.kind.capitalize()} {artifact.reference} has no file or "
                                       f"folder {inner!r}.")
        return found if detail else [f["name"] for f in found]

    def _names(self, kind: str) -> list[str]:
        """The names of a kind's ready artifacts (each a folder: its latest version)."""
        names: set[str] = set()
        offset = 0
        while True:
            page, total = self.store.list(kind, state="ready", limit=1000, offset=offset)
            names.update(a.name for a in page)
            offset += len(page)
            if not page or offset >= total:
                return sorted(names)

    def info(self, path: str, **kwargs: Any) -> dict:
        path = self._strip_protocol(path)
        kind, ref, inner = self._split(path)
        if kind is None:
            return {"name": "", "size": 0, "type": "directory"}
        if ref is None:
            return {"name": kind, "size": 0, "type": "directory"}
        artifact = self._artifact(kind, ref)
        if not inner:
            return {"name": path, "size": artifact.size, "type": "directory", "id": artifact.id,
                    "reference": artifact.reference, "digest": artifact.digest, "created": artifact.created_at}
        tree = self._tree(artifact)
        if inner not in tree.files and inner not in tree.children:
            raise ArtifactNotFound(f"{artifact.kind.capitalize()} {artifact.reference} has no file or folder {inner!r}.")
        return self._entry(path, artifact, inner, tree)

    def exists(self, path: str, **kwargs: Any) -> bool:
        try:
            self.info(path)
            return True
        except (FileNotFoundError, ValueError):
            return False

    def ukey(self, path: str) -> str:
        """A file's digest: it names its content, so caches keyed by it are never stale."""
        return self._file(path)[2]["digest"]

    def created(self, path: str):
        import datetime

        return datetime.datetime.fromtimestamp(self.info(path)["created"], tz=datetime.timezone.utc)

    modified = created

    # -- reading ---------------------------------------------------------------------------
    def _open(self, path: str, mode: str = "rb", block_size: int | None = None, autocommit: bool = True,
              cache_options: dict | None = None, **kwargs: Any) -> IO[bytes]:
        if "r" not in mode or "+" in mode:
            raise _refuse_write(self._strip_protocol(path))
        artifact, _inner, entry = self._file(path)
        handle = self._blob(entry["digest"], entry["size"], self._strip_protocol(path))
        record_read(self.store.root.url, artifact)
        return handle

    def _blob(self, digest: str, size: int, path: str) -> IO[bytes]:
        """A blob to read: the local root's file, else the blob cache's copy (fetched once per host),
        else (no cache) the remote root's object itself."""
        store = self.store
        if store.root.is_local:
            return BlobFile(store.root.blob_path(digest), size, path)
        if store.blob_cache is not None:
            handle = BlobFile(store.blob_cache.local_path(digest), size, path)
            store.blob_cache.trim()
            return handle
        return store.root.open_blob(digest)

    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
        """A file's bytes, or a range of them; a range of a remote blob this host has not cached is
        read from the root, not fetched whole."""
        artifact, _inner, entry = self._file(path)
        size = entry["size"]
        start = 0 if start is None else (max(size + start, 0) if start < 0 else min(start, size))
        end = size if end is None else (max(size + end, 0) if end < 0 else min(end, size))
        if end <= start:
            record_read(self.store.root.url, artifact)
            return b""
        store, digest = self.store, entry["digest"]
        cached = store.blob_cache is not None and os.path.exists(store.blob_cache.path(digest))
        whole = start == 0 and end == size
        direct = store.root.is_local or cached or whole
        with self._blob(digest, size, path) if direct else store.root.open_blob(digest) as f:
            f.seek(start)
            data = f.read(end - start)
        record_read(self.store.root.url, artifact)
        return data

    # -- writing: refused ------------------------------------------------------------------
    def _refused(self, path: Any = "", *args: Any, **kwargs: Any) -> None:
        raise _refuse_write(self._strip_protocol(path) if isinstance(path, str) else "")

    mkdir = makedirs = rmdir = rm = rm_file = _rm = touch = pipe_file = pipe = cp_file = copy = mv = _refused

    def _refused_target(self, source: Any, path: Any = "", *args: Any, **kwargs: Any) -> None:
        self._refused(path)

    put_file = put = _refused_target


def url(kind: str, ref: str, path: str = "") -> str:
    """`artifact://KIND/REF/PATH` (an id for REF names one artifact whatever aliases do later)."""
    return f"{PROTOCOL}://{kind}/{ref}" + (f"/{path.lstrip('/')}" if path else "")


__all__ = ["PROTOCOL", "ArtifactFileSystem", "ArtifactNotFound", "ReadOnly", "open_store", "read_artifacts",
           "record_read", "url"]
