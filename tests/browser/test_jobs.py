"""Jobs from the panel: launch from the form on the simulated GPUs, follow the log live in the job's
main-area view, an input that cannot be deleted while the job holds it, stop it."""

from __future__ import annotations

from .conftest import accept_dialog, dialog_ready, expect_focused, open_panel
from .test_panel import artifact_row, shot, show_tab


def ensure_checkpoint(lab, name: str) -> str:
    reference = f"{name}:v1"
    if lab.api(f"artifacts/{reference}?kind=checkpoint")[0] != 200:
        status, op = lab.api("snapshots", "POST", {"notebook": "work/train.ipynb", "folder": "models",
                                                   "kind": "checkpoint", "name": name})
        assert status == 202, op
        assert lab.wait_operation(op)["state"] == "succeeded"
    return reference


def log_text(view) -> str:
    return view.locator(".jp-Artifacts-log").inner_text()


def job_view(page, state: str | None = None):
    """The job's view in the main area (the one in front)."""
    selector = ".jp-Artifacts-main:not(.lm-mod-hidden) .jp-Artifacts-jobView"
    return page.locator(selector + (f'[data-state="{state}"]' if state else ""))


def test_launch_follow_and_stop_a_job(page, lab):
    checkpoint = ensure_checkpoint(lab, "job-input")
    panel = open_panel(page)
    show_tab(panel, "Jobs")
    panel.locator(".jp-Artifacts-newJob").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator('[data-field="checkpoints"]').wait_for()
    dialog_ready(page)
    assert "This host has 2" in dialog.locator('[data-field="gpus"]').inner_text()
    dialog.locator('input[name="gpus"]').fill("3")
    dialog.locator('input[name="name"]').fill("panel-train")
    dialog.locator('input[name="command"]').fill("python -u work/train.py")
    page.locator(".jp-Dialog .jp-mod-accept").click()
    gpu_error = page.locator('.jp-Dialog [data-field="gpus"] .jp-Artifacts-fieldError')
    gpu_error.wait_for()
    assert "at most 2" in gpu_error.inner_text()
    dialog = page.locator(".jp-Dialog")
    # Reopened with the cursor in the field to mend.
    expect_focused(dialog.locator('input[name="gpus"]'))
    dialog.locator('input[name="gpus"]').fill("1")
    dialog.locator(f'[data-field="checkpoints"] input[value="{checkpoint}"]').check()
    accept_dialog(page, lab)

    # The job opens in the main area.
    view = job_view(page, "running")
    view.wait_for(timeout=60_000)
    assert "panel-train" in view.locator(".jp-Artifacts-title").inner_text()
    view.locator(".jp-Artifacts-log", has_text="step 2 ").wait_for(timeout=30_000)
    first = log_text(view)
    # The log follows the output while the job runs.
    view.locator(".jp-Artifacts-log", has_text=f"step {first.count('step') + 5} ").wait_for(timeout=30_000)
    assert len(log_text(view)) > len(first)
    worker = view.locator('.jp-Artifacts-workers tr[data-worker="0"]')
    assert "Running" in worker.inner_text() and "#" in worker.inner_text()
    # It follows: the newest line is scrolled into view.
    page.wait_for_function(
        "node => node.scrollHeight - node.scrollTop - node.clientHeight < 30",
        arg=view.locator(".jp-Artifacts-log").element_handle())
    shot(page, "job-log")

    # A GPU is held by the job.
    show_tab(panel, "GPUs")
    panel.locator(".jp-Artifacts-gpu", has_text="panel-train").wait_for()

    # Its input cannot be deleted while it runs: Delete is off and says who holds it.
    show_tab(panel, "Checkpoints")
    artifact_row(panel, checkpoint, "ready").click()
    artifact = panel.locator(f'.jp-Artifacts-details[data-reference="{checkpoint}"]')
    held = artifact.locator("[data-held]")
    held.wait_for()
    assert "job panel-train, worker 0" in held.inner_text()
    assert artifact.get_by_role("button", name="Delete").is_disabled()
    shot(page, "job-delete-refused")

    # The job holding it opens from the details; stop it there.
    artifact.locator('[data-holder-kind="job"] button', has_text="job panel-train").click()
    view = job_view(page)
    view.locator(".jp-Artifacts-title", has_text="panel-train").wait_for()
    view.get_by_role("button", name="Stop").click()
    page.locator(".jp-Dialog .jp-mod-warn").click()
    stopped = job_view(page, "stopped")
    stopped.wait_for(timeout=60_000)
    assert stopped.get_by_role("button", name="Stop").is_disabled()
    shot(page, "job-stopped")


def test_script_job_from_the_form_shows_each_workers_metrics(page, lab):
    import shlex

    from playwright.sync_api import expect

    panel = open_panel(page)
    show_tab(panel, "Jobs")
    panel.locator(".jp-Artifacts-newJob").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator('select[name="run"]').wait_for()
    dialog_ready(page)
    dialog.locator('input[name="name"]').fill("panel-report")
    dialog.locator('select[name="run"]').select_option("script")
    dialog.locator('input[name="command"]').wait_for(state="detached")
    dialog.locator('input[name="script"]').fill("work/report metrics.py")
    dialog.locator('input[name="gpus"]').fill("0")
    dialog.locator('textarea[name="params"]').fill('{"lr": [0.1, 0.2]}')
    accept_dialog(page, lab)

    view = job_view(page, "finished")
    view.wait_for(timeout=60_000)
    rows = {i: view.locator(f'.jp-Artifacts-workers tr[data-worker="{i}"]') for i in (0, 1)}
    # A column per parameter and per metric, one number per cell.
    expect(rows[0].locator('[data-column="metric:accuracy"]')).to_have_text("0.3")
    expect(rows[0].locator('[data-column="metric:loss"]')).to_have_text("3.333")
    expect(rows[1].locator('[data-column="metric:accuracy"]')).to_have_text("0.6")
    expect(rows[1].locator('[data-column="param:lr"]')).to_have_text("0.2")
    shot(page, "job-metrics")
    # The form sent the script the way the notebook's form does: its path, shell-quoted, as the command.
    job_id = view.get_attribute("data-job")
    status, job = lab.api(f"jobs/{job_id}")
    assert status == 200 and job["spec"]["command"] == shlex.quote("work/report metrics.py")
    assert [w["params"] for w in job["workers"]] == [{"lr": 0.1}, {"lr": 0.2}]
