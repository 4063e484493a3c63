"""Lineage over REST names the jobs that used an artifact, and the CLI prints the same record."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

# The lineage the panel's jest tests are fed: a real answer, saved; this test keeps it in step.
PANEL_FIXTURE = Path(__file__).resolve().parents[2] / "labextension" / "test" / "fixtures" / "lineage.json"

WRITE_OUTPUT = """\
import os
rows = open(os.path.join(os.environ["ML_DATA_PATH"], "rows", "rows.csv")).read()
with open(os.path.join(os.environ["ML_OUTPUT_PATH"], "model.txt"), "w") as handle:
    handle.write(f"trained on {len(rows)} bytes")
"""


@pytest.fixture
def artifacts_config(store_root, allowed_root):
    return {"root_url": str(store_root), "allowed_local_roots": [str(allowed_root)], "gpus": "fake:2"}


def shape(value):
    """The keys of every object (lists by their first item), not the values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return None


async def finished(api, job_id: str, timeout: float = 60) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        job = await api.ok("GET", "jobs", job_id)
        if job["state"] in ("finished", "failed", "stopped"):
            return job
        assert loop.time() < deadline, f"job still {job['state']} after {timeout}s"
        await asyncio.sleep(0.05)


async def test_lineage_lists_the_jobs_that_used_it_with_their_outputs(api, write_tree, cli):
    write_tree({"data/rows.csv": "1,2\n3,4\n", "train.py": WRITE_OUTPUT})
    dataset = await api.create("dataset", "rows", "data")
    assert (await api.ok("GET", "artifacts", "rows:v1", "lineage"))["used_by"] == []

    job = await api.ok("POST", "jobs", expect=201, body={
        "type": "training", "name": "fit-rows", "command": "train.py", "data": ["rows:v1"],
        "output": "model", "resources": {"gpus": 1}, "hyperparameters": {"seed": [1, 2]}})
    done = await finished(api, job["id"])
    assert done["state"] == "finished", done
    outputs = {w["index"]: w["output"]["reference"] for w in done["workers"]}
    assert len(outputs) == 2 and all(outputs.values())

    lineage = await api.ok("GET", "artifacts", "rows:v1", "lineage")
    [used] = lineage["used_by"]
    assert (used["id"], used["name"], used["type"], used["state"], used["roles"]) == \
        (job["id"], "fit-rows", "training", "finished", ["dataset"])
    assert {w["index"]: (w["state"], w["output"]["reference"], w["output"]["kind"]) for w in used["workers"]} == \
        {i: ("finished", ref, "model") for i, ref in outputs.items()}
    assert shape(lineage) == shape(json.loads(PANEL_FIXTURE.read_text()))
    document = await api.ok("GET", "openapi.json")
    schema = {"$ref": "#/components/schemas/Lineage", "components": document["components"]}
    assert [e.message for e in Draft202012Validator(schema).iter_errors(lineage)] == []
    # the outputs themselves record the dataset as their input; they were used by nothing yet
    first = await api.ok("GET", "artifacts", outputs[0], "lineage", params={"kind": "model"})
    assert first["used_by"] == []
    assert any(i.get("id") == dataset["id"] for i in first["inputs"])

    # one core function: the CLI's JSON is the same record, and its text names the job and outputs
    assert cli.json("dataset", "lineage", "rows:v1")["used_by"] == lineage["used_by"]
    text = cli.run("dataset", "lineage", "rows:v1").stdout
    assert f"job fit-rows ({job['id'][:8]}, finished, as dataset)" in text
    assert f"worker 0: {outputs[0]}" in text and f"worker 1: {outputs[1]}" in text
