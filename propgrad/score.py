"""Property gradient, shuffle test, step correlation and prediction flips (numpy, scipy for one statistic).

Conventions follow Penzel & Denzler (WACV 2026): outputs are ordered along the intervention, step 0 is
the unedited image, the score is the mean of ``|np.gradient(y)|`` with unit spacing, and its
significance comes from a two-sided shuffle test about the null distribution's mean.

The statistic is a choice (the authors' code offers the same three):

- ``"gradient"`` (default, the paper's): E[|grad_X F|]. Tested two-sided: a smooth trend scores far
  *below* the shuffled null, noise in its middle, and a jumpy curve above it.
- ``"correlation"``: |Pearson r| between the step index and the output. It sees monotone trends only (a U
  shape has r near 0), is blind to the size of the change (a 0.001 ramp scores 1) and tested one-sided
  ("greater"): only a larger |r| than shuffles is evidence of a dependence.
- ``"mutual-information"``: a KSG estimate of I(step; output) in nats (k = 5 neighbours, as the authors'
  code computes it). It sees any dependence, monotone or not, also blind to the size; one-sided too. Its null costs about steps**2 operations per permutation and output, see
  :mod:`propgrad.statistics`.
"""
from __future__ import annotations

import functools
import os
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from .checks import is_whole_number
from .errors import not_one_of

MIN_STEPS = 3
DEFAULT_PERMUTATIONS = 10_000
DEFAULT_ALPHA = 0.01
ALTERNATIVES = ("two-sided", "less", "greater")
GRADIENT, CORRELATION, MUTUAL_INFORMATION = "gradient", "correlation", "mutual-information"
STATISTICS = (GRADIENT, CORRELATION, MUTUAL_INFORMATION)
# Which side of the null is evidence, per statistic (see the module docstring).
DEFAULT_ALTERNATIVE = {GRADIENT: "two-sided", CORRELATION: "greater", MUTUAL_INFORMATION: "greater"}
# How each statistic is called in tables and figures.
STATISTIC_LABELS = {GRADIENT: "E[|grad_X F|]", CORRELATION: "|r|", MUTUAL_INFORMATION: "MI (nats)"}
# One sentence per statistic saying how to read its number, for the tables' legends.
STATISTIC_MEANING = {
    # Not "the mean step": np.gradient averages a step's two neighbouring differences (one-sided at the ends), so a
    # jump at the last step counts 1.5 (n - 1) / n times (0.084 against a mean step of 0.063 at 11 steps: a student's
    # check by hand disagreed with "on average"), and a zigzag, whose neighbouring differences cancel, reads low.
    GRADIENT: "E[|grad_X F|] is the output's mean absolute slope per step, each step's slope taken over its two "
              "neighbours, as the authors compute it: for a steady change, 0.01 is 0.01 per step (one percentage "
              "point, for a probability); a curve that goes up and down reads lower than its steps.",
    CORRELATION: "|r| is the Pearson correlation of the output with the step (1: a perfectly steady trend, "
                 "whatever its size; blind to U shapes).",
    MUTUAL_INFORMATION: "MI is the mutual information of the output and the step in nats (KSG, 5 neighbours): any "
                        "dependence, whatever its size.",
}
# What p is under each statistic's own test (DEFAULT_ALTERNATIVE), in words: the null plots and every report.html's
# guide say it alike (the guide had the one-sided wording for the two-sided gradient test).
P_MEANING = {
    "two-sided": ("the share of shuffles (random orders of the steps) whose score lies at least as far from the "
                  "shuffles' mean as the observed score, in either direction. A smooth trend scores below the "
                  "shuffles (shuffling the steps adds jumps); an output that swings back and forth scores above "
                  "them."),
    "greater": "the share of shuffles (random orders of the steps) that score at least as high as the observed score.",
}
# Bounds the (permutations, steps, outputs) block gathered at once to about 8 MB of float64 (cache-sized
# blocks are also faster).
_BLOCK_ELEMENTS = 1_000_000
_WORKERS = min(2, os.cpu_count() or 1)
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
# Above this many entries the pair table costs more than it saves (long series, many outputs).
_TABLE_ELEMENTS = 4_000_000
_FLOAT32_KEYS_MAX_STEPS = 128
# Null scores that differ from the observed one only by rounding count as ties (as scipy does).
_TIE_RTOL = 1e-12


def _as_series(outputs, name: str = "outputs") -> np.ndarray:
    """Validate outputs and return them as float64 of shape (steps, k) or (series, steps, k)."""
    try:
        array = np.asarray(outputs, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"`{name}` must be a numeric array, got {type(outputs).__name__}") from error
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim not in (2, 3):
        raise ValueError(
            f"`{name}` must have shape (steps,), (steps, k) or (series, steps, k), got {array.shape}"
        )
    steps = array.shape[-2]
    if steps < MIN_STEPS:
        raise ValueError(f"`{name}` needs at least {MIN_STEPS} steps along the intervention, got {steps}")
    if array.shape[-1] == 0:
        raise ValueError(f"`{name}` has no output columns")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` contains NaN or infinite values; check the model's outputs")
    return array


def _gradient_magnitude(series: np.ndarray) -> np.ndarray:
    """Mean |np.gradient| along axis -2 with unit spacing; same result as numpy's, without the copies."""
    steps = series.shape[-2]
    first = np.abs(series[..., 1, :] - series[..., 0, :])
    last = np.abs(series[..., -1, :] - series[..., -2, :])
    inner = np.abs(series[..., 2:, :] - series[..., :-2, :]).sum(axis=-2) * 0.5
    return (first + last + inner) / steps


def property_gradient(outputs) -> float | np.ndarray:
    """Expected property gradient magnitude E[|grad_X F|] of an output series.

    Parameters
    ----------
    outputs : array_like, shape (steps,) or (steps, k)
        Model outputs along the intervention, step 0 being the unedited image.

    Returns
    -------
    float or ndarray of shape (k,)
        Mean absolute ``np.gradient`` (unit spacing) per column; a float for 1-D input. A score of
        0.01 is one percentage point per step for a steady change; otherwise it differs from the mean absolute
        step: a jump at the last step counts 1.5 (n - 1) / n times, a zigzag's neighbouring differences cancel.

    Examples
    --------
    >>> property_gradient([0.0, 0.1, 0.2, 0.3])
    0.1
    """
    array = np.asarray(outputs)
    series = _as_series(outputs)
    if series.ndim == 3:
        raise ValueError("`outputs` for property_gradient must have shape (steps,) or (steps, k)")
    score = _gradient_magnitude(series)
    return float(score[0]) if array.ndim == 1 else score


@dataclass(frozen=True)
class PermutationTestResult:
    """Outcome of the shuffle test, shaped like scipy's ``PermutationTestResult``.

    ``statistic`` and ``pvalue`` are floats for 1-D input and arrays of shape (k,) otherwise;
    ``null_distribution`` has shape (n_permutations,) or (n_permutations, k).
    """

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    null_distribution: np.ndarray
    alternative: str = "two-sided"
    n_permutations: int = DEFAULT_PERMUTATIONS


def _rng(rng) -> np.random.Generator:
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(f"`rng` must be None, an int seed or a numpy Generator, got {type(rng).__name__}")


def _pair_table(series: np.ndarray) -> np.ndarray:
    """(k, 2 * steps**2) table of |y[a] - y[b]| (first half) and |y[a] - y[b]| / 2 (second half).

    A permuted series' score is a sum of n such entries, so a shuffle costs one gather and one sum.
    """
    steps, k = series.shape
    pairs = np.abs(series[:, None, :] - series[None, :, :]).reshape(steps * steps, k)
    return np.ascontiguousarray(np.concatenate([pairs, 0.5 * pairs]).T)


def _pair_indices(orders: np.ndarray, steps: int) -> np.ndarray:
    """Flat table indices of the terms of np.gradient's mean |.| for each permuted order."""
    index = np.empty(orders.shape, dtype=np.int32 if steps * steps * 2 < 2**31 else np.intp)
    index[:, 0] = orders[:, 1] * steps + orders[:, 0]
    index[:, 1] = orders[:, -1] * steps + orders[:, -2]
    index[:, 2:] = orders[:, 2:] * steps + orders[:, :-2] + steps * steps
    return index


def _executor() -> ThreadPoolExecutor | None:
    """A small shared thread pool: numpy's gather and sort release the GIL, so blocks run in parallel."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None and _WORKERS > 1:
            _POOL = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="propgrad-null")
    return _POOL


def check_statistic(statistic) -> str:
    """The statistic's name, checked; the error lists the valid ones."""
    if not isinstance(statistic, str) or statistic not in STATISTICS:
        raise not_one_of("statistic", statistic, STATISTICS)
    return statistic


def _random_keys(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    # Random sort keys: float32 sorts twice as fast; its ties (2**24 values) are rare enough for short
    # series (under 3e-4 per permutation at 100 steps) and cannot make an order invalid, only a tied
    # pair's order non-random. Longer series use float64 keys.
    keys = np.float32 if size[1] <= _FLOAT32_KEYS_MAX_STEPS else np.float64
    return rng.random(size, dtype=keys)


def statistic_scores(series: np.ndarray, statistic: str = GRADIENT) -> np.ndarray:
    """The observed statistic of every series and output: (series, steps, k) -> (series, k)."""
    if statistic == GRADIENT:
        return _gradient_magnitude(series)
    from . import statistics

    if statistic == CORRELATION:
        return statistics.correlation_scores(series)
    return statistics.mutual_information_scores(series)


def null_distribution(series: np.ndarray, n_permutations: int, rng: np.random.Generator,
                      statistic: str = GRADIENT) -> np.ndarray:
    """Scores of ``n_permutations`` shuffles of ``series`` (series, steps, k) -> (n_permutations, k).

    Each permutation reorders the steps of every series independently (one shared order across the
    k outputs of a series, as shuffling the images would), and the score is averaged over series.
    Work is done in blocks of permutations so memory stays bounded for long series and many outputs;
    the random keys are drawn in order in this thread, so the result does not depend on the threads.
    """
    if statistic != GRADIENT:
        return _other_null(series, n_permutations, rng, statistic)
    n_series, steps, k = series.shape
    null = np.zeros((n_permutations, k))
    use_table = 2 * steps * steps * k * n_series <= _TABLE_ELEMENTS
    tables = [_pair_table(s) if use_table else np.ascontiguousarray(s.T) for s in series]
    block = max(1, _BLOCK_ELEMENTS // (steps * k))

    def score_block(start: int, stop: int, block_keys: list[np.ndarray]) -> None:
        for table, key in zip(tables, block_keys):
            orders = key.argsort(axis=1)
            if use_table:
                gathered = np.take(table, _pair_indices(orders, steps), axis=1)  # (k, block, steps)
                null[start:stop] += gathered.sum(axis=-1).T / steps
            else:
                null[start:stop] += _gradient_magnitude(np.take(table, orders, axis=1).transpose(1, 2, 0))

    jobs: deque = deque()
    pool = _executor() if n_permutations > block else None
    for start in range(0, n_permutations, block):
        stop = min(start + block, n_permutations)
        block_keys = [_random_keys(rng, (stop - start, steps)) for _ in range(n_series)]
        if pool is None:
            score_block(start, stop, block_keys)
            continue
        # A few blocks in flight at most, so memory stays bounded however many permutations are asked.
        while len(jobs) >= 2 * _WORKERS:
            jobs.popleft().result()
        jobs.append(pool.submit(score_block, start, stop, block_keys))
    for job in jobs:
        job.result()
    return null / n_series


def _other_null(series: np.ndarray, n_permutations: int, rng: np.random.Generator, statistic: str) -> np.ndarray:
    """The null of the correlation or the mutual information: the same shuffles, drawn block by block."""
    from . import statistics

    n_series, steps, k = series.shape
    null = np.zeros((n_permutations, k))
    block = max(1, _BLOCK_ELEMENTS // (steps * k))
    for start in range(0, n_permutations, block):
        stop = min(start + block, n_permutations)
        for s in range(n_series):
            orders = _random_keys(rng, (stop - start, steps)).argsort(axis=1)
            if statistic == CORRELATION:
                null[start:stop] += statistics.correlation_block(series[s], orders)
            else:
                null[start:stop] += statistics.ksg_block(series[s], orders)
    return null / n_series


def _pvalue(observed: np.ndarray, null: np.ndarray, alternative: str) -> np.ndarray:
    n_permutations = null.shape[0]
    if alternative == "two-sided":
        centre = null.mean(axis=0)
        distance_null = np.abs(null - centre)
        distance_observed = np.abs(observed - centre)
        tolerance = _TIE_RTOL * np.maximum(distance_observed, 1.0)
        extreme = distance_null >= distance_observed - tolerance
    elif alternative == "less":
        extreme = null <= observed + _TIE_RTOL * np.maximum(np.abs(observed), 1.0)
    else:
        extreme = null >= observed - _TIE_RTOL * np.maximum(np.abs(observed), 1.0)
    # +1 in numerator and denominator (Phipson & Smyth 2010): the observed order is itself one of the
    # permutations, so p can never be 0. The authors' code omits it.
    return (1.0 + extreme.sum(axis=0)) / (n_permutations + 1.0)


def permutation_test(
    outputs,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    alternative: str | None = None,
    rng: int | np.random.Generator | None = None,
    statistic: str = GRADIENT,
) -> PermutationTestResult:
    """Shuffle test of the property gradient: is the output's trend systematic or noise?

    A smooth trend scores far below the shuffled null (shuffling creates jumps) and pure noise sits in
    its middle, so the default test is two-sided about the null's mean ``m``:
    ``p = (1 + #{|T_perm - m| >= |T_obs - m|}) / (K + 1)``. A constant series gives ``p = 1``.

    Parameters
    ----------
    outputs : array_like, shape (steps,), (steps, k) or (series, steps, k)
        Output series; with several series the statistic is their mean score and each permutation
        shuffles every series independently.
    n_permutations : int
        Number of shuffles K (paper: 10,000).
    alternative : {"two-sided", "less", "greater"} or None
        "less" asks whether the observed score is smaller than shuffled ones (a smooth trend). None: the
        statistic's own (``DEFAULT_ALTERNATIVE``: two-sided for the gradient, "greater" for the others).
    rng : int, numpy Generator or None
        Seed or generator, for reproducible p-values.
    statistic : {"gradient", "correlation", "mutual-information"}
        What is measured (see the module docstring); every one goes through the same shuffles.

    Examples
    --------
    >>> result = permutation_test(np.linspace(0, 1, 20), n_permutations=999, rng=0)
    >>> result.pvalue
    0.001
    >>> u_shape = (np.linspace(-1, 1, 21)) ** 2
    >>> permutation_test(u_shape, n_permutations=999, rng=0, statistic="correlation").pvalue > 0.5
    True
    """
    if not is_whole_number(n_permutations, 1):
        raise ValueError(f"`n_permutations` must be a positive integer, got {n_permutations!r}")
    statistic = check_statistic(statistic)
    alternative = DEFAULT_ALTERNATIVE[statistic] if alternative is None else alternative
    if alternative not in ALTERNATIVES:
        raise not_one_of("alternative", alternative, ALTERNATIVES)
    generator = _rng(rng)
    one_dimensional = np.asarray(outputs).ndim == 1
    series = _as_series(outputs)
    if series.ndim == 2:
        series = series[None]
    observed = statistic_scores(series, statistic).mean(axis=0)
    null = null_distribution(series, int(n_permutations), generator, statistic)
    pvalue = _pvalue(observed, null, alternative)
    if one_dimensional:
        return PermutationTestResult(float(observed[0]), float(pvalue[0]), null[:, 0], alternative, int(n_permutations))
    return PermutationTestResult(observed, pvalue, null, alternative, int(n_permutations))


# Series this short have few enough orders to try them all (8! = 40,320); the mutual information, far slower to
# compute, one step fewer.
ENUMERABLE_STEPS = {GRADIENT: 8, CORRELATION: 8, MUTUAL_INFORMATION: 7}


@functools.cache  # its callers ask only for lengths up to ENUMERABLE_STEPS: a few MB in all
def _every_order(steps: int) -> np.ndarray:
    """Every order of ``steps`` steps as index rows (8 steps: 40,320 rows, about 30 ms to build), made once per
    length: each output of interest of each short run, and each steady-trend count, asks for it."""
    from itertools import permutations

    orders = np.array(list(permutations(range(steps))))
    orders.flags.writeable = False  # shared by every caller
    return orders


def best_order_pvalue(outputs, statistic: str = GRADIENT, alternative: str | None = None) -> np.ndarray | None:
    """A floor under the exact shuffle-test p-value of any order of these outputs: every order of every series is
    tried, and the share of orders as extreme as the most extreme one is what even the best order would get (with
    several series, the product over series of that share on the side the mean moves furthest). None where the
    series are too long to try every order (:data:`ENUMERABLE_STEPS`).

    The count of orders alone (2 / n!, :func:`propgrad.checks.orders_floor`) undercounts the gradient's floor: its
    central differences skip each step's own value, so many orders tie (4 evenly spaced outputs: a third of all
    orders are as extreme as the best, not 2 / 4! = 0.083).

    Examples
    --------
    >>> round(float(best_order_pvalue(np.linspace(0, 1, 4))[0]), 2)
    0.33
    >>> round(float(best_order_pvalue(np.linspace(0, 1, 5), statistic="correlation")[0]), 4)
    0.0167
    """
    statistic = check_statistic(statistic)
    alternative = DEFAULT_ALTERNATIVE[statistic] if alternative is None else alternative
    series = _as_series(outputs)
    series = series[None] if series.ndim == 2 else series
    steps = series.shape[1]
    if steps > ENUMERABLE_STEPS[statistic]:
        return None
    orders = _every_order(steps)
    scores = np.stack([statistic_scores(one[orders], statistic) for one in series])  # (series, orders, k)
    return _extreme_share(scores, alternative)


def _extreme_share(scores: np.ndarray, alternative: str) -> np.ndarray:
    """Of equally likely orders' ``scores`` (series, orders, k), the share as extreme as the most extreme one (per
    output; the product over series), on the side of ``alternative`` (two-sided: the side furthest from the mean)."""
    tolerance = _TIE_RTOL * np.maximum(np.abs(scores).max(axis=1, keepdims=True), 1.0)
    top, bottom = scores.max(axis=1, keepdims=True), scores.min(axis=1, keepdims=True)
    high = np.prod((scores >= top - tolerance).mean(axis=1), axis=0)
    low = np.prod((scores <= bottom + tolerance).mean(axis=1), axis=0)
    if alternative == "greater":
        return high
    if alternative == "less":
        return low
    centre = scores.mean(axis=1).mean(axis=0)
    up, down = top[:, 0].mean(axis=0) - centre, centre - bottom[:, 0].mean(axis=0)
    return np.where(up >= down, high, low)


@functools.lru_cache(maxsize=256)
def best_step_pvalue(steps: int, jump_step: int, statistic: str = GRADIENT, alternative: str | None = None) -> float:
    """The smallest p-value the shuffle test of ``statistic`` can give a curve that takes one value before
    ``jump_step`` and another from it on, under any order of its values: such a curve has only C(steps, jump_step)
    distinct arrangements, each tried here (as :func:`best_order_pvalue` tries every order of a short curve).

    The count alone (the observed arrangement and its reverse: 2 / C) undercounts the gradient's: its one-sided
    differences at the ends score a jump one step in from an end as high as one at the end (11 steps, a jump at the
    last: 4 / 11 = 0.36 of the arrangements tie, not 2 / 11; the mutual information's ties run higher still, 0.15 for
    a jump two steps from the end of 30). Where C passes 20,000 arrangements (about 1.5 s for the mutual information,
    cached), 2 / C is returned, which puts the floor far below any alpha a reading compares it with (trying all
    184,756 arrangements of a jump in the middle of 20 steps took 14 s).

    Examples
    --------
    >>> round(best_step_pvalue(11, 10), 3), round(best_step_pvalue(11, 10, "correlation"), 3)
    (0.364, 0.182)
    >>> best_step_pvalue(30, 15) < 1e-7
    True
    """
    from itertools import combinations
    from math import comb

    statistic = check_statistic(statistic)
    alternative = DEFAULT_ALTERNATIVE[statistic] if alternative is None else alternative
    ones = min(jump_step, steps - jump_step)
    count = comb(steps, ones)
    if count > 20_000:
        return min(1.0, 2.0 / count)
    arrangements = np.zeros((count, steps, 1))
    for row, places in enumerate(combinations(range(steps), ones)):
        arrangements[row, list(places), 0] = 1.0
    return float(_extreme_share(statistic_scores(arrangements, statistic)[None], alternative)[0])


@functools.lru_cache(maxsize=64)
def steady_trend_steps(alpha: float, statistic: str = GRADIENT) -> int | None:
    """The fewest steps on which an evenly steady trend can reach ``alpha`` under ``statistic``, every order of it
    tried; None where even :data:`ENUMERABLE_STEPS` are not enough (then more are needed). What a note on a short
    series advises: 2 / n! says 6 steps for 0.01, yet the gradient of a steady 6-step fall gets 0.061 (it needs 8).

    Examples
    --------
    >>> [steady_trend_steps(0.01, statistic) for statistic in ("gradient", "correlation", "mutual-information")]
    [8, 6, 7]
    """
    from .statistics import KSG_NEIGHBOURS

    statistic = check_statistic(statistic)
    # The mutual information with k = steps - 1 hardly tells orders apart (an even ramp's tied distances are the
    # exception, not the rule): start where it can.
    first = KSG_NEIGHBOURS + 2 if statistic == MUTUAL_INFORMATION else MIN_STEPS
    for steps in range(first, ENUMERABLE_STEPS[statistic] + 1):
        ramp = np.linspace(0.0, 1.0, steps)[:, None]
        scores = statistic_scores(ramp[_every_order(steps)], statistic)[:, 0]
        observed = statistic_scores(ramp[None], statistic)[0, 0]
        if DEFAULT_ALTERNATIVE[statistic] == "two-sided":
            centre = scores.mean()
            extreme = np.abs(scores - centre) >= abs(observed - centre) - _TIE_RTOL
        else:
            extreme = scores >= observed - _TIE_RTOL
        if extreme.mean() <= alpha:
            return steps
    return None


def steady_trend_need(alpha: float, statistic: str = GRADIENT) -> tuple[int | None, int]:
    """(:func:`steady_trend_steps`, the most steps it checks): what a note on a short series advises
    (:data:`propgrad.checks.SteadyTrend`), "more than 8" where even those are not enough."""
    return steady_trend_steps(alpha, statistic), ENUMERABLE_STEPS[check_statistic(statistic)]


def step_correlation(outputs) -> float | np.ndarray:
    """Pearson correlation of each output with the step index (the authors' second statistic).

    NaN where an output is constant (the correlation is undefined there).
    """
    array = np.asarray(outputs)
    series = _as_series(outputs)
    if series.ndim == 3:
        raise ValueError("`outputs` for step_correlation must have shape (steps,) or (steps, k)")
    steps = np.arange(series.shape[0], dtype=np.float64)
    steps -= steps.mean()
    centred = series - series.mean(axis=0)
    norm = np.sqrt((centred**2).sum(axis=0)) * np.sqrt((steps**2).sum())
    varies = np.ptp(series, axis=0) > 0  # not norm > 0: a constant 0.7 leaves rounding residue
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = np.where(varies, steps @ centred / np.where(norm > 0, norm, 1.0), np.nan)
    return float(correlation[0]) if array.ndim == 1 else correlation


@dataclass(frozen=True)
class PredictionFlips:
    """Where the predicted class changes along the intervention.

    ``predicted[i]`` is the argmax class at step i (for a single output column: 1 where it is above
    0.5); ``flip_steps`` lists the steps i whose prediction differs from step i - 1, and ``margins`` how far
    the new prediction leads the one it replaced at each of those steps (a single column p: its two-column form's
    lead, 2 |p - threshold|). A flip won by 0.001 is a near tie, not the model changing its mind.
    """

    predicted: np.ndarray
    flip_steps: list[int] = field(default_factory=list)
    margins: list[float] = field(default_factory=list)

    @property
    def flipped(self) -> bool:
        return bool(self.flip_steps)

    @property
    def n_flips(self) -> int:
        return len(self.flip_steps)

    @property
    def changed_from_original(self) -> bool:
        """Whether the last step's prediction differs from step 0's."""
        return bool(self.predicted[-1] != self.predicted[0])

    def margin_at(self, step: int) -> float | None:
        """The new prediction's lead over the one it replaced at flip ``step`` (None where no flip was recorded)."""
        return dict(zip(self.flip_steps, self.margins)).get(step)

    def steps_involving(self, index: int, n_outputs: int, vector: bool = False) -> list[int]:
        """The flip steps that change to or from class ``index``, the flips a reading of that output names; a
        model with one output column has only its two sides, and the whole-output ``vector`` score every class, so
        every flip involves them.

        Examples
        --------
        >>> flips = prediction_flips(np.array([[0.6, 0.3, 0.1], [0.3, 0.6, 0.1], [0.2, 0.3, 0.5]]))
        >>> flips.flip_steps, flips.steps_involving(0, 3)
        ([1, 2], [1])
        """
        if n_outputs == 1 or vector:
            return list(self.flip_steps)
        return [step for step in self.flip_steps
                if int(self.predicted[step - 1]) == index or int(self.predicted[step]) == index]


def predicted_class_names(output_names: list[str]) -> list[str]:
    """The names of the classes :func:`prediction_flips` predicts: the outputs' own, or for a single raw column
    (0/1 by its 0.5 threshold, whose "class 0" has no name of its own) "below threshold" and its name."""
    return list(output_names) if len(output_names) > 1 else ["below threshold", output_names[0]]


def prediction_flips(probabilities, threshold: float = 0.5) -> PredictionFlips:
    """Argmax class per step and where it changes.

    Parameters
    ----------
    probabilities : array_like, shape (steps, k) or (steps,)
        Class probabilities (or any scores; the argmax is what counts). A single column is a binary
        task: class 1 where it is above ``threshold``, class 0 where it is at or below it.
    threshold : float
        The single column's decision threshold.

    Notes
    -----
    Ties go to the lower class: the argmax picks the first of equal columns, so [0.5, 0.5] is class 0,
    and a single column of exactly ``threshold`` is class 0 too. One column p therefore predicts what
    its two-column form [1 - p, p] does (how single-output classifiers are presented, see
    :mod:`propgrad.models.torch_model`): 1 - p >= p in floating point exactly when p <= 0.5.

    Examples
    --------
    >>> flips = prediction_flips([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7]])
    >>> flips.flip_steps, [round(m, 3) for m in flips.margins]
    ([2], [0.4])
    """
    series = _as_series(probabilities, "probabilities")
    if series.ndim == 3:
        raise ValueError("`probabilities` must have shape (steps,) or (steps, k)")
    if series.shape[1] == 1:
        predicted = (series[:, 0] > threshold).astype(int)
    else:
        predicted = series.argmax(axis=1)
    flip_steps = [int(step) for step in np.flatnonzero(predicted[1:] != predicted[:-1]) + 1]
    if series.shape[1] == 1:
        margins = [2 * abs(float(series[step, 0]) - threshold) for step in flip_steps]
    else:
        # The lead over the class it took the place of: a flip from a falling cat to a dog level with a fox is no
        # near tie between the two classes the flip names.
        margins = [float(series[step, predicted[step]] - series[step, predicted[step - 1]]) for step in flip_steps]
    return PredictionFlips(predicted=predicted, flip_steps=flip_steps, margins=margins)
