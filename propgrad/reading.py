"""A reading in plain words, beside the paper's numbers: what each model's output did, and whether it matters.

The score, the p-value and the flips stay as they are; a *reading* puts them into one of a few classes and
one line a class can read ("p(cat) 0.00 -> 0.63 in one step, flips to cat at 85 % darker").

Three things are read apart, each from what can tell it:

- **size**, from the output's (mean) curve, so it means the same under every statistic: the change is the
  curve's range (highest - lowest value); ``negligible`` below :attr:`Thresholds.negligible` (0.01 = one
  percentage point in all), ``strong`` from :attr:`Thresholds.strong` (0.1), ``small`` between.
- **shape**, from the curve too: ``steady rise`` / ``steady fall`` (little movement back; ``sharp rise`` /
  ``sharp fall`` where two neighbouring steps carry two thirds of the movement; ``overall rise`` / ``overall
  fall`` where it first moves the other way, or past its end, by more than a tenth of its range), ``U-shaped`` /
  ``hump-shaped`` (an extreme inside, both sides moving towards it), ``one dominant step`` (one step carries
  at least :attr:`Thresholds.jump_share` of all the curve's movement, and the curve keeps three quarters of it to its
  end: a spike taken back at once is hump-shaped), ``irregular``, ``flat``.
- **systematic or not**, from the chosen statistic's shuffle test (p <= alpha).

Classes, decided in this order, and the ranking tier each belongs to (:mod:`propgrad.ranking` orders rows by
tier, then by the change):

``abrupt`` (tier a) *abrupt*
    one dominant step and a strong change. A curve that is flat but for one step has few distinct orders (a
    jump at the last of 11 steps has 11), so no shuffle test can confirm it: the reading says so, and names
    its evidence (the flip, or the jump).
``strong`` (tier a) *strong and systematic*
    a strong change that the test finds systematic.
``flips`` (tier a) *small / strong, not significant, flips* (or *small but systematic, flips*) and its flip words
    the prediction flips to or from the output of interest, which moves by at least ``negligible``, without
    the two above (a flip on a steady curve is a flip on that curve).
``systematic`` (tier b) *small but systematic*
    a small change, significant.
``erratic`` (tier c) *small / strong, not significant*
    the output moved, not significantly, without a dominant step or a flip (the shape says whether it is
    irregular or a steady trend the test did not confirm).
``negligible`` (tier d) *systematic but negligible*
    significant, but the change is negligible: the test finds the trend, the trend is too small to matter.
``none`` (tier e) *no measurable effect*
    a negligible change, not significant.

The thresholds live in ONE place: pass ``thresholds=Thresholds(...)`` to the functions here, replace the
process-wide default with :func:`set_default_thresholds`, or set ``PROPGRAD_READING_THRESHOLDS="negligible=0.02,
strong=0.2"`` in the environment (the command line and the app read it). A result computes its readings once,
when it is made (:attr:`propgrad.explain.Explanation.readings`); every table and file shows those.

Examples
--------
>>> import numpy as np
>>> reading = read_curve(np.linspace(0.1, 0.9, 11), significant=True, pvalue=0.0001, flip_steps=[6],
...                      values=np.linspace(0, 0.85, 11), property_name="darkening strength", output="cat")
>>> reading.label, reading.text
('strong and systematic', 'p(cat) 0.10 -> 0.90, steady rise, flips at 51 % darker')
"""
from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace

import numpy as np

from .errors import in_words
from .formats import format_number, format_output, format_percent, format_pvalue, percent_digits
from .score import CORRELATION, DEFAULT_ALPHA, GRADIENT, best_step_pvalue, predicted_class_names

THRESHOLDS_ENV = "PROPGRAD_READING_THRESHOLDS"

STRONG, ABRUPT, FLIPS = "strong", "abrupt", "flips"
SYSTEMATIC, ERRATIC, NEGLIGIBLE, NONE = "systematic", "erratic", "negligible", "none"
# Each class in words, where a label cannot be read off a curve (a checkpoint's score alone; a legend).
LABELS = {
    ABRUPT: "abrupt",
    STRONG: "strong and systematic",
    FLIPS: "the prediction flips",
    SYSTEMATIC: "small but systematic",
    ERRATIC: "moved, not significant",
    NEGLIGIBLE: "systematic but negligible",
    NONE: "no measurable effect",
}
# The ranking tier of each class (a first): see :mod:`propgrad.ranking`.
TIER_OF = {ABRUPT: "a", STRONG: "a", FLIPS: "a", SYSTEMATIC: "b", ERRATIC: "c", NEGLIGIBLE: "d", NONE: "e"}
TIERS = {
    "a": "the output really moved",
    "b": "small but systematic",
    "c": "moved, not significant",
    "d": "systematic but negligible",
    "e": "no measurable effect",
}
STEADY_RISE, STEADY_FALL, U_SHAPED, HUMP = "steady rise", "steady fall", "U-shaped", "hump-shaped"
SHARP_RISE, SHARP_FALL = "sharp rise", "sharp fall"
OVERALL_RISE, OVERALL_FALL = "overall rise", "overall fall"
ONE_STEP, IRREGULAR, FLAT = "one dominant step", "irregular", "flat"
# The output kind of the whole-output vector's reading: its distance from step 0 (half the L1 norm).
DISTANCE = "distance"
# How many flips a line names before it says "and N more".
_LISTED_FLIPS = 3


# Shape rules: a steady curve moves at most this much more than its range in all (a little back and forth)...
_STEADY_MOVEMENT = 1.25
# ... and ends this share of its range away from where it started; a U's or a hump's sides each cover this
# share of the range.
_STEADY_NET, _SIDE = 0.8, 0.3
# How much of its dominant step a curve must keep to its end to be read as changing in that one step.
_KEPT = 0.75
# ... and a one-way curve whose two neighbouring steps carry this share of its movement is sharp, not steady
# (flat, then 0.15 -> 0.54 -> 0.95 in the last two of ten steps read "steady rise").
_SHARP_SHARE = 2 / 3
# ... and one that goes beyond its start or its end by more than this share of its range is not steady (0.33, down
# to 0.19, up to 0.94 read "steady rise, lowest 0.19 at step 5"): it rises overall.
_OVERSHOOT = 0.1


@dataclass(frozen=True)
class Thresholds:
    """Where one size of change ends and the next begins (output units; probabilities for classifiers).

    All are read on the output's curve, not on the statistic, so they mean the same under every statistic.
    ``negligible``: a change (highest - lowest value) below it is too small to matter (0.01 = one point).
    ``strong``: a change from it up is strong (0.1 = ten percentage points).
    ``jump_share``: one step carrying at least this share of all the curve's movement, and kept to the end (three
    quarters of it at least), is a dominant step.
    ``extreme``: a lowest or highest value beyond both the start and the end by more than this, or by more than a
    tenth of the change where that is less (but above ``negligible``), is named.
    ``near_tie``: a flip whose new class leads the class it replaced by less than this at the flip step is said to be
    "in a near tie (ahead by 0.00064)" (0.02 = two points): an argmax that changes between near-equal classes is
    not the model changing its mind.

    Examples
    --------
    >>> Thresholds(negligible=0.02).strong
    0.1
    >>> Thresholds.parse("strong=0.2, jump_share=0.6").jump_share
    0.6
    """

    negligible: float = 0.01
    strong: float = 0.1
    jump_share: float = 0.5
    extreme: float = 0.05
    near_tie: float = 0.02

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
    def parse(cls, text: str, base: Thresholds | None = None, source: str = "reading thresholds") -> Thresholds:
        """``"negligible=0.02, strong=0.2"`` -> Thresholds (unnamed fields keep ``base``'s or the defaults); errors
        name ``source``, where the text came from."""
        names = {item.name for item in fields(cls)}
        changes = {}
        for part in re.split(r"[,;\s]+", text.strip()):
            if not part:
                continue
            key, _, value = part.partition("=")
            if key not in names or not value:
                raise ValueError(f"`{source}`: {part!r} is not NAME=VALUE with NAME one of {in_words(sorted(names), 'or')}")
            try:
                changes[key] = float(value)
            except ValueError:
                raise ValueError(f"`{source}`: {part!r} is not a number") from None
        return replace(base or cls(), **changes)


_DEFAULT: Thresholds | None = None


def set_default_thresholds(thresholds: Thresholds | None) -> None:
    """Replace the thresholds every reading uses when it is given none (None: back to the environment's)."""
    global _DEFAULT
    if thresholds is not None and not isinstance(thresholds, Thresholds):
        raise TypeError(f"`thresholds` must be a Thresholds or None, got {type(thresholds).__name__}")
    _DEFAULT = thresholds


def reading_legend(thresholds: Thresholds | None = None) -> str:
    """The words a reading uses, for a reader who has not seen this module: size, shape and test, with the
    thresholds in force (every report.html's guide says it; a student met "abrupt", "erratic" and "U-shaped" there
    undefined).

    Examples
    --------
    >>> reading_legend().split("; ")[0]
    'size, from the change: negligible under 0.01, strong from 0.1, small between'
    """
    t = thresholds or default_thresholds()
    return (f"size, from the change: negligible under {t.negligible:g}, strong from {t.strong:g}, small between; "
            "shape, from the curve: a steady, sharp (two neighbouring steps carry two thirds of the movement) or "
            "overall (it first moves the other way) rise or fall, U-shaped or hump-shaped (its lowest or highest "
            f"value inside, both ends away from it; one more than {t.extreme:g} (or a tenth of the change, if less) "
            "beyond both ends is named: \"lowest "
            "0.05 at 60 % darker\"), one dominant step (one step carries at least "
            f"{t.jump_share * 100:.0f} % of all the curve's movement and keeps most of it to the end: \"abrupt\" when "
            "the change is strong), "
            "irregular (back and forth: \"erratic\" where the test does not find it systematic), flat; and "
            "whether the shuffle test finds it systematic (else \"not significant\")")


def default_thresholds() -> Thresholds:
    """The thresholds in force: :func:`set_default_thresholds`'s, else ``$PROPGRAD_READING_THRESHOLDS``, else
    the documented defaults."""
    if _DEFAULT is not None:
        return _DEFAULT
    text = os.environ.get(THRESHOLDS_ENV, "").strip()
    return Thresholds.parse(text, source=f"${THRESHOLDS_ENV}") if text else Thresholds()


# Compared by identity: a reading is one row's, and a table asks whether this row is among the spelled-out ones (by
# value, 27 fields a comparison, a paragraph over 30,000 rows took seconds).
@dataclass(frozen=True, eq=False)
class Reading:
    """One output of one model, read: its class, tier, shape and one line of words, with the numbers behind them.

    ``kind`` is the class's key (``"strong"``, ``"abrupt"``...), ``label`` its words, ``tier`` its ranking
    tier ("a" to "e"), ``size`` "negligible" / "small" / "strong", ``shape`` the curve's shape in words,
    ``text`` the line ("p(cat) 0.00 -> 0.63 in one step, flips to cat at 85 % darker"), ``evidence`` what
    the class rests on ("the shuffle test cannot judge it ...; the prediction flips all the same");
    ``start``, ``end``, ``low``, ``high`` (and their steps) describe the (mean) curve; ``jump`` is its
    largest single-step change, at ``jump_step``.
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
    tier: str = "e"
    size: str = "negligible"
    shape: str = FLAT
    significant: bool = False
    pvalue: float | None = None
    statistic: str = GRADIENT
    evidence: str = ""
    flipped: bool = False
    flip_words: str = ""  # "flips to cat at 85 % darker", or "" without a flip
    output_words: str = ""  # what the curve is, in words: "p(cat)", "distance of the vector ... from step 0"
    # Significant only through the order of the other steps' tiny drift: a jump this near an end could not pass alone.
    order_only: bool = False
    ends: str = ""  # where the output went, through the extremes the text names: "p(cat) 0.96 -> 0.05 -> 0.92"
    swings: int = 0  # how often the curve changes direction by a third of its range, plus one (a fall: 1; a U: 2)
    # A probability that starts within the negligible threshold of 0 (1): "a rise" ("a fall"), the one way it can show.
    room: str = ""

    @property
    def change(self) -> float:
        """How far the output moved: its highest minus its lowest value along the (mean) curve."""
        return self.high - self.low

    @property
    def sentence(self) -> str:
        """``"abrupt: p(cat) 0.00 -> 0.63 in one step, flips to cat at 85 % darker"``."""
        return f"{self.label}: {self.text}"

    @property
    def full(self) -> str:
        """The sentence with its evidence, for a table's reading column (:func:`with_evidence`)."""
        return with_evidence(self.sentence, self.evidence)

    @property
    def direction(self) -> str:
        """Which way the (mean) curve went, for a sentence that gives its change: "up" or "down" where its end keeps
        four fifths of the change; from an extreme, "up and back" or "down and back" where it ends within a tenth of
        the change of its start, "... and partly back" between; from a start at neither extreme, "up then down" (or
        "down then up") where it turns once, at its highest (lowest) value, the other extreme at an end; else, and
        wherever it turns back by a third of its range twice or more (:func:`turning_steps`), "back and forth"; ""
        where it is flat.

        Examples
        --------
        >>> [read_curve(curve, significant=True).direction for curve in ([0.1, 0.5, 0.9], [0.96, 0.0, 0.55],
        ...                                                             [0.1, 0.9, 0.12], [0.5, 0.8, 0.0, 0.45],
        ...                                                             [0.96, 0.01, 0.98, 0.06])]
        ['up', 'down and partly back', 'up and back', 'back and forth', 'back and forth']
        >>> [read_curve(curve, significant=True).direction for curve in ([0.988, 0.999, 0.978],
        ...                                                             [0.3, 0.0, 0.4, 1.0, 0.5])]
        ['up then down', 'back and forth']
        """
        change = self.change
        if change <= 0:
            return ""
        net = self.end - self.start
        if self.swings >= 3:
            return "back and forth"
        if abs(net) >= 0.8 * change:
            return "up" if net > 0 else "down"
        back = "back" if abs(net) <= 0.1 * change else "partly back"
        if self.start - self.low <= 0.1 * change:
            return f"up and {back}"
        if self.high - self.start <= 0.1 * change:
            return f"down and {back}"
        # One turn from a start at neither extreme, the other extreme at the end: a hump that ends below its start read
        # "back and forth" beside a like hump read "up and back". With both extremes inside (0.30 -> 0.00 -> 1.00 ->
        # 0.50), either word would hide a leg.
        if self.low == self.end:
            return "up then down"
        if self.high == self.end:
            return "down then up"
        return "back and forth"

    @property
    def confirmed(self) -> bool:
        """Whether the shuffle test backs what the class names: significant, and not only through the other steps'
        order (:attr:`order_only`)."""
        return self.significant and not self.order_only

    @property
    def moved(self) -> bool:
        """Whether the output did anything worth naming (every class but the two negligible ones)."""
        return self.kind not in (NONE, NEGLIGIBLE)

    @property
    def tier_label(self) -> str:
        return TIERS[self.tier]

    def to_dict(self) -> dict:
        """For report.json: ``class`` (the key), ``label``, ``tier``, ``size``, ``shape``, ``change``, ``text``,
        ``evidence`` and the curve's numbers, every digit kept (the table's ``change`` beside it has them all)."""
        numbers = {key: getattr(self, key) for key in ("start", "end", "low", "low_step", "high", "high_step", "jump",
                                                        "jump_step", "flip_steps")}
        return {"class": self.kind, "label": self.label, "tier": self.tier, "size": self.size, "shape": self.shape,
                "change": float(self.change), "text": self.text, "evidence": self.evidence,
                **{key: float(value) if isinstance(value, float) else value for key, value in numbers.items()}}


def with_evidence(sentence: str, evidence: str, mark: str = "") -> str:
    """A reading's sentence and what it rests on, as two sentences: in brackets after a sentence that itself ends
    in a bracketed value it read "(blur radius 1.14 px) (one step carries ...)". ``mark`` sets the evidence off
    (Markdown's ``*`` in the app's table).

    Examples
    --------
    >>> with_evidence("abrupt: p(cat) 0.00 -> 0.63 in one step", "one step carries most of the change")
    'abrupt: p(cat) 0.00 -> 0.63 in one step. One step carries most of the change.'
    >>> with_evidence("strong and systematic: p(cat) 0.96 -> 0.05, steady fall", "")
    'strong and systematic: p(cat) 0.96 -> 0.05, steady fall'
    >>> with_evidence("**abrupt**: p(cat) 0.00 -> 0.63", "one step carries most of the change", mark="*")
    '**abrupt**: p(cat) 0.00 -> 0.63. *One step carries most of the change.*'
    """
    return f"{sentence}. {mark}{evidence[:1].upper()}{evidence[1:]}.{mark}" if evidence else sentence


# A number's percent sign stays on its line: "makes 11" over "% of the change" read as two numbers.
_PERCENT = re.compile(r"(\d) %")


def for_pages(text: str) -> str:
    """``text`` for pages (the app, report.html): the readings' arrow drawn as one character, the gradient's name and
    a number with its percent sign held on one line, which a narrow page or a table's header broke ("->" between its
    two characters, "E[|grad_X" over "F|]", "38" over "% darker"); files and printouts keep them as they are.

    Examples
    --------
    >>> for_pages("p(cat) 0.96 -> 0.92")
    'p(cat) 0.96 \u2192 0.92'
    >>> for_pages("E[|grad_X F|]")
    'E[|grad_X\xa0F|]'
    >>> for_pages("flips at 38 % darker")
    'flips at 38\xa0% darker'
    """
    return _PERCENT.sub("\\1\u00a0%", text.replace(" -> ", " \u2192 ").replace("grad_X F", "grad_X\u00a0F"))


def yes_or_no(flag) -> str:
    """A yes/no cell of a table read by people ("signif.", "flips"): words, as the column titles are ("S" under
    "S" had to be explained on a projector). "no", not "-": a dash read as a missing value."""
    return "yes" if flag else "no"


def format_ends(start: float, end: float, thresholds: Thresholds | None = None) -> tuple[str, str]:
    """A curve's two ends as :func:`format_output` writes them, with more decimals where two would put their
    difference on the other side of a size threshold than the true one ("0.86 -> 0.96" beside "small" for a
    change of 0.095: a student subtracts the printed ends).

    Examples
    --------
    >>> format_ends(0.8649, 0.9599), format_ends(0.10, 0.90), format_ends(0.9, 0.8)
    (('0.865', '0.960'), ('0.10', '0.90'), ('0.90', '0.80'))
    """
    limits = thresholds or default_thresholds()
    true = abs(float(end) - float(start))
    for decimals in range(2, 7):
        shown = [f"{float(value):.{decimals}f}" for value in (start, end)]
        difference = abs(float(shown[1]) - float(shown[0]))
        # Ends printed as they are (0.9 and 0.8, whose difference in floats is 0.0999...) need no more digits.
        if all(math.isclose(float(text), float(value), abs_tol=1e-12) for text, value in zip(shown, (start, end))):
            break
        if all((true >= limit) == (difference >= limit - 1e-12) for limit in (limits.negligible, limits.strong)):
            break
    return shown[0], shown[1]


def output_label(output: str, output_kind: str = "probability") -> str:
    """``p(cat)`` for a probability; for the whole output vector its distance from step 0; the output's own name
    otherwise (a similarity, a raw score)."""
    if output_kind == DISTANCE:
        return f"distance of the {output} from step 0"
    return f"p({output})" if output_kind == "probability" else str(output)


def shown_as_percent(property_name: str) -> bool:
    """Whether a property's values are shares said in percent ("42 % darker", "67 % patch opacity"): the strengths of
    darken, lighten and recolour, and a patch's opacity."""
    lower = property_name.strip().lower()
    return (lower.startswith(("darkening strength", "lightening strength")) or lower == "patch opacity"
            or re.match(r"recolour to .+?: strength", lower) is not None)


def value_words(property_name: str, values: Sequence[float]) -> list[str]:
    """A series' property values as a figure's ticks or a strip's captions say them, in the units the readings use:
    "42 %" of a darkening strength of 0.42 (the reading's "flips at 42 % darker" sat over an axis of 0.34 and 0.51),
    with a decimal more where whole percents would name two steps alike (a sweep from 0.40 to 0.41); else three
    significant digits.

    Examples
    --------
    >>> value_words("darkening strength (0 = original, 1 = full)", [0.0, 0.425, 0.85])
    ['0 %', '43 %', '85 %']
    >>> value_words("darkening strength (0 = original, 1 = full)", [0.4, 0.405, 0.41])
    ['40.0 %', '40.5 %', '41.0 %']
    >>> value_words("hue rotation (degrees)", [0.0, 65.45])
    ['0°', '65.5°']
    """
    values = [float(value) for value in values]
    if not shown_as_percent(property_name):
        # An angle says so: the turntable's strip read "step 3: 30" under a title in degrees, off screen above it.
        unit = "°" if "(degrees)" in property_name else ""
        return [f"{value:.3g}{unit}" for value in values]
    for decimals in range(3):
        shown = [f"{percent_digits(value, decimals)} %" for value in values]
        if len(set(shown)) == len(set(values)):
            break
    return shown


def axis_words(property_name: str) -> str:
    """A property's name on a figure whose values :func:`value_words` gives: "darkening strength (0 % = original,
    100 % = full)" where they are in percent."""
    # No break between a number and its sign: a figure wrapped the label as "... 100" / "% = full)".
    return property_name.replace("(0 = original, 1 = full)", "(0\u00a0% = original, 100\u00a0% = full)") \
        if shown_as_percent(property_name) else property_name


def describe_value(property_name: str, value: float, step: int) -> str:
    """Where along the intervention a step is, in words: "85 % darker", "step 4 (brightness factor 0.46)".

    Examples
    --------
    >>> describe_value("darkening strength (0 = original, 1 = full)", 0.85, 10)
    '85 % darker'
    >>> describe_value("hue rotation (degrees)", 120.0, 8)
    'step 8 (hue rotation 120°)'
    """
    name = property_name.strip()
    lower = name.lower()
    if lower == "step":
        return f"step {step}"
    if lower.startswith("darkening strength"):
        return f"{format_percent(value)} darker"
    if lower.startswith("lightening strength"):
        return f"{format_percent(value)} lighter"
    recolour = re.match(r"recolour to (.+?): strength", name)
    if recolour:
        return f"{format_percent(value)} towards {recolour.group(1)}"
    if lower == "patch opacity":
        return f"{format_percent(value)} patch opacity"
    match = re.match(r"(.*?)\s*\(([^()]{1,12})\)$", name)  # "blur radius (px)" -> 2 px
    # An angle as the strip and the axis write it ("120°": "120 degrees" in the reading sat under a strip's "30°").
    unit = "°" if match and match.group(2) == "degrees" else f" {match.group(2)}" if match else ""
    words = f"{match.group(1)} {value:.3g}{unit}" if match else f"{name} {value:.3g}"
    return f"step {step} ({words})"


def what_ran(intervention: str, property_name: str, n_steps: int, values: Sequence[float], n_permutations: int,
             alpha: float, n_series: int = 1, markdown: bool = False) -> str:
    """What one run did, in a sentence: the intervention, its steps and their range (``values``; none given, the
    range is left out, as where several series have values of their own), the test. The app's result and a single
    run's report page open with it (a page that opened with the reading never said the photo was dimmed at all).

    Examples
    --------
    >>> what_ran("brightness edit", "brightness factor", 3, [1.0, 0.55, 0.1], 10_000, 0.01)
    'brightness edit: 3 steps of brightness factor, 1 to 0.1; shuffle test with 10,000 permutations, alpha = 0.01.'
    >>> what_ran("turntable", "turntable angle (degrees)", 2, [0.0, 1080.0], 100, 0.05)[:58]
    'turntable: 2 steps of turntable angle (degrees), 0 to 1080'
    >>> what_ran("darken edit", "darkening strength (0 = original, 1 = full)", 10, [0.0, 0.85], 100, 0.01)[:81]
    'darken edit: 10 steps of darkening strength (0 = original, 1 = full), 0 % to 85 %'
    """
    shown_name = f"*{property_name}*" if markdown else property_name
    series = f", {n_series} series (mean curve with a band)" if n_series > 1 else ""
    steps = "1 step" if n_steps == 1 else f"{n_steps} steps"
    # In the readings' units: "0 to 0.85" sat over readings of "flips at 85 % darker".
    ends = (value_words(property_name, [values[0], values[-1]]) if shown_as_percent(property_name)
            else [_value(values[0]), _value(values[-1])])
    span = f", {ends[0]} to {ends[1]}" if len(values) > 1 else ""
    return (f"{f'**{intervention}**' if markdown else intervention}: {steps} of {shown_name}{span}"
            f"{series}; shuffle test with {n_permutations:,} permutations, alpha = {alpha:g}.")


def _value(value: float) -> str:
    """A property value in a sentence: four significant digits, a large one whole ("1080", not "1.08e+03")."""
    value = float(value)
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _listed(flip_steps: Sequence[int]) -> list[int]:
    """The flips a sentence names: the first three, or all four, since "and once more" hides the one flip a reader
    would then ask about."""
    flip_steps = list(flip_steps)
    return flip_steps if len(flip_steps) <= _LISTED_FLIPS + 1 else flip_steps[:_LISTED_FLIPS]


def _flips_words(flip_steps: Sequence[int], predicted: Sequence[str] | None, where, narrow) -> str:
    shown = _listed(flip_steps)
    if predicted is not None:
        parts = [f"to {predicted[step]} at {where(step)}{narrow(step)}" for step in shown]
        # A later flip to the class of step 0 is a flip back.
        parts[1:] = ["back " + part if predicted[step] == predicted[0] else part
                     for part, step in zip(parts[1:], shown[1:])]
    else:
        parts = [f"at {where(step)}{narrow(step)}" for step in shown]
    more = len(flip_steps) - len(shown)
    return "flips " + ", ".join(parts) + (f" and {more} more times" if more else "")


# The most turning points a reading's way runs through ("0.90 -> 0.10 -> 0.90 -> ..."): the rest is "back and forth".
_LISTED_TURNS = 4


def turning_steps(curve) -> list[int]:
    """The steps where a curve turns back by at least a third of its range: each extreme that the curve leaves by that
    much in the other direction, after reaching it by that much from the turn before (or from where it began), so
    that noise smaller than a third of the range is no turn. A steady fall has none, a U one, a swing down, up and down
    two. (Turns between the thirds of the range missed a second dip that stayed in the upper two thirds: a rotation's
    "0.99 -> 0.03 -> 0.93", four flips beside it, hid its fall from 0.99 to 0.48 and back.)

    Examples
    --------
    >>> turning_steps([0.957, 0.95, 0.69, 0.005, 0.05, 0.01, 0.02, 0.85, 0.979, 0.96, 0.062])
    [3, 8]
    >>> turning_steps([0.95, 0.93, 0.88, 0.7, 0.55, 0.47, 0.53, 0.46, 0.3, 0.12, 0.05]), turning_steps([0.9, 0.1, 0.8])
    ([], [1])
    >>> turning_steps([0.99, 1.0, 1.0, 0.93, 0.98, 0.03, 0.43, 0.99, 0.87, 0.48, 0.93])
    [5, 7, 9]
    """
    y = np.asarray(curve, dtype=np.float64).ravel()
    span = float(np.ptp(y)) if y.size else 0.0
    if span == 0:
        return []
    back = span / 3
    turns: list[int] = []
    trend, extreme, low, high = 0, 0, 0, 0  # trend: 1 rising, -1 falling, 0 not yet moved by a third
    for step in range(1, y.size):
        value = float(y[step])
        if trend == 0:
            low = step if value < y[low] else low
            high = step if value > y[high] else high
            if value - y[low] >= back or y[high] - value >= back:
                # The extreme it leaves lies within a third of the start (the range was under a third until now):
                # where the curve began, not a turn.
                trend, extreme = (1 if value - y[low] >= back else -1), step
        elif trend * (value - y[extreme]) > 0:
            extreme = step
        elif trend * (y[extreme] - value) >= back:
            turns.append(extreme)
            trend, extreme = -trend, step
    return turns


def sharp_steps(curve) -> tuple[int, int] | None:
    """(first, last) step of the two neighbouring steps that carry at least two thirds of a curve's movement in
    the direction it ends up going, on a curve of at least five steps; else None.

    Examples
    --------
    >>> sharp_steps([0.04, 0.08, 0.12, 0.11, 0.08, 0.05, 0.06, 0.09, 0.15, 0.54, 0.95])
    (8, 10)
    >>> sharp_steps(np.linspace(0, 1, 11)) is None
    True
    """
    y = np.asarray(curve, dtype=np.float64).ravel()
    steps = np.diff(y)
    movement = float(np.abs(steps).sum())
    if y.size < 5 or movement == 0:
        return None
    pairs = np.sign(y[-1] - y[0]) * (steps[:-1] + steps[1:])
    first = int(np.argmax(pairs))
    return (first, first + 2) if pairs[first] >= _SHARP_SHARE * movement else None


def curve_shape(curve, jump_share: float = 0.5) -> str:
    """The shape of a curve in words (see the module docstring), from the curve alone.

    Examples
    --------
    >>> t = np.linspace(0, 1, 11)
    >>> [curve_shape(y) for y in (t, 1 - t, (2 * t - 1) ** 2, np.r_[np.zeros(10), 1.0], np.full(11, 0.3))]
    ['steady rise', 'steady fall', 'U-shaped', 'one dominant step', 'flat']
    >>> curve_shape([0.96, 0.23, 0.92]), curve_shape([0.0, 0.1, 1.0])  # three steps: a V is no single step
    ('U-shaped', 'one dominant step')
    >>> curve_shape([0.0, 0.5, 0.04, 0.006]), curve_shape([1.0, 1.0, 0.964, 0.975, 0.998])  # undone: not one step
    ('hump-shaped', 'U-shaped')
    >>> curve_shape([0, 0, 0, 0.9, 0.5]), curve_shape([0, 0, 0, 0.9, 0.8])  # half taken back, or most of it kept
    ('hump-shaped', 'one dominant step')
    >>> curve_shape([0.33, 0.29, 0.25, 0.21, 0.19, 0.35, 0.5, 0.65, 0.8, 0.94])  # a dip of a fifth of the range first
    'overall rise'
    """
    y = np.asarray(curve, dtype=np.float64).ravel()
    span = float(np.ptp(y))
    if span == 0:
        return FLAT
    steps = np.abs(np.diff(y))
    movement = float(steps.sum())
    # Strictly: two equal steps of three share it, neither dominates. Of a 3-step curve's two steps one always
    # holds over half: there a step must hold three quarters (a V of 0.96, 0.23, 0.92 read "0.96 -> 0.92 in one
    # step"); a longer curve keeps the threshold it is given.
    start, end = float(y[0]), float(y[-1])
    jump = int(np.argmax(steps))
    # The step must also carry the way from start to end, most of it kept: a spike undone at once (0.00 -> 0.50 ->
    # 0.04 -> 0.006), a dip and its recovery (1.00, 0.964, 0.975, 0.998) or a jump half taken back (0, 0, 0, 0.9, 0.5)
    # read "in one step", the plot beside it showing two.
    carries = (end - start) * (y[jump + 1] - y[jump]) > 0 and abs(end - start) >= _KEPT * steps[jump]
    if carries and steps[jump] > (max(jump_share, 0.75) if steps.size == 2 else jump_share) * movement:
        return ONE_STEP
    if movement <= _STEADY_MOVEMENT * span and abs(end - start) >= _STEADY_NET * span:
        if sharp_steps(y) is not None:
            return SHARP_RISE if end > start else SHARP_FALL
        if max(min(start, end) - y.min(), y.max() - max(start, end)) > _OVERSHOOT * span:
            return OVERALL_RISE if end > start else OVERALL_FALL
        return STEADY_RISE if end > start else STEADY_FALL
    low, high = int(np.argmin(y)), int(np.argmax(y))
    down, up = min(start, end) - y[low], y[high] - max(start, end)
    if 0 < low < y.size - 1 and down >= _SIDE * span and movement <= _STEADY_MOVEMENT * (start + end - 2 * y[low]):
        return U_SHAPED
    if 0 < high < y.size - 1 and up >= _SIDE * span and movement <= _STEADY_MOVEMENT * (2 * y[high] - start - end):
        return HUMP
    return IRREGULAR


def size_of(change: float, limits: Thresholds) -> str:
    """"negligible", "small" or "strong": the size words of a change (see :class:`Thresholds`)."""
    return "negligible" if change < limits.negligible else ("strong" if change >= limits.strong else "small")


def flips_text(flips: Sequence, output_names: Sequence[str], output_kind: str = "probability",
               thresholds: Thresholds | None = None, places: Sequence[str] | None = None) -> str:
    """Where the prediction flips, for people: the class changes of one series, or how many series flip where; a
    change between probabilities nearer than ``thresholds.near_tie`` is marked "(near tie)", as a reading says it.
    ``places`` (:func:`step_places`) says each step where the reading does ("step 5 (43 % darker)"): a row's "step 5:
    cat -> dog" beside its reading's "flips to dog at 43 % darker" left a class to convert one into the other.

    Examples
    --------
    >>> from propgrad.score import prediction_flips
    >>> flips_text([prediction_flips(np.array([[0.9, 0.1], [0.4, 0.6], [0.7, 0.3]]))], ["cat", "dog"])
    'step 1: cat -> dog; step 2: dog -> cat'
    >>> flips_text([prediction_flips(np.array([[0.9, 0.1], [0.8, 0.2], [0.495, 0.505]]))], ["cat", "dog"])
    'step 2: cat -> dog (near tie)'
    >>> flips_text([prediction_flips(np.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6]]))], ["cat", "dog"],
    ...            places=["0 %", "43 % darker", "85 % darker"])
    'step 2 (85 % darker): cat -> dog'
    >>> flips_text([prediction_flips(np.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6]]))] * 2, ["cat", "dog"],
    ...            places=["0 %", "43 % darker", "85 % darker"])
    'in 2/2 series, at step 2 (85 % darker)'
    """
    names = predicted_class_names(output_names)

    def step_words(step: int) -> str:
        if places is None or step >= len(places):
            return f"step {step}"
        place = places[step]
        return place if place.startswith("step ") else f"step {step} ({place})"

    if len(flips) == 1:
        one = flips[0]
        if not one.flipped:
            return "no flip"
        near = (thresholds or default_thresholds()).near_tie if output_kind == "probability" else -math.inf
        # As the reading says it: a table's "step 2: Egyptian cat -> tiger cat" over 0.389 against 0.388.
        changes = [f"{step_words(step)}: {names[int(one.predicted[step - 1])]} -> {names[int(one.predicted[step])]}"
                   + (" (near tie)" if (lead := one.margin_at(step)) is not None and lead < near else "")
                   for step in _listed(one.flip_steps)]
        more = one.n_flips - len(changes)
        return "; ".join(changes) + (f"; {more} more" if more > 0 else "")
    flipped = sum(f.flipped for f in flips)
    if not flipped:
        return f"no flip in {len(flips)} series"
    steps = sorted({step for f in flips for step in f.flip_steps})
    if places is not None:  # placed as the reading places them ("between 33 % and 67 % patch opacity")
        return f"in {flipped}/{len(flips)} series, at {listed([step_words(step) for step in steps], LISTED)}"
    return f"in {flipped}/{len(flips)} series, at step{'s' if len(steps) > 1 else ''} {', '.join(map(str, steps))}"


def reading_class(size: str, significant: bool, flipped: bool, shape: str | None = None) -> str:
    """A reading's class, in the documented order, from its size, the test's verdict, whether the prediction flips
    and the curve's shape (None where it is not kept, as for a training checkpoint: no ``abrupt`` then). A flip needs
    the output itself to move (a flip among other classes, or a wobble of 1e-4 around 0.5, is not "the output really
    moved").

    Examples
    --------
    >>> reading_class("strong", False, True, ONE_STEP), reading_class("small", False, True)
    ('abrupt', 'flips')
    """
    if shape == ONE_STEP and size == "strong":
        return ABRUPT
    if significant and size == "strong":
        return STRONG
    if flipped and size != "negligible":
        return FLIPS
    if size == "negligible":
        return NEGLIGIBLE if significant else NONE
    return SYSTEMATIC if significant else ERRATIC


def label_words(kind: str, size: str, significant: bool, shape: str | None = None) -> str:
    """A reading's label: its size and whether the test confirms it ("small, not significant"), with what sets its
    class apart ("..., flips", "..., erratic", "abrupt"); every table's reading column and the training dynamics'
    checkpoints say it alike.

    Examples
    --------
    >>> label_words(FLIPS, "strong", False), label_words(ERRATIC, "small", False), label_words(STRONG, "strong", True)
    ('strong, not significant, flips', 'small, not significant', 'strong and systematic')
    """
    if kind == ABRUPT:
        # As a flip's label says it ("strong, not significant, flips"): "abrupt" alone, a talk's whole reading of a
        # jump at p = 0.95, read as a finding.
        return "abrupt" if significant else "abrupt, not significant"
    if kind in (NEGLIGIBLE, NONE):
        return "systematic but negligible" if significant else "no measurable effect"
    label = {"strong": "strong", "small": "small"}[size]
    label += (" and systematic" if size == "strong" else " but systematic") if significant else ", not significant"
    if kind == ERRATIC and shape == IRREGULAR:
        label += ", erratic"
    elif kind == FLIPS:
        # "strong, not significant" named a tier-a row with a flip and a tier-c row without one alike.
        label += ", flips"
    return label


def read_curve(curve, *, significant: bool, pvalue: float | None = None, flip_steps: Sequence[int] = (),
               values=None, property_name: str = "step", output: str = "output", output_kind: str = "probability",
               model: str = "", predicted: Sequence[str] | None = None, flipped_series: str | None = None,
               statistic: str = GRADIENT, alpha: float = DEFAULT_ALPHA, thresholds: Thresholds | None = None,
               property_label: str | None = None, pvalue_name: str = "p", series: int = 1,
               first_flips: Sequence[int] = (), first_flips_to: Sequence[str] = (),
               flip_margins: Sequence[float | None] = ()) -> Reading:
    """Read one output curve: its class, tier and shape (see the module docstring) and its line of words.

    Parameters
    ----------
    curve : array_like, shape (steps,)
        The output along the intervention (the mean curve when there are several series).
    significant, pvalue, statistic, alpha
        Whether the statistic's shuffle test found the trend (p <= alpha), its p-value, the statistic's name
        and alpha, as computed by :func:`propgrad.explain.explain`: they decide systematic or not, nothing else.
    pvalue_name : how the p-value is named in the words ("adjusted p" for a screen's or comparison's rows,
        which are read with the adjusted p-value).
    flip_steps : steps where the predicted class changes to or from the output (of the first series).
    flip_margins : the new prediction's lead over the class it replaced at each of ``flip_steps``; a lead under
        ``thresholds.near_tie`` is said ("in a near tie (ahead by 0.001)"), and a small change whose every flip is
        one is not read as "flips" (tier a) for them.
    values, property_name : the property value per step and its name, to say where things happen.
    output, output_kind, model : what the curve is, for the words ("p(cat)").
    predicted : the predicted class name per step, to say what a flip flips to (one series only).
    flipped_series : "2/3" when several series were explained: the flips are then counted, and placed by
        ``first_flips``, each flipping series' first flip step (where the series share their property values),
        and named by ``first_flips_to``, the class each flipping series first flips to.
    series : how many series the curve is the mean of.
    thresholds : default :func:`default_thresholds`.
    """
    limits = thresholds or default_thresholds()
    y = np.asarray(curve, dtype=np.float64).ravel()
    if y.size < 2:
        raise ValueError(f"`curve` must hold at least 2 values, got {y.size}")
    if not np.all(np.isfinite(y)):
        raise ValueError("`curve` holds NaN or infinite values; check the model's outputs")
    x = np.arange(y.size, dtype=np.float64) if values is None else np.asarray(values, dtype=np.float64)
    changes = np.diff(y)
    jump_index = int(np.argmax(np.abs(changes)))
    jump = float(changes[jump_index])
    flip_steps = [int(step) for step in flip_steps]
    flipped = bool(flip_steps) or (flipped_series is not None and not flipped_series.startswith("0/"))
    low_step, high_step = int(np.argmin(y)), int(np.argmax(y))
    start, end = float(y[0]), float(y[-1])
    span = float(y[high_step] - y[low_step])
    size = size_of(span, limits)
    shape = curve_shape(y, limits.jump_share)

    def where(step: int) -> str:
        return describe_value(property_name, float(x[step]), step)

    leads = {step: lead for step, lead in zip(flip_steps, flip_margins) if lead is not None}

    def narrow(step: int) -> str:
        # "flips to tiger cat at step 2" over 0.389 against 0.388 read as the model changing its mind.
        lead = leads.get(step)
        return f" in a near tie (ahead by {format_number(lead)})" if lead is not None and lead < limits.near_tie else ""

    # 1. The class and its label. A small change whose every flip is a near tie does not count as a flip here: the
    # class ("the output really moved", tier a) would rest on two classes a hair apart ("small, not significant,
    # flips": p(tabby) by 0.066, "in a near tie (ahead by 0.012)"). Its words still say where it flips.
    near_ties_only = (flipped_series is None and bool(flip_steps) and size == "small"
                      and all(leads.get(step, math.inf) < limits.near_tie for step in flip_steps))
    kind = reading_class(size, significant, flipped and not near_ties_only, shape)
    label = label_words(kind, size, significant, shape)

    # 2. The words: start -> end and the shape, the extremes beyond them, the big step, the flips.
    first_shown, last_shown = format_ends(start, end, limits)
    # Past both ends by a tenth of the change is named too, where that is less: "0.40 -> 0.56" beside a change of
    # 0.18 left a student to find the 0.58 the change was taken from.
    past_ends = min(limits.extreme, max(limits.negligible, 0.1 * span))
    low_named = bool(y[low_step] < min(start, end) - past_ends)
    high_named = bool(y[high_step] > max(start, end) + past_ends)
    beyond = [step for step, named in ((low_step, low_named), (high_step, high_named)) if named]
    # Where the ends hide most of the movement ("p(coffee mug) 0.67 -> 0.70" beside "strong", the curve down to
    # 0.09 between them), the way runs through its extremes: "0.67 -> 0.09 -> 0.70".
    # Every value of one sentence to the ends' decimals: "0.000 -> 0.50 -> 0.006" mixed two precisions.
    decimals = len(first_shown.partition(".")[2]) or 2

    def shown(value) -> str:
        return f"{float(value):.{decimals}f}"

    # A curve that turns back by a third of its range twice or more swings: its way runs through
    # its turning points ("0.96 -> 0.01 -> 0.98 -> 0.06": "0.96 -> 0.06" hid the rotation's return to 0.98).
    turns = turning_steps(y)
    swings = len(turns) + 1 if turns else (1 if span > 0 else 0)
    path = (turns[:_LISTED_TURNS] if swings >= 3 and size != "negligible" else
            sorted(beyond) if beyond and abs(end - start) < span / 2 else [])

    def way(steps) -> str:
        # A value as shown once where two in a row would print alike ("0.90 -> 0.10 -> 0.10").
        said = [first_shown]
        for step in steps:
            if shown(y[step]) != said[-1]:
                said.append(shown(y[step]))
        return " -> ".join(said + ([last_shown] if last_shown != said[-1] or len(said) == 1 else []))

    parts = [f"{output_label(output, output_kind)} {way(path)}"]
    # Where the output went, start to end through every extreme the words name: what a table beside a paragraph that
    # gives the rest keeps ("p(espresso) 0.90 -> 0.27" beside a change of 0.86 hid the 0.04 it was taken from).
    ends = f"{output_label(output, output_kind)} {way(sorted({*path, *beyond}))}"
    if size == "negligible" and kind in (NEGLIGIBLE, NONE) and span > 0:
        parts[0] += f" (moves {format_number(span)} in all)"
    elif shape == ONE_STEP and size != "negligible":
        # "In one step" where that step is the whole way, start to end; "0.00 -> 0.50 in one step, jumps by 0.90" read
        # as a sum that does not add up.
        whole = abs(jump) >= 0.9 * span and abs(jump) <= 1.1 * abs(end - start)
        parts[0] += " in one step" if whole else " mostly in one step"
    elif shape in (SHARP_RISE, SHARP_FALL) and size != "negligible":
        first, last = sharp_steps(y)
        # "small but systematic: ... sharp rise" read as two opposite claims: a small change is placed, not sharpened.
        moves = shape if size == "strong" else f"{'rises' if shape == SHARP_RISE else 'falls'} mostly"
        parts.append(f"{moves} between {where(first)} and {where(last)}")
    elif shape not in (FLAT, IRREGULAR) and size != "negligible":
        parts.append(shape)
    if low_named:
        parts.append(f"lowest {shown(y[low_step])} at {where(low_step)}")
    if high_named:
        parts.append(f"highest {shown(y[high_step])} at {where(high_step)}")
    if shape == ONE_STEP and size != "negligible" and jump_index + 1 not in flip_steps:  # a flip there says it
        # A difference, written as the change beside it is ("change 0.012" over "drops by 0.01" read as two sizes).
        parts.append(f"{'jumps' if jump > 0 else 'drops'} by {format_number(abs(jump))} at {where(jump_index + 1)}")
    flip_words = ""
    if flipped_series is not None:
        # "flips in 3/3 series" left the patch tab's reader asking to what; one class is said in the verb.
        classes = list(dict.fromkeys(first_flips_to))
        to = f" to {classes[0]}" if len(classes) == 1 else ""
        flip_words = f"flips{to} in {flipped_series} series" if flipped else ""
        if flipped and len(classes) > 1:
            flip_words += f", first to {in_words(classes, 'or', quote=str)}"
        if flipped and first_flips:
            # "flips in 3/3 series" alone left a reader of the patch tab to find where on the curves.
            # "each series' first flip" over 1/3 series read as all three flipping there.
            earliest, latest = min(first_flips), max(first_flips)
            whose = "each series'" if len(first_flips) == series else "each flipping series'"
            if len(first_flips) == 1:  # "first at" read as the first series
                flip_words += f", its first flip at {where(earliest)}"
            else:
                flip_words += (f", {whose} first flip at {where(earliest)}" if earliest == latest else
                               f", {whose} first flip between {where(earliest)} and {where(latest)}")
    elif flip_steps:
        flip_words = _flips_words(flip_steps, predicted, where, narrow)
    if flip_words:
        parts.append(flip_words)

    # 3. What the class rests on, where the label alone does not say it.
    test = ("the shuffle test" if pvalue is None else
            f"the shuffle test ({pvalue_name} = {format_pvalue(pvalue, alpha)})")
    # What the output did all the same: "the flip at step 2 is the evidence", right after "no systematic trend is
    # confirmed", left a student asking "evidence of what?". The sentence before has placed the flips (the evidence is
    # never shown without it): "flips to dog at 42 % darker ... it flips at 42 % darker" said it twice.
    if flipped:
        flip_evidence = "the prediction flips all the same"
    else:
        # Written as the sentence writes the jump ("jumps by 0.084"; 0.08 beside it read as a second size).
        flip_evidence = (f"the output {'rises' if jump > 0 else 'falls'} by {format_number(abs(jump))} in that one "
                         "step all the same")
    order_only = False
    if kind == ABRUPT:
        # The count of orders bounds every shuffle test only for one series of two levels.
        two_levels = series == 1 and np.unique(np.round(y / max(span, 1e-300), 6)).size <= 2
        # Every arrangement of the two levels tried under this statistic (the count alone undercounted the gradient's).
        best = best_step_pvalue(y.size, jump_index + 1, statistic) if two_levels and not significant else 0.0
        # "One step carries the change" over a jump of 0.08 in a change of 0.16 overstated it: short of nearly all
        # of it, the share is said.
        carries = ("the change" if abs(jump) >= 0.9 * span else
                   f"{format_percent(abs(jump) / span)} of the change")
        # The other steps' own movement: a jump this near an end cannot pass alone (two levels, at best p above
        # alpha), so a significant test there confirms the order of those steps, however small (a drift of 1e-5
        # before a last-step jump read "finds it systematic" under the correlation, "cannot judge it" without it).
        steps_besides = np.concatenate([[0.0], np.cumsum(np.delete(np.diff(y), jump_index))])
        besides = float(steps_besides.max() - steps_besides.min())
        alone = (best_step_pvalue(y.size, jump_index + 1, statistic)
                 if significant and series == 1 and besides < limits.negligible else 0.0)
        order_only = significant and alone > alpha
        if order_only:
            evidence = (f"one step carries {carries}; {test} finds an order, but not the jump's: a change in one step "
                        f"this near an end of the series could not pass alone (at best p = {format_pvalue(alone, alpha)}"
                        f"), and the other steps move the output by only {format_number(besides)} in all")
        elif significant:
            evidence = f"one step carries {carries}; {test} finds it systematic"
        elif two_levels and best > alpha:
            evidence = (f"one step carries {carries}: {test} cannot judge it, a change in one step this near an "
                        f"end of the series leaves too few orders (at best p = {format_pvalue(best, alpha)}); "
                        f"{flip_evidence}")
        else:
            evidence = f"one step carries {carries}; {test} does not confirm it; {flip_evidence}"
    elif statistic == CORRELATION and not significant and shape in (U_SHAPED, HUMP):
        evidence = f"the correlation cannot see a {shape.split('-')[0]} shape: it measures steady trends only"
        evidence += f"; {flip_evidence}" if flipped else ""
    elif kind == FLIPS and not significant:
        # "finds no systematic trend" beside a steady fall at p = 0.022 read as a contradiction: the test did not
        # reach alpha, which is all it says.
        evidence = f"{test} does not reach alpha = {alpha:g}, so no systematic trend is confirmed; {flip_evidence}"
    elif kind == NEGLIGIBLE:
        evidence = f"{test} finds the trend, but it is too small to matter"
    elif kind == NONE and flipped:
        evidence = f"the prediction flips, but {output_label(output, output_kind)} barely moves"
    else:
        evidence = ""
    pinned = output_kind == "probability" and not limits.negligible <= start <= 1 - limits.negligible
    room = ("a rise" if start < limits.negligible else "a fall") if pinned else ""
    if room and kind in (NEGLIGIBLE, NONE):
        # A probability pinned at 0 (or 1) has no room to fall (rise): "no measurable effect" of the background on the
        # dark-cats model, whose p(cat) for chelsea is 0.00, read as evidence that it ignores the background.
        said = f"the output starts at {format_output(start)}, so only {room} could show"
        evidence = f"{evidence}; {said}" if evidence else said
    return Reading(model=model, output=output, kind=kind, label=label, text=", ".join(parts), start=start,
                   end=end, low=float(y[low_step]), low_step=low_step, high=float(y[high_step]), high_step=high_step,
                   jump=jump, jump_step=jump_index + 1, flip_steps=flip_steps, property_label=property_label,
                   tier=TIER_OF[kind], size=size, shape=shape, significant=bool(significant),
                   pvalue=None if pvalue is None else float(pvalue), statistic=statistic, evidence=evidence,
                   flipped=flipped, flip_words=flip_words, output_words=output_label(output, output_kind),
                   order_only=order_only, ends=ends, swings=swings, room=room)


def read_output(explanation, model, score, *, thresholds: Thresholds | None = None,
                property_label: str | None = None, significant: bool | None = None, pvalue: float | None = None,
                pvalue_name: str = "p") -> Reading:
    """Read one :class:`~propgrad.explain.OutputScore` of one model of an :class:`~propgrad.explain.Explanation`.

    ``significant`` and ``pvalue`` replace the score's own (a screen reads its rows with the adjusted p-value,
    named by ``pvalue_name``). Flips count when they change to or from the output of interest. The whole-output
    ``vector`` score is read on the output vector's distance from step 0 (half the L1 norm of the change of
    each series' outputs, averaged over series), where its flips are every flip.
    """
    several = len(model.flips) > 1
    names = predicted_class_names(model.output_names)
    curve, _ = model.curve(score.index, score.vector)
    steps_of = [f.steps_involving(score.index, len(model.output_names), score.vector) for f in model.flips]
    output, kind = score.output, DISTANCE if score.vector else model.output_kind
    first = model.flips[0]
    # Only among probabilities: a lead of 0.005 in cosine similarity or logits says nothing of a tie.
    margins = [] if several or model.output_kind != "probability" else [first.margin_at(s) for s in steps_of[0]]
    return read_curve(
        curve, significant=score.significant if significant is None else significant,
        pvalue=score.pvalue if pvalue is None else pvalue, pvalue_name=pvalue_name, statistic=score.statistic,
        alpha=explanation.alpha, flip_steps=[] if several else steps_of[0], values=explanation.values,
        flip_margins=margins,
        property_name=explanation.property_name, output=output, output_kind=kind, model=model.name,
        predicted=None if several else [names[int(i)] for i in first.predicted],
        flipped_series=f"{sum(bool(steps) for steps in steps_of)}/{len(steps_of)}" if several else None,
        thresholds=thresholds, property_label=property_label, series=len(model.flips),
        first_flips=[steps[0] for steps in steps_of if steps] if several and shared_values(explanation) else (),
        first_flips_to=[names[int(flips.predicted[steps[0]])] for flips, steps in zip(model.flips, steps_of) if steps]
        if several else ())


def step_places(explanation) -> tuple[str, ...] | None:
    """Each step's place in the readings' words ("43 % darker", "step 8 (hue rotation 120°)"), where every
    series shares the first one's values (else a step names no one place: None)."""
    if not shared_values(explanation):
        return None
    return tuple(describe_value(explanation.property_name, float(value), step)
                 for step, value in enumerate(explanation.values))


def shared_values(explanation) -> bool:
    """Whether every series has the first series' property values, so that a step names one place on all of them."""
    values = np.asarray(explanation.values, dtype=np.float64)
    return all(np.array_equal(np.asarray(one.values, dtype=np.float64), values) for one in explanation.series)


def read_explanation(explanation, thresholds: Thresholds | None = None,
                     property_label: str | None = None) -> list[Reading]:
    """One reading per model and output of interest, models in their order, each model's outputs in theirs
    (:func:`propgrad.export.explanation.ranked_rows` ranks them).

    An explanation made by :func:`propgrad.explain.explain` carries these already
    (:attr:`~propgrad.explain.Explanation.readings`); this reads it again, e.g. with other thresholds.
    """
    return [read_output(explanation, model, score, thresholds=thresholds, property_label=property_label)
            for model in explanation.models for score in model.scores]


def read_comparison(comparison) -> list[Reading]:
    """One reading per entry of ``comparison.scores`` (ranked rows), in that order: the ones each
    property's explanation made."""
    return comparison.readings


def listed(items: Sequence[str], most: int | None = None) -> str:
    """"a, b and c"; beyond ``most`` items, the first ``most`` and "and N more" (every list a sentence names); ""
    for none.

    Examples
    --------
    >>> listed(["a", "b", "c"]), listed(["a", "b", "c", "d", "e"], most=3), listed([])
    ('a, b and c', 'a, b, c and 2 more', '')
    """
    return in_words(items, most=most, quote=str)


def rank_key(reading: Reading) -> tuple[int, float]:
    """Sort key of one row: its tier (a first), then its change (largest first); the rule of
    :mod:`propgrad.ranking`."""
    return tuple(TIERS).index(reading.tier), -reading.change


# What puts a row above one of tier c, in words, by its class.
_RANKS_ABOVE = {STRONG: "a strong change the test confirms", ABRUPT: "a change in one step", FLIPS: "a flip",
                SYSTEMATIC: "a small systematic change"}


def rank_note(rows: Sequence) -> str | None:
    """Where the ranking (:mod:`propgrad.ranking`) puts a row above a larger one (``rows`` ranked, each with
    ``property``, ``model``, ``output`` and a ``reading``): a row of tier a or b (confirmed, a flip, a change in one
    step) above a row of tier c the test did not confirm, whose change is larger. The note names the first such pair
    (a class read rank as size: "whole image: blur" of 0.012 stood above "whole image: lighten" of 0.44); None where
    the order is also that of the changes.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> def row(name, curve, significant):
    ...     return SimpleNamespace(property=name, model="m", output="cat",
    ...                            reading=read_curve(curve, significant=significant))
    >>> rank_note([row("blur", [0.99, 0.995, 1.0, 1.002], True), row("lighten", [0.5, 0.9, 0.46, 0.8], False)])
    'rank is not size: a small systematic change (tier b) ranks above a larger change with no flip, single step or \
confirmed trend (tier c), so blur (change 0.012) stands above lighten (change 0.44); read the change column beside the \
rank'
    """
    short = short_names([row.model for row in rows])
    several_outputs = len({row.output for row in rows}) > 1

    def named(one) -> str:
        whose = [short[one.model]] if len(short) > 1 else []
        whose += [one.output] if several_outputs else []
        return f"{one.property} ({' / '.join(whose)}, " if whose else f"{one.property} ("

    for number, row in enumerate(rows):
        if row.reading.tier not in ("a", "b"):
            continue
        larger = next((other for other in rows[number + 1:] if other.reading.tier == "c"
                       and other.reading.change > row.reading.change), None)
        if larger is not None:
            # Tier c by what it lacks: "ranks above a larger change the test did not confirm" read, of a jump it did
            # not confirm either, as if it had.
            return (f"rank is not size: {_RANKS_ABOVE[row.reading.kind]} (tier {row.reading.tier}) ranks above a "
                    f"larger change with no flip, single step or confirmed trend (tier c), so {named(row)}change "
                    f"{format_number(row.reading.change)}) stands above {named(larger)}change "
                    f"{format_number(larger.reading.change)}); read the change column beside the rank")
    return None


def short_names(names: Sequence[str]) -> dict[str, str]:
    """Model names without the words they all share, for sentences ("unbiased", not "ConvMixer cats vs
    dogs, unbiased (authors)"); names stay whole where that would leave one empty.

    Examples
    --------
    >>> names = ["ConvMixer cats vs dogs, unbiased (authors)", "ConvMixer cats vs dogs, dark-cats bias (authors)"]
    >>> list(short_names(names).values())
    ['unbiased', 'dark-cats bias']
    >>> list(short_names(["Lesion CNN (biased)", "EfficientNet-Lite0 (ImageNet)"]).values())
    ['Lesion CNN (biased)', 'EfficientNet-Lite0 (ImageNet)']
    """
    names = list(dict.fromkeys(names))
    if len(names) < 2:
        return {name: name for name in names}
    prefix = os.path.commonprefix(names)
    prefix = prefix[:len(prefix) - len(re.split(r"[\s,(]", prefix)[-1])]  # back to a word boundary
    suffix = os.path.commonprefix([name[::-1] for name in names])[::-1]
    suffix = suffix[len(re.split(r"[\s,)]", suffix)[0]):]
    # Both ends cut, else one: a cut that leaves a bracket open ("Lesion CNN (biased" beside "EfficientNet-Lite0
    # (ImageNet", where only ")" is shared) is no shorter name.
    for start, end in ((prefix, suffix), (prefix, ""), ("", suffix)):
        shortened = {name: name[len(start):len(name) - len(end)].strip(" ,;:") for name in names}
        if (all(short and short.count("(") == short.count(")") for short in shortened.values())
                and len(set(shortened.values())) == len(names)):
            return shortened
    return {name: name for name in names}


# The most rows one sentence of the paragraph names; the tables and files hold every row.
LISTED = 8


def named_note(note: str, names: Sequence[str], of: int) -> str:
    """A note some of ``of`` results share (a comparison's properties, a screen's): as it is where all ``of`` have it,
    else after the names of those that do ("hue and blur: with 5 steps ...").

    Examples
    --------
    >>> named_note("with 5 steps ...", ["hue", "blur"], 3), named_note("with 5 steps ...", ["hue"], 1)
    ('hue and blur: with 5 steps ...', 'with 5 steps ...')
    """
    return note if len(names) == of else f"{listed(names, most=LISTED)}: {note}"


def spelled_out(readings: Sequence[Reading]) -> set[Reading]:
    """The readings whose sentence :func:`paragraph` gives: the rows that moved, the first :data:`LISTED` of each
    property in rank order (a table beside the paragraph gives the others their words).

    Examples
    --------
    >>> [r.kind for r in readings], [r.kind for r in readings if r in spelled_out(readings)]  # doctest: +SKIP
    (['strong', 'none'], ['strong'])
    """
    groups: dict = {}
    for reading in readings:
        groups.setdefault(reading.property_label, []).append(reading)
    return {one for group in groups.values()
            for one in [one for one in sorted(group, key=rank_key) if one.moved][:LISTED]}


def paragraph(readings: Sequence[Reading]) -> str:
    """A short paragraph for people: per property, what moved which model and what did not.

    Plain text (no Markdown), starting with "Reading:". Properties keep the order of ``readings``, their rows are
    in rank order (:func:`rank_key`, as the tables under it); model names lose the words they all share.

    Examples
    --------
    >>> paragraph(read_comparison(comparison))  # doctest: +SKIP
    'Reading: background: darken moved p(cat) of unbiased (strong and systematic: p(cat) 0.96 -> 0.66) ...'
    """
    several_outputs = len({reading.output for reading in readings}) > 1
    short = short_names([reading.model for reading in readings])

    def who(reading: Reading) -> str:
        return f"{short[reading.model]} ({reading.output})" if several_outputs else short[reading.model]

    spelled = spelled_out(readings)
    groups: dict = {}
    for reading in readings:
        groups.setdefault(reading.property_label, []).append(reading)
    sentences = []
    for name, group in groups.items():
        # The strongest first, as the table under it ranks them (every output of a classifier: the rest counted).
        group = sorted(group, key=rank_key)
        # The sentence without its evidence: the paragraph is the short answer; each table row has the evidence.
        unsaid = sum(r.moved and r not in spelled for r in group)
        moved = listed([f"{who(r)}: {r.sentence}" if name is None and len(group) == 1 else f"{who(r)} ({r.sentence})"
                        for r in group if r in spelled] + ([f"{unsaid:,} more"] if unsaid else []))
        still = listed([who(r) for r in group if not r.moved], LISTED)
        # "fur moved unbiased (...)" read as if the property moved a model: say which output moved, and whose.
        said = {r.output_words for r in group}
        # One name only where every model's output is that (a logit beside a probability is no "p(cat)"), and not
        # a distance ("moved distance of the output vector from step 0 of A" read as "step 0 of A").
        words = ("the outputs" if several_outputs else
                 said.pop() if len(said) == 1 and "" not in said and not next(iter(said)).startswith("distance")
                 else "the output")
        if name is None:  # one property: the models are the subjects
            sentence = moved or "no model moved measurably"
            if still and (moved or any(r.label != LABELS[NONE] for r in group)):
                # Each with its own row's label: a systematic drift of no size (tier d) is not "no measurable effect",
                # tier e's name, which the row beside it does not say.
                labels: dict[str, list[str]] = {}
                for r in group:
                    if not r.moved:
                        labels.setdefault(r.label, []).append(who(r))
                sentence += "".join(f"; {listed(names, LISTED)}: {label}" for label, names in labels.items())
        elif moved:
            sentence = f"{name} moved {words} of {moved}"
            if still:
                sentence += f", but not measurably {'those' if several_outputs else 'that'} of {still}"
        else:
            sentence = f"{name} did not move {words} of any model measurably"
        # A sentence after the first starts with a capital (". background: darken moved" read as a typo); a name
        # that has capitals of its own keeps them ("iPhone sticker").
        first_word = sentence.split(" ", 1)[0]
        capital = sentences and first_word.islower()
        sentences.append((sentence[:1].upper() + sentence[1:] if capital else sentence) + ".")
    return "Reading: " + " ".join(sentences)
