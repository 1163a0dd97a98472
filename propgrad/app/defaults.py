"""Each tab's default example, computed once per process right after the server answers, and shown on page load.

Gradio-free. :func:`start` runs in a background thread once the server is up (start-up itself is not slowed):
it loads the default models and the segmenter (so the first click costs about what a later one does) and
computes every tab's default result with the tab's own handler, in the order the tabs appear. Every visitor
then gets the same result (:func:`result`), never a computation of their own; one who arrives before it is
ready waits for it.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

log = logging.getLogger("propgrad.app")

WARM_ENV = "PROPGRAD_WARM_START"  # "0": compute nothing at start (a result is computed on first page load)
WAIT_S = 300.0

_LOCK = threading.Lock()
_COMPUTE: dict[str, Callable[[], tuple]] = {}
_RESULTS: dict[str, tuple | BaseException] = {}
_READY: dict[str, threading.Event] = {}
_STARTED = threading.Event()


def register(tab: str, compute: Callable[[], tuple]) -> None:
    """``compute()`` returns the tab's result components for its default example (its handler's answer)."""
    with _LOCK:
        _COMPUTE[tab] = compute
        _READY.setdefault(tab, threading.Event())


def _compute(tab: str) -> None:
    started = time.perf_counter()
    try:
        outcome: tuple | BaseException = _COMPUTE[tab]()
        log.info("default result of the %s tab ready in %.1f s", tab, time.perf_counter() - started)
    except Exception as error:  # noqa: BLE001 - a default that cannot run leaves its tab saying "press Run"
        log.exception("the %s tab's default example failed", tab)
        outcome = error
    _RESULTS[tab] = outcome
    _READY[tab].set()


def compute_all() -> None:
    """Every registered tab's default, in order (once per process; later calls return at once)."""
    with _LOCK:
        if _STARTED.is_set():
            return
        _STARTED.set()
        tabs = list(_COMPUTE)
    started = time.perf_counter()
    for tab in tabs:
        _compute(tab)
    from .memory import release

    release()
    log.info("every tab's default result ready in %.1f s", time.perf_counter() - started)


def start(is_up: Callable[[], bool], timeout_s: float = 120.0) -> threading.Thread | None:
    """In a background thread: wait until ``is_up()`` (the server answers), then :func:`compute_all`."""
    if os.environ.get(WARM_ENV, "1").strip() == "0":
        return None

    def run():
        deadline = time.monotonic() + timeout_s
        while not is_up() and time.monotonic() < deadline:
            time.sleep(0.05)
        compute_all()

    thread = threading.Thread(target=run, name="propgrad-defaults", daemon=True)
    thread.start()
    return thread


def result(tab: str, placeholder: tuple) -> tuple:
    """The tab's default result (waiting for it when it is being computed); ``placeholder`` when it failed."""
    if tab not in _READY:
        return placeholder
    if not _STARTED.is_set():  # no warm start (PROPGRAD_WARM_START=0, or launched without launch()): compute now
        threading.Thread(target=compute_all, name="propgrad-defaults", daemon=True).start()
    if not _READY[tab].wait(WAIT_S):
        return placeholder
    outcome = _RESULTS[tab]
    return placeholder if isinstance(outcome, BaseException) else outcome
