"""The store through its Python API, on real files in temporary folders."""

import json
import os
import stat
import subprocess
import sys
import time

import pytest

from jupyter_artifacts.errors import Conflict, InUse, InvalidInput, LimitExceeded, NotFound, QuotaExceeded
from jupyter_artifacts.store import Store
from jupyter_artifacts.store.digest import hash_file
from jupyter_artifacts.store.records import tree_digest
from jupyter_artifacts.store.snapshot import LastSave


def test_versions_are_assigned_per_kind_and_name(store, make_tree):
    folder = make_tree({"w.bin": b"1"})
    assert store.create("checkpoint", "ck", str(folder)).version == 1
    assert store.create("checkpoint", "ck", str(folder)).version == 2
    assert store.create("model", "ck", str(folder)).version == 1
    assert store.get("ck", "checkpoint").version == 2
    assert store.get("ck:v1", "checkpoint").version == 1


def test_same_content_same_digest_whatever_the_folder_name(store, make_tree):
    a = make_tree({"x/model.yml": "a: 1", "w.bin": b"\0" * 100}, name="first")
    b = make_tree({"x/model.yml": "a: 1", "w.bin": b"\0" * 100}, name="second")
    c = make_tree({"x/model.yml": "a: 2", "w.bin": b"\0" * 100}, name="third")
    da = store.create("model", "a", str(a)).digest
    assert da == store.create("model", "b", str(b)).digest
    assert da != store.create("model", "c", str(c)).digest
    assert da.startswith("blake3:")


def test_record_and_manifest(store, make_tree):
    folder = make_tree({"a.txt": "hello", "sub/run.sh": "#!/bin/sh\n"})
    os.chmod(folder / "sub/run.sh", 0o755)
    artifact = store.create("model", "m", str(folder), metadata={"lr": 0.1}, aliases=["best"])
    shown = store.get("m:best", manifest=True).to_dict()
    for key in ("id", "kind", "name", "version", "aliases", "state", "digest", "size", "file_count",
                "created_at", "created_by", "source", "refs", "metadata", "manifest"):
        assert key in shown
    assert shown["manifest"]["a.txt"] == {"digest": hash_file(folder / "a.txt"), "size": 5, "mode": 0o644}
    assert shown["manifest"]["sub/run.sh"]["mode"] == 0o755
    assert shown["aliases"] == ["best"] and shown["metadata"] == {"lr": 0.1}
    record = json.loads((store.root.path and open(os.path.join(store.root.path, "artifacts", artifact.id + ".json")).read()))
    assert record["manifest"] == shown["manifest"] and record["version"] == 1


def test_blobs_are_stored_once_and_read_only(store, make_tree, store_root):
    payload = os.urandom(3 << 20)
    folder = make_tree({"a.bin": payload, "copy/a.bin": payload, "small": b"s"})
    store.create("checkpoint", "ck", str(folder))
    blobs = [os.path.join(d, f) for d, _, fs in os.walk(store_root / "objects") for f in fs]
    assert len(blobs) == 2
    assert all(stat.S_IMODE(os.stat(b).st_mode) == 0o444 for b in blobs)


def test_unchanged_folder_is_not_read_again(store, make_tree, monkeypatch):
    folder = make_tree({f"f{i}.txt": f"content {i}" for i in range(50)})
    store.create("checkpoint", "ck", str(folder))
    reads = []
    original = store.root.store_file
    monkeypatch.setattr(store.root, "store_file", lambda p: reads.append(p) or original(p))
    second = store.create("checkpoint", "ck", str(folder))
    assert reads == [] and second.file_count == 50
    (folder / "f3.txt").write_text("changed")
    third = store.create("checkpoint", "ck", str(folder))
    assert [os.path.basename(p) for p in reads] == ["f3.txt"]
    assert store.diff("ck:v2", "ck:v3")["changed"] == ["f3.txt"]
    assert third.digest != second.digest


def test_an_unchanged_folder_publishes_its_last_tree_without_matching_each_file(store, make_tree, store_root,
                                                                               monkeypatch):
    folder = make_tree({f"d{i % 3}/f{i}.txt": f"content {i}" for i in range(30)} | {"run.sh": "#!/bin/sh\n"})
    os.chmod(folder / "run.sh", 0o755)
    os.symlink("d0/f0.txt", folder / "link")
    first = store.create("checkpoint", "ck", str(folder))
    lookups = []
    original = LastSave.matcher
    monkeypatch.setattr(LastSave, "matcher", lambda self: lookups.append(self.artifact_id) or original(self))
    second = store.create("checkpoint", "ck", str(folder))
    assert lookups == []  # the whole folder matched its last save
    assert (second.digest, second.size, second.file_count) == (first.digest, first.size, first.file_count)
    records = [json.loads((store_root / "artifacts" / f"{a.id}.json").read_text()) for a in (first, second)]
    assert records[1]["manifest"] == records[0]["manifest"] == store.catalog.manifest(second.id)
    assert records[1]["version"] == 2 and records[1]["id"] == second.id
    # A file touched (same bytes, new mtime) is matched against the last save, entry by entry.
    os.utime(folder / "d1/f1.txt", ns=(1, 1))
    third = store.create("checkpoint", "ck", str(folder))
    assert lookups == [second.id] and third.digest == first.digest
    # Once no artifact holds the tree its blobs may be gone: the next save stores them again.
    for version in (1, 2, 3):
        store.delete(f"ck:v{version}")
    assert list(store.root.iter_blobs()) == []
    fourth = store.create("checkpoint", "ck", str(folder))
    assert len(lookups) == 1 and fourth.digest == first.digest
    assert store.verify()["ok"]


def test_a_known_tree_whose_last_artifact_is_deleted_meanwhile_is_indexed_again(store, make_tree, store_root):
    from jupyter_artifacts.store.saves import UnchangedSave, plan
    from jupyter_artifacts.store.snapshot import walk

    folder = make_tree({"a.bin": os.urandom(5000), "sub/b.txt": "b"})
    store.create("checkpoint", "ck", str(folder))
    save = plan(store, str(folder), walk(str(folder)))
    assert isinstance(save, UnchangedSave)
    with store.blob_lock(exclusive=False):  # as a save holds it from its lookup to its publish
        other = Store(root=str(store_root))
        assert other.delete("ck:v1")["freed_bytes"] == 0  # blobs left for gc while a save runs
        assert not isinstance(plan(store, str(folder), walk(str(folder))), UnchangedSave)
        artifact = store.begin("checkpoint", "ck")
        store.publish(artifact, save.known)
    assert store.gc()["removed_blobs"] == 0
    assert store.verify()["ok"] and set(store.catalog.manifest(artifact.id)) == {"a.bin", "sub/b.txt"}


def test_a_save_in_progress_shows_its_progress_to_other_readers(store, make_tree, store_root):
    folder = make_tree({f"f{i:02d}.bin": os.urandom(1000) for i in range(40)})
    other = Store(root=str(store_root))  # another reader, as `show` or the server would be
    seen = []

    def progress(done_bytes, done_files, total_bytes, total_files):
        time.sleep(0.02)  # a slow disk: the save lasts long enough for several reports
        [pending] = other.list("checkpoint", state="pending")[0]
        if pending.progress:
            seen.append(pending.progress)

    store.create("checkpoint", "ck", str(folder), progress=progress)
    assert len(seen) >= 2 and {p["phase"] for p in seen} == {"saving"}
    assert all(p["total_files"] == 40 and p["total_bytes"] == 40_000 for p in seen)
    assert seen[-1]["files"] > seen[0]["files"]
    assert store.get("ck:v1").progress is None  # gone once it is ready


def test_links_inside_are_kept_and_links_outside_refused(store, make_tree, tmp_path):
    folder = make_tree({"real.txt": "r"})
    os.symlink("real.txt", folder / "inside")
    artifact = store.create("model", "m", str(folder))
    assert store.files("m")["inside"] == {"link": "real.txt", "mode": 0o777}
    out = tmp_path / "out"
    store.download("m", str(out))
    assert os.readlink(out / "inside") == "real.txt"
    (tmp_path / "secret").write_text("s")
    os.symlink(str(tmp_path / "secret"), folder / "outside")
    with pytest.raises(InvalidInput, match="points outside"):
        store.create("model", "m", str(folder))
    os.unlink(folder / "outside")
    os.symlink("../secret", folder / "relative-outside")
    with pytest.raises(InvalidInput, match="points outside"):
        store.create("model", "m", str(folder))
    assert store.list(name="m")[1] == 1 and artifact.version == 1


def test_materialized_files_can_change_without_touching_the_store(store, make_tree, tmp_path):
    folder = make_tree({"w.bin": b"weights" * 1000, "big.bin": os.urandom(2 << 20)})
    store.create("checkpoint", "ck", str(folder))
    out = tmp_path / "attached"
    result = store.download("ck", str(out))
    assert sum(result["methods"].values()) == 2 and set(result["methods"]) <= {"copy", "reflink"}
    (out / "w.bin").write_bytes(b"trained further")
    with open(out / "big.bin", "r+b") as handle:
        handle.write(b"XXXX")
    assert store.verify("ck")["ok"]
    again = tmp_path / "again"
    store.download("ck", str(again))
    assert (again / "w.bin").read_bytes() == b"weights" * 1000


def test_hardlink_mode_is_an_explicit_opt_in(store, make_tree, tmp_path):
    folder = make_tree({"w.bin": b"w"})
    store.create("checkpoint", "ck", str(folder))
    result = store.download("ck", str(tmp_path / "linked"), method="hardlink")
    assert result["methods"] == {"hardlink": 1}
    assert os.stat(tmp_path / "linked" / "w.bin").st_nlink == 2


def test_download_refuses_a_non_empty_destination(store, make_tree, tmp_path):
    store.create("checkpoint", "ck", str(make_tree({"w": "1"})))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    with pytest.raises(Conflict, match="not an empty folder"):
        store.download("ck", str(tmp_path / "busy"))
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"


def test_verify_names_the_damaged_artifact_and_path(store, make_tree):
    shared = os.urandom(5000)
    store.create("model", "a", str(make_tree({"shared.bin": shared, "other": "x"}, name="a")))
    store.create("checkpoint", "b", str(make_tree({"deep/copy.bin": shared}, name="b")))
    blob = store.root.blob_path(hash_file(make_tree({}, name="a") / "shared.bin"))
    os.chmod(blob, 0o644)
    with open(blob, "r+b") as handle:
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 0xFF]))
    report = store.verify()
    assert not report["ok"]
    assert sorted((d["reference"], d["path"], d["problem"]) for d in report["damaged"]) == [
        ("a:v1", "shared.bin", "content changed"), ("b:v1", "deep/copy.bin", "content changed")]
    assert store.verify("a")["damaged"][0]["path"] == "shared.bin"


def test_aliases_move_and_resolve(store, make_tree):
    folder = make_tree({"w": "1"})
    store.create("checkpoint", "ck", str(folder), aliases=["prod"])
    store.create("checkpoint", "ck", str(folder))
    assert store.get("ck:prod").version == 1
    store.set_alias("ck:v2", "prod")
    assert store.get("ck:prod").version == 2 and store.get("ck:v1").aliases == []
    with pytest.raises(NotFound, match="no alias 'nope'"):
        store.get("ck:nope")
    with pytest.raises(NotFound, match="no version 9"):
        store.get("ck:v9")


def test_refs_lineage_and_find(store, make_tree):
    data = store.create("dataset", "digits", str(make_tree({"d.csv": "1,2"}, name="data")))
    model_dir = make_tree({"model.yml": "layers: 3", "w.bin": b"w"}, name="model")
    model = store.create("model", "clf", str(model_dir), refs=["digits"])
    other = store.create("model", "clf2", str(make_tree({"cfg/model.yml": "layers: 3"}, name="m2")))
    assert model.refs == [data.id]
    lineage = store.lineage("clf")
    assert [n["reference"] for n in lineage["upstream"]] == ["digits:v1"]
    assert [n["reference"] for n in store.lineage("digits", "dataset")["downstream"]] == ["clf:v1"]
    store.link("clf2", "digits")
    assert {n["reference"] for n in store.lineage("digits")["downstream"]} == {"clf:v1", "clf2:v1"}
    found = store.find(str(model_dir / "model.yml"))
    assert {(a["reference"], tuple(a["paths"])) for a in found["artifacts"]} == {
        ("clf:v1", ("model.yml",)), ("clf2:v1", ("cfg/model.yml",))}
    assert other.id in {a["id"] for a in store.find(found["digest"])["artifacts"]}


def test_ambiguous_and_wrong_kind_references(store, make_tree):
    folder = make_tree({"w": "1"})
    store.create("model", "same", str(folder))
    store.create("checkpoint", "same", str(folder))
    with pytest.raises(Conflict, match="more than one"):
        store.get("same")
    with pytest.raises(NotFound, match="but there is a model"):
        store.get("only", "dataset") if store.create("model", "only", str(folder)) else None


def test_unknown_names_say_how_to_list_the_kind(store, make_tree):
    with pytest.raises(NotFound, match=r"`jupyter artifacts dataset list`"):
        store.get("nope", "dataset")
    with pytest.raises(NotFound, match=r"`jupyter artifacts model list` \(or checkpoint, dataset\)"):
        store.create("model", "m", str(make_tree({"w": "1"})), refs=["nope"])


def test_a_published_artifact_is_never_published_again(store, make_tree, store_root):
    from jupyter_artifacts.store.manifests import Tree

    artifact = store.create("checkpoint", "ck", str(make_tree({"w.bin": b"weights"})))
    record = (store_root / "artifacts" / f"{artifact.id}.json").read_bytes()
    with pytest.raises(Conflict, match="never changes"):
        store.publish(artifact, Tree.of({"evil.bin": {"digest": artifact.digest, "size": 1, "mode": 0o644}}))
    assert (store_root / "artifacts" / f"{artifact.id}.json").read_bytes() == record
    assert set(store.catalog.manifest(artifact.id)) == {"w.bin"} and store.verify()["ok"]


def test_limits_refuse_before_writing(store_root, make_tree):
    store = Store(root=str(store_root), max_size={"model": 1000, "checkpoint": None, "dataset": None})
    folder = make_tree({"big.bin": b"x" * 2000})
    with pytest.raises(LimitExceeded, match="over the 1 KB limit"):
        store.create("model", "m", str(folder))
    assert store.list()[1] == 0 and list(store.root.iter_blobs()) == []
    assert store.create("checkpoint", "c", str(folder)).size == 2000


def test_quota_refuses_before_writing(store_root, make_tree):
    store = Store(root=str(store_root), quota=3000)
    store.create("checkpoint", "a", str(make_tree({"a": b"a" * 2000}, name="a")))
    with pytest.raises(QuotaExceeded, match="quota") as info:
        store.create("checkpoint", "b", str(make_tree({"b": b"b" * 2000}, name="b")))
    assert info.value.details["quota"] == 3000 and info.value.details["used"] == 2000
    assert store.list()[1] == 1 and len(list(store.root.iter_blobs())) == 1


def test_delete_is_refused_while_a_live_process_holds_a_lease(store, make_tree, store_root):
    store.create("checkpoint", "ck", str(make_tree({"w": b"w" * 10})))
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import os, sys, time\n"
         "from jupyter_artifacts.store import Store\n"
         f"Store(root={str(store_root)!r}).acquire_lease('ck', 'job train-1', pid=os.getpid())\n"
         "print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(InUse, match="in use by job train-1") as info:
            store.delete("ck")
        assert info.value.details["holders"] == ["job train-1"]
        assert store.get("ck").state == "ready"
    finally:
        holder.kill()
        holder.wait()
    assert store.delete("ck")["reference"] == "ck:v1"  # the lease died with its process


def test_delete_frees_only_unshared_blobs_and_twice_is_harmless(store, make_tree):
    store.create("checkpoint", "a", str(make_tree({"shared": b"s" * 100, "own": b"a" * 50}, name="a")))
    store.create("checkpoint", "b", str(make_tree({"shared": b"s" * 100}, name="b")))
    assert store.delete("a")["freed_bytes"] == 50
    assert store.verify("b")["ok"]
    with pytest.raises(NotFound):
        store.delete("a")
    assert store.gc()["removed_blobs"] == 0
    assert store.gc() == {"removed_blobs": 0, "freed_bytes": 0, "removed_tmp": 0}


def test_export_and_import_keep_ids_versions_aliases_and_lineage(store, make_tree, tmp_path):
    data = store.create("dataset", "d", str(make_tree({"d.csv": "1"}, name="data")))
    store.create("model", "m", str(make_tree({"w": "1"}, name="m1")))
    model = store.create("model", "m", str(make_tree({"w": "2"}, name="m2")), refs=["d"], aliases=["best"])
    tar = tmp_path / "m.tar"
    store.export("m:best", str(tar), refs=True)
    other = Store(root=str(tmp_path / "other"))
    result = other.import_tar(str(tar))
    assert sorted(result["imported"]) == ["d:v1", "m:v2"]
    imported = other.get("m:best")
    assert (imported.id, imported.version, imported.digest, imported.refs) == (model.id, 2, model.digest, [data.id])
    assert other.verify()["ok"]
    assert other.import_tar(str(tar))["skipped"] == 2


def test_import_refuses_a_damaged_file(store, make_tree, tmp_path):
    store.create("model", "m", str(make_tree({"w": b"MARKER-CONTENT" + os.urandom(200_000)})))
    tar = tmp_path / "m.tar"
    store.export("m", str(tar))
    data = tar.read_bytes()
    (tmp_path / "flipped.tar").write_bytes(data.replace(b"MARKER-CONTENT", b"MARKER-CONTENX"))
    (tmp_path / "truncated.tar").write_bytes(data[: len(data) // 3])
    other = Store(root=str(tmp_path / "other"))
    with pytest.raises(InvalidInput, match="does not match its digest"):
        other.import_tar(str(tmp_path / "flipped.tar"))
    with pytest.raises(InvalidInput, match="export"):
        other.import_tar(str(tmp_path / "truncated.tar"))
    assert other.list()[1] == 0


def test_reindex_rebuilds_the_catalog_from_the_root(store, make_tree, store_root):
    store.create("model", "m", str(make_tree({"w": "1"}, name="a")), aliases=["best"])
    second = store.create("model", "m", str(make_tree({"w": "2"}, name="b")))
    store.link("m:v2", "m:v1")
    store.catalog.close()
    os.unlink(store_root / "catalog.sqlite")
    for suffix in ("-wal", "-shm"):
        if os.path.exists(f"{store_root}/catalog.sqlite{suffix}"):
            os.unlink(f"{store_root}/catalog.sqlite{suffix}")
    fresh = Store(root=str(store_root))
    assert fresh.list()[1] == 0
    assert fresh.reindex() == {"artifacts": 2, "aliases": 1, "skipped": []}
    assert fresh.get("m:best").version == 1 and fresh.get("m").id == second.id
    assert fresh.get("m:v2").refs == [fresh.get("m:v1").id]
    assert fresh.verify()["ok"]


def test_a_crash_after_the_record_is_written_is_completed_on_next_open(store, make_tree, store_root):
    artifact = store.begin("checkpoint", "ck")
    store.root.write_doc(f"artifacts/{artifact.id}.json",
                         json.dumps({**artifact.to_record(), "manifest": {}, "digest": tree_digest({})}).encode())
    with store.catalog.transaction() as db:
        db.execute("UPDATE artifacts SET owner = ? WHERE id = ?", (f"{os.uname().nodename}:999999:1", artifact.id))
    reopened = Store(root=str(store_root))
    assert reopened.get(artifact.id).state == "ready"


def test_fsspec_root(tmp_path, make_tree):
    store = Store(root="memory://artifacts-test", catalog_path=str(tmp_path / "cat" / "catalog.sqlite"))
    folder = make_tree({"a.txt": "hello", "sub/b.bin": os.urandom(5000)})
    store.create("model", "m", str(folder))
    out = tmp_path / "out"
    result = store.download("m", str(out))
    assert result["methods"] == {"download": 2}
    assert (out / "a.txt").read_text() == "hello"
    assert store.verify()["ok"]
    store.catalog.close()
    os.unlink(tmp_path / "cat" / "catalog.sqlite")
    again = Store(root="memory://artifacts-test", catalog_path=str(tmp_path / "cat" / "catalog.sqlite"))
    assert again.reindex()["artifacts"] == 1


def test_a_file_that_keeps_changing_is_refused(store, make_tree, monkeypatch):
    from jupyter_artifacts.store import roots

    folder = make_tree({"w.bin": b"w" * 10})

    def always_changing(src):
        raise roots.SourceChanged(src)

    monkeypatch.setattr(store.root, "store_file", always_changing)
    with pytest.raises(InvalidInput, match="kept changing"):
        store.create("checkpoint", "ck", str(folder))
    assert store.list()[1] == 0


def test_special_files_are_refused(store, make_tree):
    folder = make_tree({"w": "1"})
    os.mkfifo(folder / "pipe")
    with pytest.raises(InvalidInput, match="not a regular file"):
        store.create("checkpoint", "ck", str(folder))
    time.sleep(0)


def test_a_delete_interrupted_by_a_crash_is_finished_on_next_open(store, make_tree, store_root):
    store.create("checkpoint", "keep", str(make_tree({"shared": b"s" * 10}, name="k")))
    doomed = store.create("checkpoint", "doomed", str(make_tree({"shared": b"s" * 10, "own": b"o" * 10}, name="d")))
    dead_owner = f"{os.uname().nodename}:999999:1"
    with store.catalog.transaction() as db:  # what a delete killed after its first step leaves behind
        db.execute("UPDATE artifacts SET state = 'deleting', owner = ? WHERE id = ?", (dead_owner, doomed.id))
    reopened = Store(root=str(store_root))
    with pytest.raises(NotFound):
        reopened.get("doomed")
    assert not os.path.exists(store_root / "artifacts" / f"{doomed.id}.json")
    assert reopened.verify()["ok"] and len(list(reopened.root.iter_blobs())) == 1
