"""The app's model boxes -> loaded models: bundled names, uploaded files, hub ids (or folders).

Gradio-free. Bundled and hub models are loaded once per process and shared read-only by every session.
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from . import settings
from ..errors import not_one_of
from .parsing import MAX_NAMES_TEXT, check_int, check_suffixes, check_text, parse_names, parse_numbers, shown

MODEL_SUFFIXES = (".pt2", ".pt", ".pth", ".ts", ".torchscript")
MAX_HUB_MODELS = 4


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def uploaded_settings(paths: Sequence[str], *, input_size, mean, std, class_names, outputs_are="auto") -> dict:
    """The model boxes for uploaded files -> ModelSpec fields (files, their labels and preprocessing).

    Blank ``input_size``, ``mean`` or ``std`` take the file's own defaults; ``outputs_are`` is what the
    files return: 'auto', 'logits', 'probabilities' or 'scores'. Files are never unpickled with
    arbitrary code: :func:`propgrad.models.files.load_model_file` reads exported programs and
    TorchScript archives only.
    """
    from ..models.base import softmax_for

    paths = check_suffixes(paths, MODEL_SUFFIXES, name="model file")
    outputs_are = check_text(outputs_are, name="uploaded models return") or "auto"
    softmax_for(outputs_are)  # a ValueError naming the choices
    # Blank fields mean "from the file": a .pt2's exported size, a ConvMixer checkpoint's 128 px and
    # 0.5 mean/std, else 224 px with ImageNet statistics.
    # The browser sends 0 for an emptied number box: 0 means "from the file" too.
    size = None if _blank(input_size) or input_size == 0 else check_int(input_size, name="input size", low=16,
                                                                          high=1024)
    mean_values = None if _blank(mean) else parse_numbers(mean, name="mean", count=3)
    std_values = None if _blank(std) else parse_numbers(std, name="std", count=3)
    if std_values is not None and any(v <= 0 for v in std_values):
        raise ValueError(f"`std` must be positive, got {std!r}")
    labels = []
    for number, path in enumerate(paths):
        # Named by file name ("model.pt2"), so that model.pt and model.pt2 stay apart.
        label = f"{Path(path).name} (uploaded)"
        if any(Path(other).name == Path(path).name for other in paths[:number]):
            label = f"{Path(path).name} (uploaded {number + 1})"  # the same file name from another folder
        labels.append(label)
    return dict(files=tuple(paths), file_labels=tuple(labels), input_size=size and (size, size), mean=mean_values,
                std=std_values, class_names=parse_names(class_names, name="class names", max_length=MAX_NAMES_TEXT) or None,
                outputs_are=outputs_are)


def hub_sources(text: str | None) -> tuple[str, ...]:
    """Hugging Face image classifiers named in ``text``: hub ids or local folders, one per line or comma.

    Folders on the server's disk are taken only where :func:`settings.local_paths_allowed` says so; an id
    works offline only from the local hub cache, and a repository's own code never runs.
    """
    from ..models.hub import names_a_folder

    sources = list(dict.fromkeys(parse_names(text, name="hub classifiers")))  # the same id twice is one model
    if len(sources) > MAX_HUB_MODELS:
        raise ValueError(f"`hub classifiers`: at most {MAX_HUB_MODELS} per run, got {len(sources)}")
    if not settings.local_paths_allowed():
        folders = [source for source in sources if names_a_folder(source)]
        if folders:
            raise ValueError(f"`hub classifiers`: this server takes hub ids only (like "
                             f"'google/vit-base-patch16-224'), not folders: {[f[:80] for f in folders]}. "
                             f"Its operator can allow folders with {settings.ALLOW_LOCAL_PATHS_ENV}=1")
    return tuple(sources)


def hub_models(text: str | None) -> list:
    """The classifiers :func:`hub_sources` names, loaded (see :func:`propgrad.models.load_hub_classifier`)."""
    from ..models.spec import ModelSpec

    return ModelSpec(hub=hub_sources(text)).build(default=None, allow_folders=settings.local_paths_allowed())


def clip_pretrained(text: str | None, model_name: str) -> str:
    """The CLIP weights box: an open_clip tag ('openai'), or a checkpoint path where local paths are allowed.

    Where they are not, only the tags open_clip lists for ``model_name`` are taken: anything else could
    be looked up as a file relative to the server's working directory.
    """
    tag = check_text(text, name="CLIP pretrained tag or checkpoint path") or "openai"
    if settings.local_paths_allowed():
        return tag
    import open_clip

    tags = open_clip.list_pretrained_tags_by_model(model_name)
    if tag not in tags:
        raise ValueError(f"`CLIP pretrained tag or checkpoint path`: this server takes the open_clip tags of "
                         f"{shown(model_name)} only ({', '.join(tags[:8]) or 'none: check the model name'}), not "
                         f"paths on its disk. Its operator can allow paths with {settings.ALLOW_LOCAL_PATHS_ENV}=1")
    return tag


def bundled_names(names: Sequence[str] | str | None) -> tuple[str, ...]:
    """The ticked bundled models, each checked against the registry."""
    from ..models.bundled import bundled_model_names

    available = bundled_model_names()
    names = [names] if isinstance(names, str) else list(names or [])
    for name in names:
        if name not in available:
            raise not_one_of("models", name, available)
    return tuple(names)


def model_spec(bundled, files, input_size, mean, std, class_names, hub_ids="", outputs_are="auto"):
    """The shared model boxes -> a :class:`propgrad.models.spec.ModelSpec`."""
    from ..models.spec import ModelSpec
    from .parsing import file_path

    paths = [file_path(f, name="model files") for f in (files or [])]
    uploads = uploaded_settings(paths, input_size=input_size, mean=mean, std=std, class_names=class_names,
                                outputs_are=outputs_are) if paths else {}
    return ModelSpec(names=bundled_names(bundled), hub=hub_sources(hub_ids), **uploads)


def build_models(spec) -> list:
    """``spec``'s models; bundled ones are loaded once per process and shared read-only by every session."""
    return spec.build(default=None, get_bundled=_cached_model, allow_folders=settings.local_paths_allowed())


_MODEL_LOCK = threading.Lock()
_MODELS: dict[str, object] = {}


def _cached_model(name: str):
    # Loading the same weights twice under concurrent first requests would waste memory; the lock
    # makes the first request load and the others wait for it.
    with _MODEL_LOCK:
        if name not in _MODELS:
            from ..models.bundled import get_model

            _MODELS[name] = get_model(name)
        return _MODELS[name]
