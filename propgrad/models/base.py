"""The one protocol every model follows: a list of images in, an output matrix out."""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image

# What a model's columns mean; the plots draw the 0.5 decision threshold only for probabilities.
PROBABILITY = "probability"
SIMILARITY = "similarity"


@runtime_checkable
class Model(Protocol):
    """A classifier (or anything scored like one, e.g. CLIP zero-shot).

    ``predict(images)`` returns an array of shape (len(images), len(output_names)); rows follow the
    order of ``images``; batching and the device are the model's own business.
    """

    name: str
    output_names: list[str]
    output_kind: str  # PROBABILITY or SIMILARITY

    def predict(self, images: list[Image.Image]) -> np.ndarray:
        ...
