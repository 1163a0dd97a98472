"""Writes that find no room: tell them apart from other errors and say so in one line.

A full disk (ENOSPC), a quota (EDQUOT), a file-size limit (EFBIG) and a read-only folder (EROFS, or EACCES
for a folder the user may not write) all mean the same thing to a user: free some space or choose another
folder, then run the same command again. Writers raise :class:`NoRoomError` with the folder and, where they
know it, the bytes they were writing; the command line prints :func:`describe` and exits with status 4.
"""
from __future__ import annotations

import contextlib
import errno
import sqlite3
from collections.abc import Iterator
from pathlib import Path

NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}
READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}


class NoRoomError(OSError):
    """A write found no room (or a read-only folder); ``folder`` and ``needed`` (bytes, or None) say where and how
    much."""

    def __init__(self, error: OSError, folder: str | Path, needed: int | None = None):
        super().__init__(error.errno, error.strerror or str(error))
        self.folder, self.needed = Path(folder), needed

    def __str__(self) -> str:
        return describe(self)


def no_room(error: BaseException) -> bool:
    """Whether ``error`` says the disk (or the folder) has no room for a write.

    SQLite reports a full disk as ``sqlite3.OperationalError: database or disk is full``.

    Examples
    --------
    >>> no_room(OSError(errno.ENOSPC, "No space left on device")), no_room(OSError(errno.ENOENT, "missing"))
    (True, False)
    """
    if isinstance(error, NoRoomError):
        return True
    if isinstance(error, OSError):
        return error.errno in NO_ROOM
    if isinstance(error, sqlite3.OperationalError):
        text = str(error).lower()
        return "disk is full" in text or "readonly database" in text or "read-only" in text
    return False


@contextlib.contextmanager
def writing_to(folder: str | Path) -> Iterator[None]:
    """Name ``folder`` in a no-room error raised inside (a bare ``write`` error does not say which file it was)."""
    try:
        yield
    except OSError as error:
        if no_room(error) and not isinstance(error, NoRoomError):
            raise NoRoomError(error, Path(folder).resolve()) from error
        raise


def _size(nbytes: int) -> str:
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes} bytes"


def describe(error: OSError, folder: str | Path | None = None) -> str:
    """One line: what could not be written, where, how much was needed (if known), and what to do.

    Examples
    --------
    >>> describe(NoRoomError(OSError(errno.ENOSPC, "No space left on device"), "/data/out", 2048))[:66]
    'no space left to write in /data/out (2.0 KB were being written); f'
    """
    folder = getattr(error, "folder", None) or folder or (Path(error.filename).parent if error.filename else None)
    needed = getattr(error, "needed", None)
    where = f" in {folder}" if folder else ""
    what = "the folder is read-only" if error.errno == errno.EROFS else f"no space left to write{where}"
    if error.errno == errno.EROFS and folder:
        what = f"{folder} is on a read-only file system"
    if error.errno == errno.EFBIG:
        what = f"a file{where} grew past the size this process may write"
    return (f"{what}{f' ({_size(needed)} were being written)' if needed else ''}; free some space (or choose "
            f"another folder) and run the same command again: finished work is kept")


__all__ = ["NO_ROOM", "NoRoomError", "describe", "no_room", "writing_to"]
