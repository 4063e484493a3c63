"""Jobs from the panel: launch from the form on the simulated GPUs, follow the log live, refuse deleting
an input the job holds, stop it."""

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


def log_text(details) -> str:
    return details.locator(".jp-Artifacts-log").inner_text()


def test_launch_follow_and_stop_a_job(page, lab):
    checkpoint = ensure_checkpoint(lab, "job-input")
    panel = open_panel(page)
    show_tab(panel, "Jobs")
    panel.locator(".jp-Artifacts-newJob").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator('select[name="checkpoints"]').wait_for()
    dialog_ready(page)
    assert "this host has 2" in dialog.locator('[data-field="gpus"]').inner_text()
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
    dialog.locator('select[name="checkpoints"]').select_option([checkpoint])
    accept_dialog(page, lab)

    details = panel.locator('.jp-Artifacts-jobDetails[data-state="running"]')
    details.wait_for(timeout=60_000)
    assert "panel-train" in details.locator(".jp-Artifacts-title").inner_text()
    details.locator(".jp-Artifacts-log", has_text="step 2 ").wait_for(timeout=30_000)
    first = log_text(details)
    # The log follows the output while the job runs.
    details.locator(".jp-Artifacts-log", has_text=f"step {first.count('step') + 5} ").wait_for(timeout=30_000)
    assert len(log_text(details)) > len(first)
    worker = details.locator('.jp-Artifacts-workers tr[data-worker="0"]')
    assert "Running" in worker.inner_text()
    # It follows: the newest line is scrolled into view.
    page.wait_for_timeout(1500)
    at_end = details.locator(".jp-Artifacts-log").evaluate(
        "node => node.scrollHeight - node.scrollTop - node.clientHeight < 30")
    assert at_end
    shot(page, "job-log")

    # A GPU is held by the job.
    show_tab(panel, "GPUs")
    panel.locator(".jp-Artifacts-gpu", has_text="panel-train").wait_for()

    # Its input cannot be deleted while it runs.
    show_tab(panel, "Checkpoints")
    artifact_row(panel, checkpoint, "ready").click()
    artifact = panel.locator(f'.jp-Artifacts-details[data-reference="{checkpoint}"]')
    artifact.get_by_role("button", name="Delete").click()
    page.locator(".jp-Dialog .jp-mod-warn").click()
    refused = artifact.locator(".jp-Artifacts-inUse")
    refused.wait_for()
    assert "panel-train" in refused.inner_text()
    shot(page, "job-delete-refused")
    assert lab.api(f"artifacts/{checkpoint}")[0] == 200

    # Its lineage names the job that uses it, which opens the job.
    used = artifact.locator('[data-section="lineage"] a[data-job]', has_text="job panel-train (running)")
    used.wait_for()
    used.scroll_into_view_if_needed()
    shot(page, "lineage-used-by-job")
    used.click()

    # Stop it.
    details = panel.locator('.jp-Artifacts-jobDetails', has_text="panel-train")
    details.get_by_role("button", name="Stop").click()
    page.locator(".jp-Dialog .jp-mod-warn").click()
    stopped = panel.locator('.jp-Artifacts-jobDetails[data-state="stopped"]')
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

    details = panel.locator('.jp-Artifacts-jobDetails[data-state="finished"]')
    details.wait_for(timeout=60_000)
    metrics = {i: details.locator(f'.jp-Artifacts-workers tr[data-worker="{i}"] [data-column="metrics"]')
               for i in (0, 1)}
    expect(metrics[0]).to_have_text("step 3accuracy=0.3loss=3.333")  # one line each
    expect(metrics[1]).to_have_text("step 3accuracy=0.6loss=1.667")
    shot(page, "job-metrics")
    # The form sent the script the way the notebook's form does: its path, shell-quoted, as the command.
    job_id = details.get_attribute("data-job")
    status, job = lab.api(f"jobs/{job_id}")
    assert status == 200 and job["spec"]["command"] == shlex.quote("work/report metrics.py")
    assert [w["params"] for w in job["workers"]] == [{"lr": 0.1}, {"lr": 0.2}]
