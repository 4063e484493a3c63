"""Operations, public checkpoints, GPUs, status and the OpenAPI document."""

from __future__ import annotations

import json
import os
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from ... import __version__
from ...units import format_size
from .base import API_PREFIX, ArtifactsHandler, artifact_json

OPENAPI_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "openapi.json")


class OperationsHandler(ArtifactsHandler):
    @web.authenticated
    @authorized
    def get(self) -> None:
        limit = self.query_int("limit", 100, 1, 1000)
        self.reply({"operations": [op.to_dict() for op in self.operations.list(limit)]})


class OperationHandler(ArtifactsHandler):
    @web.authenticated
    @authorized
    def get(self, op_id: str) -> None:
        self.reply(self.operations.get(op_id).to_dict())


class PublicCheckpointsHandler(ArtifactsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        from ...sources.public import list_public

        found = await self.blocking(list_public, self.store.settings.public_catalog)
        self.reply({"checkpoints": [entry.to_dict() for entry in found]})


class PublicCheckpointHandler(ArtifactsHandler):
    @web.authenticated
    @authorized
    async def get(self, checkpoint_id: str) -> None:
        from ...sources.public import find_fetched, get_public

        def show() -> dict:
            entry = get_public(checkpoint_id, self.store.settings.public_catalog)
            fetched = find_fetched(self.store, checkpoint_id)
            return {**entry.to_dict(), "fetched": fetched.reference if fetched else None}

        self.reply(await self.blocking(show))

    @web.authenticated
    @authorized
    async def post(self, checkpoint_id: str) -> None:
        """Fetch a public checkpoint into the store (once; later calls reuse it), as an operation."""
        from ...sources.public import fetch_public, get_public

        entry = await self.blocking(get_public, checkpoint_id, self.store.settings.public_catalog)
        store, user = self.store, self.username

        def run(progress: Any) -> dict:
            return artifact_json(fetch_public(store, entry.id, progress, user=user))

        op = self.operations.submit("fetch", run, description=f"Fetch public checkpoint {entry.id}", created_by=user)
        self.accepted(op)


class GpusHandler(ArtifactsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        app = self.artifacts_app
        self.reply(await self.blocking(lambda: app.job_manager().gpus()))


class StatusHandler(ArtifactsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        store = self.store

        def status() -> dict:
            usage = store.usage()
            quota = usage.get("quota")
            return {
                "version": __version__,
                "root": usage.get("root"),
                "catalog": store.catalog.path,
                "used": usage.get("used"),
                "quota": quota,
                "used_fraction": (usage["used"] / quota) if quota else None,
                "used_human": format_size(usage.get("used")),
                "quota_human": format_size(quota),
                "limits": dict(store.settings.max_size),
                "operations_active": self.operations.active(),
            }

        self.reply(await self.blocking(status))


_openapi_cache: dict[str, Any] = {}


def load_openapi() -> dict[str, Any]:
    if "doc" not in _openapi_cache:
        with open(OPENAPI_PATH, encoding="utf-8") as handle:
            _openapi_cache["doc"] = json.load(handle)
    return json.loads(json.dumps(_openapi_cache["doc"]))


class OpenAPIHandler(ArtifactsHandler):
    @web.authenticated
    @authorized
    def get(self) -> None:
        doc = load_openapi()
        doc["servers"] = [{"url": url_path_join(self.base_url, API_PREFIX)}]
        doc.setdefault("info", {})["version"] = __version__
        self.reply(doc)
