"""The panel as a place to work, in a real JupyterLab through Chromium: Save to on a folder, jobs in the
main area with their charts, notifications, grouped lists, comparison, the lineage graph, the New job
dialog, the palette and the keyboard, and dragging artifacts and folders around."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from .conftest import accept_dialog, browse, dialog_ready, open_panel, run_command, wait_job
from .test_panel import artifact_row, shot, show_tab

PANEL = "#jupyter-artifacts-panel"


def main_view(page, selector: str):
    """The main-area view matching `selector`, once shown."""
    view = page.locator(f".jp-Artifacts-mainView:visible {selector}")
    view.wait_for(timeout=30_000)
    return view


def open_job(page, name: str):
    """Click a job in the panel's Jobs tab; its view opens in the main area."""
    panel = open_panel(page)
    show_tab(panel, "Jobs")
    panel.locator(f'.jp-Artifacts-jobRow[data-name="{name}"]').first.click()
    return main_view(page, f'.jp-Artifacts-jobView:has(h2:text-is("Job {name} "))')


def toasts(page) -> list[str]:
    return page.locator(".Toastify__toast").all_inner_texts()


# 1 ------------------------------------------------------------------------------------------------

def test_save_to_on_a_folder_saves_that_folder(page, lab):
    listing = browse(page, "work")
    folder = listing.locator('.jp-DirListing-item[data-isdir="true"]', has_text="models")
    folder.click()
    folder.click(button="right")
    page.locator('.lm-Menu-item[data-command="jupyter-artifacts:save-to"]').click()
    dialog = page.locator(".jp-Dialog")
    dialog_ready(page)
    assert "Save the folder work/models/" in dialog.locator(".jp-Dialog-header").inner_text()
    assert dialog.locator('select[name="folder"]').count() == 0  # the folder itself, nothing to choose
    assert dialog.locator('input[name="name"]').input_value() == "work"  # its parent's name says more
    dialog.locator('input[name="name"]').fill("folder-save")
    accept_dialog(page, lab)
    panel = page.locator(PANEL)
    artifact_row(panel, "folder-save:v1", "ready").click()
    details = panel.locator('.jp-Artifacts-details[data-reference="folder-save:v1"]')
    files = details.locator('[data-section="files"]')
    files.locator("text=weights.bin").wait_for()
    assert "config.json" in files.inner_text()
    status, saved = lab.api("artifacts/folder-save:v1/files")
    assert status == 200 and sorted(f["path"] for f in saved["files"]) == ["config.json", "weights.bin"]
    shot(page, "save-to-folder")


def test_save_to_of_a_notebook_without_folders_says_so_once_in_the_dialog(page, lab):
    lonely = lab.root / "lonely"
    lonely.mkdir(exist_ok=True)
    (lonely / "solo.ipynb").write_text((lab.root / "work" / "train.ipynb").read_text())
    listing = browse(page, "lonely")
    notebook = listing.locator(".jp-DirListing-item", has_text="solo.ipynb")
    notebook.click()
    notebook.click(button="right")
    page.locator('.lm-Menu-item[data-command="jupyter-artifacts:save-to"]').click()
    dialog_ready(page)
    page.locator(".jp-Dialog .jp-mod-accept").click()
    error = page.locator('.jp-Dialog [data-field="folder"] .jp-Artifacts-fieldError')
    error.wait_for()
    assert "no models/ or output/ folder next to solo.ipynb" in error.inner_text()
    assert "right-click" in error.inner_text()
    assert not [t for t in toasts(page) if "folder" in t]  # in the dialog, not again as a toast
    shot(page, "save-to-no-folder")
    page.locator(".jp-Dialog .jp-mod-reject").click()


# 2 ------------------------------------------------------------------------------------------------

def test_a_job_opens_in_the_main_area_with_its_metrics_charted(page, lab, sweep):
    view = open_job(page, "sweep")
    assert view.get_attribute("data-state") == "finished"
    # A chart per metric, a line per worker.
    for metric in ("loss", "accuracy"):
        chart = view.locator(f'figure[data-metric="{metric}"]')
        assert chart.locator(".jp-Artifacts-series").count() == 2
        assert re.match(r"M[\d.]+,[\d.]+ L", chart.locator(".jp-Artifacts-series path").first.get_attribute("d"))
    legend = view.locator('figure[data-metric="loss"] .jp-Artifacts-chartLegend').inner_text()
    assert "worker 0 (lr=0.1)" in legend and "worker 1 (lr=0.2)" in legend
    # The workers: the best marked (loss 1.667 < 3.333), sortable by any column.
    table = view.locator(".jp-Artifacts-workers")
    assert table.locator('tr[data-best="true"]').get_attribute("data-worker") == "1"
    assert table.locator('tr[data-worker="1"] [data-column="metric:loss"]').inner_text() == "1.667"
    first = lambda: table.locator("tbody tr").first.get_attribute("data-worker")  # noqa: E731
    table.locator('th[data-column="metric:loss"] button').click()
    page.wait_for_function("t => t.querySelector('tbody tr').dataset.worker === '1'", arg=table.element_handle())
    table.locator('th[data-column="metric:loss"] button').click()
    page.wait_for_function("t => t.querySelector('tbody tr').dataset.worker === '0'", arg=table.element_handle())
    assert table.locator('th[data-column="metric:loss"]').get_attribute("aria-sort") == "descending"
    assert first() == "0"
    # The log of the worker chosen.
    table.locator('tbody tr[data-worker="1"]').click()
    view.locator('[data-section="log"] h3', has_text="Log of worker 1").wait_for()
    view.locator(".jp-Artifacts-log", has_text="accuracy=0.6").wait_for()
    # What the checkpoint GC removed, and what each worker made.
    assert "Checkpoint GC removed 4 checkpoints" in view.locator("[data-gc]").inner_text()
    assert view.locator('[data-checkpoint][data-deleted="true"]').count() == 4
    view.locator('[data-section="outputs"]').scroll_into_view_if_needed()
    shot(page, "job-view")
    view.locator('[data-output-worker="1"] button', has_text="Job - sweep Worker 1:v1").click()
    main_view(page, '.jp-Artifacts-artifactView[data-reference="Job - sweep Worker 1:v1"]')


def test_run_again_clones_the_job_into_the_form(page, lab, sweep):
    view = open_job(page, "sweep")
    view.get_by_role("button", name="Run again").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator('input[name="command"]').wait_for()
    dialog_ready(page)
    assert "Run sweep again" in dialog.locator(".jp-Dialog-header").inner_text()
    assert dialog.locator('input[name="command"]').input_value() == "python work/sweep.py"
    assert json.loads(dialog.locator('textarea[name="params"]').input_value()) == {"lr": [0.1, 0.2]}
    assert dialog.locator('[data-field="checkpoints"] input[value="warm-input:v1"]').is_checked()
    assert "This makes 2 workers (lr × 2)." in dialog.locator(".jp-Artifacts-workerCount").inner_text()
    page.locator(".jp-Dialog .jp-mod-reject").click()


def test_a_stopped_job_is_neutral_and_an_ended_job_can_be_deleted(page, lab):
    status, job = lab.api("jobs", "POST", {"type": "training", "name": "to-stop", "command": "python -u work/train.py",
                                          "resources": {"gpus": 0}})
    assert status == 201, job
    view = open_job(page, "to-stop")
    view.locator(".jp-Artifacts-log", has_text="step 1 ").wait_for(timeout=30_000)
    assert view.get_by_role("button", name="Delete job").is_disabled()  # it runs
    view.get_by_role("button", name="Stop").click()
    page.locator(".jp-Dialog .jp-mod-warn").click()
    stopped = page.locator('.jp-Artifacts-mainView:visible .jp-Artifacts-jobView[data-state="stopped"]')
    stopped.wait_for(timeout=60_000)
    assert stopped.locator("[data-stopped]").inner_text() == "Stopped on request."
    assert stopped.locator(".jp-Artifacts-formError").count() == 0  # not an error
    badge = stopped.locator("h2 .jp-Artifacts-state")
    assert badge.inner_text().strip() == "Stopped"
    shot(page, "job-stopped-neutral")
    wait_job(lab, job["id"], settled="logs")  # its supervisor is done: it can be deleted
    stopped.get_by_role("button", name="Delete job").click()
    confirm = page.locator(".jp-Dialog")
    assert "to-stop" in confirm.inner_text()
    page.locator(".jp-Dialog .jp-mod-warn").click()
    stopped.wait_for(state="detached")  # the view closes
    page.locator(".Toastify__toast", has_text="Deleted job to-stop.").first.wait_for()
    assert lab.api(f"jobs/{job['id']}")[0] == 404
    page.locator(f'{PANEL} .jp-Artifacts-jobRow[data-job="{job["id"]}"]').wait_for(state="detached")


# 3 ------------------------------------------------------------------------------------------------

def test_versions_are_grouped_by_name_and_job_outputs_by_job(page, lab, sweep):
    source = lab.root / "grouped"
    source.mkdir(exist_ok=True)
    (source / "weights.bin").write_bytes(b"1" * 1000)
    (source / "old.txt").write_text("old")
    lab.create("checkpoint", "grouped", "grouped")
    (source / "weights.bin").write_bytes(b"2" * 2500)
    (source / "old.txt").unlink()
    (source / "new.txt").write_text("new")
    status, op = lab.api("artifacts", "POST", {"kind": "checkpoint", "name": "grouped", "source": "grouped"})
    assert lab.wait_operation(op)["state"] == "succeeded"
    panel = open_panel(page)
    show_tab(panel, "Checkpoints")
    mine = panel.locator('.jp-Artifacts-list[aria-label="Saved and created"]')
    head = mine.locator('.jp-Artifacts-row[data-reference="grouped:v2"]')
    head.wait_for()
    # One row per name: v1 waits under v2's.
    assert mine.locator('.jp-Artifacts-row[data-reference="grouped:v1"]').count() == 0
    assert not mine.locator(".jp-Artifacts-row", has_text="Job - sweep").count()  # jobs' outputs apart
    head.locator(".jp-Artifacts-versions", has_text="2 versions").click()
    mine.locator('.jp-Artifacts-version-row[data-reference="grouped:v1"]').wait_for()
    # What the sweep made: counted, then listed under its job.
    toggle = panel.locator(".jp-Artifacts-sectionToggle")
    assert re.search(r"Made by jobs \(\d+\)", toggle.inner_text())
    toggle.click()
    group = panel.locator(f'.jp-Artifacts-jobGroup[data-job="{sweep["id"]}"]')
    group.locator("button", has_text="job sweep").click()
    for worker in (0, 1):
        artifact_row(panel, f"Job - sweep Worker {worker}:v1").wait_for()
        artifact_row(panel, f"Job - sweep Worker {worker} Checkpoint:v3").wait_for()
    shot(page, "grouped-lists")
    group.get_by_role("button", name="Open job").click()
    main_view(page, f'.jp-Artifacts-jobView[data-job="{sweep["id"]}"]')


# 4 ------------------------------------------------------------------------------------------------

def test_a_finishing_job_says_so_and_the_status_bar_counts_running_jobs(page, lab):
    panel = open_panel(page)
    show_tab(panel, "Jobs")
    panel.locator(".jp-Artifacts-newJob").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator('input[name="command"]').wait_for()
    dialog_ready(page)
    dialog.locator('input[name="name"]').fill("notify-me")
    dialog.locator('input[name="command"]').fill("STEP_SECONDS=1.5 python work/sweep.py")
    dialog.locator('input[name="gpus"]').fill("0")
    dialog.locator('textarea[name="params"]').fill('{"lr": [0.5]}')
    accept_dialog(page, lab)
    status = page.locator("#jupyter-artifacts-running-jobs")
    status.locator("button", has_text=re.compile(r"\d+ jobs? running")).wait_for(timeout=30_000)
    shot(page, "status-bar-running")
    toast = page.locator(".Toastify__toast", has_text="Job notify-me finished.")
    toast.wait_for(timeout=60_000)
    shot(page, "job-finished-notification")
    # Its action opens the job (close the view the launch opened first).
    page.locator(".jp-Artifacts-main.lm-mod-current .lm-TabBar-tabCloseIcon, "
                 ".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon").first.click()
    toast.get_by_role("button", name="Open job").click()
    main_view(page, '.jp-Artifacts-jobView:has(h2:text-is("Job notify-me "))')
    status.locator("button").wait_for(state="detached")  # nothing runs any more


# 5 ------------------------------------------------------------------------------------------------

def test_compare_two_versions(page, lab):
    panel = open_panel(page)
    show_tab(panel, "Checkpoints")
    artifact_row(panel, "grouped:v2", "ready").click()
    details = panel.locator('.jp-Artifacts-details[data-reference="grouped:v2"]')
    details.get_by_role("button", name="Compare…").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator('select[name="version"]').wait_for()
    assert dialog.locator('select[name="version"]').input_value() == "grouped:v1"  # the version before
    accept_dialog(page, lab)
    view = main_view(page, '.jp-Artifacts-compareView[data-a="grouped:v1"][data-b="grouped:v2"]')
    assert view.locator("[data-summary]").inner_text().startswith("1 added, 1 removed, 1 changed, 0 unchanged")
    rows = {r.get_attribute("data-path"): r.inner_text() for r in view.locator("tr[data-path]").all()}
    assert set(rows) == {"new.txt", "old.txt", "weights.bin"}
    assert re.search(r"changed\s+1.0 KB\s+2.5 KB\s+\+1.5 KB", rows["weights.bin"])
    assert re.search(r"added\s+—\s+3 B", rows["new.txt"])
    view.get_by_role("button", name="Added (1)").click()
    view.locator('tr[data-path="old.txt"]').wait_for(state="detached")
    size = view.locator('[data-pairs="record"] tr[data-key="Size"]')
    assert size.get_attribute("data-differs") == "true" and "(differs)" in size.inner_text()
    shot(page, "compare")


# 6 ------------------------------------------------------------------------------------------------

def test_lineage_is_a_graph_of_artifacts_and_jobs(page, lab, sweep):
    page.locator("#jp-main-dock-panel").wait_for()
    run_command(page, "jupyter-artifacts:open-artifact", reference="Job - sweep Worker 0:v1", kind="checkpoint")
    view = main_view(page, '.jp-Artifacts-artifactView[data-reference="Job - sweep Worker 0:v1"]')
    graph = view.locator(".jp-Artifacts-graph svg")
    graph.wait_for()
    warm = lab.api("artifacts/warm-input:v1")[1]
    job = graph.locator(f'[data-type="job"][data-job="{sweep["id"]}"]')
    assert "job sweep" in job.text_content()
    assert graph.locator(f'[data-type="artifact"][data-node="{warm["id"]}"]').get_attribute("data-reference") == "warm-input:v1"
    # Edges: the input into the job, the job's output into this artifact.
    assert graph.locator(f'path[data-edge="input"][data-from="{warm["id"]}"][data-to="job:{sweep["id"]}"]').count() == 1
    this = lab.api(f"artifacts/{quote('Job - sweep Worker 0:v1')}")[1]
    assert graph.locator(f'path[data-edge="output"][data-from="job:{sweep["id"]}"][data-to="{this["id"]}"]').count() == 1
    shot(page, "lineage-graph")
    # The input opens with the keyboard, the job with a click.
    graph.locator(f'[data-node="{warm["id"]}"]').focus()
    page.keyboard.press("Enter")
    input_view = main_view(page, '.jp-Artifacts-artifactView[data-reference="warm-input:v1"]')
    # Its own graph shows the job that used it, and what each worker made.
    used = input_view.locator(f'.jp-Artifacts-graph [data-type="job"][data-job="{sweep["id"]}"]')
    assert "finished" in used.text_content()
    used.click()
    main_view(page, f'.jp-Artifacts-jobView[data-job="{sweep["id"]}"]')


# 7 ------------------------------------------------------------------------------------------------

def test_the_new_job_dialog_fits_and_says_what_it_will_run(page, lab, sweep):
    panel = open_panel(page)
    show_tab(panel, "Jobs")
    panel.locator(".jp-Artifacts-newJob").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator('[data-field="checkpoints"]').wait_for()
    dialog_ready(page)
    body = dialog.locator(".jp-Dialog-body")
    # Everything shows without scrolling, in a 1400 x 900 window.
    assert body.evaluate("b => b.scrollHeight <= b.clientHeight + 1"), "the form scrolls"
    for legend in ("Job", "Resources, per worker", "Output", "Inputs"):
        assert dialog.locator("legend", has_text=legend).first.is_visible()
    assert dialog.locator('textarea[name="params"]').is_visible()
    # The resources row has room: each field at least 90 px wide.
    for name in ("gpus", "cpu", "memory"):
        assert dialog.locator(f'input[name="{name}"]').bounding_box()["width"] >= 90
    # No placeholder that looks like a value.
    assert dialog.locator("input[placeholder]:not([type=search]), textarea[placeholder]").count() == 0
    # Checkpoints: the user's own first, aliases as choices, what jobs made folded away.
    picker = dialog.locator('[data-field="checkpoints"]')
    assert picker.locator('input[value="warm-input:best"]').count() == 1
    assert "warm-input:best → v1" in picker.inner_text()
    jobs_made = picker.locator("details.jp-Artifacts-pickerJobs")
    assert jobs_made.get_attribute("open") is None
    assert not picker.locator('input[value="Job - sweep Worker 0:v1"]').is_visible()
    jobs_made.locator("summary").click()
    assert picker.locator('input[value="Job - sweep Worker 0:v1"]').is_visible()
    # The grid's worker count, and where JSON goes wrong.
    params = dialog.locator('textarea[name="params"]')
    params.fill('{"lr": [0.1, 0.01, 0.001],\n "depth": [3, 4]}')
    dialog.locator(".jp-Artifacts-workerCount", has_text="This makes 6 workers (lr × 3, depth × 2).").wait_for()
    params.fill('{"lr": [0.1, 0.01,],\n "depth": 3}')
    error = dialog.locator(".jp-Artifacts-workerCount .jp-Artifacts-fieldError")
    error.wait_for()
    assert error.inner_text() == "Hyperparameters, line 1, column 19: remove the comma before ]."
    shot(page, "new-job-dialog")
    page.locator(".jp-Dialog .jp-mod-reject").click()


# 8 ------------------------------------------------------------------------------------------------

def test_references_filter_refresh_usage_and_digest(page, lab, sweep):
    panel = open_panel(page)
    show_tab(panel, "Checkpoints")
    box = panel.get_by_role("searchbox", name=re.compile("Filter by name, alias"))
    box.fill("grouped:v1")
    artifact_row(panel, "grouped:v2").wait_for(state="detached")
    artifact_row(panel, "grouped:v1").wait_for()
    box.fill("warm-input:best")
    artifact_row(panel, "warm-input:v1").wait_for()
    assert panel.locator(".jp-Artifacts-row").count() == 1
    box.fill("")
    # Refresh asks the server now.
    with page.expect_request(lambda r: "/jupyter-artifacts/api/artifacts?" in r.url):
        panel.get_by_role("button", name="Refresh").click()
    assert re.match(r"[\d.]+ [KMG]?B used", panel.locator("[data-usage]").inner_text())
    artifact_row(panel, "warm-input:v1").click()
    details = panel.locator('.jp-Artifacts-details[data-reference="warm-input:v1"]')
    digest = details.locator(".jp-Artifacts-digest")
    assert len(digest.inner_text()) < 30 and len(digest.get_attribute("title")) == 71
    line = digest.evaluate("d => parseFloat(getComputedStyle(d).lineHeight) || 20")
    assert digest.bounding_box()["height"] < 2 * line  # one line
    shot(page, "details-digest")


def test_aliases_errors_moves_and_removal(page, lab):
    panel = open_panel(page)
    show_tab(panel, "Checkpoints")
    box = panel.get_by_role("searchbox", name=re.compile("Filter by name, alias"))
    box.fill("grouped:v1")
    artifact_row(panel, "grouped:v1").click()
    details = panel.locator('.jp-Artifacts-details[data-reference="grouped:v1"]')
    details.get_by_role("button", name="Add alias").click()
    dialog = page.locator(".jp-Dialog")
    dialog_ready(page)
    dialog.locator('input[name="alias"]').fill("v3")
    page.locator(".jp-Dialog .jp-mod-accept").click()
    error = page.locator('.jp-Dialog [data-field="alias"] .jp-Artifacts-fieldError')
    error.wait_for()
    assert "cannot be 'latest' or look like a version" in error.inner_text()
    # Styled as an error: the theme's error colour, not the text's.
    colours = error.evaluate("""e => [getComputedStyle(e).color, getComputedStyle(document.body).getPropertyValue('--jp-error-color1').trim(),
                                      getComputedStyle(e.closest('.jp-Dialog-content')).color]""")
    assert colours[0] != colours[2]
    page.locator('.jp-Dialog input[name="alias"]').fill("best")
    accept_dialog(page, lab)
    page.locator(".Toastify__toast", has_text="grouped:best now points to grouped:v1.").first.wait_for()
    details.locator('.jp-Artifacts-alias[data-alias="best"]').wait_for()
    # The same alias on v2 moves it: the dialog says so before, the notification after.
    details.get_by_role("button", name="Back").click()
    box.fill("grouped:v2")
    artifact_row(panel, "grouped:v2").click()
    details = panel.locator('.jp-Artifacts-details[data-reference="grouped:v2"]')
    details.get_by_role("button", name="Add alias").click()
    dialog_ready(page)
    page.locator('.jp-Dialog input[name="alias"]').fill("best")
    hint = page.locator('.jp-Dialog [data-field="alias"] .jp-Artifacts-hint')
    hint.filter(has_text="grouped:best points to v1 now; adding it here moves it to v2.").wait_for()
    accept_dialog(page, lab)
    page.locator(".Toastify__toast", has_text="Moved grouped:best from v1 to v2.").first.wait_for()
    chip = details.locator('.jp-Artifacts-alias[data-alias="best"]')
    chip.wait_for()
    shot(page, "alias-moved")
    chip.get_by_role("button", name="Remove the alias best").click()
    page.locator(".Toastify__toast", has_text="Removed the alias grouped:best.").first.wait_for()
    chip.wait_for(state="detached")
    assert lab.api("artifacts/grouped:v2")[1]["aliases"] == []


def test_create_chooses_its_folder_and_long_errors_have_details(page, lab):
    panel = open_panel(page)
    show_tab(panel, "Datasets")
    panel.locator(".jp-Artifacts-create").click()
    dialog_ready(page)
    page.locator(".jp-Dialog").get_by_role("button", name="Choose a folder…").click()
    chooser = page.locator(".jp-Dialog .jp-Open-Dialog, .jp-Dialog .jp-FileDialog").first
    chooser.wait_for()
    chooser.locator(".jp-DirListing-item", has_text="grouped").click()
    page.locator(".jp-Dialog .jp-mod-accept").click()
    form = page.locator('.jp-Dialog input[name="path"]')
    form.wait_for()
    page.wait_for_function("() => document.querySelector('.jp-Dialog input[name=\"path\"]').value === 'grouped'")
    assert page.locator('.jp-Dialog input[name="name"]').input_value() == "grouped"
    page.locator('.jp-Dialog input[name="name"]').fill("chosen-folder")
    accept_dialog(page, lab)
    artifact_row(panel, "chosen-folder:v1", "ready").wait_for(timeout=30_000)
    # An error too long for a toast is cut there, with all of it behind Details.
    panel.locator(".jp-Artifacts-create").click()
    dialog = page.locator(".jp-Dialog")
    dialog_ready(page)
    dialog.locator('input[name="name"]').fill("unreachable")
    dialog.locator('select[name="sourceType"]').select_option(label="Web")
    url = f"{lab.url}nothing/{'x' * 150}.bin"
    dialog.locator('input[name="path"]').fill(url)
    accept_dialog(page, lab)
    toast = page.locator(".Toastify__toast", has_text="Create dataset unreachable")
    toast.wait_for(timeout=30_000)
    text = toast.locator(".Toastify__toast-body").inner_text().split("\n")[0]
    assert len(text) <= 140 and text.endswith("…") and "Nothing found" not in text, text
    toast.get_by_role("button", name="Details").click()
    details = page.locator(".jp-Dialog", has_text="Nothing found at")
    details.wait_for()
    assert url in details.inner_text()
    shot(page, "error-details")
    page.locator(".jp-Dialog .jp-mod-accept, .jp-Dialog .jp-mod-reject").first.click()


# 9 ------------------------------------------------------------------------------------------------

def test_commands_and_keyboard(page, lab, sweep):
    from playwright.sync_api import expect

    # Every command in the palette, under Artifacts.
    palette = page.locator(".lm-CommandPalette-input")
    for _ in range(5):  # a key pressed while the restored layout settles can go unheard
        page.keyboard.press("Control+Shift+C")
        try:
            palette.wait_for(timeout=2000)
            break
        except Exception:
            continue
    palette.fill("Artifacts")
    page.locator(".lm-CommandPalette-item", has_text="Save to…").wait_for()
    assert page.locator(".lm-CommandPalette-header", has_text="Artifacts").count() == 1
    labels = " | ".join(page.locator(".lm-CommandPalette-itemLabel").all_inner_texts())
    for label in ("Save to…", "Attach Artifact in the Current Notebook…", "Compare Artifact Versions…",
                  "Download Artifact…", "Delete Artifact…", "Open Job…", "New Job…", "Show Artifacts"):
        assert label in labels, labels
    shot(page, "palette")
    page.keyboard.press("Escape")
    # Open Job… asks which job.
    run_command(page, "jupyter-artifacts:open-job")
    dialog = page.locator(".jp-Dialog")
    dialog.locator("select").wait_for()
    dialog.locator("select").select_option(label=next(o for o in dialog.locator("option").all_inner_texts()
                                                       if o.startswith("sweep (finished")))
    page.locator(".jp-Dialog .jp-mod-accept").click()
    main_view(page, f'.jp-Artifacts-jobView[data-job="{sweep["id"]}"]')
    # A shortcut opens the panel.
    panel = page.locator(PANEL)
    if panel.is_visible():
        page.click(f'.jp-SideBar.jp-mod-left li[data-id="jupyter-artifacts-panel"]')
        panel.wait_for(state="hidden")
    page.locator("#jp-main-dock-panel").click(position={"x": 5, "y": 5})
    page.keyboard.press("Alt+Shift+A")
    panel.wait_for(state="visible")
    # Tabs move with the arrow keys.
    tab = panel.get_by_role("tab", name="Checkpoints", exact=True)
    tab.click()
    tab.focus()
    page.keyboard.press("ArrowRight")
    panel.locator('.jp-Artifacts-tab.jp-mod-active[data-tab="dataset"]').wait_for()
    assert page.evaluate("document.activeElement.dataset.tab") == "dataset"
    page.keyboard.press("ArrowLeft")
    panel.locator('.jp-Artifacts-tab.jp-mod-active[data-tab="checkpoint"]').wait_for()
    # Tab reaches the filter (labelled), Create, then the rows; Enter opens one, Escape goes back to it.
    box = panel.get_by_role("searchbox", name=re.compile("Filter by name, alias"))
    box.fill("warm-input")
    expect(panel.locator(".jp-Artifacts-row")).to_have_count(1)  # the filter applied (the row showed before it)
    artifact_row(panel, "warm-input:v1").wait_for()
    box.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Create"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.reference") == "warm-input:v1"
    page.keyboard.press("Enter")
    details = panel.locator('.jp-Artifacts-details[data-reference="warm-input:v1"]')
    details.wait_for()
    details.get_by_role("button", name="Open", exact=True).focus()
    page.keyboard.press("Escape")
    details.wait_for(state="detached")
    page.wait_for_function("() => document.activeElement?.dataset?.reference === 'warm-input:v1'")
    # In the graph, Tab goes from node to node.
    run_command(page, "jupyter-artifacts:open-artifact", reference="warm-input:v1", kind="checkpoint")
    view = main_view(page, '.jp-Artifacts-artifactView[data-reference="warm-input:v1"]')
    view.locator(".jp-Artifacts-graph svg").wait_for()
    nodes = view.locator('.jp-Artifacts-graph [role="link"]')
    nodes.first.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('role')") == "link"


# 11 -----------------------------------------------------------------------------------------------

NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "execution_count": None, "id": "load", "metadata": {}, "outputs": [],
         "source": ["%load_ext jupyter_artifacts"]},
        {"cell_type": "code", "execution_count": None, "id": "attach", "metadata": {}, "outputs": [], "source": []},
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5,
}


def test_drag_an_artifact_into_a_cell_then_its_holder_is_the_notebook(page, lab, sweep):
    (lab.root / "work" / "attach.ipynb").write_text(json.dumps(NOTEBOOK))
    run_command(page, "docmanager:open", path="work/attach.ipynb")
    notebook = page.locator(".jp-NotebookPanel:visible")
    target = notebook.locator('.jp-Cell[data-windowed-list-index="1"] .cm-content, .jp-Cell:nth-child(2) .cm-content').first
    target.wait_for()
    panel = open_panel(page)
    show_tab(panel, "Checkpoints")
    row = artifact_row(panel, "warm-input:v1", "ready")
    row.drag_to(target)
    page.wait_for_function("() => [...document.querySelectorAll('.jp-NotebookPanel .cm-content')]"
                           ".some(c => c.textContent.includes('%attach_checkpoint warm-input:v1'))")
    shot(page, "drag-into-cell")
    # Run it: the notebook's kernel holds the checkpoint, which cannot be deleted meanwhile.
    run_command(page, "notebook:run-all-cells")
    notebook.locator(".jp-OutputArea-output", has_text="warm-input").first.wait_for(timeout=60_000)
    artifact_row(panel, "warm-input:v1").click()
    details = panel.locator('.jp-Artifacts-details[data-reference="warm-input:v1"]')
    holder = details.locator('[data-holder-kind="kernel"]')
    holder.wait_for(timeout=30_000)
    assert re.match(r"notebook work/attach.ipynb \(kernel \d+\)", holder.inner_text())
    delete = details.get_by_role("button", name="Delete")
    assert delete.is_disabled()
    assert "In use by notebook work/attach.ipynb" in delete.get_attribute("title")
    assert "Delete is off while it is in use by notebook work/attach.ipynb" in details.locator("[data-held]").inner_text()
    shot(page, "held-by-notebook")
    run_command(page, "kernelmenu:shutdown")


def test_drop_a_folder_on_the_panel_to_save_it(page, lab):
    open_panel(page)
    listing = browse(page, "work")  # the file browser takes the sidebar; the panel's tab stays
    folder = listing.locator('.jp-DirListing-item[data-isdir="true"]', has_text="models")
    tab = page.locator('.jp-SideBar.jp-mod-left li[data-id="jupyter-artifacts-panel"]')
    box, to = folder.bounding_box(), tab.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 40, box["y"] + box["height"] / 2, steps=4)
    page.mouse.move(to["x"] + to["width"] / 2, to["y"] + to["height"] / 2, steps=10)
    page.mouse.up()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for()
    assert "Save the folder work/models/" in dialog.locator(".jp-Dialog-header").inner_text()
    shot(page, "drop-folder")
    page.locator(".jp-Dialog .jp-mod-reject").click()
