"""Roots behind fsspec: any file system it knows (`FsspecRoot`), and S3 with its conditional
writes (`S3Root`: `If-None-Match: *` creates, `If-Match: ETAG` compare-and-swap).

Listings are never cached: a root is shared, and a cached listing hides what other hosts wrote.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import stat
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any

import blake3

from ...errors import InvalidInput
from ..digest import hash_bytes, hash_file
from . import (
    PREFIX,
    BlobInfo,
    Capabilities,
    NotRegularFile,
    SourceChanged,
    Tagged,
    blob_relpath,
    digest_from_relpath,
)

# backends whose exclusive create ('xb') is a conditional request the service enforces
_ATOMIC_CREATE = {"gs": "gcsfs sends ifGenerationMatch=0", "gcs": "gcsfs sends ifGenerationMatch=0",
                  "az": "adlfs sends If-None-Match: *", "abfs": "adlfs sends If-None-Match: *",
                  "abfss": "adlfs sends If-None-Match: *", "file": "open(O_EXCL)", "local": "open(O_EXCL)"}
LOCK_SECONDS = 30.0  # a document lock older than this was left by a crash
UPLOAD_IN_MEMORY = 8 << 20
MULTIPART_CHUNK = 8 << 20  # smaller files are read once, hashed again and sent from memory
READ_RANGE = 8 << 20  # a document is read this much at a time


class _Ranges(io.RawIOBase):
    """A document read a range at a time (`fetch(start)` gives the bytes from `start` on)."""

    def __init__(self, fetch: Any, first: bytes, total: int) -> None:
        self.fetch, self.total = fetch, total
        self.buffer, self.offset, self.start = memoryview(first), 0, 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        if self.offset == len(self.buffer) and self.start < self.total:
            found = self.fetch(self.start)
            self.buffer, self.offset = memoryview(found[0] if found else b""), 0
        size = min(len(target), len(self.buffer) - self.offset)
        target[:size] = self.buffer[self.offset:self.offset + size]
        self.offset += size
        self.start += size
        return size


def _drop_lost_connections(loop: Any, context: dict) -> None:
    """A request abandoned when its connection was lost (the root went away mid-save) is already
    reported by the call that failed, in one line: its task's own traceback is noise."""
    exc = context.get("exception")
    if isinstance(exc, OSError) or type(exc).__module__.split(".")[0] == "aiohttp":
        return
    loop.default_exception_handler(context)


def _quiet_abandoned_requests(fs: Any) -> None:
    loop = getattr(fs, "loop", None) if getattr(fs, "async_impl", False) else None
    if loop is not None and loop.get_exception_handler() is None:
        loop.set_exception_handler(_drop_lost_connections)


def _same_file_state(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_size, a.st_mtime_ns, a.st_ctime_ns) == (b.st_size, b.st_mtime_ns, b.st_ctime_ns)


def _timestamp(info: dict) -> float:
    value = info.get("LastModified") or info.get("mtime") or info.get("updated") or info.get("last_modified")
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return float(value or 0.0)


class FsspecRoot:
    """A root on any fsspec file system (GCS, Azure, memory, ...).

    Exclusive create is fsspec's 'xb' mode, atomic where the backend makes it a conditional
    request (gcsfs, adlfs, local files). Compare-and-swap takes a lock object made by exclusive
    create around the compare and the write; a lock left by a crash is taken over after
    LOCK_SECONDS.
    """

    is_local = False

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        import fsspec

        self.url = url
        options = {"use_listings_cache": False, "skip_instance_cache": True, **(storage_options or {})}
        self.fs, self.path = fsspec.core.url_to_fs(url, **options)
        self.path = self.path.rstrip("/")
        _quiet_abandoned_requests(self.fs)
        protocol = url.split("://", 1)[0]
        atomic = protocol in _ATOMIC_CREATE or self._atomic_protocol()
        self.capabilities = Capabilities(
            exclusive_create=atomic, compare_and_swap=atomic,
            why_not="" if atomic else f"{protocol}:// has no exclusive create that its service enforces "
                                      "(fsspec checks, then writes)")

    def _atomic_protocol(self) -> bool:
        return False

    def _full(self, relpath: str) -> str:
        return posixpath.join(self.path, relpath) if relpath else self.path

    def _rel(self, path: str) -> str:
        return posixpath.relpath(path.lstrip("/"), self.path.lstrip("/"))

    def local_folder(self) -> str | None:
        return None

    def probe(self) -> str | None:
        """Why the service may not keep the stated capabilities (None: it does, or cannot be asked)."""
        return None

    # -- blobs -----------------------------------------------------------------------------
    def has_blob(self, digest: str) -> bool:
        return self.fs.exists(self._full(blob_relpath(digest)))

    def blob_size(self, digest: str) -> int | None:
        try:
            return self.fs.size(self._full(blob_relpath(digest)))
        except FileNotFoundError:
            return None

    def _put_bytes(self, data: bytes, digest: str) -> int:
        """Upload a blob unless it is there; the bytes written (0 if it was)."""
        if self.has_blob(digest):
            return 0
        self.fs.pipe_file(self._full(blob_relpath(digest)), data)
        return len(data)

    def _put_path(self, src: str, digest: str, size: int) -> int:
        if self.has_blob(digest):
            return 0
        self.fs.put_file(src, self._full(blob_relpath(digest)))
        return size

    def store_bytes(self, data: bytes) -> tuple[str, int]:
        digest = hash_bytes(data)
        return digest, self._put_bytes(data, digest)

    def store_file(self, src: str) -> tuple[str, int, os.stat_result]:
        before = os.stat(src, follow_symlinks=False)
        if not stat.S_ISREG(before.st_mode):
            raise NotRegularFile(src)
        digest = hash_file(src, before.st_size)
        if not _same_file_state(before, os.stat(src, follow_symlinks=False)):
            raise SourceChanged(src)
        return digest, self._put_path(src, digest, before.st_size), before

    def upload_file(self, src: str, digest: str, size: int) -> int:
        """Upload a file hashed earlier (a save hashes first, then asks which blobs are missing);
        the bytes written. A file that changed since is refused (SourceChanged), never stored
        under a digest that is not its content's."""
        before = os.stat(src, follow_symlinks=False)
        if before.st_size != size:
            raise SourceChanged(src)
        if size <= UPLOAD_IN_MEMORY:
            with open(src, "rb") as handle:
                data = handle.read(size + 1)
            if hash_bytes(data) != digest:
                raise SourceChanged(src)
            return self._put_bytes(data, digest)
        written = self._put_path(src, digest, size)
        if not _same_file_state(before, os.stat(src, follow_symlinks=False)) or hash_file(src, size) != digest:
            if written:
                self.remove_blob(digest)  # this upload made it: nobody else relies on it yet
            raise SourceChanged(src)
        return written

    def missing_blobs(self, digests: set[str], stored_hint: int = 0) -> set[str]:
        """Which of these blobs the root lacks: a request per blob when few are asked, else one
        listing of every blob (a request per 1,000 on S3), whichever costs fewer requests."""
        if len(digests) <= max(32, stored_hint // 1000):
            return {d for d in digests if not self.has_blob(d)}
        stored = {info.digest for info in self.list_blobs()}
        return set(digests) - stored

    def read_blob(self, digest: str) -> bytes:
        return self.fs.cat_file(self._full(blob_relpath(digest)))

    def open_blob(self, digest: str) -> IO[bytes]:
        return self.fs.open(self._full(blob_relpath(digest)), "rb")

    def hash_blob(self, digest: str) -> str | None:
        hasher = blake3.blake3()
        try:
            with self.open_blob(digest) as handle:
                for chunk in iter(lambda: handle.read(8 << 20), b""):
                    hasher.update(chunk)
        except FileNotFoundError:
            return None
        return f"blake3:{hasher.hexdigest()}"

    def fetch_blob(self, digest: str, dest: str) -> None:
        """Download a blob to a local path."""
        self.fs.get_file(self._full(blob_relpath(digest)), dest)

    def materialize_blob(self, digest: str, dest: str, mode: int, method: str, size: int | None = None) -> str:
        if method in ("hardlink", "reflink"):
            raise InvalidInput(f"The {method} method needs a local store root; {self.url} is remote.")
        self.fetch_blob(digest, dest)
        os.chmod(dest, mode & 0o777 | 0o200)
        return "download"

    def remove_blob(self, digest: str) -> None:
        try:
            self.fs.rm_file(self._full(blob_relpath(digest)))
        except FileNotFoundError:
            pass

    def iter_blobs(self) -> Iterator[str]:
        return (info.digest for info in self.list_blobs())

    def list_blobs(self, prefix: str = "") -> Iterator[BlobInfo]:
        base = self._full("objects/" + prefix[:2]) if len(prefix) >= 2 else self._full("objects")
        try:
            found = self.fs.find(base, detail=True)
        except FileNotFoundError:
            return
        for path, info in sorted(found.items()):
            digest = digest_from_relpath(self._rel(path))
            if digest and digest[PREFIX:].startswith(prefix):
                yield BlobInfo(digest, int(info.get("size") or 0), _timestamp(info))

    # -- documents -------------------------------------------------------------------------
    def write_doc(self, relpath: str, data: bytes) -> None:
        self.fs.pipe_file(self._full(relpath), data)

    def read_doc(self, relpath: str) -> bytes | None:
        try:
            return self.fs.cat_file(self._full(relpath))
        except FileNotFoundError:
            return None

    def has_doc(self, relpath: str) -> bool:
        return bool(self.fs.exists(self._full(relpath)))

    def open_doc(self, relpath: str) -> IO[bytes] | None:
        try:
            return self.fs.open(self._full(relpath), "rb")
        except FileNotFoundError:
            return None

    def write_doc_stream(self, relpath: str, pieces: Iterable[bytes]) -> None:
        with self.fs.open(self._full(relpath), "wb") as handle:
            for piece in pieces:
                handle.write(piece)

    def read_tagged(self, relpath: str) -> Tagged | None:
        data = self.read_doc(relpath)
        return None if data is None else Tagged(data, blake3.blake3(data).hexdigest()[:32])

    def claim(self, relpath: str, data: bytes) -> bool:
        """Create a document only if none exists; False if it exists."""
        try:
            with self.fs.open(self._full(relpath), "xb") as handle:
                handle.write(data)
        except FileExistsError:
            return False
        return True

    def _locked(self, relpath: str, change: Any) -> bool:
        """Run `change()` holding a lock object for `relpath` (made by exclusive create)."""
        lock = f"locks/{blake3.blake3(relpath.encode()).hexdigest()[:32]}.json"
        deadline = time.monotonic() + 2 * LOCK_SECONDS
        while not self.claim(lock, json.dumps({"expires_at": time.time() + LOCK_SECONDS}).encode()):
            held = self.read_tagged(lock)
            try:
                stale = held is not None and json.loads(held.data)["expires_at"] < time.time()
            except (ValueError, KeyError, TypeError):
                stale = True
            if stale:
                self._delete(lock)
            elif time.monotonic() > deadline:
                raise TimeoutError(f"{self.url}/{relpath} stayed locked by another host")
            else:
                time.sleep(0.05)
        try:
            return change()
        finally:
            self._delete(lock)

    def replace_doc(self, relpath: str, data: bytes, tag: str | None) -> bool:
        def change() -> bool:
            current = self.read_tagged(relpath)
            if (current.tag if current else None) != tag:
                return False
            self.write_doc(relpath, data)
            return True

        return self._locked(relpath, change)

    def _delete(self, relpath: str) -> bool:
        try:
            self.fs.rm_file(self._full(relpath))
        except FileNotFoundError:
            return False
        return True

    def delete_doc(self, relpath: str, tag: str | None = None) -> bool:
        if tag is None:
            return self._delete(relpath)

        def change() -> bool:
            current = self.read_tagged(relpath)
            return current is not None and current.tag == tag and self._delete(relpath)

        return self._locked(relpath, change)

    def list_docs(self, prefix: str, suffix: str = ".json") -> list[str]:
        try:
            found = self.fs.find(self._full(prefix))
        except FileNotFoundError:
            return []
        return sorted(self._rel(p) for p in found if p.endswith(suffix))

    def list_keys(self, prefix: str, start_after: str | None = None) -> list[str]:
        try:
            found = self.fs.ls(self._full(prefix), detail=False)
        except FileNotFoundError:
            return []
        keys = sorted(self._rel(p) for p in found)
        return keys if start_after is None else [k for k in keys if k > start_after]

    def clean_tmp(self, older_than: float = 0.0) -> int:
        return 0


class S3Root(FsspecRoot):
    """S3 and S3-compatible services: exclusive creates with `If-None-Match: *`, compare-and-swap
    with `If-Match: ETAG`, listings from a key on (`StartAfter`), one request per new blob (a
    conditional PUT answers "already there" itself).

    Whether the service honours conditional writes is checked once per host and root (a service
    that ignores them cannot be shared safely); see `probe`.
    """

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        super().__init__(url, storage_options)
        self.bucket, _, self.prefix = self.path.partition("/")

    def _atomic_protocol(self) -> bool:
        return True

    def _key(self, relpath: str) -> str:
        return f"{self.prefix}/{relpath}" if self.prefix else relpath

    def _call(self, method: str, **kwargs: Any) -> Any:
        from fsspec.asyn import sync

        return sync(self.fs.loop, self.fs._call_s3, method, Bucket=self.bucket, **kwargs)

    @staticmethod
    def _code(exc: BaseException) -> str:
        response = getattr(exc, "response", None) or {}
        return str(response.get("Error", {}).get("Code", ""))

    def _conditional(self, method: str, **kwargs: Any) -> bool:
        """A conditional request: False when the service says the condition failed."""
        from botocore.exceptions import ClientError

        try:
            self._call(method, **kwargs)
        except (FileExistsError, FileNotFoundError):  # s3fs's names for 412 and 404
            return False
        except ClientError as exc:
            if self._code(exc) in ("PreconditionFailed", "ConditionalRequestConflict", "412", "NoSuchKey", "404"):
                return False
            raise
        except OSError as exc:  # s3fs maps some 412s (If-Match) to EINVAL
            if "condition" in str(exc).lower():
                return False
            raise
        return True

    def probe(self) -> str | None:
        """Claim one probe key twice: the second must be refused. None if it was; else why not."""
        from .. import roots

        probe = f"tmp/probe-{roots.random_id()}"
        body = b"probe"
        try:
            first = self._conditional("put_object", Key=self._key(probe), Body=body, IfNoneMatch="*")
            second = self._conditional("put_object", Key=self._key(probe), Body=body, IfNoneMatch="*")
        finally:
            self._conditional("delete_object", Key=self._key(probe))
        if first and not second:
            return None
        return (f"{self.url} accepted a second create of one key despite If-None-Match: *, so two hosts "
                "could both claim one version; use a service that honours conditional writes")

    def _put_bytes(self, data: bytes, digest: str) -> int:
        created = self._conditional("put_object", Key=self._key(blob_relpath(digest)), Body=data, IfNoneMatch="*")
        return len(data) if created else 0

    def _put_path(self, src: str, digest: str, size: int) -> int:
        try:
            # parts of 8 MiB, many at once: an object store takes a large file fastest so
            self.fs.put_file(src, self._full(blob_relpath(digest)), mode="create", chunksize=MULTIPART_CHUNK,
                             max_concurrency=16)
        except FileExistsError:
            return 0
        return size

    def read_tagged(self, relpath: str) -> Tagged | None:
        from botocore.exceptions import ClientError
        from fsspec.asyn import sync

        async def get() -> Tagged:
            response = await self.fs._call_s3("get_object", Bucket=self.bucket, Key=self._key(relpath))
            async with response["Body"] as body:
                return Tagged(await body.read(), response["ETag"])

        try:
            return sync(self.fs.loop, get)
        except ClientError as exc:
            if self._code(exc) in ("NoSuchKey", "404"):
                return None
            raise
        except FileNotFoundError:
            return None

    def read_doc(self, relpath: str) -> bytes | None:
        tagged = self.read_tagged(relpath)
        return None if tagged is None else tagged.data

    def open_doc(self, relpath: str) -> IO[bytes] | None:
        """A document read a range at a time: one request for one that fits a range (most do)."""
        first = self._range(relpath, 0)
        if first is None:
            return None
        data, total = first
        return io.BufferedReader(_Ranges(lambda start: self._range(relpath, start), data, total), READ_RANGE)

    def _range(self, relpath: str, start: int) -> tuple[bytes, int] | None:
        """(bytes from `start`, at most READ_RANGE of them; the document's size), None if it is gone."""
        from botocore.exceptions import ClientError
        from fsspec.asyn import sync

        async def get() -> tuple[bytes, int]:
            response = await self.fs._call_s3("get_object", Bucket=self.bucket, Key=self._key(relpath),
                                              Range=f"bytes={start}-{start + READ_RANGE - 1}")
            async with response["Body"] as body:
                data = await body.read()
            total = response.get("ContentRange", "").rpartition("/")[2]
            return data, int(total) if total.isdigit() else start + len(data)

        try:
            return sync(self.fs.loop, get)
        except ClientError as exc:
            if self._code(exc) in ("NoSuchKey", "404"):
                return None
            if self._code(exc) == "InvalidRange":  # an empty document
                return b"", 0
            raise
        except FileNotFoundError:
            return None

    def write_doc(self, relpath: str, data: bytes) -> None:
        self._call("put_object", Key=self._key(relpath), Body=data)

    def claim(self, relpath: str, data: bytes) -> bool:
        return self._conditional("put_object", Key=self._key(relpath), Body=data, IfNoneMatch="*")

    def replace_doc(self, relpath: str, data: bytes, tag: str | None) -> bool:
        condition = {"IfMatch": tag} if tag is not None else {"IfNoneMatch": "*"}
        return self._conditional("put_object", Key=self._key(relpath), Body=data, **condition)

    def delete_doc(self, relpath: str, tag: str | None = None) -> bool:
        if tag is None:
            return self._delete(relpath)
        return self._conditional("delete_object", Key=self._key(relpath), IfMatch=tag)

    def _list(self, prefix: str, start_after: str | None = None) -> Iterator[dict]:
        """Every object under a key prefix, a page of 1,000 per request."""
        kwargs: dict[str, Any] = {"Prefix": self._key(prefix)}
        if start_after is not None:
            kwargs["StartAfter"] = self._key(start_after)
        while True:
            page = self._call("list_objects_v2", **kwargs)
            yield from page.get("Contents", [])
            if not page.get("IsTruncated"):
                return
            kwargs["ContinuationToken"] = page["NextContinuationToken"]
            kwargs.pop("StartAfter", None)

    def _relkey(self, key: str) -> str:
        return key[len(self.prefix) + 1:] if self.prefix else key

    def list_keys(self, prefix: str, start_after: str | None = None) -> list[str]:
        return [self._relkey(o["Key"]) for o in self._list(prefix, start_after)]

    def list_docs(self, prefix: str, suffix: str = ".json") -> list[str]:
        base = prefix.rstrip("/") + "/"
        return sorted(k for k in self.list_keys(base) if k.endswith(suffix))

    def list_blobs(self, prefix: str = "") -> Iterator[BlobInfo]:
        """One request per 1,000 blobs whose hex starts with `prefix` (one hex digit covers 16 folders)."""
        key_prefix = f"objects/{prefix[:2]}/{prefix[2:]}" if len(prefix) >= 2 else f"objects/{prefix}"
        for obj in self._list(key_prefix):
            digest = digest_from_relpath(self._relkey(obj["Key"]))
            if digest:
                yield BlobInfo(digest, int(obj.get("Size", 0)), _timestamp(obj))
