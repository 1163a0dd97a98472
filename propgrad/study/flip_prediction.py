"""Predicting prediction flips from one number per series (the paper's Table 2 protocol).

A feature (E[|grad_X F|], or a saliency map's change) predicts "flips" when it lies beyond a
threshold; both the threshold and its direction are fitted to maximise accuracy. Held-out accuracy
fits on a random half and measures on the other, over several random halves. Used by study reports
and by ``bench/flip_prediction.py``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Fewer flipping (or non-flipping) series than this: no accuracy is reported. With 2 of each, a random half often
# held one outcome only, and the threshold fitted to it predicted the other half wrong: a 4-image study reported a
# held-out accuracy of 0.15 against a majority rate of 0.5, which read as a finding.
MIN_PER_CLASS = 4


def best_threshold(feature: np.ndarray, label: np.ndarray) -> tuple[float, int, float]:
    """Threshold t and direction d maximising the accuracy of "flip iff d * (feature - t) > 0", and that accuracy.

    Both directions are allowed, so a method whose map changes *less* when the prediction flips is
    not penalised for the sign.

    Examples
    --------
    >>> best_threshold(np.array([0.1, 0.2, 0.8, 0.9]), np.array([0, 0, 1, 1]))
    (0.5, 1, 1.0)
    """
    feature, label = np.asarray(feature, dtype=float), np.asarray(label)
    values = np.unique(feature)
    candidates = np.concatenate([[values[0] - 1.0], (values[:-1] + values[1:]) / 2, [values[-1] + 1.0]])
    above = feature[None, :] > candidates[:, None]
    truth = label[None, :].astype(bool)
    accuracy = np.stack([(above == truth).mean(axis=1), (~above == truth).mean(axis=1)])  # (direction, t)
    direction, best = np.unravel_index(int(np.argmax(accuracy)), accuracy.shape)
    return float(candidates[best]), 1 if direction == 0 else -1, float(accuracy[direction, best])


def predict_flip(feature: np.ndarray, threshold: float, direction: int) -> np.ndarray:
    above = np.asarray(feature) > threshold
    return above if direction == 1 else ~above


def roc_auc(feature: np.ndarray, label: np.ndarray) -> float:
    """Probability that a flipping series scores above a non-flipping one (ties count half)."""
    feature, label = np.asarray(feature, dtype=float), np.asarray(label)
    positive, negative = feature[label == 1], feature[label == 0]
    if not len(positive) or not len(negative):
        return float("nan")
    greater = (positive[:, None] > negative[None, :]).mean()
    ties = (positive[:, None] == negative[None, :]).mean()
    return float(greater + 0.5 * ties)


def resampled_accuracy(feature: np.ndarray, label: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """Accuracy on a held-out random half with the threshold fitted on the other half, per resample."""
    feature, label = np.asarray(feature, dtype=float), np.asarray(label)
    rng = np.random.default_rng(seed)
    accuracies = []
    for _ in range(resamples):
        order = rng.permutation(len(feature))
        fit, test = order[: len(order) // 2], order[len(order) // 2 :]
        threshold, direction, _ = best_threshold(feature[fit], label[fit])
        accuracies.append((predict_flip(feature[test], threshold, direction) == label[test].astype(bool)).mean())
    return np.array(accuracies)


@dataclass(frozen=True)
class FlipPrediction:
    """How well one feature predicts flips: held-out accuracy (mean, std), in-sample accuracy, ROC AUC."""

    held_out_mean: float
    held_out_std: float
    in_sample: float
    auc: float
    majority: float  # the accuracy of always guessing the commoner outcome, for comparison
    n: int


def flip_prediction(feature, label, resamples: int = 10, seed: int = 0) -> FlipPrediction | None:
    """The Table 2 figures for ``feature`` against the 0/1 ``label``; None when one outcome is too rare.

    Examples
    --------
    >>> flip_prediction([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9], [0, 0, 0, 0, 1, 1, 1, 1]).in_sample
    1.0
    """
    feature, label = np.asarray(feature, dtype=float), np.asarray(label, dtype=int)
    if min(label.sum(), len(label) - label.sum()) < MIN_PER_CLASS:
        return None
    held_out = resampled_accuracy(feature, label, resamples, seed)
    share = label.mean()
    return FlipPrediction(float(held_out.mean()), float(held_out.std()), best_threshold(feature, label)[2],
                          roc_auc(feature, label), float(max(share, 1 - share)), len(label))
