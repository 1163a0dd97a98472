"""Any diffusers editing pipeline of :data:`propgrad.interventions.editors.EDITORS` (LEDITS++,
Qwen-Image-Edit, ...), swept over its guidance knob with the same seed at every value."""
from __future__ import annotations

from dataclasses import dataclass

from .spec import InterventionSpec, option, steps_option


def _editor_names() -> list[str]:
    from ..interventions.editors import editor_names

    return editor_names()


@dataclass(frozen=True, kw_only=True)
class GuidedEditorSpec(InterventionSpec):
    kind = "guided-editor"
    selector = "editor"
    summary = "a diffusers editing pipeline (LEDITS++, Qwen-Image-Edit, ...) swept over its guidance knob"
    uses_gpu = True

    editor: str = option("ledits++", "guided editor by name, with --instruction (see `python -m propgrad editors` "
                         "for every editor's knob, weights and licence)", choices=_editor_names, metavar="NAME")
    instruction: str = option("", "the edit, e.g. 'make the fur white'", required=True, metavar="TEXT")
    knob_range: tuple[float, float] | None = option(
        None, "the knob's values for steps 1.. (linspace(LOW, HIGH, steps - 1)); default per editor",
        metavar=("LOW", "HIGH"))
    negative_prompt: str | None = option(None, "negative prompt, for editors that take one (Qwen-Image-Edit: "
                                         "default ' ')", metavar="TEXT")
    model: str | None = option(None, "hub id or local folder of the editor's weights (default: its hub id, or the "
                               "folder in its environment variable, e.g. $PROPGRAD_LEDITS_PP)", flag="--editor-model",
                               metavar="ID_OR_FOLDER")
    denoising_steps: int = option(20, "denoising steps per edit", low=1)
    seeds: tuple[int, ...] = option((0,), "one series per seed (same noise at every knob value of a seed)", low=0,
                                    required=True, metavar="SEED")
    steps: int = steps_option()

    def __post_init__(self):
        super().__post_init__()
        # The sweep's own checks (the knob against the editor's range, a negative prompt it cannot take, the
        # instruction's length), with their names, before any weights load.
        self.make(cache=None)

    def describe(self) -> str:
        from ..interventions.editors import get_editor

        return f"{get_editor(self.editor).title}: {self.instruction}"

    def make(self, **overrides):
        from ..interventions.editors import GuidedEditorSweep

        if "cache" not in overrides:
            from ..cache import SeriesCache

            # Finished sweeps are kept on disk: a resumed study, another model or the other region reuses them.
            overrides["cache"] = SeriesCache()
        return GuidedEditorSweep(self.instruction, editor=self.editor, knob_range=self.knob_range, steps=self.steps,
                                 denoising_steps=self.denoising_steps, seeds=self.seeds,
                                 negative_prompt=self.negative_prompt, model=self.model, **overrides)
