"""PIL images -> a normalised float tensor batch, the way torchvision's classic transforms do it.

Every image is resized on its own (PIL resampling, which antialiases like torchvision's ``Resize`` on
PIL input), so a batch is exactly the stack of its one-image batches: predictions never depend on
how images were grouped.

The steps are torchvision's own for PIL input (``transforms.v2.functional``: ``resize``, ``center_crop``,
``pil_to_tensor``, ``to_dtype(scale=True)``, ``normalize``), written out here so that the app does not import
torchvision, which brings sympy and triton and held about 170 MB of the server's memory (issue 23); a test checks
that the tensors are bit for bit torchvision's.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def check_size(size, name: str = "input_size") -> tuple[int, int]:
    """``size`` as a (height, width) pair of positive ints; an int means a square.

    Examples
    --------
    >>> check_size(128)
    (128, 128)
    """
    if isinstance(size, bool):
        raise TypeError(f"`{name}` must be an int or a (height, width) pair of ints, got {size!r}")
    if isinstance(size, int):
        size = (size, size)
    if not isinstance(size, Sequence) or isinstance(size, str) or len(size) != 2:
        raise TypeError(f"`{name}` must be an int or a (height, width) pair of ints, got {size!r}")
    if not all(isinstance(side, int) and not isinstance(side, bool) for side in size):
        raise TypeError(f"`{name}` must hold ints, got {size!r}")
    if min(size) < 1:
        raise ValueError(f"`{name}` must be positive, got {tuple(size)}")
    return int(size[0]), int(size[1])


def check_mean_std(mean, std) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Validate per-channel normalisation constants: three numbers each, every ``std`` above zero.

    Examples
    --------
    >>> check_mean_std((0.5, 0.5, 0.5), [0.5, 0.5, 0.5])
    ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    """
    checked = []
    for label, values in (("mean", mean), ("std", std)):
        try:
            numbers = tuple(float(value) for value in values)
        except (TypeError, ValueError):
            raise TypeError(f"`{label}` must be three numbers (one per RGB channel), got {values!r}") from None
        if len(numbers) != 3:
            raise ValueError(f"`{label}` must have 3 values (one per RGB channel), got {len(numbers)}")
        if not all(number == number and abs(number) != float("inf") for number in numbers):
            raise ValueError(f"`{label}` must be finite, got {numbers}")
        checked.append(numbers)
    if min(checked[1]) <= 0:
        raise ValueError(f"`std` must be positive in every channel, got {checked[1]}")
    return checked[0], checked[1]


def _check_images(images) -> list[Image.Image]:
    if isinstance(images, Image.Image):
        raise TypeError("`images` must be a list of PIL images; wrap a single image in a list")
    images = list(images)
    for index, image in enumerate(images):
        if not isinstance(image, Image.Image):
            raise TypeError(f"`images[{index}]` must be a PIL image, got {type(image).__name__}")
    return images


def _resize(image: Image.Image, size: int | tuple[int, int]) -> Image.Image:
    """torchvision's ``resize(image, size, BILINEAR)`` of a PIL image: an int is the short side (the long side
    scaled and truncated), a pair is (height, width); an image of that size already is returned as it is."""
    height, width = image.height, image.width
    if isinstance(size, int):
        short, long = (width, height) if width <= height else (height, width)
        new_short, new_long = size, int(size * long / short)
        new_width, new_height = (new_short, new_long) if width <= height else (new_long, new_short)
    else:
        new_height, new_width = size
    if (new_height, new_width) == (height, width):
        return image
    return image.resize((new_width, new_height), resample=Image.BILINEAR)


def _center_crop(image: Image.Image, crop: int) -> Image.Image:
    """torchvision's ``center_crop`` of a PIL image at least ``crop`` pixels on each side."""
    top = int(round((image.height - crop) / 2.0))
    left = int(round((image.width - crop) / 2.0))
    return image.crop((left, top, left + crop, top + crop))


def _normalised(pils: list[Image.Image], mean, std) -> torch.Tensor:
    if not pils:
        return torch.empty(0, 3, 0, 0)
    # pil_to_tensor, then to_dtype(float32, scale=True): the same operations, in the same order, as torchvision.
    tensors = [torch.as_tensor(np.array(pil, copy=True)).view(pil.size[1], pil.size[0], 3).permute((2, 0, 1))
               .to(torch.float32).mul_(1.0 / 255) for pil in pils]
    batch = torch.stack(tensors)
    mean = torch.as_tensor(list(mean), dtype=batch.dtype).view(-1, 1, 1)
    std = torch.as_tensor(list(std), dtype=batch.dtype).view(-1, 1, 1)
    return batch.sub(mean).div_(std)


@dataclass(frozen=True)
class ResizeNormalize:
    """``Resize((h, w))`` + ``ToTensor`` + ``Normalize(mean, std)``: squash to a fixed size.

    Examples
    --------
    >>> from PIL import Image
    >>> batch = ResizeNormalize((128, 128), (0.5,) * 3, (0.5,) * 3)([Image.new("RGB", (300, 200))])
    >>> tuple(batch.shape)
    (1, 3, 128, 128)
    """

    size: tuple[int, int]
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    def __post_init__(self):
        object.__setattr__(self, "size", check_size(self.size, "size"))
        mean, std = check_mean_std(self.mean, self.std)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)

    def __call__(self, images: list[Image.Image]) -> torch.Tensor:
        """A float32 tensor of shape (len(images), 3, h, w)."""
        pils = [_resize(image.convert("RGB"), self.size) for image in _check_images(images)]
        return _normalised(pils, self.mean, self.std)


@dataclass(frozen=True)
class ResizeCropNormalize:
    """Resize the short side to ``resize``, centre-crop ``crop`` x ``crop``, then normalise.

    The EfficientNet-Lite evaluation transform: short side 256, crop 224, mean 0.5, std 0.5.

    Examples
    --------
    >>> from PIL import Image
    >>> batch = ResizeCropNormalize(256, 224, (0.5,) * 3, (0.5,) * 3)([Image.new("RGB", (451, 300))])
    >>> tuple(batch.shape)
    (1, 3, 224, 224)
    """

    resize: int
    crop: int
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    def __post_init__(self):
        for label in ("resize", "crop"):
            value = getattr(self, label)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{label}` must be a positive int, got {value!r}")
        if self.crop > self.resize:
            raise ValueError(f"`crop` ({self.crop}) must not exceed `resize` ({self.resize})")
        mean, std = check_mean_std(self.mean, self.std)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)

    @property
    def size(self) -> tuple[int, int]:
        return self.crop, self.crop

    def __call__(self, images: list[Image.Image]) -> torch.Tensor:
        """A float32 tensor of shape (len(images), 3, crop, crop)."""
        pils = []
        for image in _check_images(images):
            pils.append(_center_crop(_resize(image.convert("RGB"), self.resize), self.crop))
        return _normalised(pils, self.mean, self.std)
