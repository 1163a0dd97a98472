"""The visitors' folders: one private folder per request, under one folder per process, kept within an hour, a total
size and the disk's free space.

Each request writes only into its own folder (``tempfile.mkdtemp``), so simultaneous users never share a file. The
process's whole folder goes when it exits: without that every server start and test run left its folder behind (5 GB
in /tmp on the development machine). The tabs' default results (``default-*``) are kept for as long as the process
runs: every page load hands out their files, and once they were an hour old every tab of a new visitor's page said
"Error" (FileNotFoundError for the default's zip).

A busy Space fills its disk with runs younger than an hour (a run of the first tab's default holds about 7.5 MB here,
and gradio keeps copies of what it served for an hour too); a full disk answered every visitor with "something went
wrong ... try smaller images". So before a run computes (:func:`check_room`), the oldest visitors' runs go while
theirs hold more than ``settings.RESULTS_MAX_MB`` or the disk has less than ``settings.MIN_FREE_MB`` free; a run whose
handler is still running is never removed (:func:`in_use`), nor one whose folder changed in the last
:data:`IN_USE_S` (its page may be asking for its zip).
"""
from __future__ import annotations

import atexit
import contextlib
import contextvars
import errno
import logging
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from ..disk import NoRoomError
from . import settings
from .defaults import computing_a_default

log = logging.getLogger("propgrad.app")

RESULT_TTL_S = 3600.0
IN_USE_S = 120.0
# Below this much free space a run is refused before it starts: it would fail while writing its files, after the
# visitor had waited for its answer.
RUN_BYTES = 32 * 2**20

_ROOT_LOCK = threading.Lock()
_ROOT: Path | None = None
# Finished runs do not change size: each is measured once.
_SIZES: dict[Path, int] = {}
# The runs whose handler is still running (:func:`in_use`), and the list the running handler's folders go into.
_ACTIVE: set[Path] = set()
_MADE: contextvars.ContextVar[list | None] = contextvars.ContextVar("propgrad_request_folders", default=None)


def _remove_root(root: Path, owner: int) -> None:
    if os.getpid() == owner:  # a forked child inherits the handler, not the folder
        shutil.rmtree(root, ignore_errors=True)


def request_dir() -> Path:
    """A new private folder for one request, under the process's folder; in use until the :func:`in_use` block
    around it ends. Room is made once per run, before it computes, by :func:`check_room`, which every tab's handler's
    wrapper calls (``shared.friendly_errors``)."""
    folder = Path(tempfile.mkdtemp(prefix="default-" if computing_a_default() else "run-", dir=_root()))
    made = _MADE.get()
    if made is not None:
        with _ROOT_LOCK:
            _ACTIVE.add(folder)
        made.append(folder)
    return folder


def check_room() -> Path:
    """Make room under the process's folder (:func:`make_room`) and return that folder; raise
    :class:`~propgrad.disk.NoRoomError` where the disk still has less than :data:`RUN_BYTES` free. The tabs' handlers
    ask before they compute: a run that could not write its files had kept its visitor waiting for nothing."""
    root = _root()
    with _ROOT_LOCK:
        make_room(root, max_bytes=settings.RESULTS_MAX_MB * 2**20, min_free=settings.MIN_FREE_MB * 2**20)
    if shutil.disk_usage(root).free < RUN_BYTES:
        raise NoRoomError(OSError(errno.ENOSPC, "No space left on device"), root)
    return root


def _root() -> Path:
    """The process's folder, made (and set to go at exit) on first use."""
    global _ROOT
    with _ROOT_LOCK:
        if _ROOT is None or not _ROOT.is_dir():
            _ROOT = Path(tempfile.mkdtemp(prefix="propgrad-app-"))
            atexit.register(_remove_root, _ROOT, os.getpid())
        return _ROOT


def make_room(root: Path, *, max_bytes: int, min_free: int, now: float | None = None) -> list[Path]:
    """Remove the visitors' runs under ``root`` older than an hour, then the oldest others while all of them hold
    more than ``max_bytes`` or the disk has less than ``min_free`` free; never a run in use (:func:`in_use`) nor one
    whose folder changed in the last :data:`IN_USE_S`. Returns the folders removed."""
    now = time.time() if now is None else now
    runs = []
    for folder in root.glob("run-*"):
        try:
            if folder not in _ACTIVE:
                runs.append((folder.stat().st_mtime, folder))
        except OSError:  # removed meanwhile
            continue
    runs.sort()
    expired = [folder for made, folder in runs if now - made > RESULT_TTL_S]
    for folder in expired:
        _remove(folder)
    kept = [(made, folder) for made, folder in runs if now - made <= RESULT_TTL_S]
    # Measured once the expired runs are gone: they alone may have made room enough.
    total = sum(_size(folder, settled=now - made >= IN_USE_S) for made, folder in kept)
    free = shutil.disk_usage(root).free
    short = []
    for made, folder in kept:
        if now - made < IN_USE_S or (total <= max_bytes and free >= min_free):
            break
        size = _size(folder)
        _remove(folder)
        short.append(folder)
        total, free = total - size, free + size
    if short:
        log.warning("removed the %d oldest visitors' runs to make room (%s of runs kept, %s free)", len(short),
                    _megabytes(total), _megabytes(shutil.disk_usage(root).free))
    return expired + short


@contextlib.contextmanager
def in_use():
    """The folders :func:`request_dir` makes inside the block are never removed while it runs (the tabs' handlers
    run in one: a study writes only inside its subfolders for minutes, which its own folder's time does not show);
    their time starts again when it ends, for what follows the answer (the animation, the zip)."""
    made: list[Path] = []
    token = _MADE.set(made)
    try:
        yield
    finally:
        _MADE.reset(token)
        with _ROOT_LOCK:
            for folder in made:
                _ACTIVE.discard(folder)
                with contextlib.suppress(OSError):
                    os.utime(folder)


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    _SIZES.pop(folder, None)


def _size(folder: Path, settled: bool = True) -> int:
    """The bytes of the files under ``folder``; a ``settled`` run's, measured once."""
    if folder in _SIZES:
        return _SIZES[folder]
    size = 0
    for top, _, names in os.walk(folder):
        for name in names:
            try:
                size += os.lstat(os.path.join(top, name)).st_size
            except OSError:  # removed meanwhile
                continue
    if settled:
        _SIZES[folder] = size
    return size


def _megabytes(nbytes: int) -> str:
    return f"{nbytes / 2**20:.0f} MB"
