"""Blend a patch into the image with opacity rising linearly from 0 to 1."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..checks import check_steps
from ..images import load_rgba
from .base import InterventionSeries, ProgressFn, no_progress, without_float_noise


def place_patch(image: Image.Image, patch: Image.Image, position: tuple[float, float], scale: float) -> tuple[Image.Image, tuple[int, int]]:
    """Resize ``patch`` to ``scale`` x the image's short side and return it with its top-left corner.

    ``position`` is the patch centre as fractions of the image's width and height; the patch is kept
    inside the image.
    """
    side = max(2, round(scale * min(image.size)))
    ratio = side / max(patch.size)
    size = (max(1, round(patch.width * ratio)), max(1, round(patch.height * ratio)))
    resized = patch.resize(size, Image.Resampling.LANCZOS)
    left = round(position[0] * image.width - size[0] / 2)
    top = round(position[1] * image.height - size[1] / 2)
    left = min(max(left, 0), max(image.width - size[0], 0))
    top = min(max(top, 0), max(image.height - size[1], 0))
    return resized, (left, top)


# A patch changes a small part of the image, fully: its mean change over the image says nothing of how visible it is.
PATCH_PROPERTY = "patch opacity"


def blend_patch(image: Image.Image, patch: Image.Image, corner: tuple[int, int], opacity: float) -> Image.Image:
    """``image`` with ``patch`` (RGBA, already sized) pasted at ``corner`` with its alpha x ``opacity``."""
    base = np.asarray(image, dtype=np.float32).copy()
    rgba = np.asarray(patch, dtype=np.float32)
    left, top = corner
    height = min(rgba.shape[0], base.shape[0] - top)
    width = min(rgba.shape[1], base.shape[1] - left)
    alpha = rgba[:height, :width, 3:4] / 255.0 * opacity
    region = base[top : top + height, left : left + width]
    base[top : top + height, left : left + width] = region * (1 - alpha) + rgba[:height, :width, :3] * alpha
    return Image.fromarray(np.clip(base + 0.5, 0, 255).astype(np.uint8))


@dataclass(frozen=True)
class PatchBlend:
    """Paste each patch at ``position`` with ``scale``, opacity linspace(0, 1, steps): one series per patch.

    Parameters
    ----------
    patches : list of images
        RGBA patches (alpha = mask) or opaque images; a single image is accepted too.
    position : (x, y)
        Patch centre as fractions of the image's width and height.
    scale : float
        Patch size as a fraction of the image's shorter side, in (0, 1].
    steps : int
        Number of steps, opacity 0 (the original) to 1.
    """

    patches: Sequence
    position: tuple[float, float] = (0.5, 0.5)
    scale: float = 0.3
    steps: int = 10
    labels: Sequence[str] | None = None

    def __post_init__(self):
        patches = [self.patches] if not isinstance(self.patches, (list, tuple)) else list(self.patches)
        if not patches:
            raise ValueError("`patches` is empty: give at least one patch image")
        object.__setattr__(self, "patches", [load_rgba(p, name=f"patch {i + 1}") for i, p in enumerate(patches)])
        check_steps(self.steps)
        if not 0 < self.scale <= 1:
            raise ValueError(f"`scale` must be in (0, 1] (a fraction of the image's short side), got {self.scale!r}")
        if len(self.position) != 2 or not all(0 <= v <= 1 for v in self.position):
            raise ValueError(f"`position` must be (x, y) fractions in [0, 1], got {self.position!r}")
        if self.labels is not None and len(self.labels) != len(self.patches):
            raise ValueError(f"`labels` has {len(self.labels)} entries for {len(self.patches)} patches")

    name = "patch blend"

    def series(self, image: Image.Image | None, progress: ProgressFn = no_progress) -> list[InterventionSeries]:
        if image is None:
            raise ValueError("patch blending needs an input image")
        opacities = without_float_noise(np.linspace(0.0, 1.0, self.steps))  # 0.3, not 0.30000000000000004
        result = []
        for number, patch in enumerate(self.patches):
            sized, corner = place_patch(image, patch, self.position, self.scale)
            images = [image.copy()] + [blend_patch(image, sized, corner, float(o)) for o in opacities[1:]]
            label = self.labels[number] if self.labels is not None else f"patch {number + 1}"
            result.append(InterventionSeries(images, opacities, PATCH_PROPERTY, label=label))
            progress((number + 1) / len(self.patches), f"blended {label}")
        return result
