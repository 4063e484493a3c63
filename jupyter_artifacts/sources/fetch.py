"""Fetching files through fsspec into a staging folder: listing, parallel downloads, retries."""

from __future__ import annotations

import errno
import fnmatch
import ftplib
import os
import posixpath
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from ..errors import ArtifactsError, Forbidden, NotFound
from .filesystems import open_filesystem
from .progress import Tracker
from .spec import SourceSpec, redact

T = TypeVar("T")

DEFAULT_ATTEMPTS = 5
DEFAULT_BACKOFF = 1.0  # seconds before the first retry; doubles each time
MAX_BACKOFF = 30.0
WORKERS = 8


class FetchFailed(ArtifactsError):
    """The source could not be fetched (the network, the server, or the data)."""

    status = 502


class IncompleteDownload(ConnectionError):
    """Fewer (or more) bytes arrived than the source announced."""


_TRANSIENT_NAMES = {
    "ClientPayloadError", "ServerDisconnectedError", "ClientConnectionError", "ClientConnectorError",
    "ClientOSError", "ServerTimeoutError", "EndpointConnectionError", "ConnectTimeoutError",
    "ReadTimeoutError", "ConnectionClosedError", "IncompleteRead", "ChunkedEncodingError",
    "ResponseStreamingError", "ProtocolError", "RemoteDisconnected", "TransferEncodingError",
    "ContentLengthError", "ServiceUnavailable", "TooManyRequests", "SlowDown", "RequestTimeout",
    "InternalError", "HfHubHTTPError", "RetryError",
}
_TRANSIENT_ERRNOS = {errno.ECONNRESET, errno.ECONNABORTED, errno.ECONNREFUSED, errno.ETIMEDOUT,
                     errno.EPIPE, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENETRESET}


def _causes(exc: BaseException | None) -> Iterator[BaseException]:
    """The exception and what caused it, outermost first."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def certificate_error(exc: BaseException) -> str | None:
    """Why the server's TLS certificate was refused, if that is what `exc` comes from."""
    found = [e for e in _causes(exc) if isinstance(e, ssl.SSLCertVerificationError)]
    return (getattr(found[-1], "verify_message", None) or describe(found[-1])) if found else None


def is_transient(exc: BaseException) -> bool:
    """Whether trying again may help: dropped connections, timeouts, 5xx/429 answers."""
    if certificate_error(exc) is not None:  # an untrusted certificate stays untrusted
        return False
    for exc in _causes(exc):
        if isinstance(exc, (ArtifactsError, FileNotFoundError, PermissionError, IsADirectoryError,
                            NotADirectoryError, ftplib.error_perm)):
            return False
        if isinstance(exc, (ConnectionError, TimeoutError, ftplib.error_temp, EOFError)):
            return True
        if isinstance(exc, OSError) and exc.errno in _TRANSIENT_ERRNOS:
            return True
        status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
        if isinstance(status, int) and (status >= 500 or status in (408, 429)):
            return True
        response = getattr(exc, "response", None)
        if isinstance(response, dict):  # botocore ClientError
            code = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if isinstance(code, int) and (code >= 500 or code in (408, 429)):
                return True
        if any(cls.__name__ in _TRANSIENT_NAMES for cls in type(exc).__mro__):
            return True
    return False


@dataclass(frozen=True)
class Retries:
    """How often a fetch failing for a transient reason is tried, and the first wait (it doubles):
    a store settings' `fetch_attempts` and `fetch_backoff`, handed down to every fetch."""

    attempts: int = DEFAULT_ATTEMPTS
    backoff: float = DEFAULT_BACKOFF

    @classmethod
    def of(cls, settings) -> "Retries":
        return cls(settings.fetch_attempts, settings.fetch_backoff)


def with_retries(action: Callable[[], T], what: str, retries: Retries = Retries(), *,
                 on_retry: Callable[[int, BaseException], None] | None = None) -> T:
    """Run `action`; on a transient error wait (exponential backoff with jitter) and run it again."""
    attempts, backoff = retries.attempts, retries.backoff
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except Exception as exc:
            if attempt == attempts or not is_transient(exc):
                if is_transient(exc):
                    raise FetchFailed(f"Fetching {what} failed after {attempts} attempts: {describe(exc)}") from exc
                raise
            if on_retry:
                on_retry(attempt, exc)
            delay = min(MAX_BACKOFF, backoff * 2 ** (attempt - 1))
            time.sleep(delay * random.uniform(0.75, 1.25))
    raise AssertionError("unreachable")


def describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:500]


def explain(exc: BaseException, spec: SourceSpec) -> ArtifactsError:
    """The user-facing error for anything a fetch raised."""
    if isinstance(exc, ArtifactsError):
        return exc
    where = redact(spec.path)
    names = {cls.__name__ for cls in type(exc).__mro__}
    if (reason := certificate_error(exc)) is not None:
        return FetchFailed(f"The TLS certificate of {where} is not trusted ({reason}); if the server "
                         "uses a private certificate authority, set SSL_CERT_FILE to its certificate (PEM).")
    if "NoCredentialsError" in names:
        return Forbidden(f"No credentials to read {where}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                         "or configure ~/.aws/credentials (or AWS_PROFILE).")
    if isinstance(exc, FileNotFoundError):
        return NotFound(f"Nothing found at {where}: check the path (and the branch, bucket or endpoint).")
    if isinstance(exc, PermissionError) or getattr(exc, "status", None) in (401, 403):
        return Forbidden(f"Access to {where} was denied: check your credentials for this source. ({describe(exc)})")
    if isinstance(exc, ftplib.error_perm):
        code = str(exc)[:3]
        if code == "550":
            return NotFound(f"Nothing found at {where}: {describe(exc)}")
        return Forbidden(f"The FTP server refused {where}: {describe(exc)}")
    return FetchFailed(f"Fetching {where} failed: {describe(exc)}")


# -- listing ------------------------------------------------------------------------------------
@dataclass
class RemoteFile:
    rpath: str  # path on the file system
    relpath: str  # where it goes in the artifact
    size: int | None


def safe_relpath(rel: str) -> str | None:
    """A normalized relative POSIX path, or None if it is empty, absolute or climbs out."""
    rel = rel.replace("\\", "/")
    if not rel or rel.startswith("/") or "\x00" in rel:
        return None
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        return None
    return "/".join(parts)


def matches(relpath: str, patterns: Iterable[str]) -> bool:
    """fnmatch where '*' stays within one folder level: '*.ckpt' matches only top-level files."""
    return any(fnmatch.fnmatchcase(relpath, p) and relpath.count("/") == p.count("/")
               or (p.endswith("/**") and relpath.startswith(p[:-2])) for p in patterns)


def list_files(fs, remote: str, sync: bool, *, include: list[str] | None = None,
               exclude: list[str] | None = None, retries: Retries = Retries()) -> list[RemoteFile]:
    """The files to fetch: everything under a folder, or the one file a path names."""
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    is_http = protocol in ("http", "https")
    if not sync and not is_http:
        info = with_retries(lambda: fs.info(remote), remote, retries)
        if info.get("type") == "directory":
            sync = True
        else:
            name = posixpath.basename(remote.rstrip("/"))
            return [RemoteFile(remote, name, info.get("size"))]
    if not sync:
        name = unquote(posixpath.basename(urlsplit(remote).path))
        return [RemoteFile(remote, safe_relpath(name) or "index.html", None)]
    base = fs._strip_protocol(remote).rstrip("/")
    found = with_retries(lambda: fs.find(remote.rstrip("/") if not is_http else remote, detail=True), remote, retries)
    files: list[RemoteFile] = []
    for path, info in sorted(found.items()):
        if info.get("type") == "directory":
            continue
        stripped = fs._strip_protocol(path)
        if not stripped.startswith(base + "/"):
            continue
        rel = stripped[len(base) + 1:]
        if is_http:
            if "?" in rel or "#" in rel:
                continue
            rel = unquote(rel)
        rel = safe_relpath(rel)
        if rel is None:
            raise FetchFailed(f"The listing of {redact(remote)} holds an unsafe path {path!r}; nothing was kept.")
        if include and not matches(rel, include):
            continue
        if exclude and matches(rel, exclude):
            continue
        files.append(RemoteFile(path, rel, info.get("size")))
    if not files:
        raise NotFound(f"No files under {redact(remote)}.")
    return files


# -- downloading --------------------------------------------------------------------------------
def _make_callback(tracker: Tracker, counted: list[int]):
    from fsspec.callbacks import Callback

    class Counter(Callback):
        def relative_update(self, inc: int = 1) -> None:
            if inc:
                counted[0] += inc
                tracker.add_bytes(inc)

        def set_size(self, size) -> None:
            if size:
                tracker.learn_size(int(size))

        def absolute_update(self, value: int) -> None:
            self.relative_update(value - counted[0])

        def call(self, *args, **kwargs) -> None:
            pass

    return Counter()


def download_file(fs, item: RemoteFile, lpath: str, tracker: Tracker, retries: Retries = Retries()) -> int:
    """Fetch one file with retries; bytes of a failed attempt are taken back from the counters."""
    os.makedirs(os.path.dirname(lpath), exist_ok=True)

    def attempt() -> int:
        counted = [0]
        try:
            fs.get_file(item.rpath, lpath, callback=_make_callback(tracker, counted))
            size = os.path.getsize(lpath)
            if counted[0] != size:  # some file systems do not report progress
                tracker.add_bytes(size - counted[0])
                counted[0] = size
            if item.size is not None and size != item.size:
                raise IncompleteDownload(f"{item.relpath}: got {size} of {item.size} bytes")
            return size
        except BaseException:
            tracker.add_bytes(-counted[0])
            raise

    size = with_retries(attempt, redact(str(item.rpath)), retries)
    tracker.add_file()
    return size


def _thread_safe(fs) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol not in ("ftp", "sftp", "ssh")


def download_all(fs, items: list[RemoteFile], dest: str, tracker: Tracker, workers: int = WORKERS,
                 retries: Retries = Retries()) -> None:
    """Fetch every item into dest/<relpath>, several at a time; stop at the first failure."""
    stop = threading.Event()
    local = threading.local()
    shared = _thread_safe(fs)

    def one(item: RemoteFile) -> None:
        if stop.is_set():
            return
        if not shared and not hasattr(local, "fs"):
            # One connection per thread for file systems that hold a single session (ftp).
            local.fs = fs if threading.current_thread() is threading.main_thread() else \
                type(fs)(skip_instance_cache=True, **fs.storage_options)
        download_file(fs if shared else local.fs, item, os.path.join(dest, *item.relpath.split("/")), tracker, retries)

    if len(items) == 1 or workers <= 1:
        for item in items:
            one(item)
        return
    run_parallel(one, items, workers, stop)


def run_parallel(func: Callable[[T], object], items: list[T], workers: int, stop: threading.Event) -> None:
    """Call func on every item from a pool of threads; the first failure sets `stop` (which func
    checks before starting) and is raised once the running calls have ended."""
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(items))), thread_name_prefix="artifacts-fetch")
    try:
        futures = [pool.submit(func, item) for item in items]
        wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            if future.done() and future.exception() is not None:
                stop.set()
                raise future.exception()
        for future in futures:
            future.result()
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)


def fetch_tree(spec: SourceSpec, dest: str, tracker: Tracker, *, include: list[str] | None = None,
               exclude: list[str] | None = None, check_total: Callable[[int], None] | None = None,
               retries: Retries = Retries()) -> int:
    """Fetch what a file-system source names into `dest`; returns the number of files."""
    fs, remote = open_filesystem(spec)
    if spec.sync and spec.type != "hf" and not remote.endswith("/"):
        remote += "/"
    items = list_files(fs, remote, spec.sync, include=include, exclude=exclude, retries=retries)
    known = [i.size for i in items]
    total = sum(known) if all(s is not None for s in known) else None
    tracker.set_totals(total, len(items))
    if total is not None and check_total:
        check_total(total)
    download_all(fs, items, dest, tracker, retries=retries)
    return len(items)
