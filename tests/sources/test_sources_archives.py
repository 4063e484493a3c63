"""Archives of each kind are extracted into the artifact; hostile ones are refused, keeping nothing."""

from __future__ import annotations

import bz2
import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from jupyter_artifacts.errors import ArtifactsError, InvalidInput, LimitExceeded
from jupyter_artifacts.sources import create_from_source, kaggle
from jupyter_artifacts.sources.archives import UnsafeArchive
from jupyter_artifacts.store import Store

FILES = {"README.md": b"# data\n", "train/a.csv": b"1,2\n" * 10, "train/b.csv": b"3,4\n", "run.sh": b"#!/bin/sh\n"}


def write_tar(path: Path, mode: str, files=FILES, extra=()) -> Path:
    with tarfile.open(path, mode) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755 if name.endswith(".sh") else 0o644
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.size else None)
    return path


def write_zip(path: Path, files=FILES, links=()) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = ((0o755 if name.endswith(".sh") else 0o644) | stat.S_IFREG) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
        for name, target in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o777 | stat.S_IFLNK) << 16
            zf.writestr(info, target)
    return path


def tar_link(name: str, target: str, kind=tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def contents(store: Store, artifact) -> dict[str, bytes]:
    manifest = store.catalog.manifest(artifact.id)
    return {p: store.root.read_blob(e["digest"]) for p, e in manifest.items() if "digest" in e}


def staging_is_empty(store: Store) -> bool:
    folder = os.path.join(os.path.dirname(store.catalog.path), "staging")
    return not os.path.isdir(folder) or os.listdir(folder) == []


@pytest.mark.parametrize("name, mode", [
    ("data.tar", "w"), ("data.tar.gz", "w:gz"), ("data.tgz", "w:gz"), ("data.tar.bz2", "w:bz2"), ("data.bz2", "w:bz2"),
])
def test_tar_kinds_are_extracted(store, tmp_path, name, mode):
    archive = write_tar(tmp_path / name, mode, extra=[tar_link("train/latest.csv", "a.csv")])
    artifact = create_from_source(store, "dataset", "data", str(archive))
    assert contents(store, artifact) == FILES
    manifest = store.catalog.manifest(artifact.id)
    assert manifest["train/latest.csv"] == {"link": "a.csv", "mode": 0o777}
    assert manifest["run.sh"]["mode"] & 0o111
    assert artifact.source["archive"] == name[len("data"):]
    assert staging_is_empty(store)


def test_zip_is_extracted_with_inside_links(store, tmp_path):
    archive = write_zip(tmp_path / "data.zip", links=[("train/latest.csv", "a.csv")])
    artifact = create_from_source(store, "dataset", "data", str(archive))
    assert contents(store, artifact) == FILES
    assert store.catalog.manifest(artifact.id)["train/latest.csv"]["link"] == "a.csv"


def test_plain_bz2_file_is_decompressed(store, tmp_path):
    path = tmp_path / "corpus.txt.bz2"
    path.write_bytes(bz2.compress(b"lorem ipsum\n" * 100))
    artifact = create_from_source(store, "dataset", "corpus", str(path))
    assert contents(store, artifact) == {"corpus.txt": b"lorem ipsum\n" * 100}


def test_remote_archive_is_extracted(store, web, tmp_path):
    data = write_tar(tmp_path / "remote.tar.gz", "w:gz").read_bytes()
    url = web.put("archives/remote.tar.gz", data)
    artifact = create_from_source(store, "dataset", "remote", url)
    assert contents(store, artifact) == FILES


def hostile_archives(tmp_path: Path) -> dict[str, Path]:
    made = {}
    made["zip-slip"] = write_zip(tmp_path / "slip.zip", files={"ok.txt": b"ok", "../evil.txt": b"pwned"})
    made["zip-slip-backslash"] = write_zip(tmp_path / "slip2.zip", files={"ok.txt": b"ok", "..\\evil.txt": b"pwned"})
    made["tar-slip"] = write_tar(tmp_path / "slip.tar", "w", files={"ok.txt": b"ok", "a/../../evil.txt": b"pwned"})
    made["zip-absolute"] = write_zip(tmp_path / "abs.zip", files={"/tmp/evil-abs.txt": b"pwned"})
    made["tar-absolute"] = write_tar(tmp_path / "abs.tar.gz", "w:gz", files={"/tmp/evil-abs.txt": b"pwned"})
    made["tar-symlink-escape"] = write_tar(tmp_path / "link.tar", "w", files={},
                                           extra=[tar_link("passwd", "../../../etc/passwd")])
    made["tar-symlink-absolute"] = write_tar(tmp_path / "link2.tar.bz2", "w:bz2", files={},
                                             extra=[tar_link("etc", "/etc")])
    made["tar-symlink-then-write"] = write_tar(tmp_path / "link3.tar", "w", files={"up/evil.txt": b"pwned"},
                                               extra=[tar_link("up", "..")])
    made["tar-hardlink-escape"] = write_tar(tmp_path / "hard.tar", "w", files={},
                                            extra=[tar_link("shadow", "../../etc/shadow", tarfile.LNKTYPE)])
    made["zip-symlink-escape"] = write_zip(tmp_path / "link.zip", files={}, links=[("home", "../../..")])
    device = tarfile.TarInfo("dev/sda")
    device.type = tarfile.CHRTYPE
    device.devmajor, device.devminor = 8, 0
    made["tar-device"] = write_tar(tmp_path / "dev.tar", "w", files={}, extra=[device])
    fifo = tarfile.TarInfo("pipe")
    fifo.type = tarfile.FIFOTYPE
    made["tar-fifo"] = write_tar(tmp_path / "fifo.tgz", "w:gz", files={}, extra=[fifo])
    return made


@pytest.mark.parametrize("which", [
    "zip-slip", "zip-slip-backslash", "tar-slip", "zip-absolute", "tar-absolute", "tar-symlink-escape",
    "tar-symlink-absolute", "tar-symlink-then-write", "tar-hardlink-escape", "zip-symlink-escape", "tar-device",
    "tar-fifo",
])
def test_hostile_local_archive_is_refused_and_nothing_is_kept(store, tmp_path, which):
    archives_dir = tmp_path / "archives"
    archives_dir.mkdir()
    archive = hostile_archives(archives_dir)[which]
    with pytest.raises(InvalidInput) as info:
        create_from_source(store, "dataset", "hostile", str(archive))
    assert "refused" in info.value.message
    assert store.list()[1] == 0  # not even a failed record: refused before a version was reserved
    assert store.usage()["used"] == 0
    assert staging_is_empty(store)
    assert not (tmp_path / "evil.txt").exists() and not (archives_dir / "evil.txt").exists()
    assert not Path("/tmp/evil-abs.txt").exists()


def test_hostile_remote_archive_fails_and_keeps_nothing(store, web, tmp_path):
    archive = write_zip(tmp_path / "slip.zip", files={"ok.txt": b"ok", "../../evil.txt": b"pwned"})
    url = web.put("hostile/slip.zip", archive.read_bytes())
    with pytest.raises(InvalidInput, match="climbs out"):
        create_from_source(store, "dataset", "slip", url)
    failed = store.get("slip:v1")
    assert failed.state == "failed" and "climbs out" in failed.error
    assert store.catalog.manifest(failed.id) == {}
    assert store.usage()["used"] == 0 and staging_is_empty(store)


@pytest.mark.parametrize("kind", ["zip", "tar.gz", "bz2"])
def test_bomb_over_the_limit_is_refused_before_writing(store_root, tmp_path, kind, monkeypatch):
    monkeypatch.setenv("JUPYTER_ARTIFACTS_MAX_ARCHIVE_RATIO", "none")  # the size limit alone
    store = Store(root=str(store_root))
    store.settings.max_size["dataset"] = 1_000_000
    big = b"\0" * 5_000_000
    if kind == "zip":
        archive = write_zip(tmp_path / "bomb.zip", files={"zeros.bin": big})
    elif kind == "tar.gz":
        archive = write_tar(tmp_path / "bomb.tar.gz", "w:gz", files={"zeros.bin": big})
    else:
        archive = tmp_path / "zeros.bin.bz2"
        archive.write_bytes(bz2.compress(big))
    assert archive.stat().st_size < 100_000
    with pytest.raises(LimitExceeded):
        create_from_source(store, "dataset", "bomb", str(archive))
    assert store.list()[1] == 0 and staging_is_empty(store)


def hard_links(name: str, target: str, count: int) -> list[tarfile.TarInfo]:
    return [tar_link(f"{name}-{i}", target, tarfile.LNKTYPE) for i in range(count)]


@pytest.mark.parametrize("kind, member", [("zip", "zeros.bin"), ("tar.gz", "copy-1"), ("bz2", "zeros.bin")])
def test_bomb_past_the_ratio_is_refused_naming_the_entry(store, tmp_path, kind, member, monkeypatch):
    """No size limit is set: 5 MB of zeros (or three 400 KB hard-linked copies of a file) from a few
    KB is refused by the ratio alone, before a byte is written; turning the setting off lets it in."""
    zeros = {"README.md": b"# zeros\n", "zeros.bin": b"\0" * 5_000_000}
    if kind == "zip":
        archive = write_zip(tmp_path / "bomb.zip", files=zeros)
    elif kind == "tar.gz":
        archive = write_tar(tmp_path / "bomb.tar.gz", "w:gz", files={"zeros.bin": b"\0" * 400_000},
                            extra=hard_links("copy", "zeros.bin", 12))
    else:
        archive = tmp_path / "zeros.bin.bz2"
        archive.write_bytes(bz2.compress(zeros["zeros.bin"]))
    assert archive.stat().st_size < 10_000 and store.settings.max_size["dataset"] is None
    with pytest.raises(LimitExceeded) as info:
        create_from_source(store, "dataset", "bomb", str(archive))
    assert f"the entry {member!r} takes the archive past 200 times its own size" in info.value.message
    assert "\n" not in info.value.message and "JUPYTER_ARTIFACTS_MAX_ARCHIVE_RATIO" in info.value.message
    assert store.list()[1] == 0 and staging_is_empty(store)
    store.settings.max_archive_ratio = "none"  # as the environment or the server's setting would make it
    assert create_from_source(store, "dataset", "bomb", str(archive)).size >= 5_000_000
    monkeypatch.setenv("JUPYTER_ARTIFACTS_MAX_ARCHIVE_RATIO", "lots")
    with pytest.raises(InvalidInput, match="Invalid archive ratio 'lots'"):
        create_from_source(Store(root=str(store.settings.root)), "dataset", "bomb2", str(archive))


def test_hard_link_to_a_missing_member_is_invalid_input(store, web, tmp_path):
    """tar would fail while writing (KeyError: 502 for a download, 500 for a local file); it is refused first."""
    archive = write_tar(tmp_path / "links.tar", "w", files={"a.txt": b"a"},
                        extra=[tar_link("b.txt", "missing.txt", tarfile.LNKTYPE)])
    message = "links.tar: the hard link 'b.txt' points at 'missing.txt', which is not a file earlier in the archive"
    with pytest.raises(UnsafeArchive, match=message):
        create_from_source(store, "dataset", "local-links", str(archive))
    assert store.list()[1] == 0
    with pytest.raises(UnsafeArchive, match=message) as info:
        create_from_source(store, "dataset", "remote-links", web.put("links/links.tar", archive.read_bytes()))
    assert info.value.status == 400
    assert store.get("remote-links:v1").state == "failed" and staging_is_empty(store)


def test_zip_whose_header_lies_about_its_size_is_refused(store, tmp_path):
    """A zip entry that inflates past its declared size is stopped while writing."""
    path = write_zip(tmp_path / "liar.zip", files={"a.bin": b"\0" * 100_000})
    raw = bytearray(path.read_bytes())
    # Patch the declared uncompressed size (local header and central directory) down to 10 bytes.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = raw.find(signature)
        raw[at + offset:at + offset + 4] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    with pytest.raises(ArtifactsError):
        create_from_source(store, "dataset", "liar", str(path))
    assert store.list()[1] == 0 and staging_is_empty(store)


def test_damaged_archive_is_a_clear_error(store, tmp_path):
    path = tmp_path / "broken.zip"
    path.write_bytes(b"this is not a zip")
    with pytest.raises(InvalidInput, match="not a valid zip"):
        create_from_source(store, "dataset", "broken", str(path))


def test_folder_named_like_an_archive_is_a_folder(store, tmp_path):
    folder = tmp_path / "weights.tar"
    folder.mkdir()
    (folder / "a.bin").write_bytes(b"a")
    artifact = create_from_source(store, "model", "w", str(folder))
    assert list(store.catalog.manifest(artifact.id)) == ["a.bin"]


def test_invalid_name_is_refused_before_extracting(store, tmp_path):
    archive = write_zip(tmp_path / "data.zip")
    with pytest.raises(InvalidInput, match="Invalid name"):
        create_from_source(store, "dataset", "bad/name", str(archive))
    assert staging_is_empty(store)


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_kaggle_download_is_extracted(tmp_path):
    """A competition download is one zip: its files land at the root. Several archives each get a
    folder of their name; other files are kept as they are."""
    one, several = tmp_path / "one", tmp_path / "several"
    one.mkdir()
    several.mkdir()
    write_zip(one / "titanic.zip")
    kaggle.unpack(str(one), str(tmp_path / "from-one"))
    assert tree(tmp_path / "from-one") == FILES
    write_zip(several / "images.zip", {"cat.png": b"png"})
    write_tar(several / "labels.tar.gz", "w:gz", {"labels.csv": b"cat\n"})
    (several / "sample_submission.csv").write_bytes(b"id,label\n")
    kaggle.unpack(str(several), str(tmp_path / "from-several"))
    assert tree(tmp_path / "from-several") == {"images/cat.png": b"png", "labels/labels.csv": b"cat\n",
                                               "sample_submission.csv": b"id,label\n"}


def test_hostile_or_oversized_kaggle_zip_is_refused(tmp_path):
    src = tmp_path / "download"
    src.mkdir()
    write_zip(src / "evil.zip", {"../escaped.txt": b"x"})
    with pytest.raises(UnsafeArchive):
        kaggle.unpack(str(src), str(tmp_path / "dest"))
    assert not (tmp_path / "escaped.txt").exists()
    write_zip(src / "evil.zip")
    with pytest.raises(LimitExceeded):
        kaggle.unpack(str(src), str(tmp_path / "dest"), limit=10)
