"""The notebook face: magics, widgets and the Python SDK.

This package may import IPython and ipywidgets (lazily, where it can); nothing in the core
(store, sources, jobs) imports it. Every face here calls the same functions in `actions`.
"""

_EXPORTS = {"JobForm": ".widgets", "ArtifactBrowser": ".widgets", "JobMonitor": ".widgets", "Client": ".sdk"}


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
