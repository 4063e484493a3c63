"""The fsspec file system (protocol, options, path) each source type is fetched through."""

from __future__ import annotations

import importlib.util
import sys
from urllib.parse import quote, unquote, urlsplit

from ..errors import InvalidInput
from .spec import SourceSpec

# source type -> (python module, extra of jupyter-artifacts that installs it)
OPTIONAL_PACKAGES = {
    "aws": ("s3fs", "s3"), "wasabi": ("s3fs", "s3"), "gcp": ("gcsfs", "gcs"),
    "azure": ("adlfs", "azure"), "hf": ("huggingface_hub", "hf"),
}


def filesystem_args(spec: SourceSpec) -> tuple[str, dict, str]:
    """(fsspec protocol, storage options, path on that file system) for a validated spec."""
    kind = spec.type
    if kind == "local":
        return "file", {}, spec.local_path
    if kind in ("aws", "wasabi"):
        rest = spec.path.split("://", 1)[1]
        options: dict = {}
        if spec.endpoint:
            options["endpoint_url"] = spec.endpoint
        return "s3", options, rest
    if kind == "gcp":
        return "gcs", {}, spec.path.split("://", 1)[1]
    if kind == "azure":
        scheme, rest = spec.path.split("://", 1)
        if scheme.lower() in ("https", "http"):
            parts = urlsplit(spec.path)
            return "abfs", {"account_name": spec.extra["account"]}, unquote(parts.path.lstrip("/"))
        if "@" in rest.split("/", 1)[0]:  # abfs://container@account.dfs.core.windows.net/path
            head, _, tail = rest.partition("/")
            container, host = head.split("@", 1)
            return "abfs", {"account_name": host.split(".", 1)[0]}, f"{container}/{tail}" if tail else container
        return "abfs", {}, rest
    if kind == "hf":
        repo = spec.extra["repo"]
        prefix = {"dataset": "datasets/", "space": "spaces/"}.get(spec.extra.get("repo_type", "model"), "")
        revision = f"@{quote(spec.branch, safe='')}" if spec.branch else ""
        return "hf", {}, f"{prefix}{repo}{revision}"
    if kind == "web":
        parts = urlsplit(spec.path)
        scheme = parts.scheme.lower()
        if scheme in ("http", "https"):
            return scheme, {}, spec.path
        options = {"host": parts.hostname, "port": parts.port or 21}
        if parts.username:
            options["username"] = unquote(parts.username)
            options["password"] = unquote(parts.password or "")
        if scheme == "ftps":
            options["tls"] = True
        return "ftp", options, unquote(parts.path) or "/"
    raise InvalidInput(f"A {kind} source is not fetched through a file system.")


_FOUND: set[str] = set()  # modules found on disk; a missing one is looked for again next time


def _installed(module: str) -> bool:
    """Whether `module` can be imported, as `find_spec` says, but searching the disk for it once,
    not once per line of a manifest (100,000 searches took 4 s)."""
    if module in sys.modules:
        return sys.modules[module] is not None
    if module not in _FOUND and importlib.util.find_spec(module) is not None:
        _FOUND.add(module)
    return module in _FOUND


def missing_package(spec: SourceSpec) -> str | None:
    """The message to show when the package a source type needs is not installed."""
    if spec.type == "web" and spec.path.lower().startswith("http"):
        module, extra = "aiohttp", None
    elif spec.type in OPTIONAL_PACKAGES:
        module, extra = OPTIONAL_PACKAGES[spec.type]
    else:
        return None
    if _installed(module):
        return None
    import fsspec

    if filesystem_args(spec)[0] in fsspec.registry:  # a site registered its own implementation
        return None
    how = f"pip install 'jupyter-artifacts[{extra}]'" if extra else f"pip install {module}"
    return f"{spec.type} sources need the {module} package, which is not installed: {how}"


def open_filesystem(spec: SourceSpec):
    """An fsspec file system for the spec, and the path on it."""
    import fsspec

    problem = missing_package(spec)
    if problem:
        raise InvalidInput(problem)
    protocol, options, path = filesystem_args(spec)
    # Credentials come from each library's usual chain (env, config files); a fresh instance
    # picks up credentials that changed since the last fetch.
    fs = fsspec.filesystem(protocol, skip_instance_cache=True, **options)
    return fs, path
