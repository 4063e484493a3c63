"""Datasets from manifests of JSON lines {"url", "path"}: validated first, then fetched in parallel."""

from __future__ import annotations

import json

import pytest

from jupyter_artifacts.errors import InvalidInput, NotFound
from jupyter_artifacts.sources import create_from_source
from jupyter_artifacts.sources.manifests import parse_manifest_text


def write_manifest(tmp_path, lines: list) -> str:
    path = tmp_path / "manifest.jsonl"
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return str(path)


def contents(store, artifact) -> dict[str, bytes]:
    return {p: store.root.read_blob(e["digest"]) for p, e in store.catalog.manifest(artifact.id).items()}


def test_manifest_fetches_every_url_to_its_path(store, web, ftp, s3, git_repo, tmp_path):
    local = tmp_path / "local-notes.txt"
    local.write_text("notes")
    s3_url = s3.put("shards/shard-0.parquet", b"parquet-bytes")
    web.put("mtree/x.txt", "x")
    web.put("mtree/y/z.txt", "z")
    lines = [
        {"url": web.put("m/train.csv", "a,b\n"), "path": "train/train.csv"},
        {"url": f"{web.url}/mtree/", "path": "tree"},
        {"url": ftp.put("m/labels.txt", "cat\ndog\n"), "path": "labels/labels.txt"},
        {"url": s3_url, "path": "shards/0.parquet", "endpoint": s3.url},
        {"url": str(local), "path": "notes.txt"},
        {"url": git_repo.file_url, "path": "code"},
        "",
        "# comments and blank lines are skipped",
    ]
    artifact = create_from_source(store, "dataset", "mixed", manifest=write_manifest(tmp_path, lines))
    got = contents(store, artifact)
    assert got["train/train.csv"] == b"a,b\n"
    assert got["tree/x.txt"] == b"x" and got["tree/y/z.txt"] == b"z"
    assert got["labels/labels.txt"] == b"cat\ndog\n"
    assert got["shards/0.parquet"] == b"parquet-bytes"
    assert got["notes.txt"] == b"notes"
    assert got["code/README.md"] == b"# demo\n"
    assert artifact.source["type"] == "manifest" and artifact.source["entries"] == 6


def test_bad_line_is_reported_with_its_number_before_anything_is_fetched(store, web, tmp_path):
    good = web.put("bad/ok.csv", "ok")
    lines = [
        {"url": good, "path": "ok.csv"},
        {"url": good, "path": "ok2.csv"},
        '{"url": "https://example.com/x", "path": ',
        {"url": good},
        {"url": "gs://bucket/key", "path": "../outside.csv"},
        {"url": good, "path": "/abs.csv"},
        {"url": "svn://nope", "path": "x"},
        {"url": good, "path": "ok.csv"},
    ]
    with pytest.raises(InvalidInput) as info:
        create_from_source(store, "dataset", "bad", manifest=write_manifest(tmp_path, lines))
    message = info.value.message
    assert "line 3: not valid JSON" in message
    assert 'line 4: "path" must be a non-empty string' in message
    assert "line 5: path '../outside.csv' escapes the dataset root" in message
    assert "line 6:" in message and "absolute" in message
    assert "line 7:" in message
    assert "nothing was fetched" in message
    assert len(info.value.details["errors"]) == 6
    assert web.requests == []  # nothing was fetched
    assert store.list()[1] == 0


def test_paths_that_collide_are_refused():
    text = "\n".join(json.dumps(x) for x in [{"url": "https://e.com/a", "path": "data"},
                                              {"url": "https://e.com/b", "path": "data/b.csv"}])
    with pytest.raises(InvalidInput, match="line 2: path 'data/b.csv' collides with line 1"):
        parse_manifest_text(text)


@pytest.mark.timeout(60)
def test_collisions_at_the_end_of_100000_lines_are_reported(store, tmp_path):
    """Each path is looked up among the folders and files seen so far, not compared with every earlier
    line (20,000 lines took 36 s, 100,000 some 15 minutes); benchmarks/bench_manifest.py times it."""
    lines = [{"url": f"https://example.com/d/{i}.csv", "path": f"part{i % 100}/f{i}.csv"} for i in range(1, 99_998)]
    lines += [{"url": "https://example.com/again.csv", "path": "part5/f5.csv"},  # line 99,998: line 5's path
              {"url": "https://example.com/folder/", "path": "part7"},  # 99,999: a folder holding line 7
              {"url": "https://example.com/inner.csv", "path": "part9/f9.csv/inner.csv"}]  # 100,000: under line 9
    with pytest.raises(InvalidInput) as info:
        create_from_source(store, "dataset", "big", manifest=write_manifest(tmp_path, lines))
    assert info.value.details["errors"] == ["line 99998: path 'part5/f5.csv' collides with line 5",
                                            "line 99999: path 'part7' collides with line 7",
                                            "line 100000: path 'part9/f9.csv/inner.csv' collides with line 9"]
    assert "manifest.jsonl has 3 bad line(s); nothing was fetched" in info.value.message
    assert store.list()[1] == 0


def test_a_failing_url_fails_the_dataset_with_its_line(store, web, tmp_path):
    store.settings.fetch_attempts = 2
    lines = [{"url": web.put("f/ok.csv", "ok"), "path": "ok.csv"},
             {"url": f"{web.url}/f/missing.csv", "path": "missing.csv"}]
    with pytest.raises(NotFound) as info:
        create_from_source(store, "dataset", "partial", manifest=write_manifest(tmp_path, lines))
    assert "line 2" in info.value.message
    failed = store.get("partial:v1")
    assert failed.state == "failed" and "line 2" in failed.error
    web.put("f/missing.csv", "here now")
    assert create_from_source(store, "dataset", "partial", manifest=write_manifest(tmp_path, lines)).version == 2


def test_many_urls_in_parallel_with_progress(store, web, tmp_path):
    lines = [{"url": web.put(f"many/{i}.bin", bytes([i]) * 100), "path": f"part-{i:03d}.bin"} for i in range(40)]
    calls = []
    restore = web.slow(0.1)  # 40 requests one at a time would take 4 s; progress is reported every 0.25 s
    try:
        artifact = create_from_source(store, "dataset", "many", manifest=write_manifest(tmp_path, lines),
                                      progress=lambda *a: calls.append(a))
    finally:
        restore()
    assert artifact.file_count == 40 and artifact.size == 4000
    assert web.most_in_flight > 1, "the URLs were fetched one at a time"
    assert sorted(r for r in web.requests if r.startswith("/many/")) == sorted(f"/many/{i}.bin" for i in range(40))
    # A manifest announces no totals, so while fetching each report's totals are its counts (storing's are not).
    fetching = [c for c in calls if c[2:] == c[:2]]
    assert any(0 < files < 40 for _, files, _, _ in fetching), calls  # reported while fetching, not only at the end
    assert fetching == sorted(fetching)  # bytes and files only grow
    assert calls[-1] == (4000, 40, 4000, 40)


def test_manifest_and_path_together_are_refused(store, tmp_path):
    with pytest.raises(InvalidInput, match="not both"):
        create_from_source(store, "dataset", "x", "/tmp", manifest=write_manifest(tmp_path, []))


def test_empty_or_missing_manifest(store, tmp_path):
    with pytest.raises(InvalidInput, match="lists no files"):
        create_from_source(store, "dataset", "x", manifest=write_manifest(tmp_path, ["", "# nothing"]))
    with pytest.raises(NotFound, match="No such manifest"):
        create_from_source(store, "dataset", "x", manifest=str(tmp_path / "absent.jsonl"))
