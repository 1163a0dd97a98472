"""What every tab's handler does once its own boxes are read: pick models, explain, write the results.

Gradio-free: ``progress`` is anything called as ``progress(fraction, desc=...)`` (``gr.Progress`` in the app).
"""
from __future__ import annotations

import os

from ..export.provenance import run_settings
from . import model_inputs, results
from .parsing import MAX_PERMUTATIONS, check_float, check_int, check_suffixes, select_outputs

NO_MODEL = ("`models`: choose at least one bundled model, name a hub classifier or upload a .pt2 / TorchScript "
            "file")


def package_progress(progress):
    """The package's ``progress(fraction, message)`` callback, shown through the app's progress bar."""
    return lambda fraction, message="": progress(float(fraction), desc=message)


def chosen_models(bundled, files, input_size, mean, std, class_names, hub_ids="", outputs_are="auto", extra=(),
                  missing: str = NO_MODEL) -> list:
    """Every model the shared model controls name, in the order bundled, hub, uploaded, ``extra``."""
    spec = model_inputs.model_spec(bundled, files, input_size, mean, std, class_names, hub_ids, outputs_are)
    chosen = model_inputs.build_models(spec) + list(extra)
    if not chosen:
        raise ValueError(missing)
    return chosen


def shuffle_test_settings(n_permutations, alpha) -> tuple[int, float]:
    """(permutations, alpha), checked before any slow work so that a typo does not cost a diffusion sweep."""
    return (check_int(n_permutations, name="permutations", low=100, high=MAX_PERMUTATIONS),
            check_float(alpha, name="alpha", low=1e-4, high=0.2))


def load_input(image, name: str = "image"):
    """The uploaded image as RGB, or a ValueError naming the box; a file's name and hash travel with it (for
    report.json's settings)."""
    from ..images import IMAGE_SUFFIXES, load_image

    if image is None:
        raise ValueError(f"`{name}` is missing: upload an image or pick an example below")
    if isinstance(image, (str, os.PathLike)):
        check_suffixes([str(image)], IMAGE_SUFFIXES, name=name)
    return load_image(image, name=name)  # it notes the file's name and SHA-256 for report.json


def gradual_notes(explanation, name: str = "") -> list[str]:
    """The gradualness verdict, and a warning when a series is not gradual ("name: ..." for one property of
    several): the lines the summary shows under the table."""
    from ..gradualness import NOT_GRADUAL_WARNING

    prefix = f"{name}: " if name else ""
    # Said to be about the images, not the model: "gradual" right under an "abrupt" reading read as a contradiction.
    lines = [f"{prefix}the images themselves, before any model: {explanation.gradual_summary}"]
    if not explanation.gradual:
        lines.append(f"{prefix}**warning**: {NOT_GRADUAL_WARNING}")
    return lines


def explain_for_app(image, intervention, models, outputs, settings, seed, progress, notes=(),
                    statistic: str = "gradient") -> tuple:
    """Explain ``intervention`` for ``models`` and return the result components (see :func:`results.respond`)."""
    from .. import explain

    selection, selection_notes = select_outputs(models, outputs)
    n_permutations, alpha = settings
    explanation = explain(
        image, intervention, models, outputs_of_interest=selection, n_permutations=n_permutations, alpha=alpha,
        seed=seed, statistic=statistic, progress=package_progress(progress),
    )
    progress(1.0, desc="drawing plots")
    notes = list(dict.fromkeys([*notes, *selection_notes, *explanation.notes, *gradual_notes(explanation)]))
    recorded = run_settings(explanation.input, {explanation.intervention: intervention}, models, outputs,
                                    n_permutations, alpha, seed, notes)
    return results.respond(results.new_run(explanation, recorded, notes), progress)


def compare_for_app(image, interventions: dict, models, outputs, settings, seed, progress, notes=(),
                    statistic: str = "gradient") -> tuple:
    """Explain ``image`` under every intervention (one per property) and return the result components."""
    from ..compare import compare_properties

    selection, selection_notes = select_outputs(models, outputs)
    n_permutations, alpha = settings
    comparison = compare_properties(image, interventions, models, outputs_of_interest=selection,
                                    n_permutations=n_permutations, alpha=alpha, seed=seed, statistic=statistic,
                                    progress=package_progress(progress))
    progress(1.0, desc="drawing plots")
    checked = [line for name, result in comparison.explanations.items() for line in gradual_notes(result, name)]
    notes = list(dict.fromkeys([*notes, *selection_notes, *comparison.notes, *checked]))
    described = next(iter(comparison.explanations.values())).input
    recorded = run_settings(described, interventions, models, outputs, n_permutations, alpha, seed, notes)
    return results.respond(results.new_run(comparison, recorded, notes), progress)
