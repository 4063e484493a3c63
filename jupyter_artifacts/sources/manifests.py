"""Data manifests: JSON lines `{"url": ..., "path": ...}`, each url fetched to path in the dataset."""

from __future__ import annotations

import gc
import json
import os
import threading
from dataclasses import dataclass

from ..errors import Forbidden, InvalidInput, NotFound
from .fetch import Retries, download_all, explain, list_files, run_parallel
from .filesystems import open_filesystem
from .progress import Tracker
from .spec import SourceSpec, parse_source

MAX_ERRORS_SHOWN = 5
WORKERS = 8
LINE_KEYS = {"url", "path", "source_type", "endpoint", "branch", "kaggle_type"}


@dataclass(slots=True)  # one per manifest line: no __dict__ each
class ManifestEntry:
    line: int
    url: str
    path: str
    spec: SourceSpec


def _check_path(path: object) -> str:
    if not isinstance(path, str) or not path.strip():
        raise ValueError('"path" must be a non-empty string')
    text = path.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        raise ValueError(f"path {path!r} is absolute; paths are relative to the dataset root")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts) or "\x00" in text:
        raise ValueError(f"path {path!r} escapes the dataset root")
    return "/".join(parts)


def parse_manifest_text(text: str, label: str = "manifest", *, cwd: str | None = None,
                        local_roots: list[str] | None = None) -> list[ManifestEntry]:
    """Validate every line; all problems are reported (with line numbers) before anything is fetched.

    The cyclic garbage collector is paused meanwhile: the entries hold no cycles, and its passes
    over a growing heap made 100,000 lines take seven times as long as 20,000."""
    paused = gc.isenabled()
    gc.disable()
    try:
        return _parse_lines(text, label, cwd, local_roots)
    finally:
        if paused:
            gc.enable()


def _parse_lines(text: str, label: str, cwd: str | None, local_roots: list[str] | None) -> list[ManifestEntry]:
    entries: list[ManifestEntry] = []
    errors: list[str] = []
    paths = _PathIndex()
    for number, raw, data in _decoded_lines(text):
        try:
            if isinstance(data, json.JSONDecodeError):
                raise data
            if not isinstance(data, dict):
                raise ValueError('each line must be a JSON object {"url": ..., "path": ...}')
            unknown = set(data) - LINE_KEYS
            if unknown:
                raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))}; use url and path")
            url = data.get("url")
            if not isinstance(url, str) or not url.strip():
                raise ValueError('"url" must be a non-empty string')
            path = _check_path(data.get("path"))
            spec = parse_source(url, source_type=data.get("source_type"), endpoint=data.get("endpoint"),
                                branch=data.get("branch"), kaggle_type=data.get("kaggle_type"), cwd=cwd,
                                local_roots=local_roots)
            clash = paths.add(path, number)
            if clash is not None:
                raise ValueError(f"path {path!r} collides with line {clash}")
            entries.append(ManifestEntry(number, url, path, spec))
        except Forbidden as exc:  # a line the server may not read: refused at once, with its number
            raise Forbidden(f"line {number}: {exc.message}", **exc.details) from None
        except json.JSONDecodeError as exc:
            errors.append(f"line {number}: not valid JSON ({exc.msg} at column {exc.colno})")
        except (ValueError, InvalidInput) as exc:
            message = exc.message.split("\n", 1)[0] if isinstance(exc, InvalidInput) else str(exc)
            errors.append(f"line {number}: {message}")
    if errors:
        shown = errors[:MAX_ERRORS_SHOWN]
        more = f"\n  ... and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
        raise InvalidInput(f"{label} has {len(errors)} bad line(s); nothing was fetched:\n  "
                           + "\n  ".join(shown) + more, errors=errors)
    if not entries:
        raise InvalidInput(f'{label} lists no files: write one JSON object per line, {{"url": ..., "path": ...}}.')
    return entries


def _decoded_lines(text: str) -> list[tuple[int, str, object]]:
    """(line number, line, its JSON value or the JSONDecodeError) of every line that is not blank or
    a comment. All lines are decoded in one call when they are all valid, line by line otherwise
    (only then is each line's own error needed)."""
    lines = [(number, raw) for number, raw in enumerate(text.splitlines(), start=1)
             if raw.strip() and not raw.lstrip().startswith("#")]
    try:
        values = json.loads("[" + ",".join(raw for _number, raw in lines) + "]")
        if len(values) == len(lines):
            return [(number, raw, value) for (number, raw), value in zip(lines, values)]
    except (json.JSONDecodeError, RecursionError):
        pass
    decoded = []
    for number, raw in lines:
        try:
            decoded.append((number, raw, json.loads(raw)))
        except json.JSONDecodeError as exc:
            decoded.append((number, raw, exc))
    return decoded


class _PathIndex:
    """The paths seen so far, for finding a line whose path collides with an earlier one (the same
    path, or one inside the other) in as many steps as the path has folders, not one per line."""

    def __init__(self) -> None:
        self.lines: dict[str, int] = {}  # path -> its line
        self.folders: dict[str, int] = {}  # every folder above a path -> the first line under it

    def add(self, path: str, line: int) -> int | None:
        """Record `path` and return None, or return the earlier line it collides with."""
        if path in self.lines:
            return self.lines[path]
        if path in self.folders:  # an earlier path lies inside this one
            return self.folders[path]
        parts = path.split("/")
        parents = ["/".join(parts[:i]) for i in range(1, len(parts))]
        for parent in parents:  # this path lies inside an earlier one
            if parent in self.lines:
                return self.lines[parent]
        self.lines[path] = line
        for parent in parents:
            self.folders.setdefault(parent, line)
        return None


def read_manifest(manifest: str, *, cwd: str | None = None, local_roots: list[str] | None = None) -> list[ManifestEntry]:
    path = os.path.expanduser(manifest)
    if not os.path.isabs(path):
        path = os.path.join(cwd or os.getcwd(), path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise NotFound(f"No such manifest file: {path}") from None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise InvalidInput(f"{path} is not a text file of JSON lines ({exc}).") from exc
    return parse_manifest_text(text, os.path.basename(path), cwd=cwd, local_roots=local_roots)


def fetch_entry(entry: ManifestEntry, content: str, work: str, tracker: Tracker, max_ratio: object,
                retries: Retries) -> None:
    """Fetch one line's url to its path (a file, or a folder for folders, repositories and archives);
    `max_ratio` and `retries` come from the store's settings."""
    from . import git, kaggle

    target = os.path.join(content, *entry.path.split("/"))
    spec = entry.spec
    try:
        if spec.type == "git":
            os.makedirs(os.path.dirname(target), exist_ok=True)
            git.clone(spec, target, retries=retries)
            tracker.add_file()
            return
        if spec.type == "kaggle":
            kaggle.fetch(spec, target, os.path.join(work, f"kaggle-line-{entry.line}"), limit=tracker.limit,
                         max_ratio=max_ratio)
            return
        fs, remote = open_filesystem(spec)
        if spec.sync and spec.type != "hf":
            remote = remote.rstrip("/") + "/"
        items = list_files(fs, remote, spec.sync, retries=retries)
        if len(items) == 1 and not spec.sync and items[0].rpath == remote:
            items[0].relpath = entry.path
            download_all(fs, items, content, tracker, workers=1, retries=retries)
        else:
            download_all(fs, items, target, tracker, retries=retries)
    except Exception as exc:
        error = explain(exc, spec)
        error.message = f"line {entry.line} ({entry.url}): {error.message}"
        error.args = (error.message,)
        raise error from exc


def fetch_manifest(entries: list[ManifestEntry], content: str, work: str, tracker: Tracker, settings,
                   workers: int = WORKERS) -> dict:
    """Fetch every entry in parallel, as the store `settings` say (archive ratio, retries); the first
    failure stops the rest."""
    retries = Retries.of(settings)
    tracker.set_totals(None, None)
    stop = threading.Event()

    def one(entry: ManifestEntry) -> None:
        if not stop.is_set():
            fetch_entry(entry, content, work, tracker, settings.max_archive_ratio, retries)

    run_parallel(one, entries, workers, stop)
    return {"entries": len(entries)}
