"""One ranking rule for every table that ranks effects: by what the output really did, then by how far it moved.

The screen, the comparison (the paper's Table 1), the study's tables, the command line, the app and
report.html all order their rows with :func:`rank_key`. The rule, in tiers (a first), each row's tier being
its reading's (:mod:`propgrad.reading`):

a. **the output really moved**: a strong change (the output of interest's mean curve spans at least the
   reading's ``strong`` threshold, 0.1 by default) that the shuffle test finds systematic; or one step
   carries most of a strong change (abrupt); or the prediction flips (not where the change is small and every
   flip is a near tie, two classes less than ``near_tie`` apart: that row is read by its change and test alone).
b. **small but systematic**: significant, the change between ``negligible`` (0.01) and ``strong``.
c. **moved, not significant**: the output moved by at least ``negligible`` but the test did not confirm a
   systematic trend, with no dominant step and no clear flip (erratic, or a trend too short to test).
d. **systematic but negligible**: significant, yet the change is under ``negligible``.
e. **no measurable effect**.

Within a tier, the larger change (highest minus lowest value of the mean curve) comes first.

Why not by p-value: a p-value says how unlikely a trend is under shuffling, not how large it is. A perfectly
smooth drift of 1e-6 scores far below every shuffle and earns the smallest p-value a test can give, while a
single late jump that flips the prediction cannot be judged at all (a curve that is flat but for its last step
has only as many distinct orders as steps, so no shuffle test reaches p < 2 / steps). Ranking by p put exactly
those wobbles first on the project's own headline example. Significance and the adjusted p-value stay in every
table, beside the change, and the paper's S (significant) keeps its meaning; they no longer decide the order
alone.

Examples
--------
>>> import numpy as np
>>> from propgrad.reading import read_curve
>>> drift = read_curve(1e-6 * np.arange(11), significant=True)
>>> jump = read_curve(np.r_[np.zeros(10), 0.6], significant=False, flip_steps=[10])
>>> [r.tier for r in sorted([drift, jump], key=rank_key)]
['a', 'd']
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from .reading import TIERS, Reading, rank_key  # the key is the readings' own: their paragraph ranks too

Item = TypeVar("Item")
TIER_ORDER = tuple(TIERS)


def ranked(items: Iterable[Item], reading_of: Callable[[Item], Reading]) -> list[Item]:
    """``items`` in rank order of their readings (stable: equal keys keep the given order)."""
    return sorted(items, key=lambda item: rank_key(reading_of(item)))


def tier_shares(readings: Sequence[Reading]) -> dict[str, float]:
    """The share of ``readings`` in each tier, {"a": 0.5, "b": 0.0, ...}: a study's aggregated rows show it.

    Examples
    --------
    >>> import numpy as np
    >>> from propgrad.reading import read_curve
    >>> tier_shares([read_curve(np.zeros(5), significant=False), read_curve(np.linspace(0, 1, 5), significant=True)])
    {'a': 0.5, 'b': 0.0, 'c': 0.0, 'd': 0.0, 'e': 0.5}
    """
    total = len(readings)
    return {tier: (sum(r.tier == tier for r in readings) / total if total else float("nan")) for tier in TIER_ORDER}


# What puts a row in a tier where its name alone would mislead: a row read "strong, not significant" is in tier c
# (nothing confirms the change); with a flip it reads "strong, not significant, flips" and is in tier a.
TIER_WHEN = {
    # "significant or not": a row read "strong, not significant, flips" under "a strong systematic change" read as a
    # contradiction to a new user.
    "a": "by a strong systematic change, or by one dominant step or a prediction flip, significant or not",
    "c": "with no dominant step or clear flip",
}


def tier_legend() -> str:
    """Every ranked table's legend of the tiers, in one wording.

    Examples
    --------
    >>> tier_legend().split("; ")[0]
    'a: the output really moved, by a strong systematic change, or by one dominant step or a prediction flip, significant or not'
    """
    return "; ".join(f"{tier}: {name}" + (f", {TIER_WHEN[tier]}" if tier in TIER_WHEN else "")
                     for tier, name in TIERS.items())


def tier_heading(tier: str) -> str:
    """"a: the output really moved"."""
    return f"{tier}: {TIERS[tier]}"
