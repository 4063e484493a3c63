"""Kaggle sources through the Kaggle API (the optional `kaggle` package)."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Callable

from ..errors import Forbidden, InvalidInput
from . import archives
from .spec import SourceSpec, archive_suffix

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


def fetch(spec: SourceSpec, dest: str, work: str, *, check_total: Callable[[int], None] | None = None,
          limit: int | None = None, max_ratio: object = archives.DEFAULT_RATIO) -> None:
    """Download into the scratch folder `work`, then fill `dest` with the files, zips extracted."""
    download(spec, work)
    unpack(work, dest, check_total=check_total, limit=limit, max_ratio=max_ratio)


def unpack(src: str, dest: str, *, check_total: Callable[[int], None] | None = None,
           limit: int | None = None, max_ratio: object = archives.DEFAULT_RATIO) -> None:
    """Move downloaded files into `dest`; the Kaggle API hands out zips, extracted here as any archive
    source is (safely): a lone archive into `dest` itself, several each into a folder of its name."""
    names = sorted(os.listdir(src)) if os.path.isdir(src) else []
    found = [n for n in names if archive_suffix(n) and os.path.isfile(os.path.join(src, n))]
    os.makedirs(dest, exist_ok=True)
    for name in names:
        path = os.path.join(src, name)
        if name in found:
            target = dest if len(found) == 1 else os.path.join(dest, name[: -len(archive_suffix(name))])
            archives.extract(path, target, check_total=check_total, limit=limit, max_ratio=max_ratio)
        else:
            shutil.move(path, os.path.join(dest, name))


def download(spec: SourceSpec, dest: str) -> None:
    """Download a competition's files, a dataset or a kernel's output into `dest`, as the API gives them."""
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
