"""Errors the package raises on purpose, so callers (the app, the command line) can tell them apart."""
from __future__ import annotations

from collections.abc import Mapping


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


def in_front_end_words(error: BaseException, names: Mapping[str, str]) -> str:
    """An error's message, an :class:`ArgumentError`'s argument named as the front end names it (``names``)."""
    return str(error.named_by(names)) if isinstance(error, ArgumentError) else str(error)


# What a user can fix (a bad value, a missing file or weights): the command line prints these as one line.
USER_ERRORS = (ValueError, TypeError, ImportError, ConnectionError, ModelUnavailableError, OSError)
