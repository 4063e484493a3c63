"""An artifact's actions in the panel: copy its reference, add an alias, download it; the filter box."""

from __future__ import annotations

import tarfile
from pathlib import Path

from .conftest import accept_dialog, dialog_ready, open_panel
from .test_panel import artifact_row, shot, show_tab


def open_details(page, lab, kind_tab: str, reference: str):
    panel = open_panel(page)
    show_tab(panel, kind_tab)
    artifact_row(panel, reference, "ready").click()
    details = panel.locator(f'.jp-Artifacts-details[data-reference="{reference}"]')
    details.locator('[data-section="files"] li').first.wait_for()
    return panel, details


def test_copy_reference(page, lab):
    lab.create("checkpoint", "copy-ckpt", "data/ckpt_src")
    _, details = open_details(page, lab, "Checkpoints", "copy-ckpt:v1")
    details.get_by_role("button", name="Copy reference").click()
    page.locator(".Toastify__toast", has_text="Copied copy-ckpt:v1").first.wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == "copy-ckpt:v1"
    shot(page, "copy-reference")


def test_add_alias(page, lab):
    lab.create("checkpoint", "alias-ckpt", "data/ckpt_src")
    panel, details = open_details(page, lab, "Checkpoints", "alias-ckpt:v1")
    details.get_by_role("button", name="Add alias").click()
    dialog_ready(page)
    page.locator(".jp-Dialog input").fill("best")
    accept_dialog(page, lab)
    page.locator(".Toastify__toast", has_text="alias-ckpt:best now points to alias-ckpt:v1").first.wait_for()
    details.locator("tr", has_text="Aliases").locator("td", has_text="best").wait_for()
    panel.locator(".jp-Artifacts-back").click()
    artifact_row(panel, "alias-ckpt:v1").locator(".jp-Artifacts-alias", has_text="best").wait_for()
    status, shown = lab.api("artifacts/alias-ckpt:best?kind=checkpoint")
    assert status == 200 and shown["reference"] == "alias-ckpt:v1" and shown["aliases"] == ["best"]
    shot(page, "add-alias")


def test_download_a_whole_artifact_as_one_archive(page, lab, tmp_path):
    lab.create("checkpoint", "download-ckpt", "data/ckpt_src")
    _, details = open_details(page, lab, "Checkpoints", "download-ckpt:v1")
    with page.expect_download() as started:
        details.get_by_role("button", name="Download").click()
    download = started.value
    assert download.suggested_filename == "download-ckpt-v1.tar"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    source = lab.root / "data" / "ckpt_src"
    expected = {str(p.relative_to(source)): p.read_bytes() for p in source.rglob("*") if p.is_file()}
    with tarfile.open(saved) as tar:
        got = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    assert got == expected
    shot(page, "download-archive")


def test_download_a_lone_file_as_itself(page, lab, tmp_path):
    lab.create("model", "one-file", "work/models/config.json")
    _, details = open_details(page, lab, "Models", "one-file:v1")
    with page.expect_download() as started:
        details.get_by_role("button", name="Download").click()
    download = started.value
    assert download.suggested_filename == "config.json"
    saved = tmp_path / "config.json"
    download.save_as(saved)
    assert saved.read_bytes() == Path(lab.root / "work" / "models" / "config.json").read_bytes()


def test_filter_box(page, lab):
    from playwright.sync_api import expect

    for name in ("filter-alpha", "filter-beta"):
        lab.create("dataset", name, "data/ckpt_src")
    assert lab.api("artifacts/filter-beta:v1/aliases?kind=dataset", "POST", {"alias": "favourite"})[0] == 200
    panel = open_panel(page)
    show_tab(panel, "Datasets")
    rows = panel.locator(".jp-Artifacts-row")
    artifact_row(panel, "filter-beta:v1").wait_for()
    box = panel.locator(".jp-Artifacts-filter")

    box.fill("alpha")  # part of a name
    artifact_row(panel, "filter-beta:v1").wait_for(state="detached")
    expect(rows).to_have_count(1)
    artifact_row(panel, "filter-alpha:v1").wait_for()
    shot(page, "filter")

    box.fill("favourite")  # an alias, whole
    artifact_row(panel, "filter-alpha:v1").wait_for(state="detached")
    artifact_row(panel, "filter-beta:v1").wait_for()
    expect(rows).to_have_count(1)

    box.fill("no-such-thing")
    panel.locator(".jp-Artifacts-empty", has_text="Nothing matches “no-such-thing”.").wait_for()
    box.fill("")
    artifact_row(panel, "filter-alpha:v1").wait_for()
    artifact_row(panel, "filter-beta:v1").wait_for()
