"""Debian's Chromium for the browser tests: where it is, how it starts offline, where screenshots go.

The tests never download a browser: without Chromium (or Playwright) they skip with the reason.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM = os.environ.get("PROPGRAD_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Offline and headless: without the background-networking flags Chromium keeps trying to reach Google's hosts.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"]
MISSING = not Path(CHROMIUM).exists()
MISSING_REASON = "Debian's chromium is not installed"


def screenshot_folder(default: Path) -> Path:
    """``$PROPGRAD_SCREENSHOTS`` (CI keeps them) or ``default``, created."""
    folder = Path(os.environ.get("PROPGRAD_SCREENSHOTS", default))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def launch(playwright):
    """Chromium through Playwright, headless and offline."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
