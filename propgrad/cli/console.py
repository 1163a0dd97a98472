"""Where the command line writes, as tools users know do it (pip, ruff, hf): the switches and one place that obeys them.

- ``-q/--quiet``: errors only (warnings and library logs too are held back);
- ``--json``: one JSON document on stdout, everything else on stderr, so ``propgrad explain ... --json | jq``
  works;
- progress bars on stderr only when it is a terminal; ``--progress`` forces them, ``--no-progress`` turns
  them off, including the bars of the libraries underneath (huggingface_hub's downloads, transformers',
  diffusers' pipeline loading);
- the program's name as it was invoked (``propgrad`` or ``python -m propgrad``).

Every subcommand adds the switches with :func:`add_flags` and calls :func:`configure` once its arguments are
parsed; then :func:`say` prints, :func:`emit` prints the JSON document and :func:`progress_enabled` decides
about bars.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

from ..disk import no_room


_state = {"quiet": False, "json": False, "progress": None, "typed": {}, "json_typed": False, "emitted": False,
          "problems": [], "stdout": None, "help_typed": False}
_WARNING_FILTERS: list = []


def program_name(argv0: str | None = None) -> str:
    """``propgrad`` when run as the installed script, ``python -m propgrad`` when run as a module.

    Examples
    --------
    >>> program_name("/usr/lib/python3/site-packages/propgrad/__main__.py"), program_name("/venv/bin/propgrad")
    ('python -m propgrad', 'propgrad')
    """
    name = Path(sys.argv[0] if argv0 is None else argv0).name
    return "python -m propgrad" if name in ("__main__.py", "-m", "-c", "") else name


def add_flags(parser: argparse.ArgumentParser, *, json_output: bool = False, progress: bool = True,
              inherited: bool = False) -> None:
    """``-q/--quiet``, ``--progress``/``--no-progress`` and (``json_output``) ``--json`` on ``parser``.

    ``inherited``: a subcommand's copy of switches the main parser also takes (``propgrad -q explain ...``
    and ``propgrad explain ... -q`` are the same); its defaults must not overwrite the main parser's value.
    """
    keep = {"default": argparse.SUPPRESS} if inherited else {}
    group = parser.add_argument_group("output")
    group.add_argument("-q", "--quiet", action="store_true", help="print errors only", **keep)
    if json_output:
        group.add_argument("--json", action="store_true", help="print one JSON document to stdout (everything "
                           "else goes to stderr)", **keep)
    if progress:
        bars = group.add_mutually_exclusive_group()
        bars.add_argument("--progress", action="store_true", default=keep.get("default", None),
                          help="draw progress bars even when stderr is not a terminal")
        bars.add_argument("--no-progress", action="store_false", dest="progress",
                          default=keep.get("default", None),
                          help="no progress bars, the libraries' own (downloads, pipeline loading) included; "
                          "default: bars only when stderr is a terminal")


def configure(args, *, parser: argparse.ArgumentParser | None = None) -> None:
    """Obey the parsed switches from here on (see the module docstring). ``parser``: where a run's settings come from
    a file (`study run`), its errors name the file's keys as they are, but for the flags this parser takes ("`outputs`
    is empty" read "`--outputs`", a flag `study run` does not take)."""
    typed = {**_region_flag(args), **_patch_flag(args)}
    if parser is not None:
        taken = {option for action in parser._actions for option in action.option_strings}
        typed.update({name: name for name, flag in FLAGS.items() if flag not in taken})
    _state.update(quiet=bool(getattr(args, "quiet", False)), json=bool(getattr(args, "json", False)),
                  progress=getattr(args, "progress", None), typed=typed)
    if not progress_enabled():
        from ..progress_bar import HUB_BARS_ENV, quiet_diffusers

        os.environ[HUB_BARS_ENV] = "1"
        quiet_diffusers()
    if _state["quiet"]:
        logging.disable(logging.WARNING)
        _WARNING_FILTERS[:] = warnings.filters[:]
        warnings.simplefilter("ignore")


def _region_flag(args) -> dict[str, str]:
    """A region's mask is the package's `mask`; a command without --mask takes it as --region or --compare-region,
    and its errors name the flag the user typed."""
    if hasattr(args, "mask") or not hasattr(args, "region"):
        return {}
    return {"mask": "--compare-region" if getattr(args, "compare_region", False) else "--region"}


def _patch_flag(args) -> dict[str, str]:
    """A sticker is the package's `patch N`; `dynamics` takes its files as --patches (explain as --patch), and its
    errors name that flag ("`--patch` (file 1)" named one dynamics does not have)."""
    return {"patch": "--patches"} if hasattr(args, "patches") and not hasattr(args, "patch") else {}


def progress_enabled() -> bool:
    """Whether to draw bars: forced on or off by the switches, else only on a terminal (never with -q)."""
    if _state["progress"] is not None:
        return bool(_state["progress"])
    return not _state["quiet"] and sys.stderr.isatty()


class StdoutFull(OSError):
    """stdout found no room (sent to a full disk, a quota's end, /dev/full): the command line says so of stdout, not
    of an output folder (it spoke of "the files written so far", none of which there were)."""


@contextlib.contextmanager
def _writing(stream) -> Iterator[None]:
    try:
        yield
    except OSError as error:
        if stream is sys.stderr or isinstance(error, StdoutFull) or not no_room(error):
            raise
        raise StdoutFull(error.errno, error.strerror) from error


def say(*lines: str) -> None:
    """Print for a person: stdout, or stderr when stdout carries JSON; nothing with --quiet."""
    if _state["quiet"]:
        return
    stream = sys.stderr if _state["json"] else sys.stdout
    with _writing(stream):
        print(*lines, sep="\n", file=stream)


def drop_stdout() -> None:
    """Send what is left for stdout to /dev/null: its reader went away, or where it goes is full (Python's own flush
    at exit would fail on it again, with a traceback)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, real_stdout().fileno())
        os.close(devnull)


def flush_stdout() -> None:
    """Write out what stdout holds while the command can still say why it could not (Python's own flush at exit
    prints a traceback and exits 120)."""
    with _writing(real_stdout()):
        real_stdout().flush()


def json_wanted() -> bool:
    return _state["json"]


def emit(document) -> None:
    """The one JSON document of a ``--json`` run, on stdout (also with --quiet: it was asked for)."""
    _state["emitted"] = True
    with _writing(real_stdout()):
        print(json.dumps(document, indent=1, ensure_ascii=False, default=str), file=real_stdout())


@contextlib.contextmanager
def stdout_kept_for_json():
    """Where ``--json`` was typed, stdout carries the one document only: whatever a library prints there meanwhile
    goes to stderr (Ray's "(raylet) A worker died ..." lines came before the document, which then did not parse)."""
    if not _state["json_typed"] or _state["help_typed"]:  # a help or version asked for is stdout's
        yield
        return
    kept = _state["stdout"] = sys.stdout
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        if sys.stdout is sys.stderr:
            sys.stdout = kept
        _state["stdout"] = None


def real_stdout():
    """stdout as the shell gave it (also while :func:`stdout_kept_for_json` sends prints elsewhere)."""
    return _state["stdout"] or sys.stdout


def error(message: str) -> None:
    """One line on stderr, ``error: ...``, as argparse words its own."""
    problem(f"error: {message}")


def problem(line: str, echo: bool = True) -> None:
    """A line on stderr about what went wrong (``echo=False``: said elsewhere, a traceback), kept for the error
    document of a ``--json`` run (:func:`error_document`)."""
    _state["problems"].append(line)
    if echo:
        print(line, file=sys.stderr)


def json_typed() -> bool:
    """Whether ``--json`` was typed (:func:`expect_json`), before the arguments are parsed."""
    return bool(_state.get("json_typed"))


def expect_json(argv: list[str]) -> None:
    """Before the arguments are parsed: whether ``--json`` was typed, so that an error in the arguments themselves
    ends in a JSON document too."""
    _state["json_typed"] = "--json" in argv
    _state["help_typed"] = any(arg in ("-h", "--help", "--version") for arg in argv)


def error_document(status: int, kind: str) -> None:
    """A ``--json`` run that ends with ``status`` (not 0) before it printed its document prints this one instead:
    ``{"error": {"status", "kind", "message", "lines"}}``, the message being stderr's last line about the problem
    (the same words), so that a script reading stdout learns why it got no result."""
    if not (_state["json"] or _state["json_typed"]) or _state["emitted"]:
        return
    emit(error_entry(status, kind, [line.removeprefix("error: ") for line in _state["problems"]]))


def error_entry(status: int, kind: str, lines: list[str]) -> dict:
    """``{"error": {"status", "kind", "message", "lines"}}``: how every --json document says why a run failed (its
    message the last of ``lines``)."""
    return {"error": {"status": status, "kind": kind, "message": lines[-1] if lines else kind, "lines": lines}}


def reset() -> None:
    """Back to the defaults (tests call :func:`propgrad.cli.main` many times in one process)."""
    _state.update(quiet=False, json=False, progress=None, typed={}, json_typed=False, emitted=False, problems=[],
                  stdout=None, help_typed=False)
    logging.disable(logging.NOTSET)
    if _WARNING_FILTERS:
        warnings.filters[:] = _WARNING_FILTERS
        _WARNING_FILTERS.clear()


class Parser(argparse.ArgumentParser):
    """argparse with its errors in one line, as every other error here: ``error: argument --steps: invalid int
    value: 'abc' (see propgrad explain --help)`` instead of the usage block (20 lines) above it."""

    def _print_message(self, message, file=None):
        # argparse drops a failed write: --help or --version sent to a full disk ended with status 0 and no text.
        file = file or sys.stderr
        if not message or file is None:
            return
        if file is sys.stderr:
            with contextlib.suppress(OSError):
                file.write(message)
            return
        try:
            with _writing(file):
                file.write(message)
                file.flush()
        except BrokenPipeError:  # `--help | head -1`: its reader has what it wanted
            drop_stdout()

    def error(self, message: str):
        line = f"error: {message} (see {self.prog} --help)"
        problem(line, echo=False)  # argparse prints it, on its way out
        self.exit(2, line + "\n")

    def parse_args(self, args=None, namespace=None):
        # argparse leaves unknown flags to the top parser, whose --help does not list the subcommand's flags.
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:
            commands = next((action.choices for action in self._actions
                             if isinstance(action, argparse._SubParsersAction)), {})
            commands.get(getattr(parsed, "command", None), self).error(f"unrecognized arguments: {' '.join(extra)}")
        return parsed


# The package's names for arguments whose flags are called otherwise: a rule is worded once, where it lives, and
# the command line shows it under the flag the user typed ("`n_permutations` must be..." read like a typo).
FLAGS = {"n_permutations": "--permutations", "permutations": "--permutations", "outputs_of_interest": "--outputs",
         "steps": "--steps", "seed": "--seed", "limit": "--limit", "alpha": "--alpha", "stop": "--stop",
         "statistic": "--statistic", "output": "--output", "out": "--out", "scale": "--scale",
         "position": "--position", "edit": "--edit", "editor": "--editor", "edits": "--edits", "regions": "--regions",
         "region": "--region", "mask": "--mask", "properties": "--properties", "images": "--images",
         "frames": "--frames", "instruction": "--instruction", "models": "--model", "patches": "--patch", "dataset": "--dataset",
         "class_names": "--class-names", "labels": "--labels", "input_size": "--input-size",
         "outputs_are": "--outputs-are", "rotation": "--rotation", "start": "--start", "mean": "--mean", "std": "--std",
         "checkpoints": "--checkpoints", "feather": "--feather", "outputs": "--outputs", "workers": "--workers",
         "top": "--top"}


def in_flag_words(error: BaseException) -> str:
    """An error's message with the package's argument names as the flags the user typed; a problem with a flag's
    value is named by the flag alone (the gloss that explains a terse Python name is not needed for a flag)."""
    from ..errors import ArgumentError, in_front_end_words

    if isinstance(error, ArgumentError) and error.argument.startswith("masks["):  # the screen's masks={label: file}
        error = error.renamed(f"--mask {error.gloss}")
    elif isinstance(error, ArgumentError) and error.argument == "mask" and error.gloss and _state["typed"]:
        error = error.renamed(f"{_state['typed']['mask']} {error.gloss}")  # which of several --region files
    # A flag's own name is not in backticks as a Python name.
    return as_typed(in_front_end_words(error, {**FLAGS, **_state["typed"]}))


def as_typed(message: str) -> str:
    """``message`` with the package's argument names in backticks replaced by their flags.

    Examples
    --------
    >>> as_typed("`n_permutations` must be a positive integer, got 0")
    '`--permutations` must be a positive integer, got 0'
    >>> as_typed("`patch 2`: 'notes.txt' is not a readable image")
    "`--patch` (file 2): 'notes.txt' is not a readable image"
    """
    flags = {**FLAGS, **_state["typed"]}
    # A sticker is named by its place ("`patch 2`"), which the command line gives as its second --patch.
    message = re.sub(r"`patch (\d+)`", lambda match: f"`{flags.get('patch', '--patch')}` (file {match.group(1)})",
                     message)
    return re.sub(r"`([a-z_]+)`", lambda match: f"`{flags.get(match.group(1), match.group(1))}`", message)
