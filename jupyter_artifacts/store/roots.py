"""Where the truth lives: blobs named by digest and small JSON documents, under an fsspec URL.

`LocalRoot` talks to the operating system directly (copy_file_range, reflinks, rename); every
other URL goes through fsspec (`FsspecRoot`). Both lay files out the same way:

    objects/ab/cdef...      read-only blobs, named by the hex of their digest
    artifacts/<id>.json     one immutable record per published artifact
    aliases/<kind>/<name>/<alias>.json, links/<id>/<target id>.json   small mutable pointers
    tmp/                    staging; anything here is garbage after a crash
"""

from __future__ import annotations

import errno
import fcntl
import os
import posixpath
import stat
from collections.abc import Iterator
from typing import Any

from .digest import hash_bytes, hash_file, split

SMALL_FILE = 1 << 20  # read whole, hash, then write only if new
_FICLONE = 0x40049409
_O_TMPFILE = getattr(os, "O_TMPFILE", 0)
_NO_TMPFILE = (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT, errno.EPERM, errno.EACCES)
_BLOB_MODE = 0o444
# What a root holds; the rest of a local root's folder (its catalog, jobs' working folders) is
# this machine's state.
CONTENT_FOLDERS = ("objects", "artifacts", "aliases", "links", "versions", "tmp")


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


def random_id() -> str:
    """32 hex digits, as uuid.uuid4().hex gives them (without importing uuid, which imports platform)."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    return raw.hex()


class SourceChanged(Exception):
    """A file changed while it was being stored."""


class NotRegularFile(Exception):
    """A path to store is a pipe, a socket or a device (it would block, or never end)."""


def blob_relpath(digest: str) -> str:
    hexdigest = split(digest)[1]
    return f"objects/{hexdigest[:2]}/{hexdigest[2:]}"


def digest_from_relpath(relpath: str) -> str | None:
    parts = relpath.split("/")
    if len(parts) != 3 or parts[0] != "objects" or len(parts[1]) != 2:
        return None
    return f"blake3:{parts[1]}{parts[2]}"


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


class LocalRoot:
    """A root on a local (or mounted) file system."""

    is_local = True

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(os.path.expanduser(path))
        self.url = self.path
        self._tmp = os.path.join(self.path, "tmp")
        self._objects = os.path.join(self.path, "objects")
        self._ready_dirs: set[str] = set()
        self._lookups = self._found = 0  # small blobs looked up before writing, and found stored
        for sub in CONTENT_FOLDERS:
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

    # -- blobs -----------------------------------------------------------------------------
    def blob_path(self, digest: str) -> str:
        return os.path.join(self.path, blob_relpath(digest))

    def _blob_path(self, digest: str) -> str:
        """blob_path for digests this root computed itself (no validation)."""
        return f"{self._objects}/{digest[7:9]}/{digest[9:]}"

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
        name = f"{digest[7:9]}/{digest[9:]}"
        source = f"/proc/self/fd/{fd}"  # with follow_symlinks, os.link calls linkat(AT_SYMLINK_FOLLOW)
        try:
            os.link(source, name, dst_dir_fd=self._objects_fd, follow_symlinks=True)
        except FileExistsError:
            return False
        except FileNotFoundError:  # the first blob under this prefix (another thread may be making it too)
            try:
                os.mkdir(digest[7:9], dir_fd=self._objects_fd)
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
                os.stat(f"{digest[7:9]}/{digest[9:]}", dir_fd=self._objects_fd)
            else:
                os.stat(self._blob_path(digest))
        except FileNotFoundError:
            return False
        return True

    def _write_new_blob(self, data: bytes, digest: str) -> int:
        """Write bytes whose digest is known; returns the new bytes written (0 if already stored)."""
        fd = self._open_anonymous(digest[7:9])
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

    # -- documents -------------------------------------------------------------------------
    def write_doc(self, relpath: str, data: bytes) -> None:
        final = os.path.join(self.path, relpath)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        tmp = self._tmp_path()
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, final)

    def claim(self, relpath: str, data: bytes) -> bool:
        """Create a document only if none exists (the content complete before it has a name);
        False if it exists. Two processes claiming one name: exactly one wins."""
        final = os.path.join(self.path, relpath)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        tmp = self._tmp_path()
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, final)
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)
        return True

    def read_doc(self, relpath: str) -> bytes | None:
        try:
            with open(os.path.join(self.path, relpath), "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def delete_doc(self, relpath: str) -> None:
        path = os.path.join(self.path, relpath)
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
        parent = os.path.dirname(path)
        while parent != self.path:
            try:
                os.rmdir(parent)
            except OSError:
                break
            parent = os.path.dirname(parent)

    def list_docs(self, prefix: str) -> list[str]:
        base = os.path.join(self.path, prefix)
        found = []
        for dirpath, _dirs, files in os.walk(base):
            rel = os.path.relpath(dirpath, self.path).replace(os.sep, "/")
            found.extend(f"{rel}/{name}" for name in files if name.endswith(".json"))
        return sorted(found)

    def clean_tmp(self, older_than: float = 0.0) -> int:
        import time

        removed = 0
        for entry in os.scandir(self._tmp):
            try:
                if time.time() - entry.stat().st_mtime >= older_than:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                pass
        return removed


class FsspecRoot:
    """A root on any fsspec file system (S3, GCS, Azure, memory, ...).

    Blobs are hashed locally and uploaded only when missing; object stores write each key
    atomically, so no staging is needed there.
    """

    is_local = False

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        import fsspec

        self.url = url
        self.fs, self.path = fsspec.core.url_to_fs(url, **(storage_options or {}))
        self.path = self.path.rstrip("/")

    def _full(self, relpath: str) -> str:
        return posixpath.join(self.path, relpath)

    def local_folder(self) -> str | None:
        return None

    def has_blob(self, digest: str) -> bool:
        return self.fs.exists(self._full(blob_relpath(digest)))

    def blob_size(self, digest: str) -> int | None:
        try:
            return self.fs.size(self._full(blob_relpath(digest)))
        except FileNotFoundError:
            return None

    def store_bytes(self, data: bytes) -> tuple[str, int]:
        digest = hash_bytes(data)
        if self.has_blob(digest):
            return digest, 0
        self.fs.pipe_file(self._full(blob_relpath(digest)), data)
        return digest, len(data)

    def store_file(self, src: str) -> tuple[str, int, os.stat_result]:
        before = os.stat(src, follow_symlinks=False)
        if not stat.S_ISREG(before.st_mode):
            raise NotRegularFile(src)
        digest = hash_file(src, before.st_size)
        if not _same_file_state(before, os.stat(src, follow_symlinks=False)):
            raise SourceChanged(src)
        if self.has_blob(digest):
            return digest, 0, before
        self.fs.put_file(src, self._full(blob_relpath(digest)))
        return digest, before.st_size, before

    def read_blob(self, digest: str) -> bytes:
        return self.fs.cat_file(self._full(blob_relpath(digest)))

    def open_blob(self, digest: str):
        return self.fs.open(self._full(blob_relpath(digest)), "rb")

    def hash_blob(self, digest: str) -> str | None:
        import blake3

        hasher = blake3.blake3()
        try:
            with self.open_blob(digest) as handle:
                for chunk in iter(lambda: handle.read(8 << 20), b""):
                    hasher.update(chunk)
        except FileNotFoundError:
            return None
        return f"blake3:{hasher.hexdigest()}"

    def materialize_blob(self, digest: str, dest: str, mode: int, method: str, size: int | None = None) -> str:
        if method in ("hardlink", "reflink"):
            from ..errors import InvalidInput

            raise InvalidInput(f"The {method} method needs a local store root; {self.url} is remote.")
        self.fs.get_file(self._full(blob_relpath(digest)), dest)
        os.chmod(dest, mode & 0o777 | 0o200)
        return "download"

    def remove_blob(self, digest: str) -> None:
        try:
            self.fs.rm_file(self._full(blob_relpath(digest)))
        except FileNotFoundError:
            pass

    def iter_blobs(self) -> Iterator[str]:
        base = self._full("objects")
        if not self.fs.exists(base):
            return
        for path in self.fs.find(base):
            digest = digest_from_relpath(posixpath.relpath(path.lstrip("/"), self.path.lstrip("/")))
            if digest:
                yield digest

    def write_doc(self, relpath: str, data: bytes) -> None:
        self.fs.pipe_file(self._full(relpath), data)

    def claim(self, relpath: str, data: bytes) -> bool:
        """Create a document only if none exists; False if it exists. Atomic where the backend
        makes exclusive creates atomic (s3fs, gcsfs and adlfs do for mode 'xb')."""
        try:
            with self.fs.open(self._full(relpath), "xb") as handle:
                handle.write(data)
        except FileExistsError:
            return False
        return True

    def read_doc(self, relpath: str) -> bytes | None:
        try:
            return self.fs.cat_file(self._full(relpath))
        except FileNotFoundError:
            return None

    def delete_doc(self, relpath: str) -> None:
        try:
            self.fs.rm_file(self._full(relpath))
        except FileNotFoundError:
            pass

    def list_docs(self, prefix: str) -> list[str]:
        base = self._full(prefix)
        if not self.fs.exists(base):
            return []
        root = self.path.lstrip("/")
        return sorted(
            posixpath.relpath(p.lstrip("/"), root) for p in self.fs.find(base) if p.endswith(".json")
        )

    def clean_tmp(self, older_than: float = 0.0) -> int:
        return 0


def open_root(url: str, storage_options: dict[str, Any] | None = None) -> LocalRoot | FsspecRoot:
    """A plain path or file:// URL gives the fast local root; anything else goes through fsspec."""
    if url.startswith("file://"):
        url = url[len("file://"):]
    if "://" not in url:
        return LocalRoot(url)
    return FsspecRoot(url, storage_options)


def is_special(mode: int) -> bool:
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode))
