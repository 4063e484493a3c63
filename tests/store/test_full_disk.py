"""A full disk under the store: one line for the user, nothing left behind, reading still works.

The store lives on a real 4 MB tmpfs, mounted by the test in a mount namespace of its own (as
root; otherwise in a user namespace, where an unprivileged user may mount a tmpfs), so the
kernel itself answers ENOSPC and the mount disappears with the process. The CLI runs as real
subprocesses inside that namespace; the scenario reports what each command did as JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCENARIO = r'''
import json, os, subprocess, sys
disk, source = sys.argv[1], sys.argv[2]
env = {**os.environ, "JUPYTER_ARTIFACTS_ROOT": os.path.join(disk, "store"), "JUPYTER_ARTIFACTS_NO_FORK": "1"}

def cli(*args):
    proc = subprocess.run([sys.executable, "-m", "jupyter_artifacts.cli.main", *args], env=env,
                          capture_output=True, text=True, timeout=120)
    return {"rc": proc.returncode, "out": proc.stdout, "err": proc.stderr}

def blobs():
    objects = os.path.join(disk, "store", "objects")
    return sorted(f for _, _, files in os.walk(objects) for f in files)

steps = {}
steps["small"] = cli("checkpoint", "create", "small", os.path.join(source, "small.bin"))
kept = blobs()
steps["too_big"] = cli("checkpoint", "create", "big", os.path.join(source, "big"))
steps["blobs_after_too_big"] = blobs() == kept
with open(os.path.join(disk, "filler"), "wb") as filler:  # fill the disk to the last block
    try:
        while True:
            filler.write(b"\0" * 65536)
            filler.flush()
    except OSError:
        pass
steps["free"] = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
for name, args in {"list": ("checkpoint", "list", "--json"), "show": ("checkpoint", "show", "small", "--json"),
                   "status": ("status",), "verify": ("verify",),
                   "create_when_full": ("checkpoint", "create", "other", os.path.join(source, "other.bin")),
                   "alias_when_full": ("checkpoint", "alias", "small", "best")}.items():
    steps[name] = cli(*args)
os.unlink(os.path.join(disk, "filler"))
steps["after_space_freed"] = cli("checkpoint", "create", "other", os.path.join(source, "other.bin"))
steps["list_after"] = cli("checkpoint", "list", "--json")
print(json.dumps(steps))
'''


def mount_namespace() -> list[str]:
    if not shutil.which("unshare"):
        pytest.skip("unshare (util-linux) is needed to mount a small tmpfs for this test")
    return ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]


@pytest.fixture
def full_disk_run(tmp_path: Path) -> dict:
    source = tmp_path / "source"
    (source / "big").mkdir(parents=True)
    (source / "small.bin").write_bytes(os.urandom(20_000))
    (source / "other.bin").write_bytes(os.urandom(20_000))
    for i in range(3):  # 6 MB in all, on a 4 MB disk
        (source / "big" / f"part{i}.bin").write_bytes(os.urandom(2_000_000))
    disk = tmp_path / "disk"
    disk.mkdir()
    script = tmp_path / "scenario.py"
    script.write_text(SCENARIO)
    shell = f"mount -t tmpfs -o size=4m tmpfs {disk} && exec {sys.executable} {script} {disk} {source}"
    proc = subprocess.run([*mount_namespace(), "sh", "-c", shell], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 and "mount" in proc.stderr and not proc.stdout:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def one_line(step: dict) -> str:
    assert step["rc"] != 0, step
    assert "Traceback" not in step["err"], step["err"]
    lines = step["err"].strip().splitlines()
    assert len(lines) == 1, step["err"]
    return lines[0]


def test_a_full_disk_is_one_line_leaves_nothing_and_reading_still_works(full_disk_run):
    steps = full_disk_run
    assert steps["small"]["rc"] == 0, steps["small"]
    message = one_line(steps["too_big"])
    assert "disk is full" in message and "jupyter artifacts gc" in message, message
    assert steps["blobs_after_too_big"], "the failed save left blobs behind"
    assert steps["free"] < 1 << 20
    for name in ("list", "show", "status", "verify"):
        assert steps[name]["rc"] == 0, (name, steps[name])
    assert [a["name"] for a in json.loads(steps["list"]["out"])] == ["small"]
    assert "0 damaged" in steps["verify"]["out"]
    for name in ("create_when_full", "alias_when_full"):
        assert "disk is full" in one_line(steps[name])
    assert steps["after_space_freed"]["rc"] == 0, steps["after_space_freed"]
    assert sorted(a["name"] for a in json.loads(steps["list_after"]["out"])) == ["other", "small"]
