"""The lesson pages the app's header links, served through gradio's file route (their folder is allowed).

``$PROPGRAD_LESSONS_HTML`` names pages written beforehand (``python -m propgrad lessons --html OUT/ --student``).
Otherwise the lessons' text and code are written into a folder of this process at once (readable, not executed),
and, once every tab's default is ready, the lessons run in a child process at low priority (``nice``) and their
executed pages, with every output and figure and without the teacher's solutions, replace those in the same
folder: the link stays the same, and a student opening it a minute after start-up reads the lessons with their
results (before, always without). ``PROPGRAD_EXECUTE_LESSONS=0`` keeps the unexecuted pages (the tests' servers
do). A failed run leaves the unexecuted pages and logs why.
"""
from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from .failing import Failing

log = logging.getLogger(__name__)

PAGES_ENV = "PROPGRAD_LESSONS_HTML"
EXECUTE_ENV = "PROPGRAD_EXECUTE_LESSONS"
RUN_TIMEOUT_S = 900.0
_FOLDER: list[Path] = []
_PAGES: list[Path] = []  # the pages written into it (executed pages keep their names): what put_back checks
_FAILING = Failing()
_LOCK = threading.Lock()


def folder() -> Path:
    """The folder the link points into: ``$PROPGRAD_LESSONS_HTML``, else this process's own (made once, with the
    unexecuted pages, and removed at exit)."""
    given = os.environ.get(PAGES_ENV, "").strip()
    if given:
        return Path(given).resolve()
    with _LOCK:
        if not _FOLDER:
            from .. import lessons

            _remove_orphans()
            made = Path(tempfile.mkdtemp(prefix=_PREFIX))
            _claim(made)
            atexit.register(_clean_up, made)
            _PAGES.clear()
            try:
                _PAGES[:] = lessons.write_source_pages(lessons.lesson_paths(), made)
            except Exception:  # noqa: BLE001 - a header link must never stop the app
                log.exception("the lesson pages could not be written")
            _FOLDER.append(made)
        return _FOLDER[0]


_PREFIX = "propgrad-lessons-"
_OWNER = ".owner.lock"  # held (flock) by the server whose folder it is, for as long as it runs
_HELD: list = []
_STALE_S = 86_400.0


def _claim(folder: Path) -> None:
    """Hold the folder's lock for this process's life (POSIX; elsewhere its folder goes only at exit)."""
    if os.name != "posix":
        return
    import fcntl

    # Locked under another name, then renamed: no other server ever finds the lock file free.
    handle = open(folder / f"{_OWNER}.new", "w")  # noqa: SIM115 - open for the process's life
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.replace(folder / f"{_OWNER}.new", folder / _OWNER)
    _HELD.append(handle)


def _remove_orphans() -> None:
    """The folders of servers that ended without their exit handler (killed, or a test's server stopped): their
    lock is free. (213 had piled up in /tmp.) Folders without one (a run's scratch folder, an older version's
    server) go once a day old. A lock held by a server in another PID namespace still counts: flock sees it."""
    if os.name != "posix":
        return
    import fcntl

    for old in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        lock = old / _OWNER
        try:
            if not lock.exists():
                if time.time() - old.stat().st_mtime > _STALE_S:
                    shutil.rmtree(old, ignore_errors=True)
                continue
            with open(lock) as handle:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held by its running server, or not ours to open
            continue
        shutil.rmtree(old, ignore_errors=True)


def put_back() -> bool:
    """Write this process's lesson pages again where something removed them (a cleaner of old files in the temp
    folder): the header's link names their folder for as long as the server runs, and answered "File not found".
    They are written unexecuted, then executed in the background as at start-up. Whether they were written.

    The folder is made again only as this process's own (mode 700): one that someone else made at its published
    path meanwhile (a shared /tmp) is not written into, nor served from."""
    from .. import lessons

    with _LOCK:
        if not _FOLDER or not _PAGES or all(page.is_file() for page in _PAGES):
            return False
        made = _FOLDER[0]
        try:
            try:
                made.mkdir(mode=0o700)
            except FileExistsError:
                if not _own_private_folder(made):
                    raise PermissionError(f"{made} is not this server's own private folder any more") from None
            while _HELD:  # the lock file went with the folder: its handle is let go, a new one held
                _HELD.pop().close()
            _claim(made)
            lessons.write_source_pages(lessons.lesson_paths(), made)
        except Exception as error:  # noqa: BLE001 - a header link must never stop the app
            if _FAILING.first():
                log.warning("the lesson pages in %s are gone and could not be written again: %s", made, error)
            return False
        _FAILING.worked()
        log.warning("the lesson pages in %s were gone (removed by something else, such as a cleaner of old temporary "
                    "files): written again", made)
    execute_later(None)
    return True


def _own_private_folder(path: Path) -> bool:
    """A real folder (not a link) owned by this process's user, which no one else may write into."""
    try:
        status = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(status.st_mode) and status.st_uid == os.getuid() and not status.st_mode & 0o022


def link() -> str:
    """The header's link: the pages' index through gradio's file route."""
    return f"/gradio_api/file={folder() / 'index.html'}"


def execute_into_folder(timeout_s: float = RUN_TIMEOUT_S) -> bool:
    """Run the lessons in a child process at low priority and move their pages into :func:`folder`; whether the
    executed pages are there now. Does nothing where the pages were given (``$PROPGRAD_LESSONS_HTML``)."""
    from .. import lessons

    if os.environ.get(PAGES_ENV, "").strip():
        return False
    missing = lessons.missing_packages()
    if missing:
        log.info("the lesson pages stay unexecuted: %s not installed (pip install 'propgrad[lessons]')",
                 ", ".join(missing))
        return False
    target = folder()
    with tempfile.TemporaryDirectory(prefix="propgrad-lessons-run-") as scratch:
        out = Path(scratch) / "pages"
        # Links relative (--app-url /): the pages are served by this app, wherever it runs (a Space's address).
        command = [sys.executable, "-m", "propgrad", "lessons", "--html", str(out), "--student", "--app-url", "/",
                   "-q", "--no-progress"]
        # nice: the visitors' runs come first (the kernel inherits it; a preexec_fn is unsafe in a threaded
        # server). A session of its own, so that _stop_children can stop the child's group with the server (its
        # kernel, in a session of its own, exits when its parent is gone). TMPDIR inside the scratch folder: the
        # lessons' working folders go with it.
        nice = shutil.which("nice")
        scratch_tmp = Path(scratch) / "tmp"
        scratch_tmp.mkdir()
        child = subprocess.Popen([nice, "-n", "10", *command] if nice else command, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True, start_new_session=True,
                                 env={**os.environ, "HF_HUB_OFFLINE": "1", "TMPDIR": str(scratch_tmp)})
        _CHILDREN.append(child)
        try:
            _, errors = child.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _stop(child)
            log.warning("the lessons did not run within %.0f s: the lesson pages stay unexecuted", timeout_s)
            return False
        finally:
            _CHILDREN.remove(child)
        if child.returncode != 0 or not (out / "index.html").is_file():
            log.warning("the lessons failed to run (exit %s): the lesson pages stay unexecuted\n%s",
                        child.returncode, (errors or "")[-2000:])
            return False
        # Each page replaced whole (a reader never gets half a page); the index last, so that it names pages
        # that are there.
        pages = sorted(out.glob("*.html"), key=lambda path: path.name == "index.html")
        for page in pages:
            staged = target / f".{page.name}.new"
            shutil.copyfile(page, staged)
            os.replace(staged, target / page.name)
    log.info("the lesson pages are executed: %s", target)
    return True


_CHILDREN: list[subprocess.Popen] = []


def _stop(child: subprocess.Popen) -> None:
    try:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(10)
    except (ProcessLookupError, PermissionError, subprocess.TimeoutExpired, OSError):
        child.kill()


def _stop_children() -> None:
    for child in list(_CHILDREN):
        _stop(child)


def _clean_up(made: Path) -> None:
    """At exit: the child first (it may be copying pages in), then the folder."""
    _stop_children()
    shutil.rmtree(made, ignore_errors=True)


def execute_later(after: threading.Thread | None) -> threading.Thread | None:
    """In a daemon thread: wait for ``after`` (the tabs' defaults), then :func:`execute_into_folder`."""
    if os.environ.get(EXECUTE_ENV, "1").strip() == "0" or os.environ.get(PAGES_ENV, "").strip():
        return None

    def run():
        if after is not None:
            after.join()
        try:
            execute_into_folder()
        except Exception:  # noqa: BLE001 - the unexecuted pages stay; the server goes on
            log.exception("the lessons could not be run for the app's lesson pages")

    thread = threading.Thread(target=run, name="propgrad-lessons", daemon=True)
    thread.start()
    return thread
