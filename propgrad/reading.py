"""A reading in plain words, beside the paper's numbers: what each model's output did, and whether it matters.

The score E[|grad_X F|], the p-value and the flips stay as they are; a *reading* puts them into one of a
few classes and one line a class can read ("p(cat) 0.00 -> 0.63, flips to cat at 85 % darker").

Classes, decided in this order for one output of one model (thresholds: :class:`Thresholds`)
---------------------------------------------------------------------------------------------
``negligible`` *systematic but negligible*
    significant (p <= alpha), but E[|grad_X F|] is below ``negligible`` (default 0.001: a tenth of a
    percentage point per step): the shuffle test finds the trend, but the trend is too small to matter.
``none`` *no measurable effect*
    not significant and E[|grad_X F|] below ``negligible``.
``abrupt`` *abrupt*
    one step carries the change (a single step moves the output by at least ``jump`` and by at least
    ``jump_share`` of all its movement), or the prediction flips without a systematic trend (p > alpha).
``strong`` *strong and systematic*
    significant and E[|grad_X F|] at least ``strong`` (default 0.01: one percentage point per step).
``systematic`` *small but systematic*
    significant, E[|grad_X F|] between ``negligible`` and ``strong``.
``erratic`` *erratic, no systematic trend*
    the output moves (E[|grad_X F|] at least ``negligible``) but not systematically, without one big step.

The thresholds are in the output's own units (probabilities for classifiers). They live in ONE place:
pass ``thresholds=Thresholds(...)`` to the functions here, replace the process-wide default with
:func:`set_default_thresholds`, or set ``PROPGRAD_READING_THRESHOLDS="negligible=0.002, strong=0.02"`` in
the environment (the command line and the app read it).

Examples
--------
>>> import numpy as np
>>> reading = read_curve(np.linspace(0.1, 0.9, 11), score=0.08, significant=True, flip_steps=[6],
...                      values=np.linspace(0, 0.85, 11), property_name="darkening strength", output="cat")
>>> reading.label, reading.text
('strong and systematic', 'p(cat) 0.10 -> 0.90, flips at 51 % darker')
"""
from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace

import numpy as np

THRESHOLDS_ENV = "PROPGRAD_READING_THRESHOLDS"

STRONG, SYSTEMATIC, NEGLIGIBLE = "strong", "systematic", "negligible"
ABRUPT, ERRATIC, NONE = "abrupt", "erratic", "none"
LABELS = {
    STRONG: "strong and systematic",
    SYSTEMATIC: "small but systematic",
    NEGLIGIBLE: "systematic but negligible",
    ABRUPT: "abrupt",
    ERRATIC: "erratic, no systematic trend",
    NONE: "no measurable effect",
}
# How many flips a line names before it says "and N more".
_LISTED_FLIPS = 3


@dataclass(frozen=True)
class Thresholds:
    """Where one class of reading ends and the next begins (output units; probabilities for classifiers).

    ``negligible``: E[|grad_X F|] below it is too small to matter (0.001 = 0.1 percentage point per step).
    ``strong``: E[|grad_X F|] from it up is a strong effect (0.01 = one percentage point per step).
    ``jump``: a single step moving the output by at least this much is a large jump ...
    ``jump_share``: ... when it is also at least this share of all the output's movement (an abrupt change).
    ``extreme``: a lowest or highest value beyond both the start and the end by more than this is named.

    Examples
    --------
    >>> Thresholds(negligible=0.002).strong
    0.01
    >>> Thresholds.parse("strong=0.02, jump=0.3").jump
    0.3
    """

    negligible: float = 0.001
    strong: float = 0.01
    jump: float = 0.2
    jump_share: float = 0.5
    extreme: float = 0.05

    def __post_init__(self):
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"`thresholds.{item.name}` must be a finite number >= 0, got {value!r}")
        if self.negligible > self.strong:
            raise ValueError(f"`thresholds.negligible` ({self.negligible}) must not exceed `thresholds.strong` "
                             f"({self.strong})")
        if not 0 < self.jump_share <= 1:
            raise ValueError(f"`thresholds.jump_share` must be in (0, 1], got {self.jump_share!r}")

    @classmethod
    def parse(cls, text: str, base: Thresholds | None = None) -> Thresholds:
        """``"negligible=0.002, strong=0.02"`` -> Thresholds (unnamed fields keep ``base``'s or the defaults)."""
        names = {item.name for item in fields(cls)}
        changes = {}
        for part in re.split(r"[,;\s]+", text.strip()):
            if not part:
                continue
            key, _, value = part.partition("=")
            if key not in names or not value:
                raise ValueError(f"`reading thresholds`: {part!r} is not NAME=VALUE with NAME one of {sorted(names)}")
            try:
                changes[key] = float(value)
            except ValueError:
                raise ValueError(f"`reading thresholds`: {part!r} is not a number") from None
        return replace(base or cls(), **changes)


_DEFAULT: Thresholds | None = None


def set_default_thresholds(thresholds: Thresholds | None) -> None:
    """Replace the thresholds every reading uses when it is given none (None: back to the environment's)."""
    global _DEFAULT
    if thresholds is not None and not isinstance(thresholds, Thresholds):
        raise TypeError(f"`thresholds` must be a Thresholds or None, got {type(thresholds).__name__}")
    _DEFAULT = thresholds


def default_thresholds() -> Thresholds:
    """The thresholds in force: :func:`set_default_thresholds`'s, else ``$PROPGRAD_READING_THRESHOLDS``, else
    the documented defaults."""
    if _DEFAULT is not None:
        return _DEFAULT
    text = os.environ.get(THRESHOLDS_ENV, "").strip()
    return Thresholds.parse(text) if text else Thresholds()


@dataclass(frozen=True)
class Reading:
    """One output of one model, read: its class and one line of words, with the numbers behind them.

    ``kind`` is the class's key (``"strong"``, ``"abrupt"``...), ``label`` its words, ``text`` the line
    ("p(cat) 0.00 -> 0.63, flips to cat at 85 % darker"); ``start``, ``end``, ``low``, ``high`` (and their
    steps) describe the (mean) curve; ``jump`` is its largest single-step change, at ``jump_step``.
    """

    model: str
    output: str
    kind: str
    label: str
    text: str
    start: float
    end: float
    low: float
    low_step: int
    high: float
    high_step: int
    jump: float
    jump_step: int
    flip_steps: list[int] = field(default_factory=list)
    property_label: str | None = None

    @property
    def sentence(self) -> str:
        """``"abrupt: p(cat) 0.00 -> 0.63, flips to cat at 85 % darker"``."""
        return f"{self.label}: {self.text}"

    @property
    def moved(self) -> bool:
        """Whether the output did anything worth naming (every class but the two negligible ones)."""
        return self.kind not in (NONE, NEGLIGIBLE)

    def to_dict(self) -> dict:
        """For report.json: ``class`` (the key), ``label``, ``text`` and the curve's numbers."""
        numbers = {key: getattr(self, key) for key in ("start", "end", "low", "low_step", "high", "high_step", "jump",
                                                        "jump_step", "flip_steps")}
        return {"class": self.kind, "label": self.label, "text": self.text,
                **{key: round(value, 7) if isinstance(value, float) else value for key, value in numbers.items()}}


def format_number(value: float) -> str:
    """The one number format of the app and the readings' tables: two significant digits.

    Examples
    --------
    >>> [format_number(v) for v in (0.1904, 0.084, 3.387e-06, 0.0005, 1.0)]
    ['0.19', '0.084', '3.4e-06', '0.0005', '1']
    """
    return f"{float(value):.2g}"


def _value(value: float) -> str:
    return f"{value:.2f}"


def output_label(output: str, output_kind: str = "probability") -> str:
    """``p(cat)`` for a probability, the output's own name otherwise (a similarity, a raw score)."""
    return f"p({output})" if output_kind == "probability" else str(output)


def _percent(value: float) -> str:
    return f"{value * 100:.0f} %"


def describe_value(property_name: str, value: float, step: int) -> str:
    """Where along the intervention a step is, in words: "85 % darker", "step 4 (brightness factor 0.46)".

    Examples
    --------
    >>> describe_value("darkening strength (0 = original, 1 = full)", 0.85, 10)
    '85 % darker'
    >>> describe_value("hue rotation (degrees)", 120.0, 8)
    'step 8 (hue rotation 120 degrees)'
    """
    name = property_name.strip()
    lower = name.lower()
    if lower.startswith("darkening strength"):
        return f"{_percent(value)} darker"
    if lower.startswith("lightening strength"):
        return f"{_percent(value)} lighter"
    recolour = re.match(r"recolour to (.+?): strength", name)
    if recolour:
        return f"{_percent(value)} towards {recolour.group(1)}"
    if lower == "patch opacity":
        return f"{_percent(value)} patch opacity"
    match = re.match(r"(.*?)\s*\(([^()]{1,12})\)$", name)  # "hue rotation (degrees)" -> 120 degrees
    words = f"{match.group(1)} {value:.3g} {match.group(2)}" if match else f"{name} {value:.3g}"
    return f"step {step} ({words})"


def _flips_words(flip_steps: Sequence[int], predicted: Sequence[str] | None, where) -> str:
    shown = list(flip_steps[:_LISTED_FLIPS])
    if predicted is not None:
        parts = [f"to {predicted[step]} at {where(step)}" for step in shown]
        # A later flip to the class of step 0 is a flip back.
        parts[1:] = ["back " + part if predicted[step] == predicted[0] else part
                     for part, step in zip(parts[1:], shown[1:])]
    else:
        parts = [f"at {where(step)}" for step in shown]
    more = len(flip_steps) - len(shown)
    return "flips " + ", ".join(parts) + (f" and {more} more times" if more > 0 else "")


def read_curve(curve, *, score: float, significant: bool, flip_steps: Sequence[int] = (), values=None,
               property_name: str = "step", output: str = "output", output_kind: str = "probability",
               model: str = "", predicted: Sequence[str] | None = None, flipped_series: str | None = None,
               thresholds: Thresholds | None = None, property_label: str | None = None) -> Reading:
    """Read one output curve: its class (see the module docstring) and its line of words.

    Parameters
    ----------
    curve : array_like, shape (steps,)
        The output along the intervention (the mean curve when there are several series).
    score, significant
        E[|grad_X F|] and whether p <= alpha, as computed by :func:`propgrad.explain.explain`.
    flip_steps : steps where the predicted class changes (of the first series, or of any series).
    values, property_name : the property value per step and its name, to say where things happen.
    output, output_kind, model : what the curve is, for the words ("p(cat)").
    predicted : the predicted class name per step, to say what a flip flips to (one series only).
    flipped_series : "2/3" when several series were explained: the flips are then counted, not placed.
    thresholds : default :func:`default_thresholds`.
    """
    limits = thresholds or default_thresholds()
    y = np.asarray(curve, dtype=np.float64).ravel()
    if y.size < 2 or not np.all(np.isfinite(y)):
        raise ValueError(f"`curve` must hold at least 2 finite values, got {y.size}")
    x = np.arange(y.size, dtype=np.float64) if values is None else np.asarray(values, dtype=np.float64)
    changes = np.diff(y)
    jump_index = int(np.argmax(np.abs(changes)))
    jump = float(changes[jump_index])
    moved = float(np.abs(changes).sum())
    dominant = abs(jump) >= limits.jump and abs(jump) >= limits.jump_share * moved
    flip_steps = [int(step) for step in flip_steps]
    flipped = bool(flip_steps) or (flipped_series is not None and not flipped_series.startswith("0/"))

    # 1. The class, in the documented order.
    if score < limits.negligible:
        kind = NEGLIGIBLE if significant else NONE
    elif dominant or (flipped and not significant):
        kind = ABRUPT
    elif significant:
        kind = STRONG if score >= limits.strong else SYSTEMATIC
    else:
        kind = ERRATIC

    # 2. The words: start -> end, the extremes beyond them, the big step, the flips.
    def where(step: int) -> str:
        return describe_value(property_name, float(x[step]), step)

    low_step, high_step = int(np.argmin(y)), int(np.argmax(y))
    start, end = float(y[0]), float(y[-1])
    parts = [f"{output_label(output, output_kind)} {_value(start)} -> {_value(end)}"]
    if y[low_step] < min(start, end) - limits.extreme:
        parts.append(f"lowest {_value(y[low_step])} at {where(low_step)}")
    if y[high_step] > max(start, end) + limits.extreme:
        parts.append(f"highest {_value(y[high_step])} at {where(high_step)}")
    if dominant and jump_index + 1 not in flip_steps:  # a flip at that step says it already
        parts.append(f"{'jumps' if jump > 0 else 'drops'} by {_value(abs(jump))} at {where(jump_index + 1)}")
    if flipped_series is not None:
        if flipped:
            parts.append(f"flips in {flipped_series} series")
    elif flip_steps:
        parts.append(_flips_words(flip_steps, predicted, where))
    return Reading(model=model, output=output, kind=kind, label=LABELS[kind], text=", ".join(parts), start=start,
                   end=end, low=float(y[low_step]), low_step=low_step, high=float(y[high_step]), high_step=high_step,
                   jump=jump, jump_step=jump_index + 1, flip_steps=flip_steps, property_label=property_label)


def read_output(explanation, model, score, *, thresholds: Thresholds | None = None,
                property_label: str | None = None) -> Reading:
    """Read one :class:`~propgrad.explain.OutputScore` of one model of an :class:`~propgrad.explain.Explanation`."""
    from .score import predicted_class_names  # the predicted classes' names, as report.json gives them

    mean, _ = model.mean_curve(score.index)
    several = len(model.flips) > 1
    names = predicted_class_names(model.output_names)
    first = model.flips[0]
    return read_curve(
        mean, score=score.score, significant=score.significant,
        flip_steps=[] if several else first.flip_steps, values=explanation.values,
        property_name=explanation.property_name, output=score.output, output_kind=model.output_kind, model=model.name,
        predicted=None if several else [names[int(i)] for i in first.predicted],
        flipped_series=f"{sum(f.flipped for f in model.flips)}/{len(model.flips)}" if several else None,
        thresholds=thresholds, property_label=property_label)


def read_explanation(explanation, thresholds: Thresholds | None = None,
                     property_label: str | None = None) -> list[Reading]:
    """One reading per model and output of interest, in the order of :func:`propgrad.report.summary_rows`."""
    return [read_output(explanation, model, score, thresholds=thresholds, property_label=property_label)
            for model in explanation.models for score in model.scores]


def read_comparison(comparison, thresholds: Thresholds | None = None) -> list[Reading]:
    """One reading per entry of ``comparison.scores`` (ranked rows), in that order."""
    readings = {}
    for name, explanation in comparison.explanations.items():
        for reading in read_explanation(explanation, thresholds, property_label=name):
            readings[(name, reading.model, reading.output)] = reading
    return [readings[(entry.property, entry.model, entry.output)] for entry in comparison.scores]


def _joined(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def short_names(names: Sequence[str]) -> dict[str, str]:
    """Model names without the words they all share, for sentences ("unbiased", not "ConvMixer cats vs
    dogs, unbiased (authors)"); names stay whole where that would leave one empty.

    Examples
    --------
    >>> names = ["ConvMixer cats vs dogs, unbiased (authors)", "ConvMixer cats vs dogs, dark-cats bias (authors)"]
    >>> list(short_names(names).values())
    ['unbiased', 'dark-cats bias']
    """
    names = list(dict.fromkeys(names))
    if len(names) < 2:
        return {name: name for name in names}
    prefix = os.path.commonprefix(names)
    prefix = prefix[:len(prefix) - len(re.split(r"[\s,(]", prefix)[-1])]  # back to a word boundary
    suffix = os.path.commonprefix([name[::-1] for name in names])[::-1]
    suffix = suffix[len(re.split(r"[\s,)]", suffix)[0]):]
    shortened = {name: name[len(prefix):len(name) - len(suffix)].strip(" ,;:") for name in names}
    if any(not short for short in shortened.values()) or len(set(shortened.values())) < len(names):
        return {name: name for name in names}
    return shortened


def paragraph(readings: Sequence[Reading]) -> str:
    """A short paragraph for people: per property, what moved which model and what did not.

    Plain text (no Markdown), starting with "Reading:". Properties keep the order of ``readings``; model
    names lose the words they all share.

    Examples
    --------
    >>> paragraph(read_comparison(comparison))  # doctest: +SKIP
    'Reading: background: darken moved unbiased (strong and systematic: p(cat) 0.96 -> 0.66) ...'
    """
    several_outputs = len({reading.output for reading in readings}) > 1
    short = short_names([reading.model for reading in readings])

    def who(reading: Reading) -> str:
        return f"{short[reading.model]} ({reading.output})" if several_outputs else short[reading.model]

    groups: dict = {}
    for reading in readings:
        groups.setdefault(reading.property_label, []).append(reading)
    sentences = []
    for name, group in groups.items():
        moved = [f"{who(r)} ({r.sentence})" for r in group if r.moved]
        still = [who(r) for r in group if not r.moved]
        if name is None:  # one property: the models are the subjects
            sentence = (_joined(moved) if moved else "no model moved measurably")
            sentence += f"; {_joined(still)}: no measurable effect" if moved and still else ""
        elif moved:
            sentence = f"{name} moved {_joined(moved)}"
            sentence += f"; it did not move {_joined(still)} measurably" if still else ""
        else:
            sentence = f"{name} moved no model measurably"
        sentences.append(sentence + ".")
    return "Reading: " + " ".join(sentences)
