"""ConvMixer (Trockman & Kolter, "Patches Are All You Need?"), laid out as the authors' checkpoints expect.

The method's authors (PropGrad/Interventional-XAI) ship cats-vs-dogs ConvMixers as
``{"paras": {...}, "state_dict": {...}}``; the module layout below reproduces their key names
(``0.weight``, ``3.0.fn.0.weight``, ..., ``13.weight``) so that checkpoints load with ``strict=True``.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from ..errors import in_words
from .torch_model import AUTO, ResizeNormalize, TorchClassifier, check_class_names

INPUT_SIZE = (128, 128)
MEAN = (0.5, 0.5, 0.5)
STD = (0.5, 0.5, 0.5)
CLASS_NAMES = ("cat", "dog")
PARAMETERS = ("dim", "depth", "kernel_size", "patch_size", "n_classes")


class Residual(nn.Module):
    """``fn(x) + x``; the attribute name ``fn`` is part of the checkpoint's key names."""

    def __init__(self, fn: nn.Module):
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x) + x


def conv_mixer(
    dim: int, depth: int, kernel_size: int = 9, patch_size: int = 7, n_classes: int = 1000, in_channels: int = 3
) -> nn.Sequential:
    """The ConvMixer network as one ``nn.Sequential`` (random weights).

    Examples
    --------
    >>> network = conv_mixer(dim=8, depth=1, kernel_size=3, patch_size=4, n_classes=2).eval()
    >>> tuple(network(torch.zeros(1, 3, 32, 32)).shape)
    (1, 2)
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, dim, kernel_size=patch_size, stride=patch_size),
        nn.GELU(),
        nn.BatchNorm2d(dim),
        *[
            nn.Sequential(
                Residual(nn.Sequential(
                    nn.Conv2d(dim, dim, kernel_size, groups=dim, padding="same"),
                    nn.GELU(),
                    nn.BatchNorm2d(dim),
                )),
                nn.Conv2d(dim, dim, kernel_size=1),
                nn.GELU(),
                nn.BatchNorm2d(dim),
            )
            for _ in range(depth)
        ],
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
        nn.Linear(dim, n_classes),
    )


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
        raise ValueError(f"{source}: 'paras' lacks {in_words(missing)}; a ConvMixer checkpoint needs "
                         f"{in_words(PARAMETERS)}")
    try:
        arguments = {key: int(paras[key]) for key in (*PARAMETERS, "in_channels") if key in paras}
        network = conv_mixer(**arguments)
        network.load_state_dict(checkpoint["state_dict"], strict=True)
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
        n_classes = network[-1].out_features
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
