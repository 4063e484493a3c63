"""The base handler every route uses: auth resource, JSON bodies and errors, blocking calls off the loop."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable
from dataclasses import asdict, fields, is_dataclass
from typing import Any, TypeVar

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from ...errors import ArtifactsError, InvalidInput, quote
from ...store import Artifact, Store
from ..operations import Operation, OperationManager

T = TypeVar("T")
API_PREFIX = "jupyter-artifacts/api"


_ARTIFACT_FIELDS = tuple(f.name for f in fields(Artifact) if f.name != "manifest")


def artifact_json(artifact: Artifact) -> dict[str, Any]:
    """An artifact without its manifest, as a JSON object (shallow: it is serialized at once)."""
    data = {name: getattr(artifact, name) for name in _ARTIFACT_FIELDS}
    data["reference"] = artifact.reference
    return data


def _json_default(value: Any) -> Any:
    if isinstance(value, Artifact):
        return artifact_json(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


class ArtifactsHandler(APIHandler):
    """JSON in, JSON out; `ArtifactsError` becomes its status with `{"message": ...}`."""

    auth_resource = "artifacts"

    # -- what the app put in the tornado settings ----------------------------------------------
    @property
    def store(self) -> Store:
        return self.settings["jupyter_artifacts_store"]

    @property
    def operations(self) -> OperationManager:
        return self.settings["jupyter_artifacts_operations"]

    @property
    def artifacts_app(self) -> Any:
        return self.settings["jupyter_artifacts_app"]

    @property
    def root_dir(self) -> str:
        return self.settings["jupyter_artifacts_root_dir"]

    @property
    def username(self) -> str | None:
        """Who makes the request. A shared token identifies nobody (Jupyter then invents an
        "Anonymous ..." user with a random id), so the account the server runs as is named instead."""
        user = self.current_user
        if user is None:
            return None
        if str(getattr(user, "name", "")).startswith("Anonymous "):
            from ...store.store import current_user

            return current_user()
        return getattr(user, "username", None) or getattr(user, "name", None) or str(user)

    async def blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking store call in the extension's thread pool, not on the IO loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.settings["jupyter_artifacts_executor"],
                                          functools.partial(fn, *args, **kwargs))

    # -- input ---------------------------------------------------------------------------------
    def body(self) -> dict[str, Any]:
        raw = self.request.body or b""
        if not raw.strip():
            raise InvalidInput("Send a JSON object in the request body.")
        try:
            data = json.loads(raw, parse_constant=_no_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"The request body is not valid JSON ({exc}); send a JSON object.") from None
        except RecursionError:
            raise InvalidInput("The request body is nested too deeply; send a flatter JSON object.") from None
        if not isinstance(data, dict):
            raise InvalidInput("The request body must be a JSON object, e.g. {\"name\": \"...\"}.")
        return data

    @staticmethod
    def field(body: dict, key: str, kind: type | tuple = str, required: bool = False, default: Any = None,
              choices: tuple | None = None) -> Any:
        value = body.get(key)
        if value is None:
            if required:
                raise InvalidInput(f"The field {key!r} is required.")
            return default
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join({str: "a string", list: "a list", dict: "an object", int: "an integer",
                                 bool: "true or false"}.get(k, k.__name__) for k in kinds)
            raise InvalidInput(f"The field {key!r} must be {names}.")
        if kind is list and not all(isinstance(v, str) for v in value):
            raise InvalidInput(f"The field {key!r} must be a list of strings.")
        if choices is not None and value not in choices:
            raise InvalidInput(f"The field {key!r} must be one of {', '.join(map(repr, choices))}, not {quote(value)}.")
        return value

    def query_int(self, name: str, default: int, minimum: int, maximum: int) -> int:
        text = self.get_query_argument(name, None)
        if text is None or text == "":
            return default
        try:
            value = int(text)
        except ValueError:
            raise InvalidInput(f"The query parameter {name!r} must be an integer, not {quote(text)}.") from None
        if not minimum <= value <= maximum:
            raise InvalidInput(f"The query parameter {name!r} must be between {minimum} and {maximum}, not {value}.")
        return value

    def query_str(self, name: str, choices: tuple | None = None) -> str | None:
        value = self.get_query_argument(name, None)
        if value in (None, ""):
            return None
        if "\0" in value:
            raise InvalidInput(f"The query parameter {name!r} cannot contain a NUL character.")
        if choices is not None and value not in choices:
            raise InvalidInput(f"The query parameter {name!r} must be one of {', '.join(choices)}, not {quote(value)}.")
        return value

    # -- output --------------------------------------------------------------------------------
    def reply(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(data, default=_json_default))

    def accepted(self, op: Operation) -> None:
        """202 with the operation and where to follow it."""
        from jupyter_server.utils import url_path_join

        self.set_header("Location", url_path_join(self.base_url, API_PREFIX, "operations", op.id))
        self.reply(op.to_dict(), status=202)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = (kwargs.get("exc_info") or (None, None, None))[1]
        if isinstance(exc, ArtifactsError):
            self.set_status(exc.status)
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(exc.to_dict(), default=str))
            return
        if exc is not None and not isinstance(exc, web.HTTPError):
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"message": f"Internal error in jupyter-artifacts ({type(exc).__name__}: {exc}); "
                                               "this is a bug, please report it with the server log."}))
            return
        super().write_error(status_code, **kwargs)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, ArtifactsError):
            self.log.info("%s %s -> %s: %s", self.request.method, self.request.path[:200], value.status,
                          value.message[:1000])
            return
        super().log_exception(typ, value, tb)


class NotFoundHandler(ArtifactsHandler):
    """Any other path under the API prefix: a JSON 404 rather than an HTML page."""

    def _missing(self, path: str = "") -> None:
        raise web.HTTPError(404, f"No route {self.request.method} {API_PREFIX}/{path}; "
                                 f"see {API_PREFIX}/openapi.json for the routes.")

    @web.authenticated
    @authorized
    def get(self, path: str = "") -> None:
        self._missing(path)

    @web.authenticated
    @authorized
    def post(self, path: str = "") -> None:
        self._missing(path)

    @web.authenticated
    @authorized
    def put(self, path: str = "") -> None:
        self._missing(path)

    @web.authenticated
    @authorized
    def patch(self, path: str = "") -> None:
        self._missing(path)

    @web.authenticated
    @authorized
    def delete(self, path: str = "") -> None:
        self._missing(path)
