"""The frontend's jest tests (request helper and models), run by `make test` like everything else."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

LABEXTENSION = Path(__file__).resolve().parents[2] / "labextension"


def _jlpm() -> str | None:
    found = shutil.which("jlpm") or os.path.join(os.path.dirname(sys.executable), "jlpm")
    return found if os.path.exists(found) else None


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node")
@pytest.mark.skipif(not (LABEXTENSION / "node_modules" / "jest").exists(),
                    reason="labextension/node_modules is missing (pip install -e . or jlpm install makes it)")
@pytest.mark.skipif(_jlpm() is None, reason="jlpm (from jupyter-builder) is not installed")
def test_jest():
    result = subprocess.run([_jlpm(), "test", "--ci", "--silent"], cwd=LABEXTENSION, capture_output=True,
                            text=True, timeout=240)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "failed" not in output.split("Tests:")[-1].split("\n")[0], output[-3000:]
