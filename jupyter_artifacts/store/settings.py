"""Store settings with the defaults users know, and the size strings people type (`50G`, `512M`)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from ..errors import InvalidInput, quote

ROOT_ENV = "JUPYTER_ARTIFACTS_ROOT"
LIMIT_ENV = {
    "model": "JUPYTER_ARTIFACTS_MAX_MODEL_SIZE",
    "checkpoint": "JUPYTER_ARTIFACTS_MAX_CHECKPOINT_SIZE",
    "dataset": "JUPYTER_ARTIFACTS_MAX_DATASET_SIZE",
}
QUOTA_ENV = "JUPYTER_ARTIFACTS_QUOTA"
GB = 10**9
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(i?)B?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15}
_IUNITS = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40, "P": 2**50}
SIZE_FORMS = "a number of bytes or a number with K, M, G, T or P (SI: 8G = 8,000,000,000; Gi = 2^30)"


def parse_size(text: str | int | float | None) -> int | None:
    """'8G' -> 8e9, '512Mi' -> 512 * 2**20; None, '', 'off' and 'none' mean no limit."""
    if text is None or isinstance(text, (int, float)):
        return None if text is None else int(text)
    if text.strip().lower() in ("", "off", "none", "0"):
        return None
    match = _SIZE_RE.match(text)
    if not match:
        raise InvalidInput(f"Invalid size {quote(text)}: use {SIZE_FORMS}.")
    number, unit, binary = match.groups()
    factor = _IUNITS[unit.upper()] if binary and unit else _UNITS[unit.upper()]
    return int(float(number) * factor)


def format_size(size: int | None) -> str:
    if size is None:
        return "unlimited"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


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
