"""The frontend's jest tests (request helper, models, the panel's refresh), run by `make test` like everything else."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

LABEXTENSION = Path(__file__).resolve().parents[2] / "labextension"


def _jlpm() -> str | None:
    found = shutil.which("jlpm") or os.path.join(os.path.dirname(sys.executable), "jlpm")
    return found if os.path.exists(found) else None


def test_jest():
    jlpm = _jlpm()
    assert shutil.which("node"), "jest needs Node.js: install it (apt-get install nodejs), then `make install`"
    assert jlpm, "jlpm (from jupyter-builder) is missing: run `make install` (pip install -e '.[test]')"
    assert (LABEXTENSION / "node_modules" / "jest").exists(), \
        "labextension/node_modules is missing: run `make install` (pip install -e . runs jlpm install), " \
        "or `cd labextension && jlpm install`"
    result = subprocess.run([jlpm, "test", "--ci", "--silent"], cwd=LABEXTENSION, capture_output=True,
                            text=True, timeout=240)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "failed" not in output.split("Tests:")[-1].split("\n")[0], output[-3000:]
