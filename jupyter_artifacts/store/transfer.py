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

from ..errors import Conflict, InvalidInput, NotFound
from .digest import split
from .records import Artifact, dumps

EXPORT_FORMAT = 1
INDEX = "export.json"


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
                artifact.manifest = store.catalog.manifest(artifact.id)
                _add_bytes(tar, f"records/{artifact.id}.json", dumps(artifact.to_record()))
                index["artifacts"].append(artifact.id)
                index["aliases"] += [{"artifact_id": artifact.id, "alias": a} for a in artifact.aliases]
                index["links"] += [{"src": artifact.id, "dst": d} for d in artifact.refs if d in ids]
                for entry in artifact.manifest.values():
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
    """Check everything, store the blobs (verifying each digest), then publish the records."""
    tar_path = os.path.abspath(os.path.expanduser(tar_path))
    if not os.path.isfile(tar_path):
        raise NotFound(f"No such file: {tar_path}")
    try:
        return _import(store, tar_path)
    except (tarfile.TarError, EOFError, json.JSONDecodeError, KeyError) as exc:
        raise InvalidInput(f"{tar_path} is damaged or was not made by `jupyter artifacts export` ({exc}).") from None


def _import(store, tar_path: str) -> dict:
    with tarfile.open(tar_path, "r") as tar:
        members = {m.name: m for m in tar.getmembers()}
        if INDEX not in members:
            raise InvalidInput(f"{tar_path} has no {INDEX}; it was not made by `jupyter artifacts export`.")
        index = json.load(tar.extractfile(members[INDEX]))
        if index.get("format") != EXPORT_FORMAT:
            raise InvalidInput(f"{tar_path} uses export format {index.get('format')}; this version reads {EXPORT_FORMAT}.")
        records = []
        for artifact_id in index["artifacts"]:
            member = members.get(f"records/{artifact_id}.json")
            if member is None:
                raise InvalidInput(f"{tar_path} lacks the record of {artifact_id}; the file is damaged.")
            records.append(Artifact.from_record(json.load(tar.extractfile(member))))
        new = [a for a in records if store.catalog.get(a.id) is None]
        for artifact in new:
            clash = store.catalog.find_version(artifact.kind, artifact.name, artifact.version)
            if clash:
                raise Conflict(f"This store already has a different {artifact.kind} {artifact.reference}; "
                               "import into another store or delete that version first.")
        stored = 0
        with tempfile.TemporaryDirectory(dir=os.path.dirname(store.catalog.path)) as scratch:
            for artifact in new:
                for path, entry in artifact.manifest.items():
                    if "digest" not in entry or store.root.has_blob(entry["digest"]):
                        continue
                    member = members.get(f"objects/{split(entry['digest'])[1]}")
                    if member is None:
                        raise InvalidInput(f"{tar_path} lacks the content of {artifact.reference}/{path}; the file is damaged.")
                    staged = os.path.join(scratch, "blob")
                    with tar.extractfile(member) as src, open(staged, "wb") as dst:
                        while chunk := src.read(8 << 20):
                            dst.write(chunk)
                    digest, written, _ = store.root.store_file(staged)
                    os.unlink(staged)
                    if digest != entry["digest"]:
                        store.root.remove_blob(digest) if written else None
                        raise InvalidInput(f"{artifact.reference}/{path} in {tar_path} does not match its digest; the file is damaged.")
                    stored += written
        for artifact in new:
            store.root.write_doc(f"artifacts/{artifact.id}.json", dumps(artifact.to_record()))
            store.index_record(artifact)
        for link in index.get("links", []):
            if link["src"] in {a.id for a in new}:
                store.link(link["src"], link["dst"])
        aliases = 0
        for pointer in index.get("aliases", []):
            if pointer["artifact_id"] in {a.id for a in new}:
                store.set_alias(pointer["artifact_id"], pointer["alias"])
                aliases += 1
    return {"imported": [a.reference for a in new], "skipped": len(records) - len(new),
            "blob_bytes_written": stored, "aliases": aliases}
