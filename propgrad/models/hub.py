"""Hugging Face image classifiers (transformers), by hub id or from a local folder.

A hosted Space is how most people reach this tool, and their models live on the hub: anything that
``AutoModelForImageClassification`` loads (ViT, ConvNeXt, ResNet, Swin, DeiT, BEiT...) is run with
its own ``AutoImageProcessor`` preprocessing and its ``id2label`` class names. A hub id is looked up
as transformers does: the local hub cache first, then a download where the hub is reachable (a
Space's operator forbids downloads with ``HF_HUB_OFFLINE=1``). Every failure is one
:class:`~propgrad.errors.ModelUnavailableError` that says how to provide the model.
"""
from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from pathlib import Path

import torch
from PIL import Image

from ..device import pick_device
from ..errors import ModelUnavailableError
from .torch_model import TorchClassifier, check_class_names, short_error

# Multi-label heads score each label on its own (sigmoid); a softmax over them would be wrong.
_MULTI_LABEL = "multi_label_classification"
# Hub models can be large: a Space keeps the few most recently used ones, not every one ever asked for
# (as many as one app run may name, so that a run with the most models does not reload them all).
_KEEP_LOADED = 4
# huggingface_hub's rule for repo ids: [namespace/]name of letters, digits, '-', '_' and '.'.
_HUB_ID = re.compile(r"(?:[\w.-]{1,96}/)?[\w.-]{1,96}")
_CACHE_LOCK = threading.Lock()
_LOADED: OrderedDict[tuple[str, str], tuple] = OrderedDict()
_KEY_LOCKS: dict[tuple[str, str], threading.Lock] = {}


# Longer than any hub id or sensible folder path: refused before the file system sees it.
MAX_SOURCE_LENGTH = 1024


def _check_source(model_id) -> str:
    if not isinstance(model_id, (str, os.PathLike)) or not str(model_id).strip():
        raise ValueError(
            f"`model_id` must be a hub id such as 'google/vit-base-patch16-224' or a local folder, got {model_id!r}"
        )
    source = str(model_id).strip()
    if len(source) > MAX_SOURCE_LENGTH:
        raise ValueError(f"hub classifier: {len(source):,} characters is too long for a hub id or folder "
                         f"(at most {MAX_SOURCE_LENGTH:,}); give an id like 'google/vit-base-patch16-224'")
    if any(ord(character) < 32 or ord(character) == 127 for character in source):
        raise ValueError(f"hub classifier {source[:80]!r} holds a control character; give one id or folder per line")
    return source


def names_a_folder(source: str) -> bool:
    """Whether ``source`` is meant as a folder rather than a hub id ('./x' and '~/x' have an id's shape too)."""
    return not is_hub_id(source) or source.startswith((".", "~"))


def _local_folder(source: str, allow_folders: bool = True) -> Path | None:
    """The folder ``source`` names, or None when it is a hub id; refuses what is neither.

    With ``allow_folders`` False the file system is never asked, so that a public server does not
    reveal which of its paths exist.
    """
    if not allow_folders:
        if names_a_folder(source):
            raise ValueError(f"hub classifier {source!r}: this server takes hub ids only (like "
                             f"'google/vit-base-patch16-224'), not folders")
        return None
    path = Path(source).expanduser()
    try:
        is_folder = path.is_dir()
    except (OSError, ValueError) as error:  # a name too long for the file system, a NUL byte...
        raise ValueError(f"hub classifier {source[:80]!r} is not a usable folder name ({error.__class__.__name__}); "
                         f"give a hub id or an existing folder") from None
    if is_folder:
        if not (path / "config.json").is_file():
            raise ModelUnavailableError(
                f"hub classifier {source!r}: the folder has no config.json; give the folder that "
                f"`save_pretrained` (or `hf download`) wrote: config.json, the weights, preprocessor_config.json"
            )
        return path
    if not names_a_folder(source):  # './x' has an id's shape, but is meant as a folder: "no such folder"
        return None
    if source.startswith(("/", ".", "~")) or "/" in source or os.sep in source:
        raise ModelUnavailableError(
            f"hub classifier {source!r}: no such folder; give a folder holding config.json, the weights "
            f"and preprocessor_config.json (what `save_pretrained` writes), or a hub id"
        )
    raise ValueError(
        f"hub classifier {source!r} is neither a hub id (like 'google/vit-base-patch16-224') nor a folder"
    )


def is_hub_id(text: str) -> bool:
    """Whether ``text`` has the form of a hub repo id ('google/vit-base-patch16-224', 'resnet-50')."""
    return bool(_HUB_ID.fullmatch(str(text).strip()))


def _how_to_provide(source: str) -> str:
    return (
        f"download it once where the hub is reachable (`hf download {source}`), then either point "
        f"HF_HOME at that cache or give the downloaded folder instead of the id"
    )


def _hub_failure(source: str, error: BaseException) -> str:
    """Why a hub id did not load, from the error huggingface_hub raised underneath transformers' OSError."""
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    causes = []
    while error is not None and len(causes) < 8:
        causes.append(error)
        error = error.__cause__ or error.__context__
    if any(isinstance(cause, GatedRepoError) for cause in causes):
        return (f"hub classifier {source!r} is gated: accept its licence on the hub and log in "
                f"(HF_TOKEN), or give a downloaded folder")
    if any(isinstance(cause, RepositoryNotFoundError) for cause in causes):
        return (f"hub classifier {source!r}: no such model on the hub (check the spelling; a private "
                f"repository needs HF_TOKEN)")
    return (f"hub classifier {source!r} is not in the local hub cache and the hub cannot be reached; "
            f"{_how_to_provide(source)}")


def _hub_snapshot(source: str) -> Path:
    """The local snapshot of hub id ``source`` (fetched where the hub is reachable): the files it needs only."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError

    try:
        return Path(snapshot_download(source, allow_patterns=["*.json", "*.safetensors", "pytorch_model.bin"]))
    except HFValidationError as error:
        raise ValueError(f"hub classifier {source!r} is not a valid hub id ({short_error(error)})") from None
    except Exception as error:  # not cached and offline, misspelt, gated...
        raise ModelUnavailableError(_hub_failure(source, error)) from None


def _load(source: str, device: torch.device, allow_folders: bool = True):
    """(network, processor, config, origin) for ``source``, loaded once per process and device."""
    from transformers import AutoImageProcessor, AutoModelForImageClassification
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    folder = _local_folder(source, allow_folders)
    if folder is None and not allow_folders:
        # transformers would first ask whether `source` is a folder relative to the server's working
        # directory; the id's own snapshot in the hub cache is a path that cannot name anything else.
        where = str(_hub_snapshot(source))
    else:
        where = str(folder) if folder is not None else source
    # trust_remote_code stays off: a hub repo's own Python code must never run here. float32 whatever
    # the checkpoint was saved in: inputs are float32, and half-precision convolutions fail on a CPU.
    options = dict(trust_remote_code=False, local_files_only=where != source)
    try:
        network = AutoModelForImageClassification.from_pretrained(where, dtype=torch.float32, **options)
    except ValueError as error:
        # transformers says ValueError when the config names an architecture with no image-classification head.
        raise ValueError(f"hub classifier {source!r} is not an image classifier: {short_error(error)}") from None
    except Exception as error:  # a user's folder can be broken in many ways (missing, truncated, mismatched)
        if folder is not None:
            raise ModelUnavailableError(
                f"hub classifier {source!r}: the folder holds no loadable image classifier "
                f"({short_error(error)}); it needs config.json and model.safetensors (or pytorch_model.bin)"
            ) from None
        raise ModelUnavailableError(_hub_failure(source, error)) from None
    try:
        processor = AutoImageProcessor.from_pretrained(where, **options)
    except Exception as error:
        raise ModelUnavailableError(
            f"hub classifier {source!r} has no image preprocessing config (preprocessor_config.json), so "
            f"propgrad cannot know its input size and normalisation ({short_error(error)})"
        ) from None
    # The last: where the weights came from, a local folder or a hub id's revision (its snapshot folder's name, or
    # the one the local hub cache holds; None when neither says).
    origin = folder if folder is not None else Path(where).name if where != source else _cached_revision(source)
    return network.eval().to(device), processor, network.config, origin


def _cached_revision(model_id: str) -> str | None:
    """The revision of hub id ``model_id`` that the local hub cache holds (what transformers just read), or None."""
    from huggingface_hub import try_to_load_from_cache

    config = try_to_load_from_cache(model_id, "config.json")
    return Path(config).parent.name if isinstance(config, str) else None


def _cached_load(source: str, device: torch.device, allow_folders: bool = True):
    # Several sessions asking for the same model at once load it once and share it read-only; a
    # lock per model, so that one session's slow load does not hold up the others' cached models.
    if not allow_folders:
        _local_folder(source, allow_folders=False)  # refuse a folder before the cache is asked
    key = (source, str(device))
    with _CACHE_LOCK:
        key_lock = _KEY_LOCKS.setdefault(key, threading.Lock())
    with key_lock:
        with _CACHE_LOCK:
            if key in _LOADED:
                _LOADED.move_to_end(key)
                return _LOADED[key]
        loaded = _load(source, device, allow_folders)
        with _CACHE_LOCK:
            _LOADED[key] = loaded
            while len(_LOADED) > _KEEP_LOADED:
                _LOADED.popitem(last=False)
        return loaded


def _label_names(config) -> list[str]:
    labels = dict(getattr(config, "id2label", None) or {})
    count = int(getattr(config, "num_labels", len(labels)))
    names = [str(labels.get(index, labels.get(str(index), f"class {index}"))) for index in range(count)]
    if len(set(names)) != len(names):
        # Some repos leave the default "LABEL_0".. or repeat names; columns must stay distinguishable.
        names = [f"{name} ({index})" if names.count(name) > 1 else name for index, name in enumerate(names)]
    return names


class _Logits(torch.nn.Module):
    """The transformers model as a plain ``pixel_values -> logits`` function."""

    def __init__(self, network: torch.nn.Module):
        super().__init__()
        self.network = network

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.network(pixel_values=pixel_values).logits


def load_hub_classifier(
    model_id: str | os.PathLike,
    *,
    name: str | None = None,
    batch_size: int = 16,
    device: str | None = None,
    allow_folders: bool = True,
) -> TorchClassifier:
    """A transformers image classifier, by hub id (local hub cache, else a download) or from a folder.

    Parameters
    ----------
    model_id
        A hub id such as ``"google/vit-base-patch16-224"`` or a folder written by ``save_pretrained``
        (config.json, model.safetensors, preprocessor_config.json). Remote code is never run.
    name
        Display name; default ``model_id``.
    batch_size, device
        As for every torch model; the device defaults to CUDA when available.
    allow_folders
        False on a server others can reach: only hub ids are taken, and the server's file system is never
        asked whether a path exists.

    The model's own image processor does the resizing and normalisation; the class names come from
    its ``id2label``. Single-label heads get a softmax (a one-output head: [1 - p, p] with a sigmoid).
    Multi-label heads (``problem_type`` ``"multi_label_classification"``) with several labels are
    refused: their labels are each on or off, so there is no one predicted class to flip.

    Raises
    ------
    ModelUnavailableError
        The id is neither in the local hub cache nor downloadable (offline, misspelt, gated), the
        folder does not exist or holds no classifier, or the preprocessing config is missing; the
        message says what to do.

    Examples
    --------
    >>> model = load_hub_classifier("google/vit-base-patch16-224")  # doctest: +SKIP
    >>> model.output_names[:2]  # doctest: +SKIP
    ['tench, Tinca tinca', 'goldfish, Carassius auratus']
    """
    source = _check_source(model_id)
    resolved = pick_device(device)
    network, processor, config, origin = _cached_load(source, resolved, allow_folders)
    problem = getattr(config, "problem_type", None)
    if problem == "regression":
        raise ValueError(f"hub classifier {source!r} is a regression model (problem_type 'regression'), "
                         f"not a classifier; propgrad explains class probabilities")
    if problem == _MULTI_LABEL and config.num_labels > 1:
        # Labels that are each on or off have no single predicted class: flips (argmax changes) and the
        # two-class 0.5 line would misread them.
        raise ValueError(
            f"hub classifier {source!r} is multi-label ({config.num_labels} labels scored independently); "
            f"propgrad explains single-label classifiers, whose prediction is one class"
        )
    logits = _Logits(network)

    def transform(images: list[Image.Image]) -> torch.Tensor:
        return processor(images=[image.convert("RGB") for image in images], return_tensors="pt")["pixel_values"]

    # Logits always: a softmax over classes, or a sigmoid for a one-output head (a one-label
    # multi-label head is one, too), which is then shown as [1 - p, p].
    names = _label_names(config)
    if len(names) == 1:
        # transformers' placeholder name is no class name.
        names = check_class_names(None if names == ["LABEL_0"] else names, 1, f"hub classifier {source!r}", True)
    classifier = TorchClassifier(
        name=name or source, output_names=names, load=lambda _device: logits,
        transform=transform, apply_softmax=True, batch_size=batch_size, device=resolved,
    )
    # What a report names the weights by: a folder's weight files by name and SHA-256, a hub id with the revision its
    # files came from (its snapshot folder's name; the id alone names whatever the repository holds today).
    if isinstance(origin, Path):
        classifier.source = [str(p.resolve()) for suffix in ("safetensors", "bin")
                             for p in sorted(origin.glob(f"*.{suffix}"))]
    else:
        classifier.source = f"{source}@{origin}" if origin else source
    return classifier
