"""Concrete requests for every route of the OpenAPI document (placeholders filled with samples)."""

from __future__ import annotations

import re

from jupyter_artifacts.server.handlers.misc import load_openapi

SAMPLES = {"ref": "sample", "a": "sample", "b": "other", "path": "dir/file.txt", "alias": "best",
           "id": "0123", "op_id": "0123", "checkpoint_id": "tiny"}
METHODS = ("get", "post", "put", "patch", "delete")


def documented() -> list[tuple[str, str]]:
    """(METHOD, '/path/with/samples') for every operation in the document."""
    doc = load_openapi()
    found = []
    for template, item in doc["paths"].items():
        concrete = re.sub(r"\{(\w+)\}", lambda m: SAMPLES[m.group(1)], template)
        for method in METHODS:
            if method in item:
                found.append((method.upper(), concrete))
    return found


def parts(path: str) -> tuple[str, ...]:
    return tuple(p for p in path.split("/") if p)
