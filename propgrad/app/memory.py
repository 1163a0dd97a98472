"""Give freed memory back to the operating system after a run (gradio-free).

A run allocates and frees a few hundred MB (the steps' images, the models' activations, the figures); glibc's
malloc keeps much of it for later instead of returning it, so a long-running server's resident memory only
grew (issue 23: about 200 MB after the first tab's default). :func:`release` asks glibc to return what is free
(``malloc_trim``); elsewhere (macOS, musl, Windows) it does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
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
