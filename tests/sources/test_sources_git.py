"""git sources: shallow clones over smart HTTP (git http-backend on 127.0.0.1) and file://."""

from __future__ import annotations

import pytest

from jupyter_artifacts.errors import NotFound
from jupyter_artifacts.sources import create_from_source
from jupyter_artifacts.sources.git import clone_command


def names(store, artifact) -> list[str]:
    return sorted(store.catalog.manifest(artifact.id))


def test_clone_over_http(store, git_repo):
    artifact = create_from_source(store, "model", "demo", git_repo.http_url)
    assert artifact.source["type"] == "git"
    assert artifact.source["commit"] == git_repo.main_commit
    assert names(store, artifact) == ["CHANGES.md", "README.md", "src/train.py"]  # no .git folder
    assert any("git-upload-pack" in r for r in git_repo.requests)


def test_clone_a_branch_over_file_url(store, git_repo):
    artifact = create_from_source(store, "model", "demo-dev", git_repo.file_url, branch="dev")
    assert artifact.source["commit"] == git_repo.dev_commit
    assert artifact.source["branch"] == "dev"
    assert "dev.txt" in names(store, artifact)


def test_file_url_needs_no_git_suffix_with_source_type(store, git_repo):
    url = git_repo.file_url.removesuffix(".git")
    artifact = create_from_source(store, "model", "demo", url + ".git", source_type="git")
    assert "README.md" in names(store, artifact)


def test_clone_is_shallow():
    cmd = clone_command("https://example.com/r.git", "/tmp/x", "main")
    assert cmd[cmd.index("--depth") + 1] == "1" and cmd[cmd.index("--branch") + 1] == "main"
    assert cmd[-3:] == ["--", "https://example.com/r.git", "/tmp/x"]


def test_unknown_branch_fails_with_reason(store, git_repo):
    with pytest.raises(NotFound, match="no-such-branch"):
        create_from_source(store, "model", "demo", git_repo.http_url, branch="no-such-branch")
    failed = store.get("demo:v1")
    assert failed.state == "failed" and "no-such-branch" in failed.error


def test_missing_repository(store, git_repo):
    with pytest.raises(NotFound):
        create_from_source(store, "model", "nothing", git_repo.http_url.replace("demo.git", "absent.git"))
