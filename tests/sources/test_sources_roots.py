"""The allowed-roots check (the server's `local_roots`) for git over file://, however the git data
is reached; the CLI (no roots) keeps reading any local repository."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from jupyter_artifacts.errors import Forbidden
from jupyter_artifacts.sources import create_from_source, parse_source


def bare(path) -> None:
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True, capture_output=True)


def hostile_layouts(root, outside) -> dict[str, str]:
    """git URLs inside `root` whose data comes from the repository `outside` (bare)."""
    (root / "linked.git").symlink_to(outside)
    (root / "pointer").mkdir()
    (root / "pointer" / ".git").write_text(f"gitdir: {outside}\n")  # as a worktree or submodule has
    for name in ("borrowed.git", "objects-link.git"):  # the outside repository's refs, not its objects
        bare(root / name)
        shutil.copytree(outside / "refs", root / name / "refs", dirs_exist_ok=True)
        for ref in ("HEAD", "packed-refs"):
            if (outside / ref).exists():
                shutil.copy(outside / ref, root / name / ref)
    (root / "borrowed.git" / "objects" / "info" / "alternates").write_text(f"{outside}/objects\n")
    shutil.rmtree(root / "objects-link.git" / "objects")
    (root / "objects-link.git" / "objects").symlink_to(outside / "objects")
    (root.parent / f"{root.name}.git").symlink_to(outside)  # `file://ROOT` is read from ROOT.git
    return {
        "outside": f"file://{outside}", "linked": f"file://{root}/linked.git", "pointer": f"file://{root}/pointer",
        "alternates": f"file://{root}/borrowed.git", "objects-link": f"file://{root}/objects-link.git",
        "sibling": f"file://{root}", "host": f"file://localhost{outside}", "escaped": f"file://{root}/%2e%2e/x",
    }


def test_git_data_outside_the_roots_is_refused_however_it_is_reached(store, git_repo, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    urls = hostile_layouts(root, git_repo.path)
    (tmp_path / "x").symlink_to(git_repo.path)  # `%2e%2e` is `..` once git decodes it
    for which, url in urls.items():
        with pytest.raises(Forbidden) as info:
            parse_source(url, source_type="git", local_roots=[str(root)])
        assert "c.ArtifactsApp.allowed_local_roots" in info.value.message, which
        # Each is a real way out: without roots (the CLI) git clones the outside repository.
        artifact = create_from_source(store, "model", f"via-{which}", url, source_type="git")
        assert artifact.source["commit"] == git_repo.main_commit, which


def test_repositories_inside_the_roots_are_cloned(store, git_repo, tmp_path):
    """A clone made with --shared borrows its objects through alternates; inside the roots, it is read."""
    root = tmp_path / "root"
    subprocess.run(["git", "clone", "-q", "--bare", str(git_repo.path), str(root / "lib.git")], check=True)
    subprocess.run(["git", "clone", "-q", "--bare", "--shared", str(root / "lib.git"), str(root / "fork.git")],
                   check=True)
    assert (root / "fork.git" / "objects" / "info" / "alternates").exists()
    artifact = create_from_source(store, "model", "fork", f"file://{root}/fork.git", local_roots=[str(root)])
    assert artifact.source["commit"] == git_repo.main_commit
    assert "README.md" in store.catalog.manifest(artifact.id)


def test_a_manifest_line_outside_the_roots_is_refused_with_its_number(store, git_repo, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "notes.txt").write_text("notes")
    manifest = root / "lines.jsonl"
    manifest.write_text(json.dumps({"url": str(root / "notes.txt"), "path": "notes.txt"}) + "\n"
                        + json.dumps({"url": git_repo.file_url, "path": "code"}) + "\n")
    with pytest.raises(Forbidden, match=r"^line 2: The git repository .*c\.ArtifactsApp\.allowed_local_roots"):
        create_from_source(store, "dataset", "mixed", manifest=str(manifest), local_roots=[str(root)])
    assert store.list()[1] == 0
