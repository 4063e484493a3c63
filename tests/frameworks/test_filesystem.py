"""`artifact://KIND/REF/PATH`, the fsspec file system, read by the real libraries: listing, globs, byte
ranges, pandas, torch.load, Hugging Face datasets, a refused write, a remote root's blob cache, and
the lineage of a job that read through it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid

import fsspec
import pytest

from jupyter_artifacts.filesystem import ArtifactFileSystem, ArtifactNotFound, ReadOnly

from .conftest import run_job

CSV = "sepal,petal,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n6.3,6.0,virginica\n"


@pytest.fixture
def iris(store, make_tree):
    """A dataset with a CSV, a nested file and a link, aliased `prod`."""
    folder = make_tree({"train.csv": CSV, "test/part-0.csv": CSV[:35], "notes/readme.txt": "iris\n"}, "iris")
    os.symlink("train.csv", folder / "latest.csv")
    return store.create("dataset", "iris", str(folder), aliases=["prod"])


@pytest.fixture
def fs(store_root):
    return fsspec.filesystem("artifact", root=str(store_root))


def test_listing_finding_and_globbing(fs, iris):
    assert isinstance(fs, ArtifactFileSystem)
    assert fs.ls("", detail=False) == ["model", "checkpoint", "dataset"]
    assert fs.ls("artifact://dataset", detail=False) == ["dataset/iris"]
    assert fs.ls("artifact://dataset/iris:prod", detail=False) == [
        "dataset/iris:prod/latest.csv", "dataset/iris:prod/notes", "dataset/iris:prod/test", "dataset/iris:prod/train.csv"]
    info = fs.info("artifact://dataset/iris:v1/train.csv")
    assert info["type"] == "file" and info["size"] == len(CSV) and info["digest"].startswith("blake3:")
    assert fs.info("dataset/iris/latest.csv")["digest"] == info["digest"]  # a link inside the artifact, followed
    assert fs.info(f"dataset/{iris.id}/notes")["type"] == "directory"
    assert fs.isdir("dataset/iris") and fs.isfile("dataset/iris/test/part-0.csv")
    assert fs.find("dataset/iris:prod/") == [
        "dataset/iris:prod/latest.csv", "dataset/iris:prod/notes/readme.txt", "dataset/iris:prod/test/part-0.csv",
        "dataset/iris:prod/train.csv"]
    assert fs.glob("artifact://dataset/iris/**/*.csv") == [
        "dataset/iris/latest.csv", "dataset/iris/test/part-0.csv", "dataset/iris/train.csv"]
    assert fs.glob("dataset/iris:prod/*.txt") == []
    assert fs.du("dataset/iris") == iris.size + len(CSV)  # the link counts as its target


def test_byte_ranges_read_only_what_is_asked(fs, iris):
    assert fs.cat_file("dataset/iris/train.csv", 0, 5) == b"sepal"
    assert fs.cat_file("dataset/iris/train.csv", start=-10) == CSV.encode()[-10:]
    assert fs.cat_file("dataset/iris/train.csv", 20, 10) == b""
    assert fs.cat("artifact://dataset/iris:prod/train.csv") == CSV.encode()
    with fs.open("dataset/iris/train.csv") as f:
        f.seek(20)
        assert f.read(8) == CSV.encode()[20:28]
    assert fs.read_block("dataset/iris/train.csv", 10, 30, delimiter=b"\n") == CSV.encode()[20:54]  # whole lines


def test_pandas_torch_and_datasets_read_artifact_urls(store, fs, iris, tmp_path, monkeypatch):
    import datasets
    import pandas
    import torch

    monkeypatch.setenv("JUPYTER_ARTIFACTS_ROOT", str(store.root.url))

    frame = pandas.read_csv("artifact://dataset/iris:prod/train.csv")
    assert list(frame["species"]) == ["setosa", "versicolor", "virginica"]
    assert len(pandas.read_csv("artifact://dataset/iris/test/part-0.csv")) == 1

    state = {"weight": torch.arange(12, dtype=torch.float32).reshape(3, 4), "bias": torch.ones(3)}
    (tmp_path / "resnet").mkdir()
    torch.save(state, tmp_path / "resnet" / "model.pt")
    store.create("checkpoint", "resnet", str(tmp_path / "resnet"))
    with fsspec.open("artifact://checkpoint/resnet:v1/model.pt") as f:
        loaded = torch.load(f)
    assert torch.equal(loaded["weight"], state["weight"]) and torch.equal(loaded["bias"], state["bias"])

    loaded = datasets.load_dataset("csv", data_files="artifact://dataset/iris:prod/train.csv",
                                   cache_dir=str(tmp_path / "hf"))
    assert loaded["train"]["species"] == ["setosa", "versicolor", "virginica"]


def test_a_moved_alias_is_followed_at_the_next_read(store, fs, iris, make_tree):
    v2 = store.create("dataset", "iris", str(make_tree({"train.csv": "sepal\n9.9\n"}, "iris2")))
    assert fs.cat("dataset/iris:prod/train.csv") == CSV.encode()
    store.set_alias(v2.id, "prod")
    assert fs.cat("dataset/iris:prod/train.csv") == b"sepal\n9.9\n"
    assert fs.cat(f"dataset/{iris.id}/train.csv") == CSV.encode()  # an id names one version for good


def test_writes_are_refused_with_one_line(fs, iris):
    for write in (lambda: fs.open("dataset/iris/new.csv", "wb"),
                  lambda: fsspec.open("artifact://dataset/iris/train.csv", "w", root=fs.root).open(),
                  lambda: fs.rm("dataset/iris/train.csv"),
                  lambda: fs.mkdir("dataset/iris/more"),
                  lambda: fs.pipe("dataset/iris/x.csv", b"x"),
                  lambda: fs.put(__file__, "dataset/iris/copy.py")):
        with pytest.raises(ReadOnly) as refused:
            write()
        assert isinstance(refused.value, PermissionError)
        message = str(refused.value)
        assert "\n" not in message and message.startswith("Artifacts are immutable: artifact:// is read-only")
        assert "jupyter artifacts dataset create" in message
    assert fs.cat("dataset/iris/train.csv") == CSV.encode()


def test_what_does_not_exist_is_a_file_not_found(fs, iris):
    for path, says in (("dataset/lily/train.csv", "No dataset named 'lily'"),
                       ("dataset/iris:v7/train.csv", "'iris' has no version 7"),
                       ("dataset/iris/missing.csv", "Dataset iris:v1 has no file 'missing.csv'"),
                       ("datasets/iris/train.csv", "it starts with a kind (model, checkpoint, dataset)")):
        with pytest.raises(FileNotFoundError) as missing:
            fs.cat(path)
        assert isinstance(missing.value, ArtifactNotFound) and says in str(missing.value)
    assert not fs.exists("dataset/iris/missing.csv") and fs.exists("dataset/iris:prod")
    with pytest.raises(IsADirectoryError):
        fs.open("dataset/iris/notes")


def test_any_process_with_the_package_knows_the_protocol(store, iris, tmp_path):
    """The `fsspec.specs` entry point: nothing imports jupyter_artifacts first."""
    code = "import fsspec, sys; sys.stdout.write(fsspec.open(sys.argv[1], 'rt').open().read())"
    env = {**os.environ, "JUPYTER_ARTIFACTS_ROOT": store.root.url}
    out = subprocess.run([sys.executable, "-c", code, "artifact://dataset/iris:prod/train.csv"], env=env,
                         capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout == CSV


def test_a_remote_root_reads_blobs_through_this_hosts_cache(moto_server, aws_credentials, tmp_path, monkeypatch,
                                                            make_tree):
    """A byte range of a blob not cached is read from the bucket, not fetched whole; opening a file
    fetches its blob once into the blob cache, where later reads find it."""
    from jupyter_artifacts.store import Store, StoreSettings

    bucket = f"fs-{uuid.uuid4().hex[:12]}"
    fsspec.filesystem("s3", endpoint_url=moto_server.url, skip_instance_cache=True).mkdir(bucket)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    root = f"s3://{bucket}/root"
    big = os.urandom(3 << 20)
    Store(StoreSettings.from_env(root)).create("checkpoint", "remote", str(make_tree({"w.bin": big, "a.txt": "a"}, "w")))

    fs = ArtifactFileSystem(root=root)
    digest = fs.info("checkpoint/remote/w.bin")["digest"]
    cached = fs.store.blob_cache.path(digest)
    assert fs.cat_file("checkpoint/remote/w.bin", 1000, 1100) == big[1000:1100]
    assert not os.path.exists(cached)
    with fs.open("checkpoint/remote/w.bin") as f:
        f.seek(2 << 20)
        assert f.read(10) == big[2 << 20:(2 << 20) + 10]
    assert os.path.exists(cached)
    assert fs.cat_file("checkpoint/remote/w.bin", -5) == big[-5:]
    assert fs.cat("checkpoint/remote/a.txt") == b"a"


READ_IN_A_JOB = '''
import os
import pandas as pd
frame = pd.read_csv("artifact://dataset/iris:prod/train.csv")
with open(os.path.join(os.environ["ML_OUTPUT_PATH"], "counts.csv"), "w") as f:
    f.write(frame["species"].value_counts().to_csv())
'''


def test_a_job_that_reads_artifact_urls_records_them_as_inputs(cli, project, iris):
    (project / "count.py").write_text(READ_IN_A_JOB)
    job = run_job(cli, "counts", "--command", "count.py")
    output = cli.json("checkpoint", "show", job["outputs"][0]["id"])
    assert {"id": iris.id, "role": "read", "reference": "iris:v1"} in output["inputs"]
    lineage = cli.json("dataset", "lineage", "iris:prod")
    assert [(j["id"], j["roles"]) for j in lineage["used_by"]] == [(job["id"], ["read"])]
    assert [n["reference"] for n in lineage["downstream"]] == ["Job - counts:v1"]


def test_reading_in_a_kernel_is_an_input_of_what_it_saves_next(store, iris, tmp_path):
    """The notebook's lineage: an artifact read through a URL is an input of the kernel's next save."""
    from jupyter_artifacts.kernel.actions import Session

    session = Session(fixed_store=store, fixed_cwd=str(tmp_path))
    fs = ArtifactFileSystem(root=store.root.url)
    assert fs.store is not store  # the URL's own store of that root: reads are matched by the root's URL
    fs.cat("dataset/iris:prod/train.csv")
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "model.txt").write_text("fitted")
    saved = session.save("checkpoint", "output", "fitted")
    assert {"id": iris.id, "kind": "dataset", "reference": "iris:v1", "role": "read"} in saved.inputs
    assert io.BytesIO(fs.cat("dataset/iris/notes/readme.txt")).read() == b"iris\n"
