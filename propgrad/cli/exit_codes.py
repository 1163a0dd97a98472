"""What ``python -m propgrad`` returns to the shell, the same for ``explain``, ``screen`` and ``study``.

| code | meaning |
| --- | --- |
| 0 | everything asked for ran and was written |
| 1 | an unexpected error (a bug): Python's traceback says where |
| 2 | bad arguments, a missing file, or a request over the table of limits: one line on stderr, nothing ran |
| 3 | some work failed (study: an item FAILED; screen: a property dropped for an error; explain: the run failed |
|   | after it started; study report: the folder's study is not whole); what did run is written; stderr's last |
|   | line gives the count, after the command that retries a study's failed items |
| 4 | the output could not be written (disk full, read-only folder, a full stdout): one line names the folder |
|   | (or stdout); finished work is kept, and the same command completes the rest once there is room |
| 130 | interrupted (Ctrl-C): one line; a study's finished items are kept and the same command resumes it |
| 143 | stopped by SIGTERM (``kill``, a batch system's time limit): as for Ctrl-C |

docs/faults-and-limits.md lists the same codes; tests/test_exit_codes.py checks each.
"""
from __future__ import annotations

import contextlib
import shlex
import signal
import sys
import threading

from . import console

OK, ERROR, USAGE, PARTIAL, NO_ROOM = 0, 1, 2, 3, 4
INTERRUPTED = 130  # the shell's own code for a command stopped by SIGINT (128 + 2)
TERMINATED = 128 + signal.SIGTERM  # 143, as a shell reports a command that SIGTERM ended
# Each status but 0 in one word, for the error document of a --json run (console.error_document).
KINDS = {ERROR: "bug", USAGE: "usage", PARTIAL: "partial", NO_ROOM: "no_room", INTERRUPTED: "interrupted",
         TERMINATED: "terminated"}


def forget_caught_interrupt() -> None:
    """Let a caught Ctrl-C end the process with status 130, as returned.

    CPython remembers a KeyboardInterrupt that ended an ``exec`` of source text (dataclasses and namedtuples build
    their methods so, on import) as unhandled even when it was caught, and at exit kills the process with SIGINT in
    place of the status it returned: a CI run's interrupted explain ended -2, not 130. Each ``exec`` of source text
    starts by clearing that mark, so an empty one clears it."""
    exec("pass")


def interrupted_message(command: list[str]) -> str:
    """The one line for Ctrl-C or SIGTERM: what is kept, and how to go on."""
    from ..export.tables import unfinished_documents

    how = "terminated (SIGTERM)" if terminated() else "interrupted"
    if command == ["study"]:
        return f"{how}: the finished items are kept; run the same command to resume the study"
    unfinished = unfinished_documents()
    if unfinished:
        document = unfinished[0]
        return (f"{how} while writing {document.parent}: its {document.name}, written last, is missing, and the "
                f"folder holds this run's first files beside any earlier run's; run the same command again")
    return f"{how}: nothing more was written"


def interrupted_status() -> int:
    """130 after Ctrl-C, 143 after SIGTERM; the signals noted are forgotten (an error after the command is its own)."""
    status = TERMINATED if terminated() else INTERRUPTED
    _INTERRUPTS.clear()
    return status


def terminated() -> bool:
    """Whether the last stop this command received was SIGTERM."""
    return bool(_INTERRUPTS) and _INTERRUPTS[-1] == signal.SIGTERM


def partial(failed: int, total: int, what: str, retry: list[str] | None = None) -> int:
    """Print the count of failed work as stderr's last line (after the retry command, if any); return 3."""
    if retry:
        print(f"retry the failed items with: {shlex.join(retry)}", file=sys.stderr)
    console.problem(f"failed: {failed} of {total} {what}")
    return PARTIAL


def no_room(error: OSError) -> int:
    """One line for a write that found no room (or a read-only folder); return 4."""
    from ..disk import describe

    if isinstance(error, console.StdoutFull):
        console.drop_stdout()  # what it holds cannot be written either
        console.error("no space left to write the output to stdout (where it was sent is full); free some space "
                      "or send it elsewhere, and run the same command again")
        return NO_ROOM
    console.error(describe(error))
    return NO_ROOM


# The SIGINTs this process's command received (see noting_interrupts).
_INTERRUPTS: list[int] = []


@contextlib.contextmanager
def noting_interrupts():
    """Ctrl-C raises KeyboardInterrupt as always, and is remembered: an error that follows it is the interrupt's.
    Arriving inside an import, CPython can turn it into another error (a TypeError "expected a message argument"
    ended an interrupted explain with status 3 and "failed: 1 of 1 explanation"). Only where Ctrl-C raises already
    (the main thread, Python's own handler): an ignored SIGINT stays ignored.

    SIGTERM, where nothing else handles it, stops the command the same way (status 143): it killed the process
    outright, leaving a study's worker processes running on, orphaned, an empty --out folder behind and a --json
    run's stdout empty."""
    _INTERRUPTS.clear()  # kept after the block, for the caller's status (interrupted_status)
    main = threading.current_thread() is threading.main_thread()
    # Each signal only where it would stop the command anyway: a SIGINT ignored (a job started in the background) stays
    # ignored, and SIGTERM is still handled then.
    defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
    caught = [number for number, default in defaults.items() if main and signal.getsignal(number) == default]

    def note(signum, frame):
        _INTERRUPTS.append(signum)
        signal.default_int_handler(signum, frame)

    for number in caught:
        signal.signal(number, note)
    try:
        yield
    except Exception as error:
        interrupt_first(error)
        raise
    finally:
        for number in caught:
            signal.signal(number, defaults[number])


def interrupt_first(error: BaseException) -> None:
    """Raise KeyboardInterrupt in place of ``error`` where a Ctrl-C came before it (see noting_interrupts)."""
    if _INTERRUPTS:
        raise KeyboardInterrupt from error


class _Failure:
    status = OK

    def __bool__(self) -> bool:
        return self.status != OK


@contextlib.contextmanager
def failures(what: str):
    """Around work that has started: an error that is not the user's (not a bad argument, a missing file or a
    full disk, which propagate to their own status) is printed in one line and the block's truth value is then
    status 3, with "failed: 1 of 1 <what>" as stderr's last line.

    Examples
    --------
    >>> with failures("explanation") as failed:  # doctest: +SKIP
    ...     result = explain(...)
    >>> if failed:  # doctest: +SKIP
    ...     return failed.status
    """
    from ..errors import in_one_line, users_to_fix

    outcome = _Failure()
    try:
        yield outcome
    except Exception as error:  # a model or a series that failed while running: the run failed, not the call
        interrupt_first(error)
        if users_to_fix(error):
            raise
        console.error(in_one_line(error))
        outcome.status = partial(1, 1, what)


__all__ = ["ERROR", "NO_ROOM", "OK", "PARTIAL", "USAGE", "failures", "interrupt_first", "no_room",
           "noting_interrupts", "partial"]
