"""Toy models the tests share: outputs a reader can work out from the pixels."""
from __future__ import annotations

import numpy as np


class Redness:
    """p(red) = the image's mean red channel."""

    name, output_names, output_kind = "redness", ["not red", "red"], "probability"

    def predict(self, images):
        p = np.array([np.asarray(image, dtype=float)[..., 0].mean() / 255 for image in images])
        return np.stack([1 - p, p], axis=1)
