"""jupyter-artifacts: immutable models, checkpoints and datasets, and GPU jobs, from Jupyter."""

from ._version import __version__

__all__ = ["__version__"]


def _jupyter_server_extension_points() -> list[dict]:
    """The Jupyter server extension; imported only when the server loads it."""
    from .server.app import ArtifactsApp

    return [{"module": "jupyter_artifacts.server.app", "app": ArtifactsApp}]


def _jupyter_labextension_paths() -> list[dict]:
    """The JupyterLab panel, for `jupyter labextension develop`."""
    return [{"src": "labextension", "dest": "jupyter-artifacts"}]


def load_ipython_extension(ipython) -> None:
    """`%load_ext jupyter_artifacts`: registers the magics; nothing heavy is imported until one runs."""
    from .kernel.magics import load

    load(ipython)


def unload_ipython_extension(ipython) -> None:
    from .kernel.magics import unload

    unload(ipython)


def __getattr__(name: str):
    """`from jupyter_artifacts import Client` imports the SDK only when it is asked for."""
    if name == "Client":
        from .kernel.sdk import Client

        return Client
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
