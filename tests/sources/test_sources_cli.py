"""The CLI end to end (a real subprocess): create from sources, manifests, and `public`."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest


@pytest.fixture
def cli_fast(cli):
    cli.env["JUPYTER_ARTIFACTS_FETCH_BACKOFF"] = "0.02"
    cli.env["JUPYTER_ARTIFACTS_FETCH_ATTEMPTS"] = "2"
    cli.env.pop("JUPYTER_ARTIFACTS_PUBLIC_MIRROR", None)
    cli.env.pop("JUPYTER_ARTIFACTS_PUBLIC_CATALOG", None)
    return cli


def test_create_from_web_then_show(cli_fast, web):
    url = web.put("cli/model.bin", b"m" * 100)
    created = cli_fast.json("model", "create", "webmodel", url)
    assert created["state"] == "ready" and created["source"] == {"type": "web", "path": url}
    shown = cli_fast.json("model", "show", "webmodel")
    assert list(shown["manifest"]) == ["model.bin"]


def test_create_from_s3_with_endpoint_and_source_type(cli_fast, s3):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        cli_fast.env[key] = "testing" if "REGION" not in key else "us-east-1"
    s3.put("ckpt/a.pt", b"a")
    created = cli_fast.json("checkpoint", "create", "ck", f"s3://{s3.name}/ckpt/", "--source-type", "wasabi",
                            "--endpoint", s3.url)
    assert created["source"]["type"] == "wasabi" and created["file_count"] == 1


def test_create_from_git_branch(cli_fast, git_repo):
    created = cli_fast.json("model", "create", "code", git_repo.http_url, "--branch", "dev")
    assert created["source"]["commit"] == git_repo.dev_commit


def test_path_that_does_not_fit_shows_the_accepted_forms(cli_fast):
    err = cli_fast.fail("dataset", "create", "d", "gs://bucket/key", "--source-type", "aws")
    assert "Accepted source paths:" in err and "wasabi" in err and "kaggle" in err


def test_kaggle_without_credentials(cli_fast, tmp_path):
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN"):
        cli_fast.env.pop(name, None)
    cli_fast.env["KAGGLE_CONFIG_DIR"] = str(tmp_path / "none")
    err = cli_fast.fail("dataset", "create", "titanic", "titanic", "--kaggle-type", "competition")
    assert "KAGGLE_USERNAME" in err and "KAGGLE_KEY" in err and "kaggle.json" in err


def test_failed_fetch_then_retry(cli_fast, web):
    url = f"{web.url}/cli-later/data.csv"
    err = cli_fast.fail("dataset", "create", "later", url)
    assert "Nothing found" in err
    failed = cli_fast.json("dataset", "show", "later:v1")
    assert failed["state"] == "failed" and url in failed["error"]
    web.put("cli-later/data.csv", "1,2\n")
    assert cli_fast.json("dataset", "create", "later", url)["version"] == 2


def test_dataset_from_manifest(cli_fast, web, tmp_path):
    manifest = tmp_path / "files.jsonl"
    manifest.write_text("\n".join(json.dumps({"url": web.put(f"cli-m/{i}.txt", str(i)), "path": f"d/{i}.txt"})
                                  for i in range(3)))
    created = cli_fast.json("dataset", "create", "fromlist", "--manifest", "files.jsonl")
    assert created["file_count"] == 3 and created["source"]["type"] == "manifest"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"url": "https://example.com/a", "path": "a"}\n{"url": 3}\n')
    err = cli_fast.fail("dataset", "create", "bad", "--manifest", str(bad))
    assert "line 2" in err


def test_relative_local_archive(cli_fast, tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "pack.zip", "w") as zf:
        zf.writestr("inside/a.txt", "a")
    created = cli_fast.json("dataset", "create", "pack", "pack.zip")
    assert created["file_count"] == 1 and created["source"]["archive"] == ".zip"


def test_public_list_show_fetch(cli_fast, tmp_path):
    listed = cli_fast.json("public", "list")
    assert len(listed) == 19 and {e["id"] for e in listed} >= {"whisper-tiny", "gpt-j-6b-float16"}
    assert all(e["fetched"] is None for e in listed)
    table = cli_fast.run("public", "list").stdout
    assert "stable-diffusion-v2-1" in table and "hf:stabilityai/stable-diffusion-2-1" in table
    shown = cli_fast.run("public", "show", "gpt-j-6b-float16").stdout
    assert "EleutherAI/gpt-j-6b@float16" in shown and "https://www.apache.org/licenses/LICENSE-2.0" in shown
    assert "not yet" in shown
    err = cli_fast.fail("public", "show", "whisper-huge")
    assert "No public checkpoint 'whisper-huge'" in err

    mirror = tmp_path / "mirror" / "whisper-tiny"
    mirror.mkdir(parents=True)
    (mirror / "config.json").write_text("{}")
    (mirror / "README.md").write_text("model card")
    cli_fast.env["JUPYTER_ARTIFACTS_PUBLIC_MIRROR"] = str(tmp_path / "mirror")
    fetched = cli_fast.json("public", "fetch", "whisper-tiny")
    assert fetched["name"] == "public.whisper-tiny" and fetched["metadata"]["public_id"] == "whisper-tiny"
    again = cli_fast.run("public", "fetch", "whisper-tiny").stdout
    assert "public.whisper-tiny:v1" in again and "license" in again
    assert cli_fast.json("public", "show", "whisper-tiny")["fetched"]["id"] == fetched["id"]
    assert [e["fetched"] for e in cli_fast.json("public", "list") if e["id"] == "whisper-tiny"] == ["public.whisper-tiny:v1"]


def test_show_reports_progress_while_downloading(cli_fast, web):
    for i in range(24):  # three waves of parallel downloads
        web.put(f"cli-slow/{i}.bin", b"s" * 500)
    restore = web.slow(0.5)
    proc = subprocess.Popen([sys.executable, "-m", "jupyter_artifacts.cli.main", "dataset", "create", "slow",
                             f"{web.url}/cli-slow/"], cwd=cli_fast.cwd, env=cli_fast.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = None
    try:
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            shown = cli_fast.run("dataset", "show", "slow:v1", "--json", check=False)
            if shown.returncode == 0:
                data = json.loads(shown.stdout)
                if data["state"] == "downloading" and (data["progress"] or {}).get("total_files"):
                    seen = data["progress"]
                    human = cli_fast.run("dataset", "show", "slow:v1").stdout
                    break
            time.sleep(0.1)
    finally:
        proc.wait(60)
        restore()
    assert proc.returncode == 0, proc.stderr
    assert seen is not None, "show never reported download progress"
    assert seen["total_files"] == 24 and seen["phase"] == "downloading" and "bytes" in seen
    assert "downloading" in human and "progress:" in human
    assert cli_fast.json("dataset", "show", "slow")["state"] == "ready"


def test_https_with_a_private_certificate_authority(cli_fast, tls_web):
    """A certificate the machine does not trust is refused; SSL_CERT_FILE makes it trusted."""
    url = tls_web.put("tls/model.bin", b"t" * 100)
    cli_fast.env.pop("SSL_CERT_FILE", None)
    err = cli_fast.fail("model", "create", "tls", url)
    assert len(err.splitlines()) == 1 and "self-signed certificate" in err and "set SSL_CERT_FILE" in err
    assert "attempts" not in err  # refused at once: trying again cannot help
    assert "SSL_CERT_FILE" in cli_fast.json("model", "show", "tls:v1")["error"]
    cli_fast.env["SSL_CERT_FILE"] = str(tls_web.cert)
    created = cli_fast.json("model", "create", "tls", url)
    assert created["state"] == "ready" and created["version"] == 2 and created["size"] == 100
    assert tls_web.requests == ["/tls/model.bin"]  # the untrusted attempt never sent its request
