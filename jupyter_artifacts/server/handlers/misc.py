"""Operations, public checkpoints, GPUs, status and the OpenAPI document."""

from __future__ import annotations

import importlib
import inspect
import json
import os
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from ... import __version__
from ...errors import NotFound
from ...store.settings import format_size
from .base import API_PREFIX, ArtifactsHandler, jsonable

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


def _public_module() -> Any | None:
    try:
        return importlib.import_module("jupyter_artifacts.sources.public")
    except ImportError:
        return None


def _call(fn: Any, *args: Any, **optional: Any) -> Any:
    """Call with the optional keywords the function accepts (the catalog's API may grow)."""
    params = inspect.signature(fn).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    return fn(*args, **{k: v for k, v in optional.items() if v is not None and (takes_any or k in params)})


class PublicCheckpointsHandler(ArtifactsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        module = _public_module()
        if module is None or not hasattr(module, "list_public"):
            self.reply({"checkpoints": [], "available": False,
                        "message": "This installation has no public checkpoint catalog."})
            return
        mirror = self.artifacts_app.public_mirror
        found = await self.blocking(_call, module.list_public, mirror=mirror)
        self.reply({"checkpoints": jsonable(list(found)), "available": True})


class PublicCheckpointHandler(ArtifactsHandler):
    def _module(self) -> Any:
        module = _public_module()
        if module is None or not hasattr(module, "get_public"):
            raise NotFound("This installation has no public checkpoint catalog.")
        return module

    @web.authenticated
    @authorized
    async def get(self, checkpoint_id: str) -> None:
        module = self._module()
        found = await self.blocking(_call, module.get_public, checkpoint_id, mirror=self.artifacts_app.public_mirror)
        if found is None:
            raise NotFound(f"No public checkpoint {checkpoint_id!r}; list them with GET public-checkpoints.")
        self.reply(found)

    @web.authenticated
    @authorized
    async def post(self, checkpoint_id: str) -> None:
        """Fetch a public checkpoint into the store, as an operation."""
        module = self._module()
        mirror = self.artifacts_app.public_mirror
        found = await self.blocking(_call, module.get_public, checkpoint_id, mirror=mirror)
        if found is None:
            raise NotFound(f"No public checkpoint {checkpoint_id!r}; list them with GET public-checkpoints.")
        store, user = self.store, self.username

        def run(progress: Any) -> Any:
            return jsonable(_call(module.fetch_public, store, checkpoint_id, mirror=mirror, progress=progress,
                                  created_by=user))

        op = self.operations.submit("fetch", run, description=f"Fetch public checkpoint {checkpoint_id}",
                                    created_by=user)
        self.accepted(op)


class GpusHandler(ArtifactsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        inventory = self.settings.get("jupyter_artifacts_inventory")
        if inventory is None:
            self.reply({"gpus": [], "available": False, "message": "GPU inventory is not available on this server."})
            return
        self.reply(await self.blocking(inventory))


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
