"""What a user (or a script) can send that once gave a 500, hung, or echoed megabytes back."""

from __future__ import annotations

import json
import logging
import os

import pytest


async def test_a_fifo_or_a_device_is_refused_at_once_and_the_queue_keeps_moving(api, write_tree, jp_root_dir):
    write_tree({"d/f.txt": "1"})
    os.mkfifo(jp_root_dir / "pipe.fifo")
    os.mkfifo(jp_root_dir / "d" / "inner.fifo")
    for source in ("pipe.fifo", "d"):
        code, body = await api.post("artifacts", body={"kind": "dataset", "name": "n", "source": source})
        assert code == 400 and "not a regular file" in body["message"], (source, code, body)
    os.unlink(jp_root_dir / "d" / "inner.fifo")
    op = await api.ok("POST", "artifacts", expect=202, body={"kind": "dataset", "name": "n", "source": "d"})
    assert (await api.wait(op))["state"] == "succeeded"


async def test_empty_folders_are_refused_by_the_same_rule_as_the_cli(api, jp_root_dir):
    (jp_root_dir / "empty").mkdir()
    code, body = await api.post("artifacts", body={"kind": "dataset", "name": "n", "source": "empty"})
    assert code == 400 and "empty" in body["message"]


@pytest.mark.parametrize("ref", ["m1:v99999999999999999999999", "m1:v0", "m1:v9223372036854775808"])
async def test_a_huge_version_is_a_400_not_a_500(api, write_tree, ref):
    write_tree({"d/f.txt": "1"})
    await api.wait(await api.ok("POST", "artifacts", expect=202, body={"kind": "model", "name": "m1", "source": "d"}))
    for parts in (("artifacts", ref), ("artifacts", ref, "files"), ("artifacts", ref, "lineage")):
        code, body = await api.get(*parts)
        assert code == 400 and "version" in body["message"], (parts, code, body)


async def test_a_deeply_nested_body_is_a_400(api):
    deep = "[" * 100_000 + "]" * 100_000
    code, body = await api.post("artifacts", body=deep)
    assert code == 400 and "nested" in body["message"]
    code, body = await api.post("artifacts", body='{"kind": "model", "name": "n", "source": "d", "metadata": '
                                + '{"a":' * 900 + "1" + "}" * 900 + "}")
    assert code == 400 and "nested" in body["message"], body


async def test_metadata_over_the_limits_is_refused_before_the_operation(api, write_tree):
    write_tree({"d/f.txt": "1"})
    code, body = await api.post("artifacts", body={"kind": "model", "name": "n", "source": "d",
                                                   "metadata": {"x": "y" * (2 << 20)}})
    assert code == 400 and "limit" in body["message"]
    assert (await api.ok("GET", "artifacts"))["total"] == 0


async def test_a_huge_name_is_not_repeated_in_the_answer_or_the_log(api, caplog):
    name = "n" * 5_000_000
    with caplog.at_level(logging.INFO):
        code, body = await api.post("artifacts", body={"kind": "model", "name": name, "source": "d"})
    assert code == 400 and "5,000,000 characters" in body["message"]
    assert len(json.dumps(body)) < 1000
    assert sum(len(r.getMessage()) for r in caplog.records) < 20_000


async def test_dot_aliases_are_refused(api, write_tree):
    write_tree({"d/f.txt": "1"})
    await api.wait(await api.ok("POST", "artifacts", expect=202, body={"kind": "model", "name": "m", "source": "d"}))
    for alias in (".", ".."):
        code, body = await api.post("artifacts", "m", "aliases", body={"alias": alias})
        assert code == 400 and "alias" in body["message"], (alias, code, body)


async def test_the_archive_route_drops_setuid_and_setgid(api, write_tree, jp_root_dir):
    import io
    import tarfile

    write_tree({"d/tool": "#!/bin/sh\n"})
    os.chmod(jp_root_dir / "d" / "tool", 0o6755)
    await api.wait(await api.ok("POST", "artifacts", expect=202, body={"kind": "model", "name": "m", "source": "d"}))
    shown = await api.ok("GET", "artifacts", "m", "files")
    assert shown["files"][0]["mode"] == 0o755
    code, response = await api.call("GET", "artifacts", "m", "archive", raw=True)
    assert code == 200
    with tarfile.open(fileobj=io.BytesIO(response.body)) as tar:
        assert tar.getmember("tool").mode == 0o755
