"""Errors the package raises on purpose, so callers (the app, the command line) can tell them apart."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence


class ModelUnavailableError(RuntimeError):
    """A model's weights are neither in a local folder nor downloadable; the message says how to get them."""


class ArgumentError(ValueError):
    """A bad value for one named argument: ``str(error)`` is "`argument` problem".

    Front ends show it under their own name for the argument (an app box, a command-line flag) with
    :meth:`renamed` or :meth:`named_by`, so the problem is worded once, where the rule lives.

    Examples
    --------
    >>> error = ArgumentError("stop", "must be a finite number, got nan", gloss="the edit's end value")
    >>> str(error), str(error.renamed("edit end value"))
    ("`stop` (the edit's end value) must be a finite number, got nan", '`edit end value` must be a finite number, got nan')
    """

    def __init__(self, argument: str, problem: str, gloss: str = ""):
        # The gloss explains a terse Python name; a front end's own name for the box or flag needs none
        # ("`edit end value` (the edit's end value)" read as a tautology).
        self.argument, self.problem, self.gloss = argument, problem, gloss
        super().__init__(f"`{argument}` " + (f"({gloss}) " if gloss else "") + problem)

    def renamed(self, argument: str) -> "ArgumentError":
        """The same problem under another name for the argument."""
        return ArgumentError(argument, self.problem)

    def named_by(self, names: Mapping[str, str]) -> "ArgumentError":
        """Renamed where ``names`` (argument -> a front end's name: a box, a flag) has the argument, else itself,
        gloss and all (a library name with no front-end twin keeps its explanation)."""
        return self.renamed(names[self.argument]) if self.argument in names else self


def not_one_of(argument: str, value, choices: Iterable) -> ArgumentError:
    """A value outside its choices: the choices in words (no Python list) and the closest one, if any is close.

    Examples
    --------
    >>> str(not_one_of("edit", "brighten", ["blur", "brightness", "darken"]))
    "`edit` must be one of 'blur', 'brightness' or 'darken', got 'brighten'; did you mean 'brightness'?"
    """
    choices = [str(choice) for choice in choices]
    if not choices:
        return ArgumentError(argument, f"has nothing to choose from here, got {value!r}")
    return ArgumentError(argument, f"must be one of {in_words(choices, 'or')}, got {shown(value)}"
                         + (f"; did you mean {close!r}?" if (close := closest(value, choices)) else ""))


def not_all_of(argument: str, unknown: Iterable, choices: Iterable) -> ArgumentError:
    """Names in a list that are not among its choices, worded as :func:`not_one_of` words one.

    Examples
    --------
    >>> str(not_all_of("edits", ["darkn", "blurr"], ["blur", "brightness", "darken"]))
    "`edits` must each be one of 'blur', 'brightness' or 'darken', got 'darkn' and 'blurr'; did you mean 'darken' for 'darkn', 'blur' for 'blurr'?"
    >>> str(not_all_of("regions", ["sky", "sky"], ["object"])), str(not_all_of("regions", "abcde", ["object"]))
    ("`regions` must be one of 'object', got 'sky'", "`regions` must each be one of 'object', got 'a', 'b', 'c' and 2 more")
    """
    unknown, choices = list(dict.fromkeys(map(str, unknown))), [str(choice) for choice in choices]
    if len(unknown) == 1:
        return not_one_of(argument, unknown[0], choices)
    # The first few only: an agent's list of ten thousand names made a message of 600 KB.
    got = in_words(unknown, most=QUOTED, quote=shown)
    if not choices:
        return ArgumentError(argument, f"has nothing to choose from here, got {got}")
    guesses = [f"{close!r} for {shown(value)}" for value in unknown[:QUOTED] if (close := closest(value, choices))]
    return ArgumentError(argument, f"must each be one of {in_words(choices, 'or')}, got {got}"
                         + (f"; did you mean {', '.join(guesses)}?" if guesses else ""))


# How many unknown names a refusal quotes.
QUOTED = 3


def shown(value, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters: error messages quote what was typed, not a megabyte of it."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def counted(number: int, singular: str, plural: str | None = None) -> str:
    """``number`` and the noun it counts, in the singular for one ("1 properties x 1 model" was printed).

    Examples
    --------
    >>> counted(1, "property", "properties"), counted(1_000, "row")
    ('1 property', '1,000 rows')
    """
    return f"{number:,} {singular if number == 1 else plural or singular + 's'}"


def over_rows(number: int) -> str:
    """What a table's p-values were adjusted over, in words: "all 6 rows", or for one row "its one row".

    Examples
    --------
    >>> over_rows(6), over_rows(1)
    ('all 6 rows', 'its one row')
    """
    return "its one row" if number == 1 else f"all {number:,} rows"


def in_words(values: Iterable, last: str = "and", *, most: int | None = None, quote=repr) -> str:
    """Values as a sentence lists them, each quoted (``quote``): "'a', 'b' or 'c'" (no Python list); past ``most``
    of them, the first ``most`` and "and N more", as every list a sentence names (:func:`propgrad.reading.listed`).

    Examples
    --------
    >>> in_words(["bh", "holm"], "or")
    "'bh' or 'holm'"
    >>> in_words(["tench", "goldfish", "shark", "hen"], most=2), in_words(["a", "b"], quote=str)
    ("'tench', 'goldfish' and 2 more", 'a and b')
    """
    values = [str(value) for value in values]
    named = [quote(value) for value in values[:most]]
    if most is not None and len(values) > most:
        named.append(f"{len(values) - most:,} more")
    return (", ".join(named[:-1]) + f" {last} {named[-1]}") if len(named) > 1 else "".join(named)


def closest(value, choices: list[str]) -> str | None:
    """The choice a typed value most likely meant: the one that begins as it does (a shared start of four
    characters: "brighten" meant "brightness", though it differs from "lighten" by fewer letters), else the closest
    spelling."""
    import difflib
    import os.path

    if not isinstance(value, str) or not value.strip():
        return None
    typed = value.strip().lower()

    def likeness(choice: str) -> tuple[int, float]:
        # A shared start first; among choices that share as much ("recolor red": every 'recolour ...'), the spelling.
        start = len(os.path.commonprefix([typed, choice.lower()]))
        return (start if start >= 4 else 0), difflib.SequenceMatcher(None, typed, choice.lower()).ratio()

    best = max(choices, key=likeness)
    start, ratio = likeness(best)
    return best if start or ratio >= 0.75 else None


def near_names(typed: str, names: Sequence[str], most: int = 4) -> list[str]:
    """The names a typed class name may have meant, for a model's outputs: near spellings, swapped letters, and
    names containing the word typed ('cat' -> 'tiger cat', which no edit distance offers; :func:`closest` would
    offer 'crate')."""
    import difflib
    import re

    lowered = {name.lower(): name for name in names}
    typed = typed.strip().lower()
    if len(typed) < 2:  # "" is in every name, "a" in most: no guess
        return []
    # difflib's own cutoff (0.6) offers 'pirate' for 'giraffe', a class ImageNet lacks: only near spellings
    # count, and swapped letters ('dgo'), which the ratio scores low in short words.
    close = [key for key in difflib.get_close_matches(typed, list(lowered), n=10, cutoff=0.6)
             if difflib.SequenceMatcher(None, typed, key).ratio() >= 0.8 or sorted(key) == sorted(typed)][:3]
    # A name inside the word typed counts from three letters: 'durian' holds class 'a', which it did not mean.
    containing = [key for key in lowered if key not in close and ((len(key) >= 3 and key in typed) or typed in key)]
    # Whole words first: 'cat' meant 'tiger cat' rather than 'oystercatcher'.
    containing.sort(key=lambda key: not re.search(rf"\b{re.escape(typed)}\b", key))
    close += containing[:3]
    return [lowered[key] for key in close[:most]]


def raised_on_purpose(error: BaseException) -> bool:
    """Whether ``error`` came from a ``raise`` statement that raises its type (a check that refused a value, here or
    in a library) rather than from the interpreter failing an expression: a wrong call, a None used as an object,
    or an expression failing inside a raise's own message. Front ends show the first as the user's to fix and
    treat the second as an internal error (logged, with its traceback)."""
    import linecache
    import re

    trace = error.__traceback__
    if trace is None:
        return True
    while trace.tb_next is not None:
        trace = trace.tb_next
    line = linecache.getline(trace.tb_frame.f_code.co_filename, trace.tb_lineno).strip()
    if not line.startswith("raise"):
        return False
    named = re.match(r"raise\s+(?:[\w.]+\.)?([A-Z]\w*(?:Error|Exception))\s*\(", line)
    return named is None or named.group(1) in {kind.__name__ for kind in type(error).__mro__}


def in_one_line(error: BaseException) -> str:
    r"""An error as one line: its type and its message's first line, and where the message runs over several lines,
    its last one too (TorchScript's first line says only that "the following operation failed"; the model's own
    error is its last, "builtins.RuntimeError: too dark for me"). TorchScript's type, named "Error", is left out
    ("Error: The following ..." read as a stutter after the command line's "error:").

    Examples
    --------
    >>> in_one_line(RuntimeError("CUDA out of memory"))
    'RuntimeError: CUDA out of memory'
    >>> in_one_line(RuntimeError("The following operation failed.\n  File ...\nbuiltins.RuntimeError: too dark\n"))
    'RuntimeError: The following operation failed. ... RuntimeError: too dark'
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = " ... ".join(dict.fromkeys([lines[0], lines[-1].removeprefix("builtins.")])) if lines else ""
    name = type(error).__name__
    return text if name == "Error" and text else f"{name}: {text}".rstrip(": ")


def in_front_end_words(error: BaseException, names: Mapping[str, str]) -> str:
    """An error's message, an :class:`ArgumentError`'s argument named as the front end names it (``names``)."""
    return str(error.named_by(names)) if isinstance(error, ArgumentError) else str(error)


# What a user can fix (a bad value, a missing file or weights): the command line prints these as one line.
USER_ERRORS = (ValueError, TypeError, ImportError, ConnectionError, ModelUnavailableError, OSError)


def users_to_fix(error: BaseException) -> bool:
    """Whether a front end shows ``error`` as the user's to fix: one of :data:`USER_ERRORS`, a TypeError only where
    a check raised it (:func:`raised_on_purpose`); a wrong call inside the code is an internal error."""
    if isinstance(error, TypeError) and not raised_on_purpose(error):
        return False
    return isinstance(error, USER_ERRORS)
