"""Walking a folder: the same listing and fingerprint whether or not a worker process shares it."""

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from jupyter_artifacts.errors import InvalidInput
from jupyter_artifacts.store.snapshot import SHARED_WALK, scan, walk


@pytest.fixture
def wide(make_tree):
    files = {f"group-{g:02d}/part-{p}/f{i}.bin": f"{g}-{p}-{i}" for g in range(SHARED_WALK + 4)
             for p in range(3) for i in range(5)}
    folder = make_tree({**files, "top.txt": "top"})
    os.symlink("top.txt", folder / "group-07" / "part-1" / "to-top")
    return folder


def listing(scanned):
    return sorted(zip(scanned.relpaths, [tuple(scanned.numbers[i * 5:i * 5 + 5]) for i in range(len(scanned.relpaths))]))


WALK_TWICE = """
import json, os, sys
from jupyter_artifacts.store.snapshot import walk
forks = []
os.register_at_fork(after_in_parent=lambda: forks.append(1))
seen = {}
for way in ("shared", "alone"):
    if way == "alone":
        os.environ["JUPYTER_ARTIFACTS_NO_FORK"] = "1"
    before = len(forks)
    scanned = walk(sys.argv[1])
    seen[way] = {"forks": len(forks) - before, "fingerprint": scanned.fingerprint(),
                 "relpaths": list(scanned.relpaths), "numbers": list(scanned.numbers)}
print(json.dumps(seen))
"""


def test_a_shared_walk_finds_what_a_walk_on_one_process_finds(wide):
    # In a fresh interpreter: a test process may hold threads of earlier tests, where no fork is safe.
    run = subprocess.run([sys.executable, "-c", WALK_TWICE, str(wide)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    assert seen["shared"]["forks"] == 1 and seen["alone"]["forks"] == 0  # a worker process took part, then none
    shared, alone = (listing(SimpleNamespace(**seen[way])) for way in ("shared", "alone"))
    assert shared == alone == listing(walk(str(wide)))
    assert len(shared) == (SHARED_WALK + 4) * 15 + 2
    assert seen["shared"]["fingerprint"] == seen["alone"]["fingerprint"] == walk(str(wide)).fingerprint()
    link = next(f for f in scan(str(wide)) if f.link)
    assert (link.relpath, link.link) == ("group-07/part-1/to-top", "top.txt")


def test_a_change_anywhere_changes_the_fingerprint(wide):
    before = walk(str(wide)).fingerprint()
    os.utime(wide / "group-19" / "part-2" / "f4.bin", ns=(5, 5))
    assert walk(str(wide)).fingerprint() != before


def test_a_mistake_found_by_the_worker_process_is_reported_here(wide):
    os.symlink("/etc/passwd", wide / "group-18" / "part-0" / "outside")
    with pytest.raises(InvalidInput, match="group-18/part-0/outside -> /etc/passwd points outside"):
        walk(str(wide))
