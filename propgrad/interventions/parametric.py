"""Parametric image edits that need no model: brightness, contrast, saturation, hue, blur, rotation."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from ..checks import check_steps
from ..errors import ArgumentError
from .base import InterventionSeries, ProgressFn, no_progress


def _hue(image: Image.Image, degrees: float) -> Image.Image:
    hsv = np.asarray(image.convert("HSV"), dtype=np.int16).copy()
    hsv[..., 0] = (hsv[..., 0] + round(degrees % 360.0 / 360.0 * 256)) % 256
    return Image.fromarray(hsv.astype(np.uint8), "HSV").convert("RGB")


def _rotate(image: Image.Image, degrees: float) -> Image.Image:
    # Corners uncovered by the rotation are filled with the image's mean colour, which changes the
    # class evidence less than black would.
    fill = tuple(int(v) for v in np.asarray(image).reshape(-1, 3).mean(axis=0))
    return image.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=fill)


@dataclass(frozen=True)
class EditKind:
    """One parametric edit: how to apply it, its identity value and a sensible default end point.

    ``bounds`` (low, high), when given, is the range start and stop values must lie in; it is checked
    when a :class:`ParametricEdit` is made, before any image is edited.
    """

    apply: Callable[[Image.Image, float], Image.Image]
    identity: float
    default_stop: float
    property_name: str
    bounds: tuple[float, float] | None = None


EDITS: dict[str, EditKind] = {
    "brightness": EditKind(lambda im, v: ImageEnhance.Brightness(im).enhance(v), 1.0, 0.1, "brightness factor"),
    "contrast": EditKind(lambda im, v: ImageEnhance.Contrast(im).enhance(v), 1.0, 0.1, "contrast factor"),
    "saturation": EditKind(lambda im, v: ImageEnhance.Color(im).enhance(v), 1.0, 0.0, "saturation factor"),
    "hue": EditKind(_hue, 0.0, 180.0, "hue rotation (degrees)"),
    "blur": EditKind(lambda im, v: im.filter(ImageFilter.GaussianBlur(v)) if v > 0 else im.copy(), 0.0, 8.0,
                     "blur radius (px)"),
    "rotation": EditKind(_rotate, 0.0, 180.0, "rotation (degrees)"),
}


def register_edit(name: str, kind: EditKind) -> None:
    """Add a parametric edit under ``name`` (it then shows up in the app and the command line)."""
    EDITS[name] = kind


_ROLE = {"start": "start value", "stop": "end value"}


@dataclass(frozen=True)
class ParametricEdit:
    """Apply one edit with its parameter swept linearly from ``start`` to ``stop`` over ``steps`` steps.

    ``start`` defaults to the edit's identity (factor 1, 0 degrees, radius 0), so step 0 is the
    unedited image. If another ``start`` is given, the unedited image is still step 0 and the sweep
    follows it, ``steps`` images in all.

    Examples
    --------
    >>> ParametricEdit("brightness", stop=0.2, steps=10).series(image)[0].values  # doctest: +SKIP
    """

    kind: str
    stop: float | None = None
    steps: int = 10
    start: float | None = None

    def __post_init__(self):
        if self.kind not in EDITS:
            raise ArgumentError("kind", f"must be one of {sorted(EDITS)}, got {self.kind!r}")
        check_steps(self.steps)
        for label, value in (("start", self.start), ("stop", self.stop)):
            if value is not None and not np.isfinite(value):
                raise ArgumentError(label, f"(the edit's {_ROLE[label]}) must be a finite number, got {value!r}")
        edit = EDITS[self.kind]
        if self.kind in ("brightness", "contrast", "saturation", "blur"):
            for label, value in (("start", self.start), ("stop", self.stop)):
                if value is not None and value < 0:
                    raise ArgumentError(label, f"(the edit's {_ROLE[label]}) for {self.kind} must be at least 0, "
                                        f"got {value}")
        if edit.bounds is not None:
            low, high = edit.bounds
            for label, value in (("start", self.start), ("stop", self.stop)):
                if value is not None and not low <= value <= high:
                    raise ArgumentError(label, f"(the edit's {_ROLE[label]}) for {self.kind} must lie in "
                                        f"[{low:g}, {high:g}], got {value}")
        if self.stop is not None and self.stop == (self.start if self.start is not None else edit.identity):
            raise ArgumentError("stop", f"(the edit's end value) equals its start value ({self.stop}): the "
                                f"{self.kind} would not change; choose another end value")

    @property
    def name(self) -> str:
        return f"{self.kind} edit"

    def values(self) -> np.ndarray:
        edit = EDITS[self.kind]
        stop = edit.default_stop if self.stop is None else float(self.stop)
        if self.start is None or self.start == edit.identity:
            return np.linspace(edit.identity, stop, self.steps)
        return np.concatenate([[edit.identity], np.linspace(float(self.start), stop, self.steps - 1)])

    def series(self, image: Image.Image | None, progress: ProgressFn = no_progress) -> list[InterventionSeries]:
        if image is None:
            raise ValueError(f"the {self.kind} edit needs an input image")
        edit = EDITS[self.kind]
        values = self.values()
        images = [image.copy()]
        for step, value in enumerate(values[1:], start=1):
            images.append(edit.apply(image, float(value)))
            progress(step / (len(values) - 1), f"{self.kind} step {step}/{len(values) - 1}")
        return [InterventionSeries(images, values, edit.property_name, label=self.kind)]
