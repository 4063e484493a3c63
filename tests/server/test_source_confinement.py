"""Over REST, every source that reads the server's disk stays inside root_dir and allowed_local_roots
(git over file://, manifest lines, jobs' data manifests), and archives are extracted within limits."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest
from traitlets import TraitError

from jupyter_artifacts.server.app import ArtifactsApp

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
    for output in (f"local://{tmp_path}/planted", f"file://{tmp_path}/planted", "local://../../planted",
                   f"simplecache::file://{tmp_path}/planted"):  # an output URL is written on this disk
        code, data = await api.post("jobs", body={**base, "output": output})
        assert code == 403 and SETTING in data["message"], (output, data)
    assert (await api.ok("GET", "jobs"))["jobs"] == [] and not (tmp_path / "planted").exists()

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


def hard_link_to_nothing() -> bytes:
    """A tar whose hard link names a member the archive does not hold."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("a.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"a"))
        link = tarfile.TarInfo("b.txt")
        link.type, link.linkname = tarfile.LNKTYPE, "missing.txt"
        tar.addfile(link)
    return buffer.getvalue()


def zip_of_zeros(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("readme.txt", "tiny")
        zf.writestr("zeros.bin", bytes(size))
    return buffer.getvalue()


async def test_bad_archives_fail_with_the_status_of_the_mistake(api, write_tree):
    write_tree({"links.tar": hard_link_to_nothing(), "bomb.zip": zip_of_zeros(5_000_000)})
    for source, status, words in (("links.tar", 400, "'missing.txt', which is not a file earlier"),
                                  ("bomb.zip", 413, "'zeros.bin' takes the archive past 200 times its own size")):
        op = await api.ok("POST", "artifacts", expect=202, body={"kind": "dataset", "name": "bad", "source": source})
        done = await api.wait(op)
        assert done["state"] == "failed" and done["error"]["status"] == status, done
        assert words in done["error"]["message"], done
    assert (await api.ok("GET", "artifacts"))["total"] == 0


class TestRatioSetting:
    @pytest.fixture
    def artifacts_config(self, store_root, allowed_root):
        return {"root_url": str(store_root), "allowed_local_roots": [str(allowed_root)], "max_archive_ratio": "none"}

    async def test_the_server_setting_reaches_extraction(self, api, write_tree):
        write_tree({"bomb.zip": zip_of_zeros(5_000_000)})
        created = await api.create("dataset", "zeros", "bomb.zip")
        assert created["size"] == 5_000_004


def test_an_invalid_ratio_setting_names_the_setting():
    with pytest.raises(TraitError, match=r"^c\.ArtifactsApp\.max_archive_ratio: Invalid archive ratio 'lots'"):
        ArtifactsApp(max_archive_ratio="lots")
    assert ArtifactsApp(max_archive_ratio="500").max_archive_ratio == "500"
