"""Opening the store the way every command does: --root, else the environment, else the default."""

from __future__ import annotations

import argparse

from ..store import Store, StoreSettings


def open_store(args: argparse.Namespace) -> Store:
    return Store(StoreSettings.from_env(getattr(args, "root", None)))
