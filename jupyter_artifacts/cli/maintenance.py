"""Store-wide commands: find, verify, export, import, reindex, gc, status."""

from __future__ import annotations

import argparse
import sys

from ..units import parse_duration
from . import output
from .context import add_command, open_store


def cmd_find(args: argparse.Namespace) -> int:
    found = open_store(args).find(args.file)
    if args.json:
        output.print_json(found)
        return 0
    if not found["artifacts"]:
        print(f"No artifact holds a file with this content ({found['digest']}).")
        return 0
    rows = [(a["kind"], a["reference"], ", ".join(a["paths"]), a["id"][:12]) for a in found["artifacts"]]
    print(output.table(rows, ["KIND", "ARTIFACT", "PATHS", "ID"]))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    report = open_store(args).verify(args.ref)
    if args.json:
        output.print_json(report)
    else:
        for d in report["damaged"]:
            print(f"DAMAGED {d['kind']} {d['reference']}: {d['path']} ({d['problem']})")
        for artifact_id in report["missing_records"]:
            print(f"MISSING record of artifact {artifact_id}; run `jupyter artifacts reindex`")
        status = "OK" if report["ok"] else "FAILED"
        print(f"{status}: checked {output.count(report['blobs'], 'file')} of "
              f"{output.count(report['artifacts'], 'artifact')}, {len(report['damaged'])} damaged")
    return 0 if report["ok"] else 1


def cmd_export(args: argparse.Namespace) -> int:
    result = open_store(args).export(args.ref, args.file, refs=args.refs)
    print(f"Exported {result['artifacts']} artifacts ({output.size(result['bytes'])}) to {result['path']}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    result = open_store(args).import_tar(args.file)
    if args.json:
        output.print_json(result)
    else:
        imported = ", ".join(result["imported"]) or "nothing new"
        print(f"Imported {imported}" + (f"; {result['skipped']} already present" if result["skipped"] else ""))
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    result = open_store(args).reindex()
    for message in result["skipped"]:
        print(f"skipped: {message}", file=sys.stderr)
    print(f"Reindexed {result['artifacts']} artifacts and {result['aliases']} aliases from the root"
          + (f"; {len(result['skipped'])} skipped (see above)." if result["skipped"] else "."))
    return 0


def cmd_gc(args: argparse.Namespace) -> int:
    store = open_store(args)
    grace = parse_duration(args.grace, "--grace") if args.grace is not None else None
    result = store.gc(grace=grace)
    if args.json:
        output.print_json(result)
        return 0
    print(f"Removed {result['removed_blobs']} unused files ({output.size(result['freed_bytes'])}) "
          f"and {result['removed_tmp']} leftovers of interrupted work.")
    if "candidates" in result:
        print(f"{result['candidates']} unused files stay until the next gc (a shared root removes a file only "
              "once it was unused at two gcs and is older than the grace period).")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    usage = open_store(args).usage()
    if args.json:
        output.print_json(usage)
    else:
        quota = output.size(usage["quota"]) if usage["quota"] is not None else "unlimited (no quota)"
        print(f"root:  {usage['root']}" + (" (shared by several hosts)" if usage.get("shared") else "")
              + f"\nused:  {output.size(usage['used'])} of {quota}")
    return 0


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser,
             only: str | None = None) -> None:
    """Every command of this family (they are few: `only` makes no difference)."""
    def command(name: str, func, help_text: str, json_flag: bool = True) -> argparse.ArgumentParser:
        return add_command(commands, common, name, func, help_text, json_flag)

    p = command("find", cmd_find, "which artifacts hold a file with the same content as FILE")
    p.add_argument("file", metavar="FILE", help="a local file, or a blake3:<hex> digest")
    p = command("verify", cmd_verify, "re-hash stored files and name every damaged artifact and path")
    p.add_argument("ref", metavar="REF", nargs="?")
    p = command("export", cmd_export, "write an artifact (and with --refs, what it refers to) to one .tar file",
                json_flag=False)
    p.add_argument("ref", metavar="REF")
    p.add_argument("file", metavar="FILE.tar")
    p.add_argument("--refs", action="store_true")
    p = command("import", cmd_import, "add the artifacts of an exported .tar file, keeping ids and versions")
    p.add_argument("file", metavar="FILE.tar")
    command("reindex", cmd_reindex, "rebuild the catalog from the store root alone", json_flag=False)
    p = command("gc", cmd_gc, "remove stored files no artifact uses")
    p.add_argument("--grace", metavar="DURATION", default=None,
                   help="on a shared root, keep files younger than this (default: the gc_grace setting, 6h)")
    command("status", cmd_status, "the store root and its usage against the quota")
