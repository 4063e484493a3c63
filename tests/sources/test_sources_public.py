"""The public checkpoint catalog: its data, fetch-once-per-store from a mirror, licenses, site entries."""

from __future__ import annotations

import json
import threading

import pytest

from jupyter_artifacts.errors import InvalidInput, NotFound
from jupyter_artifacts.sources import public
from jupyter_artifacts.sources.public import fetch_public, find_fetched, get_public, license_acceptance, list_public
from jupyter_artifacts.store import Store

EXPECTED = {
    "stable-diffusion-v1-4": "stable-diffusion", "stable-diffusion-v1-5": "stable-diffusion",
    "stable-diffusion-v2-depth": "stable-diffusion", "stable-diffusion-v2-inpainting": "stable-diffusion",
    "stable-diffusion-v2-upscaler": "stable-diffusion", "stable-diffusion-v2-1": "stable-diffusion",
    "stable-diffusion-v1-4-diffuser": "diffusers", "stable-diffusion-v1-5-diffuser": "diffusers",
    "stable-diffusion-v2-diffuser": "diffusers", "stable-diffusion-v2-1-diffuser": "diffusers",
    "bloomz-7b1": "language-model", "gpt-j-6b": "language-model", "gpt-j-6b-float16": "language-model",
    "gpt-neox-20b": "language-model",
    "whisper-large-v2": "speech-recognition", "whisper-medium": "speech-recognition",
    "whisper-small": "speech-recognition", "whisper-base": "speech-recognition", "whisper-tiny": "speech-recognition",
}


def test_catalog_holds_the_well_known_checkpoints():
    entries = {e.id: e for e in list_public()}
    assert {k: e.category for k, e in entries.items()} == EXPECTED
    for e in entries.values():
        assert e.title and e.description and e.license.startswith("https://")
        assert e.source["type"] == "hf" and "/" in e.source["repo"]
    assert entries["stable-diffusion-v2-1"].source == {"type": "hf", "repo": "stabilityai/stable-diffusion-2-1"}
    assert entries["whisper-tiny"].source["repo"] == "openai/whisper-tiny"
    assert entries["gpt-j-6b-float16"].source == {"type": "hf", "repo": "EleutherAI/gpt-j-6b", "branch": "float16"}
    assert entries["gpt-j-6b-float16"].spec().branch == "float16"


def test_unknown_id_suggests_a_close_one():
    with pytest.raises(NotFound, match="Did you mean 'whisper-tiny'"):
        get_public("whisper-tin")


def make_mirror(tmp_path, ids=("whisper-tiny",)):
    mirror = tmp_path / "mirror"
    for pid in ids:
        folder = mirror / pid
        folder.mkdir(parents=True)
        (folder / "config.json").write_text('{"d_model": 384}')
        (folder / "model.safetensors").write_bytes(b"\0" * 4096)
        (folder / "README.md").write_text("---\nlicense: apache-2.0\n---\n# Whisper\n")
        (folder / "LICENSE").write_text("Apache License 2.0\n")
    return mirror


def test_fetched_once_per_store_from_a_local_mirror(store_root, tmp_path, monkeypatch):
    monkeypatch.setenv(public.MIRROR_ENV, str(make_mirror(tmp_path)))
    store = Store(root=str(store_root))  # its settings read the environment when they are made
    assert store.settings.public_mirror == str(tmp_path / "mirror")
    assert find_fetched(store, "whisper-tiny") is None
    first = fetch_public(store, "whisper-tiny", user="alice")
    assert first.kind == "checkpoint" and first.name == "public.whisper-tiny" and first.state == "ready"
    assert first.metadata["public_id"] == "whisper-tiny"
    assert first.metadata["license"] == "https://www.apache.org/licenses/LICENSE-2.0"
    assert sorted(store.catalog.manifest(first.id)) == ["LICENSE", "README.md", "config.json", "model.safetensors"]
    second = fetch_public(store, "whisper-tiny", user="bob")
    assert second.id == first.id
    assert store.list(kind="checkpoint")[1] == 1
    assert find_fetched(store, "whisper-tiny").id == first.id


def test_attaching_records_license_acceptance(store, tmp_path):
    store.settings.public_mirror = str(make_mirror(tmp_path))
    artifact = fetch_public(store, "whisper-tiny", user="alice")
    accepted = license_acceptance(store, "whisper-tiny", "alice")
    assert accepted["license"] == "https://www.apache.org/licenses/LICENSE-2.0"
    assert accepted["license_files"] == ["LICENSE", "README.md"]
    assert accepted["artifact_id"] == artifact.id and accepted["user"] == "alice"
    assert license_acceptance(store, "whisper-tiny", "bob") is None
    fetch_public(store, "whisper-tiny", user="bob")
    assert license_acceptance(store, "whisper-tiny", "bob")["user"] == "bob"


def test_mirror_served_over_http(store, web, tmp_path):
    web.put("mirror/whisper-base/config.json", "{}")
    web.put("mirror/whisper-base/weights/model.bin", b"w" * 1000)
    artifact = fetch_public(store, "whisper-base", mirror=f"{web.url}/mirror")
    assert sorted(store.catalog.manifest(artifact.id)) == ["config.json", "weights/model.bin"]
    assert artifact.source["public_id"] == "whisper-base" and artifact.source["mirror"] is True
    before = len(web.requests)
    assert fetch_public(store, "whisper-base", mirror=f"{web.url}/mirror").id == artifact.id
    assert len(web.requests) == before  # not fetched again


def test_mirror_without_the_checkpoint(store, tmp_path):
    with pytest.raises(NotFound, match="has no folder gpt-neox-20b/"):
        fetch_public(store, "gpt-neox-20b", mirror=str(make_mirror(tmp_path)))
    assert store.list()[1] == 0


def test_concurrent_first_uses_fetch_once(store, tmp_path):
    mirror = str(make_mirror(tmp_path))
    results, errors = [], []

    def attach() -> None:
        try:
            results.append(fetch_public(store, "whisper-tiny", mirror=mirror).id)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=attach) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(results)) == 1
    assert store.list(kind="checkpoint")[1] == 1


def test_without_a_mirror_it_comes_from_hugging_face(store, recording):
    """The hf source (recorded, not reached): the branch, and only the files the entry names."""
    base = "EleutherAI/gpt-j-6b@float16"
    recording.put(f"{base}/config.json", "{}")
    recording.put(f"{base}/pytorch_model.bin", "w")
    recording.put(f"{base}/README.md", "card")
    artifact = fetch_public(store, "gpt-j-6b-float16")
    assert sorted(store.catalog.manifest(artifact.id)) == ["README.md", "config.json", "pytorch_model.bin"]
    assert ("find", base) in recording.calls
    recording.put("stabilityai/stable-diffusion-2-1/v2-1_768-ema-pruned.ckpt", "ckpt")
    recording.put("stabilityai/stable-diffusion-2-1/v2-inference-v.yaml", "yaml")
    recording.put("stabilityai/stable-diffusion-2-1/README.md", "card")
    recording.put("stabilityai/stable-diffusion-2-1/unet/diffusion_pytorch_model.safetensors", "unet")
    recording.put("stabilityai/stable-diffusion-2-1/model_index.json", "{}")
    single = fetch_public(store, "stable-diffusion-v2-1")
    assert sorted(store.catalog.manifest(single.id)) == ["README.md", "v2-1_768-ema-pruned.ckpt",
                                                          "v2-inference-v.yaml"]
    diffusers = fetch_public(store, "stable-diffusion-v2-1-diffuser")
    assert sorted(store.catalog.manifest(diffusers.id)) == ["README.md", "model_index.json",
                                                             "unet/diffusion_pytorch_model.safetensors",
                                                             "v2-inference-v.yaml"]


def test_site_catalog_adds_and_replaces_entries(store, web, tmp_path, monkeypatch):
    url = web.put("site/our-model/weights.bin", b"ours")
    site = tmp_path / "site-catalog.json"
    site.write_text(json.dumps({"checkpoints": [
        {"id": "our-model", "title": "Our model", "category": "in-house", "license": "https://example.com/license",
         "source": {"path": url}},
        {"id": "whisper-tiny", "title": "Whisper tiny (site copy)", "source": {"type": "hf", "repo": "site/whisper"}},
    ]}))
    store.settings.public_catalog = str(site)
    entries = {e.id: e for e in list_public(store.settings.public_catalog)}
    assert entries["our-model"].origin == str(site)
    assert entries["whisper-tiny"].source["repo"] == "site/whisper"
    assert len(entries) == len(EXPECTED) + 1
    artifact = fetch_public(store, "our-model")
    assert list(store.catalog.manifest(artifact.id)) == ["weights.bin"]


def test_bad_site_catalog_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"id": "Bad Id", "source": {"path": "/x"}}]')
    with pytest.raises(InvalidInput, match="invalid public checkpoint id"):
        list_public(str(bad))
    with pytest.raises(InvalidInput, match="Cannot read"):
        list_public(str(tmp_path / "absent.json"))
