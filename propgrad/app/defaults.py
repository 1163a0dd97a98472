"""Each tab's default example, computed once per process right after the server answers, and shown on page load.

Gradio-free. :func:`start` runs in a background thread once the server is up (start-up itself is not slowed):
it loads the default models and the segmenter (so the first click costs about what a later one does) and
computes every tab's default result with the tab's own handler, in the order the tabs appear. Every visitor
then gets the same result (:func:`result`), never a computation of their own; one who arrives before it is
ready waits for it. A process that exits meanwhile stops the computation at its next progress step
(:func:`_stop_at_exit`).
"""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("propgrad.app")

WARM_ENV = "PROPGRAD_WARM_START"  # "0": compute nothing at start (a result is computed on first page load)
WAIT_S = 300.0
RETRY_S, RETRY_MAX_S = 60.0, 3600.0  # a default computed again that failed: tried again after these waits

_IN_BACKGROUND = contextvars.ContextVar("propgrad_default_in_background", default=False)
YIELD_TIMEOUT_S = 120.0  # a visitor's run that never ends must not stop the defaults for good
STOP_WAIT_S = 30.0  # how long an exiting process waits for the defaults to stop


@dataclass
class Retry:
    """A default computed again because its files were gone, and failing (a full disk): how often in a row, and
    when it is tried again."""

    failures: int
    at: float


class _Stopped(BaseException):
    """Raised in the background defaults' progress callback once the process exits. Not an Exception: the handlers'
    error wrapper must not log it as a failure (their logs may be closed by then)."""


class _Defaults:
    """The tabs' defaults of one process: what computes each, the results, the visitors' runs under way and the
    background thread's signals. The thread holds the instance it started with, so a fresh one put in its place
    (a test's) leaves a computation under way alone: with module globals, a test that swapped them and stopped
    "the exit's" threads killed the server's computation, and every later page waited 300 s for its answer."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.compute: dict[str, Callable[[], tuple]] = {}
        self.results: dict[str, tuple | BaseException] = {}
        # The files each result hands out (its figures, its zip), checked before each page load (:func:`result`).
        self.files: dict[str, tuple[str, ...]] = {}
        self.retries: dict[str, Retry] = {}
        self.recomputing = threading.Lock()  # one tab at a time, as at start-up
        self.ready: dict[str, threading.Event] = {}
        self.started = threading.Event()
        self.stopping = threading.Event()  # the process is exiting: stop at the next progress step
        self.threads: list[threading.Thread] = []
        # Visitors first: while one of their runs is under way, the background defaults pause (between tabs, and at
        # each progress step within one), so that a click made while the later tabs' defaults are still being
        # computed costs about what a later click does instead of sharing the two cores with them.
        self.users = threading.Condition()
        self.active_runs = 0

    def yield_to_users(self, *args, **kwargs) -> None:
        """The background defaults' progress callback: wait while a visitor's run is under way; stop once the
        process exits."""
        with self.users:
            self.users.wait_for(lambda: self.active_runs == 0 or self.stopping.is_set(), timeout=YIELD_TIMEOUT_S)
        if self.stopping.is_set():
            raise _Stopped

    def stop(self) -> None:
        """Tell the thread to stop at its next progress step (:meth:`wait` waits for it)."""
        self.stopping.set()
        with self.users:
            self.users.notify_all()

    def wait(self) -> None:
        for thread in list(self.threads):
            thread.join(STOP_WAIT_S)


_STATE = _Defaults()
_WITH_THREADS: list[_Defaults] = []  # every instance that started a thread, for the exit to stop


def _stop_at_exit(state: _Defaults | None = None) -> None:
    # torch still running in a daemon thread while the interpreter is torn down aborted the process ("terminate
    # called without an active exception", exit status 134), and the app's thread pools, shut down at exit, made the
    # default fail with a logged traceback. This runs before those pools shut down (threading's exit hooks run last
    # registered first) and lets the default stop where it can.
    states = [state] if state is not None else list(_WITH_THREADS)
    for each in states:  # all told first: one state's wait must not hold back the others' stop
        each.stop()
    for each in states:
        each.wait()


def _background(state: _Defaults, target: Callable[[], None]) -> threading.Thread:
    """A daemon thread for the defaults that the process waits for, stopped, when it exits."""
    if not _WITH_THREADS:
        register_exit = getattr(threading, "_register_atexit", None)  # private, but what concurrent.futures uses
        if register_exit is not None:
            register_exit(_stop_at_exit)
        else:
            import atexit

            atexit.register(_stop_at_exit)
    thread = threading.Thread(target=target, name="propgrad-defaults", daemon=True)
    thread.start()
    state.threads[:] = [old for old in state.threads if old.is_alive()]  # defaults computed again add threads
    state.threads.append(thread)  # once started: joining one that never started would raise in the exit hook
    if state not in _WITH_THREADS:
        _WITH_THREADS.append(state)
    return thread


@contextlib.contextmanager
def user_run():
    """Mark a visitor's run (the handlers' wrapper does): the background defaults wait until none is running."""
    if _IN_BACKGROUND.get():  # the defaults' own runs go through the same handlers
        yield
        return
    state = _STATE
    with state.users:
        state.active_runs += 1
    try:
        yield
    finally:
        with state.users:
            state.active_runs -= 1
            state.users.notify_all()


def computing_a_default() -> bool:
    """Whether this thread is computing a tab's default: its files are handed to every visitor for as long as
    the process runs, so they must outlive the hour a visitor's own run is kept (:func:`.folders.request_dir`)."""
    return _IN_BACKGROUND.get()


def register(tab: str, compute: Callable[[], tuple]) -> None:
    """``compute()`` returns the tab's result components for its default example (its handler's answer); where it
    takes a ``progress`` argument, the background passes one that pauses while a visitor's run is under way."""
    state = _STATE
    with state.lock:
        state.compute[tab] = compute
        state.ready.setdefault(tab, threading.Event())


def _compute(tab: str, state: _Defaults | None = None) -> None:
    state = state or _STATE
    token = _IN_BACKGROUND.set(True)
    try:
        state.yield_to_users()
        started = time.perf_counter()
        compute = state.compute[tab]
        takes_progress = "progress" in inspect.signature(compute).parameters
        outcome: tuple | BaseException = compute(progress=state.yield_to_users) if takes_progress else compute()
        log.info("default result of the %s tab ready in %.1f s", tab, time.perf_counter() - started)
    except _Stopped as stopped:  # the process exits: its tab would say "press Run"
        outcome = stopped
    except Exception as error:  # noqa: BLE001 - a default that cannot run leaves its tab saying "press Run"
        log.exception("the %s tab's default example failed", tab)
        outcome = error
    finally:
        _IN_BACKGROUND.reset(token)
    if isinstance(outcome, Exception) and state.files.get(tab):
        # Computed again because its files were gone, and failed: the files stay "gone", so that it is tried again,
        # after a wait that doubles each time (a minute, up to an hour), not at every page load.
        failures = state.retries[tab].failures + 1 if tab in state.retries else 1
        state.retries[tab] = Retry(failures, time.monotonic() + min(RETRY_MAX_S, RETRY_S * 2 ** (failures - 1)))
    else:
        state.files[tab] = () if isinstance(outcome, BaseException) else _files_in(outcome)
        state.retries.pop(tab, None)
    state.results[tab] = outcome
    state.ready[tab].set()


def _files_in(value, depth: int = 0) -> tuple[str, ...]:
    """The files a result names: absolute paths of files that exist, in its outputs and their updates."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str):
        return (value,) if os.path.isabs(value) and "\n" not in value and os.path.isfile(value) else ()
    if depth < 3 and isinstance(value, (list, tuple, dict)):
        items = value.values() if isinstance(value, dict) else value
        return tuple(path for item in items for path in _files_in(item, depth + 1))
    return ()


def _files_gone(state: _Defaults, tab: str) -> bool:
    return any(not os.path.exists(path) for path in state.files.get(tab, ()))


def _compute_again_if_gone(state: _Defaults, tab: str) -> bool:
    """Start computing ``tab``'s default again where a file it hands out is gone; whether it is being computed now.

    Something else may remove them: a cleaner of old files in the temp folder (systemd-tmpfiles ages /tmp by ten
    days on some systems), or an administrator. Every new visitor's page then said "Error" in every tab, for as long
    as the process ran."""
    with state.lock:
        if not state.ready[tab].is_set():
            return True  # a visitor before this one saw it first
        if not _files_gone(state, tab) or (tab in state.retries and time.monotonic() < state.retries[tab].at):
            return False
        log.warning("files of the %s tab's default result are gone (removed by something else, such as a cleaner "
                    "of old temporary files): computing it again", tab)
        state.ready[tab].clear()

    def again():
        with state.recomputing:
            _compute(tab, state)

    _background(state, again)
    return True


def compute_again_where_gone() -> None:
    """Every tab's default whose files are gone, computed again in the background (the server's upkeep calls it every
    few seconds, so that a visitor seldom waits for it)."""
    state = _STATE
    for tab in list(state.ready):
        if state.ready[tab].is_set():
            _compute_again_if_gone(state, tab)


def compute_all(state: _Defaults | None = None) -> None:
    """Every registered tab's default, in order (once per process; later calls return at once)."""
    state = state or _STATE
    with state.lock:
        if state.started.is_set():
            return
        state.started.set()
        tabs = list(state.compute)
    started = time.perf_counter()
    for tab in tabs:
        if state.stopping.is_set():
            return
        _compute(tab, state)
    if state.stopping.is_set():
        return
    from . import memory

    memory.release()
    # The models, the segmenter and the default results stay: later collections skip them. Frozen while no
    # visitor's run is under way (a run's half-made objects would never be collected); not at all once exiting.
    with state.users:
        if state.users.wait_for(lambda: state.active_runs == 0 or state.stopping.is_set(), timeout=YIELD_TIMEOUT_S):
            if state.stopping.is_set():
                return
            memory.freeze()
    log.info("every tab's default result ready in %.1f s", time.perf_counter() - started)


def start(is_up: Callable[[], bool], timeout_s: float = 120.0) -> threading.Thread | None:
    """In a background thread: wait until ``is_up()`` (the server answers), then :func:`compute_all`."""
    if os.environ.get(WARM_ENV, "1").strip() == "0":
        return None
    state = _STATE

    def run():
        deadline = time.monotonic() + timeout_s
        while not is_up() and time.monotonic() < deadline:
            time.sleep(0.05)
        compute_all(state)

    return _background(state, run)


async def result(tab: str, placeholder: tuple) -> tuple:
    """The tab's default result (waiting for it when it is being computed, or computed again where something removed
    its files); ``placeholder`` when it failed.

    A coroutine that waits without holding a thread: the page's loads run outside the queue, and a class opening a
    Space that had just woken held gradio's 40 worker threads (the page itself, downloads and runs) until the
    defaults were ready."""
    state = _STATE
    if tab not in state.ready:
        return placeholder
    if not state.started.is_set():  # no warm start (PROPGRAD_WARM_START=0, or launched without launch()): compute now
        _background(state, lambda: compute_all(state))
    deadline = time.monotonic() + WAIT_S
    while not state.ready[tab].is_set() or _compute_again_if_gone(state, tab):
        if time.monotonic() > deadline:
            return placeholder
        await asyncio.sleep(0.2)
    outcome = state.results[tab]
    return placeholder if isinstance(outcome, BaseException) else outcome
