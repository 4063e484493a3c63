"""Records from outside the process (export files, records in a root) are checked as user input.

The hostile export files are made here from a real export: its records are edited the way an
attacker would, and the tar is written again. Nothing outside the store or the destination may be
read, written or removed, and a refused import writes nothing at all.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from jupyter_artifacts.errors import Conflict, InvalidInput
from jupyter_artifacts.store import Store
from jupyter_artifacts.store.digest import hash_bytes, split
from jupyter_artifacts.store.records import tree_digest


def read_export(path: Path) -> tuple[dict, dict[str, dict], dict[str, bytes]]:
    """(index, records by id, every other member's bytes) of an export file."""
    with tarfile.open(path) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    index = json.loads(members.pop("export.json"))
    records = {name[len("records/"):-5]: json.loads(members.pop(name))
               for name in list(members) if name.startswith("records/")}
    return index, records, members


def write_export(path: Path, index: dict, records: dict[str, dict], blobs: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        for artifact_id, record in records.items():
            add(f"records/{artifact_id}.json", json.dumps(record).encode())
        for name, data in blobs.items():
            add(name, data)
        add("export.json", json.dumps(index).encode())
    return path


@pytest.fixture
def exported(tmp_path: Path, make_tree) -> tuple[dict, dict, dict, str]:
    """An honest export of one checkpoint, read back into parts, and its artifact id."""
    source = Store(root=str(tmp_path / "source-store"))
    folder = make_tree({"weights.bin": b"w" * 1000, "sub/config.json": "{}"}, name="honest")
    artifact = source.create("checkpoint", "ck", str(folder), aliases=["best"])
    source.export("ck", str(tmp_path / "honest.tar"))
    index, records, blobs = read_export(tmp_path / "honest.tar")
    return index, records, blobs, artifact.id


def store_files(root: Path) -> dict[str, bytes]:
    """Every file of a store root except the catalog, which changes on open."""
    found = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            if "catalog.sqlite" not in name and name != "blobs.lock":
                found[os.path.relpath(path, root)] = open(path, "rb").read()
    return found


def refresh_digest(record: dict) -> None:
    """What a careful attacker does: make the record's digest, size and count match its manifest."""
    record["digest"] = tree_digest(record["manifest"])
    record["size"] = sum(e.get("size", 0) for e in record["manifest"].values())
    record["file_count"] = len(record["manifest"])


def assert_refused_whole(store: Store, store_root: Path, tar: Path, *words: str) -> str:
    before = store_files(store_root)
    with pytest.raises(InvalidInput) as caught:
        store.import_tar(str(tar))
    message = caught.value.message
    assert str(tar) in message or "export.json" in message, message
    for word in words:
        assert word in message, message
    assert "\n" not in message and len(message) < 600
    assert store_files(store_root) == before  # not a blob, not a record, not a claim
    assert store.list()[1] == 0
    return message


def test_a_digest_that_climbs_out_of_the_store_is_refused(store, store_root, exported, tmp_path):
    index, records, blobs, aid = exported
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "important.txt").write_text("keep me")
    hostile = "blake3:" + "../" * 12 + str(victim / "important.txt").lstrip("/")
    records[aid]["manifest"]["weights.bin"]["digest"] = hostile
    refresh_digest(records[aid])
    tar = write_export(tmp_path / "hostile.tar", index, records, blobs)
    assert_refused_whole(store, store_root, tar, "digest", f"records/{aid}.json")
    assert (victim / "important.txt").read_text() == "keep me"
    with pytest.raises(ValueError):
        split(hostile)  # the last check before a digest becomes a path
    with pytest.raises(ValueError):
        split("blake3:" + "A" * 64)


@pytest.mark.parametrize("path", ["../../planted.txt", "/etc/planted", "a/../../x", "./a", "a//b", "a\0b", ""])
def test_a_manifest_path_outside_the_destination_is_refused(store, store_root, exported, tmp_path, path):
    index, records, blobs, aid = exported
    manifest = records[aid]["manifest"]
    manifest[path] = manifest.pop("weights.bin")
    refresh_digest(records[aid])
    tar = write_export(tmp_path / "hostile.tar", index, records, blobs)
    assert_refused_whole(store, store_root, tar, "manifest")
    assert not (tmp_path / "planted.txt").exists()


def test_an_id_that_names_a_path_is_refused(store, store_root, exported, tmp_path):
    index, records, blobs, aid = exported
    hostile = "../../victim/iddoc"
    records[hostile] = {**records.pop(aid), "id": hostile}
    index["artifacts"] = [hostile]
    index["aliases"] = []
    tar = write_export(tmp_path / "hostile.tar", index, records, blobs)
    assert_refused_whole(store, store_root, tar, "artifacts")
    assert not (tmp_path / "victim").exists()


@pytest.mark.parametrize("field, value, word", [
    ("name", "a/b", "name"), ("name", "two\nlines", "name"), ("kind", "virus", "kind"),
    ("version", 0, "version"), ("version", 10**30, "version"), ("version", "1", "version"),
    ("refs", ["../x"], "refs"), ("metadata", "not an object", "metadata"),
])
def test_fields_are_checked_as_user_input(store, store_root, exported, tmp_path, field, value, word):
    index, records, blobs, aid = exported
    records[aid][field] = value
    tar = write_export(tmp_path / "hostile.tar", index, records, blobs)
    assert_refused_whole(store, store_root, tar, word)


def test_an_artifact_digest_must_be_its_manifests(store, store_root, exported, tmp_path, make_tree):
    """Two records with one digest would share a file list in the catalog."""
    index, records, blobs, aid = exported
    other = store.create("checkpoint", "other", str(make_tree({"x": "other content"}, name="other")))
    records[aid]["digest"] = other.digest
    tar = write_export(tmp_path / "hostile.tar", index, records, blobs)
    with pytest.raises(InvalidInput, match="digest"):
        store.import_tar(str(tar))
    assert [a.name for a in store.list()[0]] == ["other"]


@pytest.mark.parametrize("mode", [0o4755, 0o2755, -1, "0644", True])
def test_setuid_and_strange_modes_are_refused(store, store_root, exported, tmp_path, mode):
    index, records, blobs, aid = exported
    records[aid]["manifest"]["weights.bin"]["mode"] = mode
    if isinstance(mode, int):
        refresh_digest(records[aid])
    tar = write_export(tmp_path / "hostile.tar", index, records, blobs)
    assert_refused_whole(store, store_root, tar, "mode")


@pytest.mark.parametrize("link", ["../outside", "/etc/passwd", "sub/../../x"])
def test_links_must_stay_inside(store, store_root, exported, tmp_path, link):
    index, records, blobs, aid = exported
    records[aid]["manifest"]["evil"] = {"link": link, "mode": 0o777}
    refresh_digest(records[aid])
    tar = write_export(tmp_path / "hostile.tar", index, records, blobs)
    assert_refused_whole(store, store_root, tar, "link")


def test_a_link_chain_that_leads_out_and_a_path_written_through_a_link(store, store_root, exported, tmp_path):
    """`up -> .` is harmless alone; `out -> up/../x` then leads above the top, and `up/y` would be
    written through the link."""
    index, records, blobs, aid = exported
    manifest = records[aid]["manifest"]
    manifest["up"] = {"link": ".", "mode": 0o777}
    manifest["out"] = {"link": "up/../x", "mode": 0o777}
    refresh_digest(records[aid])
    tar = write_export(tmp_path / "hostile.tar", index, records, blobs)
    assert_refused_whole(store, store_root, tar, "out")
    del manifest["out"]
    manifest["up/y"] = manifest.pop("weights.bin")
    refresh_digest(records[aid])
    write_export(tar, index, records, blobs)
    assert_refused_whole(store, store_root, tar, "up/y")


def test_an_alias_or_link_in_the_index_is_checked_before_anything_is_written(store, store_root, exported, tmp_path):
    index, records, blobs, aid = exported
    index["aliases"] = [{"artifact_id": aid, "alias": "../../escape"}]
    tar = write_export(tmp_path / "hostile.tar", index, records, blobs)
    assert_refused_whole(store, store_root, tar, "alias")
    index["aliases"] = [{"artifact_id": aid, "alias": ".."}]
    write_export(tar, index, records, blobs)
    assert_refused_whole(store, store_root, tar, "alias")
    index["aliases"] = []
    index["links"] = [{"src": aid, "dst": "f" * 32}]  # to an artifact neither side has
    write_export(tar, index, records, blobs)
    assert_refused_whole(store, store_root, tar, "links")


def test_a_blob_of_another_size_is_refused_before_any_write(store, store_root, exported, tmp_path):
    index, records, blobs, aid = exported
    name = next(n for n in blobs if blobs[n] == b"w" * 1000)
    blobs[name] = b"w" * 999
    tar = write_export(tmp_path / "hostile.tar", index, records, blobs)
    with pytest.raises(InvalidInput, match="another size"):
        store.import_tar(str(tar))
    assert not list((store_root / "objects").rglob("*")) or all(p.is_dir() for p in (store_root / "objects").rglob("*"))


def test_the_honest_export_still_imports(store, exported, tmp_path):
    index, records, blobs, aid = exported
    tar = write_export(tmp_path / "rewritten.tar", index, records, blobs)
    result = store.import_tar(str(tar))
    assert result["imported"] == ["ck:v1"] and result["aliases"] == 1
    assert store.get("ck:best").id == aid


def test_a_record_planted_in_the_root_is_skipped_by_reindex_and_writes_nothing(store, store_root, make_tree, tmp_path):
    good = store.create("dataset", "ds", str(make_tree({"a.csv": "1,2"})))
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    planted = json.loads((store_root / "artifacts" / f"{good.id}.json").read_text())
    planted.update(id="1" * 32, name="planted", version=1)
    planted["manifest"] = {"a.csv": {"digest": "blake3:" + "../" * 10 + str(victim).lstrip("/"), "size": 3, "mode": 0o644}}
    (store_root / "artifacts" / f"{'1' * 32}.json").write_text(json.dumps(planted))
    (store_root / "artifacts" / "not-json.json").write_text("{")
    (store_root / "aliases" / "dataset" / "ds").mkdir(parents=True)
    (store_root / "aliases" / "dataset" / "ds" / "..json").write_text(json.dumps({"artifact_id": good.id}))
    result = store.reindex()
    assert result["artifacts"] == 1 and result["aliases"] == 0
    assert any("1" * 32 in s and "digest" in s for s in result["skipped"]), result["skipped"]
    assert any("not-json" in s for s in result["skipped"])
    assert any("alias" in s for s in result["skipped"])
    assert [a.name for a in store.list()[0]] == ["ds"]
    store.delete("ds")
    assert victim.read_text() == "keep me"


def test_two_records_of_one_version_do_not_crash_reindex(store, store_root, make_tree):
    first = store.create("model", "m", str(make_tree({"a": "1"})))
    copy = json.loads((store_root / "artifacts" / f"{first.id}.json").read_text())
    copy["id"] = "2" * 32
    (store_root / "artifacts" / f"{'2' * 32}.json").write_text(json.dumps(copy))
    result = store.reindex()
    assert result["artifacts"] == 1
    assert store.get("m:v1").id == first.id  # the claim names it
    assert any("2" * 32 in s and "m:v1" in s for s in result["skipped"])


def test_materialize_refuses_a_manifest_that_leads_outside(store, tmp_path):
    """The last line of defence, for a catalog row that somehow holds such a path."""
    from jupyter_artifacts.store.materialize import materialize
    from jupyter_artifacts.store.validation import leads_outside

    digest, _ = store.root.store_bytes(b"x")
    dest = tmp_path / "dest" / "inner"
    for manifest in ({"../escape": {"digest": digest, "size": 1, "mode": 0o644}},
                     {"l": {"link": "..", "mode": 0o777}, "l/escape": {"digest": digest, "size": 1, "mode": 0o644}}):
        with pytest.raises(InvalidInput, match="outside"):
            materialize(store.root, manifest, str(dest))
        assert not (tmp_path / "dest" / "escape").exists() and not dest.exists()
    assert leads_outside({"a/b": {"digest": digest, "size": 1, "mode": 0o644}, "c": {"link": "a/b", "mode": 0o777}}) is None


def test_version_numbers_are_never_given_twice(store, store_root, make_tree, tmp_path):
    folder = make_tree({"w": "1"})
    store.create("checkpoint", "ck", str(folder))
    v2 = store.create("checkpoint", "ck", str(make_tree({"w": "2"}, name="two")))
    store.delete("ck:v2")
    assert store.create("checkpoint", "ck", str(make_tree({"w": "3"}, name="three"))).version == 3
    store.delete("ck:v3")
    # the counter comes back from the root alone
    os.unlink(store_root / "catalog.sqlite")
    fresh = Store(root=str(store_root))
    assert fresh.reindex()["artifacts"] == 1
    assert fresh.create("checkpoint", "ck", str(make_tree({"w": "4"}, name="four"))).version == 4
    # an export of the deleted v2 cannot bring that number back with other content
    assert v2.version == 2
    other = Store(root=str(tmp_path / "other"))
    for content in ("1", "x"):
        other.create("checkpoint", "ck", str(make_tree({"w": content}, name=f"o{content}")))
    other.export("ck:v2", str(tmp_path / "v2.tar"))
    with pytest.raises(Conflict, match="never given twice"):
        fresh.import_tar(str(tmp_path / "v2.tar"))


def test_a_reference_with_a_huge_version_is_a_clear_error(store, make_tree):
    store.create("model", "m1", str(make_tree({"a": "1"})))
    with pytest.raises(InvalidInput, match="version"):
        store.get("m1:v99999999999999999999999")
    with pytest.raises(InvalidInput, match="version"):
        store.get("m1:v0")


@pytest.mark.parametrize("alias", [".", "..", "best\n"])
def test_dot_aliases_are_refused(store, make_tree, alias):
    store.create("model", "m", str(make_tree({"a": "1"})))
    with pytest.raises(InvalidInput, match="alias"):
        store.set_alias("m", alias)


def test_metadata_depth_and_size_are_limited(store, make_tree):
    folder = make_tree({"a": "1"})
    deep: dict = {}
    node = deep
    for _ in range(900):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(InvalidInput, match="nested"):
        store.create("model", "m", str(folder), metadata=deep)
    with pytest.raises(InvalidInput, match="limit"):
        store.create("model", "m", str(folder), metadata={"blob": "x" * (2 << 20)})
    assert store.list()[1] == 0


def test_errors_quote_at_most_about_a_hundred_characters(store):
    huge = "n/" * 2_500_000
    with pytest.raises(InvalidInput) as caught:
        store.get(huge)
    assert len(caught.value.message) < 400 and "5,000,000 characters" in caught.value.message


def test_hash_bytes_digest_is_valid_for_split():
    assert split(hash_bytes(b"x"))[1] == hash_bytes(b"x")[7:]


def test_a_record_without_a_version_claim_is_reported_and_claimed_by_reindex(store, store_root, make_tree):
    """A root written before version claims (or by hand): reindex says so, claims it, and the number
    is not given again."""
    first = store.create("model", "m", str(make_tree({"a": "1"})))
    (store_root / "versions" / "model" / "m" / "0000000001.json").unlink()
    result = store.reindex()
    assert any("had no version claim" in s and first.id in s for s in result["skipped"]), result["skipped"]
    assert (store_root / "versions" / "model" / "m" / "0000000001.json").exists()
    assert store.reindex()["skipped"] == []
    assert store.create("model", "m", str(make_tree({"a": "2"}, name="two"))).version == 2
