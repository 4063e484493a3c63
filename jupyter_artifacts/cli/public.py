"""`jupyter artifacts public list|show|fetch`: the catalog of well-known public checkpoints."""

from __future__ import annotations

import argparse
import textwrap

from .context import add_command, open_store
from .output import ProgressBar, print_json, size, table


# The names of sources.public's settings, for the help text: importing that module (and with it
# the sources package) costs every command about 15 ms, so it is imported only by these commands.
_MIRROR_ENV = "JUPYTER_ARTIFACTS_PUBLIC_MIRROR"
_CATALOG_ENV = "JUPYTER_ARTIFACTS_PUBLIC_CATALOG"


def register(subparsers, common: argparse.ArgumentParser, only: str | None = None) -> None:
    """The public command and its subcommands (`only` makes no difference)."""
    parser = subparsers.add_parser(
        "public", parents=[common], help="well-known public checkpoints, fetched once and shared",
        description="Public checkpoints (Stable Diffusion, GPT-J, Whisper, ...) that jobs attach by id. "
                    "Each is fetched into the store on first use and shared after that. Sites without "
                    f"internet set {_MIRROR_ENV} to a mirror laid out as <id>/...; "
                    f"{_CATALOG_ENV} names a JSON file of extra entries.")
    commands = parser.add_subparsers(dest="public_command", metavar="COMMAND")
    commands.required = True

    add_command(commands, common, "list", cmd_list, "list the public checkpoints")
    p = add_command(commands, common, "show", cmd_show, "what a public checkpoint is, its source and license")
    p.add_argument("id", metavar="ID")
    p = add_command(commands, common, "fetch", cmd_fetch,
                    "fetch a public checkpoint into the store now (done once per store)")
    p.add_argument("id", metavar="ID")
    p.add_argument("--mirror", metavar="URL", default=None,
                   help=f"fetch from this mirror (a folder or URL laid out as <id>/...); default: ${_MIRROR_ENV}")


def _fetched(store) -> dict:
    """id -> reference of the copies this store already holds."""
    from ..sources import public

    artifacts, _ = store.list(kind=public.KIND, state="ready", limit=10000)
    found = {}
    for a in sorted(artifacts, key=lambda a: a.version):
        pid = (a.metadata or {}).get("public_id")
        if pid and a.name == public.NAME_PREFIX + pid:
            found[pid] = a
    return found


def cmd_list(args: argparse.Namespace) -> int:
    from ..sources import public

    store = open_store(args)
    entries = public.list_public(store.settings.public_catalog)
    fetched = _fetched(store)
    if args.json:
        print_json([{**e.to_dict(), "fetched": fetched[e.id].reference if e.id in fetched else None}
                    for e in entries])
        return 0
    rows = [(e.id, e.category, e.source_text, fetched[e.id].reference if e.id in fetched else "", e.title)
            for e in entries]
    print(table(rows, ("ID", "CATEGORY", "SOURCE", "FETCHED", "TITLE")))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from ..sources import public

    store = open_store(args)
    entry = public.get_public(args.id, store.settings.public_catalog)
    artifact = _fetched(store).get(entry.id)
    mirror = public.current_mirror(store.settings)
    if args.json:
        print_json({**entry.to_dict(), "mirror": mirror,
                    "fetched": artifact.to_dict(manifest=False) if artifact else None})
        return 0
    lines = [
        f"{entry.id}: {entry.title}",
        *textwrap.wrap(entry.description, 100, initial_indent="  ", subsequent_indent="  "),
        f"category:  {entry.category}",
        f"source:    {entry.source_text}" + (f" (fetched from the mirror {mirror}/{entry.id}/)" if mirror else ""),
        f"license:   {entry.license}",
    ]
    if entry.include:
        lines.append(f"files:     {', '.join(entry.include)}")
    if entry.exclude:
        lines.append(f"skips:     {', '.join(entry.exclude)}")
    if artifact:
        lines.append(f"fetched:   checkpoint {artifact.reference} ({size(artifact.size)}, {artifact.file_count} files)")
    else:
        lines.append("fetched:   not yet; `jupyter artifacts public fetch "
                     f"{entry.id}` or the first job that attaches it fetches it")
    if entry.origin != "builtin":
        lines.append(f"defined in: {entry.origin}")
    print("\n".join(lines))
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from ..sources import public

    store = open_store(args)
    entry = public.get_public(args.id, store.settings.public_catalog)
    bar = ProgressBar(f"fetching {entry.id}", enabled=not args.json)
    try:
        artifact = public.fetch_public(store, entry.id, bar, mirror=args.mirror)
    finally:
        bar.close()
    if args.json:
        print_json(artifact.to_dict(manifest=False))
        return 0
    print(f"Public checkpoint {entry.id} is checkpoint {artifact.reference} "
          f"({size(artifact.size)}, {artifact.file_count} files).")
    if entry.license:
        print(f"Using it means accepting its license: {entry.license}")
    return 0
