"""Command line: ``propgrad explain | screen | study | models | editors | dynamics`` (or ``python -m propgrad``).

| module | command |
| --- | --- |
| ``explain`` | one image, one intervention (or several regions compared) |
| ``screen`` | one image, many candidate properties ranked with adjusted p-values |
| ``study`` | many images x interventions x models, resumable, on any engine |
| ``lessons`` | the course's lessons, executed and written as offline HTML pages or notebooks |
| ``models``, ``editors``, ``dynamics`` | the bundled models; the guided editors; the lesion scenario's training dynamics |
| ``gradual`` | the gradualness check's thresholds and verdict lines |
| ``flags`` | the flags they share, derived from the registry of kinds and the model spec |
| ``console`` | where they write: ``-q``, ``--json``, progress bars only on a terminal, the program's name |
"""
from __future__ import annotations

import argparse
import sys

from ..disk import forget_made_folders, no_room
from ..errors import USER_ERRORS, users_to_fix
from ..export.tables import count_unfinished_documents
from . import console
from . import exit_codes
from .bounds import check_args
from .explain import add_explain_parser, run_explain
from .messages import show_package_messages
from .screen import add_screen_parser


# Switches that may come before the subcommand (``propgrad -q study ...``); they are handed to it (``--json`` too:
# "unrecognized arguments: --json (see ... explain --help)" sent the user to a help that lists it).
GLOBAL_SWITCHES = ("-q", "--quiet", "--progress", "--no-progress", "--json")


def build_parser() -> argparse.ArgumentParser:
    from .._version import __version__

    parser = console.Parser(
        prog=console.program_name(),
        description="Local interventional explanations: does a model's prediction for THIS image depend on "
        "THIS property? Gradually change the property, run the models on every step, and measure "
        "E[|grad_X F|], its shuffle-test p-value and where the prediction flips.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    console.add_flags(parser, json_output=True)  # listed here too: each may come before the command (GLOBAL_SWITCHES)
    commands = parser.add_subparsers(dest="command", required=True)
    console.add_flags(add_explain_parser(commands), json_output=True, inherited=True)
    console.add_flags(add_screen_parser(commands), json_output=True, inherited=True)
    models = commands.add_parser("models", help="list the bundled models: outputs, input size, licence",
                                 description="The bundled models: outputs, input size, licence.")
    console.add_flags(models, json_output=True, inherited=True)
    editors = commands.add_parser("editors", help="list the guided editors: knob, range, licence, weights and how "
                                  "to get them", description="The guided editors: the knob each one sweeps, its "
                                  "range, licence, whether its weights are here and how to get them.")
    console.add_flags(editors, json_output=True, inherited=True)
    commands.add_parser("dynamics", help="training dynamics of the lesion scenario (see its --help)", add_help=False)
    commands.add_parser("lessons", help="the course: execute the five lessons and write them as offline HTML "
                        "(see its --help)", add_help=False)
    commands.add_parser("study", help="many images: images x interventions x models, resumable, in-process, "
                        "local processes or Ray (see its --help)", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 done, 2 a bad argument or input; see exit_codes)."""
    status = exit_codes.ERROR
    try:
        status = _command(argv)
        return status
    except SystemExit as stop:  # argparse's: --help and --version (0), a bad argument (2)
        status = stop.code if isinstance(stop.code, int) else exit_codes.ERROR
        raise
    except Exception as bug:  # a bug: its traceback follows; a --json run's stdout says so too
        console.problem(f"{type(bug).__name__}: {bug}", echo=False)
        raise
    finally:
        # Stopped before it wrote: the --out folder made for it goes too, not left behind empty.
        forget_made_folders(remove_empty=status != exit_codes.OK)
        if status != exit_codes.OK:
            console.error_document(status, exit_codes.KINDS.get(status, "error"))
        # The process as the command found it: -q turned logging off for the whole process, and a caller in Python
        # (a notebook, a test) lost every warning after one quiet command.
        console.reset()


def _command(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    leading = []
    while argv and argv[0] in GLOBAL_SWITCHES:
        leading.append(argv.pop(0))
    console.reset()
    count_unfinished_documents()
    console.expect_json(leading + argv)
    if "--version" in leading + argv[:1] and console.json_typed():
        # The version as the one JSON document a script reads, not argparse's plain line.
        from .._version import __version__

        console.emit({"program": console.program_name(), "version": __version__})
        return exit_codes.OK
    show_package_messages()  # a series from the cache, a wait for another process, a lost Ray node: one line each
    finished = None  # the status of a command whose output is all written
    try:
        with exit_codes.noting_interrupts(), console.stdout_kept_for_json():
            status = _dispatch(argv, leading)
            console.flush_stdout()
            finished = status
            return status
    except KeyboardInterrupt:
        if finished is not None:
            # Ctrl-C as the handlers were put back, after every file and the whole --json document were written:
            # status 130 over a complete run read to a CI job as an interrupted one.
            exit_codes.forget_caught_interrupt()
            exit_codes.interrupted_status()  # the signal noted is forgotten
            return finished
        # Ctrl-C is the user's, not a bug: one line, not the traceback of whatever library was running.
        if console.progress_enabled():
            print(file=sys.stderr)  # off the bar that was being drawn
        console.problem(exit_codes.interrupted_message(argv[:1]))
        exit_codes.forget_caught_interrupt()
        return exit_codes.interrupted_status()
    except BrokenPipeError:
        # The reader went away (`propgrad models | head`): stop quietly, as Python's documentation advises.
        console.drop_stdout()
        return 1
    except USER_ERRORS as error:
        if not users_to_fix(error):
            raise  # a wrong call inside the code: its traceback, not a usage line
        if no_room(error):  # a full disk or a read-only folder: status 4, see exit_codes
            return exit_codes.no_room(error)
        console.error(console.in_flag_words(error))
        return exit_codes.USAGE


def _dispatch(argv: list[str], leading: list[str]) -> int:
    """Run the command ``argv`` names (``leading``: the global switches typed before it); its exit status."""
    if argv[:1] == ["study"]:
        from .study import main as study_main

        return study_main(argv[1:] + leading)
    if argv[:1] == ["lessons"]:
        from .lessons import run as run_lessons

        return run_lessons(argv[1:] + leading)
    if argv[:1] == ["dynamics"]:
        from .dynamics import run_dynamics

        run_dynamics(argv[1:] + leading)  # returns its results for callers in Python; the shell gets 0
        return 0
    args = build_parser().parse_args(argv[:1] + leading + argv[1:])
    console.configure(args)
    check_args(args)  # the table of limits, before any work (exit status 2)
    if args.command == "models":
        from .models import run_models

        return run_models()
    if args.command == "screen":
        from .screen import run

        return run(args)
    if args.command == "editors":
        from .editors import run_list

        return run_list()
    return run_explain(args)


__all__ = ["build_parser", "main"]
