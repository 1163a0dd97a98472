"""The one protocol every model follows: a list of images in, an output matrix out."""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image

from ..errors import not_one_of

# What a model's columns mean; the plots draw the 0.5 decision threshold only for probabilities.
PROBABILITY = "probability"
SIMILARITY = "similarity"

# softmax modes: "auto" leaves rows that already are probability vectors alone. A model's "auto" is
# settled on its first outputs into True (squash) or ALREADY_PROBABILITIES (leave them as they are).
AUTO = "auto"
ALREADY_PROBABILITIES = "already probabilities"
# What a user says their model returns (command line, app) -> the ``apply_softmax`` setting.
OUTPUTS_ARE = {"auto": AUTO, "logits": True, "probabilities": ALREADY_PROBABILITIES, "scores": False}


def softmax_for(outputs_are: str) -> bool | str:
    """The ``apply_softmax`` setting for what a model returns: 'auto', 'logits', 'probabilities' or 'scores'.

    Examples
    --------
    >>> softmax_for("logits")
    True
    """
    try:
        return OUTPUTS_ARE[str(outputs_are).strip().lower()]
    except KeyError:
        raise ValueError(
            f"{not_one_of('outputs are', outputs_are, OUTPUTS_ARE)} ('logits': softmax, or a sigmoid for a single "
            f"output; 'probabilities': used as they are; 'scores': raw, not squashed; 'auto': decided on probe images)"
        ) from None


@runtime_checkable
class Model(Protocol):
    """A classifier (or anything scored like one, e.g. CLIP zero-shot).

    ``predict(images)`` returns an array of shape (len(images), len(output_names)); rows follow the
    order of ``images``; batching and the device are the model's own business.

    Optional, read where present: ``description`` (what it is), ``caveat`` (what loading it had to guess) and
    ``domain_caveat(image)`` (a note where ``image`` is not a picture the model was made for, else None: the lesion
    models on a photo). :func:`propgrad.explain.explain` puts the last two among a run's notes.
    """

    name: str
    output_names: list[str]
    output_kind: str  # PROBABILITY or SIMILARITY

    def predict(self, images: list[Image.Image]) -> np.ndarray:
        ...
