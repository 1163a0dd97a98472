"""The method authors' three cats-vs-dogs ConvMixers, shipped as safetensors in ``assets/authors/``.

Penzel & Denzler trained one ConvMixer on an unbiased cats-vs-dogs split and two on biased splits (only
dark cats with light dogs, or only dark dogs with light cats): the paper's Table 1 shows the biased ones
reacting to fur colour. The checkpoints come from their repository PropGrad/Interventional-XAI (MIT,
``assets/authors/LICENSE``); ``assets/authors/convert.py`` turned them into safetensors files whose
metadata holds the architecture (``paras``) and the accuracies the checkpoints stored. One model card
per file sits beside it.

Preprocessing as the authors': resize to 128 x 128, scale to [0, 1], mean 0.5, std 0.5; outputs are
softmax probabilities of ["cat", "dog"].
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

from .. import paths
from ..errors import not_one_of

FOLDER = "authors"
CLASS_NAMES = ("cat", "dog")
# file stem -> (registered name, training split in words)
VARIANTS = {
    "convmixer_unbiased": ("ConvMixer cats vs dogs, unbiased (authors)",
                           "the unbiased split (cats and dogs of every fur colour)"),
    "convmixer_dark-cats-bias": ("ConvMixer cats vs dogs, dark-cats bias (authors)",
                                 "only dark-furred cats and light-furred dogs"),
    "convmixer_dark-dogs-bias": ("ConvMixer cats vs dogs, dark-dogs bias (authors)",
                                 "only dark-furred dogs and light-furred cats"),
}
MODEL_NAMES = tuple(name for name, _ in VARIANTS.values())


def authors_dir() -> Path:
    """``assets/authors`` (or ``$PROPGRAD_ASSETS/authors``), where the converted files live."""
    return paths.assets_dir() / FOLDER


def weights_path(stem: str, root: str | Path | None = None) -> Path:
    if stem not in VARIANTS:
        raise not_one_of("stem", stem, sorted(VARIANTS))
    return Path(root if root is not None else authors_dir()) / f"{stem}.safetensors"


def load_authors_model(stem: str, root: str | Path | None = None, *, device=None, batch_size: int = 16):
    """One of the authors' ConvMixers from its safetensors file, as a Model (softmax over cat, dog).

    Examples
    --------
    >>> model = load_authors_model("convmixer_dark-cats-bias")  # doctest: +SKIP
    >>> model.name, model.output_names  # doctest: +SKIP
    ('ConvMixer cats vs dogs, dark-cats bias (authors)', ['cat', 'dog'])
    """
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file

    from .convmixer import ConvMixerClassifier, conv_mixer

    path = weights_path(stem, root)
    if not path.is_file():
        raise ValueError(f"`stem`: no weights file at {str(path)!r}; run `python assets/authors/convert.py` with "
                         f"the authors' checkpoints")
    with safe_open(str(path), framework="pt") as handle:
        metadata = dict(handle.metadata() or {})
    paras = {key: int(value) for key, value in json.loads(metadata["paras"]).items()}
    network = conv_mixer(**paras)
    network.load_state_dict(load_file(str(path)), strict=True)
    # channels_last lets oneDNN run the 7x7 depthwise convolutions about 20 % faster on a CPU; the
    # outputs agree with the default layout to float rounding (tests compare with the .pth files).
    network = network.to(memory_format=torch.channels_last)
    # The checkpoints end in a plain linear layer: logits, so softmax (no probing needed).
    classifier = ConvMixerClassifier(network.eval(), name=VARIANTS[stem][0], class_names=CLASS_NAMES,
                                     apply_softmax=True, device=device, batch_size=batch_size)
    classifier.source = str(path.resolve())  # the report names the weights by their file and SHA-256
    return classifier


def register_authors_models(root: str | Path | None = None) -> list[str]:
    """Register the authors' ConvMixers whose files are present; returns the registered names.

    Loading happens when the registry asks for a model (:func:`propgrad.models.registry.get_model`).
    """
    from .registry import register_model

    names = []
    for stem, (name, split) in VARIANTS.items():
        if not weights_path(stem, root).is_file():
            continue
        register_model(
            name,
            functools.partial(load_authors_model, stem, root),
            description=f"The method authors' cats-vs-dogs ConvMixer (PropGrad/Interventional-XAI, MIT), trained "
                        f"on {split}; 128 px, mean/std 0.5.",
            licence="MIT (the authors' PropGrad/Interventional-XAI; assets/authors/LICENSE)",
        )
        names.append(name)
    return names
