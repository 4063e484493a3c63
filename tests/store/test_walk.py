"""Walking a folder: every file and link once, in the manifest's order, spilled a batch at a time."""

import json
import os
import subprocess
import sys

import pytest

from jupyter_artifacts.errors import InvalidInput
from jupyter_artifacts.store.snapshot import WALK_BATCH, scan, walk


@pytest.fixture
def wide(make_tree):
    files = {f"group-{g:02d}/part-{p}/f{i}.bin": f"{g}-{p}-{i}" for g in range(20) for p in range(3) for i in range(15)}
    # names that sort around a folder's: a folder sorts as its name and a '/', as its files' paths do
    tricky = {"a": "file a", "a-b/x": "1", "a.txt": "2", "a0": "3", "b/a": "4", "b!": "5", "é/z": "6"}
    folder = make_tree({**files, **{f"mixed/{k}": v for k, v in tricky.items()}, "top.txt": "top"})
    os.symlink("top.txt", folder / "group-07" / "part-1" / "to-top")
    return folder


def listing(folder) -> list[str]:
    found = []
    for dirpath, _dirs, names in os.walk(folder):
        found.extend(os.path.relpath(os.path.join(dirpath, n), folder) for n in names)
    return sorted(found)


def test_a_walk_finds_every_file_in_path_order_a_batch_at_a_time(wide):
    walked = walk(str(wide))
    batches = list(walked.batches())
    paths = [rel for batch in batches for rel in batch.relpaths]
    assert len(batches) > 1 and all(len(b.relpaths) <= WALK_BATCH for b in batches)
    assert paths == listing(wide) and walked.count == len(paths)
    assert walked.size == sum(os.lstat(wide / p).st_size for p in paths if not os.path.islink(wide / p))
    link = next(f for f in scan(str(wide)) if f.link)
    assert (link.relpath, link.link) == ("group-07/part-1/to-top", "top.txt")
    st = os.stat(wide / "top.txt")
    top = next(f for f in scan(str(wide)) if f.relpath == "top.txt")
    assert (top.inode, top.size, top.mtime_ns, top.ctime_ns) == (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


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
    walked = walk(sys.argv[1])
    paths = [rel for batch in walked.batches() for rel in batch.relpaths]
    seen[way] = {"forks": len(forks) - before, "fingerprint": walked.fingerprint, "paths": paths}
print(json.dumps(seen))
"""


def test_a_walk_shared_with_a_worker_process_finds_what_one_process_finds(wide):
    # In a fresh interpreter: a test process may hold threads of earlier tests, where no fork is safe.
    run = subprocess.run([sys.executable, "-c", WALK_TWICE, str(wide)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    assert seen["shared"]["forks"] == 1 and seen["alone"]["forks"] == 0  # a worker took part, then none
    assert seen["shared"]["paths"] == seen["alone"]["paths"] == listing(wide)
    assert seen["shared"]["fingerprint"] == seen["alone"]["fingerprint"] == walk(str(wide)).fingerprint


def test_a_bad_link_found_by_a_worker_process_is_refused_in_one_line(wide):
    os.symlink("/etc/passwd", wide / "group-13" / "part-2" / "escape")
    run = subprocess.run([sys.executable, "-c", WALK_TWICE, str(wide)], capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "group-13/part-2/escape -> /etc/passwd points outside" in run.stderr


def test_a_change_anywhere_changes_the_fingerprint(wide):
    before = walk(str(wide)).fingerprint
    assert walk(str(wide)).fingerprint == before
    os.utime(wide / "group-19" / "part-2" / "f4.bin", ns=(5, 5))
    assert walk(str(wide)).fingerprint != before


def test_a_link_that_leads_outside_is_refused(wide):
    os.symlink("/etc/passwd", wide / "group-18" / "part-0" / "outside")
    with pytest.raises(InvalidInput, match="group-18/part-0/outside -> /etc/passwd points outside"):
        walk(str(wide))


def test_one_file_is_walked_as_itself(wide):
    walked = walk(str(wide / "top.txt"))
    assert walked.folder == str(wide) and [b.relpaths for b in walked.batches()] == [["top.txt"]]
