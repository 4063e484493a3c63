"""Artifacts: list, create from a source, show, delete, aliases, links, lineage, files, diff, find."""

from __future__ import annotations

import mimetypes
import os
import posixpath
import re
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ...errors import Conflict, InvalidInput, NotFound, quote
from ...store import KINDS
from ...store.digest import is_digest
from ...store.names import check_alias, check_kind, check_name
from ...store.records import STATES
from ...store.validation import check_metadata
from .. import archive
from ..paths import resolve_local_source
from .base import ArtifactsHandler, artifact_json

PAGE = 50
MAX_PAGE = 1000
CHUNK = 1 << 20
SOURCE_OPTIONS = ("source_type", "endpoint", "branch", "kaggle_type")


def check_common_fields(store: Any, body: dict, field: Any) -> dict[str, Any]:
    """aliases, refs and metadata, validated (refs must name existing artifacts)."""
    aliases = field(body, "aliases", list, default=[])
    for alias in aliases:
        check_alias(alias)
    refs = field(body, "refs", list, default=[])
    for ref in refs:
        store.resolve(ref)
    metadata = field(body, "metadata", dict, default=None)
    if metadata is not None:
        check_metadata(metadata)
    return {"aliases": aliases, "refs": refs, "metadata": metadata}


class ArtifactsCollectionHandler(ArtifactsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        kind = self.query_str("kind", KINDS)
        name = self.query_str("name")
        query = self.query_str("q")
        state = self.query_str("state", STATES)
        origin = self.query_str("origin", ("job", "user"))
        job = self.query_str("job")
        limit = self.query_int("limit", PAGE, 1, MAX_PAGE)
        offset = self.query_int("offset", 0, 0, 10**9)
        artifacts, total = await self.blocking(self.store.list, kind, name, query, state, limit, offset, origin, job)
        next_offset = offset + len(artifacts) if offset + len(artifacts) < total else None
        self.reply({"artifacts": [artifact_json(a) for a in artifacts], "total": total,
                    "limit": limit, "offset": offset, "next_offset": next_offset})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        from ...sources import create_from_source
        from ...sources.create import preflight
        from ...sources.spec import infer_type, parse_source

        body = self.body()
        kind = check_kind(self.field(body, "kind", required=True))
        name = check_name(self.field(body, "name", required=True))
        source = self.field(body, "source") or self.field(body, "path")
        manifest = self.field(body, "manifest")
        if bool(source) == bool(manifest):
            raise InvalidInput("Give 'source' (a local path inside the Jupyter root folder, or a URL) "
                               "or, for a dataset, 'manifest' (a JSON-lines file of {\"url\", \"path\"}), not both.")
        options = {key: self.field(body, key) for key in SOURCE_OPTIONS}
        root_dir, allowed = self.root_dir, list(self.artifacts_app.allowed_local_roots)
        local_roots = [root_dir, *allowed]
        store = self.store

        def prepare() -> tuple[str | None, str | None, dict[str, Any]]:
            common = check_common_fields(store, body, self.field)
            if manifest:
                real = resolve_local_source(manifest, root_dir, allowed)
                if not os.path.isfile(real):
                    raise NotFound(f"No manifest file {quote(manifest)}; give a JSON-lines file inside the Jupyter root folder.")
                from ...sources.manifests import read_manifest

                read_manifest(real, cwd=root_dir, local_roots=local_roots)  # every line, before 202
                return None, real, common
            source_type = options["source_type"] or infer_type(
                source, endpoint=options["endpoint"], kaggle_type=options["kaggle_type"], branch=options["branch"],
                cwd=root_dir)
            path = source
            if source_type == "local":
                real = resolve_local_source(source, root_dir, allowed)
                if not os.path.lexists(real):
                    raise NotFound(f"No such file or folder: {source}")
                store.precheck(kind, real)
                path = real + "/" if source.endswith("/") and not real.endswith("/") else real
            preflight(parse_source(path, cwd=root_dir, local_roots=local_roots, **options))
            return path, None, common

        path, manifest_path, common = await self.blocking(prepare)
        user = self.username

        def run(progress: Any) -> dict:
            artifact = create_from_source(store, kind, name, path, manifest=manifest_path, created_by=user,
                                          progress=progress, cwd=root_dir, local_roots=local_roots,
                                          **common, **options)
            return artifact_json(artifact)

        what = source or f"manifest {manifest}"
        op = self.operations.submit("create", run, description=f"Create {kind} {name} from {what}", created_by=user)
        self.accepted(op)


KERNEL_HOLDER = re.compile(r"^kernel (\d+) \((.*)\)$")
JOB_HOLDER = re.compile(r"^job (.*) \(([0-9a-f]{4,})\) worker (\d+)$")


class ArtifactHandler(ArtifactsHandler):
    async def _kernel_paths(self) -> dict[int, str]:
        """The notebook (or console) path of each local kernel's session, by the kernel's process id."""
        kernels, sessions = self.settings.get("kernel_manager"), self.settings.get("session_manager")
        if kernels is None or sessions is None:
            return {}
        try:
            listed = await sessions.list_sessions()
        except Exception:  # noqa: BLE001 - naming a holder's notebook is best effort
            return {}
        paths = {}
        for session in listed:
            kernel_id = (session.get("kernel") or {}).get("id")
            kernel = kernels.get_kernel(kernel_id) if kernel_id in kernels else None
            pid = getattr(getattr(kernel, "provisioner", None), "pid", None)
            if isinstance(pid, int):
                paths[pid] = session.get("path") or ""
        return paths

    async def holder_details(self, holders: list[str]) -> list[dict]:
        """Each holder with what the panel can show or open: a kernel's notebook, a job's id and worker."""
        kernel_paths = await self._kernel_paths() if any(KERNEL_HOLDER.match(h) for h in holders) else {}
        details = []
        for holder in holders:
            detail: dict[str, Any] = {"holder": holder, "kind": "other"}
            if match := KERNEL_HOLDER.match(holder):
                pid = int(match.group(1))
                detail.update(kind="kernel", pid=pid, cwd=match.group(2), notebook=kernel_paths.get(pid))
            elif match := JOB_HOLDER.match(holder):
                detail.update(kind="job", job_name=match.group(1), job_id=match.group(2), worker=int(match.group(3)))
            details.append(detail)
        return details

    @web.authenticated
    @authorized
    async def get(self, ref: str) -> None:
        kind = self.query_str("kind", KINDS)

        def show() -> dict:
            artifact = self.store.get(ref, kind)
            return {**artifact_json(artifact), "holders": self.store.holders(artifact.id)}

        shown = await self.blocking(show)
        shown["holder_details"] = await self.holder_details(shown["holders"])
        self.reply(shown)

    @web.authenticated
    @authorized
    async def delete(self, ref: str) -> None:
        kind = self.query_str("kind", KINDS)
        self.reply(await self.blocking(self.store.delete, ref, kind))


class AliasesHandler(ArtifactsHandler):
    @web.authenticated
    @authorized
    async def post(self, ref: str) -> None:
        kind = self.query_str("kind", KINDS)
        alias = check_alias(self.field(self.body(), "alias", required=True))
        artifact = await self.blocking(self.store.set_alias, ref, alias, kind)
        self.reply(artifact_json(artifact))


class AliasHandler(ArtifactsHandler):
    @web.authenticated
    @authorized
    async def delete(self, ref: str, alias: str) -> None:
        kind = self.query_str("kind", KINDS)
        artifact = await self.blocking(self.store.remove_alias, ref, alias, kind)
        self.reply(artifact_json(artifact))


class LinksHandler(ArtifactsHandler):
    @web.authenticated
    @authorized
    async def post(self, ref: str) -> None:
        kind = self.query_str("kind", KINDS)
        target = self.field(self.body(), "target", required=True)
        artifact = await self.blocking(self.store.link, ref, target, kind)
        self.reply(artifact_json(artifact))


class LineageHandler(ArtifactsHandler):
    @web.authenticated
    @authorized
    async def get(self, ref: str) -> None:
        kind = self.query_str("kind", KINDS)
        depth = self.query_int("depth", 20, 1, 100)
        from ...jobs.lineage import lineage

        self.reply(await self.blocking(lineage, self.store, ref, kind, depth))


class FilesHandler(ArtifactsHandler):
    @web.authenticated
    @authorized
    async def get(self, ref: str) -> None:
        kind = self.query_str("kind", KINDS)
        limit = self.query_int("limit", MAX_PAGE, 1, 10000)
        offset = self.query_int("offset", 0, 0, 10**9)

        self.reply(await self.blocking(self.store.files_page, ref, kind, limit, offset))


class DownloadHandler(ArtifactsHandler):
    """Streams files out of the store a chunk at a time."""

    def ready(self, ref: str, kind: str | None) -> Any:
        artifact = self.store.resolve(ref, kind)
        if artifact.state != "ready":
            raise Conflict(f"{artifact.reference} is {artifact.state}, not ready; wait for it to finish.")
        return artifact

    def open_blob(self, path: str, digest: str) -> Any:
        try:
            return self.store.root.open_blob(digest)
        except FileNotFoundError:
            raise NotFound(f"The content of {quote(path)} is missing from the store; run "
                           "`jupyter artifacts verify` to find damaged artifacts.") from None

    async def send(self, handle: Any) -> None:
        """Copy an open blob to the response, flushing each chunk so memory stays at one."""
        try:
            while chunk := await self.blocking(handle.read, CHUNK):
                self.write(chunk)
                await self.flush()
        finally:
            await self.blocking(handle.close)

    def attachment(self, filename: str, mime: str) -> None:
        self.set_header("Content-Type", mime)
        self.set_header("Content-Disposition", f'attachment; filename="{filename.replace(chr(34), "")}"')


class FileHandler(DownloadHandler):
    @web.authenticated
    @authorized
    async def get(self, ref: str, path: str) -> None:
        kind = self.query_str("kind", KINDS)

        def open_file() -> tuple[str, dict, Any]:
            artifact = self.ready(ref, kind)
            real_path, entry = self.store.file(artifact, path)
            return real_path, entry, self.open_blob(real_path, entry["digest"])

        real_path, entry, handle = await self.blocking(open_file)
        mime = mimetypes.guess_type(real_path)[0] or "application/octet-stream"
        self.attachment(posixpath.basename(real_path), mime)
        self.set_header("Content-Length", str(entry["size"]))
        self.set_header("ETag", f'"{entry["digest"]}"')
        self.set_header("X-Content-Digest", entry["digest"])
        await self.send(handle)
        self.finish(set_content_type=mime)


class ArchiveHandler(DownloadHandler):
    """The whole artifact as one tar file, streamed (the panel's Download of several files)."""

    @web.authenticated
    @authorized
    async def get(self, ref: str) -> None:
        kind = self.query_str("kind", KINDS)
        artifact = await self.blocking(self.ready, ref, kind)
        entries = archive.members(self.store.catalog, artifact)
        self.attachment(archive.archive_name(artifact), "application/x-tar")
        self.set_header("X-Artifact-Digest", artifact.digest or "")
        written = 0
        while item := await self.blocking(next, entries, None):
            path, head, entry = item
            self.write(head)
            written += len(head)
            if entry.get("link") is None:
                await self.send(await self.blocking(self.open_blob, path, entry["digest"]))
                self.write(archive.padding(entry["size"]))
                written += entry["size"] + len(archive.padding(entry["size"]))
        self.write(archive.trailer(written))
        self.finish()


DIFF_FILES = 5000


class DiffHandler(ArtifactsHandler):
    @web.authenticated
    @authorized
    async def get(self, a: str, b: str) -> None:
        kind = self.query_str("kind", KINDS)
        # with `files`: each path that differs with its size in a and in b (for the views)
        self.reply(await self.blocking(self.store.diff, a, b, kind, DIFF_FILES))


class FindHandler(ArtifactsHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.body()
        digest = self.field(body, "digest")
        path = self.field(body, "path")
        if bool(digest) == bool(path):
            raise InvalidInput("Give either 'digest' (blake3:<64 hex digits>) or 'path' (a file inside the Jupyter root folder).")
        if digest and not is_digest(digest):
            raise InvalidInput(f"Invalid digest {quote(digest)}: use blake3:<64 lowercase hex digits>.")
        app = self.artifacts_app

        def find() -> dict:
            target = digest
            if path:
                target = resolve_local_source(path, self.root_dir, app.allowed_local_roots)
                if not os.path.isfile(target):
                    raise NotFound(f"No such file: {path}; give a file's path or a blake3:<hex> digest.")
            return self.store.find(target)

        self.reply(await self.blocking(find))
