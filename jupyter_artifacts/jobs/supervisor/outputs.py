"""What a worker leaves: the checkpoints it saved (worker.save_checkpoint's spool) as checkpoint
artifacts while it runs, then its ML_OUTPUT_PATH as an artifact (or a copy at the output URL) with
its lineage, kept for `job save-output` when that fails; and the state it ends in."""

from __future__ import annotations

import json
import os

from .. import outputs
from .context import Worker
from .run import Executor, exit_reason


class Spool:
    """The checkpoints the worker asked to save, read from where the last look stopped."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.offset = 0

    def __call__(self) -> None:
        """Turn the checkpoints saved since the last call into checkpoint artifacts."""
        path = self.worker.folder.spool
        try:
            size = os.path.getsize(path)
        except OSError:
            return
        if size <= self.offset:
            return
        with open(path, "rb") as handle:
            handle.seek(self.offset)
            data = handle.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        for line in data[:end].splitlines():
            try:
                request = json.loads(line)
            except ValueError:
                continue
            store_checkpoint(self.worker, request)


def lineage(worker: Worker, step: float | None = None) -> tuple[dict, list[dict]]:
    """What a checkpoint or the output records: the job, and its inputs with what the worker read
    through artifact:// so far (also noted as the job's inputs, for `used_by`)."""
    row = worker.row()
    produced_by, inputs = outputs.lineage(worker.job, worker.idx, row["params"] if row else {}, step)
    return produced_by, inputs + reads(worker, {i["id"] for i in inputs})


def reads(worker: Worker, known: set[str]) -> list[dict]:
    """The artifacts of the job's store that the worker read through artifact:// (its `reads.jsonl`),
    except those among `known`."""
    found: dict[str, dict] = {}
    try:
        with open(os.path.join(worker.folder.folder, "reads.jsonl"), "rb") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return []
    for line in lines:
        try:
            item = json.loads(line)
        except ValueError:
            continue  # a line being written
        if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"] not in known \
                and item.get("root") == worker.store().root.url:
            found.setdefault(item["id"], {"id": item["id"], "role": "read", "reference": str(item.get("reference"))})
    if found:
        worker.db.add_inputs(worker.job_id, list(found.values()))
    return list(found.values())


def store_checkpoint(worker: Worker, request: dict) -> None:
    """One saved checkpoint (a folder the helper copied) as an artifact carrying its step and metrics."""
    import shutil

    folder = request.get("dir")
    if not folder or not os.path.isdir(folder):
        return
    step, metrics = request.get("step"), request.get("metrics") or {}
    produced_by, inputs = lineage(worker, step)
    try:
        artifact = worker.store().create(
            "checkpoint", outputs.artifact_name(worker.job, worker.idx, " Checkpoint"), folder,
            metadata={"job_id": worker.job_id, "job_name": worker.spec.name, "worker": worker.idx, "step": step,
                      "metrics": metrics},
            produced_by=produced_by, inputs=inputs)
    except Exception as exc:
        worker.log(f"could not save the checkpoint of step {step}: {getattr(exc, 'message', exc)}")
        return
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    worker.db.add_checkpoint(artifact.id, worker.job_id, worker.idx, step, metrics)
    worker.log(f"saved checkpoint {artifact.reference} (step {step})")


def save_output(worker: Worker) -> str | None:
    """Everything in ML_OUTPUT_PATH becomes an artifact (or is copied to the output URL); returns why
    not. A folder that could not be saved is kept, with its lineage, for `job save-output`."""
    out_dir = worker.folder.output(worker.spec.output)
    problem, keepable = outputs.check_folder(out_dir, worker.output_made, "ML_OUTPUT_PATH")
    empty = not keepable or not os.listdir(out_dir)  # keepable: a real folder is there
    if problem and empty:
        return f"{problem}; nothing was published"
    if empty:
        worker.log("ML_OUTPUT_PATH is empty: no output artifact")
        return None
    produced_by, inputs = lineage(worker)
    if not problem:
        worker.set_state("uploading")
        try:
            fields, note = outputs.publish(worker.store(), worker.job, worker.idx, out_dir, produced_by, inputs)
            worker.set_state(None, **fields)
            worker.log(note)
            return None
        except Exception as exc:
            problem = f"saving the output failed: {getattr(exc, 'message', None) or f'{type(exc).__name__}: {exc}'}"
    worker.kept_output = out_dir
    worker.set_state(None, kept_output={"path": out_dir, "produced_by": produced_by, "inputs": inputs})
    return (f"{problem.rstrip('.')}; nothing was published, the output is kept in {out_dir}: save it with "
            f"`{outputs.save_command(worker.job_id, worker.idx, worker.several)}`")


def finish(worker: Worker, rc: int, executor: Executor) -> tuple[str, str | None]:
    """The state the worker ends in, after saving its output as its exit (or stop) says."""
    stopped = worker.stop_flag or worker.stop_requested()
    row = worker.row()
    worker.set_state(None, exit_code=rc)
    if stopped:
        worker.log(f"worker {worker.idx} stopped (exit code {rc})")
        if row and row["save_on_stop"]:
            error = save_output(worker)
            if error:
                return "failed", error
        return "stopped", None
    if rc != 0:
        return "failed", executor.failure(rc) or exit_reason(worker, rc)
    worker.log(f"worker {worker.idx} exited with code 0")
    error = save_output(worker)
    return ("failed", error) if error else ("finished", None)


def cleanup(worker: Worker) -> None:
    """Drop the worker's copies of its inputs and its output (now stored, unless kept for a later
    save, or refused); keep logs and params. Links there are removed, never followed."""
    import shutil

    for name in worker.folder.SCRATCH:
        path = os.path.join(worker.folder.folder, name)
        if path == worker.kept_output:
            continue
        if os.path.islink(path):
            os.unlink(path)
        else:
            shutil.rmtree(path, ignore_errors=True)
