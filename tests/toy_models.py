"""Toy models the tests share: outputs a reader can work out from the pixels."""
from __future__ import annotations

import numpy as np


class Redness:
    """p(red) = the image's mean red channel."""

    name, output_names, output_kind = "redness", ["not red", "red"], "probability"

    def predict(self, images):
        p = np.array([np.asarray(image, dtype=float)[..., 0].mean() / 255 for image in images])
        return np.stack([1 - p, p], axis=1)


class Drift:
    """An output that creeps up by a few millionths, step by step: a trend the shuffle test confirms, of no size."""

    name, output_names, output_kind = "drift", ["a", "b"], "probability"

    def predict(self, images):
        darkness = np.array([1 - np.asarray(image, dtype=float).mean() / 255 for image in images])
        p = 0.5 + 1e-5 * darkness
        return np.stack([p, 1 - p], axis=1)


class Flip:
    """An output that falls from 0.9 to 0.1 at the darkest step: a flip, the finding of the run."""

    name, output_names, output_kind = "flip", ["a", "b"], "probability"

    def predict(self, images):
        darkness = np.array([1 - np.asarray(image, dtype=float).mean() / 255 for image in images])
        p = np.where(darkness > darkness.max() - 1e-9, 0.1, 0.9)
        return np.stack([p, 1 - p], axis=1)



class Constant:
    """An output that never moves."""

    name, output_names, output_kind = "constant", ["a", "b"], "probability"

    def predict(self, images):
        return np.tile([0.7, 0.3], (len(images), 1))


class Erratic:
    """An output that jumps back and forth as the image darkens: it moves by 0.2, with no trend a shuffle test finds
    and no flip."""

    name, output_names, output_kind = "erratic", ["a", "b"], "probability"

    def predict(self, images):
        darkness = np.array([1 - np.asarray(image, dtype=float).mean() / 255 for image in images])
        step = np.round(darkness / max(darkness.max(), 1e-9) * 7).astype(int)
        p = 0.7 + 0.1 * np.array([1, -1, 1, 1, -1, -1, 1, -1])[step]
        return np.stack([p, 1 - p], axis=1)
