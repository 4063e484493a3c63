"""A Jupyter server with the extension, in-process (pytest-jupyter), and helpers to call its API."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

# The pytest-jupyter fixtures and hooks, for the tests in this folder only.
from pytest_jupyter.jupyter_server import *  # noqa: F403

API = ("jupyter-artifacts", "api")


@pytest.fixture
def allowed_root(tmp_path: Path) -> Path:
    path = tmp_path / "shared"
    path.mkdir()
    return path


@pytest.fixture
def artifacts_config(store_root: Path, allowed_root: Path) -> dict[str, Any]:
    return {"root_url": str(store_root), "allowed_local_roots": [str(allowed_root)]}


@pytest.fixture
def jp_server_config(artifacts_config: dict[str, Any]) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_artifacts": True}},
        "ArtifactsApp": artifacts_config,
    }


class Api:
    """`await api.get("artifacts")` -> (status, JSON body); never raises on 4xx/5xx."""

    def __init__(self, fetch: Any) -> None:
        self.fetch = fetch

    async def call(self, method: str, *parts: str, body: Any = None, params: dict | None = None,
                   headers: dict | None = None, raw: bool = False) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"method": method, "raise_error": False, "headers": headers or {}}
        if params:
            kwargs["params"] = params
        if body is not None or method in ("POST", "PUT", "PATCH"):
            kwargs["body"] = body if isinstance(body, (str, bytes)) else json.dumps(body if body is not None else {})
        response = await self.under_api(*parts, **kwargs)
        if raw:
            return response.code, response
        text = response.body.decode() if response.body else ""
        try:
            data = json.loads(text) if text else None
        except ValueError:
            data = text
        return response.code, data

    async def under_api(self, *parts: str, **kwargs: Any) -> Any:
        """The tornado response of a request to the extension's API, for bodies that are not JSON."""
        return await self.fetch(*API, *parts, **kwargs)

    async def get(self, *parts: str, **kwargs: Any) -> tuple[int, Any]:
        return await self.call("GET", *parts, **kwargs)

    async def post(self, *parts: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        return await self.call("POST", *parts, body=body, **kwargs)

    async def delete(self, *parts: str, **kwargs: Any) -> tuple[int, Any]:
        return await self.call("DELETE", *parts, **kwargs)

    async def ok(self, method: str, *parts: str, expect: int = 200, **kwargs: Any) -> Any:
        status, data = await self.call(method, *parts, **kwargs)
        assert status == expect, (status, data)
        return data

    async def wait(self, op: dict, timeout: float = 60) -> dict:
        """Poll an operation until it finishes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            status, data = await self.get("operations", op["id"])
            assert status == 200, data
            if data["state"] in ("succeeded", "failed"):
                return data
            assert loop.time() < deadline, f"operation still {data['state']} after {timeout}s"
            await asyncio.sleep(0.02)

    async def create(self, kind: str, name: str, source: str, **extra: Any) -> dict:
        """POST artifacts and wait; return the artifact."""
        op = await self.ok("POST", "artifacts", body={"kind": kind, "name": name, "source": source, **extra}, expect=202)
        done = await self.wait(op)
        assert done["state"] == "succeeded", done
        return done["result"]


@pytest.fixture
def api(jp_fetch: Any) -> Api:
    return Api(jp_fetch)


@pytest.fixture
def write_tree(jp_root_dir: Path):
    """Write files under the server's root_dir from {relative path: content}."""

    def write(files: dict[str, bytes | str], base: Path | None = None) -> Path:
        base = base or jp_root_dir
        for rel, content in files.items():
            path = base / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content.encode() if isinstance(content, str) else content)
        return base

    return write
