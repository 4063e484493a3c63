"""hf, gcp and azure sources through the whole fetch pipeline, and kaggle without credentials.

Their transports cannot be reached from here, so each protocol is served by a recording file
system registered with fsspec: it checks the arguments the real one would get and serves files
from a local folder.
"""

from __future__ import annotations

import pytest

from jupyter_artifacts.errors import Forbidden, InvalidInput, NotFound
from jupyter_artifacts.sources import create_from_source
from jupyter_artifacts.sources.filesystems import missing_package
from jupyter_artifacts.sources.spec import parse_source


def test_hf_repository_with_branch(store, recording):
    recording.put("EleutherAI/gpt-j-6b@float16/config.json", "{}")
    recording.put("EleutherAI/gpt-j-6b@float16/weights/model.safetensors", "w" * 100)
    artifact = create_from_source(store, "checkpoint", "gptj", "EleutherAI/gpt-j-6b", branch="float16")
    assert sorted(store.catalog.manifest(artifact.id)) == ["config.json", "weights/model.safetensors"]
    assert artifact.source == {"type": "hf", "path": "EleutherAI/gpt-j-6b", "branch": "float16",
                               "repo": "EleutherAI/gpt-j-6b", "repo_type": "model"}
    assert ("init", "hf", {}) in recording.calls
    assert ("find", "EleutherAI/gpt-j-6b@float16") in recording.calls


def test_gcs_folder_and_file(store, recording):
    recording.put("my-bucket/data/train/a.csv", "a")
    recording.put("my-bucket/data/train/b/c.csv", "c")
    tree = create_from_source(store, "dataset", "train", "gs://my-bucket/data/train/")
    assert sorted(store.catalog.manifest(tree.id)) == ["a.csv", "b/c.csv"]
    one = create_from_source(store, "dataset", "one", "gs://my-bucket/data/train/a.csv")
    assert list(store.catalog.manifest(one.id)) == ["a.csv"]
    assert ("info", "my-bucket/data/train/a.csv") in recording.calls
    assert all(c[2] == {} for c in recording.calls if c[0] == "init")


def test_azure_https_url(store, recording):
    recording.put("container/models/m.bin", "m")
    artifact = create_from_source(store, "model", "m", "https://myaccount.blob.core.windows.net/container/models/m.bin")
    assert list(store.catalog.manifest(artifact.id)) == ["m.bin"]
    assert ("init", "abfs", {"account_name": "myaccount"}) in recording.calls
    assert ("info", "container/models/m.bin") in recording.calls


def test_missing_hf_folder_fails_with_reason(store, recording):
    with pytest.raises(NotFound) as info:
        create_from_source(store, "model", "nothing", "org/absent")
    assert "org/absent" in info.value.message
    failed = store.get("nothing:v1")
    assert failed.state == "failed" and failed.error == info.value.message


def test_missing_optional_package_is_named_before_anything_is_reserved(store, monkeypatch):
    import importlib
    import sys

    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # as on a machine without the package
    monkeypatch.delitem(importlib.import_module("fsspec.registry")._registry, "hf", raising=False)
    spec = parse_source("openai/whisper-tiny")
    problem = missing_package(spec)
    assert "pip install 'jupyter-artifacts[hf]'" in problem
    with pytest.raises(InvalidInput, match="huggingface_hub"):
        create_from_source(store, "model", "w", "openai/whisper-tiny")
    assert store.list()[1] == 0


def test_kaggle_without_credentials_names_what_to_set(store, monkeypatch, tmp_path):
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "no-kaggle"))
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(Forbidden) as info:
        create_from_source(store, "dataset", "titanic", "titanic", kaggle_type="competition")
    message = info.value.message
    assert "KAGGLE_USERNAME" in message and "KAGGLE_KEY" in message and "kaggle.json" in message
    assert store.list()[1] == 0
