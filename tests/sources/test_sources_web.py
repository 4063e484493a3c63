"""web sources (http, ftp) against servers on 127.0.0.1: files, synced folders, retries, failures."""

from __future__ import annotations

import threading
import time

import pytest

from jupyter_artifacts.errors import ArtifactsError, LimitExceeded, NotFound
from jupyter_artifacts.sources import create_from_source
from jupyter_artifacts.store import Store


def read(store, artifact, path: str) -> bytes:
    manifest = store.catalog.manifest(artifact.id)
    return store.root.read_blob(manifest[path]["digest"])


def test_http_file(store, web):
    url = web.put("files/weights.bin", b"\x01" * 5000)
    calls = []
    artifact = create_from_source(store, "model", "weights", url, progress=lambda *a: calls.append(a))
    assert calls[-1] == (5000, 1, 5000, 1)
    assert artifact.state == "ready"
    assert artifact.source == {"type": "web", "path": url}
    assert store.catalog.manifest(artifact.id).keys() == {"weights.bin"}
    assert read(store, artifact, "weights.bin") == b"\x01" * 5000
    again = store.get("weights")
    assert again.state == "ready" and again.progress is None


def test_http_folder_is_synced(store, web):
    web.put("tree/a.txt", "a")
    web.put("tree/sub/b.txt", "bb")
    web.put("tree/sub/deeper/c.txt", "ccc")
    artifact = create_from_source(store, "dataset", "tree", f"{web.url}/tree/")
    assert sorted(store.catalog.manifest(artifact.id)) == ["a.txt", "sub/b.txt", "sub/deeper/c.txt"]
    assert artifact.size == 6 and artifact.file_count == 3


def test_interrupted_download_is_retried(store, web):
    data = bytes(range(256)) * 400
    url = web.put("flaky/big.bin", data)
    web.fault("/flaky/big.bin", "truncate", 503)
    artifact = create_from_source(store, "checkpoint", "flaky", url)
    assert read(store, artifact, "big.bin") == data
    assert web.requests.count("/flaky/big.bin") == 3


def test_failure_marks_failed_with_reason_and_retry_works(store, web):
    store.settings.fetch_attempts = 2
    url = f"{web.url}/later/data.csv"
    with pytest.raises(NotFound) as info:
        create_from_source(store, "dataset", "later", url)
    assert url in info.value.message
    failed = store.get("later:v1")
    assert failed.state == "failed" and url in failed.error
    web.put("later/data.csv", "x,y\n1,2\n")
    artifact = create_from_source(store, "dataset", "later", url)
    assert artifact.version == 2 and artifact.state == "ready"
    assert store.get("later").id == artifact.id


def test_persistent_server_errors_give_up_after_the_attempts(store_root, web, monkeypatch):
    monkeypatch.setenv("JUPYTER_ARTIFACTS_FETCH_ATTEMPTS", "3")
    store = Store(root=str(store_root))  # its settings read the environment when they are made
    assert store.settings.fetch_attempts == 3
    url = web.put("down/x.bin", b"x")
    web.fault("/down/x.bin", 500, 502, 503, 500)
    with pytest.raises(ArtifactsError) as info:
        create_from_source(store, "dataset", "down", url)
    assert "after 3 attempts" in info.value.message
    assert web.requests.count("/down/x.bin") == 3
    assert store.get("down:v1").state == "failed"


def test_progress_is_visible_while_downloading(store, web):
    """A slow server: `show` (the catalog) reports bytes and files while the artifact downloads."""
    for i in range(6):
        web.put(f"slow/part{i}.bin", b"z" * 1000)
    seen = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            artifacts, _ = store.list(kind="dataset", name="slow")
            for a in artifacts:
                if a.state == "downloading" and a.progress:
                    seen.append(a.progress)
            time.sleep(0.05)

    restore = web.slow(0.15)
    watcher = threading.Thread(target=watch)
    watcher.start()
    calls = []
    try:
        artifact = create_from_source(store, "dataset", "slow", f"{web.url}/slow/",
                                      progress=lambda *a: calls.append(a))
    finally:
        restore()
        done.set()
        watcher.join()
    assert artifact.state == "ready" and artifact.progress is None
    assert seen, "no progress was visible while downloading"
    assert all({"bytes", "files", "phase"} <= set(p) for p in seen)
    assert any(p["phase"] == "downloading" for p in seen)
    assert calls and calls[-1][0] == 6000
    assert store.get("slow").progress is None


def test_limit_stops_a_download_of_unknown_size(store_root, web):
    from jupyter_artifacts.store import Store

    store = Store(root=str(store_root))
    store.settings.max_size["model"] = 1000
    url = web.put("huge/model.bin", b"m" * 5000)
    with pytest.raises(LimitExceeded):
        create_from_source(store, "model", "huge", url)
    assert store.get("huge:v1").state == "failed"
    assert store.usage()["used"] == 0


def test_ftp_file_and_folder(store, ftp):
    url = ftp.put("pub/data/a.csv", "a,b\n")
    ftp.put("pub/data/nested/b.csv", "c,d\n")
    one = create_from_source(store, "dataset", "one", url)
    assert list(store.catalog.manifest(one.id)) == ["a.csv"]
    tree = create_from_source(store, "dataset", "tree", f"{ftp.url}/pub/data/")
    assert sorted(store.catalog.manifest(tree.id)) == ["a.csv", "nested/b.csv"]


def test_ftp_with_credentials_keeps_no_password(store, ftp):
    ftp.put("private/x.txt", "secret data")
    url = ftp.url.replace("ftp://", "ftp://alice:s3cret@") + "/private/x.txt"
    artifact = create_from_source(store, "dataset", "private", url)
    assert "s3cret" not in str(store.get("private").source)
    assert artifact.source["path"].startswith("ftp://alice:***@")


def test_ftp_missing_file(store, ftp):
    with pytest.raises(NotFound):
        create_from_source(store, "dataset", "missing", f"{ftp.url}/nope/x.bin")
    assert store.get("missing:v1").state == "failed"
