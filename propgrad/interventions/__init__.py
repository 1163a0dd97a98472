"""Sources of gradual interventions; each follows :class:`~propgrad.interventions.base.Intervention`."""
from .base import Intervention, InterventionSeries, ProgressFn, no_progress
from .frames import Frames
from .parametric import EDITS, EditKind, ParametricEdit, register_edit
from .patch import PatchBlend

__all__ = [
    "EDITS", "EditKind", "Frames", "Intervention", "InterventionSeries", "ParametricEdit", "PatchBlend",
    "ProgressFn", "no_progress", "register_edit",
]
