""""Save to": a notebook's `models/` or `output/` folder, or any folder itself, becomes a model or a checkpoint."""

from __future__ import annotations

import os
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ...errors import InvalidInput, NotFound, quote
from ...store.names import check_name
from ..paths import api_path_of, resolve_in_root
from .artifacts import check_common_fields
from .base import ArtifactsHandler, artifact_json

FOLDERS = ("models", "output")
SNAPSHOT_KINDS = ("model", "checkpoint")


class SnapshotsHandler(ArtifactsHandler):
    async def _kernel_for(self, notebook: str) -> dict[str, Any]:
        """The kernel of an open session on this notebook, if there is one."""
        manager = self.settings.get("session_manager")
        if manager is None:
            return {}
        try:
            sessions = await manager.list_sessions()
        except Exception:  # noqa: BLE001 - provenance is best effort; a broken session must not stop a save
            self.log.warning("Could not list sessions to find the kernel of %s", notebook, exc_info=True)
            return {}
        for session in sessions:
            if (session.get("path") or "").strip("/") == notebook:
                kernel = session.get("kernel") or {}
                return {"kernel_id": kernel.get("id"), "kernel_name": kernel.get("name"),
                        "session_id": session.get("id")}
        return {}

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.body()
        notebook = self.field(body, "notebook")
        directory = self.field(body, "dir")
        if bool(notebook) == bool(directory):
            raise InvalidInput("Give either 'notebook' (a notebook's path) or 'dir' (a folder's path), "
                               "relative to the Jupyter root folder.")
        # With `dir` alone the folder itself is saved; `folder` names models/ or output/ inside it.
        folder = self.field(body, "folder", required=bool(notebook), choices=FOLDERS)
        kind = self.field(body, "kind", required=True, choices=SNAPSHOT_KINDS)
        name = check_name(self.field(body, "name", required=True))
        root_dir = self.root_dir
        store = self.store

        def locate() -> tuple[str, str, str | None, dict]:
            if notebook:
                real_nb = resolve_in_root(root_dir, notebook, "notebook")
                if not os.path.isfile(real_nb):
                    raise NotFound(f"No notebook {quote(notebook)} in the Jupyter root folder.")
                base, nb_api = os.path.dirname(real_nb), api_path_of(root_dir, real_nb)
            else:
                base = resolve_in_root(root_dir, directory, "folder")
                if not os.path.isdir(base):
                    raise NotFound(f"No folder {quote(directory)} in the Jupyter root folder.")
                nb_api = None
                if folder is None:
                    return self_folder(base)
            return checked(base, folder, posixpath_join(api_path_of(root_dir, base), folder), nb_api)

        def self_folder(real: str) -> tuple[str, str, str | None, dict]:
            shown = api_path_of(root_dir, real)
            if not shown:
                raise InvalidInput("Save a folder inside the Jupyter root folder, not the root folder itself.")
            return checked(os.path.dirname(real), os.path.basename(real), shown, None)

        def checked(base: str, folder: str, shown: str, nb_api: str | None) -> tuple[str, str, str | None, dict]:
            if not os.path.lexists(os.path.join(base, folder)):
                raise NotFound(f"There is no {folder}/ folder next to {quote(notebook or directory)} ({shown}); "
                               f"save your files in {folder}/ first, or save a folder by right-clicking it.")
            path = resolve_in_root(root_dir, os.path.join(base, folder), f"{folder}/ folder")
            if not os.path.isdir(path):
                raise InvalidInput(f"{shown} is not a folder.")
            store.check_not_store(path)
            common = check_common_fields(store, body, self.field)
            store.precheck(kind, path)
            return path, shown, nb_api, common

        path, shown, nb_api, common = await self.blocking(locate)
        folder = os.path.basename(path) if folder is None else folder
        user = self.username
        source: dict[str, Any] = {"type": "notebook" if nb_api else "folder", "folder": folder,
                                  "path": path, "user": user}
        if nb_api:
            source["notebook"] = nb_api
            source.update(await self._kernel_for(nb_api))
        else:
            source["dir"] = api_path_of(root_dir, os.path.dirname(path))

        def run(progress: Any) -> dict:
            artifact = store.create(kind, name, path, source=source, created_by=user, progress=progress, **common)
            return artifact_json(artifact)

        op = self.operations.submit("snapshot", run, description=f"Save {shown} as {kind} {name}", created_by=user)
        self.accepted(op)


def posixpath_join(base: str, name: str) -> str:
    return f"{base}/{name}" if base else name
