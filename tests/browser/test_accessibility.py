"""Accessibility of the panel, its dialogs and its main-area views, in the light and the dark theme:
axe-core's WCAG 2 A/AA rules (no serious or critical violation) and the contrast of every visible text
(at least 4.5:1, 3:1 for large text), measured from computed styles. Each view's screenshot is kept
(and, with JUPYTER_ARTIFACTS_DOC_SHOTS=1, written to docs/images for docs/lab-panel.md)."""

from __future__ import annotations

import os

import pytest

from .a11y import check
from .conftest import REPO, SCREENSHOTS, dialog_ready, lab_page, open_panel, run_command, theme
from .test_panel import artifact_row, show_tab

DOCS = REPO / "docs" / "images"
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
# The main-area view in front (Lumino hides the others).
MAIN = ".jp-Artifacts-main:not(.lm-mod-hidden) .jp-Artifacts-mainView"


def view_shot(page, name: str, shade: str) -> None:
    """A screenshot of the window, kept with the test's and, when asked, for the documentation."""
    page.wait_for_timeout(300)  # the last repaint after the view's data came
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{shade}.png"))
    if os.environ.get("JUPYTER_ARTIFACTS_DOC_SHOTS"):
        page.screenshot(path=str(DOCS / f"{name}-{shade}.png"))


@pytest.fixture(scope="module")
def compared(lab):
    """Two versions of a checkpoint that differ by a file added, one removed and one changed."""
    source = lab.root / "a11y-compare"
    source.mkdir(exist_ok=True)
    (source / "weights.bin").write_bytes(b"1" * 4000)
    (source / "old.txt").write_text("old")
    lab.create("checkpoint", "a11y-ckpt", "a11y-compare")
    (source / "weights.bin").write_bytes(b"2" * 9000)
    (source / "old.txt").unlink()
    (source / "new.txt").write_text("new")
    status, op = lab.api("artifacts", "POST", {"kind": "checkpoint", "name": "a11y-ckpt", "source": "a11y-compare"})
    assert status == 202 and lab.wait_operation(op)["state"] == "succeeded"
    return "a11y-ckpt:v1", "a11y-ckpt:v2"


@pytest.mark.parametrize("shade", ["light", "dark"])
def test_views_are_accessible_in_both_themes(browser, lab, sweep, compared, shade):
    with theme(lab, THEMES[shade]), lab_page(browser, lab, f"a11y-{shade}") as page:
        page.locator(f'body[data-jp-theme-light="{str(shade == "light").lower()}"]').wait_for(state="attached")
        panel = open_panel(page)

        # The lists: what people saved grouped by name, what jobs made grouped by job.
        show_tab(panel, "Checkpoints")
        artifact_row(panel, "a11y-ckpt:v2").locator(".jp-Artifacts-versions").click()
        panel.locator(".jp-Artifacts-sectionToggle").click()
        panel.locator(f'.jp-Artifacts-jobGroup[data-job="{sweep["id"]}"] button').first.click()
        artifact_row(panel, "Job - sweep Worker 0:v1").wait_for()
        check(page, "#jupyter-artifacts-panel", f"the checkpoint list ({shade})")
        view_shot(page, "panel-list", shade)

        # An artifact's details, with an alias and a holder.
        artifact_row(panel, "warm-input:v1").click()
        panel.locator('.jp-Artifacts-details[data-reference="warm-input:v1"] [data-section="files"] li').first.wait_for()
        check(page, "#jupyter-artifacts-panel", f"an artifact's details ({shade})")
        view_shot(page, "panel-details", shade)

        # The jobs and the GPUs.
        show_tab(panel, "Jobs")
        panel.locator(".jp-Artifacts-jobRow").first.wait_for()
        check(page, "#jupyter-artifacts-panel", f"the jobs ({shade})")
        show_tab(panel, "GPUs")
        panel.locator(".jp-Artifacts-gpu").first.wait_for()
        check(page, "#jupyter-artifacts-panel", f"the GPUs ({shade})")

        # A job in the main area: workers, charts, log, outputs, checkpoints.
        run_command(page, "jupyter-artifacts:open-job", id=sweep["id"])
        job = page.locator(f'.jp-Artifacts-mainView:visible .jp-Artifacts-jobView[data-job="{sweep["id"]}"]')
        job.locator('figure[data-metric="loss"] .jp-Artifacts-series').first.wait_for()
        job.locator(".jp-Artifacts-log", has_text="[metrics]").wait_for()
        check(page, MAIN, f"the job view ({shade})")
        view_shot(page, "job-view", shade)

        # An artifact in the main area, with its lineage graph.
        run_command(page, "jupyter-artifacts:open-artifact", reference="Job - sweep Worker 0:v1", kind="checkpoint")
        artifact = page.locator('.jp-Artifacts-mainView:visible .jp-Artifacts-artifactView[data-reference="Job - sweep Worker 0:v1"]')
        artifact.locator(".jp-Artifacts-graph svg").wait_for()
        check(page, MAIN, f"the artifact view ({shade})")
        artifact.locator('[data-section="lineage"]').scroll_into_view_if_needed()
        view_shot(page, "lineage-graph", shade)

        # A comparison.
        page.evaluate("([a, b]) => window.jupyterapp.commands.execute('jupyter-artifacts:open-view', "
                      "{view: 'compare', a, b, kind: 'checkpoint'})", list(compared))
        page.locator(".jp-Artifacts-mainView:visible .jp-Artifacts-compareView tr[data-path]").first.wait_for()
        check(page, MAIN, f"the comparison ({shade})")
        view_shot(page, "compare", shade)

        # The New job dialog with a mistake shown, and Create.
        run_command(page, "jupyter-artifacts:new-job")
        dialog = page.locator(".jp-Dialog")
        dialog.locator('[data-field="checkpoints"]').wait_for()
        dialog_ready(page)
        dialog.locator('input[name="gpus"]').fill("9")
        dialog.locator('textarea[name="params"]').fill('{"lr": [0.1, 0.01], "depth": [3, 4, 5]}')
        page.locator(".jp-Dialog .jp-mod-accept").click()
        page.locator('.jp-Dialog [data-field="gpus"] .jp-Artifacts-fieldError').wait_for()
        check(page, ".jp-Dialog", f"the New job dialog ({shade})")
        view_shot(page, "new-job", shade)
        page.locator(".jp-Dialog .jp-mod-reject").click()
        page.locator(".jp-Dialog").wait_for(state="detached")
