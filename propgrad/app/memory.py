"""The server's memory and its garbage collector (gradio-free).

A run allocates and frees a few hundred MB (the steps' images, the models' activations, the figures); glibc's
malloc keeps much of it for later instead of returning it, so a long-running server's resident memory only
grew (issue 23: about 200 MB after the first tab's default). :func:`release` asks glibc to return what is free
(``malloc_trim``); :func:`tune_allocator` keeps less of it in the first place. Elsewhere (macOS, musl, Windows)
both do nothing.

:func:`freeze_start_up` (a server's launch) moves what start-up made (modules, the app, later the models: about
470,000 objects) out of the garbage collector's reach: a full collection walked them all, about 0.36 s in every
third click or so. Only a server freezes: a test session or a notebook that launches the app keeps collecting all
it makes.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import logging
import os
import threading

log = logging.getLogger("propgrad.app")

_LOCK = threading.Lock()
_LIBC = None
_LOADED = False


def _libc():
    global _LIBC, _LOADED
    if not _LOADED:
        _LOADED = True
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _LIBC = libc if hasattr(libc, "malloc_trim") else None
        except OSError:
            _LIBC = None
    return _LIBC


def release() -> bool:
    """Return the heap's free pages to the operating system; True where that was possible (glibc)."""
    with _LOCK:
        libc = _libc()
        if libc is None:
            return False
        try:
            libc.malloc_trim(0)
        except Exception:  # noqa: BLE001 - never let housekeeping fail a run
            log.debug("malloc_trim failed", exc_info=True)
            return False
        return True


def released(handler):
    """``handler``, then its memory handed back (:func:`release`), answered or failed. A single run's handler hands
    it back when its files are written (``results.finish``); a screen, a study and training dynamics answer with
    everything at once, and after a class's screens the server sat at 1.77 GB for minutes (926 MB after a run)."""

    @functools.wraps(handler)
    def run(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        finally:
            release()

    return run


# glibc's mallopt parameter (malloc.h).
_M_ARENA_MAX = -8
ARENA_MAX = 2


def tune_allocator() -> bool:
    """Two malloc arenas instead of glibc's eight per core: each thread that allocates (gradio's workers, the
    figure pools) otherwise gets an arena of its own, and each keeps its freed blocks. About 40 to 70 MB less
    after every tab's default, at no measurable cost in speed (2-core machine, issue 23). (A fixed 1 MiB mmap
    threshold saved about as much again, but made a click 40 per cent slower.) Call it early: the arenas already
    made stay. An operator's own ``MALLOC_ARENA_MAX`` is left as it is. The report writer's process
    (:mod:`.writer`) keeps glibc's defaults."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    with _LOCK:
        libc = _libc()
        if libc is None or not hasattr(libc, "mallopt"):
            return False
        try:
            return bool(libc.mallopt(_M_ARENA_MAX, ARENA_MAX))
        except Exception:  # noqa: BLE001 - an allocator without this knob works as it is
            log.debug("mallopt failed", exc_info=True)
            return False


_FREEZING = False


def freeze_start_up() -> int:
    """A server's start-up is done: freeze what it made (see :func:`freeze`), and let :func:`freeze` work from now
    on (after the defaults, what they loaded). Returns how many objects are frozen."""
    global _FREEZING
    _FREEZING = True
    return freeze()


def freeze() -> int:
    """Collect once, then keep every object alive now out of later collections (``gc.freeze``): for what lives as
    long as the server. Does nothing (returns 0) unless :func:`freeze_start_up` was called: in a test session or a
    notebook, what is frozen would never be collected. Call it when no run is under way, so that nothing
    half-made is frozen. Returns how many objects are frozen."""
    if not _FREEZING:
        return 0
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
