"""Move artifacts between stores as one `.tar` file, keeping ids, versions, aliases and lineage.

Layout of the file: `export.json` (format, artifacts, aliases, links), `records/<id>.json`, and
`objects/<hex>` for every blob, each stored once.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
import time
from typing import IO

from ..errors import Conflict, InvalidInput, NotFound, quote
from .digest import split
from .names import is_artifact_id
from .manifests import Tree, record_pieces
from .records import Artifact
from .validation import InvalidRecord, check_alias_doc, read_record

EXPORT_FORMAT = 1
INDEX = "export.json"
MAX_JSON = 1 << 30  # a record holds its manifest: a million files fit


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def export_tar(store, artifacts: list[Artifact], tar_path: str) -> dict:
    tar_path = os.path.abspath(os.path.expanduser(tar_path))
    if os.path.isdir(tar_path):
        raise InvalidInput(f"{tar_path} is a folder; give the path of the .tar file to write.")
    ids = {a.id for a in artifacts}
    index = {"format": EXPORT_FORMAT, "artifacts": [], "aliases": [], "links": []}
    tmp = f"{tar_path}.partial"
    blobs: dict[str, int] = {}
    try:
        with tarfile.open(tmp, "w") as tar:
            for artifact in artifacts:
                with tempfile.TemporaryFile(dir=store.scratch) as record:  # its size goes first, in the header
                    for piece in record_pieces(artifact.record_header(), store.catalog.body(artifact.id)):
                        record.write(piece)
                    info = tarfile.TarInfo(f"records/{artifact.id}.json")
                    info.size, info.mtime = record.tell(), int(time.time())
                    record.seek(0)
                    tar.addfile(info, record)
                index["artifacts"].append(artifact.id)
                index["aliases"] += [{"artifact_id": artifact.id, "alias": a} for a in artifact.aliases]
                index["links"] += [{"src": artifact.id, "dst": d} for d in artifact.refs if d in ids]
                for batch in store.catalog.batches(artifact.id):
                    for entry in batch.values():
                        if "digest" in entry and entry["digest"] not in blobs:
                            blobs[entry["digest"]] = entry["size"]
                            info = tarfile.TarInfo(f"objects/{split(entry['digest'])[1]}")
                            info.size = entry["size"]
                            with store.root.open_blob(entry["digest"]) as handle:
                                tar.addfile(info, handle)
            _add_bytes(tar, INDEX, json.dumps(index, indent=1).encode())
        os.replace(tmp, tar_path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return {"path": tar_path, "artifacts": len(artifacts), "blobs": len(blobs), "bytes": sum(blobs.values())}


def import_tar(store, tar_path: str) -> dict:
    """Check everything first (the index, every record as untrusted input, every blob's presence
    and size); then store the blobs, verifying each digest; then publish the records."""
    tar_path = os.path.abspath(os.path.expanduser(tar_path))
    if not os.path.isfile(tar_path):
        raise NotFound(f"No such file: {tar_path}")
    plan = None
    try:
        try:
            with tarfile.open(tar_path, "r") as tar:
                plan = _check(store, tar, tar_path)
                stored = _store_blobs(store, tar, tar_path, plan)
        except (tarfile.TarError, EOFError) as exc:
            raise InvalidInput(f"{tar_path} is damaged or was not made by `jupyter artifacts export` ({exc}).") from None
        _publish(store, plan)
    finally:
        if plan is not None:
            plan.close()
    return {"imported": [a.reference for a in plan.new], "skipped": len(plan.records) - len(plan.new),
            "blob_bytes_written": stored, "aliases": len(plan.aliases)}


class _Plan:
    """What an import will write, every part of it checked before the first write."""

    def __init__(self, records: list[Artifact], new: list[Artifact], trees: dict[str, Tree],
                 blobs: dict[str, tarfile.TarInfo], links: list[tuple[str, str]], aliases: list[tuple[str, str]]) -> None:
        self.records, self.new, self.trees, self.blobs = records, new, trees, blobs
        self.links, self.aliases = links, aliases

    def close(self) -> None:
        for tree in self.trees.values():
            tree.close()


def _json_member(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], name: str, where: str) -> object:
    member = members.get(name)
    if member is None or not member.isfile():
        raise InvalidInput(f"{where} lacks {name} (or it is not a plain file); the file is damaged.")
    if member.size > MAX_JSON:
        raise InvalidInput(f"{where}: {name} is {member.size:,} bytes, over the {MAX_JSON:,}-byte limit for a record.")
    try:
        return json.load(tar.extractfile(member))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput(f"{where}: {name} is not valid JSON; the file is damaged.") from None


def _member(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], name: str, where: str) -> IO[bytes]:
    member = members.get(name)
    if member is None or not member.isfile():
        raise InvalidInput(f"{where} lacks {name} (or it is not a plain file); the file is damaged.")
    if member.size > MAX_JSON:
        raise InvalidInput(f"{where}: {name} is {member.size:,} bytes, over the {MAX_JSON:,}-byte limit for a record.")
    return tar.extractfile(member)


def _check(store, tar: tarfile.TarFile, tar_path: str) -> _Plan:
    members = {m.name: m for m in tar.getmembers()}
    index = _json_member(tar, members, INDEX, tar_path)
    where = f"{tar_path}:{INDEX}"
    if not isinstance(index, dict):
        raise InvalidRecord(where, "index", "is not a JSON object")
    if index.get("format") != EXPORT_FORMAT:
        raise InvalidInput(f"{tar_path} uses export format {quote(index.get('format'))}; this version reads {EXPORT_FORMAT}.")
    ids, pointers, link_docs = index.get("artifacts"), index.get("aliases", []), index.get("links", [])
    if not isinstance(ids, list) or not all(is_artifact_id(i) for i in ids) or len(set(ids)) != len(ids):
        raise InvalidRecord(where, "artifacts", "is not a list of distinct artifact ids")
    if not isinstance(pointers, list) or not isinstance(link_docs, list) \
            or not all(isinstance(p, dict) for p in pointers + link_docs):
        raise InvalidRecord(where, "aliases", "or 'links' is not a list of objects")
    plan = _Plan([], [], {}, {}, [], [])
    try:
        _check_records(store, tar, tar_path, members, plan, pointers, link_docs, ids)
    except BaseException:
        plan.close()
        raise
    return plan


def _check_records(store, tar: tarfile.TarFile, tar_path: str, members: dict[str, tarfile.TarInfo], plan: _Plan,
                   pointers: list[dict], link_docs: list[dict], ids: list[str]) -> None:
    """Every record (as untrusted input), alias, link and blob an import would write, into `plan`."""
    where = f"{tar_path}:{INDEX}"
    records, trees = plan.records, plan.trees
    for artifact_id in ids:
        name = f"records/{artifact_id}.json"
        artifact, tree = read_record(_member(tar, members, name, tar_path), f"{tar_path}:{name}", store.scratch)
        trees[artifact.id] = tree
        if artifact.id != artifact_id:
            raise InvalidRecord(f"{tar_path}:{name}", "id", "does not match the file's name")
        records.append(artifact)
    by_id = {a.id: a for a in records}
    new = [a for a in records if store.catalog.get(a.id) is None]
    for artifact in new:
        if store.catalog.find_version(artifact.kind, artifact.name, artifact.version):
            raise Conflict(f"This store already has a different {artifact.kind} {artifact.reference}; "
                           "import into another store or delete that version first.")
        holder = store.version_holder(artifact.kind, artifact.name, artifact.version)
        if holder not in (None, artifact.id):
            raise Conflict(f"This store gave {artifact.kind} {artifact.reference} to another artifact before "
                           "(deleted since); a version is never given twice: import into another store.")
    new_ids = {a.id for a in new}
    aliases = []
    for pointer in pointers:
        target = by_id.get(pointer.get("artifact_id"))
        if target is None:
            raise InvalidRecord(where, "aliases", f"points at {quote(pointer.get('artifact_id'))}, which it does not hold")
        check_alias_doc(target.kind, target.name, pointer.get("alias"), target.id, where)
        if target.id in new_ids:
            aliases.append((target.id, pointer["alias"]))
    links = []
    for link in link_docs:
        src, dst = link.get("src"), link.get("dst")
        if src not in by_id or not is_artifact_id(dst) or (dst not in by_id and store.catalog.get(dst) is None):
            raise InvalidRecord(where, "links", f"joins {quote(src)} to {quote(dst)}, which are not both known")
        if src in new_ids:
            links.append((src, dst))
    blobs: dict[str, tarfile.TarInfo] = {}
    for artifact in new:
        for batch in trees[artifact.id].batches():
            for path, entry in batch.items():
                digest = entry.get("digest")
                if digest is None or digest in blobs or store.root.has_blob(digest):
                    continue
                member = members.get(f"objects/{split(digest)[1]}")
                if member is None or not member.isfile() or member.size != entry["size"]:
                    raise InvalidInput(f"{tar_path} lacks the content of {artifact.reference}/{path} "
                                       "(or it has another size); the file is damaged.")
                blobs[digest] = member
    plan.new, plan.blobs, plan.links, plan.aliases = new, blobs, links, aliases


def _store_blobs(store, tar: tarfile.TarFile, tar_path: str, plan: _Plan) -> int:
    stored = 0
    with tempfile.TemporaryDirectory(dir=store.state_dir) as scratch:
        staged = os.path.join(scratch, "blob")
        for digest, member in plan.blobs.items():
            with tar.extractfile(member) as src, open(staged, "wb") as dst:
                while chunk := src.read(8 << 20):
                    dst.write(chunk)
            actual, written, _ = store.root.store_file(staged)
            os.unlink(staged)
            if actual != digest:
                if written:
                    store.root.remove_blob(actual)
                raise InvalidInput(f"{member.name} in {tar_path} does not match its digest; the file is damaged.")
            stored += written
    return stored


def _publish(store, plan: _Plan) -> None:
    for artifact in plan.new:
        tree = plan.trees[artifact.id]
        store.claim_version(artifact)
        store.root.write_doc_stream(f"artifacts/{artifact.id}.json", record_pieces(artifact.record_header(), tree.body()))
        store.index_record(artifact, tree)
    for src, dst in plan.links:
        store.link(src, dst)
    for artifact_id, alias in plan.aliases:
        store.set_alias(artifact_id, alias)
