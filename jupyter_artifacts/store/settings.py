"""Store settings with the defaults users know; sizes (`50G`, `512M`) are read by `jupyter_artifacts.units`."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from ..errors import InvalidInput, quote  # noqa: F401
from ..units import SIZE_FORMS, format_size, parse_size  # noqa: F401 - importable from here too

ROOT_ENV = "JUPYTER_ARTIFACTS_ROOT"
LIMIT_ENV = {
    "model": "JUPYTER_ARTIFACTS_MAX_MODEL_SIZE",
    "checkpoint": "JUPYTER_ARTIFACTS_MAX_CHECKPOINT_SIZE",
    "dataset": "JUPYTER_ARTIFACTS_MAX_DATASET_SIZE",
}
QUOTA_ENV = "JUPYTER_ARTIFACTS_QUOTA"
GB = 10**9


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

    @classmethod
    def from_env(cls, root: str | None = None) -> "StoreSettings":
        """The settings every process agrees on: a given root, else the environment, else the defaults."""
        settings = cls(root=root) if root else cls()
        for kind, env in LIMIT_ENV.items():
            if env in os.environ:
                settings.max_size[kind] = parse_size(os.environ[env])
        if QUOTA_ENV in os.environ:
            settings.quota = parse_size(os.environ[QUOTA_ENV])
        return settings
