"""Two and three hosts on one root (a bucket on moto's S3 server, or one shared folder): each row of
the shared-root issue's table is a test here, named after what must hold."""

from __future__ import annotations

import json
import os
import time

import pytest

from .conftest import write_tree


def test_1_a_host_sees_what_another_created(team, tmp_path):
    a, b = team.host("a"), team.host("b")
    assert b.names() == []  # B has looked once, before
    a.run("dataset", "create", "m", str(write_tree(tmp_path / "m", {"x.csv": "1,2"})))
    assert b.names() == ["m:v1"]
    assert b.json("dataset", "show", "m")["file_count"] == 1


def test_2_two_hosts_creating_one_name_get_two_versions_and_reindex_works(team, tmp_path):
    a, b = team.host("a"), team.host("b")
    folders = [write_tree(tmp_path / f"f{i}", {"x": str(i) * 1000}) for i in range(6)]
    procs = [(a if i % 2 else b).popen("dataset", "create", "m", str(folder)) for i, folder in enumerate(folders)]
    for proc in procs:
        _out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    expected = [f"m:v{i}" for i in range(1, 7)]
    assert a.names() == expected and b.names() == expected
    claims = team.inspect("versions/dataset/m/")
    assert len(claims) == 6
    for host in (a, b):
        assert "Reindexed 6 artifacts" in host.run("reindex").stdout
    assert a.names() == expected


def test_3_an_alias_moved_by_two_hosts_ends_where_the_root_says_on_both(team, tmp_path):
    a, b = team.host("a"), team.host("b")
    for i in (1, 2):
        a.run("dataset", "create", "m", str(write_tree(tmp_path / f"v{i}", {"x": str(i)})))
    a.run("dataset", "alias", "m:v1", "stable")
    b.run("dataset", "alias", "m:v2", "stable")
    for host in (a, b):
        assert host.json("dataset", "show", "m:stable")["version"] == 2
    # a move against a stale view is a compare-and-swap that fails, not a silent overwrite
    store = a.store()
    doc = "aliases/dataset/m/stable.json"
    seen = store.root.read_tagged(doc)
    b.run("dataset", "alias", "m:v1", "stable")
    assert not store.root.replace_doc(doc, b'{"artifact_id": "x"}', seen.tag)
    assert json.loads(store.root.read_doc(doc))["artifact_id"] == a.json("dataset", "show", "m:v1")["id"]


def test_4_removing_or_deleting_never_removes_another_hosts_newer_alias(team, tmp_path):
    a, b = team.host("a"), team.host("b")
    a.run("dataset", "create", "m", str(write_tree(tmp_path / "v1", {"x": "1"})), "--alias", "stable")
    assert a.json("dataset", "show", "m:stable")["version"] == 1  # A saw stable on v1
    b.run("dataset", "create", "m", str(write_tree(tmp_path / "v2", {"x": "2"})))
    b.run("dataset", "alias", "m:v2", "stable")
    store_a = a.store()
    store_a.settings.sync_interval = 3600  # A's view stays as it was: stable on v1
    assert "moved by another host" in str(pytest.raises(Exception, store_a.remove_alias, "m:v1", "stable").value)
    store_a.delete("m:v1")
    assert b.json("dataset", "show", "m:stable")["version"] == 2
    assert team.inspect("aliases/dataset/m/") == ["aliases/dataset/m/stable.json"]


def test_5_a_delete_never_removes_a_blob_another_hosts_artifact_uses(team, tmp_path):
    a, b = team.host("a"), team.host("b")
    shared = {"weights.bin": os.urandom(50_000)}
    a.run("checkpoint", "create", "ours", str(write_tree(tmp_path / "a", shared)))
    b.run("checkpoint", "create", "theirs", str(write_tree(tmp_path / "b", {**shared, "extra": "e"})))
    a.run("checkpoint", "delete", "ours", "--yes")
    a.run("gc", "--grace", "0")
    a.run("gc", "--grace", "0")
    assert b.run("verify").returncode == 0
    b.run("checkpoint", "download", "theirs", str(tmp_path / "out"))
    assert (tmp_path / "out" / "weights.bin").read_bytes() == shared["weights.bin"]


def test_6_a_folder_saved_again_after_its_blobs_were_collected_is_whole(team, tmp_path):
    a, b = team.host("a"), team.host("b")
    folder = write_tree(tmp_path / "ds", {f"part-{i}.csv": os.urandom(2000) for i in range(20)})
    a.run("dataset", "create", "ds", str(folder))
    b.run("dataset", "delete", "ds:v1", "--yes")
    for _ in range(2):  # unused at two gcs: the blobs go
        b.run("gc", "--grace", "0")
    assert team.blobs() == []
    a.run("dataset", "create", "ds", str(folder))  # A's stat cache and folder fingerprint say "stored"
    assert len(team.blobs()) == 20
    assert "0 damaged" in b.run("verify").stdout


def test_7_gc_on_a_host_that_never_synced_keeps_every_artifacts_blobs(team, tmp_path):
    a, c = team.host("a"), team.host("c")
    a.run("model", "create", "net", str(write_tree(tmp_path / "net", {"w": os.urandom(10_000), "c": "cfg"})))
    blobs = team.blobs()
    for _ in range(2):
        c.run("gc", "--grace", "0")
    assert team.blobs() == blobs
    assert "0 damaged" in a.run("verify").stdout


def test_8_gc_during_a_save_of_2001_files_loses_nothing(team, tmp_path):
    a, b = team.host("a"), team.host("b")
    folder = write_tree(tmp_path / "many", {f"d{i % 20}/f{i}.txt": f"{i}" * 20 for i in range(2001)})
    a.run("dataset", "create", "many", str(folder))
    a.run("dataset", "delete", "many:v1", "--yes")
    b.run("gc", "--grace", "0")  # every blob of many:v1 is now a candidate: the next gc may remove it
    saving = a.popen("dataset", "create", "many", str(folder))
    gcs = [b.run("gc", "--grace", "0", check=False) for _ in range(3)]
    _out, err = saving.communicate(timeout=300)
    assert saving.returncode == 0, err
    for gc in gcs:
        assert gc.returncode == 0 or "already running" in gc.stderr, gc.stderr
    assert a.json("dataset", "show", "many")["file_count"] == 2001
    assert "0 damaged" in b.run("verify").stdout


def test_9_a_delete_during_another_hosts_download_is_refused_naming_it(team, tmp_path):
    a, b = team.host("a"), team.host("b")
    folder = write_tree(tmp_path / "big", {f"f{i}.bin": os.urandom(4000) for i in range(300)})
    a.run("dataset", "create", "big", str(folder))
    attempts = []

    def midway(done_bytes, done_files, total_bytes, total_files):
        if done_files == 100 and not attempts:  # B is half-way: A tries to delete
            attempts.append(a.run("dataset", "delete", "big", "--yes", check=False))

    b.store().download("big", str(tmp_path / "copy"), progress=midway)
    assert attempts and attempts[0].returncode != 0, attempts
    message = attempts[0].stderr.strip()
    assert "in use by a download to" in message and " on " in message and "Traceback" not in message, message
    assert len(list((tmp_path / "copy").iterdir())) == 300
    assert b.names() == ["big:v1"]
    a.run("dataset", "delete", "big", "--yes")  # once B is done
    assert b.names() == []


def test_12_an_import_of_a_version_the_root_gave_to_another_artifact_is_refused(team, tmp_path):
    a, b = team.host("a"), team.host("b")
    a.run("model", "create", "m", str(write_tree(tmp_path / "ours", {"w": "ours"})), "--alias", "best")
    elsewhere = {**b.env, "JUPYTER_ARTIFACTS_ROOT": str(tmp_path / "elsewhere"), "JUPYTER_ARTIFACTS_SHARED": "0"}
    other = type(b)("other", tmp_path / "o", str(tmp_path / "elsewhere"), elsewhere)
    other.run("model", "create", "m", str(write_tree(tmp_path / "theirs", {"w": "theirs"})), "--alias", "best")
    other.run("export", "m", str(tmp_path / "m.tar"))
    message = b.fail("import", str(tmp_path / "m.tar"))
    assert "m:v1" in message, message
    assert a.json("model", "show", "m:best")["metadata"] == {} and len(b.json("model", "list")) == 1
    assert "Reindexed 1 artifacts" in b.run("reindex").stdout


def test_13_a_long_lived_store_sees_peers_records_and_deletes(team, tmp_path):
    a, b = team.host("a"), team.host("b")
    server = a.store()  # a server or a kernel: one store, kept open
    assert server.list()[1] == 0
    b.run("dataset", "create", "new", str(write_tree(tmp_path / "n", {"x": "1"})))
    assert [x.reference for x in server.list()[0]] == ["new:v1"]
    b.run("dataset", "delete", "new", "--yes")
    assert server.list()[1] == 0
    with pytest.raises(Exception, match="No dataset named"):
        server.get("new", "dataset")


def test_14_quota_and_verify_count_every_hosts_artifacts(team, tmp_path):
    a, b = team.host("a"), team.host("b")
    for host in (a, b):
        host.env["JUPYTER_ARTIFACTS_QUOTA"] = "5M"
    a.run("dataset", "create", "one", str(write_tree(tmp_path / "one", {"x": os.urandom(3_100_000)})))
    message = b.fail("dataset", "create", "two", str(write_tree(tmp_path / "two", {"x": os.urandom(3_100_000)})))
    assert "quota" in message, message
    assert b.json("status")["used"] == 3_100_000
    report = json.loads(b.run("verify", "--json").stdout)
    assert report["artifacts"] == 1 and report["ok"]


def test_leases_of_a_host_that_stopped_renewing_them_end(team, tmp_path):
    a, b = team.host("a"), team.host("b")
    a.run("checkpoint", "create", "ck", str(write_tree(tmp_path / "ck", {"w": "1"})))
    holder = b.store()
    holder.acquire_lease("ck", "kernel 123 (notebook.ipynb)")
    message = a.fail("checkpoint", "delete", "ck", "--yes")
    assert "kernel 123 (notebook.ipynb) on" in message, message
    time.sleep(3.5)  # B never renewed it (no keeper, no progress): it expires
    a.run("checkpoint", "delete", "ck", "--yes")
    with pytest.raises(Exception, match="No artifact named 'ck'"):
        holder.acquire_lease("ck", "kernel 123 again")


@pytest.mark.parametrize("team", ["s3"], indirect=True)
def test_a_second_download_on_one_host_comes_from_its_blob_cache_within_its_limit(team, tmp_path):
    a, b = team.host("a"), team.host("b")
    files = {f"f{i}.bin": os.urandom(100_000) for i in range(10)}
    a.run("dataset", "create", "ds", str(write_tree(tmp_path / "ds", files)))
    first = b.json("dataset", "download", "ds", str(tmp_path / "one"))
    second = b.json("dataset", "download", "ds", str(tmp_path / "two"))
    assert first["methods"] == {"download": 10} and second["methods"] == {"cache": 10}
    for name, content in files.items():
        assert (tmp_path / "two" / name).read_bytes() == content
    (tmp_path / "two" / "f0.bin").write_bytes(b"mine")  # the user's copy: the cache is untouched
    assert b.json("dataset", "download", "ds", str(tmp_path / "three"))["methods"] == {"cache": 10}
    assert (tmp_path / "three" / "f0.bin").read_bytes() == files["f0.bin"]
    b.env["JUPYTER_ARTIFACTS_BLOB_CACHE"] = "450K"  # room for four blobs: the oldest go
    b.run("dataset", "download", "ds", str(tmp_path / "four"))
    cached = [p for p in (b.data / "artifacts-catalogs").rglob("objects/*/*")]
    assert 0 < len(cached) <= 4 and sum(p.stat().st_size for p in cached) <= 450_000


def test_a_new_host_starts_from_the_snapshot_gc_wrote_and_the_journal_since(team, tmp_path):
    a = team.host("a")
    for i in range(5):
        a.run("dataset", "create", f"d{i}", str(write_tree(tmp_path / f"d{i}", {"x": str(i)})))
    a.run("dataset", "alias", "d0", "best")
    a.run("gc", "--grace", "0")  # writes snapshots/latest.json.gz
    a.run("dataset", "create", "after", str(write_tree(tmp_path / "after", {"x": "after"})))
    newcomer = team.host("c").store()
    records_read = []
    read_doc = newcomer.root.read_doc

    def counting(relpath):
        if relpath.startswith("artifacts/"):
            records_read.append(relpath)
        return read_doc(relpath)

    newcomer.root.read_doc = counting  # counts what the newcomer reads; the reads are real
    names = sorted(x.reference for x in newcomer.list()[0])
    assert names == ["after:v1"] + [f"d{i}:v1" for i in range(5)]
    assert len(records_read) == 1, records_read  # only the record published after the snapshot
    assert newcomer.get("d0:best").name == "d0"


def test_a_hostile_record_planted_in_the_root_is_skipped_by_every_host(team, tmp_path, caplog):
    from jupyter_artifacts.store.journal import entry_key

    a, b = team.host("a"), team.host("b")
    good = a.json("dataset", "create", "ds", str(write_tree(tmp_path / "ds", {"x.csv": "1,2"})))
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    store = a.store()
    planted = json.loads(store.root.read_doc(f"artifacts/{good['id']}.json"))
    planted.update(id="1" * 32, name="planted")
    planted["manifest"] = {"x.csv": {"digest": "blake3:" + "../" * 12 + str(victim).lstrip("/"), "size": 3, "mode": 0o644}}
    store.root.write_doc(f"artifacts/{'1' * 32}.json", json.dumps(planted).encode())
    store.root.write_doc(entry_key("record", "1" * 32), b"")  # and tell every host to read it
    assert b.names() == ["ds:v1"]
    server = b.store()
    with caplog.at_level("WARNING"):
        assert [x.name for x in server.list()[0]] == ["ds"]
    b.run("dataset", "delete", "ds", "--yes")
    assert victim.read_text() == "keep me"


@pytest.mark.parametrize("team", ["s3"], indirect=True)
def test_a_remote_root_does_not_take_the_servers_folders_for_the_store(team, tmp_path):
    work = tmp_path / "notebooks" / "models"
    write_tree(work, {"w.bin": "1"})
    store = team.host("a").store()
    store.check_not_store(str(work))  # no error: the store is in a bucket
    assert store.create("model", "m", str(work)).version == 1


def test_a_root_whose_service_cannot_be_shared_is_refused_with_the_reason(tmp_path):
    from jupyter_artifacts.errors import InvalidInput
    from jupyter_artifacts.store import Store

    with pytest.raises(InvalidInput, match="cannot be shared by several hosts: memory:// has no exclusive create"):
        Store(root="memory://not-shareable", catalog_path=str(tmp_path / "c.sqlite"), shared=True)
    assert not Store(root="memory://not-shareable", catalog_path=str(tmp_path / "d.sqlite")).shared
