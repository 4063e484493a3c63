"""Materializing the worker's inputs: a private copy of each attached artifact (a public checkpoint
is fetched into the store first, then leased) and the files of the data manifest."""

from __future__ import annotations

import os

from .context import Worker


def destination(worker: Worker, item: dict, used: dict[str, set]) -> str:
    """Where an input goes: the model's folder, or checkpoints/LABEL and data/LABEL (LABEL-vN when two
    share a label)."""
    role = item["role"]
    if role == "model":
        return worker.folder.model
    base = worker.folder.checkpoints if role == "checkpoint" else worker.folder.data
    label = item.get("label") or item["name"]
    seen = used.setdefault(role, set())
    if label in seen:
        label = f"{label}-v{item['version']}"
    seen.add(label)
    return os.path.join(base, label)


def fetch_public(worker: Worker, store, item: dict) -> None:
    """A public checkpoint not fetched when the job was submitted: fetch it now (once per store,
    from the mirror of the store's settings) and lease it for the worker."""
    from ...sources.public import fetch_public as fetch

    worker.log(f"fetching public checkpoint {item['public_id']}")
    artifact = fetch(store, item["public_id"])
    item.update(id=artifact.id, reference=artifact.reference, version=artifact.version)
    lease = store.acquire_lease(artifact.id, worker.holder, pid=os.getpid())
    worker.set_state(None, leases=list(worker.row()["leases"] or []) + [lease])


def fetch_manifest(worker: Worker) -> None:
    """Each URL of the data manifest, fetched with fsspec into ML_DATA_PATH/<path>."""
    import fsspec

    os.makedirs(worker.folder.data, exist_ok=True)
    for entry in worker.spec.data_manifest:
        worker.log(f"fetching {entry['url']}")
        fs, path = fsspec.core.url_to_fs(entry["url"])
        target = os.path.join(worker.folder.data, entry["path"])
        os.makedirs(os.path.dirname(target), exist_ok=True)
        fs.get(path, target, recursive=fs.isdir(path))


def materialize(worker: Worker) -> None:
    """Copy every input where the worker finds it, then mark it running."""
    inputs, manifest = worker.info.inputs_of(worker.idx), worker.spec.data_manifest
    if not inputs and not manifest:
        return
    store = worker.store() if inputs else None
    used: dict[str, set] = {}
    for item in inputs:
        worker.check_stop()
        dest = destination(worker, item, used)
        if item.get("id") is None and item.get("public_id"):
            fetch_public(worker, store, item)
        worker.log(f"attaching {item['role']} {item['reference']}")
        store.download(item["id"], dest)
    if manifest:
        fetch_manifest(worker)
    worker.set_state("running")


def describe(worker: Worker) -> None:
    """Write what the worker's code asks about its job (`worker.attached()`): the store's settings,
    which artifact:// URLs read, and each attached input with its folder and, for a checkpoint, the
    step it was saved at and when, which `worker.resume_path()` ranks by."""
    import json

    used: dict[str, set] = {}
    store = None
    described = []
    for item in worker.info.inputs_of(worker.idx):
        path = destination(worker, item, used)  # in materialize's order: the same folders
        if item.get("id") is None:
            continue
        entry = {key: item.get(key) for key in ("id", "role", "reference", "name", "version", "resume")}
        entry["path"] = path
        if item["role"] == "checkpoint":
            store = store or worker.store()
            found = store.catalog.get(item["id"])
            if found is not None:
                entry.update(step=found.metadata.get("step"), created_at=found.created_at)
        described.append(entry)
    target = os.path.join(worker.folder.folder, "attached.json")
    with open(f"{target}.tmp", "w", encoding="utf-8") as handle:
        json.dump({"store": worker.info.store, "inputs": described}, handle, indent=1, default=str)
    os.replace(f"{target}.tmp", target)
