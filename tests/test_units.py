"""One parser and one format for sizes: store limits, the quota, job memory and GPU memory agree."""

from __future__ import annotations

import pytest

from jupyter_artifacts.errors import InvalidInput
from jupyter_artifacts.jobs import JobSpec
from jupyter_artifacts.jobs.gpus import parse_setting
from jupyter_artifacts.store import StoreSettings
from jupyter_artifacts.units import SIZE_FORMS, format_size, parse_size


@pytest.mark.parametrize(("text", "size"), [
    ("512M", 512 * 10**6), ("512 MB", 512 * 10**6), ("8G", 8 * 10**9), ("8Gi", 8 * 2**30), ("1.5T", 15 * 10**11),
    ("2k", 2000), (4096, 4096), (2.5e9, 2_500_000_000),
])
def test_every_face_reads_a_size_the_same_way(text, size):
    assert parse_size(text) == size
    spec = JobSpec.from_dict({"type": "training", "name": "j", "command": "true", "resources": {"memory": text}})
    assert spec.memory == size


@pytest.mark.parametrize("text", [None, "", "none", "off", "0", 0, " None "])
def test_no_limit_is_spelled_the_same_everywhere(text, monkeypatch):
    assert parse_size(text) is None
    spec = JobSpec.from_dict({"type": "training", "name": "j", "command": "true", "memory": text})
    assert spec.memory is None
    if isinstance(text, str):
        monkeypatch.setenv("JUPYTER_ARTIFACTS_QUOTA", text)
        assert StoreSettings.from_env().quota is None


@pytest.mark.parametrize("text", ["lots", "-1", -1, True, "8X", "9" * 400 + "T", float("inf")])
def test_a_size_that_is_not_one_is_refused_with_the_accepted_forms(text):
    with pytest.raises(InvalidInput) as error:
        parse_size(text, "memory")
    assert error.value.message.startswith("Invalid memory ") and error.value.message.endswith(f"use {SIZE_FORMS}.")
    with pytest.raises(InvalidInput, match="SI units"):
        JobSpec.from_dict({"type": "training", "name": "j", "command": "true", "memory": text})


def test_gpu_memory_of_a_simulated_inventory_takes_the_same_forms():
    assert parse_setting("fake:1::8Gi")[1]["memory"] == 8 * 2**30
    with pytest.raises(InvalidInput):
        parse_setting("fake:1::lots")


@pytest.mark.parametrize(("size", "text"), [
    (None, "unlimited"), (0, "0 B"), (999, "999 B"), (1000, "1 KB"), (1500, "1.5 KB"), (512 * 10**6, "512 MB"),
    (8 * 10**9, "8 GB"), (1_500_000_000_000, "1.5 TB"), (3 * 10**15, "3 PB"),
])
def test_sizes_are_shown_in_whole_si_units_where_they_fit(size, text):
    assert format_size(size) == text
