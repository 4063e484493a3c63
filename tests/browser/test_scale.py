"""A lab of its own, so the other tests neither wait for it nor see its artifacts: 10,000 datasets
paged in the panel, and the GPUs tab of a host whose nvidia-smi reports memory in use."""

from __future__ import annotations

import importlib.util
import os

import pytest

from jupyter_artifacts.store import Store

from .conftest import REPO, lab_page, open_panel, running_lab
from .test_panel import artifact_row, shot, show_tab

COUNT = 10_000
FILES = 450  # a model whose files the details list a page at a time
# What nvidia-smi --query-gpu=index,name,memory.total,memory.used --format=csv,noheader,nounits prints.
NVIDIA_SMI = """#!/bin/sh
echo "0, NVIDIA H200, 143771, 40960"
echo "1, NVIDIA H200, 143771, 0"
"""


def populate(root: str, count: int) -> None:
    """The API benchmark's own way to fill a catalog in seconds (benchmarks/bench_api.py)."""
    spec = importlib.util.spec_from_file_location("bench_api", REPO / "benchmarks" / "bench_api.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.populate(root, count, kinds=("dataset",))


@pytest.fixture(scope="module")
def big_lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("big-lab")
    populate(str(base / "store"), COUNT)
    files = base / "many-files"
    files.mkdir()
    for i in range(FILES):
        (files / f"img-{i:04d}.png").write_bytes(b"%d" % i)
    Store(root=str(base / "store")).create("model", "many-files", str(files))
    bin_dir = base / "bin"
    bin_dir.mkdir()
    smi = bin_dir / "nvidia-smi"
    smi.write_text(NVIDIA_SMI)
    smi.chmod(0o755)
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    with running_lab(base, gpus="auto", env={"PATH": path}) as lab:
        yield lab


@pytest.fixture
def big_page(browser, big_lab, request):
    with lab_page(browser, big_lab, request.node.name) as page:
        yield page


def test_ten_thousand_artifacts_are_paged(big_page, big_lab):
    from playwright.sync_api import expect

    panel = open_panel(big_page)
    show_tab(panel, "Datasets")
    pager = panel.locator(".jp-Artifacts-pager")
    expect(pager).to_contain_text("1–50 of 10,000")
    rows = panel.locator(".jp-Artifacts-row")
    expect(rows).to_have_count(50)  # one page in the page, not 10,000 rows
    # Newest first: the last one made is dataset-0999 v10.
    expect(rows.first).to_have_attribute("data-reference", "dataset-0999:v10")
    expect(pager.get_by_role("button", name="‹ Newer")).to_be_disabled()
    pager.scroll_into_view_if_needed()
    shot(big_page, "paging")

    pager.get_by_role("button", name="Older ›").click()
    expect(pager).to_contain_text("51–100 of 10,000")
    expect(rows.first).to_have_attribute("data-reference", "dataset-0949:v10")
    expect(rows).to_have_count(50)
    pager.get_by_role("button", name="‹ Newer").click()
    expect(pager).to_contain_text("1–50 of 10,000")

    # A filter pages too, from its first page.
    pager.get_by_role("button", name="Older ›").click()
    expect(pager).to_contain_text("51–100")
    panel.locator(".jp-Artifacts-filter").fill("dataset-0042")
    artifact_row(panel, "dataset-0042:v10").wait_for()
    expect(rows).to_have_count(1)  # the name's newest version heads its other nine
    toggle = artifact_row(panel, "dataset-0042:v10").locator(".jp-Artifacts-versions")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(rows).to_have_count(10)
    expect(rows.nth(9)).to_have_attribute("data-reference", "dataset-0042:v1")
    expect(pager).to_have_count(0)


def test_the_files_of_an_artifact_are_listed_a_page_at_a_time(big_page, big_lab):
    from playwright.sync_api import expect

    panel = open_panel(big_page)
    show_tab(panel, "Models")
    artifact_row(panel, "many-files:v1").click()
    files = panel.locator('.jp-Artifacts-details[data-reference="many-files:v1"] [data-section="files"]')
    links = files.locator(".jp-Artifacts-files li a")
    expect(links).to_have_count(200)
    more = files.locator(".jp-Artifacts-moreFiles")
    expect(more).to_have_text("Show 200 more (250 not shown)")
    more.click()
    expect(links).to_have_count(400)
    expect(more).to_have_text("Show 50 more (50 not shown)")
    more.click()
    expect(links).to_have_count(FILES)
    expect(more).to_have_count(0)
    assert links.nth(FILES - 1).inner_text() == f"img-{FILES - 1:04d}.png"
    shot(big_page, "files-paged")


def test_gpus_show_memory_in_use(big_page, big_lab):
    from playwright.sync_api import expect

    panel = open_panel(big_page)
    show_tab(panel, "GPUs")
    gpus = panel.locator(".jp-Artifacts-gpu")
    expect(gpus).to_have_count(2)
    expect(gpus.nth(0)).to_contain_text("NVIDIA H200")
    expect(gpus.nth(0)).to_contain_text("42.9 GB / 151 GB (28%)")
    expect(gpus.nth(1)).to_contain_text("0 B / 151 GB (0%)")
    expect(gpus.nth(0)).to_contain_text("Holder: free")
    # The bar shows the share in use.
    width = gpus.nth(0).locator(".jp-Artifacts-progressBar").evaluate("node => node.style.width")
    assert width == "28%"
    shot(big_page, "gpus-memory")
