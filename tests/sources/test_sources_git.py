"""git sources: shallow clones over smart HTTP (git http-backend on 127.0.0.1), file:// and ssh."""

from __future__ import annotations

import subprocess

import pytest

from jupyter_artifacts.errors import NotFound
from jupyter_artifacts.sources import create_from_source, parse_source
from jupyter_artifacts.sources.git import clone_repository, git_env

# Stands in for ssh: records its arguments, ignores the options and the host, and runs the remote
# command (git-upload-pack 'PATH') on this machine, so the ssh transport runs without an sshd.
FAKE_SSH = """#!/bin/sh
echo "$@" >> "$0.log"
for last; do :; done
exec sh -c "git ${last#git-}"
"""


def names(store, artifact) -> list[str]:
    return sorted(store.catalog.manifest(artifact.id))


def commit_count(repo, ref: str = "HEAD") -> int:
    return int(subprocess.run(["git", "-C", str(repo), "rev-list", "--count", ref], check=True,
                              capture_output=True, text=True).stdout)


def test_clone_over_http(store, git_repo):
    start = len(git_repo.bodies)
    artifact = create_from_source(store, "model", "demo", git_repo.http_url)
    assert artifact.source["type"] == "git"
    assert artifact.source["commit"] == git_repo.main_commit
    assert names(store, artifact) == ["CHANGES.md", "README.md", "src/train.py"]  # no .git folder
    assert any("git-upload-pack" in r for r in git_repo.requests)
    assert any(b"deepen 1" in body for body in git_repo.bodies[start:])  # asked the server for depth 1


def test_clone_a_branch_over_file_url(store, git_repo):
    artifact = create_from_source(store, "model", "demo-dev", git_repo.file_url, branch="dev")
    assert artifact.source["commit"] == git_repo.dev_commit
    assert artifact.source["branch"] == "dev"
    assert "dev.txt" in names(store, artifact)


def test_file_url_needs_no_git_suffix_with_source_type(store, git_repo):
    url = f"file://{git_repo.plain_path}"
    assert not url.endswith(".git")
    artifact = create_from_source(store, "model", "plain", url, source_type="git")
    assert artifact.source == {"type": "git", "path": url, "commit": git_repo.main_commit}
    assert names(store, artifact) == ["CHANGES.md", "README.md", "src/train.py"]


def test_file_url_without_git_suffix_is_a_local_folder_without_source_type(store, git_repo):
    url = f"file://{git_repo.plain_path}"
    artifact = create_from_source(store, "model", "plain", url)
    assert artifact.source == {"type": "local", "path": str(git_repo.plain_path)}
    saved = names(store, artifact)
    assert "HEAD" in saved and "config" in saved  # the bare repository's own files, as they are
    assert "README.md" not in saved  # nothing was checked out


@pytest.mark.parametrize("url", ["http_url", "file_url"])
def test_clone_is_shallow(git_repo, tmp_path, url):
    dest = tmp_path / "clone"
    commit = clone_repository(parse_source(getattr(git_repo, url)), str(dest))
    assert commit == git_repo.main_commit
    assert (dest / ".git" / "shallow").read_text().split() == [git_repo.main_commit]
    assert commit_count(dest) == 1 and commit_count(git_repo.path, "main") == 2


@pytest.fixture
def fake_ssh(tmp_path, monkeypatch):
    """The fake ssh program; git's own config and ssh settings are those of an empty account."""
    script = tmp_path / "fake-ssh"
    script.write_text(FAKE_SSH)
    script.chmod(0o755)
    config = tmp_path / "gitconfig"
    config.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GIT_SSH_COMMAND", raising=False)
    monkeypatch.delenv("GIT_SSH", raising=False)
    return script


def test_ssh_is_batch_mode_unless_the_user_chose_an_ssh_command(fake_ssh):
    assert git_env()["GIT_SSH_COMMAND"] == "ssh -o BatchMode=yes"


@pytest.mark.parametrize("how", ["GIT_SSH_COMMAND", "GIT_SSH", "core.sshCommand"])
@pytest.mark.parametrize("form", ["ssh://git@localhost{path}", "git@localhost:{path}"])
def test_clone_over_ssh_with_the_users_ssh_command(store, git_repo, fake_ssh, monkeypatch, how, form):
    if how == "core.sshCommand":
        (fake_ssh.parent / "gitconfig").write_text(f"[core]\n\tsshCommand = {fake_ssh}\n")
    else:
        monkeypatch.setenv(how, str(fake_ssh))
    url = form.format(path=git_repo.path)
    artifact = create_from_source(store, "model", "over-ssh", url)
    assert artifact.source == {"type": "git", "path": url, "commit": git_repo.main_commit}
    assert names(store, artifact) == ["CHANGES.md", "README.md", "src/train.py"]
    calls = (fake_ssh.parent / "fake-ssh.log").read_text().splitlines()
    assert any("git@localhost" in c and f"git-upload-pack '{git_repo.path}'" in c for c in calls), calls


def test_unknown_branch_fails_with_reason(store, git_repo):
    with pytest.raises(NotFound, match="no-such-branch"):
        create_from_source(store, "model", "demo", git_repo.http_url, branch="no-such-branch")
    failed = store.get("demo:v1")
    assert failed.state == "failed" and "no-such-branch" in failed.error


def test_missing_repository(store, git_repo):
    with pytest.raises(NotFound):
        create_from_source(store, "model", "nothing", git_repo.http_url.replace("demo.git", "absent.git"))
