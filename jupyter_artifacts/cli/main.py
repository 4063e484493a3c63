"""Entry point of `jupyter artifacts` (console script `jupyter-artifacts`).

Each command family lives in its own module with a `register(subparsers, common, command)`
function; `COMMAND_MODULES` maps them, in the order `--help` shows them, to the commands each
adds. A command line that names a command builds only its family's parsers (for the artifact
kinds, only that kind's): building every subcommand takes longer than a quick command runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import ArtifactsError

COMMAND_MODULES = {
    "jupyter_artifacts.cli.artifacts": ("model", "checkpoint", "dataset"),
    "jupyter_artifacts.cli.maintenance": ("find", "verify", "export", "import", "reindex", "gc", "status"),
    "jupyter_artifacts.cli.public": ("public",),
    "jupyter_artifacts.cli.jobs": ("job", "gpus"),
}


def common_parser() -> argparse.ArgumentParser:
    """Options every command takes, before or after the command name."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", metavar="URL", default=argparse.SUPPRESS,
                        help="store root (a folder or an fsspec URL); default: $JUPYTER_ARTIFACTS_ROOT, "
                             "else a folder under the Jupyter data dir")
    return common


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command's parser, or only those of the family that adds `command`."""
    common = common_parser()
    parser = argparse.ArgumentParser(
        prog="jupyter artifacts", parents=[common],
        description="Immutable, content-addressed models, checkpoints and datasets, and GPU jobs.",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for name, names in COMMAND_MODULES.items():
        if command is None or command in names:
            importlib.import_module(name).register(commands, common, command)
    return parser


def command_word(argv: list[str]) -> str | None:
    """The command a command line names (after any --root URL), if it is one of ours."""
    args = iter(argv)
    for arg in args:
        if arg == "--root":
            next(args, None)
        elif not arg.startswith("--root="):
            known = not arg.startswith("-") and any(arg in names for names in COMMAND_MODULES.values())
            return arg if known else None
    return None


def _version() -> str:
    from .._version import __version__

    return f"jupyter-artifacts {__version__}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(command_word(argv)).parse_args(argv)
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
