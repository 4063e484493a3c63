"""Kaggle sources through the Kaggle API (the optional `kaggle` package)."""

from __future__ import annotations

import importlib.util
import os

from ..errors import Forbidden, InvalidInput
from .spec import SourceSpec

CREDENTIALS_HELP = (
    "set KAGGLE_USERNAME and KAGGLE_KEY, or put kaggle.json in ~/.kaggle/ (or in $KAGGLE_CONFIG_DIR); "
    "create the token at https://www.kaggle.com/settings (API, Create New Token)"
)


def credentials_file() -> str:
    folder = os.environ.get("KAGGLE_CONFIG_DIR") or os.path.join(os.path.expanduser("~"), ".kaggle")
    return os.path.join(folder, "kaggle.json")


def has_credentials() -> bool:
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return True
    if os.environ.get("KAGGLE_API_TOKEN"):
        return True
    return os.path.isfile(credentials_file())


def check_ready(spec: SourceSpec) -> None:
    """Refuse before anything is reserved: no credentials, or no kaggle package."""
    if not has_credentials():
        raise Forbidden(f"Kaggle sources need Kaggle API credentials: {CREDENTIALS_HELP}.")
    if importlib.util.find_spec("kaggle") is None:
        raise InvalidInput("Kaggle sources need the kaggle package, which is not installed: "
                           "pip install 'jupyter-artifacts[kaggle]'")


def download(spec: SourceSpec, dest: str) -> None:
    """Download a competition's files, a dataset or a kernel's output into `dest` (zips are left as they are)."""
    check_ready(spec)
    from kaggle.api.kaggle_api_extended import KaggleApi  # optional dependency

    api = KaggleApi()
    api.authenticate()
    os.makedirs(dest, exist_ok=True)
    if spec.kaggle_type == "competition":
        api.competition_download_files(spec.path, path=dest, quiet=True)
    elif spec.kaggle_type == "dataset":
        api.dataset_download_files(spec.path, path=dest, quiet=True, unzip=False)
    else:
        api.kernels_output(spec.path, path=dest)
