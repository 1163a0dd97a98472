"""Diffusers pipelines loaded once per process: one cache, one lock and one way of saying that weights are missing,
for InstructPix2Pix (:mod:`.diffusion`) and every guided editor (:mod:`.editors`)."""
from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from ..errors import ModelUnavailableError
from ..progress_bar import quiet_diffusers

_PIPELINES: dict[tuple[str, str, str, str], object] = {}
_PIPELINES_LOCK = threading.Lock()


def weights_on_disk(source: str, files: Sequence[str] = ("model_index.json",)) -> bool:
    """Whether ``source`` (a folder, or a hub id in the Hugging Face cache) holds ``files``; looks at files only,
    never at the network.

    Examples
    --------
    >>> weights_on_disk("/nonexistent")
    False
    """
    folder = Path(source).expanduser()
    if folder.is_dir():
        return all((folder / name).is_file() for name in files)
    try:
        from huggingface_hub import try_to_load_from_cache

        return all(isinstance(try_to_load_from_cache(source, name), str) for name in files)
    except Exception:  # an invalid repo id, or no huggingface_hub: not available either way
        return False


def load_pipeline(class_name: str, source: str, device: torch.device, dtype: torch.dtype,
                  how_to_get: Callable[[str], str], **load_kwargs):
    """``diffusers.<class_name>.from_pretrained(source)`` on ``device``, loaded once per process per (class, source,
    device, dtype); its progress bars off.

    Raises
    ------
    ModelUnavailableError
        The weights could not be loaded; the message is ``how_to_get(failure)``, where ``failure`` says in a few
        words why (``" (loading from 'x' failed: ...)"``).
    """
    key = (class_name, source, str(device), str(dtype))
    with _PIPELINES_LOCK:
        if key not in _PIPELINES:
            _PIPELINES[key] = _load(class_name, source, device, dtype, how_to_get, load_kwargs)
        return _PIPELINES[key]


def _load(class_name, source, device, dtype, how_to_get, load_kwargs):
    import diffusers

    errors: tuple[type[BaseException], ...] = (OSError, ValueError)
    with contextlib.suppress(ImportError):
        from huggingface_hub.errors import HfHubHTTPError

        errors += (HfHubHTTPError,)
    with contextlib.suppress(ImportError):
        import httpx

        errors += (httpx.HTTPError,)
    quiet_diffusers()  # --no-progress: no "Loading pipeline components" bar either
    try:
        with _hub_warning_silenced():
            pipe = getattr(diffusers, class_name).from_pretrained(source, dtype=dtype, **load_kwargs)
    except errors as error:
        raise ModelUnavailableError(how_to_get(f" (loading from '{source}' failed: {why(error)})")) from error
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def why(error: BaseException) -> str:
    """The reason a load failed, in a few words: diffusers' own message for weights that are not cached runs to
    four sentences and points at a stack trace that nobody is shown.

    Examples
    --------
    >>> why(OSError("Cannot load model x: the model is not fully cached locally (...). Please check out the root "
    ...             "cause in the stacktrace above."))
    'not in the Hugging Face cache, and cannot be downloaded here (offline, or the hub is out of reach)'
    """
    text = str(error)
    if "not fully cached" in text or "cached snapshot" in text:
        # diffusers says so offline (HF_HUB_OFFLINE=1, no network): either way nothing is downloaded
        return "not in the Hugging Face cache, and cannot be downloaded here (offline, or the hub is out of reach)"
    return text.replace(" Please check out the root cause in the stacktrace above.", "").strip()


@contextlib.contextmanager
def _hub_warning_silenced():
    # diffusers logs "Couldn't connect to the Hub ... Will try to load from local cache." before either loading from
    # the cache (then it is noise) or failing (then our message says it, with what to do).
    logger = logging.getLogger("diffusers.pipelines.pipeline_utils")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
