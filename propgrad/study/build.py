"""Specs -> the package's objects: interventions and models, built where they run (in each worker)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from .definition import EDIT, GUIDED_EDITOR, INSTRUCT_PIX2PIX, PATCH, InterventionSpec, ModelSpec

DEFAULT_MODEL = "EfficientNet-Lite0 (ImageNet)"


def build_intervention(spec: InterventionSpec):
    """The intervention ``spec`` describes (a per-image placement is applied by :func:`placed`)."""
    from ..interventions import ParametricEdit, PatchBlend

    if spec.kind == EDIT:
        built = ParametricEdit(spec.edit, stop=spec.stop, start=spec.start, steps=spec.steps)
    elif spec.kind == PATCH:
        built = PatchBlend(list(spec.patches), position=spec.position, scale=spec.scale, steps=spec.steps,
                           labels=[Path(p).name for p in spec.patches])
    elif spec.kind == INSTRUCT_PIX2PIX:
        from ..cache import SeriesCache
        from ..interventions.diffusion import InstructPix2PixSweep

        # The disk cache makes a resumed or repeated study skip diffusion it has already done.
        built = InstructPix2PixSweep(spec.instruction, max_guidance=spec.max_guidance, steps=spec.steps,
                                     image_guidance=spec.image_guidance, denoising_steps=spec.denoising_steps,
                                     seeds=spec.seeds, cache=SeriesCache())
    elif spec.kind == GUIDED_EDITOR:  # issue 17
        from ..cache import SeriesCache
        from ..interventions.editors import GuidedEditorSweep

        built = GuidedEditorSweep(spec.instruction, editor=spec.editor, knob_range=spec.knob_range, steps=spec.steps,
                                  denoising_steps=spec.denoising_steps, seeds=spec.seeds,
                                  negative_prompt=spec.negative_prompt, model=spec.model, cache=SeriesCache())
    else:  # unreachable: InterventionSpec checks its kind
        raise ValueError(f"unknown intervention kind {spec.kind!r}")
    return with_region(built, spec.region, spec.feather)


def with_region(intervention, region: str | None, feather: float = 0.0):
    """Restrict ``intervention`` to "object", "background" or a mask file (propgrad.interventions.Region)."""
    if not region:
        return intervention
    from ..interventions.region import SEGMENTED, Region

    if region not in SEGMENTED and not Path(region).is_file():
        raise ValueError(f"intervention `region` {region!r} is neither 'object', 'background' nor a mask file")
    return Region(intervention, region if region in SEGMENTED else Path(region), feather=feather)


def placed(intervention, overrides: dict):
    """``intervention`` with a per-image patch position and scale (a list file's columns), if any."""
    if not overrides:
        return intervention
    inner = getattr(intervention, "intervention", intervention)
    if not hasattr(inner, "position"):
        raise ValueError("position_x/position_y/scale columns apply to patch interventions only")
    x, y = inner.position
    moved = dataclasses.replace(inner, position=(overrides.get("position_x", x), overrides.get("position_y", y)),
                                scale=overrides.get("scale", inner.scale))
    return dataclasses.replace(intervention, intervention=moved) if inner is not intervention else moved


def build_models(spec: ModelSpec) -> list:
    """Every model ``spec`` names, loaded once (the caller keeps them for all its items)."""
    from .. import models
    from ..models.base import softmax_for

    chosen = [models.get_model(name) for name in spec.names]
    chosen += [models.load_hub_classifier(source) for source in spec.hub]
    for path in spec.files:
        chosen.append(models.load_model_file(
            path, input_size=spec.input_size, mean=spec.mean, std=spec.std,
            class_names=list(spec.class_names) if spec.class_names else None,
            apply_softmax=softmax_for(spec.outputs_are)))
    return chosen or [models.get_model(DEFAULT_MODEL)]


def check_buildable(definition) -> None:
    """Fail before any item runs when an intervention or a model cannot be had (a misspelt model name,
    a missing patch or mask file), instead of failing every item on every worker.

    Interventions are built (cheap: no diffusion weights load until a series is asked for); models are
    only looked up, since loading them here would cost the driver memory it may not have.
    """
    from .. import models

    for spec in definition.interventions:
        build_intervention(spec)
    known = models.bundled_model_names()
    for name in definition.models.names:
        if name not in known:
            raise ValueError(f"`models`: unknown model {name!r}; available: {known}")
    for path in definition.models.files:
        if not Path(path).is_file():
            raise ValueError(f"`models` files: no such file {path!r}")
