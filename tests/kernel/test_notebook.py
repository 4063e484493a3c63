"""Real notebooks run by a real kernel (nbclient): the demo notebook end to end, and errors as users see them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from jupyter_artifacts.store import Store

REPO = Path(__file__).resolve().parents[2]
WIDGET = "application/vnd.jupyter.widget-view+json"


def load_runner():
    spec = importlib.util.spec_from_file_location("run_demo", REPO / "notebooks" / "run_demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def texts(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def displayed(cell) -> str:
    return "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs
                   if o.output_type in ("display_data", "execute_result") and WIDGET not in o.get("data", {}))


def widgets_in(cell) -> int:
    return sum(1 for o in cell.outputs if WIDGET in o.get("data", {}))


def find(nb, start: str):
    [cell] = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(start)]
    return cell


TICKS = """import asyncio

async def ticks_while(awaitable):
    task, ticks = asyncio.ensure_future(awaitable), 0
    while not task.done():
        ticks += 1
        await asyncio.sleep(0.05)
    return task.result(), ticks

"""


@pytest.fixture
def kernel_env(tmp_path, monkeypatch, mirror):
    """The kernel inherits this environment: a temp store, two fake GPUs, a public mirror."""
    root = tmp_path / "store"
    monkeypatch.setenv("JUPYTER_ARTIFACTS_ROOT", str(root))
    monkeypatch.setenv("JUPYTER_ARTIFACTS_GPUS", "fake:2")
    for env in ("ML_CHECKPOINT_PATH", "ML_MODEL_PATH", "ML_DATA_PATH"):
        monkeypatch.delenv(env, raising=False)
    return root


def test_demo_notebook_end_to_end(kernel_env, tmp_path):
    folder = tmp_path / "notebook"
    folder.mkdir()
    nb, _path = load_runner().run(str(folder), timeout=180)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not [o for o in cell.outputs if o.output_type == "error"], cell.source

    saved = find(nb, 'os.makedirs("models"')
    assert "Saved models/ as checkpoint demo-base:v1 (2 files, 102.4 KB)" in texts(saved)
    assert widgets_in(saved) == 1  # the save's progress bar, full when the save is done
    states = [s["state"] for s in nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"].values()]
    assert "Saving models/: 100%" in [str(s.get("value")).replace("\u2007", " ") for s in states]  # tqdm's spaces
    bars = [(s["value"], s["max"], s["bar_style"]) for s in states if s["_model_name"] == "FloatProgressModel"]
    assert (102427, 102427, "success") in bars, bars  # both files, 102,427 bytes
    attach = find(nb, "%attach_checkpoint demo-base")
    assert f"Attached checkpoint demo-base:v1 at {folder / 'checkpoint' / 'demo-base'}" in texts(attach)
    assert f"{folder / 'checkpoint'} ['config.yml', 'weights.bin']" in texts(attach)
    public = find(nb, "if os.environ.get")
    assert "Attached public checkpoint stable-diffusion-v2-1" in texts(public)
    assert "demo-base:v1" in displayed(public) and "public.stable-diffusion-v2-1:v1" in displayed(public)
    output = find(nb, 'os.makedirs("output"')
    assert "Saved output/ as checkpoint demo-notebook-output:v1 (1 file" in texts(output)

    train = find(nb, "%%train")
    lines = texts(train).strip().splitlines()
    assert lines[0].startswith("Started training job 'demo-finetune'") and lines[0].endswith("1 worker, 1 GPU")
    assert lines[-1].startswith("Job 'demo-finetune' finished in ")
    assert lines[-1].endswith("output: checkpoint Job - demo-finetune:v1")
    assert widgets_in(train) == 1  # the live job view
    assert "demo-finetune  training  finished" in displayed(find(nb, "%jobs"))
    logs = texts(find(nb, "%job_logs"))
    assert "training on GPU 0 from activation: gelu" in logs and "[metrics] step=2" in logs
    table = displayed(find(nb, "%artifacts"))
    assert "Job - demo-finetune:v1" in table and "demo-notebook-output:v1" in table
    tree = texts(find(nb, "from jupyter_artifacts import Client")).splitlines()
    assert tree[:2] == ["Job - demo-finetune:v1 (this)", "  demo-notebook-output:v1 (input)"]
    assert sorted(tree[2:]) == ["    demo-base:v1 (input)", "    public.stable-diffusion-v2-1:v1 (input)"]
    assert texts(find(nb, "grid = await")).strip() == "finished [0.01, 0.1]"
    assert "Saved points/ as dataset demo-points:v1" in texts(find(nb, "import csv"))
    fit = texts(find(nb, "import importlib.util")).strip().splitlines()  # Lightning in a job
    assert [line.split()[1] for line in fit] == ["6", "12", "18", "24"], fit
    assert fit[-1].endswith("kept as Job - demo-lightning Checkpoint:v4")
    assert sum("deleted by the GC" in line for line in fit) >= 2
    assert widgets_in(find(nb, "from jupyter_artifacts.kernel import")) == 1
    assert widgets_in(find(nb, "ArtifactBrowser")) == 1
    assert "Detached checkpoint demo-base:v1" in texts(find(nb, "%detach_checkpoint"))
    assert not (folder / "checkpoint" / "demo-base").exists()

    store = Store(root=str(kernel_env))
    trained = store.get("Job - demo-finetune", "checkpoint", manifest=True)
    assert trained.produced_by["type"] == "job" and trained.produced_by["job_name"] == "demo-finetune"
    assert set(trained.manifest) == {"weights.txt"}
    notebook_output = store.get("demo-notebook-output", "checkpoint")
    assert [i["reference"] for i in trained.inputs] == ["demo-notebook-output:v1"]
    assert {i["reference"] for i in notebook_output.inputs} == {"demo-base:v1", "public.stable-diffusion-v2-1:v1"}
    lineage = store.lineage(trained.id)
    [parent] = lineage["upstream"]
    assert parent["reference"] == "demo-notebook-output:v1" and parent["relation"] == "input"
    assert {c["reference"] for c in parent["children"]} == {"demo-base:v1", "public.stable-diffusion-v2-1:v1"}
    points = store.get("demo-points", "dataset")
    kept = store.get("Job - demo-lightning Checkpoint", "checkpoint")
    assert {"id": points.id, "role": "read", "reference": "demo-points:v1"} in kept.inputs  # read via artifact://
    # the kernel has ended: its lease on the public checkpoint went with it
    store.delete("public.stable-diffusion-v2-1", "checkpoint")


def test_errors_live_view_and_waiting_in_a_real_kernel(kernel_env, tmp_path):
    folder = tmp_path / "nb2"
    folder.mkdir()
    nb = new_notebook(cells=[
        new_code_cell("%load_ext jupyter_artifacts"),
        new_code_cell("%attach_checkpoint nope"),
        new_code_cell("%%train --gpus 9\nprint(1)"),
        new_code_cell("%save_checkpoint output x y z"),
        new_code_cell("%%train --name live\nimport time\ntime.sleep(0.5)\nprint('done')"),
        new_code_cell("from jupyter_artifacts import Client\nClient().jobs.get('live').wait().state"),
        new_code_cell("import time\ntime.sleep(2.5)  # the live view updates from its own thread meanwhile"),
        new_code_cell(TICKS + "done, ticks = await ticks_while(Client().jobs.create('awaited', command='sleep 1').wait())\n"
                      "print(done.state, ticks > 5)"),
        new_code_cell("async def forgot(job):\n    job.wait()\n\nawait forgot(Client().jobs.get('awaited'))"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(folder)}}).execute()

    def error(cell) -> str:
        [err] = [o for o in cell.outputs if o.output_type == "error"]
        assert len(err.traceback) == 1, err.traceback  # one line, no traceback
        return err.traceback[0]

    assert error(nb.cells[1]) == "\x1b[31mNo checkpoint named 'nope'. List them with `jupyter artifacts checkpoint list`.\x1b[0m"
    assert "this host has 2 (fake inventory)" in error(nb.cells[2])
    assert "at most a folder and a name" in error(nb.cells[3])
    live = nb.cells[4]
    assert "Started training job 'live'" in texts(live) and widgets_in(live) == 1
    [view] = [o for o in live.outputs if WIDGET in o.get("data", {})]
    assert view["data"]["text/plain"].startswith("Job live (training) ")  # for front ends without widgets
    assert "WORKER" in view["data"]["text/plain"]
    assert nb.cells[5].outputs[0]["data"]["text/plain"] == "'finished'"  # a plain job.wait() blocks
    assert texts(nb.cells[7]).strip() == "finished True"  # await job.wait() leaves the event loop running
    assert "RuntimeWarning: job.wait() was never awaited" in texts(nb.cells[8])
    # the live view's last state, as the kernel sent it to the front end
    states = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"].values()
    headers = [s["state"].get("value", "") for s in states if s["model_name"] == "HTMLModel"]
    assert any("<b>live</b>" in h and ">finished</span>" in h for h in headers), headers
