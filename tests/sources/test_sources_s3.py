"""aws and wasabi sources through s3fs against moto's server on 127.0.0.1."""

from __future__ import annotations

import io
import zipfile

import pytest

from jupyter_artifacts.errors import NotFound
from jupyter_artifacts.sources import create_from_source


def names(store, artifact) -> list[str]:
    return sorted(store.catalog.manifest(artifact.id))


def test_aws_file_and_synced_prefix(store, s3, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.url)  # the standard AWS setting; s3fs passes it on
    s3.put("models/bert/config.json", "{}")
    s3.put("models/bert/weights/part-0.bin", b"\0" * 2048)
    s3.put("models/bert/weights/part-1.bin", b"\1" * 2048)
    s3.put("models/other.bin", "not under bert/")
    tree = create_from_source(store, "model", "bert", f"s3://{s3.name}/models/bert/")
    assert tree.source == {"type": "aws", "path": f"s3://{s3.name}/models/bert/"}
    assert names(store, tree) == ["config.json", "weights/part-0.bin", "weights/part-1.bin"]
    assert tree.size == 2 + 4096
    one = create_from_source(store, "model", "config", f"s3://{s3.name}/models/bert/config.json")
    assert names(store, one) == ["config.json"]


def test_aws_prefix_without_slash_is_fetched_as_a_folder(store, s3, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.url)
    s3.put("data/a.txt", "a")
    s3.put("data/b/c.txt", "c")
    artifact = create_from_source(store, "dataset", "data", f"s3://{s3.name}/data")
    assert names(store, artifact) == ["a.txt", "b/c.txt"]


def test_wasabi_endpoint(store, s3):
    """No AWS endpoint setting: only --endpoint leads s3fs to the server."""
    s3.put("ckpt/step-100/model.pt", b"weights")
    artifact = create_from_source(store, "checkpoint", "step-100", f"s3://{s3.name}/ckpt/step-100/",
                                  endpoint=s3.url)
    assert artifact.source["type"] == "wasabi" and artifact.source["endpoint"] == s3.url
    assert names(store, artifact) == ["model.pt"]


def test_s3_archive_is_extracted(store, s3):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("images/1.png", b"png1")
        zf.writestr("labels.csv", "1,cat\n")
    url = s3.put("archives/pets.zip", buffer.getvalue())
    artifact = create_from_source(store, "dataset", "pets", url, source_type="wasabi", endpoint=s3.url)
    assert names(store, artifact) == ["images/1.png", "labels.csv"]
    assert artifact.source["archive"] == ".zip"


def test_missing_key_fails_and_retry_works(store, s3):
    url = f"s3://{s3.name}/later/file.bin"
    with pytest.raises(NotFound):
        create_from_source(store, "dataset", "later", url, endpoint=s3.url)
    assert store.get("later:v1").state == "failed"
    s3.put("later/file.bin", b"now")
    assert create_from_source(store, "dataset", "later", url, endpoint=s3.url).version == 2
