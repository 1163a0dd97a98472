"""What users type into the app's boxes -> checked Python values, or a ValueError that names the box.

Gradio-free, so the checks are tested without a server and reused by other front ends.
"""
from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..checks import MIN_STEPS
from ..errors import ArgumentError, near_names, shown
from ..limits import LIMITS
from ..outputs import ALL, PREDICTED, VECTOR, split_output_names, vector_selection

# The app's column of the one table of limits (propgrad.limits), shared with its MCP tools.
MAX_FRAMES = LIMITS["frames"].app
MAX_STEPS = LIMITS["steps"].app
MAX_SEEDS = LIMITS["seeds"].app
MAX_PERMUTATIONS = LIMITS["permutations"].app
MAX_SEED = 2**31 - 1
# Each number's range, by the MCP tools' argument names: the tabs and the tools check it (:func:`in_range`), the
# tools' schema states it (``minimum``/``maximum``), so the three cannot drift apart.
RANGES = {"steps": (MIN_STEPS, MAX_STEPS), "seed": (0, MAX_SEED), "n_permutations": (100, MAX_PERMUTATIONS),
          "alpha": (1e-4, 0.2), "edit_end": (-1e4, 1e4), "x": (0, 1), "y": (0, 1), "scale": (0.02, 1),
          "rotation": (0, 3600)}
_WHOLE = ("steps", "seed", "n_permutations")
# Scoring every output of a 1000-class model gives 1000 null distributions nobody can read.
MAX_ALL_OUTPUTS = 20
# Longer than anything a person types into these boxes; a megabyte of text is a probe, not a request.
MAX_TEXT = 2000


def check_text(value, *, name: str, max_length: int = MAX_TEXT, multiline: bool = False) -> str:
    """``value`` as text (None is empty), refused when too long, not text, or holding control characters.

    Single-line boxes refuse line breaks too: an instruction or a tag with a hidden newline would
    otherwise be used as something the user did not see.

    Examples
    --------
    >>> check_text("  make the fur white ", name="instruction")
    'make the fur white'
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"`{name}` must be text, got {type(value).__name__}")
    if len(value) > max_length:
        raise ValueError(f"`{name}` is {len(value):,} characters long; at most {max_length:,} are accepted")
    allowed = "\n\r\t" if multiline else "\t"
    for character in value:
        if character not in allowed and unicodedata.category(character) in ("Cc", "Cs"):
            what = "a line break" if character in "\n\r" else f"the control character {character!r}"
            raise ValueError(f"`{name}` holds {what}; type plain text" + ("" if multiline else " on one line"))
    return value.strip()


def parse_classes(text: str | None) -> dict[str, list[str]]:
    """Parse one class per line, ``class name: description one; description two; ...``.

    A line without a colon is a class whose only description is ``a photo of a <class>``.

    Examples
    --------
    >>> parse_classes("mug: a photo of a mug; a coffee cup\\nbarrel")
    {'mug': ['a photo of a mug', 'a coffee cup'], 'barrel': ['a photo of a barrel']}
    """
    text = check_text(text, name="classes", multiline=True)
    if not text:
        raise ArgumentError("classes", "is empty: write one class per line, e.g. 'mug: a photo of a mug; a coffee cup'")
    classes: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, _, descriptions = line.partition(":")
        name = name.strip()
        if not name:
            raise ArgumentError("classes", f"line {number} has no class name before the colon: {shown(line)}")
        if name in classes:
            raise ArgumentError("classes", f"names the class {shown(name)} twice; merge its descriptions into one line")
        prompts = [p.strip() for p in descriptions.split(";") if p.strip()] if descriptions else []
        classes[name] = prompts or [f"a photo of a {name}"]
    if len(classes) < 2:
        raise ArgumentError("classes", "needs at least two classes (zero-shot CLIP compares them), one per line")
    return classes


def parse_seeds(text: str | int | None, *, limit: int = MAX_SEEDS) -> list[int]:
    """Parse ``"0"``, ``"0, 1, 2"`` or ``"0-3"`` into a list of non-negative seeds.

    Examples
    --------
    >>> parse_seeds("0, 2-4")
    [0, 2, 3, 4]
    """
    if isinstance(text, (int, np.integer)) and not isinstance(text, bool):
        parts = [str(int(text))]
    else:
        text = check_text(text, name="seeds")
        if not text:
            raise ValueError("`seeds` is empty: give one seed like 0, several like '0, 1, 2', or a range like '0-3'")
        parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    seeds: list[int] = []
    for part in parts:
        span = re.fullmatch(r"(\d+)\s*-\s*(\d+)", part)
        if span:
            low, high = int(span.group(1)), int(span.group(2))
            if high < low or high - low >= limit:
                raise ValueError(f"`seeds`: range {part!r} must run upwards and hold at most {limit} seeds")
            seeds.extend(range(low, high + 1))
        elif re.fullmatch(r"-?\d+", part):
            seeds.append(int(part))
        else:
            raise ValueError(f"`seeds`: {shown(part)} is not a whole number or a range like '0-3'")
    if any(not 0 <= seed <= MAX_SEED for seed in seeds):
        raise ValueError(f"`seeds` must be whole numbers from 0 to {MAX_SEED}, got {seeds}")
    if not seeds or len(seeds) > limit:
        raise ValueError(f"`seeds`: give between 1 and {limit} seeds, got {len(seeds)}")
    return list(dict.fromkeys(seeds))


def parse_numbers(text: str | None, *, name: str, count: int) -> tuple[float, ...]:
    """Parse ``count`` comma-separated numbers, e.g. a per-channel mean ``"0.485, 0.456, 0.406"``."""
    text = check_text(str(text) if isinstance(text, (int, float)) else text, name=name)
    if not text:
        raise ValueError(f"`{name}` is empty: give {count} comma-separated numbers")
    try:
        values = tuple(float(v) for v in str(text).replace(";", ",").split(",") if v.strip())
    except ValueError as error:
        raise ValueError(f"`{name}` must be {count} comma-separated numbers, got {shown(text)}") from error
    if len(values) == 1 and count > 1:
        values = values * count
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise ValueError(f"`{name}` must be {count} finite comma-separated numbers, got {shown(text)}")
    return values


# A model's class names may be ImageNet's thousand (11,486 characters): the other boxes' 2,000 refused them.
MAX_NAMES_TEXT = 40_000


def parse_names(text: str | None, *, name: str, max_length: int = MAX_TEXT) -> list[str]:
    """Split a comma- or newline-separated list of names, dropping blanks (the outputs' splitting rule)."""
    return split_output_names(check_text(text, name=name, max_length=max_length, multiline=True))


def box_names(build, boxes: dict[str, str], **arguments):
    """``build(**arguments)`` with a bad argument reported under its box's name (``boxes``: argument -> box)."""

    try:
        return build(**arguments)
    except ArgumentError as error:
        raise error.named_by(boxes) from None


def check_int(value, *, name: str, low: int, high: int) -> int:
    """``value`` as an int in [low, high], or a ValueError that names ``name`` and the range."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError) as error:
        raise ValueError(f"`{name}` must be a whole number between {low} and {high}, got {shown(value)}") from error
    if not math.isfinite(number) or not number.is_integer() or not low <= number <= high:
        raise ValueError(f"`{name}` must be a whole number between {low} and {high}, got {shown(value)}")
    return int(number)


def check_float(value, *, name: str, low: float, high: float) -> float:
    """``value`` as a float in [low, high], or a ValueError that names ``name`` and the range."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError) as error:
        raise ValueError(f"`{name}` must be a number between {low} and {high}, got {shown(value)}") from error
    if not math.isfinite(number) or not low <= number <= high:
        raise ValueError(f"`{name}` must be a number between {low} and {high}, got {shown(value)}")
    return number


def in_range(value, key: str, name: str | None = None):
    """``value`` checked against its range in :data:`RANGES` (a whole number where the range is of whole numbers);
    the message names ``name``, the box as the page shows it, else ``key``."""
    low, high = RANGES[key]
    return (check_int if key in _WHOLE else check_float)(value, name=name or key, low=low, high=high)


def file_path(item, *, name: str = "upload") -> str:
    """The path of an uploaded file, whether gradio passes a str, a Path or an object with ``.name``."""
    if isinstance(item, (str, os.PathLike)):
        return str(item)
    if isinstance(item, dict) and "path" in item:
        return str(item["path"])
    path = getattr(item, "name", None) or getattr(item, "path", None)
    if path is None:
        raise ValueError(f"`{name}`: cannot read an uploaded file from a {type(item).__name__}; upload a file")
    return str(path)


def check_suffixes(paths: Sequence[str], allowed: Sequence[str], *, name: str) -> list[str]:
    """Refuse files whose suffix is not in ``allowed`` with a message that lists what is accepted."""
    result = []
    for path in paths:
        suffix = Path(path).suffix.lower()
        if suffix not in allowed:
            raise ValueError(
                f"`{name}`: {Path(path).name!r} is a {suffix or 'suffix-less'} file; accepted: {', '.join(allowed)}"
            )
        result.append(path)
    return result


def _match_output(name: str, outputs: list[str], model_name: str) -> str | None:
    """``name`` itself if it is an output; else its only case-insensitive match (ImageNet has both
    'Cardigan' the dog and 'cardigan' the sweater, so a guess would be wrong half the time)."""
    if name in outputs:
        return name
    matches = [o for o in outputs if o.lower() == name.lower()]
    if len(matches) > 1:
        raise ValueError(f"`outputs of interest`: {name!r} matches {matches} of {model_name!r}; "
                         f"write the exact spelling")
    return matches[0] if matches else None


def _closest(name: str, outputs: list[str]) -> str:
    """' (closest: 'tabby', 'tiger cat')' for a misspelt output name, or '' when nothing is close."""
    close = near_names(name, outputs)
    return f" (closest: {', '.join(map(repr, close))})" if close else ""


def select_outputs(models: Sequence, wanted: str | None) -> tuple[dict, list[str]]:
    """Per-model outputs of interest from the user's text, and notes about models that lack them.

    Blank (or ``predicted``): each model's predicted class. ``all``: every output (models with at most 20 outputs).
    ``vector``: the whole output vector as one score (a model with one output keeps it, with a note).
    Names (comma-separated; names that hold commas, like ImageNet's 'tabby, tabby cat', stay whole):
    those the model has; a model that has none of them falls back to its predicted class, and a note
    says so, so that models with different classes can still run side by side. A name that no model
    has is an error naming the closest ones (a typo should not quietly score something else).
    """
    every_output = [output for model in models for output in model.output_names]
    names = split_output_names(check_text(wanted, name="outputs of interest", multiline=True), every_output)
    typed, offered = [name.lower() for name in names], {output.lower() for output in every_output}
    if typed == [VECTOR] and VECTOR not in offered:
        return vector_selection(models)
    if typed == [PREDICTED] and PREDICTED not in offered:
        names = []  # the command line's and a study file's word for the default: said, it was "no such output"
    if ALL in [n.lower() for n in names] and len(names) > 1:
        raise ValueError("`outputs of interest`: 'all' scores every output; give it alone, or name the classes")
    selection: dict[str, object] = {}
    notes: list[str] = []
    unknown = [name for name in names if name.lower() != ALL
               and not any(output.lower() == name.lower() for output in every_output)]
    if unknown:
        hints = "; ".join(f"{name!r}{_closest(name, every_output)}" for name in unknown)
        raise ValueError(f"`outputs of interest`: no model has an output {hints}. Check the spelling, or leave "
                         f"it empty to score each model's predicted class")
    for model in models:
        outputs = list(model.output_names)
        if not names:
            selection[model.name] = None
        elif names[0].lower() == ALL:
            if len(outputs) > MAX_ALL_OUTPUTS:
                raise ValueError(
                    f"`outputs of interest`: 'all' would score all {len(outputs)} outputs of {model.name!r}; "
                    f"name the classes you care about instead (e.g. {', '.join(outputs[:3])})"
                )
            selection[model.name] = ALL
        else:
            matches = {name: _match_output(name, outputs, model.name) for name in names}
            found = [match for match in matches.values() if match]
            missing = ", ".join(repr(name) for name, match in matches.items() if not match)
            if found:
                selection[model.name] = list(dict.fromkeys(found))
                if missing:
                    notes.append(f"{model.name} has no output {missing}; skipped for it.")
            else:
                selection[model.name] = None
                notes.append(f"{model.name} has no output {missing}; scored its predicted class instead.")
    return selection, notes
