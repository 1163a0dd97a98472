"""A second process that writes a run's report files while the app's own process draws the rest (gradio-free).

Part 2 of a run (the animation, the null distributions, each property's report with its figures, the zip) is
almost all matplotlib and Pillow, which hold Python's GIL: in threads of one process it takes as long as it does
one after the other (issue 23 measured 1.6 s after the answer, for a target of 1 s). A process of its own draws
the reports on the second core at the same time.

It is a plain ``python -m propgrad.app.writer`` child talking over its pipes, not a ``multiprocessing`` pool: a
spawned pool runs the parent's ``__main__`` again in the child, which for ``app.py`` would build the whole
Gradio app there. The child imports only what the function it is asked to run imports (numpy, Pillow,
matplotlib: about 100 MB), and ends when the app does (its stdin closes).

:func:`call` runs ``function(*args)`` there and returns its result or raises its exception. Where the child
cannot be started or dies, the work is done in this process instead (slower, never lost): the answer never
depends on the second process.
"""
from __future__ import annotations

import atexit
import importlib
import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
import traceback
from pathlib import Path

log = logging.getLogger("propgrad.app")

_HEADER = struct.Struct("!Q")
_LOCK = threading.Lock()
_CHILD: subprocess.Popen | None = None
_FAILURES = 0  # times the child could not be started or died; after two, the work stays in this process
_MAX_FAILURES = 2


def _pickled(value) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _send(stream, data: bytes) -> None:
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream):
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("the writer process closed its pipe")
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the writer process closed its pipe")
    return pickle.loads(data)


def _start() -> subprocess.Popen:
    # The child finds propgrad where this process found it (a checkout run as ``python app.py`` included), whatever
    # the working folder is by now.
    package_root = str(Path(__file__).resolve().parents[2])
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([package_root, *(path for path in sys.path if path)])}
    child = subprocess.Popen([sys.executable, "-m", "propgrad.app.writer"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, env=environment)
    atexit.register(_stop, child)
    return child


def _stop(child: subprocess.Popen) -> None:
    try:
        child.stdin.close()
        child.wait(timeout=5)
    except Exception:  # noqa: BLE001 - leaving anyway
        child.kill()


def _function_name(function) -> tuple[str, str]:
    return function.__module__, function.__qualname__


def call(function, *args):
    """``function(*args)`` (a module-level function; picklable arguments) in the writer process.

    It serves one call at a time: a call that finds it busy (two users finishing at once), or finds it
    unavailable, runs ``function`` here.
    """
    global _CHILD, _FAILURES
    try:
        request = _pickled((*_function_name(function), args))
    except Exception:  # noqa: BLE001 - what cannot travel is worked on here
        return function(*args)
    if _FAILURES >= _MAX_FAILURES or not _LOCK.acquire(blocking=False):
        return function(*args)
    try:
        if _CHILD is None or _CHILD.poll() is not None:
            _CHILD = _start()
        _send(_CHILD.stdin, request)
        ok, value = _receive(_CHILD.stdout)
    except (OSError, EOFError, pickle.UnpicklingError) as error:
        _FAILURES += 1
        if _CHILD is not None:
            _CHILD.kill()
            _CHILD.wait()
        _CHILD = None
        log.warning("the writer process is unavailable (%s); writing in the app's process", error)
        return function(*args)
    finally:
        _LOCK.release()
    if ok:
        return value
    raise value


def _serve() -> None:
    # Ctrl-C in a terminal reaches the whole process group: the app stops, and this child with it when its stdin
    # closes. The pipe is the protocol: anything the work prints goes to stderr instead.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    while True:
        try:
            module, name, args = _receive(requests)
        except EOFError:
            return
        try:
            function = importlib.import_module(module)
            for part in name.split("."):
                function = getattr(function, part)
            reply = (True, function(*args))
        except BaseException as error:  # noqa: BLE001 - handed back to the caller, who raises it
            reply = (False, error)
        try:
            data = _pickled(reply)
        except (pickle.PicklingError, TypeError, AttributeError):
            data = _pickled((False, RuntimeError("".join(traceback.format_exception(reply[1])) if not reply[0]
                                                 else f"the writer could not send back the result of {name}")))
        _send(replies, data)


if __name__ == "__main__":
    _serve()
