"""Is a series really gradual? Image change per step, measured offline for every intervention kind.

The method assumes the property changes *gradually* along a series. A knob that does nothing until a
threshold, or a series whose order is scrambled, makes the score measure the intervention instead of
the model. This module measures the series itself, never a model:

- ``change[i]``: mean colour difference (CIE76 Delta E, in CIELAB) between step i and step 0;
- ``step_change[i]``: the same between step i and step i - 1 (``step_change[0] = 0``);
- ``rho``: Spearman's rank correlation of ``change`` with the step index (1 = the change grows
  monotonically);
- ``jump_share``: the largest single-step change as a share of all single-step changes (1 / n for
  even steps, 1 when everything happens in one step);
- ``order_ratio``: the summed single-step change in the given order divided by its mean over random
  orders of the same images (about 1 for a scrambled series, small for an ordered one). It accepts
  series that return towards their start, e.g. a full turntable rotation, whose ``rho`` is low;
- ``still_share``: the share of steps that change (almost) nothing, less than a tenth of the mean step
  change: a knob that does nothing until a threshold shows as a run of still steps, even when the steps
  after it are even (five identical images then five even steps: 44 % of the steps are still);
- ``outside_change``: for an edit restricted to a region, the largest mean change outside the mask
  (0 by construction for :class:`~propgrad.interventions.region.Region`; reported so a reader can check).

A series is **gradual** when it changes at all, no single step holds more than ``max_jump_share``
(default 0.5: "most of the change in one step") of the change (at 3 steps, where one of two even steps always
holds about half, three quarters), at most ``max_still_share`` of its
steps are still (default 0.25: a slow start of one or two steps in ten passes, a quarter of the knob's range doing
nothing does not; the single-jump rule alone let five or seven identical steps followed by even ones pass),
and its change is monotone (``rho >= min_rho``, default 0.9) or, failing that, clearly ordered
(``order_ratio <= max_order_ratio``, default 0.75).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .checks import is_real_number, is_whole_number
from .errors import ArgumentError, in_words
from .formats import format_number, format_percent

DEFAULT_MIN_RHO = 0.9
DEFAULT_MAX_JUMP_SHARE = 0.5
# A full turntable rotation in 36 frames gives about 0.55, any scrambled series about 1.
DEFAULT_MAX_ORDER_RATIO = 0.75
# At most this share of the steps may change (almost) nothing; a step is still below STILL of the mean step.
DEFAULT_MAX_STILL_SHARE = 0.25
STILL = 0.1
# Below this mean Delta E over the whole series nothing visible changed (about 2.3 is just noticeable).
NO_CHANGE = 0.5
# Images are compared at this longer side: Delta E means hardly move, and a 36-frame series stays cheap.
COMPARE_SIDE = 64
_ORDERS = 200


@dataclass(frozen=True)
class GradualnessCriteria:
    """Thresholds of the gradualness check (see the module docstring).

    Examples
    --------
    >>> GradualnessCriteria(min_rho=0.8).min_rho
    0.8
    """

    min_rho: float = DEFAULT_MIN_RHO
    max_jump_share: float = DEFAULT_MAX_JUMP_SHARE
    max_order_ratio: float = DEFAULT_MAX_ORDER_RATIO
    max_still_share: float = DEFAULT_MAX_STILL_SHARE

    def __post_init__(self):
        for name, low, high in (("min_rho", -1, 1), ("max_jump_share", 0, 1), ("max_order_ratio", 0, 1),
                                ("max_still_share", 0, 1)):
            value = getattr(self, name)
            if not is_real_number(value) or not low <= value <= high:
                raise ArgumentError(name, f"must be a number in [{low}, {high}], got {value!r}")


@dataclass(frozen=True)
class Gradualness:
    """How gradually one series changes; ``gradual`` is the verdict, ``reason`` says why not."""

    change: np.ndarray
    step_change: np.ndarray
    rho: float
    jump_share: float
    order_ratio: float
    outside_change: float | None
    gradual: bool
    reason: str
    criteria: GradualnessCriteria = field(default_factory=GradualnessCriteria)
    still_share: float = 0.0

    def to_dict(self) -> dict:
        """JSON-ready figures, every digit kept (NaN becomes None)."""
        def num(v):
            return None if v is None or not np.isfinite(v) else float(v)

        return {"gradual": self.gradual, "reason": self.reason, "rho": num(self.rho),
                "jump_share": num(self.jump_share), "still_share": num(self.still_share),
                "order_ratio": num(self.order_ratio),
                "outside_change": num(self.outside_change),
                "change": [float(v) for v in self.change],
                "step_change": [float(v) for v in self.step_change]}


def _lab(images: Sequence[Image.Image]) -> np.ndarray:
    from skimage.color import rgb2lab

    first = images[0].convert("RGB")
    scale = min(1.0, COMPARE_SIDE / max(first.size))
    size = (max(1, round(first.size[0] * scale)), max(1, round(first.size[1] * scale)))
    # Every step at the size of step 0: frames of a capture may differ by a pixel.
    arrays = [np.asarray(im.convert("RGB").resize(size, Image.Resampling.BILINEAR)
                         if im.size != size else im.convert("RGB"), dtype=np.float32) / 255.0 for im in images]
    return rgb2lab(np.stack(arrays))  # (n, h, w, 3)


def _delta_e(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sqrt(((a - b) ** 2).sum(axis=-1))


def _outside_change(images: Sequence[Image.Image], mask: np.ndarray) -> float | None:
    """The largest mean Delta E to step 0 outside the mask, weighted by 1 - mask, at full resolution: at the
    comparison size each small pixel would mix both sides of the border, so a hard mask's untouched outside
    would seem to change."""
    first = images[0].convert("RGB")
    m = np.asarray(mask, dtype=np.float32)
    if m.shape != (first.height, first.width):
        m = np.asarray(Image.fromarray(m).resize(first.size, Image.Resampling.BILINEAR), dtype=np.float32)
    weights = 1.0 - np.clip(m, 0, 1)
    where = weights > 0
    if not where.any():
        return None
    pixels = np.stack([np.asarray((im if im.size == first.size else im.resize(first.size)).convert("RGB"))[where]
                       for im in images])
    if (pixels == pixels[0]).all():  # the usual case, a hard mask: nothing outside moved
        return 0.0
    from skimage.color import rgb2lab

    lab = rgb2lab(pixels.astype(np.float32) / 255.0)  # (n, outside pixels, 3)
    w = weights[where]
    return float(max((_delta_e(lab[i], lab[0]) * w).sum() / w.sum() for i in range(len(images))))


# Spearman's rho as scipy.stats' rankdata and spearmanr compute it, step for step (tests/test_statistics.py compares
# them on random series with ties): every run checks its series, and importing scipy.stats for it held 49 MB of
# the server's memory (issue 23).
def _average_ranks(values) -> np.ndarray:
    """Ranks 1..n, ties sharing the mean of their ranks (``scipy.stats.rankdata``'s default)."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    # Each run of equal values starts where the value changes; its members get the mean of the run's ranks.
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], values.size]
    run_ranks = (starts + ends + 1) / 2.0
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.repeat(run_ranks, ends - starts)
    return ranks


def _rank_correlation(x, y) -> float:
    """Spearman's rho of two series (``scipy.stats.spearmanr(x, y).statistic``): NaN where either is constant
    or holds a NaN."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("Spearman's rho takes two series of the same length")
    if x.size < 2 or np.isnan(x).any() or np.isnan(y).any() or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    # Columns and the [1, 0] cell, as scipy takes them: the same sums in the same order, so the same last digit.
    return float(np.corrcoef(np.column_stack([_average_ranks(x), _average_ranks(y)]), rowvar=False)[1, 0])


def assess(images: Sequence[Image.Image], mask: np.ndarray | None = None,
           criteria: GradualnessCriteria | None = None, seed: int = 0) -> Gradualness:
    """Measure how gradually ``images`` (step 0 first) change, and judge it by ``criteria``.

    Parameters
    ----------
    images : sequence of PIL images
        One series, at least 3 steps.
    mask : array (H, W) in [0, 1], optional
        The region an edit was restricted to; the change outside it is reported.
    criteria : GradualnessCriteria, optional
        Thresholds; default :class:`GradualnessCriteria`.
    seed : int
        Seeds the random orders of ``order_ratio`` (same seed, same figure).

    Examples
    --------
    >>> steps = [Image.new("RGB", (8, 8), (v, v, v)) for v in range(0, 200, 20)]
    >>> result = assess(steps)
    >>> result.gradual, round(result.rho, 2)
    (True, 1.0)
    >>> assess([steps[i] for i in (0, 9, 1, 8, 2, 7, 3, 6, 4, 5)]).gradual
    False
    """
    criteria = criteria or GradualnessCriteria()
    if not isinstance(criteria, GradualnessCriteria):
        raise TypeError(f"`criteria` must be a GradualnessCriteria, got {type(criteria).__name__}")
    images = list(images)
    if len(images) < 3 or not all(isinstance(im, Image.Image) for im in images):
        raise ValueError(f"`images` must be at least 3 PIL images, got {len(images)} items")
    if not is_whole_number(seed, 0):
        raise ValueError(f"`seed` must be a non-negative integer, got {seed!r}")
    lab = _lab(images)
    n = len(lab)
    # Mean Delta E between every pair of steps: n is small (tens), so the n x n table is cheap.
    flat = lab.reshape(n, -1, 3)
    pairwise = np.zeros((n, n))
    for i in range(n):
        pairwise[i, i + 1:] = _delta_e(flat[i][None], flat[i + 1:]).mean(axis=1)
    pairwise = pairwise + pairwise.T
    change = pairwise[0].copy()
    step_change = np.concatenate([[0.0], pairwise[np.arange(1, n), np.arange(n - 1)]])

    total = step_change.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = _rank_correlation(np.arange(n), change)  # NaN for a series that does not change
    jump_share = float(step_change.max() / total) if total > 0 else float("nan")
    steps = step_change[1:]
    still_share = float(np.mean(steps < STILL * steps.mean())) if total > 0 else float("nan")
    rng = np.random.default_rng(seed)
    orders = np.argsort(rng.random((_ORDERS, n)), axis=1)
    shuffled = pairwise[orders[:, :-1], orders[:, 1:]].sum(axis=1).mean()
    order_ratio = float(total / shuffled) if shuffled > 0 else float("nan")

    outside = None if mask is None else _outside_change(images, mask)

    if not change.max() >= NO_CHANGE:
        reason = f"the images hardly change (largest mean Delta E to step 0: {change.max():.2f} < {NO_CHANGE})"
    elif jump_share > (jump_limit := _jump_limit(criteria, n)):
        step = int(step_change.argmax())
        reason = (f"{format_percent(jump_share)} of the change happens in one step (step {step - 1} -> {step}; "
                  f"limit {format_percent(jump_limit)})")
    elif still_share > criteria.max_still_share:
        reason = (f"{format_percent(still_share)} of the steps change (almost) nothing (less than "
                  f"{format_percent(STILL)} of the mean step; limit {format_percent(criteria.max_still_share)}): a "
                  "knob that acts only past a threshold")
    elif not (rho >= criteria.min_rho) and not (order_ratio <= criteria.max_order_ratio):
        # The words of the "yes" lines (summary_line), so that a student sees one measure in both: the 12-frame
        # turntable said "not monotone (Spearman rho ...), ratio 0.91" where the 36-frame one said "differ 54 %".
        reason = (f"{_neighbours(order_ratio, criteria.max_order_ratio)}, and the change from step 0 does not grow "
                  f"steadily (rank correlation {_beside(rho, criteria.min_rho)}, under {criteria.min_rho})")
    else:
        reason = ""
    return Gradualness(change, step_change, rho, jump_share, order_ratio, outside, not reason, reason, criteria,
                       still_share)


def _jump_limit(criteria: GradualnessCriteria, n_steps: int) -> float:
    """The largest share of the change one step may hold: at 3 steps one of the two steps always holds about half,
    so there it is at least three quarters."""
    return max(criteria.max_jump_share, 0.75) if n_steps == 3 else criteria.max_jump_share


# What a series that is not gradual does to the scores, said wherever the verdict is (app, report.html).
NOT_GRADUAL_WARNING = ("a series that is not gradual measures the intervention as much as the model (see the bars of "
                       "image change under the steps' pictures)")


def _neighbours(ratio: float, limit: float) -> str:
    """The order test in words, the same in a "yes" and a "NO" (the 36-frame turntable's "differ 54 % as much as in a
    random order, at most 75 %" beside the 12-frame one's "NO" read as a riddle)."""
    return (f"neighbouring steps differ {_beside(ratio, limit, percent=True)} as much as shuffled ones, where an "
            f"ordered series stays at most {format_percent(limit)}")


def _beside(value: float, limit: float, *, percent: bool = False) -> str:
    """``value`` written to be told apart from the ``limit`` it is read against: rho 0.897 read "0.90, under 0.9",
    an order ratio of 0.7549 "75 %" beside "at most 75 %"; a digit more wherever they would print alike."""
    show = (lambda v, d: f"{100 * v:.{d}f} %") if percent else (lambda v, d: f"{v:.{d + 2}f}")
    digits = 0
    while digits < 4 and value != limit and show(value, digits) == show(limit, digits):
        digits += 1
    return show(value, digits)


def largest_change(results: Sequence[Gradualness], coverage: float | None = None) -> float:
    """The largest mean Delta E to step 0 over a property's series, inside the region where the edit was restricted to
    one (``coverage``, its share of the image: nothing changes outside it), so that a visible edit of a small object
    does not read as no change. Under :data:`NO_CHANGE`, nothing visible changed."""
    largest = max((float(np.max(r.change)) for r in results), default=float("nan"))
    return largest / coverage if coverage else largest


def unchanged_caveat(largest: dict[str, float]) -> str | None:
    """The sentence to read before an answer where an edit hardly changes the images: ``largest`` maps each property to
    :func:`largest_change`. None where every property's images change visibly. Hue on a grey photo changes nothing,
    and the answer's first words were "Every effect here is negligible": an empty experiment read as evidence that
    the model ignores hue (a blur of 0.85 px read as a small systematic effect).

    Examples
    --------
    >>> print(unchanged_caveat({"whole image: hue": 0.0, "object: darken": 12.5}))
    Check the edits before this answer: the images hardly change under 'whole image: hue' (the largest mean colour difference to step 0, Delta E, is 0.00; under 0.5 an eye sees no change, and about 2.3 is just visible). What a model does there answers for an edit nobody can see, and no effect there is no evidence either way: choose a stronger change or another property (hue, for one, changes nothing on a grey image).
    >>> unchanged_caveat({"object: darken": 12.5}) is None
    True
    """
    still = {name: change for name, change in largest.items() if change < NO_CHANGE}
    if not still:
        return None
    # Floored, not rounded: 0.497 shown as "0.50" beside "under 0.5" read as a contradiction.
    shown = sorted({f"{math.floor(change * 100) / 100:.2f}" for change in still.values()}, key=float)
    amount = f"is {shown[0]}" if len(shown) == 1 else f"is {shown[0]} to {shown[-1]}"
    return (f"Check the edits before this answer: the images hardly change under {in_words(still, most=3)} (the "
            f"largest mean colour difference to step 0, Delta E, {amount}; under {NO_CHANGE:g} an eye sees no change, "
            "and about 2.3 is just visible). What a model does there answers for an edit nobody can see, and no effect "
            "there is no evidence either way: choose a stronger change or another property (hue, for one, changes "
            "nothing on a grey image).")


def verdict(results: Sequence[Gradualness]) -> str:
    """The verdict alone, as :func:`summary_line` begins: "gradual: yes", "gradual: NO", "gradual: 2 of 3 series"."""
    results = list(results)
    good = sum(r.gradual for r in results)
    # "gradual: 1/1 series" read as a code to a new user: one series is gradual or not; of several, say how many.
    return f"gradual: {'yes' if good else 'NO'}" if len(results) == 1 else f"gradual: {good} of {len(results)} series"


def summary_line(results: Sequence[Gradualness]) -> str:
    """One line for people: how many series are gradual, and why the first that is not is not.

    Examples
    --------
    >>> steps = [Image.new("RGB", (8, 8), (v, v, v)) for v in range(0, 200, 20)]
    >>> summary_line([assess(steps)])[:52]
    'gradual: yes (the image change grows with the step: '
    >>> summary_line([assess(steps)])[52:]
    'rank correlation 1.00; the largest step makes 13 % of the change)'
    """
    results = list(results)
    if not results:
        return "gradual: no series"
    line = verdict(results)
    bad = next((r for r in results if not r.gradual), None)
    if bad is not None:
        return f"{line}, {bad.reason}" if len(results) == 1 else f"{line}; NOT gradual: {bad.reason}"
    rho = np.nanmean([r.rho for r in results]) if any(np.isfinite(r.rho) for r in results) else float("nan")
    jump = np.nanmax([r.jump_share for r in results])
    if all(r.rho >= r.criteria.min_rho for r in results):
        how = f"the image change grows with the step: rank correlation {rho:.2f}"
    else:
        # Accepted by order, not by a change that grows (a rotation that comes back to its start): "grows with the
        # step" beside a turntable that ends where it began misled.
        # The order test of the series it admitted (those that grow steadily passed without it).
        by_order = [r for r in results if not r.rho >= r.criteria.min_rho]
        ratio = max(r.order_ratio for r in by_order)
        limit = min(r.criteria.max_order_ratio for r in by_order)
        how = (f"{_neighbours(ratio, limit)}, though the change from step 0 does not grow steadily, rank "
               f"correlation {rho:.2f}")
    outside = [r.outside_change for r in results if r.outside_change is not None]
    # Delta E of about 2.3 is the usual just-noticeable difference: a number alone would not tell a reader that.
    # No brackets of its own: inside the line's brackets it ended "just visible))".
    # "change by 0 in colour difference Delta E" read as a sentence cut short: nothing changed is said so.
    most = max(outside) if outside else None
    region = ("" if most is None else
              "; outside the region the colours do not change at all" if most == 0 else
              f"; outside the region the colours change by {format_number(most)} in colour difference Delta E, where "
              "about 2.3 is just visible")
    # Spearman's rho in words: docs/gradualness.md names it; a summary line should not need that page.
    # The raised limit of 3 steps said where it let the largest step pass: "56 %" beside --help's 0.5 read as a slip.
    raised = [r for r in results if r.jump_share > r.criteria.max_jump_share]
    limit = _jump_limit(raised[0].criteria, len(raised[0].change)) if raised else None
    # Told apart from the limit where they would print alike ("75 % ..., under the limit of 75 %").
    share = format_percent(jump) if limit is None else _beside(jump, limit, percent=True)
    under = "" if limit is None else f", under the limit of {format_percent(limit)} at 3 steps"
    return f"{line} ({how}; the largest step makes {share} of the change{under}{region})"
