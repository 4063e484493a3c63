"""Entry point of `jupyter artifacts` (console script `jupyter-artifacts`).

Each command family lives in its own module with a `register(subparsers, common)` function;
`COMMAND_MODULES` lists them in the order `--help` shows them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import ArtifactsError

COMMAND_MODULES = (
    "jupyter_artifacts.cli.artifacts",
    "jupyter_artifacts.cli.maintenance",
    "jupyter_artifacts.cli.public",
    "jupyter_artifacts.cli.jobs",
)


def common_parser() -> argparse.ArgumentParser:
    """Options every command takes, before or after the command name."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", metavar="URL", default=argparse.SUPPRESS,
                        help="store root (a folder or an fsspec URL); default: $JUPYTER_ARTIFACTS_ROOT, "
                             "else a folder under the Jupyter data dir")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = common_parser()
    parser = argparse.ArgumentParser(
        prog="jupyter artifacts", parents=[common],
        description="Immutable, content-addressed models, checkpoints and datasets, and GPU jobs.",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands, common)
    return parser


def _version() -> str:
    from .._version import __version__

    return f"jupyter-artifacts {__version__}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except ArtifactsError as exc:
        print(f"Error: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted; nothing was left half-made.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
