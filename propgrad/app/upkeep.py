"""What the server hands out for its whole life, checked every few seconds and put back where something removed it.

A server that runs for days shares the temp folder with whatever cleans it (systemd-tmpfiles ages /tmp by ten days on
some systems; an administrator may empty it). Three things every page names live there: the tabs' default answers,
gradio's copies of the bundled pictures, and the lesson pages the header links. Each was gone for good once removed:
"Error" in every tab, examples that could not run, a lessons link that answered "File not found", until a restart.

Checked by a background thread (:func:`watch`, which a server's launch starts) rather than by the page: the page asks
for its pictures and follows the lessons link before any handler of its own could put them back. Each check is a few
dozen ``stat`` calls. A page load still checks its tab's default itself (:func:`propgrad.app.defaults.result`), and a
run that failed on an input puts the pictures back at once (:func:`propgrad.app.shared.unread_input`).
"""
from __future__ import annotations

import logging
import threading
import time

from . import defaults, kept_copies, lesson_pages
from .failing import Failing

log = logging.getLogger("propgrad.app")

INTERVAL_S = 10.0
_STARTED: list[threading.Thread] = []


def check() -> None:
    """Put back whatever of the three is gone (the defaults are computed again in the background)."""
    kept_copies.put_back()
    lesson_pages.put_back()
    defaults.compute_again_where_gone()


def watch(interval_s: float = INTERVAL_S) -> threading.Thread:
    """Start the check every ``interval_s`` seconds in a daemon thread, once per process; returns that thread."""
    if _STARTED and _STARTED[0].is_alive():
        return _STARTED[0]

    failing = Failing()

    def run():
        while True:
            time.sleep(interval_s)
            try:
                check()
                failing.worked()
            except Exception:  # noqa: BLE001 - the upkeep must not end
                if failing.first():
                    log.exception("checking the files the page names failed")

    thread = threading.Thread(target=run, name="propgrad-upkeep", daemon=True)
    thread.start()
    _STARTED[:] = [thread]
    return thread
