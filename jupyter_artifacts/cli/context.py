"""Opening the store the way every command does: --root, else the environment, else the default."""

from __future__ import annotations

import argparse

from ..store import Store, StoreSettings


def add_command(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser, name: str, func,
                help_text: str, json_flag: bool = True, **defaults) -> argparse.ArgumentParser:
    """One (sub)command: its help, the options every command takes, and --json where it prints data."""
    parser = subparsers.add_parser(name, help=help_text, parents=[common], description=help_text)
    parser.set_defaults(func=func, **defaults)
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    return parser


def open_store(args: argparse.Namespace) -> Store:
    return Store(StoreSettings.from_env(getattr(args, "root", None)))
