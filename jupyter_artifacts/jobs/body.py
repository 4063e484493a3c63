"""A job's REST body: its type checks and its JSON schema, both built from the option table.

`check` refuses a value of the wrong JSON type with a 400 that names the field, before the spec's
own validation; `schema` is the body's JSON schema, which the server's OpenAPI document holds as
`components.schemas.JobSpec` (a test keeps the two equal; `python -m jupyter_artifacts.jobs.body
PATH` writes it into the document at PATH) and from which the panel's TypeScript types are generated.
"""

from __future__ import annotations

import json
import sys

from ..errors import InvalidInput
from .options import GROUPS, OPTIONS, Option

DESCRIPTION = ("A job to run on the server's host, the fields of `jupyter artifacts job create`. Local paths resolve "
               "inside the server's root_dir (relative ones inside the working folder) or "
               "c.ArtifactsApp.allowed_local_roots; others are refused with 403.")
_PYTHON = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,), "array": (list,),
           "object": (dict,), "null": ()}
_NAMES = {str: "a string", list: "a list", dict: "an object", int: "an integer", float: "a number",
          bool: "true or false"}
_ITEMS = {"array": "a list of references (strings)", "object": "an object of string values"}


def _kinds(option: Option) -> tuple[type, ...]:
    return tuple(dict.fromkeys(k for t in option.types + option.also for k in _PYTHON[t]))


def _check(where: str, option: Option, value: object) -> None:
    kinds = _kinds(option)
    if value is None:
        return
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise InvalidInput(f"The field {where!r} must be {' or '.join(_NAMES[k] for k in kinds)}.")
    items = (option.schema or {}).get("items") or (option.schema or {}).get("additionalProperties")
    if items == {"type": "string"}:
        values = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        if not all(isinstance(v, str) for v in values):
            what = _ITEMS["object" if isinstance(value, dict) else "array"]
            raise InvalidInput(f"The field {where!r} must be {what}.")
    bounds = option.schema or {}
    if "maximum" in bounds and isinstance(value, int) and not bounds["minimum"] <= value <= bounds["maximum"]:
        raise InvalidInput(f"{option.name} must be between {bounds['minimum']} and {bounds['maximum']}.")


def check(body: dict) -> None:
    """The JSON types of a job body's fields, also inside `resources` and `gc_policy` (which may hold
    the fields of their group; those may be given at the top level too). Unknown fields are left to
    `JobSpec`, which names them."""
    for key, value in body.items():
        if key in GROUPS and value is not None and not isinstance(value, dict):
            raise InvalidInput(f"The field {key!r} must be an object.")
        option = next((o for o in OPTIONS if o.name == key), None)
        if option is not None and option.types:
            _check(key, option, value)
    for option in OPTIONS:
        if option.group and isinstance(body.get(option.group), dict):
            _check(f"{option.group}.{option.name}", option, body[option.group].get(option.name))


def _property(option: Option) -> dict:
    if option.schema and "oneOf" in option.schema:
        return dict(option.schema)  # a schema of its own
    prop: dict = {"type": option.types[0] if len(option.types) == 1 else list(option.types)}
    prop.update(option.schema or {})
    if option.doc:
        prop["description"] = option.doc
    return prop


def schema() -> dict:
    """The job body's JSON schema (OpenAPI 3.1), in the option table's order, grouped fields in their object."""
    properties: dict = {}
    for option in OPTIONS:
        if not option.types:
            continue
        if option.group is None:
            properties[option.name] = _property(option)
            continue
        if option.group not in properties:
            described = {"description": GROUPS[option.group]} if GROUPS[option.group] else {}
            properties[option.group] = {"type": "object", **described, "properties": {}}
        properties[option.group]["properties"][option.name] = _property(option)
    return {"type": "object", "required": [o.name for o in OPTIONS if o.required], "description": DESCRIPTION,
            "properties": properties}


def write_schema(path: str) -> bool:
    """Put `schema()` into the OpenAPI document at `path` as components.schemas.JobSpec; True if it changed."""
    with open(path, encoding="utf-8") as handle:
        doc = json.load(handle)
    if doc["components"]["schemas"].get("JobSpec") == schema():
        return False
    doc["components"]["schemas"]["JobSpec"] = schema()
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(doc, indent=1))
    return True


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m jupyter_artifacts.jobs.body OPENAPI_JSON")
    print("updated" if write_schema(sys.argv[1]) else "already up to date")


__all__ = ["DESCRIPTION", "check", "schema", "write_schema"]
