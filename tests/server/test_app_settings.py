"""ArtifactsApp traitlets become the store's settings; bad sizes name the setting."""

from __future__ import annotations

import pytest
from traitlets import TraitError

from jupyter_artifacts.server.app import ArtifactsApp


def test_traits_become_store_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_ARTIFACTS_MAX_DATASET_SIZE", "1T")
    app = ArtifactsApp(root_url=str(tmp_path / "store"), max_model_size="8G", max_checkpoint_size=1000,
                       quota="2Ti", catalog_path=str(tmp_path / "cat.sqlite"))
    settings = app.store_settings()
    assert settings.root == str(tmp_path / "store") and settings.catalog_path == str(tmp_path / "cat.sqlite")
    assert settings.max_size == {"model": 8 * 10**9, "checkpoint": 1000, "dataset": 10**12}
    assert settings.quota == 2 * 2**40
    assert ArtifactsApp(max_dataset_size="none", root_url="x").store_settings().max_size["dataset"] is None


def test_defaults_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_ARTIFACTS_ROOT", str(tmp_path / "env-root"))
    monkeypatch.setenv("JUPYTER_ARTIFACTS_QUOTA", "5G")
    settings = ArtifactsApp().store_settings()
    assert settings.root == str(tmp_path / "env-root") and settings.quota == 5 * 10**9
    assert settings.max_size["model"] == 50 * 10**9


def test_a_bad_size_names_the_setting():
    with pytest.raises(TraitError, match=r"c\.ArtifactsApp\.quota: Invalid size 'lots'"):
        ArtifactsApp(root_url="x", quota="lots").store_settings()


def test_extension_point_is_import_light():
    import subprocess
    import sys

    code = ("import sys, jupyter_artifacts; assert 'jupyter_server' not in sys.modules; "
            "points = jupyter_artifacts._jupyter_server_extension_points(); "
            "assert points[0]['app'].name == 'jupyter_artifacts', points")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
