"""hf, gcp and azure sources through the whole fetch pipeline, and kaggle without credentials.

Their transports cannot be reached from here, so each protocol is served by a recording file
system registered with fsspec: it checks the arguments the real one would get and serves files
from a local folder.
"""

from __future__ import annotations

import os
import shutil

import fsspec
import pytest
from fsspec.spec import AbstractFileSystem

from jupyter_artifacts.errors import Forbidden, InvalidInput
from jupyter_artifacts.sources import create_from_source
from jupyter_artifacts.sources.filesystems import missing_package
from jupyter_artifacts.sources.spec import parse_source


class RecordingFS(AbstractFileSystem):
    """Files under `base/<path>`; every constructor call and method call is recorded."""

    protocol = "recording"
    base = ""
    calls: list = []

    def __init__(self, **options):
        super().__init__(**options)
        RecordingFS.calls.append(("init", self.protocol, options))

    @classmethod
    def _strip_protocol(cls, path):
        path = path.split("://", 1)[1] if "://" in path else path
        return path.rstrip("/")

    def _local(self, path):
        return os.path.join(self.base, self._strip_protocol(path))

    def _info(self, path, local):
        kind = "directory" if os.path.isdir(local) else "file"
        return {"name": self._strip_protocol(path), "type": kind, "size": os.path.getsize(local) if kind == "file" else 0}

    def info(self, path, **kwargs):
        RecordingFS.calls.append(("info", path))
        local = self._local(path)
        if not os.path.exists(local):
            raise FileNotFoundError(path)
        return self._info(path, local)

    def find(self, path, maxdepth=None, withdirs=False, detail=False, **kwargs):
        RecordingFS.calls.append(("find", path))
        root = self._local(path)
        if not os.path.isdir(root):
            raise FileNotFoundError(path)
        found = {}
        for folder, _dirs, files in os.walk(root):
            for name in files:
                local = os.path.join(folder, name)
                remote = self._strip_protocol(path) + "/" + os.path.relpath(local, root).replace(os.sep, "/")
                found[remote] = self._info(remote, local)
        return found if detail else sorted(found)

    def get_file(self, rpath, lpath, callback=None, **kwargs):
        RecordingFS.calls.append(("get_file", rpath))
        shutil.copyfile(self._local(rpath), lpath)
        if callback is not None:
            callback.relative_update(os.path.getsize(lpath))


@pytest.fixture
def recording(tmp_path):
    """Register the recording file system for hf, gcs and abfs for one test."""
    from fsspec.registry import _registry

    saved = {p: _registry.get(p) for p in ("hf", "gcs", "abfs")}
    classes = {}
    for protocol in saved:
        classes[protocol] = type(f"Recording_{protocol}", (RecordingFS,), {"protocol": protocol})
        fsspec.register_implementation(protocol, classes[protocol], clobber=True)
    RecordingFS.base = str(tmp_path / "remote")
    RecordingFS.calls = []

    def put(rel: str, data: str) -> None:
        path = tmp_path / "remote" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data)

    yield put
    for protocol, cls in saved.items():
        if cls is None:
            _registry.pop(protocol, None)
        else:
            fsspec.register_implementation(protocol, cls, clobber=True)


def test_hf_repository_with_branch(store, recording):
    recording("EleutherAI/gpt-j-6b@float16/config.json", "{}")
    recording("EleutherAI/gpt-j-6b@float16/weights/model.safetensors", "w" * 100)
    artifact = create_from_source(store, "checkpoint", "gptj", "EleutherAI/gpt-j-6b", branch="float16")
    assert sorted(store.catalog.manifest(artifact.id)) == ["config.json", "weights/model.safetensors"]
    assert artifact.source == {"type": "hf", "path": "EleutherAI/gpt-j-6b", "branch": "float16",
                               "repo": "EleutherAI/gpt-j-6b", "repo_type": "model"}
    assert ("init", "hf", {}) in RecordingFS.calls
    assert ("find", "EleutherAI/gpt-j-6b@float16") in RecordingFS.calls


def test_gcs_folder_and_file(store, recording):
    recording("my-bucket/data/train/a.csv", "a")
    recording("my-bucket/data/train/b/c.csv", "c")
    tree = create_from_source(store, "dataset", "train", "gs://my-bucket/data/train/")
    assert sorted(store.catalog.manifest(tree.id)) == ["a.csv", "b/c.csv"]
    one = create_from_source(store, "dataset", "one", "gs://my-bucket/data/train/a.csv")
    assert list(store.catalog.manifest(one.id)) == ["a.csv"]
    assert ("info", "my-bucket/data/train/a.csv") in RecordingFS.calls
    assert all(c[2] == {} for c in RecordingFS.calls if c[0] == "init")


def test_azure_https_url(store, recording):
    recording("container/models/m.bin", "m")
    artifact = create_from_source(store, "model", "m", "https://myaccount.blob.core.windows.net/container/models/m.bin")
    assert list(store.catalog.manifest(artifact.id)) == ["m.bin"]
    assert ("init", "abfs", {"account_name": "myaccount"}) in RecordingFS.calls
    assert ("info", "container/models/m.bin") in RecordingFS.calls


def test_missing_hf_folder_fails_with_reason(store, recording):
    with pytest.raises(Exception) as info:
        create_from_source(store, "model", "nothing", "org/absent")
    assert "org/absent" in str(info.value)
    assert store.get("nothing:v1").state == "failed"


def test_missing_optional_package_is_named_before_anything_is_reserved(store):
    spec = parse_source("openai/whisper-tiny")
    problem = missing_package(spec)
    if problem is None:
        pytest.skip("huggingface_hub is installed")
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
