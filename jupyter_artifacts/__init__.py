"""jupyter-artifacts: immutable models, checkpoints and datasets, and GPU jobs, from Jupyter."""

from ._version import __version__

__all__ = ["__version__"]
