"""Authentication and authorization on every route; every route documented in the OpenAPI document."""

from __future__ import annotations

import json
import re

import pytest
from jupyter_server.auth import Authorizer
from tornado import web

from jupyter_artifacts.server.handlers import API_PREFIX, routes

from artifacts_routes import documented, parts


class DenyArtifacts(Authorizer):
    """Authorizes everything except the 'artifacts' resource."""

    def is_authorized(self, handler, user, action, resource):
        return resource != "artifacts"


def implemented_methods(handler: type) -> set[str]:
    return {m for m in ("GET", "POST", "PUT", "PATCH", "DELETE")
            if getattr(handler, m.lower()) is not getattr(web.RequestHandler, m.lower())}


def test_every_route_is_documented_and_every_documented_route_exists():
    table = [(re.compile(pattern[len(API_PREFIX):] + "$"), handler) for pattern, handler in routes()
             if not pattern.endswith("(?P<path>.*)") or "/files/" in pattern]
    docs = documented()
    for regex, handler in table:
        methods = {m for m, path in docs if regex.match(path)}
        assert methods == implemented_methods(handler), (regex.pattern, methods)
    for method, path in docs:
        matching = [h for regex, h in table if regex.match(path)]
        assert matching, f"{method} {path} is documented but not routed"
        assert method in implemented_methods(matching[0]), (method, path)


async def test_openapi_document_is_served_with_the_base_url(api, jp_base_url):
    doc = await api.ok("GET", "openapi.json")
    assert doc["openapi"].startswith("3.")
    assert doc["servers"] == [{"url": f"{jp_base_url}{API_PREFIX}"}]
    assert "/snapshots" in doc["paths"] and "/operations/{id}" in doc["paths"]


class TestUnauthenticated:
    @pytest.fixture
    def jp_server_config(self, artifacts_config):
        return {"ServerApp": {"jpserver_extensions": {"jupyter_artifacts": True},
                              "allow_unauthenticated_access": False},
                "ArtifactsApp": artifacts_config}

    async def test_every_handler_method_is_decorated(self, jp_serverapp):
        check = jp_serverapp.web_app._check_handler_auth
        undecorated = [line for pattern, handler in routes() for line in check(pattern, handler)]
        assert undecorated == []

    async def test_every_route_refuses_requests_without_credentials(self, api, jp_serverapp):
        assert jp_serverapp.web_app.settings["allow_unauthenticated_access"] is False
        for method, path in documented() + [("GET", "/no-such-route")]:
            for header in ("", "token wrong-token"):
                body = "{}" if method in ("POST", "PUT", "PATCH") else None
                code, data = await api.call(method, *parts(path), body=body, headers={"Authorization": header})
                assert code == 403, (method, path, header, code, data)
        assert (await api.ok("GET", "status"))["version"]  # with the token it works


class TestUnauthorized:
    @pytest.fixture
    def jp_server_config(self, artifacts_config):
        return {"ServerApp": {"jpserver_extensions": {"jupyter_artifacts": True},
                              "authorizer_class": DenyArtifacts},
                "ArtifactsApp": artifacts_config}

    async def test_every_route_is_403_for_a_user_not_authorized_on_artifacts(self, api, jp_fetch):
        for method, path in documented() + [("GET", "/no-such-route")]:
            body = json.dumps({"kind": "model", "name": "x", "source": "x"}) if method == "POST" else None
            code, data = await api.call(method, *parts(path), body=body)
            assert code == 403, (method, path, code, data)
            assert "not authorized" in data["message"] and "artifacts" in data["message"]
        response = await jp_fetch("api", "status")  # the same user may use the rest of Jupyter
        assert response.code == 200


def test_the_job_body_schema_is_the_option_tables():
    """The panel's job form types are generated from this schema: it is the option table's, field for field."""
    from jupyter_artifacts.jobs import body
    from jupyter_artifacts.server.handlers.misc import load_openapi

    documented = load_openapi()["components"]["schemas"]["JobSpec"]
    assert documented == body.schema(), (
        "openapi.json's JobSpec differs from jupyter_artifacts/jobs/options.py: run "
        "`python -m jupyter_artifacts.jobs.body jupyter_artifacts/server/openapi.json`")
    submit = load_openapi()["paths"]["/jobs"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert submit == {"$ref": "#/components/schemas/JobSpec"}
