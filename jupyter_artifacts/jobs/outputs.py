"""A worker's output: the folder made for ML_OUTPUT_PATH, checked to still be that folder, and
published with its lineage, by the supervisor when the worker ends or later by `job save-output`.

Both go through `publish`, and a failed save keeps the folder with the lineage it was to have, so a
later save publishes exactly what the automatic save would have. Only `os` and `stat` are imported
at the top: the supervisor loads this on its way to starting the worker.
"""

from __future__ import annotations

import os
import stat


def folder_id(path: str) -> list[int]:
    """(device, inode) of the folder itself, not of what a link there points to."""
    st = os.lstat(path)
    return [st.st_dev, st.st_ino]


def check_folder(path: str, made: list[int] | None, what: str) -> tuple[str | None, bool]:
    """Why `path` is not an output folder to publish (None when it is, or when nothing is there),
    and whether what is there may be kept for `save-output`: a real folder, only not the one made
    (`made`: its device and inode) for the worker. A link is never followed."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None, False
    if stat.S_ISLNK(st.st_mode):
        return f"{what} {path} was replaced by a symbolic link to {os.readlink(path)}", False
    if not stat.S_ISDIR(st.st_mode):
        return f"{what} {path} was replaced by something that is not a folder", False
    if made is not None and [st.st_dev, st.st_ino] != list(made):
        return f"{what} {path} was replaced by another folder during the run", True
    return None, True


def artifact_name(job: dict, idx: int, suffix: str = "") -> str:
    """`Job - NAME`, with ` Worker N` when the job has several workers."""
    base = f"Job - {job['spec']['name']}"
    if job["info"]["workers"] > 1:
        base += f" Worker {idx}"
    return base + suffix


def lineage(job: dict, idx: int, params: dict, step: float | None = None) -> tuple[dict, list[dict]]:
    """(produced_by, inputs) of what a worker saves: the job, the worker, its params and code, and the
    artifacts it was given (public checkpoints once fetched)."""
    spec, info = job["spec"], job["info"]
    produced_by = {"type": "job", "job_id": job["id"], "job_name": spec["name"], "job_type": spec["type"],
                   "worker": idx, "params": params, "code": info.get("code") or {}}
    if step is not None:
        produced_by["step"] = step
    if spec.get("data_manifest"):
        produced_by["data_manifest"] = spec["data_manifest"]
    if spec.get("public_checkpoints"):
        produced_by["public_checkpoints"] = spec["public_checkpoints"]
    inputs = [{"id": i["id"], "role": i["role"], "reference": i["reference"]}
              for i in info.get("inputs") or [] if i.get("id") and i.get("worker", idx) == idx]
    return produced_by, inputs


def publish(store, job: dict, idx: int, folder: str, produced_by: dict, inputs: list[dict]) -> tuple[dict, str]:
    """Save a worker's output folder as its job says: a `checkpoint` or `model` artifact with its
    lineage, or a copy to the output URL. Returns the worker's fields to record and a line for its log."""
    output = job["spec"].get("output") or "checkpoint"
    if output in ("checkpoint", "model"):
        artifact = store.create(output, artifact_name(job, idx), folder,
                                metadata={"job_id": job["id"], "job_name": job["spec"]["name"], "worker": idx},
                                produced_by=produced_by, inputs=inputs)
        return {"output_id": artifact.id}, f"output saved as {output} {artifact.reference} ({artifact.id})"
    import fsspec

    target = output.rstrip("/") + (f"/worker-{idx}" if job["info"]["workers"] > 1 else "")
    fs, path = fsspec.core.url_to_fs(target)
    fs.makedirs(path, exist_ok=True)
    fs.put(folder.rstrip("/") + "/", path, recursive=True)
    return {"output_url": target}, f"output copied to {target}"


def save_command(job_id: str, idx: int, several: bool) -> str:
    """The command that saves a kept output again, as errors and `job show` name it."""
    return f"jupyter artifacts job save-output {job_id[:12]}" + (f" --worker {idx}" if several else "")
