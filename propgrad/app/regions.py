"""The edit tab's region boxes -> one intervention per ticked region (several = a property comparison).

Gradio-free. Regions: the whole image, the segmenter's object or background, or a mask the user painted
(a ``gr.ImageEditor`` layer) or uploaded (a greyscale PNG).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import not_all_of
from .parsing import box_names

WHOLE = "whole image"
OBJECT = "object (segmenter)"
BACKGROUND = "background (segmenter)"
PAINTED = "painted or uploaded mask"
CHOICES = (WHOLE, OBJECT, BACKGROUND, PAINTED)


def painted_mask(editor_value) -> np.ndarray | None:
    """The strokes of a ``gr.ImageEditor`` value (alpha of every layer, combined), or None without strokes."""
    if editor_value is None:
        return None
    if not isinstance(editor_value, dict):
        raise ValueError(f"`painted mask`: expected the editor's layers, got {type(editor_value).__name__}")
    layers = [np.asarray(layer) for layer in editor_value.get("layers") or [] if layer is not None]
    alphas = [layer[:, :, 3] for layer in layers if layer.ndim == 3 and layer.shape[2] == 4]
    if not alphas or not any(alpha.any() for alpha in alphas):
        return None
    return np.maximum.reduce(alphas).astype(np.uint8)


def region_interventions(edit, regions: Sequence[str] | str | None, painted=None, mask_file: str | None = None,
                         ) -> tuple[dict, list[str]]:
    """({property name: intervention}, notes) for the ticked ``regions``, ``edit`` restricted to each.

    A painted layer and an uploaded mask are one region ("painted or uploaded mask"): the upload wins,
    with a note, when both are given. A painted layer without strokes and no upload is an error.
    """
    from ..interventions.region import BACKGROUND as SEGMENTED_BACKGROUND
    from ..interventions.region import OBJECT as SEGMENTED_OBJECT
    from ..compare import edit_label
    from ..screen import WHOLE_ONLY
    from ..interventions.region import Region, read_mask

    regions = [regions] if isinstance(regions, str) else list(regions or [])
    unknown = [region for region in regions if region not in CHOICES]
    if unknown:
        raise not_all_of("regions", unknown, CHOICES)
    if not regions:
        raise ValueError("`regions` is empty: tick at least one of " + ", ".join(CHOICES) + " (several are compared)")
    notes: list[str] = []
    what = edit_label(edit)
    if what in WHOLE_ONLY and any(region != WHOLE for region in regions):
        # The Screen leaves these out of regions; a Run computes them, and its answer read like any other's.
        notes.append(f"{what} inside a region turns the whole picture and keeps the turned pixels only inside the "
                     f"region, which tears the region's border: a model's response there mixes the {what} with the "
                     "torn edge (the Screen runs it on the whole image only)")
    chosen: dict = {}
    for region in dict.fromkeys(regions):
        if region == WHOLE:
            chosen[f"whole image: {what}"] = edit
        elif region == OBJECT:
            chosen[f"object: {what}"] = Region(edit, SEGMENTED_OBJECT)
        elif region == BACKGROUND:
            chosen[f"background: {what}"] = Region(edit, SEGMENTED_BACKGROUND)
        else:
            strokes = painted_mask(painted)
            if mask_file:
                if strokes is not None:
                    notes.append("both a painted layer and an uploaded mask were given: the uploaded mask is used")
                source, label, box = mask_file, "uploaded mask", "mask file"
            elif strokes is not None:
                source, label, box = strokes, "painted region", "painted mask"
            else:
                raise ValueError("`painted mask` has no strokes and no mask file was uploaded: paint over the "
                                 "region with the brush, upload a greyscale PNG (white = inside), or untick "
                                 f"'{PAINTED}'")
            chosen[f"{label}: {what}"] = box_names(Region, {"mask": box}, intervention=edit,
                                                   mask=read_mask(source, name=box), label=label)
    return chosen, notes
