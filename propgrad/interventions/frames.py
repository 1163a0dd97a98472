"""Captured real-life interventions: an ordered list of frames, e.g. a turntable rotation."""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import in_words
from ..images import load_image
from .base import InterventionSeries, ProgressFn, no_progress


def _natural_key(name: str):
    import re

    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


@dataclass(frozen=True)
class Frames:
    """An uploaded series of frames; step 0 is the first frame.

    Paths are sorted by file name (natural order, so ``frame_10`` follows ``frame_9``) unless
    ``order`` gives the indices explicitly. Frames whose size differs from the first frame's are
    resized to it. ``values`` are the property values (e.g. angles); default: the frame index.
    """

    frames: Sequence
    order: Sequence[int] | None = None
    values: Sequence[float] | None = None
    property_name: str = "frame"
    sort_by_name: bool = True

    name = "frames"

    def __post_init__(self):
        frames = list(self.frames)
        if len(frames) < 3:
            raise ValueError(f"`frames` needs at least 3 images, got {len(frames)}")
        values = None if self.values is None else [float(v) for v in self.values]
        if values is not None and (len(values) != len(frames) or not all(np.isfinite(values))):
            raise ValueError(f"`values` must hold one finite number per frame ({len(frames)}), got {self.values!r}")
        positions = list(range(len(frames)))
        if self.order is not None:
            if sorted(self.order) != positions:
                raise ValueError(f"`order` must be a permutation of 0..{len(frames) - 1}, got {list(self.order)}")
            positions = list(self.order)
        elif self.sort_by_name and all(isinstance(f, (str, os.PathLike)) for f in frames):
            positions = sorted(positions, key=lambda i: _natural_key(Path(frames[i]).name))
        # A frame's value moves with it: values are given in the order the frames were given.
        object.__setattr__(self, "frames", [frames[i] for i in positions])
        if values is not None:
            object.__setattr__(self, "values", [values[i] for i in positions])

    def series(self, image: Image.Image | None = None, progress: ProgressFn = no_progress) -> list[InterventionSeries]:
        loaded, resized = [], []
        for number, frame in enumerate(self.frames):
            label = Path(frame).name if isinstance(frame, (str, os.PathLike)) else f"frame {number + 1}"
            picture = load_image(frame, name=label)
            if loaded and picture.size != loaded[0].size:
                resized.append((label, picture.size))
                picture = picture.resize(loaded[0].size, Image.Resampling.LANCZOS)
            loaded.append(picture)
            progress((number + 1) / len(self.frames), f"loaded {label}")
        values = np.arange(len(loaded), dtype=np.float64) if self.values is None else np.asarray(self.values, float)
        return [InterventionSeries(loaded, values, self.property_name, label="frames",
                                   notes=_resized_note(resized, loaded[0].size))]


def _resized_note(resized: list[tuple[str, tuple[int, int]]], size: tuple[int, int]) -> tuple[str, ...]:
    """A note naming the frames resized to the first frame's size (they were resized without a word: a frame of
    another shape is stretched, and the model sees the stretch as part of the property)."""
    if not resized:
        return ()
    width, height = size
    # Aspect ratios more than 1 % apart (relative): a few pixels of rounding are not a stretch.
    stretched = [label for label, (w, h) in resized if abs((w / h) / (width / height) - 1) > 0.01]
    shown = in_words([f"{label} ({w}x{h})" for label, (w, h) in resized], most=4, quote=str)
    frames = f"{len(resized)} frame{'s' if len(resized) != 1 else ''}"
    words = f"{frames} resized to the first frame's {width}x{height} px: {shown}"
    if stretched:
        words += (f"; {len(stretched)} of them stretched (another aspect ratio): the model sees the stretch as part "
                  "of the change, so give frames of one size")
    return (words,)
