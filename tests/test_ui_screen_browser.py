"""The first tab's Screen action in a real browser (Debian's Chromium via Playwright), issue 16.

Opens the Screen accordion, keeps the whole image only (12 properties, to stay short), runs it with the
tab's default models, and checks that the ranked table and the figure appear; saves a screenshot into
``PROPGRAD_SCREENSHOTS`` if set, else pytest's tmp. Skips when Chromium or Playwright is missing.
"""
from __future__ import annotations

import re

import pytest

playwright_sync = pytest.importorskip("playwright.sync_api")

from propgrad.testing.browser import MISSING, MISSING_REASON, launch, screenshot_folder  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(MISSING, reason=MISSING_REASON)]


def test_screen_action_in_the_browser(server, tmp_path):
    folder = screenshot_folder(tmp_path)
    with playwright_sync.sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(server, wait_until="load", timeout=60_000)
        page.get_by_text("Screen: which property does the model use?").click()
        for region in ("object", "background"):
            page.locator("#screen-section").get_by_label(region, exact=True).uncheck()
        page.locator("#screen-run").click()
        summary = page.locator("#screen-summary")
        try:
            playwright_sync.expect(summary).to_contain_text(re.compile(r"12 properties"), timeout=600_000)
        except AssertionError as error:
            page.screenshot(path=str(folder / "failed-screen.png"), full_page=True)
            raise AssertionError(f"no screen result; the page shows:\n{page.inner_text('body')[-3000:]}") from error
        table = page.locator("#screen-table").inner_text()
        assert "whole image: " in table and re.search(r"\d\.\d", table), table
        assert not page.get_by_text("Traceback").count()
        page.locator("#screen-section").scroll_into_view_if_needed()
        shot = folder / "app-screen.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert shot.stat().st_size > 10_000
