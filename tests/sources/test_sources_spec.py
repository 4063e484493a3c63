"""Source types: inference, validation before anything is fetched, and the fsspec arguments."""

from __future__ import annotations

import pytest

from jupyter_artifacts.errors import Forbidden, InvalidInput, NotFound
from jupyter_artifacts.sources import create_from_source, parse_source
from jupyter_artifacts.sources.filesystems import filesystem_args
from jupyter_artifacts.sources.spec import redact


@pytest.mark.parametrize("path, kind", [
    ("/data/models", "local"),
    ("~/models", "local"),
    ("$HOME/models", "local"),
    ("./relative", "local"),
    ("s3://bucket/key", "aws"),
    ("gs://bucket/key", "gcp"),
    ("https://account1.blob.core.windows.net/container/path", "azure"),
    ("az://container/path", "azure"),
    ("openai/whisper-tiny", "hf"),
    ("datasets/org/data-set", "hf"),
    ("https://github.com/org/repo.git", "git"),
    ("git@github.com:org/repo.git", "git"),
    ("ssh://git@example.com/org/repo", "git"),
    ("file:///srv/git/repo.git", "git"),
    ("http://example.com/file.bin", "web"),
    ("https://example.com/data/", "web"),
    ("ftp://example.com/pub/x", "web"),
    ("ftps://example.com/pub/x", "web"),
])
def test_type_is_inferred(path, kind, tmp_path):
    assert parse_source(path, cwd=str(tmp_path)).type == kind


def test_wasabi_is_s3_with_an_endpoint():
    spec = parse_source("s3://bucket/key", endpoint="https://s3.eu-central-1.wasabisys.com")
    assert spec.type == "wasabi"
    assert filesystem_args(spec) == ("s3", {"endpoint_url": "https://s3.eu-central-1.wasabisys.com"}, "bucket/key")
    with pytest.raises(InvalidInput, match="needs --endpoint"):
        parse_source("s3://bucket/key", source_type="wasabi")


def test_kaggle_type_implies_kaggle():
    spec = parse_source("titanic", kaggle_type="competition")
    assert spec.type == "kaggle"
    assert parse_source("owner/some-data", kaggle_type="dataset").path == "owner/some-data"
    with pytest.raises(InvalidInput, match="OWNER/NAME"):
        parse_source("titanic", kaggle_type="dataset")
    with pytest.raises(InvalidInput, match="--kaggle-type"):
        parse_source("titanic", source_type="kaggle")
    with pytest.raises(InvalidInput, match="Unknown Kaggle type"):
        parse_source("titanic", kaggle_type="notebook")


def test_relative_path_that_does_not_exist(store, tmp_path):
    assert parse_source("no-such-thing", cwd=str(tmp_path)).type == "local"
    with pytest.raises(NotFound, match="No such file or folder"):
        create_from_source(store, "model", "m", "no-such-thing", cwd=str(tmp_path))
    spec = parse_source("org/model", cwd=str(tmp_path))
    assert spec.type == "hf" and spec.inferred


def test_relative_path_that_exists_is_local(tmp_path):
    (tmp_path / "openai" / "whisper-tiny").mkdir(parents=True)
    spec = parse_source("openai/whisper-tiny", cwd=str(tmp_path))
    assert spec.type == "local" and spec.local_path == str(tmp_path / "openai" / "whisper-tiny")
    assert parse_source("openai/whisper-tiny", source_type="hf", cwd=str(tmp_path)).type == "hf"


@pytest.mark.parametrize("path, source_type, fragment", [
    ("s3://bucket/key", "gcp", "not a Google Cloud Storage path"),
    ("gs://bucket/key", "aws", "not a S3 path"),
    ("s3://x/key", None, "does not name a bucket"),
    ("https://example.com/c/x", "azure", "not an Azure Blob Storage URL"),
    ("not a repo", "hf", "not a Hugging Face repository"),
    ("org/repo/extra", "hf", "not a Hugging Face repository"),
    ("/local/path", "web", "not a web URL"),
    ("ftp:///nohost", None, "does not name a host"),
    ("http://example.com/../etc", None, "'..'"),
    ("svn://example.com/repo", None, "Unknown kind of source path"),
    ("https://example.com/org/repo", "git", None),
    ("https://example.com", "git", "does not name a repository"),
])
def test_a_path_that_does_not_fit_is_refused_with_the_accepted_forms(path, source_type, fragment, tmp_path):
    if fragment is None:
        parse_source(path, source_type=source_type)  # accepted
        return
    with pytest.raises(InvalidInput) as info:
        parse_source(path, source_type=source_type, cwd=str(tmp_path))
    message = info.value.message
    assert fragment in message
    assert "Accepted source paths:" in message
    for kind in ("local", "aws", "wasabi", "gcp", "azure", "hf", "git", "kaggle", "web"):
        assert f"\n  {kind}" in message


def test_options_that_do_not_apply_are_refused():
    with pytest.raises(InvalidInput, match="--branch applies to git and hf"):
        parse_source("s3://bucket/key", branch="main")
    with pytest.raises(InvalidInput, match="--endpoint applies"):
        parse_source("gs://bucket/key", endpoint="http://x")
    with pytest.raises(InvalidInput, match="Unknown source type"):
        parse_source("/x", source_type="dropbox")


def test_refused_path_reserves_nothing(store, tmp_path):
    with pytest.raises(InvalidInput):
        create_from_source(store, "model", "m", "gs://bucket/key", source_type="aws")
    assert store.list()[1] == 0


def test_local_roots_confine_local_paths(tmp_path):
    inside = tmp_path / "root" / "data"
    inside.mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    roots = [str(tmp_path / "root")]
    assert parse_source("data", local_roots=roots).local_path == str(inside)
    assert parse_source(str(inside), local_roots=roots).type == "local"
    with pytest.raises(Forbidden):
        parse_source(str(tmp_path / "outside"), local_roots=roots)
    with pytest.raises(Forbidden):
        parse_source("data/../../outside", source_type="local", local_roots=roots)
    (tmp_path / "root" / "escape").symlink_to(tmp_path / "outside")
    with pytest.raises(Forbidden):
        parse_source("escape", source_type="local", local_roots=roots)


def test_sync_and_archive_flags():
    assert parse_source("s3://bucket/folder/").sync
    assert not parse_source("s3://bucket/file.bin").sync
    for name, suffix in [("a.zip", ".zip"), ("a.tar", ".tar"), ("a.tar.gz", ".tar.gz"), ("a.tgz", ".tgz"),
                         ("a.tar.bz2", ".tar.bz2"), ("a.bz2", ".bz2")]:
        assert parse_source(f"https://example.com/{name}").archive == suffix
    assert parse_source("https://example.com/a.gz").archive is None
    assert parse_source("https://example.com/a.zip/").archive is None


# -- the file systems of sources whose transports cannot be reached here ------------------------
def test_hf_arguments():
    spec = parse_source("openai/whisper-tiny")
    assert filesystem_args(spec) == ("hf", {}, "openai/whisper-tiny")
    spec = parse_source("EleutherAI/gpt-j-6b", branch="float16")
    assert filesystem_args(spec) == ("hf", {}, "EleutherAI/gpt-j-6b@float16")
    spec = parse_source("datasets/org/corpus", branch="refs/pr/1")
    assert filesystem_args(spec) == ("hf", {}, "datasets/org/corpus@refs%2Fpr%2F1")
    assert parse_source("hf://org/model@dev").branch == "dev"


def test_gcp_arguments():
    assert filesystem_args(parse_source("gs://my-bucket/data/train/")) == ("gcs", {}, "my-bucket/data/train/")


def test_azure_arguments():
    spec = parse_source("https://myaccount.blob.core.windows.net/container/data/x.parquet")
    assert filesystem_args(spec) == ("abfs", {"account_name": "myaccount"}, "container/data/x.parquet")
    assert filesystem_args(parse_source("az://container/data/")) == ("abfs", {}, "container/data/")
    spec = parse_source("abfs://container@otheraccount.dfs.core.windows.net/dir")
    assert filesystem_args(spec) == ("abfs", {"account_name": "otheraccount"}, "container/dir")


def test_web_arguments():
    assert filesystem_args(parse_source("https://example.com/a.bin")) == ("https", {}, "https://example.com/a.bin")
    assert filesystem_args(parse_source("ftp://u:p%40ss@example.com:2121/pub/a.bin")) == (
        "ftp", {"host": "example.com", "port": 2121, "username": "u", "password": "p@ss"}, "/pub/a.bin")
    assert filesystem_args(parse_source("ftps://example.com/a"))[1]["tls"] is True


@pytest.mark.parametrize("module, path, kwargs", [
    ("gcsfs", "gs://bucket/key", {"token": "anon"}),
    ("adlfs", "https://account1.blob.core.windows.net/container/x", {"anon": True}),
    ("huggingface_hub", "openai/whisper-tiny", {}),
])
def test_real_file_systems_accept_the_arguments(module, path, kwargs):
    """fsspec builds each optional package's file system from our arguments (all are test dependencies)."""
    import importlib

    import fsspec

    importlib.import_module(module)

    protocol, options, _remote = filesystem_args(parse_source(path))
    fs = fsspec.filesystem(protocol, skip_instance_cache=True, **options, **kwargs)
    assert protocol in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))


def test_redact():
    assert redact("ftp://user:pw@host/x") == "ftp://user:***@host/x"
    assert redact("https://host/x") == "https://host/x"
    assert redact("owner/name") == "owner/name"
