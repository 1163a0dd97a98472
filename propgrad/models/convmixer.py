"""ConvMixer (Trockman & Kolter, "Patches Are All You Need?"): timm's network, with the authors' checkpoints.

The method's authors (PropGrad/Interventional-XAI) ship cats-vs-dogs ConvMixers as
``{"paras": {...}, "state_dict": {...}}``, written from one ``nn.Sequential`` (keys ``0.weight``,
``3.0.fn.0.weight``, ..., ``13.weight``). timm's ``ConvMixer`` is the same network, layer for layer, under
named parts (``stem``, ``blocks``, ``head``): :func:`timm_state_dict` renames the keys, and the weights then
load with ``strict=True``, so a missing or extra tensor is still an error.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from .torch_model import AUTO, ResizeNormalize, TorchClassifier, check_class_names

INPUT_SIZE = (128, 128)
MEAN = (0.5, 0.5, 0.5)
STD = (0.5, 0.5, 0.5)
CLASS_NAMES = ("cat", "dog")
PARAMETERS = ("dim", "depth", "kernel_size", "patch_size", "n_classes")


def conv_mixer(
    dim: int, depth: int, kernel_size: int = 9, patch_size: int = 7, n_classes: int = 1000, in_channels: int = 3
) -> nn.Module:
    """The ConvMixer network, timm's (random weights), from the authors' ``paras``.

    Examples
    --------
    >>> network = conv_mixer(dim=8, depth=1, kernel_size=3, patch_size=4, n_classes=2).eval()
    >>> tuple(network(torch.zeros(1, 3, 32, 32)).shape)
    (1, 2)
    """
    from timm.models.convmixer import ConvMixer  # timm imports all its models: only when a ConvMixer is built

    return ConvMixer(dim, depth, kernel_size=kernel_size, patch_size=patch_size, in_chans=in_channels,
                     num_classes=n_classes, act_layer=nn.GELU)


_AUTHORS_KEY = re.compile(r"(\d+)\.(.+)")


def timm_state_dict(state_dict: Mapping, depth: int) -> dict:
    """The authors' ``state_dict`` under timm's key names.

    Their ``nn.Sequential`` counts the patch embedding (0 convolution, 1 GELU, 2 batch norm), then one entry per
    block (3 to depth + 2), the pooling, the flattening and the linear head (depth + 5); timm groups the same
    layers as ``stem.0``/``stem.2``, ``blocks.<i>`` and ``head``. A key that fits none of them is kept as it
    is, so that the strict load names it.
    """
    renamed = {}
    for key, value in state_dict.items():
        match = _AUTHORS_KEY.fullmatch(key)
        index, rest = (int(match[1]), match[2]) if match else (None, "")
        if index in (0, 2):
            key = f"stem.{index}.{rest}"
        elif index is not None and 3 <= index < 3 + depth:
            key = f"blocks.{index - 3}.{rest}"
        elif index == depth + 5:
            key = f"head.{rest}"
        renamed[key] = value
    return renamed


def load_authors_weights(network: nn.Module, state_dict: Mapping, depth: int) -> nn.Module:
    """Load the authors' ``state_dict`` into :func:`conv_mixer`'s network, strictly."""
    network.load_state_dict(timm_state_dict(state_dict, depth), strict=True)
    return network


def is_convmixer_checkpoint(checkpoint) -> bool:
    """Whether a loaded object has the authors' checkpoint layout (``paras`` + ``state_dict``)."""
    return isinstance(checkpoint, Mapping) and isinstance(checkpoint.get("paras"), Mapping) and isinstance(
        checkpoint.get("state_dict"), Mapping
    )


def convmixer_from_checkpoint(checkpoint: Mapping, source: str = "checkpoint") -> nn.Sequential:
    """Build the network from ``paras`` and load ``state_dict`` strictly; errors name ``source``."""
    if not is_convmixer_checkpoint(checkpoint):
        raise ValueError(f"{source} is not a ConvMixer checkpoint: expected a dict with 'paras' and 'state_dict'")
    paras = dict(checkpoint["paras"])
    missing = [key for key in PARAMETERS if key not in paras]
    if missing:
        raise ValueError(f"{source}: 'paras' lacks {missing}; a ConvMixer checkpoint needs {list(PARAMETERS)}")
    try:
        arguments = {key: int(paras[key]) for key in (*PARAMETERS, "in_channels") if key in paras}
        network = load_authors_weights(conv_mixer(**arguments), checkpoint["state_dict"], arguments["depth"])
    except (RuntimeError, TypeError, ValueError) as error:
        raise ValueError(f"{source}: the weights do not fit a ConvMixer with paras {paras}: {error}") from error
    if arguments.get("in_channels", 3) != 3:
        raise ValueError(f"{source}: the ConvMixer takes {arguments['in_channels']} input channels; only RGB (3) is supported")
    return network.eval()


class ConvMixerClassifier(TorchClassifier):
    """A ConvMixer network with the authors' preprocessing: 128 x 128, mean 0.5, std 0.5, softmax."""

    def __init__(
        self,
        network: nn.Module,
        *,
        name: str,
        class_names=None,
        input_size=INPUT_SIZE,
        mean=MEAN,
        std=STD,
        apply_softmax: bool | str = AUTO,
        batch_size: int = 16,
        device: str | torch.device | None = None,
    ):
        n_classes = network.get_classifier().out_features
        if class_names is None and n_classes == len(CLASS_NAMES):
            class_names = CLASS_NAMES
        super().__init__(
            name=name,
            output_names=check_class_names(class_names, n_classes, f"the ConvMixer {name!r}", apply_softmax),
            load=lambda device: network.eval().to(device),
            transform=ResizeNormalize(input_size, mean, std),
            apply_softmax=apply_softmax,
            batch_size=batch_size,
            device=device,
        )


def load_convmixer(
    path: str | os.PathLike,
    *,
    class_names=None,
    name: str | None = None,
    device: str | torch.device | None = None,
    batch_size: int = 16,
) -> ConvMixerClassifier:
    """Load one of the authors' ConvMixer checkpoints (``paras`` + ``state_dict``) as a Model.

    Loaded with ``torch.load(weights_only=True)``: nothing in the file can run code. Two-class
    checkpoints are named ["cat", "dog"] (the authors' class order) unless ``class_names`` says otherwise.

    Examples
    --------
    >>> model = load_convmixer("convmixer_unbiased.pth")  # doctest: +SKIP
    >>> model.output_names  # doctest: +SKIP
    ['cat', 'dog']
    """
    from .safe_load import read_checkpoint  # the one place that opens pickled files safely

    path = Path(path)
    checkpoint = read_checkpoint(path)
    if not is_convmixer_checkpoint(checkpoint):
        raise ValueError(f"{path.name!r} is not a ConvMixer checkpoint: expected a dict with 'paras' and 'state_dict'")
    network = convmixer_from_checkpoint(checkpoint, repr(path.name))
    return ConvMixerClassifier(
        network, name=name or path.name, class_names=class_names, device=device, batch_size=batch_size
    )
