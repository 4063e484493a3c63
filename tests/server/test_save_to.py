""""Save to" from a notebook in a nested folder, and every way out of the root that must be refused."""

from __future__ import annotations

import os

import pytest

NESTED = "projects/run 1/exp"


@pytest.fixture
def notebook(write_tree):
    write_tree({
        f"{NESTED}/train.ipynb": '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
        f"{NESTED}/models/model.safetensors": b"\x00weights" * 100,
        f"{NESTED}/models/config.json": '{"layers": 2}',
        f"{NESTED}/output/step-100/optimizer.pt": b"adam" * 50,
        f"{NESTED}/output/log.txt": "loss 0.1",
    })
    return f"{NESTED}/train.ipynb"


@pytest.mark.parametrize("folder", ["models", "output"])
@pytest.mark.parametrize("kind", ["model", "checkpoint"])
async def test_save_to_from_a_nested_notebook(api, notebook, jp_root_dir, folder, kind):
    body = {"notebook": notebook, "folder": folder, "kind": kind, "name": f"{kind}-from-{folder}"}
    op = await api.ok("POST", "snapshots", body=body, expect=202)
    assert op["kind"] == "snapshot" and op["id"]
    done = await api.wait(op)
    assert done["state"] == "succeeded", done
    artifact = done["result"]
    assert artifact["kind"] == kind and artifact["reference"] == f"{kind}-from-{folder}:v1"
    expected = sorted(p.relative_to(jp_root_dir / NESTED / folder).as_posix()
                      for p in (jp_root_dir / NESTED / folder).rglob("*") if p.is_file())
    files = await api.ok("GET", "artifacts", artifact["reference"], "files")
    assert [f["path"] for f in files["files"]] == expected
    assert done["files_done"] == done["files_total"] == len(expected)
    assert done["bytes_done"] == done["bytes_total"] == artifact["size"]

    shown = await api.ok("GET", "artifacts", artifact["reference"])
    source = shown["source"]
    assert source["type"] == "notebook" and source["notebook"] == notebook and source["folder"] == folder
    assert source["user"] and shown["created_by"] == source["user"]
    assert source["path"] == os.path.realpath(jp_root_dir / NESTED / folder)
    assert "kernel_id" not in source  # no kernel is open for this notebook


async def test_save_to_records_the_open_kernel(api, notebook, jp_serverapp, monkeypatch):
    manager = jp_serverapp.web_app.settings["session_manager"]

    async def sessions():
        return [{"id": "s-other", "path": "elsewhere.ipynb", "kernel": {"id": "k-other", "name": "python3"}},
                {"id": "s-1", "path": notebook, "kernel": {"id": "k-123", "name": "python3"}}]

    monkeypatch.setattr(manager, "list_sessions", sessions)
    op = await api.ok("POST", "snapshots", expect=202,
                      body={"notebook": notebook, "folder": "models", "kind": "model", "name": "with-kernel"})
    done = await api.wait(op)
    source = done["result"]["source"]
    assert source["kernel_id"] == "k-123" and source["kernel_name"] == "python3" and source["session_id"] == "s-1"


async def test_save_to_with_a_real_kernel_session(api, notebook, jp_fetch):
    import json

    response = await jp_fetch("api", "sessions", method="POST", body=json.dumps(
        {"path": notebook, "type": "notebook", "name": "train.ipynb", "kernel": {"name": "python3"}}))
    session = json.loads(response.body)
    try:
        op = await api.ok("POST", "snapshots", expect=202,
                          body={"notebook": notebook, "folder": "output", "kind": "checkpoint", "name": "live"})
        done = await api.wait(op)
        assert done["result"]["source"]["kernel_id"] == session["kernel"]["id"]
    finally:
        await jp_fetch("api", "sessions", session["id"], method="DELETE")


async def test_save_to_from_a_folder(api, notebook):
    op = await api.ok("POST", "snapshots", expect=202,
                      body={"dir": NESTED, "folder": "output", "kind": "checkpoint", "name": "from-dir"})
    done = await api.wait(op)
    source = done["result"]["source"]
    assert source["type"] == "folder" and source["dir"] == NESTED and source["folder"] == "output"


async def test_save_to_of_a_folder_itself(api, notebook, jp_root_dir):
    """Right-clicking models/ saves models/: `dir` without `folder` is that folder."""
    op = await api.ok("POST", "snapshots", expect=202,
                      body={"dir": f"{NESTED}/models", "kind": "checkpoint", "name": "the-folder"})
    done = await api.wait(op)
    assert done["state"] == "succeeded", done
    files = await api.ok("GET", "artifacts", "the-folder:v1", "files")
    assert sorted(f["path"] for f in files["files"]) == ["config.json", "model.safetensors"]
    source = done["result"]["source"]
    assert source["type"] == "folder" and source["dir"] == NESTED and source["folder"] == "models"
    assert source["path"] == os.path.realpath(jp_root_dir / NESTED / "models")
    code, body = await api.post("snapshots", body={"dir": ".", "kind": "checkpoint", "name": "root"})
    assert code == 400 and "not the root folder itself" in body["message"]
    code, body = await api.post("snapshots", body={"notebook": notebook, "kind": "checkpoint", "name": "nb"})
    assert code == 400 and "folder" in body["message"]


async def test_save_to_again_makes_a_new_version(api, notebook, write_tree):
    body = {"notebook": notebook, "folder": "models", "kind": "model", "name": "again"}
    await api.wait(await api.ok("POST", "snapshots", body=body, expect=202))
    write_tree({f"{NESTED}/models/config.json": '{"layers": 3}'})
    done = await api.wait(await api.ok("POST", "snapshots", body=body, expect=202))
    assert done["result"]["reference"] == "again:v2"


async def test_missing_notebook_or_folder_is_404(api, notebook, write_tree):
    code, body = await api.post("snapshots", body={"notebook": f"{NESTED}/nope.ipynb", "folder": "models",
                                                   "kind": "model", "name": "n"})
    assert code == 404 and "nope.ipynb" in body["message"]
    write_tree({"bare/nb.ipynb": "{}"})
    code, body = await api.post("snapshots", body={"notebook": "bare/nb.ipynb", "folder": "output",
                                                   "kind": "checkpoint", "name": "n"})
    assert code == 404 and "output/" in body["message"] and "bare/output" in body["message"]
    (write_tree({"empty/nb.ipynb": "{}"}) / "empty" / "models").mkdir()
    code, body = await api.post("snapshots", body={"notebook": "empty/nb.ipynb", "folder": "models",
                                                   "kind": "model", "name": "n"})
    assert code == 400 and "empty" in body["message"]


# -- escapes ---------------------------------------------------------------------------------------

@pytest.fixture
def outside(tmp_path):
    """A notebook with a models/ folder outside the server's root_dir."""
    base = tmp_path / "outside"
    (base / "models").mkdir(parents=True)
    (base / "models" / "secret.bin").write_text("secret")
    (base / "nb.ipynb").write_text("{}")
    return base


async def _refused(api, body: dict, route: str = "snapshots") -> dict:
    code, data = await api.post(route, body=body)
    assert code == 403, (body, code, data)
    assert data["message"]
    return data


async def test_root_escapes_are_refused(api, outside, jp_root_dir, write_tree):
    base = {"folder": "models", "kind": "model", "name": "escape"}
    relative_out = os.path.relpath(outside, jp_root_dir)
    await _refused(api, {**base, "notebook": f"{relative_out}/nb.ipynb"})
    await _refused(api, {**base, "notebook": "../outside/nb.ipynb"})
    await _refused(api, {**base, "notebook": "a/../../outside/nb.ipynb"})
    await _refused(api, {**base, "dir": ".."})
    await _refused(api, {**base, "notebook": str(outside / "nb.ipynb")})
    await _refused(api, {**base, "dir": str(outside)})

    # a link to a notebook outside, a linked folder, and a models/ link leading out of the root
    (jp_root_dir / "link-nb.ipynb").symlink_to(outside / "nb.ipynb")
    await _refused(api, {**base, "notebook": "link-nb.ipynb"})
    (jp_root_dir / "linked-dir").symlink_to(outside)
    await _refused(api, {**base, "dir": "linked-dir"})
    await _refused(api, {**base, "notebook": "linked-dir/nb.ipynb"})
    write_tree({"inside/nb.ipynb": "{}"})
    (jp_root_dir / "inside" / "models").symlink_to(outside / "models")
    data = await _refused(api, {**base, "notebook": "inside/nb.ipynb"})
    assert "outside the Jupyter root folder" in data["message"]

    # a root_dir sibling whose name starts with the root's name is not inside it
    sibling = jp_root_dir.parent / (jp_root_dir.name + "-evil")
    (sibling / "models").mkdir(parents=True)
    (sibling / "models" / "x").write_text("x")
    (sibling / "nb.ipynb").write_text("{}")
    await _refused(api, {**base, "notebook": str(sibling / "nb.ipynb")})
    await _refused(api, {**base, "notebook": f"../{sibling.name}/nb.ipynb"})
    assert (await api.ok("GET", "artifacts"))["total"] == 0


async def test_absolute_path_inside_root_is_accepted(api, notebook, jp_root_dir):
    op = await api.ok("POST", "snapshots", expect=202,
                      body={"notebook": str(jp_root_dir / notebook), "folder": "models", "kind": "model", "name": "abs"})
    assert (await api.wait(op))["state"] == "succeeded"


async def test_local_sources_must_be_inside_root_or_allowed_roots(api, outside, allowed_root, jp_root_dir,
                                                                  monkeypatch):
    body = {"kind": "dataset", "name": "escape"}
    for source in (str(outside / "models"), "../outside/models", "~/", "$OUTSIDE/models",
                   f"file://{outside}/models", "/etc"):
        monkeypatch.setenv("OUTSIDE", str(outside))
        data = await _refused(api, {**body, "source": source}, "artifacts")
        assert "c.ArtifactsApp.allowed_local_roots" in data["message"], source
    (jp_root_dir / "out-link").symlink_to(outside / "models")
    await _refused(api, {**body, "source": "out-link"}, "artifacts")

    (allowed_root / "shared-data").mkdir()
    (allowed_root / "shared-data" / "rows.csv").write_text("1,2")
    monkeypatch.setenv("SHARED", str(allowed_root))
    created = await api.create("dataset", "shared", "$SHARED/shared-data")
    assert created["file_count"] == 1 and created["source"]["path"] == os.path.realpath(allowed_root / "shared-data")
    code, data = await api.post("artifacts", body={**body, "source": "$NOT_SET_ANYWHERE/x"})
    assert code == 400 and "NOT_SET_ANYWHERE" in data["message"]


async def test_the_store_itself_cannot_be_saved(api, jp_root_dir, jp_serverapp, allowed_root):
    store = jp_serverapp.web_app.settings["jupyter_artifacts_store"]
    app = jp_serverapp.web_app.settings["jupyter_artifacts_app"]
    app.allowed_local_roots = [str(allowed_root), os.path.dirname(store.root.path)]
    try:
        code, data = await api.post("artifacts", body={"kind": "dataset", "name": "loop", "source": store.root.path})
        assert code == 400 and "store itself" in data["message"]
    finally:
        app.allowed_local_roots = [str(allowed_root)]
