"""`jupyter artifacts {model|checkpoint|dataset} VERB ...`: one verb set for every kind."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import InvalidInput, quote
from ..sources import create_from_source
from ..store import KINDS
from ..store.records import Artifact
from . import output
from .context import add_command, open_store


def parse_meta(pairs: list[str]) -> dict:
    """KEY=VALUE pairs; a VALUE that is valid JSON is kept typed (numbers, lists, ...)."""
    meta = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"Invalid metadata {quote(pair)}: use KEY=VALUE, e.g. --meta lr=0.001.")
        try:
            meta[key] = json.loads(value)
        except ValueError:
            meta[key] = value
    return meta


def describe(artifact: Artifact) -> str:
    """The human view of `show`."""
    lines = [
        f"{artifact.kind.capitalize()} {artifact.reference}",
        f"  id:          {artifact.id}",
        f"  state:       {artifact.state}" + (f" ({artifact.error})" if artifact.error else ""),
    ]
    if artifact.progress:
        p = artifact.progress
        lines.append(f"  progress:    {output.size(p.get('bytes'))} of {output.size(p.get('total_bytes'))}, "
                     f"{p.get('files', 0)} of {p.get('total_files', '?')} files")
    lines += [
        f"  aliases:     {', '.join(artifact.aliases) or '-'}",
        f"  digest:      {artifact.digest or '-'}",
        f"  size:        {output.size(artifact.size)} in {output.count(artifact.file_count, 'file')}",
        f"  created:     {output.when(artifact.created_at)} by {artifact.created_by}",
        f"  source:      {json.dumps(artifact.source, sort_keys=True)}",
    ]
    if artifact.refs:
        lines.append(f"  refs:        {', '.join(artifact.refs)}")
    if artifact.metadata:
        lines.append(f"  metadata:    {json.dumps(artifact.metadata, sort_keys=True)}")
    if artifact.produced_by:
        lines.append(f"  produced by: {json.dumps(artifact.produced_by, sort_keys=True)}")
    return "\n".join(lines)


def cmd_create(args: argparse.Namespace) -> int:
    if args.path is None and not getattr(args, "manifest", None):
        raise InvalidInput("Give the PATH to create from" + (" (or --manifest FILE)." if args.kind == "dataset" else "."))
    store = open_store(args)
    bar = output.ProgressBar(f"Saving {args.name}", enabled=not args.json)
    extra = {"manifest": args.manifest} if getattr(args, "manifest", None) else {}
    try:
        artifact = create_from_source(
            store, args.kind, args.name, args.path, source_type=args.source_type, endpoint=args.endpoint,
            branch=args.branch, kaggle_type=args.kaggle_type, aliases=args.alias, refs=args.ref,
            metadata=parse_meta(args.meta), progress=bar, **extra)
    finally:
        bar.close()
    if args.json:
        output.print_json(artifact.to_dict(manifest=False))
    else:
        print(f"Created {artifact.kind} {artifact.reference} ({output.size(artifact.size)} in "
              f"{output.count(artifact.file_count, 'file')}, id {artifact.id})")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    artifacts, total = open_store(args).list(kind=args.kind, name=args.name, query=args.filter,
                                             limit=args.limit, offset=args.offset)
    if args.json:
        output.print_json([a.to_dict(manifest=False) for a in artifacts])
        return 0
    if not artifacts:
        print(f"No {args.kind}s yet. Create one with `jupyter artifacts {args.kind} create NAME PATH`.")
        return 0
    rows = [(a.name, f"v{a.version}", ",".join(a.aliases), a.state, output.size(a.size), a.file_count,
             output.when(a.created_at), a.created_by, a.id[:12]) for a in artifacts]
    print(output.table(rows, ["NAME", "VERSION", "ALIASES", "STATE", "SIZE", "FILES", "CREATED", "BY", "ID"]))
    if total > len(artifacts) + args.offset:
        print(f"({len(artifacts)} of {total}; see more with --offset {args.offset + len(artifacts)})")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    store = open_store(args)
    if args.files:
        page = store.files_page(args.ref, args.kind, args.limit, args.offset)
        if args.json:
            output.print_json(page)
        else:
            print(files_text(page))
        return 0
    artifact = store.get(args.ref, args.kind)
    if args.json:
        print_with_manifest(store, artifact)
    else:
        print(describe(artifact))
    return 0


def print_with_manifest(store, artifact: Artifact) -> None:
    """`show --json`: the artifact and its manifest, the manifest written a chunk at a time as the
    catalog gives it (an artifact of a million files is never held whole)."""
    head = json.dumps(artifact.to_dict(manifest=False), indent=2, sort_keys=True, default=str)
    write = sys.stdout.write
    write(head[:-2] + ',\n  "manifest": {')
    separator = "\n    "
    for path, entry in store.entries(artifact):
        write(separator + json.dumps(path) + ": " + json.dumps(entry, sort_keys=True))
        separator = ",\n    "
    write("\n  }\n}\n" if separator != "\n    " else "}\n}\n")


def files_text(page: dict) -> str:
    """A page of files, a line each (size and path, or a link and its target), and where more are."""
    files, offset, total = page["files"], page["offset"], page["total"]
    if not files:
        return f"{page['reference']} has {output.count(total, 'file')}; none from --offset {offset}."
    lines = [f"{page['reference']}: files {offset + 1:,}-{offset + len(files):,} of {total:,}"]
    for f in files:
        lines.append(f"  {'link':>9}  {f['path']} -> {f['link']}" if "link" in f
                     else f"  {output.size(f['size']):>9}  {f['path']}")
    if page["next_offset"] is not None:
        lines.append(f"(see more with --offset {page['next_offset']})")
    return "\n".join(lines)


def cmd_download(args: argparse.Namespace) -> int:
    bar = output.ProgressBar(f"Downloading {args.ref}", enabled=not args.json)
    try:
        result = open_store(args).download(args.ref, args.dest, args.kind, refs=args.refs, method=args.method,
                                           progress=bar)
    finally:
        bar.close()
    if args.json:
        output.print_json(result)
    else:
        methods = ", ".join(f"{n} by {how}" for how, n in sorted(result["methods"].items())) or "no files"
        print(f"Downloaded {result['reference']} to {result['path']} ({methods})")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    store = open_store(args)
    artifact = store.resolve(args.ref, args.kind)
    if not args.yes:
        if not sys.stdin.isatty():
            raise InvalidInput(f"Deleting {artifact.reference} cannot be undone; add --yes to confirm.")
        answer = input(f"Delete {artifact.kind} {artifact.reference} ({output.size(artifact.size)}, "
                       f"{artifact.file_count} files)? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing deleted.")
            return 1
    result = store.delete(artifact.id, args.kind)
    if args.json:
        output.print_json(result)
    else:
        print(f"Deleted {result['kind']} {result['reference']} (freed {output.size(result['freed_bytes'])})")
    return 0


def cmd_alias(args: argparse.Namespace) -> int:
    store = open_store(args)
    if args.remove:
        artifact = store.remove_alias(args.ref, args.alias, args.kind)
        print(f"Removed alias {args.alias!r} from {artifact.reference}")
    else:
        artifact = store.set_alias(args.ref, args.alias, args.kind)
        print(f"{artifact.name}:{args.alias} now points at {artifact.reference}")
    return 0


def cmd_link(args: argparse.Namespace) -> int:
    store = open_store(args)
    artifact = store.link(args.ref, args.target, args.kind)
    target = store.resolve(args.target)
    print(f"{artifact.reference} now refers to {target.kind} {target.reference}")
    return 0


def _print_tree(nodes: list[dict], indent: str) -> None:
    for node in nodes:
        label = node.get("reference") or node["id"]
        kind = node.get("kind", "")
        print(f"{indent}{node.get('relation', '')}: {kind} {label}" + (" (deleted)" if node.get("state") == "deleted" else ""))
        _print_tree(node.get("children", []), indent + "  ")


def cmd_lineage(args: argparse.Namespace) -> int:
    from ..jobs.lineage import lineage as with_jobs

    lineage = with_jobs(open_store(args), args.ref, args.kind)
    if args.json:
        output.print_json(lineage)
        return 0
    print(f"{lineage['kind'].capitalize()} {lineage['reference']}")
    if lineage.get("produced_by"):
        print(f"  produced by: {json.dumps(lineage['produced_by'], sort_keys=True)}")
    print("  uses:" if lineage["upstream"] else "  uses: nothing recorded")
    _print_tree(lineage["upstream"], "    ")
    print("  used by:" if lineage["downstream"] else "  used by: nothing recorded")
    _print_tree(lineage["downstream"], "    ")
    for job in lineage["used_by"]:
        outputs = ", ".join(f"worker {w['index']}: {(w['output'] or {}).get('reference') or w['output_url'] or '-'}"
                            for w in job["workers"])
        print(f"    job {job['name']} ({job['id'][:8]}, {job['state']}, as {'/'.join(job['roles'])}): {outputs}")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    diff = open_store(args).diff(args.ref_a, args.ref_b, args.kind)
    if args.json:
        output.print_json(diff)
        return 0
    if diff["same_content"]:
        print(f"{diff['a']} and {diff['b']} have the same content.")
        return 0
    for mark, key in (("+", "added"), ("-", "removed"), ("~", "changed")):
        for path in diff[key]:
            print(f"{mark} {path}")
    print(f"{len(diff['added'])} added, {len(diff['removed'])} removed, {len(diff['changed'])} changed, "
          f"{diff['unchanged']} unchanged")
    return 0


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser,
             only: str | None = None) -> None:
    """The commands of every kind, or of the one kind `only` names."""
    for kind in (only,) if only in KINDS else KINDS:
        kind_parser = commands.add_parser(kind, help=f"create, list and manage {kind}s", parents=[common])
        verbs = kind_parser.add_subparsers(dest="verb", metavar="VERB")
        verbs.required = True
        kind_parser.set_defaults(kind=kind)

        def verb(name: str, func, help_text: str, json_flag: bool = True, kind=kind) -> argparse.ArgumentParser:
            return add_command(verbs, common, name, func, help_text, json_flag, kind=kind)

        p = verb("create", cmd_create, f"create a new {kind} version from a folder, a file or a remote source")
        p.add_argument("name", metavar="NAME")
        p.add_argument("path", metavar="PATH", nargs="?" if kind == "dataset" else None,
                       help="a local folder or file, or a remote source (see docs/sources.md)")
        p.add_argument("--alias", action="append", default=[], metavar="ALIAS", help="add an alias (repeatable)")
        p.add_argument("--ref", action="append", default=[], metavar="REF", help="refer to another artifact (repeatable)")
        p.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE", help="free metadata (repeatable)")
        p.add_argument("--source-type", metavar="TYPE",
                       help="local, aws, wasabi, gcp, azure, hf, git, kaggle or web (inferred when unambiguous)")
        p.add_argument("--endpoint", metavar="URL", help="S3 endpoint for wasabi (and other S3-compatible stores)")
        p.add_argument("--branch", metavar="BRANCH", help="branch for hf and git sources")
        p.add_argument("--kaggle-type", metavar="TYPE", help="competition, dataset or kernel")
        if kind == "dataset":
            p.add_argument("--manifest", metavar="FILE", help='JSON lines of {"url": ..., "path": ...} to fetch')

        p = verb("list", cmd_list, f"list {kind}s, newest first")
        p.add_argument("--name", help="only versions of this name")
        p.add_argument("--filter", metavar="TEXT", help="names containing TEXT, or an alias or id")
        p.add_argument("--limit", type=int, default=100)
        p.add_argument("--offset", type=int, default=0)

        p = verb("show", cmd_show, f"show one {kind} (--json includes its manifest; --files pages its files)")
        p.add_argument("ref", metavar="REF", help="NAME, NAME:vN, NAME:ALIAS or an id")
        p.add_argument("--files", action="store_true", help="list its files in path order, a page at a time")
        p.add_argument("--limit", type=int, default=100, help="files a page (with --files; at most 10000)")
        p.add_argument("--offset", type=int, default=0, help="the first file of the page (with --files)")

        p = verb("download", cmd_download, f"copy a {kind}'s files into a new folder you may change freely")
        p.add_argument("ref", metavar="REF")
        p.add_argument("dest", metavar="DEST")
        p.add_argument("--refs", action="store_true", help="also download every artifact it refers to")
        p.add_argument("--method", choices=["auto", "copy", "reflink", "hardlink"], default="auto",
                       help="auto clones where the file system can and copies otherwise; "
                            "hardlink shares the store's read-only files (never edit them)")

        p = verb("delete", cmd_delete, f"delete a {kind} version (refused while a job or kernel uses it)")
        p.add_argument("ref", metavar="REF")
        p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

        p = verb("alias", cmd_alias, "point ALIAS of this name at REF (moves it if it pointed elsewhere)",
                 json_flag=False)
        p.add_argument("ref", metavar="REF")
        p.add_argument("alias", metavar="ALIAS")
        p.add_argument("--remove", action="store_true", help="remove the alias instead")

        p = verb("link", cmd_link, "record that REF refers to TARGET_REF (e.g. a model to its data)", json_flag=False)
        p.add_argument("ref", metavar="REF")
        p.add_argument("target", metavar="TARGET_REF")

        p = verb("lineage", cmd_lineage, "what went into an artifact and what used it")
        p.add_argument("ref", metavar="REF")

        p = verb("diff", cmd_diff, "files added, removed and changed between two versions")
        p.add_argument("ref_a", metavar="REF_A")
        p.add_argument("ref_b", metavar="REF_B")
