"""The Artifacts sidebar in a real JupyterLab, driven through Chromium."""

from __future__ import annotations

import json
import os
import re

from .conftest import SCREENSHOTS, accept_dialog, browse, dialog_ready, expect_focused, open_panel


def shot(page, name: str) -> None:
    """Save a screenshot once notifications have finished sliding in."""
    page.wait_for_timeout(800)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_open_panel(page, lab):
    panel = open_panel(page)
    for label in ("Models", "Checkpoints", "Datasets", "Jobs", "GPUs"):
        assert panel.get_by_role("tab", name=label).is_visible()
    shot(page, "panel")


def test_gpus(page, lab):
    from playwright.sync_api import expect

    panel = open_panel(page)
    panel.get_by_role("tab", name="GPUs").click()
    gpus = panel.locator(".jp-Artifacts-gpu")
    expect(gpus).to_have_count(2)
    expect(gpus.first).to_contain_text("Holder: free")
    # Simulated devices have a size but no use to report (see test_scale for nvidia-smi's).
    expect(gpus.first).to_contain_text("16.0 GB (use unknown)")
    shot(page, "panel-gpus")


def show_tab(panel, label: str) -> None:
    panel.get_by_role("tab", name=label).click()
    panel.locator(f'.jp-Artifacts-tab.jp-mod-active:has-text("{label}")').wait_for()


def artifact_row(panel, reference: str, state: str | None = None):
    selector = f'.jp-Artifacts-row[data-reference="{reference}"]'
    if state:
        selector += f'[data-state="{state}"]'
    return panel.locator(selector)


def test_create_checkpoint_from_local_folder(page, lab):
    panel = open_panel(page)
    show_tab(panel, "Checkpoints")
    panel.locator(".jp-Artifacts-create").click()
    dialog = page.locator(".jp-Dialog")
    dialog_ready(page)
    # Source-specific fields and hints follow the source type.
    dialog.locator('select[name="sourceType"]').select_option(label="Wasabi")
    dialog.locator('input[name="endpoint"]').wait_for()  # the form re-renders after the change
    assert "wasabisys.com" in dialog.locator('[data-field="path"] .jp-Artifacts-hint').inner_text()
    dialog.locator('select[name="sourceType"]').select_option(label="Hugging Face")
    dialog.locator('input[name="branch"]').wait_for()
    dialog.locator('input[name="endpoint"]').wait_for(state="detached")
    dialog.locator('select[name="sourceType"]').select_option(label="Kaggle")
    dialog.locator('select[name="kaggleType"]').wait_for()
    # Invalid input is refused inline, the dialog stays with the values kept.
    dialog.locator('select[name="sourceType"]').select_option(label="Local")
    dialog.locator('input[name="path"]').fill("https://example.org/x.tar.gz")
    page.locator(".jp-Dialog .jp-mod-accept").click()
    errors = page.locator(".jp-Dialog .jp-Artifacts-fieldError")
    errors.first.wait_for()
    text = " ".join(errors.all_inner_texts())
    assert "Give a name." in text and "not a URL" in text
    dialog = page.locator(".jp-Dialog")
    assert dialog.locator('input[name="path"]').input_value() == "https://example.org/x.tar.gz"
    # The cursor waits in the first field with an error.
    expect_focused(dialog.locator('input[name="name"]'))
    dialog.locator('input[name="name"]').fill("local-ckpt")
    dialog.locator('input[name="path"]').fill("data/ckpt_src")
    accept_dialog(page, lab)
    row = artifact_row(panel, "local-ckpt:v1", "ready")
    row.wait_for(timeout=30_000)
    assert "3 files" in row.inner_text() or "2 files" in row.inner_text()
    shot(page, "create-checkpoint")


def test_create_refused_by_server_shows_its_message(page, lab):
    panel = open_panel(page)
    show_tab(panel, "Checkpoints")
    panel.locator(".jp-Artifacts-create").click()
    dialog = page.locator(".jp-Dialog")
    dialog_ready(page)
    dialog.locator('input[name="name"]').fill("missing")
    dialog.locator('input[name="path"]').fill("data/does-not-exist")
    page.locator(".jp-Dialog .jp-mod-accept").click()
    error = page.locator(".jp-Dialog .jp-Artifacts-formError")
    error.wait_for()
    assert "does-not-exist" in error.inner_text()
    # Said once, in the dialog that stays open with what was typed; not again as a toast.
    assert page.locator(".jp-Dialog input[name=\"path\"]").input_value() == "data/does-not-exist"
    assert page.locator(".Toastify__toast", has_text="does-not-exist").count() == 0
    page.locator(".jp-Dialog .jp-mod-reject").click()


def test_save_to_from_file_browser(page, lab):
    listing = browse(page, "work")
    notebook = listing.locator('.jp-DirListing-item[data-isdir="false"]', has_text="train.ipynb")
    notebook.wait_for()
    notebook.click()
    notebook.click(button="right")
    item = page.locator('.lm-Menu-item[data-command="jupyter-artifacts:save-to"]')
    item.wait_for()
    assert "lm-mod-disabled" not in (item.get_attribute("class") or "")
    item.click()
    dialog = page.locator(".jp-Dialog")
    dialog_ready(page)
    assert dialog.locator('input[name="name"]').input_value() == "train"
    dialog.locator('select[name="kind"]').select_option("checkpoint")
    dialog.locator('select[name="folder"]').select_option("models")
    dialog.locator('input[name="name"]').fill("nb-ckpt")
    page.locator(".jp-Dialog .jp-mod-accept").click()
    panel = page.locator("#jupyter-artifacts-panel")
    panel.wait_for(state="visible")
    panel.locator('.jp-Artifacts-tab.jp-mod-active:has-text("Checkpoints")').wait_for()
    row = artifact_row(panel, "nb-ckpt:v1", "ready")
    row.wait_for(timeout=30_000)
    shot(page, "save-to")
    row.click()
    details = panel.locator('.jp-Artifacts-details[data-reference="nb-ckpt:v1"]')
    details.wait_for()
    files = details.locator('[data-section="files"]')
    files.locator("text=weights.bin").wait_for()
    assert "config.json" in files.inner_text()
    assert "train.ipynb" in details.locator('[data-section="source"]').inner_text()
    shot(page, "artifact-details")
    # Its lineage opens in the main area: saved from the notebook.
    details.get_by_role("button", name="Open the lineage graph").click()
    graph = page.locator('.jp-Artifacts-artifactView[data-reference="nb-ckpt:v1"] .jp-Artifacts-graph')
    assert "notebook work/train.ipynb" in graph.locator('[data-type="source"]').text_content()


def save_to_entry(page, item):
    """Right-click a file browser item and return the context menu's Save to entry."""
    item.click(button="right")
    entry = page.locator('.lm-Menu-item[data-command="jupyter-artifacts:save-to"]')
    entry.wait_for()
    return entry


def test_save_to_needs_one_notebook_or_folder(page, lab):
    from playwright.sync_api import expect

    listing = browse(page, "work")
    notebook = listing.locator(".jp-DirListing-item", has_text="train.ipynb")
    script = listing.locator(".jp-DirListing-item", has_text="train.py")
    folder = listing.locator('.jp-DirListing-item[data-isdir="true"]', has_text="models")
    notebook.click()
    script.click(modifiers=["Control"])
    expect(listing.locator(".jp-DirListing-item.jp-mod-selected")).to_have_count(2)
    expect(save_to_entry(page, script)).to_have_class(re.compile(r"\blm-mod-disabled\b"))
    shot(page, "save-to-two-selected")
    page.keyboard.press("Escape")
    script.click()  # a plain file alone
    expect(listing.locator(".jp-DirListing-item.jp-mod-selected")).to_have_count(1)
    expect(save_to_entry(page, script)).to_have_class(re.compile(r"\blm-mod-disabled\b"))
    page.keyboard.press("Escape")
    folder.click()
    expect(save_to_entry(page, folder)).not_to_have_class(re.compile(r"\blm-mod-disabled\b"))
    page.keyboard.press("Escape")


def set_refresh_interval(lab, milliseconds: int | None) -> None:
    """The panel's refreshInterval user setting (None: back to the default), read at page load."""
    raw = json.dumps({} if milliseconds is None else {"refreshInterval": milliseconds})
    status, body = lab.request("lab/api/settings/jupyter-artifacts:plugin", "PUT", {"raw": raw})
    assert status == 204, (status, body)


def test_save_to_shows_progress_until_ready(page, lab):
    folder = lab.root / "bigsave"
    models = folder / "models"
    for d in range(100):  # many small files: the save takes seconds
        (models / f"part{d:03d}").mkdir(parents=True)
        for i in range(300):
            (models / f"part{d:03d}" / f"shard{i}.txt").write_text(f"{d}-{i} " * 8)
    (folder / "train.ipynb").write_text((lab.root / "work" / "train.ipynb").read_text())
    requests: list[str] = []
    set_refresh_interval(lab, 500)
    try:
        page.reload()
        page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60_000)
        page.on("request", lambda r: requests.append(r.url) if "/jupyter-artifacts/api/" in r.url else None)
        panel = open_panel(page)
        show_tab(panel, "Checkpoints")
        start = len(requests)
        page.wait_for_timeout(3000)
        lists = [u for u in requests[start:] if "/api/artifacts?" in u]
        assert len(lists) >= 4, lists  # the setting took: every 500 ms rather than every 2 s

        listing = browse(page, "bigsave")
        notebook = listing.locator('.jp-DirListing-item[data-isdir="false"]', has_text="train.ipynb")
        notebook.click()
        save_to_entry(page, notebook).click()
        dialog = page.locator(".jp-Dialog")
        dialog_ready(page)
        dialog.locator('input[name="name"]').fill("big-save")
        accept_dialog(page, lab)
        running = panel.locator('.jp-Artifacts-operation[data-state="running"]', has_text="big-save")
        running.locator(".jp-Artifacts-muted", has_text=re.compile(r"\d+% · .* · \d+/30000 files")).wait_for()
        running.locator(".jp-Artifacts-progressBar").wait_for()
        shot(page, "save-to-progress")
        artifact_row(panel, "big-save:v1", "ready").wait_for(timeout=60_000)
        panel.locator('.jp-Artifacts-operation[data-state="succeeded"]', has_text="big-save").wait_for()
        page.locator(".Toastify__toast", has_text="Saved checkpoint big-save:v1").first.wait_for()
    finally:
        set_refresh_interval(lab, None)


def test_delete_is_off_while_in_use(page, lab):
    """Delete is disabled, with the holder, while something holds the artifact (the server would refuse)."""
    from jupyter_artifacts.store import Store, StoreSettings

    status, op = lab.api("snapshots", "POST", {"notebook": "work/train.ipynb", "folder": "models",
                                               "kind": "checkpoint", "name": "held-ckpt"})
    assert status == 202, op
    assert lab.wait_operation(op)["state"] == "succeeded"
    store = Store(StoreSettings.from_env(str(lab.store)))
    lease = store.acquire_lease("held-ckpt:v1", "job fine-tune (0123abcd) worker 0", pid=os.getpid(),
                                kind="checkpoint")
    try:
        panel = open_panel(page)
        show_tab(panel, "Checkpoints")
        artifact_row(panel, "held-ckpt:v1", "ready").click()
        details = panel.locator('.jp-Artifacts-details[data-reference="held-ckpt:v1"]')
        details.wait_for()
        delete = details.get_by_role("button", name="Delete")
        assert delete.is_disabled()
        assert "In use by job fine-tune, worker 0" in delete.get_attribute("title")
        assert "Delete is off while it is in use by job fine-tune, worker 0." in details.locator("[data-held]").inner_text()
        # The holder is a job: it opens.
        assert details.locator('[data-holder-kind="job"] button').inner_text() == "job fine-tune, worker 0"
        shot(page, "delete-held")
        assert lab.api("artifacts/held-ckpt:v1")[0] == 200
    finally:
        store.release_lease(lease)
    # Let go of, it can be deleted, after a confirmation that says what is lost.
    delete.wait_for()
    page.wait_for_function("b => !b.disabled", arg=delete.element_handle(), timeout=30_000)
    delete.click()
    confirm = page.locator(".jp-Dialog")
    assert "held-ckpt:v1" in confirm.inner_text() and "cannot be undone" in confirm.inner_text()
    page.locator(".jp-Dialog .jp-mod-warn").click()
    page.locator(".Toastify__toast", has_text="Deleted checkpoint held-ckpt:v1.").first.wait_for()
    assert lab.api("artifacts/held-ckpt:v1")[0] == 404


def test_commands_in_the_palette(page, lab):
    page.keyboard.press("Control+Shift+C")
    palette = page.locator(".lm-CommandPalette-input")
    palette.wait_for()
    palette.fill("Artifacts")
    items = page.locator(".lm-CommandPalette-item", has_text="Artifacts")
    items.first.wait_for()
    labels = " ".join(page.locator(".lm-CommandPalette-itemLabel").all_inner_texts())
    for label in ("Show Artifacts", "Create Artifact", "New Job", "Show GPUs", "Refresh Artifacts"):
        assert label in labels, labels
    palette.fill("Show Jobs")
    page.keyboard.press("Enter")
    panel = page.locator("#jupyter-artifacts-panel")
    panel.locator('.jp-Artifacts-tab.jp-mod-active:has-text("Jobs")').wait_for()
