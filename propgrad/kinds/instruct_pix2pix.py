"""InstructPix2Pix at rising text guidance: the paper's diffusion intervention."""
from __future__ import annotations

from dataclasses import dataclass

from .spec import InterventionSpec, option, steps_option

# The sweep's first edit is at guidance 1.01 (step 0 is the input), so the largest must lie above it.
FIRST_SCALE = 1.01


@dataclass(frozen=True, kw_only=True)
class InstructPix2PixSpec(InterventionSpec):
    kind = "instruct-pix2pix"
    selector = "instruction"
    summary = "InstructPix2Pix at rising text guidance, the same seed at every step"
    uses_gpu = True

    instruction: str = option(
        "", "InstructPix2Pix edit at rising text guidance, e.g. 'make the fur white' (needs its weights: a local "
        "folder in $PROPGRAD_INSTRUCT_PIX2PIX or the Hugging Face cache)", required=True, metavar="TEXT")
    max_guidance: float = option(10.0, "largest text guidance (scales linspace(1.01, max, steps - 1))",
                                 above=FIRST_SCALE)
    image_guidance: float = option(2.5, "image guidance", low=1)
    denoising_steps: int = option(20, "denoising steps per edit", low=1)
    seeds: tuple[int, ...] = option((0,), "one series per seed (same noise at every scale of a seed)", low=0,
                                    required=True, metavar="SEED")
    steps: int = steps_option()

    def describe(self) -> str:
        return f"InstructPix2Pix: {self.instruction}"

    def make(self, **overrides):
        from ..cache import SeriesCache
        from ..interventions.diffusion import InstructPix2PixSweep

        # Finished sweeps are kept on disk: a resumed study, another model or the other region reuses them.
        return InstructPix2PixSweep(self.instruction, max_guidance=self.max_guidance, steps=self.steps,
                                    image_guidance=self.image_guidance, denoising_steps=self.denoising_steps,
                                    seeds=self.seeds, cache=SeriesCache(), **overrides)
