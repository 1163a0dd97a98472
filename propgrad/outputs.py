"""Outputs of interest, as people write them: 'predicted', 'all', or class names / indices.

One parser for every front end (``explain``'s ``--outputs``, a study's ``outputs``, the app's box).
"""
from __future__ import annotations

from collections.abc import Sequence

PREDICTED = "predicted"
ALL = "all"
# The whole output vector as one score (half the L1 norm of its central-difference gradient, per step).
VECTOR = "vector"
KEYWORDS = (PREDICTED, ALL, VECTOR)


def split_output_names(text: str, known: Sequence[str] = ()) -> list[str]:
    """Comma- or newline-separated output names; a name that itself holds commas stays whole when
    one of ``known`` matches it (ImageNet's 'tabby, tabby cat'), case-insensitively.

    Examples
    --------
    >>> split_output_names("tabby, tabby cat, lynx", ["tabby, tabby cat", "lynx, catamount"])
    ['tabby, tabby cat', 'lynx']
    """
    lowered = {name.lower() for name in known}
    names: list[str] = []
    for line in str(text or "").splitlines():
        pieces = line.split(",")
        start = 0
        while start < len(pieces):
            # The longest run of pieces that is a known name, else the one piece.
            end = next((stop for stop in range(len(pieces), start + 1, -1)
                        if ",".join(pieces[start:stop]).strip().lower() in lowered), start + 1)
            name = ",".join(pieces[start:end]).strip()
            if name:
                names.append(name)
            start = end
    return names


def parse_outputs(value, known: Sequence[str] = ()):
    """'predicted', 'all', 'vector', or a list of names and column indices (digits become ints).

    ``value`` is text or a list of names; ``known`` are the models' output names (so that names
    holding commas stay whole). A dict ({model name: selection}) is passed on as it is.

    Examples
    --------
    >>> parse_outputs("predicted"), parse_outputs("cat, 3")
    ('predicted', ['cat', 3])
    >>> parse_outputs(" ")
    Traceback (most recent call last):
    ...
    propgrad.errors.ArgumentError: `outputs` is empty: use 'predicted', 'all', 'vector', or comma-separated class names/indices
    """
    from .errors import ArgumentError

    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        if value.strip().lower() in KEYWORDS:
            return value.strip().lower()
        value = split_output_names(value, known)
    items = [str(item).strip() for item in value if str(item).strip()]
    if not items:
        raise ArgumentError("outputs", "is empty: use 'predicted', 'all', 'vector', or comma-separated class names/indices")
    return [int(item) if item.isdigit() else item for item in items]


def vector_selection(models: Sequence) -> tuple[dict, list[str]]:
    """'vector' for every model with several outputs; a one-output model keeps its output, with a note.

    The command line and the app both go through here, so they accept the same models for 'vector'.
    """
    selection, notes = {}, []
    for model in models:
        if len(model.output_names) > 1:
            selection[model.name] = VECTOR
        else:
            selection[model.name] = None
            notes.append(f"{model.name} returns one output ({model.output_names[0]}); 'vector' needs several, so "
                         f"that output is scored for it.")
    return selection, notes


def outputs_for(value, models: Sequence) -> tuple[object, list[str]]:
    """The outputs of interest ``value`` names for ``models`` (see :func:`parse_outputs`), and notes: 'vector'
    becomes a per-model selection (:func:`vector_selection`)."""
    parsed = parse_outputs(value, [name for model in models for name in model.output_names])
    if parsed == VECTOR:
        return vector_selection(models)
    return parsed, []
