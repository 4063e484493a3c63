"""Reading this machine's disk for the server: one check that every source goes through.

The CLI and the kernel run as the user and read any local path (`local_roots` is None). The server
passes down its root folder and `c.ArtifactsApp.allowed_local_roots`; then every source that reads
this machine's disk (a local path, a manifest line, git over `file://`, a job's data manifest)
calls `check_readable` with them. Paths are resolved (`~`, `$VAR`, links) with `os.path.realpath`
and compared whole folder by whole folder, never as bare string prefixes: `/data/root-evil` is not
inside `/data/root`.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Iterator, Sequence
from urllib.parse import unquote, urlsplit

from ..errors import Forbidden, InvalidInput

ALLOWED_ROOTS_SETTING = "c.ArtifactsApp.allowed_local_roots"
LOCAL_PROTOCOLS = ("file", "local")  # fsspec's LocalFileSystem
_VAR_RE = re.compile(r"\$(\w+|\{[^}]*\})")
_PROTOCOL_ONLY_RE = re.compile(r"^[a-z]+$")  # fsspec: a chained link of letters only names a protocol


def is_inside(path: str, folder: str) -> bool:
    """True when the real `path` is `folder` itself or lies under it (both already real)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def check_readable(path: str, local_roots: Sequence[str], what: str) -> str:
    """The real path of `path`, which must lie inside one of `local_roots` (else Forbidden, naming
    the setting). `what` names the path as the user wrote it."""
    if "\0" in path:
        raise InvalidInput("A path cannot contain a NUL character.")
    real = os.path.realpath(path)
    if any(is_inside(real, root) for root in local_roots):  # a real path inside a root as written is inside
        return real  # its real path too (no link on the way, or realpath would have followed it)
    roots = [os.path.realpath(os.path.expanduser(root)) for root in local_roots]
    if not any(is_inside(real, root) for root in roots):
        raise Forbidden(
            f"{what} is outside the folders this server may read ({', '.join(roots)}); "
            f"move it inside the Jupyter root folder, or add its folder to {ALLOWED_ROOTS_SETTING}.",
            setting=ALLOWED_ROOTS_SETTING)
    return real


def resolve_local(path: str, cwd: str | None, local_roots: Sequence[str] | None, shown: str | None = None) -> str:
    """The absolute path a local source names (`/abs`, `~/x`, `$VAR/x`, `file:///x`, or relative to
    `cwd`, default the current folder). With `local_roots` it is the real path, checked; `shown`
    is the path as the user wrote it, when `path` was taken out of a longer URL."""
    text = (urlsplit(path).path or "/") if path.lower().startswith("file://") else path
    expanded = os.path.expandvars(os.path.expanduser(text))
    unset = _VAR_RE.search(expanded)
    if unset and not os.path.exists(expanded):
        raise InvalidInput(f"The environment variable {unset.group(0)} in {path!r} is not set"
                           f"{' on the server' if local_roots is not None else ''}.")
    absolute = os.path.join(cwd or os.getcwd(), expanded)  # an absolute `expanded` stays as it is
    if local_roots is None:
        if "\0" in absolute:
            raise InvalidInput("A path cannot contain a NUL character.")
        return os.path.abspath(absolute)
    return check_readable(absolute, local_roots, f"The local path {shown or path!r}")


def check_git_repository(url: str, local_roots: Sequence[str]) -> None:
    """Refuse a `file://` git URL unless everything git would read for it lies inside the roots:
    the repository, its git dir (also through a `.git` file), a worktree's common dir, object
    stores named in `objects/info/alternates`, and whatever links inside those lead to."""
    path = unquote(urlsplit(url).path)  # git ignores the host of a file:// URL
    check_readable(path, local_roots, f"The git repository {url!r}")
    for folder in _git_folders(path):
        check_readable(folder, local_roots, f"The git data {folder!r} of {url!r}")
        for parent, dirs, files in os.walk(folder):
            for name in dirs + files:
                link = os.path.join(parent, name)
                if os.path.islink(link):
                    check_readable(link, local_roots, f"The link {link!r} in the git data of {url!r}")


def _git_folders(path: str) -> Iterator[str]:
    """The git dirs and object stores `git upload-pack PATH` may read (its candidates, in git's
    order: PATH/.git, PATH, PATH.git/.git, PATH.git; all that exist are checked)."""
    pending = []
    for candidate in (os.path.join(path, ".git"), path, path + ".git/.git", path + ".git"):
        if os.path.isfile(candidate):
            pending.append(_pointer(candidate, "gitdir:"))
        elif os.path.isdir(candidate) and os.path.exists(os.path.join(candidate, "HEAD")):
            pending.append(candidate)
    seen: set[str] = set()
    while pending:
        folder = os.path.realpath(pending.pop())
        if folder in seen:
            continue
        seen.add(folder)
        yield folder
        common = os.path.join(folder, "commondir")
        if os.path.isfile(common):
            pending.append(_pointer(common, ""))
        objects = os.path.join(folder, "objects") if os.path.isdir(os.path.join(folder, "objects")) else folder
        alternates = os.path.join(objects, "info", "alternates")  # an alternate is itself an objects folder
        if os.path.isfile(alternates):
            with open(alternates, encoding="utf-8", errors="surrogateescape") as handle:
                for line in handle:
                    line = line.strip()
                    if line.startswith('"') and line.endswith('"'):  # C-quoted, as git writes odd names
                        line = codecs.escape_decode(line[1:-1].encode())[0].decode("utf-8", "surrogateescape")
                    if line and not line.startswith("#"):
                        pending.append(os.path.join(objects, line))


def _pointer(file: str, prefix: str) -> str:
    """The path a `.git` file (`gitdir: X`) or a `commondir` file names, relative to its folder."""
    with open(file, encoding="utf-8", errors="surrogateescape") as handle:
        text = handle.read().strip()
    return os.path.join(os.path.dirname(file), text[len(prefix):].strip() if text.startswith(prefix) else text)


def check_fsspec_url(url: str, cwd: str, local_roots: Sequence[str]) -> str:
    """A job data manifest URL (fsspec, links chained with `::`) whose every link that reads this
    machine's disk (`file://`, `local://`, a path) lies inside the roots. Such links come back as
    their real path, so what runs later reads exactly what was checked."""
    chained = "::" in url
    links = []
    for link in url.split("::"):
        if chained and _PROTOCOL_ONLY_RE.match(link):  # e.g. simplecache::s3://...
            links.append(link)
            continue
        protocol, _, rest = link.partition("://") if "://" in link else (None, "", link)
        if protocol is not None and protocol.lower() not in LOCAL_PROTOCOLS:
            links.append(link)
            continue
        real = resolve_local(rest, cwd, local_roots, shown=link)
        links.append(f"file://{real}" if chained else real)
    return "::".join(links)
