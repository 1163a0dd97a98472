"""Patch blending: RGBA patches pasted with opacity rising from 0 to 1, one series per patch."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ArgumentError
from .spec import InterventionSpec, option, steps_option


@dataclass(frozen=True, kw_only=True)
class PatchSpec(InterventionSpec):
    kind = "patch"
    selector = "patches"
    summary = "patch images blended in with opacity 0 to 1; several patches give a mean curve"

    patches: tuple[str, ...] = option(
        (), "patch image (PNG with transparency) blended in with opacity 0 to 1; repeat for several patches "
        "(one series each, averaged)", required=True, flag="--patch", metavar="PATCH", append=True, path=True)
    position: tuple[float, float] = option((0.5, 0.5), "patch centre as fractions of width and height", low=0,
                                           high=1, metavar=("X", "Y"))
    scale: float = option(0.3, "patch size as a fraction of the short side", above=0, high=1)
    labels: tuple[str, ...] = option((), "the patches' names in results, one per patch (default: file names)",
                                     metavar="LABEL")
    steps: int = steps_option()

    def __post_init__(self):
        super().__post_init__()
        if self.labels and len(self.labels) != len(self.patches):
            raise ArgumentError("labels", f"has {len(self.labels)} name{'s' * (len(self.labels) != 1)} for "
                                f"{len(self.patches)} patch{'es' * (len(self.patches) != 1)}; give one per patch")

    @property
    def names(self) -> list[str]:
        return list(self.labels) or [Path(p).name for p in self.patches]

    def describe(self) -> str:
        return f"patch blend ({', '.join(self.names)})"

    def make(self):
        from ..interventions import PatchBlend

        return PatchBlend(list(self.patches), position=self.position, scale=self.scale, steps=self.steps,
                          labels=self.names)
