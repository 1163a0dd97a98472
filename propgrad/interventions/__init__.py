"""Sources of gradual interventions; each follows :class:`~propgrad.interventions.base.Intervention`."""
from .base import Intervention, InterventionSeries, ProgressFn, no_progress
from .frames import Frames
from .parametric import (
    EDITS, RECOLOUR_TARGETS, EditKind, ParametricEdit, darken, lighten, recolour, register_edit, register_recolour,
)
from .patch import PatchBlend
from .region import BACKGROUND, OBJECT, Region, RegionMask, composite, read_mask, resolve_region

# The diffusion editor needs torch and diffusers; import it only when asked for.
_DIFFUSION = ("Cancelled", "InstructPix2PixSweep", "instruct_pix2pix_available", "load_instruct_pix2pix")
_EDITORS = ("EDITORS", "GuidedEditorSweep", "editor_available", "editor_names", "load_editor")  # issue 17


def __getattr__(name: str):
    if name in _DIFFUSION:
        from . import diffusion

        return getattr(diffusion, name)
    if name in _EDITORS:
        from . import editors

        return getattr(editors, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EDITS", "EditKind", "Frames", "Intervention", "InterventionSeries", "ParametricEdit", "PatchBlend",
    "ProgressFn", "no_progress", "register_edit", *_DIFFUSION, *_EDITORS,
    "BACKGROUND", "OBJECT", "RECOLOUR_TARGETS", "Region", "RegionMask", "composite", "darken", "lighten",
    "read_mask", "recolour", "register_recolour", "resolve_region",
]
