"""What a source path means: its type, inferred or given, validated before anything is fetched."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from ..errors import InvalidInput
from .roots import check_git_repository, resolve_local

SOURCE_TYPES = ("local", "aws", "wasabi", "gcp", "azure", "hf", "git", "kaggle", "web")
KAGGLE_TYPES = ("competition", "dataset", "kernel")

# (type, accepted path forms): shown whenever a path does not fit its type.
ACCEPTED_FORMS = (
    ("local", "/abs/path, ~/path, $VAR/path, or a path relative to the current folder (CLI, magics)"),
    ("aws", "s3://bucket/key"),
    ("wasabi", "s3://bucket/key with --endpoint https://s3.REGION.wasabisys.com"),
    ("gcp", "gs://bucket/key"),
    ("azure", "https://ACCOUNT.blob.core.windows.net/CONTAINER/path or az://CONTAINER/path"),
    ("hf", "NAMESPACE/REPO (or datasets/NAMESPACE/REPO), optional --branch"),
    ("git", "https://host/repo.git, ssh://git@host/repo.git, git@host:repo.git or file:///path/repo.git, "
            "optional --branch"),
    ("kaggle", "the short name of a competition, dataset or kernel (owner/name), "
               "with --kaggle-type competition|dataset|kernel"),
    ("web", "http://..., https://..., ftp://... or ftps://..."),
)

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".bz2", ".tar", ".zip")

_HF_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?"
_HF_RE = re.compile(rf"^(?:(datasets|spaces|models)/)?({_HF_PART})/({_HF_PART})$")
_KAGGLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)?$")
_SCP_GIT_RE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!//)[^\s]+$")
_AZURE_HOST_RE = re.compile(r"^([a-z0-9]{3,24})\.blob\.core\.windows\.net$")
_BUCKET_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$")
_BRANCH_RE = re.compile(r"^[^\s~^:?*\[\\]+$")


def accepted_forms_text() -> str:
    width = max(len(t) for t, _ in ACCEPTED_FORMS)
    return "\n".join(f"  {t.ljust(width)}  {forms}" for t, forms in ACCEPTED_FORMS)


def refuse(message: str, source_type: str | None = None) -> InvalidInput:
    """An InvalidInput whose message ends with the table of accepted path forms."""
    return InvalidInput(f"{message}\nAccepted source paths:\n{accepted_forms_text()}",
                        source_type=source_type, accepted_forms=dict(ACCEPTED_FORMS))


@dataclass(slots=True)  # one per manifest line: no __dict__ each
class SourceSpec:
    """A validated source: `type`, the path as given, and what fetching it needs."""

    type: str
    path: str
    endpoint: str | None = None
    branch: str | None = None
    kaggle_type: str | None = None
    local_path: str | None = None  # local sources: the absolute path
    sync: bool = False  # the path names a folder whose contents are fetched
    archive: str | None = None  # the archive suffix when the path names a compressed file
    inferred: bool = False  # the type was inferred from the path, not given
    extra: dict = field(default_factory=dict)

    @property
    def filename(self) -> str:
        """The last path component (without query), the name a single fetched file gets."""
        if self.type == "local":
            return os.path.basename(self.local_path.rstrip("/"))
        text = self.path
        if "://" in text:
            text = urlsplit(text).path
        return text.rstrip("/").rsplit("/", 1)[-1]

    def record(self) -> dict:
        """What the artifact's `source` records: never a password."""
        data = {"type": self.type, "path": redact(self.local_path or self.path)}
        for key in ("endpoint", "branch", "kaggle_type"):
            value = getattr(self, key)
            if value:
                data[key] = redact(value) if key == "endpoint" else value
        if self.archive:
            data["archive"] = self.archive
        data.update(self.extra)
        return data


def redact(url: str) -> str:
    """Drop the password from user:password@host URLs before they are stored or shown."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def archive_suffix(path: str) -> str | None:
    name = path.split("?", 1)[0].split("#", 1)[0].rstrip("/").lower()
    if path.endswith("/"):
        return None
    for suffix in ARCHIVE_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return None


def infer_type(path: str, *, endpoint: str | None = None, kaggle_type: str | None = None,
               branch: str | None = None, cwd: str | None = None) -> str:
    """The source type a path implies, or an error when it is ambiguous or fits no type."""
    if not isinstance(path, str) or not path.strip():
        raise refuse("A source path is needed.")
    if kaggle_type:
        return "kaggle"
    lower = path.lower()
    scheme = lower.split("://", 1)[0] if "://" in lower else None
    if scheme == "s3":
        return "wasabi" if endpoint else "aws"
    if scheme in ("gs", "gcs"):
        return "gcp"
    if scheme in ("az", "abfs", "abfss"):
        return "azure"
    if scheme in ("http", "https") and ".blob.core.windows.net" in lower \
            and _AZURE_HOST_RE.match(urlsplit(lower).hostname or ""):
        return "azure"
    if scheme in ("ssh", "git", "git+ssh", "ssh+git") or (scheme is None and _SCP_GIT_RE.match(path)):
        return "git"
    if scheme in ("http", "https", "file") and ".git" in lower and urlsplit(lower).path.rstrip("/").endswith(".git"):
        return "git"
    if scheme in ("http", "https", "ftp", "ftps"):
        return "web"
    if scheme == "file":
        return "local"
    if scheme == "hf":
        return "hf"
    if scheme is not None:
        raise refuse(f"Unknown kind of source path {path!r} ({scheme}://).")
    if path.startswith(("/", "~", "$", "./", "../")) or path in (".", ".."):
        return "local"
    relative = os.path.join(cwd or os.getcwd(), path)
    if os.path.lexists(relative):
        return "local"
    if _HF_RE.match(path.rstrip("/")):
        return "hf"
    return "local"  # a relative path that does not exist: reported as a missing file or folder


def parse_source(path: str, *, source_type: str | None = None, endpoint: str | None = None,
                 branch: str | None = None, kaggle_type: str | None = None, cwd: str | None = None,
                 local_roots: list[str] | None = None) -> SourceSpec:
    """Validate `path` for its type (given or inferred); nothing is contacted.

    `cwd` resolves relative local paths (default: the current folder). With `local_roots`
    (the server), a local path must be absolute or relative to the first root, and resolve
    inside one of them.
    """
    if source_type is not None and source_type not in SOURCE_TYPES:
        raise refuse(f"Unknown source type {source_type!r}: use one of {', '.join(SOURCE_TYPES)}.")
    if kaggle_type is not None and kaggle_type not in KAGGLE_TYPES:
        raise InvalidInput(f"Unknown Kaggle type {kaggle_type!r}: use one of {', '.join(KAGGLE_TYPES)}.")
    if local_roots and cwd is None:
        cwd = local_roots[0]
    kind = source_type or infer_type(path, endpoint=endpoint, kaggle_type=kaggle_type, branch=branch, cwd=cwd)
    inferred = source_type is None
    if not isinstance(path, str) or not path.strip():
        raise refuse("A source path is needed.", kind)
    path = path.strip()
    if endpoint and kind not in ("wasabi", "aws"):
        raise InvalidInput(f"--endpoint applies to S3-compatible sources (wasabi, aws), not to {kind}.")
    if branch and kind not in ("git", "hf"):
        raise InvalidInput(f"--branch applies to git and hf sources, not to {kind}.")
    if branch and not _BRANCH_RE.match(branch):
        raise InvalidInput(f"Invalid branch {branch!r}.")
    if kaggle_type and kind != "kaggle":
        raise InvalidInput(f"--kaggle-type applies to kaggle sources, not to {kind}.")
    spec = SourceSpec(type=kind, path=path, endpoint=endpoint, branch=branch, kaggle_type=kaggle_type,
                      inferred=inferred)
    _VALIDATORS[kind](spec, cwd=cwd, local_roots=local_roots)
    if kind not in ("git", "hf", "kaggle"):
        spec.sync = spec.path.endswith("/")
        spec.archive = archive_suffix(spec.local_path or spec.path)
        if spec.local_path and os.path.isdir(spec.local_path):
            spec.archive = None  # a folder that happens to be named like an archive
    return spec


def _scheme_path(spec: SourceSpec, schemes: tuple[str, ...], label: str) -> tuple[str, str]:
    if "://" not in spec.path:
        raise refuse(f"{spec.path!r} is not a {label} path.", spec.type)
    scheme, rest = spec.path.split("://", 1)
    if scheme.lower() not in schemes:
        raise refuse(f"{spec.path!r} is not a {label} path.", spec.type)
    return scheme.lower(), rest


def _bucket_key(spec: SourceSpec, schemes: tuple[str, ...], label: str) -> None:
    _scheme, rest = _scheme_path(spec, schemes, label)
    bucket = rest.split("/", 1)[0]
    if not _BUCKET_RE.match(bucket):
        raise refuse(f"{spec.path!r} does not name a bucket ({label} paths look like {schemes[0]}://bucket/key).",
                     spec.type)
    _check_parts(spec, rest.split("/", 1)[1] if "/" in rest else "")


def _check_parts(spec: SourceSpec, rest: str) -> None:
    if any(part in (".", "..") for part in rest.split("/")):
        raise refuse(f"{spec.path!r} holds '.' or '..' components.", spec.type)


def _validate_local(spec: SourceSpec, *, cwd: str | None, local_roots: list[str] | None) -> None:
    path = spec.path
    if path.lower().startswith("file://"):
        path = urlsplit(path).path or "/"
    if "://" in path:
        raise refuse(f"{spec.path!r} is a URL, not a local path.", "local")
    spec.local_path = resolve_local(spec.path, cwd, local_roots)
    if path.endswith("/") and not spec.path.endswith("/"):
        spec.path += "/"


def _validate_aws(spec: SourceSpec, **_: object) -> None:
    _bucket_key(spec, ("s3",), "S3")


def _validate_wasabi(spec: SourceSpec, **_: object) -> None:
    _bucket_key(spec, ("s3", "wasabi"), "Wasabi (S3)")
    if not spec.endpoint:
        raise refuse("A wasabi source needs --endpoint URL (e.g. https://s3.eu-central-1.wasabisys.com).", "wasabi")
    parts = urlsplit(spec.endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"Invalid --endpoint {spec.endpoint!r}: give an http(s) URL such as "
                           "https://s3.eu-central-1.wasabisys.com.")


def _validate_gcp(spec: SourceSpec, **_: object) -> None:
    _bucket_key(spec, ("gs", "gcs"), "Google Cloud Storage")


def _validate_azure(spec: SourceSpec, **_: object) -> None:
    scheme, rest = _scheme_path(spec, ("https", "http", "az", "abfs", "abfss"), "Azure Blob Storage")
    if scheme in ("https", "http"):
        parts = urlsplit(spec.path)
        match = _AZURE_HOST_RE.match(parts.hostname or "")
        container = parts.path.lstrip("/").split("/", 1)[0]
        if not match or not container:
            raise refuse(f"{spec.path!r} is not an Azure Blob Storage URL "
                         "(https://ACCOUNT.blob.core.windows.net/CONTAINER/path).", "azure")
        spec.extra["account"] = match.group(1)
        _check_parts(spec, parts.path)
    else:
        container = rest.split("@", 1)[0].split("/", 1)[0]
        if not container:
            raise refuse(f"{spec.path!r} does not name a container (az://CONTAINER/path).", "azure")
        _check_parts(spec, rest)


def _validate_hf(spec: SourceSpec, **_: object) -> None:
    text = spec.path[5:] if spec.path.lower().startswith("hf://") else spec.path
    text = text.rstrip("/")
    if "@" in text and not spec.branch:
        text, spec.branch = text.split("@", 1)
    match = _HF_RE.match(text)
    if not match:
        raise refuse(f"{spec.path!r} is not a Hugging Face repository (NAMESPACE/REPO).", "hf")
    prefix, namespace, repo = match.groups()
    spec.extra["repo"] = f"{namespace}/{repo}"
    spec.extra["repo_type"] = {"datasets": "dataset", "spaces": "space"}.get(prefix or "", "model")
    spec.sync = True


def _validate_git(spec: SourceSpec, *, local_roots: list[str] | None, **_: object) -> None:
    path = spec.path
    if _SCP_GIT_RE.match(path):
        return
    parts = urlsplit(path)
    if parts.scheme.lower() not in ("http", "https", "ssh", "git", "file", "git+ssh", "ssh+git"):
        raise refuse(f"{path!r} is not a git URL.", "git")
    if parts.scheme.lower() != "file" and not parts.hostname:
        raise refuse(f"{path!r} does not name a host.", "git")
    if not parts.path.strip("/"):
        raise refuse(f"{path!r} does not name a repository.", "git")
    if local_roots is not None and parts.scheme.lower() == "file":
        check_git_repository(path, local_roots)


def _validate_kaggle(spec: SourceSpec, **_: object) -> None:
    if not spec.kaggle_type:
        raise refuse("A kaggle source needs --kaggle-type competition, dataset or kernel.", "kaggle")
    name = spec.path.rstrip("/")
    if not _KAGGLE_RE.match(name):
        raise refuse(f"{spec.path!r} is not a Kaggle short name.", "kaggle")
    if spec.kaggle_type in ("dataset", "kernel") and "/" not in name:
        raise refuse(f"A Kaggle {spec.kaggle_type} is named OWNER/NAME, not {spec.path!r}.", "kaggle")
    if spec.kaggle_type == "competition" and "/" in name:
        raise refuse(f"A Kaggle competition is named by its short name (e.g. titanic), not {spec.path!r}.", "kaggle")
    spec.path = name


def _validate_web(spec: SourceSpec, **_: object) -> None:
    parts = urlsplit(spec.path)
    if parts.scheme.lower() not in ("http", "https", "ftp", "ftps"):
        raise refuse(f"{spec.path!r} is not a web URL.", "web")
    if not parts.hostname:
        raise refuse(f"{spec.path!r} does not name a host.", "web")
    try:
        _ = parts.port
    except ValueError as exc:
        raise refuse(f"{spec.path!r} has an invalid port.", "web") from exc
    _check_parts(spec, parts.path)


_VALIDATORS = {
    "local": _validate_local, "aws": _validate_aws, "wasabi": _validate_wasabi, "gcp": _validate_gcp,
    "azure": _validate_azure, "hf": _validate_hf, "git": _validate_git, "kaggle": _validate_kaggle,
    "web": _validate_web,
}
