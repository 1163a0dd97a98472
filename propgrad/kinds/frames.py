"""Uploaded frames (a turntable rotation, a video): the series is the frames in file-name order."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .spec import InterventionSpec, option


@dataclass(frozen=True, kw_only=True)
class FramesSpec(InterventionSpec):
    kind = "frames"
    selector = "frames"
    summary = "ordered frames brought by the user (sorted by file name), e.g. a turntable rotation"
    takes_image = False
    takes_region = False

    frames: tuple[str, ...] = option((), "ordered frames (sorted by file name), e.g. a turntable rotation",
                                     required=True, metavar="FRAME", path=True)
    rotation: float = option(0.0, "the turn the n frames span in degrees, as one full circle: frame i "
                             "is at i * rotation / n (36 frames of 360 degrees: 0 to 350); 0: the property is the "
                             "frame number", low=0, metavar="DEGREES")

    def describe(self) -> str:
        return f"frames ({len(self.frames)}, from {Path(self.frames[0]).parent.name or '.'})"

    def make(self):
        import dataclasses

        import numpy as np

        from ..interventions import Frames

        frames = Frames(list(self.frames))
        if not self.rotation:
            return frames
        # Angles follow the frames in their sorted order, the order the series shows them.
        angles = np.arange(len(frames.frames)) * self.rotation / len(frames.frames)
        return dataclasses.replace(frames, values=list(angles), property_name="turntable angle (degrees)")
