"""Safe extraction of .zip, .tar, .tar.gz/.tgz and .tar.bz2/.bz2 files into an artifact's folder.

Every entry is checked before anything is written: absolute paths, '..', links that point
outside, hard links to no earlier file, devices and pipes, a total size over the limit, and an
archive that would expand past `max_ratio` times its own size (a bomb, the store settings'
`max_archive_ratio`) are refused. Writing
never follows a link out of the destination. The caller removes the destination when anything fails, so a
refused archive leaves nothing behind.
"""

from __future__ import annotations

import bz2
import math
import os
import posixpath
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import InvalidInput, LimitExceeded
from ..store.settings import ARCHIVE_RATIO_ENV as RATIO_ENV
from ..store.settings import DEFAULT_ARCHIVE_RATIO as DEFAULT_RATIO
from ..units import format_size
from .spec import archive_suffix

CHUNK = 1 << 20
MAX_LINK_TARGET = 4096
RATIO_SETTING = "c.ArtifactsApp.max_archive_ratio"
RATIO_FLOOR = 1_000_000  # any archive may expand to 1 MB: small archives of repetitive text are fine


class UnsafeArchive(InvalidInput):
    """An archive entry that would write outside the artifact or is not a plain file, folder or link."""


@dataclass
class Entry:
    name: str  # normalized relative path
    kind: str  # file, dir, symlink
    size: int = 0
    mode: int = 0o644
    target: str | None = None  # symlinks
    member: object = None  # TarInfo or ZipInfo


def check_name(name: str, archive: str) -> str | None:
    """The entry's normalized relative path; None for the archive's root folder itself."""
    if "\x00" in name:
        raise UnsafeArchive(f"{archive}: an entry name holds a NUL byte; the archive was refused and nothing was kept.")
    text = name.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":" and text[0].isalpha()):
        raise UnsafeArchive(f"{archive}: the entry {name!r} has an absolute path; "
                            "the archive was refused and nothing was kept.")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise UnsafeArchive(f"{archive}: the entry {name!r} climbs out of the folder with '..'; "
                            "the archive was refused and nothing was kept.")
    return "/".join(parts) or None


def check_link(name: str, target: str, archive: str) -> str:
    if not target or "\x00" in target or target.startswith("/") or target.replace("\\", "/").startswith("/"):
        raise UnsafeArchive(f"{archive}: the link {name!r} -> {target!r} points outside the archive's folder; "
                            "the archive was refused and nothing was kept.")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target.replace("\\", "/")))
    if resolved == ".." or resolved.startswith("../"):
        raise UnsafeArchive(f"{archive}: the link {name!r} -> {target!r} points outside the archive's folder; "
                            "the archive was refused and nothing was kept.")
    return target


def _file_mode(mode: int) -> int:
    """Keep the execute bits; drop setuid/setgid/sticky and write access for others."""
    mode = stat.S_IMODE(mode) if mode else 0o644
    return (mode & 0o755) | 0o644


# -- the expansion ratio ------------------------------------------------------------------------
def parse_ratio(value: object) -> float | None:
    """A ratio setting ('200', 200.0); None, 'none', 'off' and 0 mean no limit."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "off")):
        return None
    try:
        ratio = -1.0 if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        ratio = -1.0
    if not math.isfinite(ratio) or ratio < 0:
        raise InvalidInput(f"Invalid archive ratio {value!r}: use a number such as {DEFAULT_RATIO} (an archive may "
                           "expand to that many times its own size), or none for no limit.")
    return ratio or None


class _Expansion:
    """Counts the bytes an archive's entries will hold and refuses the entry that takes them past
    the ratio limit, before anything is written (a 1 MB zip must not become 1 GB)."""

    def __init__(self, label: str, archive_size: int, max_ratio: object) -> None:
        self.label, self.archive_size, self.ratio, self.total = label, archive_size, parse_ratio(max_ratio), 0
        self.cap = None if self.ratio is None else max(int(archive_size * self.ratio), RATIO_FLOOR)

    def add(self, name: str, size: int) -> None:
        self.total += size
        if self.cap is not None and self.total > self.cap:
            raise LimitExceeded(
                f"{self.label}: the entry {name!r} takes the archive past {self.ratio:g} times its own size "
                f"({format_size(self.total)} so far from {format_size(self.archive_size)}), as archive bombs do; "
                f"the archive was refused and nothing was kept. If it is genuine, raise {RATIO_ENV} "
                f"(or {RATIO_SETTING} on a server).", size=self.total, limit=self.cap, setting=RATIO_SETTING)


# -- listing ------------------------------------------------------------------------------------
def _tar_entries(tar: tarfile.TarFile, archive: str, expansion: _Expansion) -> list[Entry]:
    """Every member, read one header at a time, so that a bomb is refused at its first oversized
    member instead of after decompressing the whole stream."""
    entries = []
    sizes: dict[str, int] = {}  # files so far, for the hard links that copy them
    for m in tar:
        name = check_name(m.name, archive)
        if m.ischr() or m.isblk() or m.isfifo() or m.isdev():
            raise UnsafeArchive(f"{archive}: the entry {m.name!r} is a device or a pipe; "
                                "the archive was refused and nothing was kept.")
        if name is None:
            continue
        if m.isdir():
            entries.append(Entry(name, "dir", member=m))
            sizes.pop(name, None)
        elif m.issym():
            entries.append(Entry(name, "symlink", target=check_link(name, m.linkname, archive), member=m))
            sizes.pop(name, None)
        elif m.isreg() or m.islnk():
            size = m.size
            if m.islnk():  # a copy of an earlier file; its header says 0 bytes
                linked = check_name(m.linkname, archive)
                if linked not in sizes:
                    raise UnsafeArchive(f"{archive}: the hard link {m.name!r} points at {m.linkname!r}, which is not "
                                        "a file earlier in the archive; the archive was refused and nothing was kept.")
                size = sizes[linked]
            expansion.add(m.name, size)
            sizes[name] = size
            entries.append(Entry(name, "file", size=size, mode=_file_mode(m.mode), member=m))
        else:
            raise UnsafeArchive(f"{archive}: the entry {m.name!r} is not a file, folder or link; "
                                "the archive was refused and nothing was kept.")
    return entries


def _zip_entries(zf: zipfile.ZipFile, archive: str, expansion: _Expansion) -> list[Entry]:
    entries = []
    for info in zf.infolist():
        name = check_name(info.filename, archive)
        mode = info.external_attr >> 16
        if info.flag_bits & 0x1:
            raise InvalidInput(f"{archive} is encrypted; extract it yourself and save the folder instead.")
        if mode and (stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
            raise UnsafeArchive(f"{archive}: the entry {info.filename!r} is a device or a pipe; "
                                "the archive was refused and nothing was kept.")
        if name is None:
            continue
        if info.is_dir():
            entries.append(Entry(name, "dir", member=info))
        elif mode and stat.S_ISLNK(mode):
            if info.file_size > MAX_LINK_TARGET:
                raise UnsafeArchive(f"{archive}: the link {info.filename!r} is too long; refused.")
            target = zf.read(info).decode("utf-8", "replace")
            entries.append(Entry(name, "symlink", target=check_link(name, target, archive), member=info))
        else:
            expansion.add(info.filename, info.file_size)
            entries.append(Entry(name, "file", size=info.file_size, mode=_file_mode(mode), member=info))
    return entries


def _bz2_holds_tar(path: str) -> bool:
    """Whether a .bz2 file is a compressed tar (its first block is a valid tar header)."""
    try:
        with bz2.open(path, "rb") as f:
            block = f.read(tarfile.BLOCKSIZE)
        tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
        return True
    except (tarfile.TarError, OSError, EOFError, ValueError):
        return False


def _bz2_size(path: str, limit: int | None, name: str, expansion: _Expansion) -> int:
    """The size of a plain .bz2 file's content, counted without writing it (stops past the limits)."""
    total = 0
    with bz2.open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            total += len(chunk)
            expansion.add(name, len(chunk))
            if limit is not None and total > limit:
                break
    return total


# -- extracting ---------------------------------------------------------------------------------
class _Writer:
    """Creates files, folders and links under a root without ever following a link out of it."""

    def __init__(self, root: str) -> None:
        os.makedirs(root, exist_ok=True)
        self.root = root
        self.real_root = os.path.realpath(root)

    def _inside(self, path: str) -> bool:
        real = os.path.realpath(path)
        return real == self.real_root or real.startswith(self.real_root + os.sep)

    def _prepare(self, rel: str) -> str:
        path = os.path.join(self.root, *rel.split("/"))
        parent = os.path.dirname(path)
        if not self._inside(parent):
            raise UnsafeArchive(f"The entry {rel!r} would be written through a link outside the folder; refused.")
        os.makedirs(parent, exist_ok=True)
        if not self._inside(parent):
            raise UnsafeArchive(f"The entry {rel!r} would be written through a link outside the folder; refused.")
        if os.path.islink(path) or (os.path.lexists(path) and not os.path.isdir(path)):
            os.unlink(path)
        return path

    def mkdir(self, rel: str) -> None:
        path = os.path.join(self.root, *rel.split("/"))
        if os.path.islink(path):
            os.unlink(path)
        os.makedirs(path, exist_ok=True)
        if not self._inside(path):
            raise UnsafeArchive(f"The folder {rel!r} would be made through a link outside the folder; refused.")

    def symlink(self, rel: str, target: str) -> None:
        path = self._prepare(rel)
        if os.path.isdir(path):
            raise UnsafeArchive(f"The link {rel!r} would replace a folder; refused.")
        os.symlink(target, path)

    def write(self, rel: str, source, mode: int, budget: list[int]) -> int:
        path = self._prepare(rel)
        if os.path.isdir(path):
            raise UnsafeArchive(f"The file {rel!r} would replace a folder; refused.")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        written = 0
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK):
                written += len(chunk)
                budget[0] -= len(chunk)
                if budget[0] < 0:
                    raise UnsafeArchive(f"The entry {rel!r} holds more bytes than the archive declares; refused.")
                out.write(chunk)
        os.chmod(path, mode)
        return written


def extract(path: str, dest: str, *, check_total: Callable[[int], None] | None = None,
            limit: int | None = None, name: str | None = None, max_ratio: object = DEFAULT_RATIO) -> int:
    """Extract the archive at `path` into the folder `dest`; returns the number of files.

    `check_total(total)` is called with the total uncompressed size before anything is written
    (it raises to refuse); `limit` refuses bigger archives the same way, and `max_ratio` (a store
    settings' `max_archive_ratio`, checked here) archives that expand past that many times their size.
    """
    label = name or os.path.basename(path)
    suffix = archive_suffix(label) or archive_suffix(path)
    if suffix is None:
        raise InvalidInput(f"{label} is not a .zip, .tar, .tar.gz, .tgz, .tar.bz2 or .bz2 file.")
    expansion = _Expansion(label, os.path.getsize(path), max_ratio)

    def refuse_size(total: int) -> None:
        if limit is not None and total > limit:
            raise LimitExceeded(f"{label} would extract to {format_size(total)}, over the {format_size(limit)} limit; "
                                "the archive was refused and nothing was kept.", size=total, limit=limit)
        if check_total:
            check_total(total)
        free = shutil.disk_usage(os.path.dirname(os.path.abspath(dest)) or ".").free
        if total > free:
            raise LimitExceeded(f"{label} would extract to {format_size(total)} but only {format_size(free)} "
                                "is free on this machine; nothing was kept.", size=total, limit=free)

    def write_all(entries: list, open_member: Callable) -> int:
        """Check the whole archive first, then write every entry through the confined writer."""
        if not any(e.kind != "dir" for e in entries):
            raise InvalidInput(f"{label} holds no files; nothing was saved.")
        total = sum(e.size for e in entries if e.kind == "file")
        refuse_size(total)
        writer, budget = _Writer(dest), [total]
        for e in entries:
            if e.kind == "dir":
                writer.mkdir(e.name)
            elif e.kind == "symlink":
                writer.symlink(e.name, e.target)
            else:
                try:
                    with open_member(e) as source:
                        writer.write(e.name, source, e.mode, budget)
                except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as exc:
                    raise InvalidInput(f"{label} is damaged at {e.name!r} ({exc}).") from exc
        return sum(1 for e in entries if e.kind != "dir")

    if suffix == ".zip":
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise InvalidInput(f"{label} is not a valid zip file ({exc}).") from exc
        with zf:
            return write_all(_zip_entries(zf, label, expansion), lambda e: zf.open(e.member))

    if suffix == ".bz2" and not _bz2_holds_tar(path):
        return _extract_bz2(path, dest, label, refuse_size, limit, expansion)
    try:
        tar = tarfile.open(path, "r:*")
    except tarfile.ReadError as exc:
        raise InvalidInput(f"{label} is not a valid tar file ({exc}).") from exc
    with tar:
        try:
            entries = _tar_entries(tar, label, expansion)
        except (tarfile.TarError, EOFError, OSError) as exc:
            if isinstance(exc, InvalidInput):
                raise
            raise InvalidInput(f"{label} is damaged ({exc}).") from exc

        def open_tar_member(e):
            source = tar.extractfile(e.member)
            if source is None:
                raise InvalidInput(f"{label}: the entry {e.name!r} cannot be read.")
            return source

        return write_all(entries, open_tar_member)


def _extract_bz2(path: str, dest: str, label: str, refuse_size: Callable[[int], None], limit: int | None,
                 expansion: _Expansion) -> int:
    """A .bz2 file that is not a tar: one compressed file, named without the suffix."""
    out_name = check_name(label[:-4] if label.lower().endswith(".bz2") else label, label) or "data"
    out_name = out_name.rsplit("/", 1)[-1]
    try:
        total = _bz2_size(path, limit, out_name, expansion)
    except (OSError, EOFError) as exc:
        raise InvalidInput(f"{label} is not a valid .bz2 file ({exc}).") from exc
    refuse_size(total)
    writer = _Writer(dest)
    with bz2.open(path, "rb") as source:
        writer.write(out_name, source, 0o644, [total])
    return 1
