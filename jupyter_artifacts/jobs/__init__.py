"""Training and inference jobs on the GPUs of the host the kernel runs on.

`JobManager(store, inventory=...)` is the API every face calls; `JobSpec` is what a job asks for.
Names are loaded on first use so that a worker's supervisor starts without importing the store.
"""

from __future__ import annotations

_EXPORTS = {
    "JobManager": ".manager", "Job": ".manager", "JobSpec": ".spec", "Inventory": ".gpus",
    "Device": ".gpus", "detect_gpus": ".gpus",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(name)
    import importlib

    module = importlib.import_module(_EXPORTS[name], __name__)
    return getattr(module, "detect" if name == "detect_gpus" else name)
