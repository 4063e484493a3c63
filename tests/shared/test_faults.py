"""Faults while a team works: a host killed (kill -9) in the middle of a save, a delete or a gc,
and the S3 service restarted in the middle of a save. Nothing half-made is ever published, the
other hosts keep working, and doing it again succeeds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

from .conftest import Host, wait_until, write_tree


def kill_at(host: Host, point: str, *args: str) -> subprocess.CompletedProcess:
    """Run a CLI command in a process that kills itself (SIGKILL) when it reaches `point`, a
    method of the store, right after that method returns."""
    code = textwrap.dedent(f"""
        import os, signal, sys
        from jupyter_artifacts.store import store as module
        original = getattr(module.Store, {point!r})
        def dying(self, *a, **k):
            result = original(self, *a, **k)
            os.kill(os.getpid(), signal.SIGKILL)
            return result
        setattr(module.Store, {point!r}, dying)
        from jupyter_artifacts.cli.main import main
        sys.exit(main({list(args)!r}))
    """)
    proc = subprocess.run([sys.executable, "-c", code], env=host.env, cwd=host.cwd, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stderr)
    return proc


def test_kill_9_in_the_middle_of_a_save_publishes_nothing(team, tmp_path):
    a, b = team.host("a"), team.host("b")
    folder = write_tree(tmp_path / "ds", {f"f{i}": os.urandom(3000) for i in range(200)})
    kill_at(a, "save_files", "dataset", "create", "ds", str(folder))  # blobs stored, no record
    assert team.inspect("artifacts/") == []
    b.run("dataset", "create", "other", str(write_tree(tmp_path / "o", {"x": "1"})))
    assert b.names() == ["other:v1"] and a.names() == ["other:v1"]  # A's open forgot its dead save
    assert a.json("dataset", "create", "ds", str(folder))["version"] == 2  # v1 was claimed by the dead save
    assert "0 damaged" in b.run("verify").stdout


def test_kill_9_in_the_middle_of_a_delete_leaves_it_to_be_done_again(team, tmp_path):
    a, b = team.host("a"), team.host("b")
    a.run("model", "create", "m", str(write_tree(tmp_path / "m", {"w": "1"})))
    kill_at(a, "_refuse_if_held", "model", "delete", "m", "--yes")  # tombstone written, record kept
    assert b.names("model") == ["m:v1"]
    message = b.fail("model", "delete", "m", "--yes")
    assert "being deleted" in message, message
    time.sleep(3.2)  # the tombstone of a delete that died expires with the lease ttl
    b.run("model", "delete", "m", "--yes")
    assert a.names("model") == [] and team.inspect("artifacts/") == []


def test_kill_9_in_the_middle_of_a_gc_holds_nothing_up_for_long(team, tmp_path):
    a, b = team.host("a"), team.host("b")
    a.run("dataset", "create", "gone", str(write_tree(tmp_path / "g", {"x": os.urandom(1000)})))
    a.run("dataset", "delete", "gone", "--yes")
    kill_at(b, "pending_digests", "gc", "--grace", "0")  # the gc lock is held by a dead gc
    assert "already running" in a.fail("gc", "--grace", "0")
    started = time.monotonic()
    a.run("dataset", "create", "kept", str(write_tree(tmp_path / "k", {"x": os.urandom(1000)})))
    assert time.monotonic() - started < 30  # a save waits for a running gc only until its lock expires
    time.sleep(3.2)
    a.run("gc", "--grace", "0")
    a.run("gc", "--grace", "0")
    assert a.names() == ["kept:v1"] and len(team.blobs()) == 1
    assert "0 damaged" in b.run("verify").stdout


@pytest.mark.parametrize("team", ["s3"], indirect=True)
def test_the_s3_service_restarted_mid_save_fails_in_one_line_and_the_retry_succeeds(team, tmp_path, new_moto_server):
    import fsspec

    server = new_moto_server()  # a server of this test's own, to restart
    bucket = f"restart-{uuid.uuid4().hex[:8]}"
    fs = fsspec.filesystem("s3", endpoint_url=server.url, skip_instance_cache=True)
    fs.mkdir(bucket)
    env = {**team.env, "AWS_ENDPOINT_URL": server.url, "AWS_MAX_ATTEMPTS": "2"}
    a = Host("a", tmp_path / "hosts", f"s3://{bucket}/root", env)
    folder = write_tree(tmp_path / "ds", {f"f{i}": os.urandom(20_000) for i in range(1500)})
    saving = a.popen("dataset", "create", "ds", str(folder))
    wait_until(lambda: server.requests() > 200 or saving.poll() is not None, what="uploads under way")
    assert saving.poll() is None, "the save ended before the restart: make it bigger"
    server.stop()
    _out, err = saving.communicate(timeout=300)
    assert saving.returncode != 0
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "could not be reached" in err, err
    server.start()  # moto keeps nothing across a restart: the bucket is made again, empty
    fs = fsspec.filesystem("s3", endpoint_url=server.url, skip_instance_cache=True)
    fs.mkdir(bucket)
    assert a.json("dataset", "create", "ds", str(folder))["file_count"] == 1500
    assert [x["state"] for x in a.json("dataset", "list")] == ["ready"] or \
        sorted(x["state"] for x in a.json("dataset", "list")) == ["failed", "ready"]
    assert "0 damaged" in a.run("verify").stdout
