"""The authors' two other statistics, |Pearson r| with the step and a KSG mutual information, shaped for the
shuffle test in :mod:`propgrad.score` (numpy, plus scikit-learn for the mutual information).

Every function here takes series of shape (series, steps, k) or, for the null, a block of permuted series
of shape (block, steps, k), and returns one value per series (or permutation) and output column.

- ``"correlation"``: |r| between the step index and the output. Shuffling the steps is the same as
  shuffling the step index, so a block of permutations is one gather and one dot product with the
  centred step index (the norms do not change under a permutation). A constant output scores 0.
- ``"mutual-information"``: the Kraskov-Stoegbauer-Grassberger estimate (estimator 1, k = 3 neighbours,
  max-norm, in nats, negative estimates clipped to 0) that scikit-learn's ``mutual_info_regression``
  computes. The observed value is scikit-learn's own. scikit-learn estimates one pair of variables per
  call (a k-d tree each time, about half a millisecond), so 10,000 shuffles would cost seconds per output;
  the null instead uses :func:`ksg_block`, the same estimator written as array operations over a block of
  permutations (steps are few, so the (block, steps, steps) distance arrays are small), checked against
  scikit-learn in the tests. Its cost grows with steps squared and with the number of output columns.
"""
from __future__ import annotations

import numpy as np

# Neighbours of the KSG estimator: scikit-learn's default, and the authors' code uses scikit-learn's.
KSG_NEIGHBOURS = 3
# Bounds one block's (block, steps, steps) distance arrays to about 8 MB each.
_KSG_BLOCK_ELEMENTS = 1_000_000
# scikit-learn adds noise of this relative size to break ties (Kraskov et al. advise it).
_JITTER = 1e-10


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


def _neighbours(steps: int) -> int:
    # With very short series there are fewer than 3 other points; use them all.
    return min(KSG_NEIGHBOURS, steps - 1)


def _scaled(values: np.ndarray) -> np.ndarray:
    """scikit-learn's scaling: divide by the standard deviation (ddof 0) where it is not 0, no centring."""
    std = values.std(axis=0)
    return values / np.where(std > 0, std, 1.0)


def mutual_information_scores(series: np.ndarray, seed: int = 0) -> np.ndarray:
    """scikit-learn's KSG estimate of I(step; output) in nats: (series, steps, k) -> (series, k); 0 where constant."""
    try:
        from sklearn.feature_selection import mutual_info_regression
    except ImportError as error:  # in requirements.txt and the core dependencies
        raise ImportError("statistic='mutual-information' uses scikit-learn's KSG estimator: "
                          "`pip install scikit-learn`") from error
    n_series, steps, k = series.shape
    index = np.arange(steps, dtype=np.float64)[:, None]
    scores = np.zeros((n_series, k))
    for s in range(n_series):
        for column in range(k):
            y = series[s, :, column]
            if np.ptp(y) > 0:
                scores[s, column] = mutual_info_regression(index, y, n_neighbors=_neighbours(steps),
                                                           random_state=seed)[0]
    return scores


def prepare_ksg(one: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The scaled, tie-broken step index (steps,) and outputs (steps, k) that :func:`ksg_block` permutes.

    Scaling and noise are scikit-learn's ``mutual_info_regression``'s with ``random_state=seed``, drawn
    in its order (the index's noise, then the output's), once per column as it does per call. The noise
    matters: the step index is an even grid, so neighbour distances along it tie exactly and the noise
    decides them; with the same noise the unshuffled value equals scikit-learn's. A permutation then
    reorders the values; it does not change their scale or noise.
    """
    steps, k = one.shape
    index = np.arange(steps, dtype=np.float64)
    index = index / index.std()
    scaled = _scaled(one)
    outputs = np.empty_like(scaled)
    for column in range(k):
        state = np.random.RandomState(seed)
        index_noise = state.standard_normal(size=(steps, 1))[:, 0]
        y = scaled[:, column]
        outputs[:, column] = y + _JITTER * max(1.0, np.abs(y).mean()) * state.standard_normal(size=steps)
    # The index's noise is the same for every column (the same seed draws it first).
    return index + _JITTER * max(1.0, np.abs(index).mean()) * index_noise, outputs


def ksg_block(index: np.ndarray, outputs: np.ndarray, orders: np.ndarray, constant: np.ndarray) -> np.ndarray:
    """KSG estimator 1 of I(index; outputs[order]) for each order: orders (block, steps) -> (block, k).

    The same arithmetic as scikit-learn's ``_compute_mi_cc``: the distance to the k-th neighbour in the
    joint max-norm space, nudged just below (``np.nextafter``), then the neighbours within it counted
    along each axis. ``constant`` (k,) marks columns that score 0 whatever the order.
    """
    block, steps = orders.shape
    neighbours = _neighbours(steps)
    from scipy.special import digamma

    base = digamma(steps) + digamma(neighbours)
    dx = np.abs(index[:, None] - index[None, :])  # (steps, steps), the same for every order
    result = np.zeros((block, outputs.shape[1]))
    chunk = max(1, _KSG_BLOCK_ELEMENTS // (steps * steps))
    for column in np.flatnonzero(~constant):
        for start in range(0, block, chunk):
            y = outputs[orders[start:start + chunk], column]  # (chunk, steps)
            dy = np.abs(y[:, :, None] - y[:, None, :])
            joint = np.maximum(dx, dy)
            # Position 0 of each sorted row is the point itself (distance 0); position k is its k-th neighbour.
            radius = np.nextafter(np.partition(joint, neighbours, axis=-1)[..., neighbours], 0)[..., None]
            nx = (dx <= radius).sum(axis=-1)
            ny = (dy <= radius).sum(axis=-1)
            mi = base - digamma(nx).mean(axis=-1) - digamma(ny).mean(axis=-1)
            result[start:start + chunk, column] = np.maximum(mi, 0.0)
    return result
