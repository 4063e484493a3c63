"""Opening the store the way every command does: --root, else the environment, else the default."""

from __future__ import annotations

import argparse
import os

from ..store import Store, StoreSettings
from ..store.settings import GB, parse_size

LIMIT_ENV = {
    "model": "JUPYTER_ARTIFACTS_MAX_MODEL_SIZE",
    "checkpoint": "JUPYTER_ARTIFACTS_MAX_CHECKPOINT_SIZE",
    "dataset": "JUPYTER_ARTIFACTS_MAX_DATASET_SIZE",
}
QUOTA_ENV = "JUPYTER_ARTIFACTS_QUOTA"


def settings_from_env(root: str | None = None) -> StoreSettings:
    settings = StoreSettings()
    if root:
        settings.root = root
    for kind, env in LIMIT_ENV.items():
        if env in os.environ:
            settings.max_size[kind] = parse_size(os.environ[env])
    if QUOTA_ENV in os.environ:
        settings.quota = parse_size(os.environ[QUOTA_ENV])
    return settings


def open_store(args: argparse.Namespace) -> Store:
    return Store(settings_from_env(getattr(args, "root", None)))


__all__ = ["GB", "open_store", "settings_from_env"]
