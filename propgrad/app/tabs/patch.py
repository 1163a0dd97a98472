"""The patch tab: colourful patches blended into one image with rising opacity."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from ... import paths
from ...errors import not_one_of
from ...images import load_rgba
from ...lesions.models import DIRECTION, DOMAIN, example_paths, patch_name
from ..parsing import RANGES, check_suffixes, file_path, in_range
from ..results import explain_for_app
from ..run import chosen_models, load_input, shuffle_test_settings
from ..shared import (bundled_names, default_models, friendly_errors, model_controls, preset_loaded, result_outputs,
                      safe_image_input, study_input, run_button, wire_run, with_model_args)
from ..study import study_for_app
from ..settings import CONCURRENCY

ASSETS = paths.ASSETS


def patch_choices() -> dict[str, Path]:
    """Bundled patches by display name: the app's own, then the lesion scenario's when present."""
    found: dict[str, Path] = {}
    for folder in (ASSETS / "lesions" / "patches", ASSETS / "patches"):
        for path in sorted(folder.glob("*.png")) if folder.is_dir() else []:
            found.setdefault(patch_name(path), path)
    return found


def patch_defaults() -> dict:
    """The patch tab's default example: the skin-lesion scenario when it ships, else a bundled photo."""
    lesions = example_paths()
    lesion_models = [n for n in bundled_names() if "lesion cnn" in n.lower()]
    return dict(
        image=str(lesions[0] if lesions else ASSETS / "examples" / "chelsea.jpg"),
        patch_names=list(patch_choices())[:3],
        x=0.8 if lesions else 0.5,
        y=0.2 if lesions else 0.5,
        scale=0.3,
        steps=10,
        models=lesion_models or default_models(),
    )


@friendly_errors
@with_model_args
def run_patch(image, patch_names, patch_files=None, x=0.5, y=0.5, scale=0.3, steps=10, seed=0, bundled=None,
              files=None, input_size=None, mean="", std="", class_names="", outputs="", n_permutations=10_000,
              alpha=0.01, hub_ids="", outputs_are="auto", study_files=None, progress=gr.Progress()):
    """Explain whether a classifier relies on a patch: blend it in with rising opacity and score each model.

    The paper's skin-lesion scenario: a coloured sticker is blended in at opacity 0 to 1; a model that
    learnt the sticker as a shortcut follows it (high E[|grad_X F|], significant p-value, prediction flips).
    Several patches give one series each and a mean curve. With study_files the same patches run on every
    image and the table aggregates them. Bad arguments come back as an error naming the argument.

    Args:
        image: the image to explain (an http(s) URL or a data: URI); ignored when study_files is given
        patch_names: bundled patches to blend (see the enum, e.g. "sticker 1"); each gives one series
        patch_files: your own patch images (PNG with transparency); pass [] for none
        x: horizontal position of the patch centre, 0 (left) to 1 (right)
        y: vertical position of the patch centre, 0 (top) to 1 (bottom)
        scale: patch size as a fraction of the image's shorter side, 0.02 to 1
        steps: number of opacity steps including opacity 0, 3 to 30
        seed: seed of the shuffle test, a non-negative integer
        {model_args}
        study_files: several images or a zip of them to run the same patches on (a study); leave out for one

    Returns:
        {result_returns}
    """
    from ...kinds import PatchSpec

    shuffle = shuffle_test_settings(n_permutations, alpha)
    picture = None if study_files else load_input(image)
    available = patch_choices()
    patches, labels = [], []
    if isinstance(patch_names, str):
        patch_names = [patch_names]
    for name in dict.fromkeys(patch_names or []):  # a patch ticked twice is one series, not two
        if name not in available:
            raise not_one_of("patches", name, sorted(available))
        patches.append(available[name])
        labels.append(name)
    uploads = check_suffixes([file_path(f, name="patch upload") for f in (patch_files or [])],
                             (".png", ".webp", ".gif", ".jpg", ".jpeg"), name="patch upload")
    notes = []
    for upload in uploads:
        # Read here, named as their box: after three ticked stickers an unreadable upload was "patch 4".
        if load_rgba(upload, name="patch upload").getextrema()[3][0] == 255:
            notes.append(f"the patch upload {Path(upload).name!r} has no transparent pixels: it is pasted as an opaque "
                         "rectangle (a PNG with transparency pastes only its shape)")
    patches += uploads
    labels += [Path(p).stem for p in uploads]
    if not patches:
        raise ValueError("`patches` is empty: tick at least one bundled patch or upload a PNG with transparency")
    intervention = PatchSpec(
        patches=tuple(str(patch) for patch in patches),
        position=(in_range(x, "x", "patch x"), in_range(y, "y", "patch y")),
        scale=in_range(scale, "scale", "patch scale"),
        steps=in_range(steps, "steps", "number of steps"),
        labels=tuple(labels),
    ).build()
    models = chosen_models(bundled, files, input_size, mean, std, class_names, hub_ids, outputs_are)
    seed = in_range(seed, "seed")
    if study_files:
        return study_for_app(study_files, {intervention.name: intervention}, models, outputs, shuffle, seed, progress,
                             notes=notes)
    return explain_for_app(picture, intervention, models, outputs, shuffle, seed, progress, notes=notes)


def default_result(progress=lambda *args, **kwargs: None) -> tuple:
    """The tab's default example through its own handler: what the page shows on load."""
    d = patch_defaults()
    return run_patch(d["image"], d["patch_names"], None, d["x"], d["y"], d["scale"], d["steps"], 0, d["models"],
                     progress=progress)


def patch_examples() -> tuple[list[list], list[str]]:
    """Whole presets (image, patches, position, size, models) and their labels."""
    defaults = patch_defaults()
    lesions = example_paths()
    names = list(patch_choices())
    own = [name for name in names if not name.startswith("sticker")][:3] or names[:3]
    imagenet = default_models()
    rows = [[str(path), defaults["patch_names"], 0.8, 0.2, 0.3, defaults["models"]] for path in lesions[:4]]
    labels = [f"Lesion {Path(path).stem.replace('_', ' ')} with stickers: lesion classifiers" for path in lesions[:4]]
    rows += [[str(ASSETS / "examples" / "chelsea.jpg"), own, 0.45, 0.35, 0.3, imagenet],
             [str(ASSETS / "examples" / "coffee.jpg"), own, 0.5, 0.45, 0.35, imagenet]]
    labels += ["Cat with colourful patches: ImageNet classifier",
               "Coffee cup with colourful patches: ImageNet classifier"]
    return rows, labels


def build_patch_tab() -> list:
    """The tab's controls, wired to :func:`run_patch`; returns the result components (filled on page load)."""
    lesions = example_paths()
    defaults = patch_defaults()
    patches = patch_choices()
    gr.Markdown("Blend colourful patches into the image with opacity rising from 0 to 1. Several patches give "
                "a mean curve with a band (one standard deviation)."
                + (" Default: a synthetic melanoma with the lesion scenario's stickers; a classifier trained on "
                   "data where stickers co-occur with benign nevi should react to them. " + DIRECTION + " " + DOMAIN
                   if lesions else
                   " The skin-lesion scenario is not in this build; the default is a bundled photo."))
    with gr.Row():
        with gr.Column(scale=1):
            image = safe_image_input(gr.Image(defaults["image"], type="filepath", image_mode=None,
                                               label="Image", sources=["upload", "clipboard"], height=260))
            patch_names = gr.CheckboxGroup(list(patches), value=defaults["patch_names"], label="Bundled patches",
                                           elem_id="patch-patches")
            patch_files = gr.File(label="Your patches (PNG with transparency)", file_count="multiple",
                                  file_types=["image"])
            button, error = run_button("patch")
        with gr.Column(scale=1):
            with gr.Row():
                x = gr.Slider(0, 1, value=defaults["x"], step=0.01, label="Patch centre x (fraction)")
                y = gr.Slider(0, 1, value=defaults["y"], step=0.01, label="Patch centre y (fraction)")
            scale = gr.Slider(0.05, 1, value=defaults["scale"], step=0.01,
                              label="Patch size (fraction of the short side)")
            steps = gr.Slider(*RANGES["steps"], value=defaults["steps"], step=1, label="Number of steps")
            controls = model_controls(defaults["models"], prefix="patch", seed=True)
            seed = controls.seed
            study_files = study_input("patch")
    rows, labels = patch_examples()
    examples = gr.Examples(rows, [image, patch_names, x, y, scale, controls.bundled], example_labels=labels,
                           label="Examples: each sets the image, patches, position, size and models together")
    outputs = result_outputs("patch")
    inputs = [image, patch_names, patch_files, x, y, scale, steps, seed, *controls.inputs(), study_files]
    running = wire_run(button, error, run_patch, inputs, outputs, "patch", CONCURRENCY)
    preset_loaded(examples, outputs, running)
    return outputs
