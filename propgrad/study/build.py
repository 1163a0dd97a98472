"""A study's specs -> the package's objects, built where they run (in each worker)."""
from __future__ import annotations

import dataclasses


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


def check_buildable(definition) -> None:
    """Fail before any item runs when an intervention or a model cannot be had (a misspelt model name,
    a missing patch or mask file), instead of failing every item on every worker.

    Interventions are built (cheap: no diffusion weights load until a series is asked for). Model files are
    loaded once and let go: a file whose outputs do not match its class names, or that cannot run on an image,
    failed every item and was then offered a retry by the same command. Registered models are loaded too where
    the outputs of interest are named, to check the names (they are small); hub models are only looked up, since
    loading them here would cost the driver memory it may not have.
    """
    from ..explain import check_named_outputs
    from ..outputs import parse_outputs

    for spec in definition.interventions:
        spec.build()
    definition.models.check()
    named = not isinstance(definition.outputs, str)
    # Bundled models are small; named outputs are checked against them and the files (a misspelt class failed every
    # item). A hub model is left to the workers.
    if definition.models.files or (named and definition.models.names):
        models = dataclasses.replace(definition.models, names=definition.models.names if named else (), hub=())
        selection = parse_outputs(list(definition.outputs)) if named else None
        for model in models.build(default=None):
            check_named_outputs(selection, model)
