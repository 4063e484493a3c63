"""The one loader of a job's option files (params, hyperparameters, data manifest, requirements), with
one set of error texts whichever face named the file.

`resolve` turns the path a person gave into the file to open: the CLI and the notebook join it to
their folder; the server also refuses paths outside the folders it may read (403).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from ..errors import InvalidInput, NotFound

FORMS = ("json", "manifest", "text")


def _read(path: str, shown: str, what: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise NotFound(f"No such {what} file: {shown}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise InvalidInput(f"Cannot read the {what} file {shown}: {reason}.") from None


def _json_lines(text: str, shown: str, what: str) -> object:
    """One JSON document, else JSON lines (blank lines and # comments skipped) as a list."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    items = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"The {what} file {shown} is not valid JSON or JSON lines "
                                   f"(line {number}: {exc}).") from None
    return items


def load(path: str, what: str, form: str, base_dir: str | None = None,
         resolve: Callable[[str], str] | None = None) -> object:
    """The content of the file a job option names: `form` json (a JSON document), manifest (JSON or
    JSON lines) or text. `what` names the option in errors (`No such params file: p.json.`)."""
    shown = path
    if resolve is not None:
        path = resolve(path)
    else:
        path = os.path.join(base_dir or os.getcwd(), os.path.expanduser(path))
    text = _read(path, shown, what)
    if form == "text":
        return text
    if form == "manifest":
        return _json_lines(text, shown, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"The {what} file {shown} is not valid JSON: {exc}.") from None


__all__ = ["FORMS", "load"]
