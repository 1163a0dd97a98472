"""Each tab's default example, computed once per process right after the server answers, and shown on page load.

Gradio-free. :func:`start` runs in a background thread once the server is up (start-up itself is not slowed):
it loads the default models and the segmenter (so the first click costs about what a later one does) and
computes every tab's default result with the tab's own handler, in the order the tabs appear. Every visitor
then gets the same result (:func:`result`), never a computation of their own; one who arrives before it is
ready waits for it. A process that exits meanwhile stops the computation at its next progress step
(:func:`_stop_at_exit`).
"""
from __future__ import annotations

import contextlib
import contextvars
import inspect
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


# Visitors first: while one of their runs is under way, the background defaults pause (between tabs, and at each
# progress step within one), so that a click made while the later tabs' defaults are still being computed costs
# about what a later click does instead of sharing the two cores with them.
_USERS = threading.Condition()
_ACTIVE_RUNS = 0
_IN_BACKGROUND = contextvars.ContextVar("propgrad_default_in_background", default=False)
YIELD_TIMEOUT_S = 120.0  # a visitor's run that never ends must not stop the defaults for good

# The process is exiting: the background defaults stop at their next progress step, and exit waits that long for them.
_STOPPING = threading.Event()
_THREADS: list[threading.Thread] = []
STOP_WAIT_S = 30.0


class _Stopped(BaseException):
    """Raised in the background defaults' progress callback once the process exits. Not an Exception: the handlers'
    error wrapper must not log it as a failure (their logs may be closed by then)."""


def _stop_at_exit() -> None:
    # torch still running in a daemon thread while the interpreter is torn down aborted the process ("terminate
    # called without an active exception", exit status 134), and the app's thread pools, shut down at exit, made the
    # default fail with a logged traceback. This runs before those pools shut down (threading's exit hooks run last
    # registered first) and lets the default stop where it can.
    _STOPPING.set()
    with _USERS:
        _USERS.notify_all()
    for thread in list(_THREADS):
        thread.join(STOP_WAIT_S)


def _background(target: Callable[[], None]) -> threading.Thread:
    """A daemon thread for the defaults that the process waits for, stopped, when it exits."""
    if not _THREADS:
        register_exit = getattr(threading, "_register_atexit", None)  # private, but what concurrent.futures uses
        if register_exit is not None:
            register_exit(_stop_at_exit)
        else:
            import atexit

            atexit.register(_stop_at_exit)
    thread = threading.Thread(target=target, name="propgrad-defaults", daemon=True)
    thread.start()
    _THREADS.append(thread)  # once started: joining one that never started would raise in the exit hook
    return thread


@contextlib.contextmanager
def user_run():
    """Mark a visitor's run (the handlers' wrapper does): the background defaults wait until none is running."""
    global _ACTIVE_RUNS
    if _IN_BACKGROUND.get():  # the defaults' own runs go through the same handlers
        yield
        return
    with _USERS:
        _ACTIVE_RUNS += 1
    try:
        yield
    finally:
        with _USERS:
            _ACTIVE_RUNS -= 1
            _USERS.notify_all()


def _yield_to_users(*args, **kwargs) -> None:
    """The background defaults' progress callback: wait while a visitor's run is under way; stop once the process
    exits."""
    with _USERS:
        _USERS.wait_for(lambda: _ACTIVE_RUNS == 0 or _STOPPING.is_set(), timeout=YIELD_TIMEOUT_S)
    if _STOPPING.is_set():
        raise _Stopped


def computing_a_default() -> bool:
    """Whether this thread is computing a tab's default: its files are handed to every visitor for as long as
    the process runs, so they must outlive the hour a visitor's own run is kept (:func:`.results.request_dir`)."""
    return _IN_BACKGROUND.get()


def register(tab: str, compute: Callable[[], tuple]) -> None:
    """``compute()`` returns the tab's result components for its default example (its handler's answer); where it
    takes a ``progress`` argument, the background passes one that pauses while a visitor's run is under way."""
    with _LOCK:
        _COMPUTE[tab] = compute
        _READY.setdefault(tab, threading.Event())


def _compute(tab: str) -> None:
    token = _IN_BACKGROUND.set(True)
    try:
        _yield_to_users()
        started = time.perf_counter()
        compute = _COMPUTE[tab]
        takes_progress = "progress" in inspect.signature(compute).parameters
        outcome: tuple | BaseException = compute(progress=_yield_to_users) if takes_progress else compute()
        log.info("default result of the %s tab ready in %.1f s", tab, time.perf_counter() - started)
    except _Stopped as stopped:  # the process exits: its tab would say "press Run"
        outcome = stopped
    except Exception as error:  # noqa: BLE001 - a default that cannot run leaves its tab saying "press Run"
        log.exception("the %s tab's default example failed", tab)
        outcome = error
    finally:
        _IN_BACKGROUND.reset(token)
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
        if _STOPPING.is_set():
            return
        _compute(tab)
    if _STOPPING.is_set():
        return
    from . import memory

    memory.release()
    # The models, the segmenter and the default results stay: later collections skip them. Frozen while no
    # visitor's run is under way (a run's half-made objects would never be collected); not at all once exiting.
    with _USERS:
        if _USERS.wait_for(lambda: _ACTIVE_RUNS == 0 or _STOPPING.is_set(), timeout=YIELD_TIMEOUT_S):
            if _STOPPING.is_set():
                return
            memory.freeze()
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

    return _background(run)


def result(tab: str, placeholder: tuple) -> tuple:
    """The tab's default result (waiting for it when it is being computed); ``placeholder`` when it failed."""
    if tab not in _READY:
        return placeholder
    if not _STARTED.is_set():  # no warm start (PROPGRAD_WARM_START=0, or launched without launch()): compute now
        _background(compute_all)
    if not _READY[tab].wait(WAIT_S):
        return placeholder
    outcome = _RESULTS[tab]
    return placeholder if isinstance(outcome, BaseException) else outcome
