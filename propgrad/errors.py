"""Errors the package raises on purpose, so callers (the app, the command line) can tell them apart."""
from __future__ import annotations

from collections.abc import Iterable, Mapping


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
    shown = ", ".join(map(repr, choices[:-1])) + f" or {choices[-1]!r}" if len(choices) > 1 else repr(choices[0])
    return ArgumentError(argument, f"must be one of {shown}, got {value!r}"
                         + (f"; did you mean {close!r}?" if (close := _closest(value, choices)) else ""))


def _closest(value, choices: list[str]) -> str | None:
    """The choice a typed value most likely meant: the one that begins as it does (a shared start of four
    characters: "brighten" meant "brightness", though it differs from "lighten" by fewer letters), else the closest
    spelling."""
    import difflib
    import os.path

    if not isinstance(value, str) or not value.strip():
        return None
    typed = value.strip().lower()
    start, best = max((len(os.path.commonprefix([typed, choice.lower()])), choice) for choice in choices)
    if start >= 4:
        return best
    close = difflib.get_close_matches(typed, choices, n=1, cutoff=0.75)
    return close[0] if close else None


def in_front_end_words(error: BaseException, names: Mapping[str, str]) -> str:
    """An error's message, an :class:`ArgumentError`'s argument named as the front end names it (``names``)."""
    return str(error.named_by(names)) if isinstance(error, ArgumentError) else str(error)


# What a user can fix (a bad value, a missing file or weights): the command line prints these as one line.
USER_ERRORS = (ValueError, TypeError, ImportError, ConnectionError, ModelUnavailableError, OSError)
