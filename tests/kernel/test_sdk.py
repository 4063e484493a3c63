"""The SDK: the same client used with await and without."""

from __future__ import annotations

import asyncio
import os

import pytest

from jupyter_artifacts import Client
from jupyter_artifacts.errors import InUse, InvalidInput, NotFound

TRAIN = """
import os
print("checkpoints", sorted(os.listdir(os.environ["ML_CHECKPOINT_PATH"])), "data", sorted(os.listdir(os.environ["ML_DATA_PATH"])))
open(os.path.join(os.environ["ML_OUTPUT_PATH"], "tuned.txt"), "w").write("tuned")
"""


def test_artifacts_sync(nb, sample):
    client = Client()
    src = sample({"w.bin": "w", "cfg/c.yml": "c: 1"})
    created = client.checkpoints.create("my-checkpoint", str(src), aliases=["first"], metadata={"epochs": 1})
    assert created.reference == "my-checkpoint:v1" and created.file_count == 2
    assert [c.reference for c in client.checkpoints.list()] == ["my-checkpoint:v1"]
    assert client.checkpoints.get("my-checkpoint:first") == created
    assert client.models.list() == []
    nb.write("models/m.pt", "m")
    saved = client.models.save("models", "from-notebook")
    assert saved.kind == "model" and saved.source["path"] == str(nb.folder / "models")
    assert {a.reference for a in client.artifacts()} == {"my-checkpoint:v1", "from-notebook:v1"}
    result = client.checkpoints.download("my-checkpoint", "copy")
    assert (nb.folder / "copy" / "cfg" / "c.yml").read_text() == "c: 1" and result["path"] == str(nb.folder / "copy")
    attachment = client.checkpoints.attach("my-checkpoint")
    assert attachment.path == str(nb.folder / "checkpoint" / "my-checkpoint")
    assert os.environ["ML_CHECKPOINT_PATH"] == str(nb.folder / "checkpoint")
    with pytest.raises(InUse):
        client.checkpoints.delete("my-checkpoint")
    client.checkpoints.detach("my-checkpoint")
    assert client.checkpoints.delete("my-checkpoint")["reference"] == "my-checkpoint:v1"
    with pytest.raises(NotFound):
        client.checkpoints.get("my-checkpoint")


def test_relative_create_resolves_against_the_notebook(nb):
    nb.write("output/o.txt", "o")
    created = Client().datasets.create("rel", "output")
    assert created.source["path"] == str(nb.folder / "output")


def test_awaiting_the_same_calls(nb, sample, mirror):
    client = Client()

    async def main():
        base = await client.checkpoints.create("my-checkpoint", str(sample({"a.txt": "a"})))
        await client.datasets.create("digits", str(sample({"d.csv": "1"}, name="d")))
        assert [c.reference for c in await client.checkpoints.list()] == ["my-checkpoint:v1"]
        job = await client.jobs.create(
            name="finetune", type="training", gpus=1,
            model=dict(checkpoints=[dict(id="stable-diffusion-v2-1", public=True), "my-checkpoint"]),
            data=dict(datasets=["digits"], output_type="checkpoint"),
            script=TRAIN,
        )
        assert job.state in ("queued", "building", "running", "finished")
        assert await job.wait() is job
        return base, job

    base, job = asyncio.run(main())
    assert job.state == "finished", job.logs()
    assert "checkpoints ['my-checkpoint', 'stable-diffusion-v2-1'] data ['digits']" in job.logs()
    assert job.spec["public_checkpoints"] == ["stable-diffusion-v2-1"] and job.spec["checkpoints"] == ["my-checkpoint"]
    [output] = job.output_artifacts
    assert output.reference == "Job - finetune:v1"
    lineage = output.lineage()
    upstream = {n["reference"] for n in lineage["upstream"]}
    assert {"my-checkpoint:v1", "digits:v1", "public.stable-diffusion-v2-1:v1"} <= upstream
    [used] = client.datasets.lineage("digits")["used_by"]  # the jobs database's part of the lineage
    assert used["name"] == "finetune" and used["workers"][0]["output"]["reference"] == "Job - finetune:v1"
    assert [c.reference for c in client.checkpoints.list()][0] == "Job - finetune:v1"
    assert any(e["id"] == "stable-diffusion-v2-1" for e in client.checkpoints.public())


def test_jobs_sync(nb):
    client = Client()
    nb.write("train.py", "print('hello from train.py')\n")
    job = client.jobs.create("plain", command="train.py")
    assert job.wait() is job  # no event loop here: wait blocks
    assert job.state == "finished" and "hello from train.py" in job.logs()
    assert [j.name for j in client.jobs.list()] == ["plain"]
    assert client.jobs.get("plain").id == job.id
    assert client.jobs.gpus()["count"] == 2
    sleeper = client.jobs.create("sleeper", workers=["sleep 60"])
    stopped = client.jobs.stop("sleeper")
    assert stopped.wait_sync(timeout=60).state == "stopped"
    assert sleeper.refresh().state == "stopped"


def test_wait_not_awaited_in_async_code_warns_at_the_callers_line(nb):
    job = Client().jobs.create("forgotten", command="sleep 60")

    async def forgot():
        job.wait()  # the mistake: nothing waits

    with pytest.warns(RuntimeWarning, match=r"job.wait\(\) was never awaited, so nothing waited") as record:
        asyncio.run(forgot())
    [warning] = [w for w in record if "job.wait()" in str(w.message)]
    assert (warning.filename, warning.lineno) == (__file__, forgot.__code__.co_firstlineno + 1)
    assert job.refresh().state in ("queued", "building", "running")
    assert job.stop().wait_sync(timeout=60).state == "stopped"


def test_job_create_errors(nb):
    client = Client()
    with pytest.raises(InvalidInput, match="needs command="):
        client.jobs.create("x")
    with pytest.raises(InvalidInput, match="Invalid checkpoint"):
        client.jobs.create("x", command="true", model=dict(checkpoints=[42]))
    with pytest.raises(InvalidInput, match="Unknown data field"):
        client.jobs.create("x", command="true", data=dict(sets=["d"]))
    with pytest.raises(InvalidInput, match="output_uri"):
        client.jobs.create("x", command="true", data=dict(output_type="url"))
    with pytest.raises(InvalidInput, match="this host has 2"):
        client.jobs.create("x", command="true", gpus=3)
    with pytest.raises(InvalidInput, match="Unknown job option"):
        client.jobs.create("x", command="true", save_everything=3)
    assert client.jobs.list() == []


def test_client_on_another_root(tmp_path, sample):
    client = Client(root=str(tmp_path / "other"), cwd=str(tmp_path))
    client.datasets.create("d", str(sample({"x": "1"})))
    assert [d.reference for d in client.datasets.list()] == ["d:v1"]
    assert str(tmp_path / "other") in repr(client)
