"""The authors' two other statistics, |Pearson r| with the step and a KSG mutual information, shaped for the
shuffle test in :mod:`propgrad.score` (numpy; scipy.special for the KSG's digamma); and the p-value adjustments
for a table of tests (:func:`adjust_pvalues`, numpy alone) and the binomial distribution's CDF
(:func:`binomial_cdf`, for the chance a shuffle test's estimate passes alpha).

Every statistic here takes series of shape (series, steps, k) or, for the null, a block of permuted series
of shape (block, steps, k), and returns one value per series (or permutation) and output column.

- ``"correlation"``: |r| between the step index and the output. Shuffling the steps is the same as
  shuffling the step index, so a block of permutations is one gather and one dot product with the
  centred step index (the norms do not change under a permutation). A constant output scores 0.
- ``"mutual-information"``: the Kraskov-Stoegbauer-Grassberger estimate of I(step; output) in nats
  (Kraskov et al. 2004, algorithm 1, max-norm, k = 5 neighbours, both variables standardised, negative
  estimates clipped to 0), as the method authors compute it (``KSGEnsembleFirstEstimator(neighborhoods=(5,))``
  of the ``benchmark-mi`` package, called from their ``zollstock.py``). That package needs numpy < 2 and
  jax < 0.5, so the estimator is written here, as array operations over a block of permutations (steps are
  few, so the (block, steps, steps) distance arrays are small); the tests compare it with values their code
  gives. Ties are exact ties: the step index is an even grid, so many neighbour distances are equal in exact
  arithmetic, and which of them rounding makes smaller would otherwise decide the estimate (a 10-step ramp
  gives 0.61 or 0.75 depending on how the standardised values round); distances within ``_TIE_ATOL`` of the
  k-th neighbour's count as equal to it. No noise is added (scikit-learn adds tie-breaking noise from a
  seed, which made the value move with the run's seed), so the value depends on the curve alone. With
  fewer than 6 steps k is steps - 1. The authors' p-value omits the +1 and so gives p = 0 for a constant
  curve; here a constant curve scores 0 with p = 1.
"""
from __future__ import annotations

import math

import numpy as np

from .errors import not_one_of

# The multiple-testing adjustments a comparison or a screen offers (the first is the default).
ADJUSTMENTS = {"bh": "Benjamini-Hochberg (false discovery rate)", "holm": "Holm (family-wise error rate)"}
# Said beside every adjusted p a person reads: a class asked why screening more properties made "lighten" significant.
ADJUSTED_DEPENDS = ("an adjusted p depends on the table it is adjusted over: more rows raise the bar, and under "
                    "Benjamini-Hochberg more strong rows lower it, so the same row can pass in one table and not in "
                    "another")

# Neighbours of the KSG estimator, as in the authors' code (benchmark-mi's neighborhoods=(5,)).
KSG_NEIGHBOURS = 5
# Bounds one block's (block, steps, steps) distance arrays to about 8 MB each.
_KSG_BLOCK_ELEMENTS = 1_000_000
# Standardised distances closer than this to the k-th neighbour's are ties (see the module docstring).
_TIE_ATOL = 1e-9


def _step_index(steps: int) -> np.ndarray:
    index = np.arange(steps, dtype=np.float64)
    return index - index.mean()


def correlation_scores(series: np.ndarray) -> np.ndarray:
    """|Pearson r| of each output with the step index: (series, steps, k) -> (series, k); 0 where constant."""
    steps = series.shape[-2]
    centred = series - series.mean(axis=-2, keepdims=True)
    index = _step_index(steps)
    norm = np.sqrt((centred**2).sum(axis=-2)) * np.sqrt((index**2).sum())
    varies = np.ptp(series, axis=-2) > 0  # not norm > 0: a constant 0.7 leaves rounding residue
    covariance = np.einsum("...sk,s->...k", centred, index)
    return np.where(varies, np.abs(covariance) / np.where(varies, norm, 1.0), 0.0)


def correlation_block(one: np.ndarray, orders: np.ndarray) -> np.ndarray:
    """|r| of one series (steps, k) under each order of ``orders`` (block, steps) -> (block, k)."""
    centred = one - one.mean(axis=0)
    index = _step_index(one.shape[0])
    norm = np.sqrt((centred**2).sum(axis=0)) * np.sqrt((index**2).sum())
    varies = np.ptp(one, axis=0) > 0
    # sum_i t_i y_{o(i)}: gather the permuted outputs, one dot product with the centred step index.
    covariance = np.einsum("bsk,s->bk", np.take(centred, orders, axis=0), index)
    return np.where(varies, np.abs(covariance) / np.where(varies, norm, 1.0), 0.0)


def ksg_neighbours(steps: int) -> int:
    """k of the KSG estimator for a series of ``steps`` values: 5, or steps - 1 when there are fewer than 6."""
    return min(KSG_NEIGHBOURS, steps - 1)


def _standardised(values: np.ndarray) -> np.ndarray:
    """(values - mean) / std per column (ddof 0), as the authors' estimator does; a constant column stays 0."""
    std = values.std(axis=0)
    return (values - values.mean(axis=0)) / np.where(std > 0, std, 1.0)


def mutual_information_scores(series: np.ndarray) -> np.ndarray:
    """The KSG estimate of I(step; output) in nats: (series, steps, k) -> (series, k); 0 where constant."""
    n_series, steps, _ = series.shape
    identity = np.arange(steps)[None, :]
    return np.concatenate([ksg_block(one, identity) for one in series])


def ksg_block(one: np.ndarray, orders: np.ndarray) -> np.ndarray:
    """KSG estimator 1 of I(step; one[order]) for each order: one (steps, k), orders (block, steps) -> (block, k).

    Per point i: the max-norm distance eps_i to its k-th neighbour in the joint (step, output) space, then
    n_x(i) and n_y(i), the other points strictly closer than eps_i along each axis;
    I = psi(k) + psi(N) - mean_i [psi(n_x(i) + 1) + psi(n_y(i) + 1)], clipped at 0. A permutation reorders
    the outputs against the fixed step index; standardising does not change under it.
    """
    from scipy.special import digamma

    block, steps = orders.shape
    neighbours = ksg_neighbours(steps)
    base = digamma(steps) + digamma(neighbours)
    index = _standardised(np.arange(steps, dtype=np.float64)[:, None])[:, 0]
    dx = np.abs(index[:, None] - index[None, :])  # (steps, steps), the same for every order
    outputs = _standardised(one)
    constant = np.ptp(one, axis=0) == 0
    result = np.zeros((block, one.shape[1]))
    chunk = max(1, _KSG_BLOCK_ELEMENTS // (steps * steps))
    for column in np.flatnonzero(~constant):
        for start in range(0, block, chunk):
            y = outputs[orders[start:start + chunk], column]  # (chunk, steps)
            dy = np.abs(y[:, :, None] - y[:, None, :])
            joint = np.maximum(dx, dy)
            # Position 0 of each sorted row is the point itself (distance 0); position k is its k-th neighbour.
            radius = np.partition(joint, neighbours, axis=-1)[..., neighbours][..., None] - _TIE_ATOL
            nx = (dx < radius).sum(axis=-1)  # the point itself is counted: that is the +1 of psi(n + 1)
            ny = (dy < radius).sum(axis=-1)
            mi = base - digamma(nx).mean(axis=-1) - digamma(ny).mean(axis=-1)
            result[start:start + chunk, column] = np.maximum(mi, 0.0)
    return result


# Benjamini-Hochberg is scipy.stats' false_discovery_control, step for step (the tests compare them on random tables
# with ties): every comparison needs it, and importing scipy.stats for it held 49 MB of the server's memory (issue
# 23's target is 1.2 GB; :mod:`propgrad.gradualness` ranks without it too).
def adjust_pvalues(pvalues, method: str = "bh") -> np.ndarray:
    """p-values adjusted for multiple testing: "bh" (Benjamini-Hochberg, the false discovery rate; the same
    numbers as ``scipy.stats.false_discovery_control``) or "holm" (Holm, the family-wise error rate).

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03], "holm").round(3).tolist()
    [0.03, 0.06, 0.06]
    >>> adjust_pvalues([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    if method not in ADJUSTMENTS:
        raise not_one_of("adjustment", method, ADJUSTMENTS)
    p = np.asarray(pvalues, dtype=np.float64)
    if p.ndim != 1 or not np.all((p >= 0) & (p <= 1)):
        raise ValueError("p-values must be one row of numbers between 0 and 1")
    if p.size <= 1:
        return p.copy()
    if method == "bh":
        # The i-th smallest p (1-based) times m / i, then each the smallest of itself and those above it.
        order = np.argsort(p)
        scaled = p[order] * (p.size / np.arange(1, p.size + 1, dtype=np.float64))
        np.minimum.accumulate(scaled[::-1], out=scaled[::-1])
    else:
        # Holm's step-down: the i-th smallest p (0-based) times (m - i), made monotone.
        order = np.argsort(p, kind="stable")
        scaled = np.maximum.accumulate(p[order] * (p.size - np.arange(p.size)))
    adjusted = np.empty_like(p)
    adjusted[order] = scaled
    return np.clip(adjusted, 0.0, 1.0)


# Like the adjustments, without scipy.stats (49 MB in the server): a short series' note asks it at run time.
def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= ``k``) for X binomial with ``n`` trials of probability ``p``: the sum of the probabilities, each
    from log-gamma (the tests compare it with ``scipy.stats.binom.cdf``). ``k`` is small here (at most alpha times
    the permutations), so the sum is short.

    Examples
    --------
    >>> round(binomial_cdf(99, 10_000, 0.011), 2)
    0.16
    """
    if k < 0:
        return 0.0
    if k >= n or p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    log_p, log_q, log_n = math.log(p), math.log1p(-p), math.lgamma(n + 1)
    total = math.fsum(math.exp(log_n - math.lgamma(x + 1) - math.lgamma(n - x + 1) + x * log_p + (n - x) * log_q)
                      for x in range(k + 1))
    return min(1.0, total)

