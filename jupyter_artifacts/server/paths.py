"""Keeping user-given paths inside the folders the server may read.

Paths are resolved (`~`, `$VAR`, links) with `os.path.realpath` and compared with
`os.path.commonpath`, never as string prefixes: `/data/root-evil` is not inside `/data/root`.
"""

from __future__ import annotations

import os
import re

from ..errors import Forbidden, InvalidInput

ALLOWED_ROOTS_SETTING = "c.ArtifactsApp.allowed_local_roots"
_VAR_RE = re.compile(r"\$(\w+|\{[^}]*\})")


def is_inside(path: str, folder: str) -> bool:
    """True when the real `path` is `folder` itself or lies under it (both already real)."""
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # different drives, or a mix of absolute and relative
        return False


def _real(path: str) -> str:
    if not isinstance(path, str) or not path.strip():
        raise InvalidInput("Give a path: a non-empty string.")
    if "\0" in path:
        raise InvalidInput("A path cannot contain a NUL character.")
    return os.path.realpath(path)


def resolve_in_root(root_dir: str, api_path: str, what: str = "path") -> str:
    """The real path of `api_path`, relative to the server's root_dir as in the contents API.

    `..`, an absolute path elsewhere, or a link leading out of root_dir are refused with 403.
    """
    if not isinstance(api_path, str) or not api_path.strip():
        raise InvalidInput(f"Give the {what} as a path relative to the Jupyter root folder.")
    root = os.path.realpath(root_dir)
    candidate = api_path if os.path.isabs(api_path) else os.path.join(root, api_path)
    real = _real(candidate)
    if not is_inside(real, root):
        raise Forbidden(f"The {what} {api_path!r} is outside the Jupyter root folder; "
                        "give a path inside the folder Jupyter shows, without '..' or links leading out of it.")
    return real


def api_path_of(root_dir: str, real_path: str) -> str:
    """The contents-API path ('a/b/nb.ipynb') of a real path inside root_dir."""
    rel = os.path.relpath(real_path, os.path.realpath(root_dir))
    return "" if rel == "." else rel.replace(os.sep, "/")


def resolve_local_source(path: str, root_dir: str, allowed_roots: list[str]) -> str:
    """The real path of a local source (`/abs`, `~/x`, `$VAR/x`, or relative to root_dir).

    It must lie inside root_dir or one of the allowed local roots; anything else is refused
    with a message that names the setting.
    """
    if not isinstance(path, str) or not path.strip():
        raise InvalidInput("Give the source: a local path or a URL.")
    if path.startswith("file://"):
        path = path[len("file://"):]
    expanded = os.path.expandvars(os.path.expanduser(path))
    unset = _VAR_RE.search(expanded)
    if unset and not os.path.exists(expanded):
        raise InvalidInput(f"The environment variable {unset.group(0)} in {path!r} is not set on the server.")
    root = os.path.realpath(root_dir)
    candidate = expanded if os.path.isabs(expanded) else os.path.join(root, expanded)
    real = _real(candidate)
    allowed = [root] + [os.path.realpath(os.path.expanduser(r)) for r in allowed_roots]
    if not any(is_inside(real, folder) for folder in allowed):
        raise Forbidden(
            f"The local path {path!r} is outside the folders this server may read ({', '.join(allowed)}); "
            f"move it inside the Jupyter root folder, or add its folder to {ALLOWED_ROOTS_SETTING}.",
            setting=ALLOWED_ROOTS_SETTING)
    return real
