"""CLIP zero-shot classification behind the Model protocol (open_clip), several prompts per class."""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..device import pick_device
from ..errors import ArgumentError, ModelUnavailableError
from .base import PROBABILITY, SIMILARITY
from .torch_model import check_batch_size

CHECKPOINT_ENV = "PROPGRAD_CLIP_CHECKPOINT"
_CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors", ".ckpt", ".npz")
_MAX_LOGIT_SCALE = 100.0


def check_classes(classes) -> dict[str, list[str]]:
    """Class name -> prompts, stripped; every class and prompt non-empty, no class or prompt twice.

    Accepts a mapping or a sequence of (name, prompts) pairs.

    Examples
    --------
    >>> check_classes({"cat": ["a photo of a cat", "a cat"], " dog ": ["a photo of a dog"]})
    {'cat': ['a photo of a cat', 'a cat'], 'dog': ['a photo of a dog']}
    """
    if isinstance(classes, Mapping):
        pairs = list(classes.items())
    elif isinstance(classes, Sequence) and not isinstance(classes, str):
        pairs = list(classes)
        if not all(isinstance(pair, Sequence) and not isinstance(pair, str) and len(pair) == 2 for pair in pairs):
            raise TypeError("`classes` must be a dict {class name: [prompts]} or a list of (name, prompts) pairs")
    else:
        raise TypeError(f"`classes` must be a dict {{class name: [prompts]}}, got {type(classes).__name__}")
    if not pairs:
        raise ValueError("`classes` is empty: give at least one class with at least one prompt")
    checked: dict[str, list[str]] = {}
    for raw_name, prompts in pairs:
        if not isinstance(raw_name, str) or not raw_name.strip():
            raise ValueError(f"`classes`: class names must be non-empty strings, got {raw_name!r}")
        name = raw_name.strip()
        if name in checked:
            raise ValueError(f"`classes`: class {name!r} is given twice; merge its prompts into one entry")
        if isinstance(prompts, str):
            raise TypeError(f"`classes[{name!r}]` must be a list of prompts, not one string; write [{prompts!r}]")
        if not isinstance(prompts, Sequence):
            raise TypeError(f"`classes[{name!r}]` must be a list of prompts, got {type(prompts).__name__}")
        if not prompts:
            raise ValueError(f"`classes[{name!r}]` has no prompts; give at least one text description")
        cleaned = []
        for prompt in prompts:
            if not isinstance(prompt, str) or not prompt.strip():
                raise ValueError(f"`classes[{name!r}]` has an empty prompt {prompt!r}; every prompt needs text")
            if prompt.strip() in cleaned:
                raise ValueError(f"`classes[{name!r}]` has the prompt {prompt.strip()!r} twice")
            cleaned.append(prompt.strip())
        checked[name] = cleaned
    return checked


# The default weights (ViT-B-32, tag "openai") on the hub, as open_clip fetches them: checked without importing
# open_clip, which the app's default tabs do not load (issue 23).
DEFAULT_WEIGHTS_REPO = "timm/vit_base_patch32_clip_224.openai"
_WEIGHT_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")


def default_weights_here(cache_dir: str | os.PathLike | None = None) -> bool:
    """Whether CLIP's default weights can load without a hub: the file named by PROPGRAD_CLIP_CHECKPOINT, or the
    default tag's file in the local Hugging Face cache (``cache_dir``, default the hub's own)."""
    env_path = os.environ.get(CHECKPOINT_ENV, "").strip()
    if env_path:
        return Path(env_path).expanduser().is_file()
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    return any(isinstance(try_to_load_from_cache(DEFAULT_WEIGHTS_REPO, name, cache_dir=cache_dir), str)
               for name in _WEIGHT_FILES)


def _looks_like_path(pretrained: str) -> bool:
    return os.sep in pretrained or "/" in pretrained or pretrained.lower().endswith(_CHECKPOINT_SUFFIXES) or Path(
        pretrained
    ).is_file()


def _download_command(model_name: str, pretrained: str) -> str:
    """``hf download <repo> <file> --local-dir ...`` for an open_clip tag whose weights are on the hub."""
    try:
        import open_clip

        cfg = open_clip.pretrained.get_pretrained_cfg(model_name, pretrained) or {}
    except Exception:  # noqa: BLE001 - a hint must never hide the real error
        cfg = {}
    repo = (cfg.get("hf_hub") or "").strip("/")
    if not repo:
        return "download the checkpoint file open_clip lists for that tag"
    # open_clip's hub repositories hold the weights as open_clip_pytorch_model.bin (safetensors beside it).
    return f"`hf download {repo} open_clip_pytorch_model.bin --local-dir /path/to/clip`"


def _how_to_provide(model_name: str, pretrained: str) -> str:
    # Ends with what to do: the download command, then where the file goes (environment, argument, app box).
    return (
        f"to run CLIP {model_name!r} (open_clip tag {pretrained!r}) without the hub, fetch its weights on a "
        f"machine with a hub: {_download_command(model_name, pretrained)}, then set "
        f"{CHECKPOINT_ENV}=/path/to/clip/open_clip_pytorch_model.bin, or pass the file as "
        f"`pretrained='/path/to/clip/open_clip_pytorch_model.bin'` (the app: the turntable tab's 'Pretrained tag or "
        f"local checkpoint path' box)"
    )


def _checkpoint_file(pretrained: str, env_path: str) -> Path | None:
    """The checkpoint file the weights come from: ``pretrained`` where it names one, else PROPGRAD_CLIP_CHECKPOINT
    (``env_path``) where set; None for an open_clip tag."""
    if _looks_like_path(pretrained):
        return Path(pretrained).expanduser()
    return Path(env_path).expanduser() if env_path else None


@lru_cache(maxsize=2)
def _load_open_clip(model_name: str, pretrained: str, device: str, env_path: str):
    """(model, preprocess, tokenizer), shared by every ClipZeroShot with the same weights and device.

    ``env_path`` is the value of PROPGRAD_CLIP_CHECKPOINT, an argument so that the cache sees changes.
    """
    import open_clip

    # 1. Where the weights come from: a local file, the environment variable, or a hub tag.
    tag_cfg: dict = {}
    checkpoint = _checkpoint_file(pretrained, env_path)
    if _looks_like_path(pretrained):
        source = f"checkpoint file {str(checkpoint)!r}"
    else:
        if model_name not in open_clip.list_models():
            known = ", ".join([name for name in ("ViT-B-32", "ViT-B-16", "ViT-L-14", "RN50")
                               if name in open_clip.list_models()] or open_clip.list_models()[:4])
            raise ArgumentError("model_name", f"{model_name!r} is not an open_clip architecture; try {known} "
                                "(open_clip.list_models() lists all)")
        tags = open_clip.list_pretrained_tags_by_model(model_name)
        if pretrained in tags:
            tag_cfg = open_clip.get_pretrained_cfg(model_name, pretrained)
        if env_path:
            source = f"checkpoint file {str(checkpoint)!r} (from {CHECKPOINT_ENV})"
        elif not tag_cfg:
            raise ValueError(
                f"`pretrained` {pretrained!r} is neither an open_clip tag of {model_name!r} (known: {tags}) "
                f"nor a checkpoint file"
            )
        else:
            source = f"open_clip tag {pretrained!r}"
    if checkpoint is not None and not checkpoint.is_file():
        raise ModelUnavailableError(
            f"CLIP {model_name!r}: {source} does not exist; {_how_to_provide(model_name, pretrained)}"
        )
    if checkpoint is None:
        # Fetch (or find in the local hub cache) before building anything, so that a missing file
        # becomes one clear error instead of open_clip's logged traceback.
        try:
            open_clip.pretrained.download_pretrained(tag_cfg)
        except Exception as error:
            raise ModelUnavailableError(
                f"CLIP {model_name!r} weights for open_clip tag {pretrained!r} are not available here "
                f"(not in the local cache, and the download failed: {error.__class__.__name__}); "
                f"{_how_to_provide(model_name, pretrained)}"
            ) from error

    # 2. Build the model; a tag's QuickGELU and preprocessing settings also apply to its weights in a file.
    options = {}
    if tag_cfg:
        options["force_quick_gelu"] = bool(tag_cfg.get("quick_gelu", False))
        if checkpoint is not None:
            for key, option in (("mean", "image_mean"), ("std", "image_std"), ("interpolation", "image_interpolation"),
                                ("resize_mode", "image_resize_mode")):
                if key in tag_cfg:
                    options[option] = tag_cfg[key]
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(
            model_name, pretrained=str(checkpoint) if checkpoint is not None else pretrained, device=device, **options
        )
    except ModelUnavailableError:
        raise
    except Exception as error:
        if checkpoint is not None:
            raise ValueError(
                f"CLIP {model_name!r}: {source} does not fit the architecture ({error.__class__.__name__}: "
                f"{str(error)[:300]}); pass the `model_name` the checkpoint was trained with "
                f"(for OpenAI's weights: 'ViT-B-32-quickgelu' or the tag 'openai')"
            ) from error
        raise ModelUnavailableError(
            f"CLIP {model_name!r} with open_clip tag {pretrained!r} could not be loaded "
            f"({error.__class__.__name__}); {_how_to_provide(model_name, pretrained)}"
        ) from error
    return model.eval(), preprocess, open_clip.get_tokenizer(model_name)


class ClipZeroShot:
    """Zero-shot CLIP as a classifier over text descriptions, several prompts per class.

    ``output="probability"``: one column per class, the sum over that class's prompts of the softmax
    over ALL prompts of ``logit_scale * cosine similarity``; rows sum to 1.
    ``output="similarity"``: one column per prompt ("class: prompt"), the raw cosine similarity.

    ``pretrained`` is an open_clip tag (looked up on the hub or in its local cache) or a local
    checkpoint file; with a tag, the environment variable ``PROPGRAD_CLIP_CHECKPOINT`` (a file path)
    takes precedence over the hub. Missing weights raise :class:`~propgrad.errors.ModelUnavailableError`
    that says how to provide them. Text embeddings are computed once, when the model is built.

    Examples
    --------
    >>> model = ClipZeroShot({"toy car": ["a photo of a toy car"], "toy plane": ["a toy aeroplane"]})  # doctest: +SKIP
    >>> model.predict([image]).sum(axis=1)  # doctest: +SKIP
    array([1.], dtype=float32)
    """

    def __init__(
        self,
        classes: Mapping[str, Sequence[str]],
        model_name: str = "ViT-B-32",
        pretrained: str | os.PathLike = "openai",
        output: str = PROBABILITY,
        device: str | None = None,
        batch_size: int = 32,
        name: str | None = None,
    ):
        # Validate everything cheap before touching weights.
        classes = check_classes(classes)
        _check_output(output)
        batch_size = check_batch_size(batch_size)
        if not isinstance(model_name, str) or not model_name.strip():
            raise ValueError(f"`model_name` must be an open_clip architecture name, got {model_name!r}")
        if pretrained is None or not str(pretrained).strip():
            raise ValueError("`pretrained` must be an open_clip tag (e.g. 'openai') or a checkpoint path")
        resolved = pick_device(str(device) if device is not None else None)
        env_path = os.environ.get(CHECKPOINT_ENV, "").strip()
        model, preprocess, tokenizer = _load_open_clip(model_name, str(pretrained), str(resolved), env_path)
        self._setup(model, preprocess, tokenizer, classes, output, resolved, batch_size,
                    name or f"CLIP {model_name} ({Path(str(pretrained)).name})")
        # What a report names the weights by (provenance.describe_model): a file by its name and SHA-256.
        self.model_name = model_name
        checkpoint = _checkpoint_file(str(pretrained), env_path)
        self.pretrained = str(checkpoint.resolve()) if checkpoint is not None else str(pretrained)

    @classmethod
    def from_open_clip(
        cls,
        model: torch.nn.Module,
        preprocess,
        tokenizer,
        classes: Mapping[str, Sequence[str]],
        *,
        output: str = PROBABILITY,
        device: str | None = None,
        batch_size: int = 32,
        name: str = "CLIP zero-shot",
    ) -> "ClipZeroShot":
        """Wrap an already built open_clip model, its image ``preprocess`` and its ``tokenizer``."""
        classes = check_classes(classes)
        _check_output(output)
        resolved = pick_device(str(device) if device is not None else None)
        instance = cls.__new__(cls)
        instance._setup(model.eval().to(resolved), preprocess, tokenizer, classes, output, resolved,
                        check_batch_size(batch_size), name)
        return instance

    def _setup(self, model, preprocess, tokenizer, classes, output, device, batch_size, name) -> None:
        self.name = name
        self.classes = classes
        self.output = output
        self.output_kind = PROBABILITY if output == PROBABILITY else SIMILARITY
        self.device = device
        self.batch_size = batch_size
        self._model = model
        self._preprocess = preprocess
        prompts = [prompt for class_prompts in classes.values() for prompt in class_prompts]
        self.prompt_names = [f"{label}: {prompt}" for label, class_prompts in classes.items() for prompt in class_prompts]
        self.output_names = list(classes) if output == PROBABILITY else list(self.prompt_names)
        # (prompts, classes) 0/1 matrix: summing softmax columns of one class's prompts.
        owner = np.repeat(np.arange(len(classes)), [len(p) for p in classes.values()])
        self._membership = torch.nn.functional.one_hot(torch.as_tensor(owner), len(classes)).float().to(device)
        with torch.inference_mode():
            text = model.encode_text(tokenizer(prompts).to(device)).float()
            self._text = text / text.norm(dim=-1, keepdim=True)
            self._scale = float(model.logit_scale.exp().clamp(max=_MAX_LOGIT_SCALE))

    def __repr__(self) -> str:
        return f"ClipZeroShot(name={self.name!r}, classes={list(self.classes)}, output={self.output!r})"

    def similarities(self, images: list[Image.Image]) -> np.ndarray:
        """Cosine similarity of each image to each prompt, float32 (len(images), prompts)."""
        images = list(images)
        rows = []
        for start in range(0, len(images), self.batch_size):
            batch = torch.stack([self._preprocess(image.convert("RGB")) for image in images[start:start + self.batch_size]])
            with torch.inference_mode():
                features = self._model.encode_image(batch.to(self.device)).float()
                features = features / features.norm(dim=-1, keepdim=True)
                rows.append((features @ self._text.T).cpu().numpy())
        if not rows:
            return np.zeros((0, len(self.prompt_names)), dtype=np.float32)
        return np.concatenate(rows).astype(np.float32, copy=False)

    def predict(self, images: list[Image.Image]) -> np.ndarray:
        """Class probabilities (output="probability") or prompt similarities (output="similarity")."""
        similarity = self.similarities(images)
        if self.output == SIMILARITY:
            return similarity
        with torch.inference_mode():
            weights = torch.softmax(self._scale * torch.as_tensor(similarity, device=self.device), dim=1)
            return (weights @ self._membership).cpu().numpy().astype(np.float32, copy=False)


def _check_output(output) -> None:
    if output not in (PROBABILITY, SIMILARITY):
        raise ValueError(f"`output` must be {PROBABILITY!r} or {SIMILARITY!r}, got {output!r}")
