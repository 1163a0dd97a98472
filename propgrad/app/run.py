"""What every tab's handler does once its own boxes are read: pick models, explain, write the results.

Gradio-free: ``progress`` is anything called as ``progress(fraction, desc=...)`` (``gr.Progress`` in the app).
"""
from __future__ import annotations

import os
from collections.abc import Sequence

from . import model_inputs, results
from .parsing import check_float, check_int, check_suffixes, file_path, select_outputs

NO_MODEL = ("`models`: choose at least one bundled model, name a hub classifier or upload a .pt2 / TorchScript "
            "file")


def package_progress(progress):
    """The package's ``progress(fraction, message)`` callback, shown through the app's progress bar."""
    return lambda fraction, message="": progress(float(fraction), desc=message)


def chosen_models(bundled, files, input_size, mean, std, class_names, hub_ids="", outputs_are="auto", extra=(),
                  missing: str = NO_MODEL) -> list:
    """Every model the shared model controls name, in the order bundled, hub, uploaded, ``extra``."""
    paths = [file_path(f, name="model files") for f in (files or [])]
    chosen = model_inputs.bundled_models(list(bundled or []))
    chosen += model_inputs.hub_models(hub_ids)
    if paths:
        chosen += model_inputs.uploaded_models(paths, input_size=input_size, mean=mean, std=std,
                                               class_names=class_names, outputs_are=outputs_are)
    chosen += list(extra)
    if not chosen:
        raise ValueError(missing)
    return chosen


def shuffle_test_settings(n_permutations, alpha) -> tuple[int, float]:
    """(permutations, alpha), checked before any slow work so that a typo does not cost a diffusion sweep."""
    return (check_int(n_permutations, name="permutations", low=100, high=100_000),
            check_float(alpha, name="alpha", low=1e-4, high=0.2))


def load_input(image, name: str = "image"):
    """The uploaded image as RGB, or a ValueError naming the box."""
    from ..images import IMAGE_SUFFIXES, load_image

    if image is None:
        raise ValueError(f"`{name}` is missing: upload an image or pick an example below")
    if isinstance(image, (str, os.PathLike)):
        check_suffixes([str(image)], IMAGE_SUFFIXES, name=name)
    return load_image(image, name=name)


def outputs_for_app(explanation, notes: Sequence[str] = ()) -> tuple:
    """The seven result components every tab shows, in :func:`shared.result_outputs`' order."""
    files = results.write_results(explanation)
    return (
        results.summary_text(explanation, notes),
        str(files["strip"]),
        str(files["animation"]),
        str(files["curves"]),
        results.summary_table(explanation),
        str(files["null"]),
        str(files["bundle"]),
    )


def explain_for_app(image, intervention, models, outputs, settings, seed, progress, notes=(),
                    statistic: str = "gradient") -> tuple:
    """Explain ``intervention`` for ``models`` and return the result components."""
    from .. import explain

    selection, selection_notes = select_outputs(models, outputs)
    n_permutations, alpha = settings
    explanation = explain(
        image, intervention, models, outputs_of_interest=selection, n_permutations=n_permutations, alpha=alpha,
        seed=seed, statistic=statistic, progress=package_progress(progress),
    )
    progress(1.0, desc="drawing plots")
    return outputs_for_app(explanation, list(dict.fromkeys([*notes, *selection_notes, *explanation.notes])))


def _titled(image, title: str):
    """``image`` with ``title`` written in a white band above it."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=max(12, image.width // 55))
    band = font.size + 10
    canvas = Image.new("RGB", (image.width, image.height + band), "white")
    canvas.paste(image.convert("RGB"), (0, band))
    ImageDraw.Draw(canvas).text((6, 4), title, fill="black", font=font)
    return canvas


def _side_by_side(images, gap: int = 6):
    from PIL import Image

    height = max(image.height for image in images)
    canvas = Image.new("RGB", (sum(image.width for image in images) + gap * (len(images) - 1), height), "white")
    left = 0
    for image in images:
        canvas.paste(image, (left, 0))
        left += image.width + gap
    return canvas


def _stacked(paths, out, titles=None):
    from PIL import Image

    images = [Image.open(path).convert("RGB") for path in paths]
    if titles:
        images = [_titled(image, title) for image, title in zip(images, titles)]
    width = max(image.width for image in images)
    canvas = Image.new("RGB", (width, sum(image.height for image in images)), "white")
    top = 0
    for image in images:
        canvas.paste(image, (0, top))
        top += image.height
    canvas.save(out)
    return out


def comparison_for_app(comparison, notes: Sequence[str] = ()) -> tuple:
    """A property comparison in the seven result components: ranked summary, the properties' strips stacked
    (regions outlined), their series side by side as a captioned GIF, each property's curves, the table,
    every property's null distributions (titled), and the zip (comparison.json/csv/png and each property's
    report)."""
    from .. import report
    from ..compare_report import folder_names, write_comparison

    folder = results.request_dir()
    # Each property's curves are in comparison.png and its steps in the side-by-side GIF below: drawn once.
    paths = write_comparison(comparison, folder / "comparison", figures=("strip", "null", "region"))
    # The per-property reports already hold each strip and null plot: shown as they are, not drawn again.
    folders = folder_names(comparison)
    strip = _stacked([paths[f"{folders[name]}/strip"] for name in comparison.properties], folder / "strips.png")
    null = _stacked([paths[f"{folders[name]}/null"] for name in comparison.properties], folder / "null.png",
                    titles=comparison.properties)
    first = [comparison.explanations[name].series[0] for name in comparison.properties]
    frames = [_side_by_side([_titled(series.images[step], f"{name}, step {step}")
                             for name, series in zip(comparison.properties, first)])
              for step in range(len(first[0]))]
    animation = folder / "animation.gif"
    frames[0].save(animation, save_all=True, append_images=frames[1:], duration=300, loop=0)
    bundle = report.zip_report(paths, folder / "propgrad-comparison.zip", root=folder / "comparison")
    return (results.comparison_text(comparison, notes), str(strip), str(animation), str(paths["figure"]),
            results.comparison_table(comparison), str(null), str(bundle))


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
    return comparison_for_app(comparison, [*notes, *selection_notes, *comparison.notes])
