"""The one protocol every intervention follows, and the series it produces."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image

# progress(fraction in [0, 1], message): the package reports, the app decides how to show it.
ProgressFn = Callable[[float, str], None]


def no_progress(fraction: float, message: str = "") -> None:
    """Default progress callback: ignore."""


@dataclass(frozen=True)
class InterventionSeries:
    """An ordered series of images in which one property changes step by step.

    ``images[0]`` is the unedited input; ``values[i]`` is the property value at step i (opacity,
    brightness factor, guidance scale, frame angle...), in the unit named by ``property_name``.
    ``mask`` is the region the edit was restricted to (float (H, W) in [0, 1], the same for every step;
    None for a whole-image edit) and ``notes`` what the caller should be told about it (a resized mask,
    a mask covering everything).
    """

    images: list[Image.Image]
    values: np.ndarray
    property_name: str
    label: str = ""
    mask: np.ndarray | None = field(default=None, repr=False, compare=False)
    notes: tuple[str, ...] = ()

    def __post_init__(self):
        if len(self.images) != len(self.values):
            raise ValueError(f"series has {len(self.images)} images but {len(self.values)} property values")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def coverage(self) -> float | None:
        """The share of the image inside the region the edit was restricted to; None for a whole-image edit."""
        return None if self.mask is None else float(np.mean(self.mask))

    def name(self, number: int) -> str:
        """The series' label, or "series 3" for the third of a run's series where it has none."""
        return self.label or f"series {number + 1}"


@runtime_checkable
class Intervention(Protocol):
    """Turns one image into one or more ordered series (several patches or seeds give several).

    ``image`` may be None for sources that bring their own images (uploaded frames).
    """

    name: str

    def series(self, image: Image.Image | None, progress: ProgressFn = no_progress) -> list[InterventionSeries]:
        ...


def without_float_noise(values: np.ndarray) -> np.ndarray:
    """Each value as the short decimal it is within a float's last digit of: ``np.linspace(0, 0.85, 11)`` makes
    0.08499999999999999 and a brightness ramp 0.3999999999999999, which the files wrote and a filter on 0.4 missed.
    A value that is no short decimal (1/3) stays as it is.

    Examples
    --------
    >>> float(without_float_noise(np.linspace(0, 0.85, 11))[1]), float(without_float_noise(np.linspace(1, 0.1, 10))[6])
    (0.085, 0.4)
    >>> float(without_float_noise(np.array([1 / 3]))[0]) == 1 / 3
    True
    """
    values = np.asarray(values, dtype=float)
    short = np.array([float(f"{value:.12g}") for value in values])
    return np.where(np.isclose(short, values, rtol=1e-15, atol=0), short, values)
