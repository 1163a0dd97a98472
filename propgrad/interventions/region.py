"""Restrict any intervention to a region of the image: a soft mask in [0, 1], the same for every step.

Step t of a restricted series is ``mask * edited_t + (1 - mask) * original``, so where the mask is 0
every step keeps the original pixels exactly (uint8-identical), and step 0 is the original itself. The
wrapped intervention runs on the whole image as usual (a parametric edit, a patch blend, an
InstructPix2Pix sweep); its steps are resized back to the input's size if the editor worked on a
resized copy, then composited.

Masks come from:

- ``"object"``: the salient object found by the bundled U^2-Net-p segmenter (:mod:`propgrad.segment`),
  ``"background"``: its complement;
- a file (path or bytes): a greyscale PNG, or a painted layer whose alpha marks the strokes;
- a numpy array (bool, 0/1 or 0-255 integers, floats in [0, 1]) or a PIL image.

Examples
--------
>>> from propgrad.interventions import ParametricEdit, Region
>>> fur = Region(ParametricEdit("darken", stop=0.85, steps=11), "object", label="fur (object)")
>>> series = fur.series(image)  # doctest: +SKIP
>>> series[0].mask.shape == (image.height, image.width), series[0].notes  # doctest: +SKIP
(True, ())
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..checks import is_real_number
from ..errors import ArgumentError, in_words
from ..images import SMALL_SIDE, TooManyPixels, file_sha256, open_within_limit, why_unreadable
from .base import Intervention, InterventionSeries, ProgressFn, no_progress

OBJECT = "object"
BACKGROUND = "background"
SEGMENTED = (OBJECT, BACKGROUND)
EMPTY_MASK = ("is empty: it selects no pixel, so the edit would change nothing; paint or upload a mask with white "
              "(or opaque) pixels where the edit should apply")


# eq=False: these hold numpy masks, which cannot be compared or hashed as one value; identity is enough.
# A region under 2 % of the image, or a complement over 98 %, is more often a segmenter's miss than a choice.
SMALL_REGION = 0.02


def share_in_words(share: float) -> str:
    """A region's share of the image in words, with the digits a sliver needs ("0.58 %", "99.4 %", "over 99.9 %"):
    the note under a thin region and the region panel's title say it alike (the title had a 0.6 % sliver as "0 %").

    Examples
    --------
    >>> share_in_words(0.0058), share_in_words(0.42), share_in_words(0.9996)
    ('0.58 %', '42 %', 'over 99.9 %')
    >>> share_in_words(1.0)
    '100 %'
    """
    if share in (0.0, 1.0):
        return f"{share * 100:.0f} %"
    if share * 100 < 0.1:
        return "under 0.1 %"
    if share * 100 > 99.9:
        return "over 99.9 %"
    return f"{share * 100:.3g} %"


def out_of_bounds(share: float) -> bool:
    """Whether a region covering ``share`` of the image is a sliver (under SMALL_REGION) or all but the whole image:
    one that likely misses what its name says (the whole image itself is a global edit, said apart)."""
    return share < 1 and not SMALL_REGION <= share <= 1 - SMALL_REGION


def coverage_caveat(shares: dict[str, float]) -> str | None:
    """The sentence to read before an answer whose regions are slivers (or all but the whole image): ``shares`` maps
    each property restricted to a region to the share of the image it covers. None where every region is in
    bounds. On a greyscale photo the segmenter's "object" was the cat's eye (0.6 %), and the answer that "the
    background" moved p(cat) most was read as a finding; the note saying so sat under the table.

    Examples
    --------
    >>> coverage_caveat({"object: darken": 0.006, "background: darken": 0.994, "object: blur": 0.006})
    'Check the regions before this answer: they cover 0.6 % of the image (object: darken and object: blur) and 99.4 % (background: darken). Such a region likely misses what its name promises, and what it moves is then not what the name says: look at its outline on the strip, or paint or upload a mask.'
    >>> coverage_caveat({"object: darken": 0.4}) is None
    True
    """
    # Grouped by the share as written, so that the sentence gives each region's share as its own note does.
    odd: dict[str, list[str]] = {}
    for name, share in sorted(shares.items(), key=lambda item: item[1]):
        if out_of_bounds(share):
            odd.setdefault(share_in_words(share), []).append(name)
    if not odd:
        return None
    shares_said = [f"{said}{' of the image' if number == 0 else ''} ({in_words(names, most=2, quote=str)})"
                   for number, (said, names) in enumerate(odd.items())]
    return (f"Check the regions before this answer: {'they cover' if len(odd) > 1 else 'one covers'} "
            f"{in_words(shares_said, quote=str)}. Such a region likely misses what its name promises, and what it "
            "moves is then not what the name says: look at its outline on the strip, or paint or upload a mask.")


@dataclass(frozen=True, eq=False)
class RegionMask:
    """A mask fitted to one image: float32 (H, W) in [0, 1], what it is called, and notes for the user."""

    mask: np.ndarray = field(repr=False)
    label: str
    notes: tuple[str, ...] = ()

    @property
    def coverage(self) -> float:
        """Fraction of the image inside the region (soft values counted by weight)."""
        return float(self.mask.mean())


def _alpha_or_grey(pil: Image.Image) -> np.ndarray:
    """A painted layer's strokes are its alpha; an opaque image's mask is its grey level."""
    if pil.mode in ("RGBA", "LA", "PA") or (pil.mode == "P" and "transparency" in pil.info):
        rgba = pil.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"))
        if alpha.min() < 255:  # something is transparent: the alpha channel is the mask
            return alpha.astype(np.float32) / 255.0
        pil = rgba.convert("RGB")
    if pil.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(pil, dtype=np.float64)
        high = 65535.0 if values.max(initial=0) > 255 else 255.0
        return (values / high).clip(0, 1).astype(np.float32)
    return np.asarray(pil.convert("L"), dtype=np.float32) / 255.0


def _from_array(array: np.ndarray, name: str) -> np.ndarray:
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    elif array.ndim == 3 and array.shape[2] in (3, 4):
        if array.dtype != np.uint8:
            raise ValueError(f"`{name}`: a colour (H, W, {array.shape[2]}) mask array must be uint8; "
                             f"give a single-channel (H, W) array for float or boolean masks")
        return _alpha_or_grey(Image.fromarray(array))
    if array.ndim != 2:
        raise ValueError(f"`{name}` must be an (H, W) array (or an image), got shape {array.shape}")
    if array.dtype == bool:
        return array.astype(np.float32)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"`{name}` array has unsupported dtype {array.dtype}")
    values = array.astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"`{name}` contains NaN or infinite values")
    if np.issubdtype(array.dtype, np.floating):
        if values.min() < 0 or values.max() > 1:
            raise ValueError(f"`{name}`: a float mask must lie in [0, 1] (1 = inside the region), got values "
                             f"from {values.min():.3g} to {values.max():.3g}")
        return values.astype(np.float32)
    if values.min() < 0 or values.max() > 255:
        raise ValueError(f"`{name}`: an integer mask must hold 0/1 or 0-255 values, got {values.min():.0f} to "
                         f"{values.max():.0f}")
    # 0/1 integer masks (a labelled segmentation) and 0-255 greyscale both occur; a maximum of 1 means 0/1.
    return (values / (1.0 if values.max() <= 1 else 255.0)).astype(np.float32)


def _open(source, name: str) -> Image.Image:
    label = f"{Path(source).name!r}" if isinstance(source, (str, os.PathLike)) else "the uploaded data"
    if isinstance(source, (str, os.PathLike)) and not Path(source).is_file():
        raise ValueError(f"`{name}`: no such file {str(source)!r}")
    try:
        with open_within_limit(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source, name,
                               label) as opened:
            opened.load()
            return opened.copy()
    except TooManyPixels:
        raise
    except (OSError, SyntaxError, ValueError) as error:  # PIL's UnidentifiedImageError is an OSError
        raise ValueError(f"`{name}`: {label} is not a readable image ({why_unreadable(error)}); give a "
                         f"greyscale PNG (white = inside the region) or a painted layer") from error


def read_mask(source, *, name: str = "mask") -> np.ndarray:
    """Any mask source except "object"/"background" -> float32 (H, W) in [0, 1], at its own size.

    Paths and bytes are decoded as images; images with transparency give their alpha (a painted layer:
    strokes are opaque), opaque ones their grey level (white = inside).
    """
    if source is None:
        raise ValueError(f"`{name}` is missing: give 'object', 'background', a mask image or an array")
    if isinstance(source, (str, os.PathLike, bytes, bytearray)):
        return _alpha_or_grey(_open(source, name))
    if isinstance(source, Image.Image):
        return _alpha_or_grey(source)
    if isinstance(source, np.ndarray):
        return _from_array(source, name)
    raise TypeError(f"`{name}` must be 'object', 'background', a path, bytes, a PIL image or a numpy array, "
                    f"got {type(source).__name__}")


def _resize(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    resized = Image.fromarray(mask.astype(np.float32), "F").resize(size, Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.float32).clip(0.0, 1.0)


def fit_mask(mask: np.ndarray, image: Image.Image, *, name: str = "mask", label: str = "mask",
             feather: float = 0.0) -> RegionMask:
    """Fit a mask to ``image``: resize it (with a note), feather it, and refuse an empty one.

    Raises
    ------
    ValueError
        The mask selects no pixel: the edit would change nothing.
    """
    notes = []
    height, width = mask.shape
    if (width, height) != image.size:
        stretched = abs(width / height - image.width / image.height) > 0.01
        notes.append(f"`{name}` is {width}x{height} px and the image {image.width}x{image.height} px: the mask was "
                     f"resized to the image{' (stretched: the aspect ratios differ)' if stretched else ''}")
        mask = _resize(mask, image.size)
    if feather > 0:
        from scipy.ndimage import gaussian_filter

        # Values below 1/512 would round away in 8-bit anyway; cutting them keeps "outside" exactly outside.
        mask = gaussian_filter(mask.astype(np.float32), sigma=feather, mode="nearest").clip(0.0, 1.0)
        mask[mask < 1 / 512] = 0.0
    if not np.any(mask > 0):
        raise ArgumentError(name, EMPTY_MASK, gloss=label)
    coverage = float(mask.mean())
    if np.all(mask >= 1):
        notes.append(f"`{name}` ({label}) covers the whole image: this is a global edit, not a region edit")
    elif out_of_bounds(coverage):
        # On a greyscale photo the segmenter's "object" was the cat's eye (0.6 %), its "background" the whole cat, and
        # the answer that the background moved p(cat) most read as a finding.
        notes.append(f"the {label} region covers {'only ' if coverage < SMALL_REGION else ''}"
                     f"{share_in_words(coverage)} of the image: check its outline on the strip; where it misses what "
                     f"it should hold, paint or upload a mask")
    return RegionMask(np.ascontiguousarray(mask, dtype=np.float32), label, tuple(notes))


def resolve_region(source, image: Image.Image, *, name: str = "mask", label: str | None = None,
                   feather: float = 0.0) -> RegionMask:
    """The mask ``source`` names, fitted to ``image`` (for a preview, or for :class:`Region`).

    Parameters
    ----------
    source : "object", "background", path, bytes, PIL image or numpy array
        "object" / "background" run the bundled segmenter (its error names the package when missing).
    image : PIL image
        The image the region belongs to; the mask is resized to it.
    label : str, optional
        How the region is called in titles and tables; default: "object", "background" or "mask".
    feather : float
        Standard deviation (px) of a Gaussian blur that softens the mask's edge; 0 keeps it as it is.

    Examples
    --------
    >>> region = resolve_region("background", image)  # doctest: +SKIP
    >>> round(region.coverage, 2), region.notes  # doctest: +SKIP
    (0.27, ())
    """
    from ..images import load_image

    return _fit_region(source, load_image(image, name="image"), name=name, label=label, feather=feather)


def _fit_region(source, image: Image.Image, *, name: str, label: str | None, feather: float) -> RegionMask:
    """:func:`resolve_region` for an image already loaded as 8-bit RGB."""
    if isinstance(source, str) and source.strip().lower() in SEGMENTED:
        from ..segment import object_mask

        kind = source.strip().lower()
        mask = object_mask(image)
        if not np.any(mask > 0) or np.all(mask >= 1):
            raise ValueError(f"`{name}`: the segmenter found no distinct object in this image (its mask is "
                             f"{'empty' if not np.any(mask > 0) else 'the whole image'}), so '{kind}' is "
                             f"undefined; paint or upload a mask instead"
                             + (f" (the image is only {image.width} x {image.height} px: a larger one may work)"
                                if min(image.size) < SMALL_SIDE else ""))
        mask = mask if kind == OBJECT else 1.0 - mask
        return fit_mask(mask, image, name=name, label=label or kind, feather=feather)
    return fit_mask(read_mask(source, name=name), image, name=name, label=label or "mask", feather=feather)


def composite(original: Image.Image, edited: Image.Image, mask: np.ndarray) -> Image.Image:
    """``mask * edited + (1 - mask) * original`` in 8-bit RGB; pixels with mask 0 are ``original``'s exactly.

    ``edited`` is resized to ``original``'s size first when an editor worked on a resized copy.
    """
    base = np.asarray(original.convert("RGB"))
    if edited.size != original.size:
        edited = edited.resize(original.size, Image.Resampling.LANCZOS)
    top = np.asarray(edited.convert("RGB"), dtype=np.float32)
    weight = mask[:, :, None]
    blended = np.clip(weight * top + (1.0 - weight) * base + 0.5, 0, 255).astype(np.uint8)
    # Where the mask is 0 the arithmetic already gives the original; np.where makes it a guarantee.
    return Image.fromarray(np.where(weight > 0, blended, base))


@dataclass(frozen=True, eq=False)
class Region:
    """Any intervention restricted to a region: outside it every step keeps the original pixels.

    Parameters
    ----------
    intervention : Intervention
        What changes inside the region (a parametric edit, a patch blend, an InstructPix2Pix sweep).
    mask : "object", "background", path, bytes, PIL image or numpy array
        The region (see :func:`resolve_region`). File and array masks are read and checked here;
        "object" / "background" are segmented when :meth:`series` sees the image.
    label : str, optional
        The region's name in titles and tables, e.g. "fur (object)". Default: "object", "background",
        or "mask".
    feather : float
        Standard deviation in px of a Gaussian blur for a soft edge (0: the mask as given).
    mask_source : dict, optional
        Where a file mask came from, ``{"file": name, "sha256": ...}``; set from a path ``mask`` (a report's
        settings name the file, not only the array it became).

    Notes
    -----
    Each series keeps the wrapped series' property values, and carries the fitted ``mask`` and the
    ``notes`` (a resized mask, a global edit) for the caller to show.

    Examples
    --------
    >>> from propgrad.interventions import ParametricEdit
    >>> background = Region(ParametricEdit("darken", stop=0.85, steps=11), "background")
    >>> background.name
    'darken edit in the background'
    """

    intervention: Intervention
    mask: object
    label: str | None = None
    feather: float = 0.0
    mask_source: dict | None = None

    def __post_init__(self):
        if not isinstance(self.intervention, Intervention):
            raise TypeError(f"`intervention` must follow the Intervention protocol (a `name` and a `series` "
                            f"method), got {type(self.intervention).__name__}")
        if isinstance(self.intervention, Region):
            raise TypeError("`intervention` is already a Region; combine the masks instead of nesting regions")
        if not is_real_number(self.feather) or self.feather < 0:
            raise ValueError(f"`feather` must be a number of at least 0 (a blur width in px), got {self.feather!r}")
        if self.label is not None and (not isinstance(self.label, str) or not self.label.strip()):
            raise ValueError(f"`label` must be a non-empty string or None, got {self.label!r}")
        if isinstance(self.mask, str) and self.mask.strip().lower() in SEGMENTED:
            object.__setattr__(self, "mask", self.mask.strip().lower())
        else:
            if isinstance(self.mask, (str, os.PathLike)) and self.mask_source is None:
                object.__setattr__(self, "mask_source", {"file": Path(self.mask).name,
                                                         "sha256": file_sha256(self.mask)})
            # Read once, here: a broken file or a bad array fails before any editing starts.
            mask = read_mask(self.mask, name="mask")
            if not np.any(mask > 0):
                raise ArgumentError("mask", EMPTY_MASK, gloss=self.label or "")
            object.__setattr__(self, "mask", mask)

    @property
    def region_label(self) -> str:
        if self.label:
            return self.label
        return self.mask if isinstance(self.mask, str) else "mask"

    @property
    def name(self) -> str:
        return f"{self.intervention.name} in the {self.region_label}"

    def resolve(self, image: Image.Image) -> RegionMask:
        """The mask fitted to ``image``, with its notes (what :meth:`series` uses; also for previews)."""
        return resolve_region(self.mask, image, label=self.region_label, feather=float(self.feather))

    def _fitted(self, image: Image.Image) -> RegionMask:
        return _fit_region(self.mask, image, name="mask", label=self.region_label, feather=float(self.feather))

    def series(self, image: Image.Image | None, progress: ProgressFn = no_progress) -> list[InterventionSeries]:
        if image is None:
            raise ValueError(f"a region edit needs an input image ({self.intervention.name} in the "
                             f"{self.region_label})")
        if not (isinstance(image, Image.Image) and image.mode == "RGB"):
            from ..images import load_image

            image = load_image(image, name="image")  # called directly; explain() hands over 8-bit RGB
        # 1. The mask, fitted once: every step of every series uses this very array.
        region = self._fitted(image)
        # 2. The edit on the whole image, as the wrapped intervention makes it.
        inner = self.intervention.series(image, progress)
        # 3. Composite each step into the original; step 0 is the original itself.
        notes = list(region.notes)
        result = []
        for one in inner:
            edited_size = one.images[-1].size
            if edited_size != image.size:
                note = (f"the editor worked at {edited_size[0]}x{edited_size[1]} px; its steps were resized to the "
                        f"image ({image.width}x{image.height} px) before compositing")
                if note not in notes:
                    notes.append(note)
            images = [image.copy()] + [composite(image, edited, region.mask) for edited in one.images[1:]]
            label = f"{one.label} in the {region.label}" if one.label else region.label
            result.append(InterventionSeries(images, np.asarray(one.values).copy(), one.property_name, label=label,
                                             mask=region.mask, notes=tuple(notes)))
        return result
