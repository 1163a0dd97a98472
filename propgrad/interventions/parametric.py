"""Parametric image edits that need no model: brightness, contrast, saturation, hue, blur, rotation, and the
colour edits suited to a region (fur, background): darken, lighten and recolour, each with strength 0..1.

Every edit is an :class:`EditKind` in :data:`EDITS`, so :class:`ParametricEdit`, the app's edit dropdown and the
command line's ``--edit`` offer them all alike. For the colour edits the x axis is the strength: 0 is the
original (step 0), 1 the full edit.

- ``darken``: every pixel moves towards black, ``(1 - s) * x`` (s = 0.85 keeps 15 % of the light);
- ``lighten``: towards white, ``x + s * (255 - x)``;
- ``recolour <colour>``: CIELAB chroma moved towards the target's, ``(a, b) <- (1 - s) (a, b) + s (a*, b*)``,
  with the lightness L kept, so shading and texture (fur strands, folds) stay while the hue and colourfulness
  become the target's. Conversions by ``skimage.color`` (D65, sRGB); colours that fall outside sRGB are
  clipped. Near-black or near-white pixels show little colour whatever their chroma: a black cat stays
  dark (lighten it first, or use an instruction editor).
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from ..checks import check_steps
from ..errors import ArgumentError, not_one_of
from .base import InterventionSeries, ProgressFn, no_progress, without_float_noise


def _hue(image: Image.Image, degrees: float) -> Image.Image:
    hsv = np.asarray(image.convert("HSV"), dtype=np.int16).copy()
    hsv[..., 0] = (hsv[..., 0] + round(degrees % 360.0 / 360.0 * 256)) % 256
    return Image.fromarray(hsv.astype(np.uint8), "HSV").convert("RGB")


def _rotate(image: Image.Image, degrees: float) -> Image.Image:
    # Corners uncovered by the rotation are filled with the image's mean colour, which changes the
    # class evidence less than black would.
    fill = tuple(int(v) for v in np.asarray(image).reshape(-1, 3).mean(axis=0))
    return image.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=fill)


STRENGTH = "strength (0 = original, 1 = full)"
DEFAULT_STOP = 0.85
# Named targets offered in the app and the command line; any RGB triple works from Python.
RECOLOUR_TARGETS = {
    "red": (200, 30, 30),
    "green": (40, 160, 40),
    "blue": (40, 70, 200),
    "yellow": (230, 200, 40),
}


def _check_strength(strength: float) -> float:
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"the edit strength must lie in [0, 1] (0 = original, 1 = full), got {strength}")
    return float(strength)


def darken(image: Image.Image, strength: float) -> Image.Image:
    """Move every pixel towards black: ``(1 - strength) * x``.

    Examples
    --------
    >>> np.asarray(darken(Image.new("RGB", (2, 2), (200, 100, 0)), 0.5))[0, 0].tolist()
    [100, 50, 0]
    """
    keep = 1.0 - _check_strength(strength)
    array = np.asarray(image.convert("RGB"), dtype=np.float32) * keep
    return Image.fromarray(np.clip(array + 0.5, 0, 255).astype(np.uint8))


def lighten(image: Image.Image, strength: float) -> Image.Image:
    """Move every pixel towards white: ``x + strength * (255 - x)``.

    Examples
    --------
    >>> np.asarray(lighten(Image.new("RGB", (2, 2), (55, 155, 255)), 0.5))[0, 0].tolist()
    [155, 205, 255]
    """
    strength = _check_strength(strength)
    array = np.asarray(image.convert("RGB"), dtype=np.float32)
    return Image.fromarray(np.clip(array + strength * (255.0 - array) + 0.5, 0, 255).astype(np.uint8))


def _skimage_color():
    try:
        from skimage import color
    except ImportError as error:  # in requirements.txt and the 'regions' extra, not in the core install
        raise ImportError("the recolour edit converts to CIELAB with scikit-image: `pip install scikit-image`"
                          ) from error
    return color


def _lab_of(colour) -> np.ndarray:
    return _skimage_color().rgb2lab(np.asarray(colour, dtype=np.float64).reshape(1, 1, 3) / 255.0)[0, 0]


def recolour(image: Image.Image, strength: float, colour=(200, 30, 30)) -> Image.Image:
    """Move the CIELAB chroma (a, b) of every pixel towards ``colour``'s, keeping the lightness L.

    Parameters
    ----------
    image : PIL image
    strength : float in [0, 1]
        0 gives the image back (up to the Lab round trip), 1 gives every pixel the target's chroma.
    colour : (r, g, b) in 0..255
        The target colour; only its chroma is used, its lightness is not.

    Examples
    --------
    >>> grey = Image.new("RGB", (2, 2), (128, 128, 128))
    >>> r, g, b = np.asarray(recolour(grey, 1.0, (200, 30, 30)))[0, 0].tolist()
    >>> r > g and r > b
    True
    """
    color = _skimage_color()
    strength = _check_strength(strength)
    lab = color.rgb2lab(np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0)
    target = _lab_of(colour)
    lab[..., 1:] = (1.0 - strength) * lab[..., 1:] + strength * target[1:]
    with warnings.catch_warnings():
        # lab2rgb warns when it clips colours outside sRGB; clipping is the documented behaviour here.
        warnings.simplefilter("ignore", UserWarning)
        rgb = color.lab2rgb(lab)
    return Image.fromarray(np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8))


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
    "darken": EditKind(darken, 0.0, DEFAULT_STOP, f"darkening {STRENGTH}", bounds=(0.0, 1.0)),
    "lighten": EditKind(lighten, 0.0, DEFAULT_STOP, f"lightening {STRENGTH}", bounds=(0.0, 1.0)),
}


def register_edit(name: str, kind: EditKind) -> None:
    """Add a parametric edit under ``name`` (it then shows up in the app and the command line)."""
    EDITS[name] = kind


def register_recolour(name: str, colour) -> None:
    """Offer ``recolour`` towards ``colour`` as the parametric edit ``"recolour <name>"``.

    Examples
    --------
    >>> from propgrad.interventions import EDITS
    >>> register_recolour("ginger", (200, 110, 40))
    >>> "recolour ginger" in EDITS
    True
    >>> del EDITS["recolour ginger"]  # the example leaves the shared table as it found it
    """
    rgb = tuple(int(v) for v in colour)
    if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
        raise ValueError(f"`colour` must be an (r, g, b) triple in 0..255, got {colour!r}")
    register_edit(f"recolour {name}", EditKind(partial(recolour, colour=rgb), 0.0, 1.0,
                                               f"recolour to {name}: {STRENGTH}", bounds=(0.0, 1.0)))


for target in RECOLOUR_TARGETS.items():
    register_recolour(*target)
del target


_ROLE = {"start": "the edit's start value", "stop": "the edit's end value"}


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
            raise not_one_of("kind", self.kind, sorted(EDITS))
        check_steps(self.steps)
        for label, value in (("start", self.start), ("stop", self.stop)):
            if value is not None and not np.isfinite(value):
                raise ArgumentError(label, f"must be a finite number, got {value!r}", gloss=_ROLE[label])
        edit = EDITS[self.kind]
        if self.kind in ("brightness", "contrast", "saturation", "blur"):
            for label, value in (("start", self.start), ("stop", self.stop)):
                if value is not None and value < 0:
                    raise ArgumentError(label, f"for {self.kind} must be at least 0, got {value}",
                                        gloss=_ROLE[label])
        if edit.bounds is not None:
            low, high = edit.bounds
            for label, value in (("start", self.start), ("stop", self.stop)):
                if value is not None and not low <= value <= high:
                    raise ArgumentError(label, f"for {self.kind} must lie in [{low:g}, {high:g}], got {value}",
                                        gloss=_ROLE[label])
        if self.stop is not None and self.stop == (self.start if self.start is not None else edit.identity):
            raise ArgumentError("stop", f"equals its start value ({self.stop}): the {self.kind} would not "
                                "change; choose another end value", gloss=_ROLE["stop"])

    @property
    def name(self) -> str:
        return f"{self.kind} edit"

    def values(self) -> np.ndarray:
        edit = EDITS[self.kind]
        stop = edit.default_stop if self.stop is None else float(self.stop)
        if self.start is None or self.start == edit.identity:
            return without_float_noise(np.linspace(edit.identity, stop, self.steps))
        return without_float_noise(
            np.concatenate([[edit.identity], np.linspace(float(self.start), stop, self.steps - 1)]))

    def series(self, image: Image.Image | None, progress: ProgressFn = no_progress) -> list[InterventionSeries]:
        if image is None:
            raise ValueError(f"the {self.kind} edit needs an input image")
        edit = EDITS[self.kind]
        values = self.values()
        images = [image.copy()]
        for step, value in enumerate(values[1:], start=1):
            images.append(edit.apply(image, float(value)))
            progress(step / (len(values) - 1), f"{self.kind}: edited step {step} of {len(values) - 1}")
        return [InterventionSeries(images, values, edit.property_name, label=self.kind)]
