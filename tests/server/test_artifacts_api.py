"""Every artifact route over REST: list, create, show, delete, aliases, links, lineage, files, diff, find."""

from __future__ import annotations

import asyncio
import json

from jupyter_artifacts.store.digest import hash_file


async def test_status_and_empty_list(api, store_root):
    status = await api.ok("GET", "status")
    assert status["root"] == str(store_root)
    assert status["used"] == 0 and status["quota"] is None
    assert status["version"]
    page = await api.ok("GET", "artifacts")
    assert page == {"artifacts": [], "total": 0, "limit": 50, "offset": 0, "next_offset": None}


async def test_create_from_local_path_then_show_files_and_download(api, write_tree, jp_root_dir):
    write_tree({"data/train.csv": "a,b\n1,2\n", "data/sub/readme.txt": "hello"})
    op = await api.ok("POST", "artifacts", body={"kind": "dataset", "name": "toy", "source": "data"}, expect=202)
    assert op["state"] in ("queued", "running", "succeeded")
    done = await api.wait(op)
    assert done["state"] == "succeeded", done
    assert done["files_done"] == done["files_total"] == 2
    artifact = done["result"]
    assert artifact["reference"] == "toy:v1" and artifact["file_count"] == 2

    shown = await api.ok("GET", "artifacts", "toy:v1")
    assert shown["id"] == artifact["id"] and shown["holders"] == []
    assert (await api.ok("GET", "artifacts", artifact["id"]))["name"] == "toy"
    assert (await api.ok("GET", "artifacts", "toy", params={"kind": "dataset"}))["version"] == 1

    files = await api.ok("GET", "artifacts", "toy", "files")
    assert [f["path"] for f in files["files"]] == ["sub/readme.txt", "train.csv"]
    assert files["total"] == 2 and files["next_offset"] is None
    page = await api.ok("GET", "artifacts", "toy", "files", params={"limit": 1, "offset": 1})
    assert [f["path"] for f in page["files"]] == ["train.csv"] and page["next_offset"] is None
    first = await api.ok("GET", "artifacts", "toy", "files", params={"limit": 1})
    assert first["next_offset"] == 1

    code, response = await api.call("GET", "artifacts", "toy", "files", "sub", "readme.txt", raw=True)
    assert code == 200 and response.body == b"hello"
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["X-Content-Digest"] == hash_file(str(jp_root_dir / "data/sub/readme.txt"))
    code, data = await api.get("artifacts", "toy", "files", "missing.txt")
    assert code == 404 and "no file" in data["message"]


async def test_the_files_of_a_large_artifact_page_every_path_exactly_once(api, write_tree):
    names = [f"shard-{i // 400:02d}/part-{i:05d}.txt" for i in range(20_000)]
    write_tree({f"many/{name}": str(i) for i, name in enumerate(names)})
    op = await api.ok("POST", "artifacts", body={"kind": "dataset", "name": "many", "source": "many"}, expect=202)
    assert (await api.wait(op))["state"] == "succeeded"
    paths, offset, pages = [], 0, 0
    while offset is not None:
        page = await api.ok("GET", "artifacts", "many", "files", params={"limit": 3000, "offset": offset})
        assert page["total"] == 20_000 and len(page["files"]) <= 3000
        paths += [f["path"] for f in page["files"]]
        offset, pages = page["next_offset"], pages + 1
    assert pages == 7 and paths == sorted(set(paths)) and len(paths) == 20_000
    assert set(paths) == set(names)


async def test_large_file_download_is_streamed_whole(api, write_tree):
    blob = bytes(range(256)) * (3 * 4096 + 17)  # about 3 MB, several chunks
    write_tree({"big/weights.bin": blob})
    await api.create("model", "big", "big")
    code, response = await api.call("GET", "artifacts", "big:v1", "files", "weights.bin", raw=True)
    assert code == 200 and response.body == blob
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert int(response.headers["Content-Length"]) == len(blob)


async def test_archive_streams_every_file_of_the_artifact_as_one_tar(api, write_tree, jp_root_dir):
    import io
    import os
    import tarfile

    big = os.urandom(3 << 20)  # several chunks
    files = {"run/weights.bin": big, "run/config.json": '{"layers": 4}', "run/sub/deeper/notes é.txt": "ünïcode",
             "run/" + "long-name-" * 12 + ".txt": "a path longer than 100 characters", "run/empty.txt": b""}
    write_tree(files)
    os.chmod(jp_root_dir / "run/config.json", 0o755)
    os.symlink("weights.bin", jp_root_dir / "run/latest.bin")
    created = await api.create("model", "my run", "run")

    chunks: list[bytes] = []
    response = await api.under_api("artifacts", "my run:v1", "archive", streaming_callback=chunks.append)
    assert response.code == 200
    assert response.headers["Content-Type"] == "application/x-tar"
    assert response.headers["Content-Disposition"] == 'attachment; filename="my run-v1.tar"'
    assert response.headers["X-Artifact-Digest"] == created["digest"]
    assert len(chunks) > 1  # it arrived a piece at a time
    data = b"".join(chunks)
    assert len(data) % tarfile.RECORDSIZE == 0

    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert set(members) == {rel[len("run/"):] for rel in files} | {"latest.bin"}
        for rel, content in files.items():
            expected = content.encode() if isinstance(content, str) else content
            assert tar.extractfile(members[rel[len("run/"):]]).read() == expected, rel
        assert members["latest.bin"].issym() and members["latest.bin"].linkname == "weights.bin"
        assert members["config.json"].mode & 0o777 == 0o755
        assert int(members["weights.bin"].mtime) == int(created["created_at"])

    # the same archive for every way of naming the artifact
    by_id = await api.under_api("artifacts", created["id"], "archive", params={"kind": "model"})
    assert by_id.body == data
    code, body = await api.get("artifacts", "my run:v1", "archive", params={"kind": "dataset"})
    assert code == 404 and "model" in body["message"]


async def test_list_newest_first_paginated_and_filtered(api, write_tree):
    write_tree({"a/x.txt": "1"})
    for name, kind in (("alpha", "model"), ("beta", "checkpoint"), ("alpha", "model"), ("gamma", "dataset")):
        write_tree({"a/x.txt": f"{name}-{kind}-{len(name)}"})
        await api.create(kind, name, "a")
    page = await api.ok("GET", "artifacts")
    assert [a["reference"] for a in page["artifacts"]] == ["gamma:v1", "alpha:v2", "beta:v1", "alpha:v1"]
    assert "manifest" not in page["artifacts"][0]
    page = await api.ok("GET", "artifacts", params={"limit": 2, "offset": 1})
    assert [a["reference"] for a in page["artifacts"]] == ["alpha:v2", "beta:v1"]
    assert page["total"] == 4 and page["next_offset"] == 3
    assert (await api.ok("GET", "artifacts", params={"kind": "model"}))["total"] == 2
    assert (await api.ok("GET", "artifacts", params={"name": "beta"}))["total"] == 1
    assert (await api.ok("GET", "artifacts", params={"q": "amm"}))["artifacts"][0]["name"] == "gamma"
    assert (await api.ok("GET", "artifacts", params={"state": "ready"}))["total"] == 4
    # the references the faces show are filters too: NAME:vN, NAME:ALIAS, NAME:latest
    await api.ok("POST", "artifacts", "alpha:v1", "aliases", body={"alias": "best"})
    for q, expected in (("alpha:v1", ["alpha:v1"]), ("alpha:best", ["alpha:v1"]), ("alpha:latest", ["alpha:v2"]),
                        ("alpha:v9", []), ("beta:best", []), ("best", ["alpha:v1"])):
        found = await api.ok("GET", "artifacts", params={"q": q})
        assert [a["reference"] for a in found["artifacts"]] == expected, q
    for params in ({"limit": "0"}, {"limit": "x"}, {"offset": "-1"}, {"kind": "nope"}, {"limit": "100000"},
                   {"origin": "robot"}):
        code, data = await api.get("artifacts", params=params)
        assert code == 400 and data["message"], params


async def test_aliases_links_lineage_and_diff(api, write_tree):
    write_tree({"d/a.txt": "a", "d/b.txt": "b"})
    data = await api.create("dataset", "data", "d")
    write_tree({"m/w.bin": "w1", "m/same.txt": "s"})
    await api.create("model", "net", "m", refs=[data["reference"]])
    write_tree({"m/w.bin": "w2", "m/new.txt": "n"})
    await api.create("model", "net", "m")

    aliased = await api.ok("POST", "artifacts", "net:v1", "aliases", body={"alias": "best"})
    assert aliased["aliases"] == ["best"]
    assert (await api.ok("GET", "artifacts", "net:best"))["version"] == 1
    removed = await api.ok("DELETE", "artifacts", "net:v1", "aliases", "best")
    assert removed["aliases"] == []
    code, body = await api.delete("artifacts", "net:v1", "aliases", "best")
    assert code == 404 and "no alias" in body["message"]
    code, body = await api.post("artifacts", "net:v1", "aliases", body={"alias": "v3"})
    assert code == 400 and "alias" in body["message"]

    linked = await api.ok("POST", "artifacts", "net:v2", "links", body={"target": "data:v1"})
    assert linked["refs"] == [data["id"]]
    code, body = await api.post("artifacts", "net:v2", "links", body={"target": "net:v2"})
    assert code == 400 and "itself" in body["message"]

    lineage = await api.ok("GET", "artifacts", "net:v2", "lineage")
    assert [n["reference"] for n in lineage["upstream"]] == ["data:v1"]
    down = await api.ok("GET", "artifacts", "data:v1", "lineage", params={"depth": 1})
    assert sorted(n["reference"] for n in down["downstream"]) == ["net:v1", "net:v2"]

    diff = await api.ok("GET", "artifacts", "net:v1", "diff", "net:v2")
    assert diff["added"] == ["new.txt"] and diff["changed"] == ["w.bin"] and diff["unchanged"] == 1
    assert diff["same_content"] is False
    code, body = await api.get("artifacts", "net:v1", "diff", "net:v9")
    assert code == 404 and "no version 9" in body["message"]


async def test_find_by_digest_and_by_path(api, write_tree, jp_root_dir, allowed_root):
    write_tree({"m/w.bin": "weights"})
    created = await api.create("model", "net", "m")
    digest = hash_file(str(jp_root_dir / "m/w.bin"))
    found = await api.ok("POST", "find", body={"digest": digest})
    assert [a["reference"] for a in found["artifacts"]] == ["net:v1"]
    assert found["artifacts"][0]["paths"] == ["w.bin"]
    by_path = await api.ok("POST", "find", body={"path": "m/w.bin"})
    assert by_path["digest"] == digest and by_path["artifacts"][0]["id"] == created["id"]
    (allowed_root / "copy.bin").write_text("weights")
    assert (await api.ok("POST", "find", body={"path": str(allowed_root / "copy.bin")}))["digest"] == digest
    assert (await api.ok("POST", "find", body={"digest": "blake3:" + "0" * 64}))["artifacts"] == []
    for bad in ({}, {"digest": "sha256:abc"}, {"digest": digest, "path": "m/w.bin"}, {"digest": 5}):
        code, body = await api.post("find", body=bad)
        assert code == 400 and body["message"], bad
    code, body = await api.post("find", body={"path": "m/nope.bin"})
    assert code == 404
    code, body = await api.post("find", body={"path": "/etc/hostname"})
    assert code == 403 and "allowed_local_roots" in body["message"]


async def test_unknown_references_are_404(api):
    for parts in (("artifacts", "ghost"), ("artifacts", "ghost:v2"), ("artifacts", "ghost", "files"),
                  ("artifacts", "ghost", "lineage"), ("artifacts", "ghost", "files", "a.txt"),
                  ("artifacts", "ghost", "archive"),
                  ("artifacts", "ghost", "diff", "other"), ("artifacts", "0" * 32),
                  ("operations", "nope")):
        code, body = await api.get(*parts)
        assert code == 404, (parts, code, body)
        assert body["message"]
    code, body = await api.delete("artifacts", "ghost")
    assert code == 404 and "ghost" in body["message"]
    code, body = await api.post("artifacts", "ghost", "aliases", body={"alias": "best"})
    assert code == 404
    code, body = await api.post("artifacts", "ghost", "links", body={"target": "other"})
    assert code == 404
    code, body = await api.get("no-such-route")
    assert code == 404 and "openapi.json" in body["message"]


async def test_each_reference_has_one_answer(api, write_tree, http_server_client, jp_auth_header, jp_base_url):
    """Malformed references are 400 on every route; a padded one is the reference without the spaces."""
    write_tree({"d/f.txt": "1"})
    await api.create("dataset", "lead", "d")
    expected = {"a:b:c": (400, "Invalid reference"), "name:": (400, "Invalid reference"),
                "bad%2Fname": (400, "Invalid name 'bad/name'"), "%C3%A9t%C3%A9": (400, "Invalid name"),
                "name:bad%20alias": (400, "Invalid alias 'bad alias'"),
                "%20lead": (200, None), "lead%20": (200, None), "%20ghost": (404, "'ghost'")}
    for ref, (status, message) in expected.items():
        for route in ("", "/lineage", "/files", "/archive"):
            response = await http_server_client.fetch(
                f"{jp_base_url}jupyter-artifacts/api/artifacts/{ref}{route}", headers=jp_auth_header,
                raise_error=False)
            assert response.code == status, (ref, route, response.code, response.body[:300])
            if message:
                assert message in json.loads(response.body)["message"], (ref, route, response.body[:300])


async def test_delete_and_409_while_in_use(api, write_tree, jp_serverapp):
    write_tree({"c/step.pt": "x"})
    created = await api.create("checkpoint", "ckpt", "c")
    store = jp_serverapp.web_app.settings["jupyter_artifacts_store"]
    lease = store.acquire_lease(created["id"], holder="job train-7")
    code, body = await api.delete("artifacts", "ckpt:v1")
    assert code == 409
    assert body["holders"] == ["job train-7"] and "in use by job train-7" in body["message"]
    assert (await api.ok("GET", "artifacts", "ckpt:v1"))["holders"] == ["job train-7"]
    store.release_lease(lease)
    deleted = await api.ok("DELETE", "artifacts", "ckpt:v1")
    assert deleted["reference"] == "ckpt:v1" and deleted["freed_bytes"] == 1
    code, _ = await api.get("artifacts", "ckpt:v1")
    assert code == 404


async def test_holders_name_a_kernels_notebook_and_a_jobs_id(api, write_tree, jp_serverapp, jp_fetch):
    write_tree({"c/step.pt": "x", "work/train.ipynb": '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'})
    created = await api.create("checkpoint", "held", "c")
    response = await jp_fetch("api", "sessions", method="POST", body=json.dumps(
        {"path": "work/train.ipynb", "type": "notebook", "name": "train.ipynb", "kernel": {"name": "python3"}}))
    session = json.loads(response.body)
    store = jp_serverapp.web_app.settings["jupyter_artifacts_store"]
    try:
        pid = jp_serverapp.kernel_manager.get_kernel(session["kernel"]["id"]).provisioner.pid
        leases = [store.acquire_lease(created["id"], holder=holder) for holder in
                  (f"kernel {pid} (/srv/work)", "kernel 1 (/elsewhere)", "job train (0123abcd) worker 2", "someone")]
        shown = await api.ok("GET", "artifacts", "held:v1")
        details = {d["holder"]: d for d in shown["holder_details"]}
        assert details[f"kernel {pid} (/srv/work)"] == {"holder": f"kernel {pid} (/srv/work)", "kind": "kernel",
                                                       "pid": pid, "cwd": "/srv/work", "notebook": "work/train.ipynb"}
        assert details["kernel 1 (/elsewhere)"]["notebook"] is None  # no session of this server runs it
        assert details["job train (0123abcd) worker 2"] == {"holder": "job train (0123abcd) worker 2", "kind": "job",
                                                          "job_name": "train", "job_id": "0123abcd", "worker": 2}
        assert details["someone"] == {"holder": "someone", "kind": "other"}
        for lease in leases:
            store.release_lease(lease)
    finally:
        await jp_fetch("api", "sessions", session["id"], method="DELETE")


async def test_diff_lists_each_changed_file_with_its_sizes(api, write_tree):
    write_tree({"m/w.bin": "w1", "m/same.txt": "s", "m/old.txt": "old"})
    await api.create("model", "sized", "m")
    (write_tree({"m/w.bin": "w2-longer", "m/new.txt": "n"}) / "m" / "old.txt").unlink()
    await api.create("model", "sized", "m")
    diff = await api.ok("GET", "artifacts", "sized:v1", "diff", "sized:v2")
    assert diff["files"] == [{"path": "new.txt", "change": "added", "size_a": None, "size_b": 1},
                             {"path": "old.txt", "change": "removed", "size_a": 3, "size_b": None},
                             {"path": "w.bin", "change": "changed", "size_a": 2, "size_b": 9}]
    assert diff["files_truncated"] is False


async def test_ambiguous_name_is_409_and_kind_disambiguates(api, write_tree):
    write_tree({"x/f.txt": "1"})
    await api.create("model", "shared", "x")
    await api.create("dataset", "shared", "x")
    code, body = await api.get("artifacts", "shared")
    assert code == 409 and "kind" in body["message"]
    assert (await api.ok("GET", "artifacts", "shared", params={"kind": "dataset"}))["kind"] == "dataset"


async def test_bad_bodies_are_400_with_a_message(api, write_tree):
    write_tree({"d/f.txt": "1"})
    cases = [
        ("artifacts", "not json"),
        ("artifacts", "[1, 2]"),
        ("artifacts", ""),
        ("artifacts", {"kind": "model"}),
        ("artifacts", {"kind": "weights", "name": "n", "source": "d"}),
        ("artifacts", {"kind": "model", "name": "bad/name", "source": "d"}),
        ("artifacts", {"kind": "model", "name": 7, "source": "d"}),
        ("artifacts", {"kind": "model", "name": "n"}),
        ("artifacts", {"kind": "model", "name": "n", "source": "d", "aliases": "best"}),
        ("artifacts", {"kind": "model", "name": "n", "source": "d", "aliases": ["latest"]}),
        ("artifacts", {"kind": "model", "name": "n", "source": "d", "metadata": [1]}),
        ("artifacts", {"kind": "model", "name": "n", "source": "d", "refs": [3]}),
        ("snapshots", {"notebook": "nb.ipynb", "folder": "weights", "kind": "model", "name": "n"}),
        ("snapshots", {"notebook": "nb.ipynb", "folder": "models", "kind": "dataset", "name": "n"}),
        ("snapshots", {"folder": "models", "kind": "model", "name": "n"}),
        ("snapshots", {"notebook": "nb.ipynb", "dir": "d", "folder": "models", "kind": "model", "name": "n"}),
        ("snapshots", {"notebook": ["nb"], "folder": "models", "kind": "model", "name": "n"}),
        ("snapshots", {"notebook": "nb.ipynb", "folder": "models", "kind": "model", "name": ""}),
        ("snapshots", {"notebook": "nb.ipynb", "folder": "models", "kind": "model", "name": True}),
    ]
    for route, body in cases:
        code, data = await api.post(route, body=body if isinstance(body, str) else json.dumps(body))
        assert code == 400, (route, body, code, data)
        assert isinstance(data, dict) and data["message"], (route, body)
    code, data = await api.post("artifacts", body={"kind": "model", "name": "n", "source": "d", "refs": ["ghost"]})
    assert code == 404 and "ghost" in data["message"]
    code, data = await api.post("artifacts", body={"kind": "model", "name": "n", "source": "./nowhere"})
    assert code == 404 and "No such file" in data["message"]
    code, data = await api.post("artifacts", body={"kind": "model", "name": "n", "source": "s3://Bad_Bucket!/x"})
    assert code == 400 and "bucket" in data["message"]
    code, data = await api.post("artifacts", body={"kind": "model", "name": "n", "source": "d", "manifest": "m.jsonl"})
    assert code == 400 and "not both" in data["message"]


async def test_limits_and_quota_are_413_and_507_with_the_numbers(jp_serverapp, api, write_tree):
    app_store = jp_serverapp.web_app.settings["jupyter_artifacts_store"]
    write_tree({"models/w.bin": b"x" * 2000, "nb.ipynb": "{}"})
    app_store.settings.max_size["model"] = 1000
    try:
        code, data = await api.post("snapshots", body={"notebook": "nb.ipynb", "folder": "models", "kind": "model", "name": "m"})
        assert code == 413 and data["size"] == 2000 and data["limit"] == 1000
        assert "2 KB" in data["message"] and "1 KB" in data["message"]
        code, data = await api.post("artifacts", body={"kind": "model", "name": "m", "source": "models"})
        assert code == 413
        app_store.settings.max_size["model"] = None
        app_store.settings.quota = 1500
        code, data = await api.post("snapshots", body={"notebook": "nb.ipynb", "folder": "models", "kind": "model", "name": "m"})
        assert code == 507 and data["quota"] == 1500 and data["needed"] == 2000
        status = await api.ok("GET", "status")
        assert status["quota"] == 1500
    finally:
        app_store.settings.max_size["model"] = 50 * 10**9
        app_store.settings.quota = None


async def test_operations_list_and_failed_operation_reports_status(api, write_tree, jp_serverapp, monkeypatch):
    from jupyter_artifacts.errors import QuotaExceeded
    from jupyter_artifacts.store import Store

    write_tree({"d/f.txt": "1"})

    def refuse(self, *args, **kwargs):
        raise QuotaExceeded("The store is full: delete artifacts you no longer need.", quota=1)

    monkeypatch.setattr(Store, "create", refuse)
    op = await api.ok("POST", "artifacts", body={"kind": "dataset", "name": "d", "source": "d"}, expect=202)
    done = await api.wait(op)
    assert done["state"] == "failed"
    assert done["error"] == {"status": 507, "message": "The store is full: delete artifacts you no longer need.", "quota": 1}
    listed = await api.ok("GET", "operations")
    assert listed["operations"][0]["id"] == op["id"]
    await asyncio.sleep(0)


async def test_download_follows_links_inside_the_artifact(api, write_tree, jp_root_dir):
    import os

    write_tree({"linked/real/weights.bin": "the weights"})
    os.symlink("real/weights.bin", jp_root_dir / "linked" / "latest.bin")
    await api.create("model", "linked", "linked")
    files = await api.ok("GET", "artifacts", "linked", "files")
    assert {f["path"]: f.get("link") for f in files["files"]} == {"latest.bin": "real/weights.bin",
                                                                  "real/weights.bin": None}
    code, response = await api.call("GET", "artifacts", "linked", "files", "latest.bin", raw=True)
    assert code == 200 and response.body == b"the weights"


async def test_an_unexpected_error_is_a_500_with_a_message(api, monkeypatch):
    from jupyter_artifacts.store import Store

    def broken(self, *args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Store, "list", broken)
    code, body = await api.get("artifacts")
    assert code == 500 and "disk on fire" in body["message"] and "bug" in body["message"]
