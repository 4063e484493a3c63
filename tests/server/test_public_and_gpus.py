"""Public checkpoints (from a local mirror, no network), GPUs, and creating a dataset from a manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def public_site(tmp_path: Path) -> dict:
    mirror = tmp_path / "mirror"
    (mirror / "tiny-net").mkdir(parents=True)
    (mirror / "tiny-net" / "model.bin").write_bytes(b"tiny" * 100)
    (mirror / "tiny-net" / "LICENSE").write_text("MIT")
    catalog = tmp_path / "site-catalog.json"
    catalog.write_text(json.dumps({"checkpoints": [{
        "id": "tiny-net", "title": "Tiny net", "category": "test", "license": "MIT",
        "source": {"path": "https://example.invalid/tiny-net/"}}]}))
    return {"public_mirror": str(mirror), "public_catalog": str(catalog)}


@pytest.fixture
def artifacts_config(store_root, allowed_root, public_site):
    return {"root_url": str(store_root), "allowed_local_roots": [str(allowed_root)], "gpus": "fake:2", **public_site}


async def test_public_checkpoints_list_show_and_fetch(api):
    listed = await api.ok("GET", "public-checkpoints")
    ids = {c["id"] for c in listed["checkpoints"]}
    assert "tiny-net" in ids and len(ids) > 1  # the site's entry and the built-in ones
    shown = await api.ok("GET", "public-checkpoints", "tiny-net")
    assert shown["title"] == "Tiny net" and shown["fetched"] is None
    code, body = await api.get("public-checkpoints", "tiny-nett")
    assert code == 404 and "tiny-net" in body["message"]
    code, body = await api.post("public-checkpoints", "nope")
    assert code == 404

    op = await api.ok("POST", "public-checkpoints", "tiny-net", expect=202)
    done = await api.wait(op)
    assert done["state"] == "succeeded", done
    assert done["result"]["reference"] == "public.tiny-net:v1" and done["result"]["kind"] == "checkpoint"
    assert (await api.ok("GET", "public-checkpoints", "tiny-net"))["fetched"] == "public.tiny-net:v1"
    again = await api.wait(await api.ok("POST", "public-checkpoints", "tiny-net", expect=202))
    assert again["result"]["id"] == done["result"]["id"]  # fetched once, shared after that


async def test_gpus_from_the_inventory_setting(api):
    gpus = await api.ok("GET", "gpus")
    assert gpus["count"] == 2 and len(gpus["devices"]) == 2
    assert all(d["free"] for d in gpus["devices"]) and gpus["queue"] == []


async def test_dataset_from_a_manifest_inside_the_root(api, write_tree, jp_root_dir, tmp_path):
    write_tree({"raw/a.csv": "1", "raw/b.csv": "2"})
    lines = [{"url": str(jp_root_dir / "raw/a.csv"), "path": "train/a.csv"},
             {"url": str(jp_root_dir / "raw/b.csv"), "path": "test/b.csv"}]
    write_tree({"data.jsonl": "\n".join(json.dumps(line) for line in lines)})
    op = await api.ok("POST", "artifacts", expect=202, body={"kind": "dataset", "name": "listed", "manifest": "data.jsonl"})
    done = await api.wait(op)
    assert done["state"] == "succeeded", done
    files = await api.ok("GET", "artifacts", "listed", "files")
    assert [f["path"] for f in files["files"]] == ["test/b.csv", "train/a.csv"]

    outside = tmp_path / "outside.jsonl"
    outside.write_text(json.dumps(lines[0]))
    code, body = await api.post("artifacts", body={"kind": "dataset", "name": "x", "manifest": str(outside)})
    assert code == 403 and "allowed_local_roots" in body["message"]
    (tmp_path / "secret.csv").write_text("s")
    write_tree({"sneaky.jsonl": json.dumps({"url": str(tmp_path / "secret.csv"), "path": "s.csv"})})
    code, body = await api.post("artifacts", body={"kind": "dataset", "name": "x", "manifest": "sneaky.jsonl"})
    assert code == 403 and "outside" in body["message"]
    write_tree({"broken.jsonl": "{not json"})
    code, body = await api.post("artifacts", body={"kind": "dataset", "name": "x", "manifest": "broken.jsonl"})
    assert code == 400
