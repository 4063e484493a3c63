"""Over REST, every source that reads the server's disk stays inside root_dir and allowed_local_roots
(git over file://, manifest lines, jobs' data manifests)."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

SETTING = "c.ArtifactsApp.allowed_local_roots"


@pytest.fixture
def artifacts_config(store_root, allowed_root):
    return {"root_url": str(store_root), "allowed_local_roots": [str(allowed_root)], "gpus": "fake:2"}


def make_repo(path: Path) -> Path:
    """A real repository with one commit of README.md."""
    path.mkdir(parents=True)
    (path / "README.md").write_text("# private\n")
    identity = ["-c", "user.name=T", "-c", "user.email=t@example.com"]
    for args in (["init", "-q"], ["add", "README.md"], [*identity, "commit", "-q", "-m", "first"]):
        subprocess.run(["git", *args], cwd=path, check=True, capture_output=True)
    return path


async def test_git_over_file_urls_outside_the_roots_is_refused(api, jp_root_dir, tmp_path, write_tree):
    outside = make_repo(tmp_path / "outside" / "repo")
    (jp_root_dir / "pointer").mkdir()
    (jp_root_dir / "pointer" / ".git").write_text(f"gitdir: {outside / '.git'}\n")
    for body in ({"source": f"file://{outside}/.git"},
                 {"source": f"file://{outside}", "source_type": "git"},
                 {"source": f"file://{jp_root_dir}/pointer", "source_type": "git"}):
        code, data = await api.post("artifacts", body={"kind": "model", "name": "leak", **body})
        assert code == 403 and SETTING in data["message"], (body, data)
    write_tree({"lines.jsonl": json.dumps({"url": f"file://{outside}/.git", "path": "code"})})
    code, data = await api.post("artifacts", body={"kind": "dataset", "name": "leak", "manifest": "lines.jsonl"})
    assert code == 403 and data["message"].startswith("line 1: ") and SETTING in data["message"], data
    assert (await api.ok("GET", "artifacts"))["total"] == 0

    inside = make_repo(jp_root_dir / "inside")
    created = await api.create("model", "inside", f"file://{inside}/.git")
    assert created["file_count"] == 1 and created["source"]["type"] == "git"


async def test_job_data_manifest_urls_outside_the_roots_are_refused(api, write_tree, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("secret\n")
    write_tree({"exp/rows.csv": "1,2\n", "exp/show.py": "import os\nprint(sorted(os.listdir(os.environ['ML_DATA_PATH'])))\n",
                "exp/lines.jsonl": json.dumps({"url": f"local://{secret}", "path": "s.csv"})})
    base = {"type": "training", "name": "leak", "command": "show.py", "workdir": "exp"}
    for manifest in ([{"url": f"local://{secret}", "path": "s.csv"}],
                     [{"url": f"simplecache::file://{secret}", "path": "s.csv"}],
                     [{"url": f"simplecache::local://{secret}", "path": "s.csv"}],
                     [{"url": "local://../../secret.csv", "path": "s.csv"}],
                     {"s.csv": f"blockcache::local://{secret}"},
                     "lines.jsonl"):
        code, data = await api.post("jobs", body={**base, "data_manifest": manifest})
        assert code == 403 and SETTING in data["message"], (manifest, data)
    assert (await api.ok("GET", "jobs"))["jobs"] == []

    code, job = await api.post("jobs", body={**base, "name": "inside", "data_manifest": [
        {"url": "local://rows.csv", "path": "rows.csv"}, {"url": "simplecache::local://rows.csv", "path": "cached.csv"}]})
    assert code == 201, job
    rows = str((Path(job["workdir"]) / "rows.csv").resolve())
    assert [e["url"] for e in job["spec"]["data_manifest"]] == [rows, f"simplecache::file://{rows}"]
    for _ in range(600):
        job = await api.ok("GET", "jobs", job["id"])
        if job["state"] in ("finished", "failed"):
            break
        await asyncio.sleep(0.05)
    logs = await api.ok("GET", "jobs", job["id"], "logs", params={"worker": "0", "offset": "0"})
    assert job["state"] == "finished" and "['cached.csv', 'rows.csv']" in logs["text"], (job, logs)
