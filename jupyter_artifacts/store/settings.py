"""Store settings with the defaults users know; sizes (`50G`, `512M`) are read by `jupyter_artifacts.units`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..errors import InvalidInput, quote  # noqa: F401
from ..units import SIZE_FORMS, format_size, parse_duration, parse_flag, parse_size  # noqa: F401 - importable from here too

ROOT_ENV = "JUPYTER_ARTIFACTS_ROOT"
LIMIT_ENV = {
    "model": "JUPYTER_ARTIFACTS_MAX_MODEL_SIZE",
    "checkpoint": "JUPYTER_ARTIFACTS_MAX_CHECKPOINT_SIZE",
    "dataset": "JUPYTER_ARTIFACTS_MAX_DATASET_SIZE",
}
QUOTA_ENV = "JUPYTER_ARTIFACTS_QUOTA"
SHARED_ENV = "JUPYTER_ARTIFACTS_SHARED"
BLOB_CACHE_ENV = "JUPYTER_ARTIFACTS_BLOB_CACHE"
DURATION_ENV = {
    "sync_interval": "JUPYTER_ARTIFACTS_SYNC_INTERVAL",
    "clock_skew": "JUPYTER_ARTIFACTS_CLOCK_SKEW",
    "lease_ttl": "JUPYTER_ARTIFACTS_LEASE_TTL",
    "gc_grace": "JUPYTER_ARTIFACTS_GC_GRACE",
}
PUBLIC_MIRROR_ENV = "JUPYTER_ARTIFACTS_PUBLIC_MIRROR"
PUBLIC_CATALOG_ENV = "JUPYTER_ARTIFACTS_PUBLIC_CATALOG"
ARCHIVE_RATIO_ENV = "JUPYTER_ARTIFACTS_MAX_ARCHIVE_RATIO"
DEFAULT_ARCHIVE_RATIO = 200
FETCH_ATTEMPTS_ENV = "JUPYTER_ARTIFACTS_FETCH_ATTEMPTS"
FETCH_BACKOFF_ENV = "JUPYTER_ARTIFACTS_FETCH_BACKOFF"
GB = 10**9


def _env_number(name: str, kind: type, default: float, least: float) -> float:
    """A number from the environment, at least `least`; the default where it is unset or no number."""
    try:
        return max(least, kind(os.environ.get(name, default)))
    except ValueError:
        return default


def default_root() -> str:
    """JUPYTER_ARTIFACTS_ROOT, else a folder under the Jupyter data dir."""
    env = os.environ.get(ROOT_ENV)
    if env:
        return env
    from jupyter_core.paths import jupyter_data_dir

    return os.path.join(jupyter_data_dir(), "artifacts")


def default_catalog_path(root_url: str, is_local: bool, local_path: str | None = None) -> str:
    """Local roots keep their catalog inside; remote ones get one per URL on this machine."""
    if is_local and local_path:
        return os.path.join(local_path, "catalog.sqlite")
    import hashlib

    from jupyter_core.paths import jupyter_data_dir

    key = hashlib.sha256(root_url.encode()).hexdigest()[:16]
    return os.path.join(jupyter_data_dir(), "artifacts-catalogs", key, "catalog.sqlite")


@dataclass
class StoreSettings:
    """What the faces configure; the server's traitlets and the CLI's flags fill this in."""

    root: str = field(default_factory=default_root)
    max_size: dict[str, int | None] = field(
        default_factory=lambda: {"model": 50 * GB, "checkpoint": 500 * GB, "dataset": None}
    )
    quota: int | None = None
    catalog_path: str | None = None
    storage_options: dict = field(default_factory=dict)
    # Read from the environment when the settings are made, then carried with them (a job's supervisor
    # gets its store's settings from the job), so what a server is configured with reaches every process.
    public_mirror: str | None = field(default_factory=lambda: os.environ.get(PUBLIC_MIRROR_ENV) or None)
    public_catalog: str | None = field(default_factory=lambda: os.environ.get(PUBLIC_CATALOG_ENV) or None)
    max_archive_ratio: float | str | None = field(  # checked where archives are extracted
        default_factory=lambda: os.environ.get(ARCHIVE_RATIO_ENV, DEFAULT_ARCHIVE_RATIO))
    # how often a fetch is tried when the network fails it, and the first wait (doubling each time)
    fetch_attempts: int = field(default_factory=lambda: _env_number(FETCH_ATTEMPTS_ENV, int, 5, 1))
    fetch_backoff: float = field(default_factory=lambda: _env_number(FETCH_BACKOFF_ENV, float, 1.0, 0.0))
    # A root shared by several hosts (see docs/shared-roots.md). None: remote roots are shared, a
    # local folder is shared once a host marked it so (root.json).
    shared: bool | None = None
    sync_interval: float = 2.0  # seconds between two reads of the journal for lists
    clock_skew: float = 300.0  # how far hosts' clocks may differ
    lease_ttl: float = 300.0  # a lease of a host that stopped renewing it ends after this
    gc_grace: float = 6 * 3600.0  # a blob younger than this is never collected
    blob_cache: int | None = 20 * GB  # this machine's copy of a remote root's blobs (None: off)

    @classmethod
    def from_env(cls, root: str | None = None) -> "StoreSettings":
        """The settings every process agrees on: a given root, else the environment, else the defaults."""
        settings = cls(root=root) if root else cls()
        for kind, env in LIMIT_ENV.items():
            if env in os.environ:
                settings.max_size[kind] = parse_size(os.environ[env])
        if QUOTA_ENV in os.environ:
            settings.quota = parse_size(os.environ[QUOTA_ENV])
        if SHARED_ENV in os.environ:
            settings.shared = parse_flag(os.environ[SHARED_ENV], SHARED_ENV)
        for name, env in DURATION_ENV.items():
            if env in os.environ:
                setattr(settings, name, parse_duration(os.environ[env], env))
        if BLOB_CACHE_ENV in os.environ:
            settings.blob_cache = parse_size(os.environ[BLOB_CACHE_ENV])
        return settings
