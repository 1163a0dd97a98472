"""The app in a real browser (Debian's Chromium via Playwright): each tab's default example runs.

Opens the page, runs the default of every tab, checks that a score and a p-value appear in the summary
and the table, and saves a screenshot per tab (into ``PROPGRAD_SCREENSHOTS`` if set, else pytest's tmp).
Skips when Chromium or Playwright is missing; never downloads a browser.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("PROPGRAD_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"]
TABS = [("Diffusion & region edits", "edit"), ("Patch blending", "patch"), ("Turntable frames (CLIP)", "turntable")]
# The first tab's default compares two regions (a ranked table); the others explain one series.
DONE = {"edit": re.compile(r"properties compared"), "patch": re.compile(r"p = \d"), "turntable": re.compile(r"p = \d")}
SCORE = {"edit": re.compile(r"\d\.\d{4}\s+\d"), "patch": re.compile(r"E\[\|grad_X F\|\] = \d+\.\d+"),
         "turntable": re.compile(r"E\[\|grad_X F\|\] = \d+\.\d+")}

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")]


@pytest.fixture(scope="module")
def page(server):
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(server, wait_until="networkidle", timeout=60_000)
        yield page
        browser.close()


@pytest.mark.parametrize("tab,prefix", TABS, ids=[prefix for _, prefix in TABS])
def test_default_example_of_each_tab_runs_in_the_browser(page, tmp_path, tab, prefix):
    page.get_by_role("tab", name=tab).click()
    page.locator(f"#{prefix}-run").click()
    summary = page.locator(f"#{prefix}-summary")
    folder = Path(os.environ.get("PROPGRAD_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        playwright_sync.expect(summary).to_contain_text(DONE[prefix], timeout=180_000)
    except AssertionError as error:
        page.screenshot(path=str(folder / f"failed-{prefix}.png"), full_page=True)
        raise AssertionError(f"no result in the {tab} tab; the page shows:\n{page.inner_text('body')[-3000:]}") from error
    text = summary.inner_text()
    assert SCORE[prefix].search(text), text
    table = page.locator(f"#{prefix}-table").inner_text()
    assert re.search(r"\d\.\d", table), table
    assert not page.get_by_text("Traceback").count()
    shot = folder / f"app-{prefix}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_bad_upload_shows_an_error_toast_not_a_traceback(page, tmp_path):
    page.get_by_role("tab", name="Patch blending").click()
    # Untick every bundled patch, then run: the app must answer with its message, and keep serving.
    boxes = page.locator("#patch-patches input[type=checkbox]")
    for number in range(boxes.count()):
        if boxes.nth(number).is_checked():
            boxes.nth(number).uncheck()
    page.locator("#patch-run").click()
    page.get_by_text("`patches` is empty").first.wait_for(timeout=60_000)
    assert not page.get_by_text("Traceback").count()


def test_training_dynamics_tab_when_the_lesion_checkpoints_ship(page):
    from propgrad.app.tabs.dynamics import dynamics_variants

    if not dynamics_variants():
        pytest.skip("the lesion scenario's per-epoch checkpoints are not in this build")
    page.get_by_role("tab", name="Training dynamics").click()
    page.locator("#dynamics-run").click()
    table = page.locator("#dynamics-table")
    playwright_sync.expect(table).to_contain_text(re.compile(r"0\.\d{3}"), timeout=180_000)
    assert not page.get_by_text("Traceback").count()


def test_turntable_example_fills_the_frames(page):
    page.get_by_role("tab", name="Turntable frames (CLIP)").click()
    page.get_by_text("Rendered mug, every third frame (12)").click()
    page.locator("#turntable-run").click()
    summary = page.locator("#turntable-summary")
    playwright_sync.expect(summary).to_contain_text("12 steps", timeout=180_000)


def test_ticking_the_painted_region_shows_the_canvas_and_upload(page):
    page.get_by_role("tab", name="Diffusion & region edits").click()
    canvas_label = page.get_by_text("Paint the region")
    assert not canvas_label.count() or not canvas_label.first.is_visible()
    page.locator("#edit-regions").get_by_label("painted or uploaded mask").check()
    playwright_sync.expect(page.get_by_text("Paint the region").first).to_be_visible(timeout=10_000)
    page.locator("#edit-regions").get_by_label("painted or uploaded mask").uncheck()
