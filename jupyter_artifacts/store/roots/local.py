"""A root on a local (or mounted network) file system: the operating system's calls directly
(anonymous files linked into place, copy_file_range, reflinks, rename, POSIX record locks)."""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO

import blake3

from ..digest import hash_bytes, hash_file
from . import (
    BlobInfo,
    Capabilities,
    NotRegularFile,
    SourceChanged,
    Tagged,
    blob_name,
    blob_relpath,
    random_id,
)

SMALL_FILE = 1 << 20  # read whole, hash, then write only if new
_FICLONE = 0x40049409
_O_TMPFILE = getattr(os, "O_TMPFILE", 0)
_NO_TMPFILE = (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT, errno.EPERM, errno.EACCES)
_BLOB_MODE = 0o444


def _umask() -> int | None:
    """The process umask, read without changing it (os.umask would race other threads)."""
    try:
        with open("/proc/self/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _same_file_state(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_size, a.st_mtime_ns, a.st_ctime_ns) == (b.st_size, b.st_mtime_ns, b.st_ctime_ns)


def copy_fd(src_fd: int, dst_fd: int, size: int) -> int:
    """Copy in the kernel (cloning where the file system can); returns the bytes copied."""
    remaining = size
    while remaining > 0:
        try:
            copied = os.copy_file_range(src_fd, dst_fd, min(remaining, 1 << 30))
        except OSError as exc:  # cross-device on old kernels, or unsupported file systems
            if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
                raise
            copied = os.sendfile(dst_fd, src_fd, None, min(remaining, 1 << 30))
        if copied == 0:
            break
        remaining -= copied
    return size - remaining


def clone_or_copy(src: str, dest: str, mode: int, method: str, size: int | None = None) -> str:
    """A new file `dest` with the content of `src`: a reflink where the file system clones (and
    `method` allows), else a copy in the kernel; returns which."""
    fd = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
    try:
        out = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode & 0o777 | 0o200)
        try:
            if method in ("auto", "reflink"):
                try:
                    fcntl.ioctl(out, _FICLONE, fd)
                    return "reflink"
                except OSError:
                    if method == "reflink":
                        raise
            copy_fd(fd, out, os.fstat(fd).st_size if size is None else size)
            return "copy"
        finally:
            os.close(out)
    finally:
        os.close(fd)


class LocalRoot:
    """A root on a local (or mounted) file system.

    Exclusive creates are a hard link of a complete file to the final name; compare-and-swap
    holds a POSIX record lock (`lockf`, which network file systems pass on) while it compares.
    """

    is_local = True
    capabilities = Capabilities(exclusive_create=True, compare_and_swap=True)

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(os.path.expanduser(path))
        self.url = self.path
        self._tmp = os.path.join(self.path, "tmp")
        self._objects = os.path.join(self.path, "objects")
        self._ready_dirs: set[str] = set()
        self._lookups = self._found = 0  # small blobs looked up before writing, and found stored
        for sub in ("objects", "artifacts", "aliases", "links", "tmp"):
            os.makedirs(os.path.join(self.path, sub), exist_ok=True)
        # New blobs are written to anonymous files (O_TMPFILE) and linked into place once complete:
        # no name exists until the content does, a crash leaves nothing behind, and there is no
        # temporary name to invent, chmod and rename. Names are looked up relative to the objects
        # folder's descriptor (a two-part path instead of the whole one, for every blob). Where
        # O_TMPFILE is not available, a temporary file under tmp/ is renamed into place instead.
        self._tmpfile = bool(_O_TMPFILE) and os.path.isdir("/proc/self/fd")
        umask = _umask()
        self._fix_mode = umask is None or bool(umask & _BLOB_MODE)
        self._objects_fd: int | None = None
        if self._tmpfile:
            self._objects_fd = os.open(self._objects, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)

    def __del__(self) -> None:
        if getattr(self, "_objects_fd", None) is not None:
            try:
                os.close(self._objects_fd)
            except OSError:
                pass
            self._objects_fd = None

    def local_folder(self) -> str | None:
        """The folder holding this root on this machine (saving it would copy the store into itself)."""
        return self.path

    def probe(self) -> str | None:
        return None

    # -- blobs -----------------------------------------------------------------------------
    def blob_path(self, digest: str) -> str:
        return os.path.join(self.path, blob_relpath(digest))

    def _blob_path(self, digest: str) -> str:
        """blob_path for digests this root computed itself (no validation)."""
        return f"{self._objects}/{blob_name(digest)}"

    def has_blob(self, digest: str) -> bool:
        return os.path.exists(self.blob_path(digest))

    def blob_size(self, digest: str) -> int | None:
        try:
            return os.stat(self.blob_path(digest)).st_size
        except FileNotFoundError:
            return None

    def _publish_tmp(self, tmp: str, digest: str) -> bool:
        """Move a finished temporary file into place; False if the blob was already there."""
        final = self.blob_path(digest)
        if os.path.exists(final):
            os.unlink(tmp)
            return False
        parent = os.path.dirname(final)
        if parent not in self._ready_dirs:
            os.makedirs(parent, exist_ok=True)
            self._ready_dirs.add(parent)
        os.chmod(tmp, 0o444)
        os.replace(tmp, final)
        return True

    def _tmp_path(self) -> str:
        return os.path.join(self._tmp, random_id())

    # -- anonymous files, linked into place when complete ------------------------------------
    def _open_anonymous(self, prefix: str = ".") -> int | None:
        """A nameless file in objects/<prefix>; None where the kernel cannot make one."""
        if not self._tmpfile:
            return None
        try:
            fd = os.open(prefix, os.O_RDWR | _O_TMPFILE | os.O_CLOEXEC, _BLOB_MODE, dir_fd=self._objects_fd)
        except FileNotFoundError:  # the first blob under this prefix
            try:
                os.mkdir(prefix, dir_fd=self._objects_fd)
            except FileExistsError:  # another thread made it meanwhile
                pass
            return self._open_anonymous(prefix)
        except OSError as exc:
            if exc.errno not in _NO_TMPFILE:
                raise
            self._tmpfile = False
            return None
        if self._fix_mode:
            os.fchmod(fd, _BLOB_MODE)
        return fd

    def _link_anonymous(self, fd: int, digest: str) -> bool:
        """Give a finished anonymous file its blob name; False if the blob was already there."""
        name = blob_name(digest)
        source = f"/proc/self/fd/{fd}"  # with follow_symlinks, os.link calls linkat(AT_SYMLINK_FOLLOW)
        try:
            os.link(source, name, dst_dir_fd=self._objects_fd, follow_symlinks=True)
        except FileExistsError:
            return False
        except FileNotFoundError:  # the first blob under this prefix (another thread may be making it too)
            try:
                os.mkdir(name[:2], dir_fd=self._objects_fd)
            except FileExistsError:
                pass
            try:
                os.link(source, name, dst_dir_fd=self._objects_fd, follow_symlinks=True)
            except FileExistsError:
                return False
        return True

    def _has_blob(self, digest: str) -> bool:
        """has_blob for digests this root computed itself."""
        try:
            if self._objects_fd is not None:
                os.stat(blob_name(digest), dir_fd=self._objects_fd)
            else:
                os.stat(self._blob_path(digest))
        except FileNotFoundError:
            return False
        return True

    def _write_new_blob(self, data: bytes, digest: str) -> int:
        """Write bytes whose digest is known; returns the new bytes written (0 if already stored)."""
        fd = self._open_anonymous(blob_name(digest)[:2])
        if fd is None:
            tmp = self._tmp_path()
            out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            try:
                _write_all(out, data)
            finally:
                os.close(out)
            return len(data) if self._publish_tmp(tmp, digest) else 0
        try:
            _write_all(fd, data)
            return len(data) if self._link_anonymous(fd, digest) else 0
        finally:
            os.close(fd)

    def store_bytes(self, data: bytes) -> tuple[str, int]:
        digest = hash_bytes(data)
        if self._has_blob(digest):
            return digest, 0
        return digest, self._write_new_blob(data, digest)

    def store_file(self, src: str) -> tuple[str, int, os.stat_result]:
        """Store one file in a single pass; returns (digest, new bytes written, the stat it matched).

        Small files are read whole and hashed before anything is written; large ones are copied
        in the kernel to a temporary file that is then hashed, so the blob is always exactly
        what its name says even if the source changes meanwhile.
        """
        # O_NONBLOCK: a pipe put in place of a file since the walk must not hang the open
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        try:
            before = os.fstat(fd)
            if not stat.S_ISREG(before.st_mode):
                raise NotRegularFile(src)
            if before.st_size <= SMALL_FILE:
                data = os.read(fd, before.st_size + 1)
                while len(data) < before.st_size:  # short reads on special file systems
                    chunk = os.read(fd, before.st_size - len(data))
                    if not chunk:
                        break
                    data += chunk
                if not _same_file_state(before, os.fstat(fd)) or len(data) != before.st_size:
                    raise SourceChanged(src)
                digest = hash_bytes(data)
                # An inode made and dropped costs more than a lookup of a blob that exists, but the
                # lookup is wasted when it does not: once most blobs turn out to be new (a first
                # snapshot), skip it and let the link's EEXIST say when one was already stored.
                if self._lookups < 64 or self._found * 8 > self._lookups:
                    self._lookups += 1
                    if self._has_blob(digest):
                        self._found += 1
                        return digest, 0, before
                written = self._write_new_blob(data, digest)
                if not written and data:
                    self._found += 1
                return digest, written, before
            out = self._open_anonymous()
            if out is not None:
                try:
                    copied = copy_fd(fd, out, before.st_size)
                    if not _same_file_state(before, os.fstat(fd)) or copied != before.st_size \
                            or os.fstat(out).st_size != before.st_size:
                        raise SourceChanged(src)
                    digest = hash_file(f"/proc/self/fd/{out}", before.st_size)
                    return digest, before.st_size if self._link_anonymous(out, digest) else 0, before
                finally:
                    os.close(out)
            tmp = self._tmp_path()
            out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                copy_fd(fd, out, before.st_size)
            finally:
                os.close(out)
            if not _same_file_state(before, os.fstat(fd)) or os.stat(tmp).st_size != before.st_size:
                os.unlink(tmp)
                raise SourceChanged(src)
            digest = hash_file(tmp, before.st_size)
            return digest, before.st_size if self._publish_tmp(tmp, digest) else 0, before
        finally:
            os.close(fd)

    def missing_blobs(self, digests: set[str], stored_hint: int = 0) -> set[str]:
        """Which of these blobs are not stored (a stat each)."""
        return {d for d in digests if not self.has_blob(d)}

    def read_blob(self, digest: str) -> bytes:
        with open(self.blob_path(digest), "rb") as handle:
            return handle.read()

    def open_blob(self, digest: str):
        return open(self.blob_path(digest), "rb")

    def hash_blob(self, digest: str) -> str | None:
        try:
            return hash_file(self.blob_path(digest))
        except FileNotFoundError:
            return None

    def materialize_blob(self, digest: str, dest: str, mode: int, method: str, size: int | None = None) -> str:
        """Give the caller its own file; returns the method used: reflink, copy or hardlink.

        `size`, the manifest's, saves a stat per file (a damaged blob is `verify`'s business).
        """
        src = self.blob_path(digest)
        if method == "hardlink":
            os.link(src, dest)
            return "hardlink"
        return clone_or_copy(src, dest, mode, method, size)

    def remove_blob(self, digest: str) -> None:
        try:
            os.unlink(self.blob_path(digest))
        except FileNotFoundError:
            pass

    def iter_blobs(self) -> Iterator[str]:
        objects = os.path.join(self.path, "objects")
        for prefix in os.scandir(objects):
            if prefix.is_dir():
                for entry in os.scandir(prefix.path):
                    yield f"blake3:{prefix.name}{entry.name}"

    def list_blobs(self, prefix: str = "") -> Iterator[BlobInfo]:
        """Blobs whose hex starts with `prefix`, with their size and when they were written."""
        objects = os.path.join(self.path, "objects")
        for folder in sorted(os.listdir(objects)):
            if len(folder) != 2 or not folder.startswith(prefix[:2]):
                continue
            for entry in os.scandir(os.path.join(objects, folder)):
                hexdigest = folder + entry.name
                if hexdigest.startswith(prefix):
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    yield BlobInfo(f"blake3:{hexdigest}", st.st_size, st.st_mtime)

    # -- documents -------------------------------------------------------------------------
    def _place(self, relpath: str, pieces: Iterable[bytes], exclusive: bool) -> bool:
        """Write a complete temporary file, then give it the name: a rename (replacing), or a hard
        link (only if the name is free; False if it is taken). Another host removing the now
        empty folder meanwhile (delete_doc tidies up) is met by making it again."""
        final = os.path.join(self.path, relpath)
        tmp = self._tmp_path()
        with open(tmp, "wb") as handle:
            for piece in pieces:
                handle.write(piece)
            handle.flush()
            if not exclusive:
                os.fsync(handle.fileno())
        try:
            for attempt in range(5):
                os.makedirs(os.path.dirname(final), exist_ok=True)
                try:
                    if exclusive:
                        os.link(tmp, final)
                    else:
                        os.replace(tmp, final)
                    return True
                except FileExistsError:
                    return False
                except FileNotFoundError:
                    if attempt == 4:
                        raise
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return False

    def write_doc(self, relpath: str, data: bytes) -> None:
        self._place(relpath, (data,), exclusive=False)

    def write_doc_stream(self, relpath: str, pieces: Iterable[bytes]) -> None:
        self._place(relpath, pieces, exclusive=False)

    def claim(self, relpath: str, data: bytes) -> bool:
        """Create a document only if none exists (the content complete before it has a name);
        False if it exists. Two processes claiming one name: exactly one wins."""
        return self._place(relpath, (data,), exclusive=True)

    def open_doc(self, relpath: str) -> IO[bytes] | None:
        try:
            return open(os.path.join(self.path, relpath), "rb")
        except FileNotFoundError:
            return None

    def has_doc(self, relpath: str) -> bool:
        return os.path.isfile(os.path.join(self.path, relpath))

    def read_doc(self, relpath: str) -> bytes | None:
        try:
            with open(os.path.join(self.path, relpath), "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def read_tagged(self, relpath: str) -> Tagged | None:
        data = self.read_doc(relpath)
        return None if data is None else Tagged(data, _tag(data))

    @contextmanager
    def _doc_lock(self) -> Iterator[None]:
        """One lock for every compare-and-swap of this root's documents (they are rare and quick)."""
        path = os.path.join(self.path, "locks", "documents.lock")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def replace_doc(self, relpath: str, data: bytes, tag: str | None) -> bool:
        """Write a document if it is still the version `tag` names (None: only if it is absent)."""
        with self._doc_lock():
            current = self.read_tagged(relpath)
            if (current.tag if current else None) != tag:
                return False
            self.write_doc(relpath, data)
            return True

    def delete_doc(self, relpath: str, tag: str | None = None) -> bool:
        """Remove a document (only if it is still the version `tag` names, when given); empty
        folders above it go too. False if it was not there or had changed."""
        path = os.path.join(self.path, relpath)
        if tag is not None:
            with self._doc_lock():
                current = self.read_tagged(relpath)
                if current is None or current.tag != tag:
                    return False
                os.unlink(path)
        else:
            try:
                os.unlink(path)
            except FileNotFoundError:
                return False
        parent = os.path.dirname(path)
        while parent != self.path:
            try:
                os.rmdir(parent)
            except OSError:
                break
            parent = os.path.dirname(parent)
        return True

    def list_docs(self, prefix: str, suffix: str = ".json") -> list[str]:
        base = os.path.join(self.path, prefix)
        found = []
        for dirpath, _dirs, files in os.walk(base):
            rel = os.path.relpath(dirpath, self.path).replace(os.sep, "/")
            found.extend(f"{rel}/{name}" for name in files if name.endswith(suffix))
        return sorted(found)

    def list_keys(self, prefix: str, start_after: str | None = None) -> list[str]:
        """Every name under a folder (`prefix` ends with '/'), sorted, after `start_after`."""
        try:
            names = os.listdir(os.path.join(self.path, prefix))
        except FileNotFoundError:
            return []
        keys = sorted(prefix + name for name in names)
        return keys if start_after is None else [k for k in keys if k > start_after]

    def clean_tmp(self, older_than: float = 0.0) -> int:
        removed = 0
        for entry in os.scandir(self._tmp):
            try:
                if time.time() - entry.stat().st_mtime >= older_than:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                pass
        return removed


def _tag(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()[:32]
