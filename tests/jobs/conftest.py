"""A JobManager on the test store, with a simulated inventory of 2 GPUs."""

from __future__ import annotations

import pytest

from jupyter_artifacts.jobs import JobManager


@pytest.fixture
def jobs(store):
    return JobManager(store, inventory="fake:2")
