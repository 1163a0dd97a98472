"""A skin-lesion scenario with a known bias: procedural images, stickers, and classifiers trained with and without it."""
from .generator import CLASSES, LesionDataset, add_patch, draw_lesion, draw_patch, make_dataset
from .models import (
    LesionClassifier,
    checkpoint_paths,
    example_paths,
    load_lesion_model,
    load_weights,
    patch_paths,
    register_lesion_models,
)

__all__ = [
    "CLASSES", "LesionClassifier", "LesionDataset", "add_patch", "checkpoint_paths", "draw_lesion",
    "draw_patch", "example_paths", "load_lesion_model", "load_weights", "make_dataset", "patch_paths",
    "register_lesion_models",
]
