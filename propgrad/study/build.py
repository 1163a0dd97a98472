"""Specs -> the package's objects: interventions and models, built where they run (in each worker)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from .definition import EDIT, INSTRUCT_PIX2PIX, PATCH, InterventionSpec, ModelSpec

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
    else:  # unreachable: InterventionSpec checks its kind
        raise ValueError(f"unknown intervention kind {spec.kind!r}")
    return with_region(built, spec.region)


def with_region(intervention, region: str | None):
    """Restrict ``intervention`` to a region where the package supports regions (see propgrad.interventions)."""
    if not region:
        return intervention
    try:
        from ..interventions import Region
    except ImportError:
        raise ValueError(f"intervention `region` {region!r}: this propgrad has no region support") from None
    return Region(intervention, region)


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
