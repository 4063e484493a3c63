"""Keeping user-given paths inside the folders the server may read.

Paths are resolved (`~`, `$VAR`, links) with `os.path.realpath` and compared whole folder by
whole folder (`is_inside`), never as bare string prefixes: `/data/root-evil` is not inside `/data/root`.
"""

from __future__ import annotations

import os

from ..errors import Forbidden, InvalidInput, quote
from ..sources.roots import is_inside, resolve_local

__all__ = ["api_path_of", "is_inside", "resolve_in_root", "resolve_local_source"]


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
        raise Forbidden(f"The {what} {quote(api_path)} is outside the Jupyter root folder; "
                        "give a path inside the folder Jupyter shows, without '..' or links leading out of it.")
    return real


def api_path_of(root_dir: str, real_path: str) -> str:
    """The contents-API path ('a/b/nb.ipynb') of a real path inside root_dir."""
    rel = os.path.relpath(real_path, os.path.realpath(root_dir))
    return "" if rel == "." else rel.replace(os.sep, "/")


def resolve_local_source(path: str, root_dir: str, allowed_roots: list[str]) -> str:
    """The real path of a local source (`/abs`, `~/x`, `$VAR/x`, `file://...`, or relative to root_dir).

    It must lie inside root_dir or one of the allowed local roots: the core's one check, which
    names the setting when it refuses.
    """
    if not isinstance(path, str) or not path.strip():
        raise InvalidInput("Give the source: a local path or a URL.")
    return resolve_local(path, root_dir, [root_dir, *allowed_roots])
