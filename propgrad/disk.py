"""Writes that find no room: tell them apart from other errors and say so in one line.

A full disk (ENOSPC), a quota (EDQUOT), a file-size limit (EFBIG) and a read-only folder (EROFS, or EACCES
for a folder the user may not write) all mean the same thing to a user: free some space or choose another
folder, then run the same command again. Writers raise :class:`NoRoomError` with the folder and, where they
know it, the bytes they were writing; the command line prints :func:`describe` and exits with status 4.
"""
from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}
READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}


class NoRoomError(OSError):
    """A write found no room (or a read-only folder); ``folder`` and ``needed`` (bytes, or None) say where and how
    much."""

    def __init__(self, error: OSError, folder: str | Path, needed: int | None = None, flag: str = "--out"):
        super().__init__(error.errno, error.strerror or str(error), error.filename)
        self.folder, self.needed, self.flag = Path(folder), needed, flag

    def __str__(self) -> str:
        return describe(self)

    def __reduce__(self):
        # Raised in the app's writer process, it travels back pickled: OSError's own pickling called __init__ with
        # (errno, text), and the app got an AttributeError in place of "the disk is full".
        return _no_room_again, (self.errno, self.strerror, self.filename, str(self.folder), self.needed, self.flag)


def _no_room_again(number, text, filename, folder, needed, flag) -> NoRoomError:
    return NoRoomError(OSError(number, text, filename), folder, needed, flag)


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
def writing_to(folder: str | Path, flag: str = "--out") -> Iterator[None]:
    """Name ``folder`` in a no-room error raised inside (a bare ``write`` error does not say which file it was).

    A folder that may not be written (EACCES, EPERM) or made (ENOENT under /proc) counts too, when the error names
    the folder or a file in it: elsewhere the same error is about an input, not the output."""
    folder = Path(folder).resolve()
    try:
        yield
    except OSError as error:
        if isinstance(error, NoRoomError):
            raise
        if no_room(error) or (error.errno in READ_ONLY | {errno.ENOENT, errno.EISDIR}
                              and _inside(error.filename, folder)):
            raise NoRoomError(error, folder, flag=flag) from error
        raise


def _inside(filename, folder: Path) -> bool:
    if not filename:
        return False
    path = Path(filename).resolve()
    return path == folder or folder in path.parents


def check_folder_name(folder: str | Path, flag: str = "--out") -> Path:
    """The cheap half of :func:`check_writable`, for before any input or model loads: an empty name (an unset shell
    variable) or a file is refused (``ValueError`` naming ``flag``)."""
    if not str(folder).strip():
        raise ValueError(f"`{flag}` is empty: name the folder to write into (it is created if missing)")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"`{flag}` {str(folder)!r} is a file; give a folder (it is created if missing)")
    # A file on the way ('report.html/out'): mkdir's bare "[Errno 20] Not a directory" named neither the flag nor it.
    blocking = next((parent for parent in folder.parents if parent.exists() and not parent.is_dir()), None)
    if blocking is not None:
        raise ValueError(f"`{flag}` {str(folder)!r} lies under {str(blocking)!r}, which is a file; give a folder "
                         "whose parents are folders (it is created if missing)")
    return folder


# Folders check_writable made in this process, deepest first: a run that stops before it writes into them leaves
# none of them behind (forget_made_folders).
_MADE: list[Path] = []


def check_writable(folder: str | Path, flag: str = "--out") -> Path:
    """Make ``folder`` and write a probe file in it before any work: a folder that cannot be written is refused in
    one line (:class:`NoRoomError`, exit status 4) before the run, not after minutes of computing. An empty name
    (an unset shell variable) and a file are refused as arguments (``ValueError`` naming ``flag``)."""
    import tempfile

    folder = check_folder_name(folder, flag)
    with writing_to(folder, flag):
        missing = [path for path in (folder, *folder.parents) if not path.exists()]
        folder.mkdir(parents=True, exist_ok=True)
        _MADE.extend(missing)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".propgrad-probe-"):
            pass
    return folder


def forget_made_folders(remove_empty: bool) -> list[Path]:
    """A command is over: with ``remove_empty`` (it was interrupted or failed), remove the folders
    :func:`check_writable` made that are still empty (Ctrl-C during a screen left an empty --out folder behind);
    forget them either way. Returns the ones removed."""
    removed = []
    while _MADE:
        path = _MADE.pop(0)
        if remove_empty:
            with contextlib.suppress(OSError):  # not empty, or gone: it stays as it is
                path.rmdir()
                removed.append(path)
    return removed


@contextlib.contextmanager
def whole_or_none(path: str | Path) -> Iterator[None]:
    """Remove ``path`` when writing it fails: a file cut off by a full disk must not pass for a finished one (a
    truncated PNG, an empty report.html were left behind)."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(OSError):
            Path(path).unlink(missing_ok=True)
        raise


PARTIAL_SUFFIX = ".partial"


@contextlib.contextmanager
def replacing(path: str | Path, newline: str | None = None, binary: bool = False) -> Iterator[TextIO]:
    """A UTF-8 text handle whose content replaces ``path`` whole when the block ends; on any failure ``path`` stays as
    it was (a full disk cut screen.json at 8,192 bytes, which no JSON reader takes).

    The text goes to a file of its own beside ``path`` (hidden, named for this process), made durable and renamed
    over it: a rename is atomic, so not even a power cut leaves a cut file under the real name, and two writers of
    one file never write into the same temporary. The file keeps its mode, a link's target is replaced (not the link),
    and a folder that takes no new file while the file itself may be written (a shared results folder) is written in
    place, as before. So is a path that is no regular file (``/dev/null``, ``/dev/full``, a pipe): renamed over, it
    would be gone. ``binary`` gives a bytes handle (a figure)."""
    mode, text = ("wb", {}) if binary else ("w", {"encoding": "utf-8", "newline": newline})
    if not_a_regular_file(path):  # as given: /dev/stdout's real path names a pipe that cannot be opened by name
        with open(path, mode, **text) as handle:
            yield handle
        return
    path = Path(os.path.realpath(path))
    if path.is_dir():  # the name in the way, not the temporary's (the rename would name that one)
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    partial = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}{PARTIAL_SUFFIX}")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # 0o666: the umask applies
    except PermissionError:
        if not (path.is_file() and os.access(path, os.W_OK)):
            raise
        with whole_or_none(path), path.open(mode, **text) as handle:
            yield handle
        return
    with whole_or_none(partial):
        with open(descriptor, mode, **text) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(partial, stat.S_IMODE(path.stat().st_mode))
        os.replace(partial, path)


def not_a_regular_file(path: str | Path) -> bool:
    """Whether ``path`` is there and is neither a file nor a folder (a device, a pipe, ``/dev/stdout``), its links
    followed: written in place, never replaced."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


# The files a finished or stopped run of the package wrote into a folder, relative to it (export.folder keeps it).
WRITTEN = ".propgrad-written.json"


def is_partial(path: Path) -> bool:
    """Whether ``path`` is a temporary of :func:`replacing` (left behind only by a crash or a power cut)."""
    return path.name.startswith(".") and path.name.endswith(PARTIAL_SUFFIX)


def written_name(filename: str | Path) -> str:
    """The name of the file a write was for: a temporary of :func:`replacing` names its target.

    Examples
    --------
    >>> written_name("/out/.results.csv.4242-0a1b2c3d.partial"), written_name("/out/report.json")
    ('results.csv', 'report.json')
    """
    name = Path(filename).name
    if is_partial(Path(name)):
        return name[1:].removesuffix(PARTIAL_SUFFIX).rsplit(".", 1)[0]
    return name


def write_whole(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` (text, or bytes: a figure) to ``path`` whole or not at all (:func:`replacing`)."""
    with replacing(path, binary=isinstance(data, bytes)) as handle:
        handle.write(data)
    return Path(path)


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
    given = getattr(error, "folder", None) or folder
    folder = given or (Path(error.filename).parent if error.filename else None)
    needed = getattr(error, "needed", None)
    where = f" in {folder}" if folder else ""
    if error.errno == errno.EISDIR and error.filename:
        # A folder where a file of the result goes (report.html/): everything else was written; exit 4, not 2.
        return (f"cannot write {Path(error.filename).name}{where}: a folder of that name is in the way; remove it "
                f"(or choose another folder, `{getattr(error, 'flag', '--out')}`) and run the same command again")
    if (error.errno == errno.ENOENT and error.filename and given and not Path(given).exists()
            and Path(error.filename).resolve().parent == Path(given).resolve()):
        # A file of the run could not be written into its folder, which is gone: `rm -rf` of --out mid-run (this
        # said "the folder cannot be made there", and pointed to another folder).
        return (f"cannot write {written_name(error.filename)}: the folder {folder} was removed while the command ran; "
                f"run the same command again")
    if error.errno in READ_ONLY | {errno.ENOENT}:
        # No space to free here: the place itself refuses the write.
        why = {errno.EROFS: "it is on a read-only file system", errno.ENOENT: "the folder cannot be made there"}.get(
            error.errno, "permission denied")
        return (f"cannot write{where or ' the output'} ({why}); choose another folder "
                f"(`{getattr(error, 'flag', '--out')}`) and run the same command again")
    what = f"no space left to write{where}"
    if error.errno == errno.EFBIG:
        what = f"a file{where} grew past the size this process may write"
    return (f"{what}{f' ({_size(needed)} were being written)' if needed else ''}; free some space (or choose "
            f"another folder) and run the same command again (the files written so far are whole, none is cut off)")


__all__ = ["NO_ROOM", "NoRoomError", "check_folder_name", "check_writable", "describe", "no_room", "forget_made_folders",
           "is_partial", "not_a_regular_file", "replacing", "whole_or_none", "write_whole", "writing_to", "written_name"]
