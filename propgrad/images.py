"""Loading and normalising user images: whatever comes in, an 8-bit RGB PIL image goes out."""
from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MIN_SIDE = 16
# Larger inputs are downscaled on load: models see 224 to 512 px, and a 100-megapixel upload would
# only cost memory. Decompression bombs beyond PIL's own limit are refused by PIL itself.
MAX_SIDE = 2048


def max_megapixels() -> int | None:
    """PIL's guard against decompression bombs (``Image.MAX_IMAGE_PIXELS``, read when asked: a notebook may have
    changed it, or set it to None) as a number people read; None when there is no limit."""
    limit = Image.MAX_IMAGE_PIXELS
    return None if limit is None else int(limit) // 1_000_000


class TooManyPixels(ValueError):
    """An image over PIL's pixel limit (its own type, so that a loader's "not a readable image" does not reword it)."""


def open_within_limit(source, name: str, label: str) -> Image.Image:
    """``Image.open(source)``, not yet decoded, refused over PIL's pixel limit in one message for every loader
    (:class:`TooManyPixels`, naming ``name`` and ``label``). PIL itself refuses only past twice its limit and below
    that warns (a raw warning to the user) and opens; a warning filter cannot hold the limit across threads, so the
    size is compared here."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = Image.open(source)
    except Image.DecompressionBombError as error:
        raise TooManyPixels(too_many_pixels(name, label)) from error
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and opened.width * opened.height > limit:
        opened.close()
        raise TooManyPixels(too_many_pixels(name, label, opened.size))
    return opened


def too_many_pixels(name: str, label: str, size: tuple[int, int] | None = None) -> str:
    """The one message for an image over PIL's pixel limit: every loader's and the app's upload boxes'."""
    shown = f" ({size[0]} x {size[1]})" if size else ""
    return (f"`{name}`: {label} has too many pixels to open safely{shown}; use an image under {max_megapixels()} "
            "megapixels")


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
IMAGE_FORMATS = "PNG, JPEG, WebP, BMP, GIF or TIFF"  # IMAGE_SUFFIXES in words

ImageLike = "Image.Image | np.ndarray | str | os.PathLike | bytes"


def why_unreadable(error: BaseException) -> str:
    """Why Pillow could not read a file, in words (a message said "(UnidentifiedImageError)")."""
    if isinstance(error, UnidentifiedImageError):
        return "its contents are not an image format propgrad reads"
    if "truncated" in str(error).lower():
        return "the file is cut short"
    return "its data could not be decoded"


def _to_8bit_rgb(image: Image.Image, background=(255, 255, 255)) -> tuple[Image.Image, list[str]]:
    """``image`` as 8-bit RGB, and what the conversion did that a reader should know (notes)."""
    notes = []
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # A 16-bit file's full scale is 65535, as a viewer shows it: stretching a near-black scan's 0-97 to 0-255
        # showed it brighter than the photo, and a 12-bit one (0-3104) stayed dark beside it. Mode I (32-bit) also
        # holds 8-bit data: values up to 255 are kept there.
        array = np.asarray(image, dtype=np.float64)
        high = float(array.max())
        if image.mode.startswith("I;16") or high > 255:
            array = array / 257.0
            if high < DIM_16_BIT:
                notes.append(f"the image is 16-bit with values only up to {high:,.0f} of 65,535, so it shows nearly "
                             "black, as an image viewer shows it (12-bit data stored in 16 bits look so too); "
                             "stretch it to the full range first if that is not what you mean")
        image = Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))
    elif image.mode == "F":
        # Floating point: [0, 1] is the usual scale (as for arrays, _from_array), then 0-255; only other ranges
        # are stretched (a [0, 1] picture was stretched from its own darkest to its brightest value).
        array = np.asarray(image, dtype=np.float64)
        low, high = float(array.min()), float(array.max())
        if low >= 0 and high <= 1:
            array = array * 255.0
        elif not (low >= 0 and high <= 255):
            array = (array - low) / (high - low) * 255.0 if high > low else np.zeros_like(array)
            notes.append(f"the image holds floating-point values from {low:g} to {high:g}; they were stretched to "
                         "0-255")
        image = Image.fromarray(np.clip(array, 0, 255).round().astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        canvas = Image.new("RGBA", image.size, (*background, 255))
        image = Image.alpha_composite(canvas, image)
    return image.convert("RGB"), notes


# A 16-bit image whose values stay under 4096 (12 bits) shows nearly black: said, not stretched.
DIM_16_BIT = 4096


def _from_array(array: np.ndarray) -> Image.Image:
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ValueError(f"`image` array must be (H, W), (H, W, 3) or (H, W, 4), got shape {array.shape}")
    if array.dtype == np.uint8:
        data = array
    elif array.dtype == np.uint16:
        data = (array / 257.0).round().astype(np.uint8)
    elif np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer):
        values = array.astype(np.float64)
        if not np.all(np.isfinite(values)):
            raise ValueError("`image` array contains NaN or infinite values")
        scale = 255.0 if values.max(initial=0) <= 1.0 else 1.0
        data = np.clip(values * scale, 0, 255).round().astype(np.uint8)
    else:
        raise TypeError(f"`image` array has unsupported dtype {array.dtype}")
    return Image.fromarray(data)


@contextlib.contextmanager
def _exif_warnings_quiet():
    """Pillow warns "Corrupt EXIF data" on stderr and reads the picture all the same: nothing a user can act on."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="(Corrupt|Possibly corrupt) EXIF", category=UserWarning)
        yield


def _open(source, name: str) -> Image.Image:
    """Open and decode a path or file object, EXIF rotation applied; clear errors for broken files."""
    label = f"{Path(source).name!r}" if isinstance(source, (str, os.PathLike)) else "the data"
    if isinstance(source, (str, os.PathLike)) and Path(source).stat().st_size == 0:
        raise ValueError(f"`{name}`: {label} is empty (0 bytes): the copy or upload did not finish; give the image "
                         "again")
    try:
        with _exif_warnings_quiet(), open_within_limit(source, name, label) as opened:
            opened.load()
            orientation = opened.getexif().get(EXIF_ORIENTATION, 1)
            frames = getattr(opened, "n_frames", 1)
            upright = ImageOps.exif_transpose(opened)
            notes = []
            if orientation in _TURNS:  # an invalid value (9) turns nothing, and said it had
                notes.append(turned_note(orientation))
            if frames > 1:
                notes.append(f"the file holds {frames} frames (an animation or pages); only the first is used")
            if notes:
                upright.info[NOTES_KEY] = [*upright.info.get(NOTES_KEY, []), *notes]
            return upright
    except TooManyPixels:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"`{name}`: {label} is not a readable image ({why_unreadable(error)}); "
                         f"use a {IMAGE_FORMATS} file") from error


def load_image(image, *, max_side: int = MAX_SIDE, name: str = "image") -> Image.Image:
    """Return ``image`` as an 8-bit RGB PIL image, EXIF rotation applied, at most ``max_side`` px.

    Accepts a PIL image, a numpy array (uint8, uint16 or float in [0, 1]), a file path or raw bytes.
    Greyscale, palette, 16-bit, CMYK and transparent images are converted (transparency over white). What loading
    did that changes what a model sees (transparency laid over white, an EXIF orientation applied, CMYK converted)
    travels with the image as notes that every report of the input says (:func:`input_notes`).
    Raises ``ValueError`` naming ``name`` for unreadable files and images smaller than 16 px.
    """
    if image is None:
        raise ValueError(f"`{name}` is missing: provide an image")
    if isinstance(image, (str, os.PathLike)):
        if Path(image).is_dir():
            raise ValueError(f"`{name}`: {str(image)!r} is a folder; give one image file (many images: a study, "
                             f"`python -m propgrad study --images {image}`)")
        if not Path(image).is_file():
            raise ValueError(f"`{name}`: no such file {str(image)!r}")
        pil = _open(image, name)
    elif isinstance(image, (bytes, bytearray)):
        pil = _open(io.BytesIO(image), name)
    elif isinstance(image, np.ndarray):
        pil = _from_array(image)
    elif isinstance(image, Image.Image):
        pil = image
    else:
        raise TypeError(f"`{name}` must be a PIL image, numpy array, path or bytes, got {type(image).__name__}")
    if min(pil.size) < MIN_SIDE:
        raise ValueError(f"`{name}` is {pil.size[0]}x{pil.size[1]} px; it must be at least {MIN_SIDE} px on each side")
    rgb, converted = _to_8bit_rgb(pil)
    notes = [*(pil.info.get(NOTES_KEY) or []), *converted]
    if _has_transparency(pil):
        notes.append(FLATTENED)
    if pil.mode == "CMYK":
        notes.append(CMYK_CONVERTED)
    if max(rgb.size) > max_side:
        rgb = rgb.copy()
        rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        if min(rgb.size) < MIN_SIDE:  # said of the file's own size: "10x2048 px" of a 20x4000 file read as wrong
            raise ValueError(f"`{name}` is {pil.size[0]}x{pil.size[1]} px: shrunk to at most {max_side} px a side "
                             f"it would be {rgb.size[0]}x{rgb.size[1]}, under {MIN_SIDE} px on its short side; crop "
                             "it to a less extreme shape")
        # The report gave the shrunk size beside the file's SHA-256, as though the file were that size.
        notes.append(f"the image is {pil.size[0]}x{pil.size[1]} px; it was shrunk to {rgb.size[0]}x{rgb.size[1]} px "
                     f"(at most {max_side} px a side), which the edits and the models work on")
    rgb = rgb if rgb is not image else rgb.copy()
    if isinstance(image, (str, os.PathLike)):
        remember_source(rgb, image)
    elif isinstance(image, Image.Image) and SOURCE_KEY in image.info:
        rgb.info[SOURCE_KEY] = image.info[SOURCE_KEY]
    if notes:
        rgb.info[NOTES_KEY] = list(dict.fromkeys(notes))
    return rgb


SOURCE_KEY = "propgrad_source"
# What loading changed that changes what a model sees; every report of the input says it (describe_input).
NOTES_KEY = "propgrad_notes"
FLATTENED = ("the image has transparency; it was laid over white, so the models see white where it was "
             "transparent (flatten it yourself onto the background you mean)")
CMYK_CONVERTED = ("the image is CMYK (a print file); it was converted to RGB without its colour profile, so its "
                  "colours may differ from what a colour-managed viewer shows (export it as RGB to be sure)")
EXIF_ORIENTATION = 0x0112
_TURNS = {2: "mirrored", 3: "turned 180 degrees", 4: "flipped upside down", 5: "mirrored and turned",
          6: "turned 90 degrees clockwise", 7: "mirrored and turned", 8: "turned 90 degrees counter-clockwise"}


def turned_note(orientation: int) -> str:
    """What applying a file's EXIF orientation did (the models see the picture as a photo viewer shows it, which
    another tool that reads the pixels as stored would not)."""
    how = _TURNS.get(orientation, f"re-oriented (EXIF orientation {orientation})")
    return (f"the file's EXIF orientation was applied: the picture was {how}, as a photo viewer shows it (a tool "
            "that ignores EXIF sees it as stored)")


SMALL_SIDE = 64


def _has_transparency(image: Image.Image) -> bool:
    """Whether some pixel is not fully opaque (an RGBA file whose alpha is 255 everywhere changes nothing)."""
    if image.mode in ("RGBA", "LA", "PA"):
        return image.getchannel("A").getextrema()[0] < 255
    return image.mode == "P" and "transparency" in image.info


def input_notes(image: Image.Image) -> list[str]:
    """What a reader of the result should know about the input: what loading changed, and a picture so small
    that every model enlarges it many times."""
    notes = list(image.info.get(NOTES_KEY) or [])
    if min(image.size) < SMALL_SIDE:
        notes.append(f"the image is only {image.width} x {image.height} px: each model enlarges it to its own input "
                     f"size (often 128 or 224 px), so it sees a blurred picture, and the segmenter may find no object")
    return notes


def file_sha256(path) -> str | None:
    """The SHA-256 of a file's bytes (hex), or None where it cannot be read.

    Computed once per version of the file (its path, inode, size and change times): every run's settings name an
    uploaded model and every frame by it, and a model file of hundreds of MB was read whole into memory each time.
    """
    try:
        status = os.stat(path)
        return _sha256_of(os.path.realpath(path), (status.st_ino, status.st_size, status.st_mtime_ns,
                                                   status.st_ctime_ns))
    except OSError:
        return None


@functools.lru_cache(maxsize=1024)
def _sha256_of(path: str, version: tuple) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def remember_source(image: Image.Image, path) -> None:
    """Note on the loaded ``image`` which file it came from (name and SHA-256): every report names its input."""
    digest = file_sha256(path)
    if digest is not None:
        image.info[SOURCE_KEY] = {"file": Path(path).name, "sha256": digest}


def describe_input(image: Image.Image | None) -> dict | None:
    """The input's file name and SHA-256 (see :func:`remember_source`), else a hash of its pixels; and its size."""
    if image is None:
        return None
    source = dict(image.info.get(SOURCE_KEY) or {})
    if not source:
        source = {"pixels_sha256": hashlib.sha256(image.tobytes()).hexdigest()}
    notes = input_notes(image)
    return {**source, "width": image.width, "height": image.height, **({"notes": notes} if notes else {})}


def load_rgba(image, *, name: str = "patch", max_side: int = MAX_SIDE) -> Image.Image:
    """Load a patch with its transparency kept: RGBA, 8-bit. Images without alpha are fully opaque."""
    if isinstance(image, Image.Image) and image.mode == "RGBA":
        pil = image.copy()
    else:
        if isinstance(image, (str, os.PathLike, bytes, bytearray)):
            if isinstance(image, (str, os.PathLike)) and not Path(image).is_file():
                raise ValueError(f"`{name}`: no such file {str(image)!r}")
            pil = _open(io.BytesIO(image) if isinstance(image, (bytes, bytearray)) else image, name)
        elif isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[2] == 4:
            pil = _from_array(image)  # float in [0, 1] and uint16 are scaled, as for RGB images
        else:
            pil = image
        if isinstance(pil, Image.Image) and pil.mode in ("RGBA", "LA", "PA", "P"):
            pil = pil.convert("RGBA")
        else:
            pil = load_image(pil, name=name, max_side=max_side).convert("RGBA")
    if min(pil.size) < 2:
        raise ValueError(f"`{name}` is {pil.size[0]}x{pil.size[1]} px; it is too small to paste")
    if max(pil.size) > max_side:
        pil.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    if isinstance(image, (str, os.PathLike)):
        remember_source(pil, image)  # a report's settings name each sticker's file, not only its size
    return pil
