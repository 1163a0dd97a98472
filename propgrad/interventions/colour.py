"""Colour edits suited to a region (fur, background): darken, lighten and recolour, each with strength 0..1.

They are registered as parametric edit kinds, so :class:`~propgrad.interventions.parametric.ParametricEdit`,
the app's edit dropdown and the command line's ``--edit`` offer them like brightness or hue. The x axis
is the strength: 0 is the original (step 0), 1 the full edit.

- ``darken``: every pixel moves towards black, ``(1 - s) * x`` (s = 0.85 keeps 15 % of the light);
- ``lighten``: towards white, ``x + s * (255 - x)``;
- ``recolour <colour>``: CIELAB chroma moved towards the target's, ``(a, b) <- (1 - s) (a, b) + s (a*, b*)``,
  with the lightness L kept, so shading and texture (fur strands, folds) stay while the hue and colourfulness
  become the target's. Conversions by ``skimage.color`` (D65, sRGB); colours that fall outside sRGB are
  clipped. Near-black or near-white pixels show little colour whatever their chroma: a black cat stays
  dark (lighten it first, or use an instruction editor).

``hue`` (rotation in degrees) and ``saturation`` (factor) are the existing edits and apply to regions too.
"""
from __future__ import annotations

import warnings
from functools import partial

import numpy as np
from PIL import Image

from .parametric import EditKind, register_edit

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


def register_recolour(name: str, colour) -> None:
    """Offer ``recolour`` towards ``colour`` as the parametric edit ``"recolour <name>"``.

    Examples
    --------
    >>> from propgrad.interventions import EDITS
    >>> register_recolour("ginger", (200, 110, 40))
    >>> "recolour ginger" in EDITS
    True
    """
    rgb = tuple(int(v) for v in colour)
    if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
        raise ValueError(f"`colour` must be an (r, g, b) triple in 0..255, got {colour!r}")
    register_edit(f"recolour {name}", EditKind(partial(recolour, colour=rgb), 0.0, 1.0,
                                               f"recolour to {name}: {STRENGTH}", bounds=(0.0, 1.0)))


def register_colour_edits() -> None:
    """Register darken, lighten and the named recolour edits (done on import of the package)."""
    register_edit("darken", EditKind(darken, 0.0, DEFAULT_STOP, f"darkening {STRENGTH}", bounds=(0.0, 1.0)))
    register_edit("lighten", EditKind(lighten, 0.0, DEFAULT_STOP, f"lightening {STRENGTH}", bounds=(0.0, 1.0)))
    for name, colour in RECOLOUR_TARGETS.items():
        register_recolour(name, colour)


register_colour_edits()
