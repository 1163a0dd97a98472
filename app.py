"""propgrad's Gradio app: local interventional explanations in three tabs.

Wiring only: every computation lives in the ``propgrad`` package. One builder function per tab, one
handler per tab's main action (``api_name`` "edit", "patch", "turntable"), one wrapper that turns the
package's errors into messages for the user. Handlers keep no state between calls: each request
writes into its own ``tempfile.mkdtemp`` folder and gradio serves the files from there.

Run ``python app.py`` (``GRADIO_SERVER_NAME``, ``GRADIO_SERVER_PORT`` and ``PROPGRAD_CONCURRENCY``
override the defaults).
"""
from __future__ import annotations

import os

# Before gradio is imported: no telemetry from a Space, a talk or a classroom.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image

from propgrad import app_support as support
from propgrad import paths
from propgrad.errors import ModelUnavailableError
from propgrad.models.base import OUTPUTS_ARE

log = logging.getLogger("propgrad.app")

ASSETS = paths.ASSETS
CONCURRENCY = int(os.environ.get("PROPGRAD_CONCURRENCY", "2"))
MAX_FILE_SIZE = "25mb"
QUEUE_SIZE = 64
IMAGENET_HINT = "(ImageNet)"  # the bundled ImageNet classifier, not the lesion heads built on it
# Longest side fed to InstructPix2Pix (its training resolution); edits at 512 px take minutes on a CPU.
IP2P_MAX_SIDE = int(os.environ.get("PROPGRAD_IP2P_MAX_SIDE", "512"))
GENERIC_ERROR = ("Something went wrong on the server while computing this (the details are in the server log). "
                 "Try smaller images or fewer steps; if it keeps happening, please report it.")


# ---------------------------------------------------------------------------------------------------
# Errors: the one place where exceptions become messages for the user.


def friendly_errors(handler):
    """Run ``handler``; show ValueError/TypeError/ModelUnavailableError messages as ``gr.Error``.

    Anything else is logged with its traceback on the server and shown as a generic message, so the
    UI never shows a traceback and the server keeps serving.
    """

    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except gr.Error:
            raise
        except (ValueError, TypeError, ModelUnavailableError) as error:
            # Stays until closed: the result boxes only say "Error", so the reason must not vanish.
            raise gr.Error(str(error), duration=None, title="Cannot run", print_exception=False) from error
        except MemoryError as error:
            raise gr.Error("The server ran out of memory: use a smaller image, fewer steps or fewer models.",
                           print_exception=False) from error
        except Exception as error:  # noqa: BLE001 - the last line of defence for a shared server
            log.exception("unexpected error in %s", handler.__name__)
            raise gr.Error(GENERIC_ERROR, print_exception=False) from error

    return wrapper


def _safe_image_input(component: gr.Image) -> gr.Image:
    """Make gradio's own decoding of an upload fail with a useful message instead of a bare exception."""
    original = component.preprocess

    def preprocess(payload):
        try:
            return original(payload)
        except gr.Error:
            raise
        except Exception as error:  # noqa: BLE001 - PIL raises many types for broken files
            name = getattr(payload, "orig_name", None) or "the upload"
            if isinstance(error, Image.DecompressionBombError):
                raise gr.Error(f"`image`: {name!r} has too many pixels to open safely; upload an image "
                               "under 50 megapixels", print_exception=False) from error
            raise gr.Error(f"`image`: {name!r} is not a readable image ({error.__class__.__name__}); "
                           "use a PNG, JPEG or WebP file", print_exception=False) from error

    component.preprocess = preprocess
    return component


# ---------------------------------------------------------------------------------------------------
# What is available (cheap to ask; weights load on first use)


def bundled_names() -> list[str]:
    try:
        from propgrad.models import registry
    except ImportError:  # the model registry is optional for the UI to start
        return []
    return list(registry.bundled_model_names())


def default_models(prefer: tuple[str, ...] = (IMAGENET_HINT,)) -> list[str]:
    names = bundled_names()
    for hint in prefer:
        chosen = [n for n in names if hint.lower() in n.lower()]
        if chosen:
            return chosen
    return names[:1]


def instruct_pix2pix_status() -> tuple[bool, str]:
    """Whether InstructPix2Pix weights can be loaded here, and a sentence saying so."""
    try:
        from propgrad.interventions.diffusion import instruct_pix2pix_available
    except ImportError:
        return False, "InstructPix2Pix support is not installed in this build."
    try:
        available = bool(instruct_pix2pix_available())
    except Exception:  # noqa: BLE001 - an availability probe must never stop the app
        log.exception("InstructPix2Pix availability check failed")
        available = False
    if available:
        return True, "InstructPix2Pix weights found: instruction-based edits are available."
    return False, ("InstructPix2Pix weights (`timbrooks/instruct-pix2pix`) are not on this machine, so only the "
                   "parametric edits below are available. On a machine with internet access, or with the "
                   "weights in the Hugging Face cache, the instruction editor appears here.")


IP2P = "InstructPix2Pix (instruction)"


def editor_choices(ip2p_available: bool) -> list[str]:
    from propgrad import EDITS

    return ([IP2P] if ip2p_available else []) + [f"parametric: {kind}" for kind in EDITS]


def patch_choices() -> dict[str, Path]:
    """Bundled patches by display name: the app's own, then the lesion scenario's when present."""
    found: dict[str, Path] = {}
    for folder in (ASSETS / "lesions" / "patches", ASSETS / "patches"):
        for path in sorted(folder.glob("*.png")) if folder.is_dir() else []:
            found.setdefault(path.stem.replace("_", " "), path)
    return found


def lesion_examples() -> list[Path]:
    folder = ASSETS / "lesions" / "examples"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in support.IMAGE_SUFFIXES)


def patch_defaults() -> dict:
    """The patch tab's default example: the skin-lesion scenario when it ships, else a bundled photo."""
    lesions = lesion_examples()
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


def turntable_frames() -> list[str]:
    return [str(p) for p in sorted((ASSETS / "turntable").glob("*.png"))]


# ---------------------------------------------------------------------------------------------------
# Shared pieces of every tab


def _progress_adapter(progress):
    return lambda fraction, message="": progress(float(fraction), desc=message)


def _models(bundled, files, input_size, mean, std, class_names, hub_ids="", outputs_are="auto", extra=(),
            missing="`models`: choose at least one bundled model, name a hub classifier or upload a .pt2 / "
                    "TorchScript file") -> list:
    paths = [support.file_path(f) for f in (files or [])]
    chosen = support.bundled_models(list(bundled or []))
    chosen += support.hub_models(hub_ids)
    if paths:
        chosen += support.uploaded_models(paths, input_size=input_size, mean=mean, std=std,
                                          class_names=class_names, outputs_are=outputs_are)
    chosen += list(extra)
    if not chosen:
        raise ValueError(missing)
    return chosen


def _finish(explanation, notes=()):
    files = support.write_results(explanation)
    return (
        support.summary_text(explanation, notes),
        str(files.strip),
        str(files.animation),
        str(files.curves),
        support.summary_table(explanation),
        str(files.null),
        str(files.bundle),
    )


def _test_settings(n_permutations, alpha) -> tuple[int, float]:
    # Checked before any slow work, so a typo does not cost a diffusion sweep.
    return (support.check_int(n_permutations, name="permutations", low=100, high=100_000),
            support.check_float(alpha, name="alpha", low=1e-4, high=0.2))


def _run(image, intervention, models, outputs, settings, seed, progress, notes=()):
    from propgrad import explain

    selection, selection_notes = support.select_outputs(models, outputs)
    notes = [*notes, *selection_notes]
    n_permutations, alpha = settings
    explanation = explain(
        image, intervention, models, outputs_of_interest=selection, n_permutations=n_permutations, alpha=alpha,
        seed=seed, progress=_progress_adapter(progress),
    )
    progress(1.0, desc="drawing plots")
    return _finish(explanation, notes)


def _load(image, name="image"):
    from propgrad import load_image

    if image is None:
        raise ValueError(f"`{name}` is missing: upload an image or pick an example below")
    if isinstance(image, (str, os.PathLike)):
        support.check_suffixes([str(image)], support.IMAGE_SUFFIXES, name=name)
    return load_image(image, name=name)


@dataclass
class ModelControls:
    bundled: gr.CheckboxGroup
    files: gr.File
    input_size: gr.Number
    mean: gr.Textbox
    std: gr.Textbox
    class_names: gr.Textbox
    outputs: gr.Textbox
    permutations: gr.Slider
    alpha: gr.Number
    hub_ids: gr.Textbox
    outputs_are: gr.Dropdown

    def inputs(self) -> list:
        # Newer settings go last: API clients pass arguments by position.
        return [self.bundled, self.files, self.input_size, self.mean, self.std, self.class_names,
                self.outputs, self.permutations, self.alpha, self.hub_ids, self.outputs_are]


def model_controls(defaults: list[str], outputs: str = "") -> ModelControls:
    names = bundled_names()
    bundled = gr.CheckboxGroup(names, value=[n for n in defaults if n in names], label="Bundled models (side by side)")
    outputs_box = gr.Textbox(outputs, label="Outputs of interest",
                             placeholder="blank = each model's predicted class; 'all'; or class names, comma-separated")
    with gr.Accordion("Your own models (Hugging Face hub, .pt2, TorchScript) and test settings", open=False):
        hub_ids = gr.Textbox("", label="Hugging Face image classifiers (hub ids or local folders, one per line)",
                             lines=1, placeholder="e.g. google/vit-base-patch16-224 (offline: only ids already in "
                                                  "this machine's hub cache)")
        files = gr.File(label="Model files (.pt2 exported program, TorchScript, or an authors' ConvMixer .pth; "
                              "never unpickled with code)",
                        file_count="multiple", file_types=list(support.MODEL_SUFFIXES))
        with gr.Row():
            input_size = gr.Number(None, label="Input size (px, square; 0 or blank = from the file)", precision=0,
                                   placeholder=".pt2: its export size; ConvMixer: 128; else 224")
            mean = gr.Textbox("", label="Mean (RGB, 0-1 scale; blank = from the file)",
                              placeholder="ImageNet 0.485, 0.456, 0.406; ConvMixer 0.5")
            std = gr.Textbox("", label="Std (RGB; blank = from the file)",
                             placeholder="ImageNet 0.229, 0.224, 0.225; ConvMixer 0.5")
        with gr.Row():
            class_names = gr.Textbox(label="Class names of the uploaded models (comma-separated, optional)",
                                     placeholder="one-output binary model: the positive class, or negative, positive",
                                     scale=2)
            outputs_are = gr.Dropdown(list(OUTPUTS_ARE), value="auto", label="Uploaded models return", scale=1,
                                      info="logits: softmax (one output: sigmoid); probabilities: as they are; "
                                           "scores: raw; auto: judged on probe images")
        with gr.Row():
            permutations = gr.Slider(1000, 20000, value=10000, step=1000, label="Shuffle-test permutations")
            alpha = gr.Number(0.01, label="Significance level alpha")
    return ModelControls(bundled, files, input_size, mean, std, class_names, outputs_box, permutations, alpha,
                         hub_ids, outputs_are)


def result_outputs(prefix: str) -> list:
    summary = gr.Markdown("Results appear here.", elem_id=f"{prefix}-summary")
    # The figures carry their own titles; gradio's label badge would cover them.
    strip = gr.Image(label="Image strip (step, property value)", type="filepath", interactive=False,
                     show_label=False)
    with gr.Row():
        curves = gr.Image(label="Output curves (threshold and flips marked)", type="filepath", scale=2,
                          interactive=False, show_label=False)
        animation = gr.Image(label="Animation (GIF)", type="filepath", scale=1, interactive=False)
    # Relative widths and wrapping, so that the score and p-value stay on screen on a phone too.
    table = gr.Dataframe(headers=support.TABLE_HEADERS, label="Scores per model and output of interest",
                         interactive=False, wrap=True, elem_id=f"{prefix}-table",
                         column_widths=["22%", "15%", "14%", "12%", "13%", "24%"])
    with gr.Row():
        null = gr.Image(label="Null distributions (shuffle test)", type="filepath", scale=2, interactive=False,
                        show_label=False)
        bundle = gr.File(label="Download: JSON + CSV + PNG + GIF (zip)", scale=1, interactive=False)
    return [summary, strip, animation, curves, table, null, bundle]


# ---------------------------------------------------------------------------------------------------
# Tab 1: diffusion edits (InstructPix2Pix) or parametric edits


@friendly_errors
def run_edit(image, instruction, editor, max_guidance, image_guidance, steps, denoising_steps, seeds,
             edit_end, bundled, files, input_size, mean, std, class_names, outputs, n_permutations, alpha,
             hub_ids="", outputs_are="auto", progress=gr.Progress()):
    """Edit ``image`` gradually (InstructPix2Pix guidance sweep or a parametric edit) and score the models."""
    settings = _test_settings(n_permutations, alpha)
    picture = _load(image)
    steps = support.check_int(steps, name="number of steps", low=3, high=support.MAX_STEPS)
    seed_list = support.parse_seeds(seeds)
    notes: list[str] = []
    if not editor:
        raise ValueError("`editor` is empty: choose InstructPix2Pix or one of the parametric edits")
    if editor == IP2P:
        if not instruction or not str(instruction).strip():
            raise ValueError("`instruction` is empty: type what the editor should change, e.g. 'make the fur white'")
        available, message = instruct_pix2pix_status()
        if not available:
            raise ModelUnavailableError(f"{message} Choose a parametric edit instead.")
        from propgrad.interventions.diffusion import InstructPix2PixSweep

        intervention = InstructPix2PixSweep(
            str(instruction).strip(),
            max_guidance=support.check_float(max_guidance, name="max text guidance", low=1.5, high=30),
            steps=steps,
            image_guidance=support.check_float(image_guidance, name="image guidance", low=1.0, high=10),
            denoising_steps=support.check_int(denoising_steps, name="denoising steps", low=1, high=100),
            seeds=seed_list,
            max_side=IP2P_MAX_SIDE,
        )
    elif isinstance(editor, str) and editor.startswith("parametric: "):
        from propgrad import ParametricEdit

        end = None if edit_end in (None, "") else support.check_float(edit_end, name="edit end value",
                                                                       low=-1e4, high=1e4)
        intervention = ParametricEdit(editor.removeprefix("parametric: "), stop=end, steps=steps)
        if len(seed_list) > 1:
            notes.append(f"a parametric edit is the same for every seed: one series, shuffle test seeded "
                         f"with {seed_list[0]}")
    else:
        raise ValueError(f"`editor` {editor!r} is not available here; choose one of {editor_choices(False)}")
    models = _models(bundled, files, input_size, mean, std, class_names, hub_ids, outputs_are)
    return _run(picture, intervention, models, outputs, settings, seed_list[0], progress, notes)


def show_editor_settings(editor: str):
    """Visibility of (instruction, diffusion settings, edit end value) for the chosen editor."""
    diffusion = editor == IP2P
    return gr.update(visible=diffusion), gr.update(visible=diffusion), gr.update(visible=not diffusion)


def build_edit_tab(ip2p: tuple[bool, str]) -> None:
    available, message = ip2p
    choices = editor_choices(available)
    gr.Markdown(f"Edit the image step by step and watch every model's output follow. **Editors:** {message}")
    with gr.Row():
        with gr.Column(scale=1):
            image = _safe_image_input(gr.Image(str(ASSETS / "examples" / "chelsea.jpg"), type="filepath",
                                               image_mode=None, label="Image", sources=["upload", "clipboard"]))
            editor = gr.Dropdown(choices, value="parametric: brightness", label="Editor")
            # Only the chosen editor's own settings are shown (see show_editor_settings).
            instruction = gr.Textbox("make the fur white", label="Instruction (InstructPix2Pix only)",
                                     visible=False)
            edit_end = gr.Number(0.1, label="Edit end value (parametric; blank = the edit's default)")
        with gr.Column(scale=1):
            steps = gr.Slider(3, support.MAX_STEPS, value=10, step=1, label="Number of steps")
            seeds = gr.Textbox("0", label="Seed(s): '0', '0, 1, 2' or '0-3' (several = mean curve)")
            with gr.Accordion("Diffusion settings", open=True, visible=False) as diffusion_settings:
                max_guidance = gr.Slider(1.5, 20, value=15, step=0.5, label="Max text guidance s_max")
                image_guidance = gr.Slider(1.0, 5.0, value=2.5, step=0.1, label="Image guidance")
                denoising = gr.Slider(5, 100, value=20, step=1, label="Denoising steps")
            controls = model_controls(default_models())
            button = gr.Button("Run", variant="primary", elem_id="edit-run")
    outputs = result_outputs("edit")
    inputs = [image, instruction, editor, max_guidance, image_guidance, steps, denoising, seeds, edit_end,
              *controls.inputs()]
    button.click(run_edit, inputs, outputs, api_name="edit", concurrency_limit=CONCURRENCY)
    editor.change(show_editor_settings, editor, [instruction, diffusion_settings, edit_end], queue=False,
                  api_visibility="private")
    gr.Examples(
        [[str(ASSETS / "examples" / "chelsea.jpg"), "parametric: brightness", 0.1, 10],
         [str(ASSETS / "examples" / "coffee.jpg"), "parametric: hue", 180, 12],
         [str(ASSETS / "examples" / "rocket.jpg"), "parametric: blur", 8, 8]],
        [image, editor, edit_end, steps], label="Examples (bundled images)",
    )


# ---------------------------------------------------------------------------------------------------
# Tab 2: patch blending


@friendly_errors
def run_patch(image, patch_names, patch_files, x, y, scale, steps, seed, bundled, files, input_size, mean,
              std, class_names, outputs, n_permutations, alpha, hub_ids="", outputs_are="auto",
              progress=gr.Progress()):
    """Blend each chosen patch into ``image`` with rising opacity; several patches give a mean curve."""
    from propgrad import PatchBlend

    settings = _test_settings(n_permutations, alpha)
    picture = _load(image)
    available = patch_choices()
    patches, labels = [], []
    if isinstance(patch_names, str):
        patch_names = [patch_names]
    for name in dict.fromkeys(patch_names or []):  # a patch ticked twice is one series, not two
        if name not in available:
            raise ValueError(f"`patches`: unknown bundled patch {name!r}; choose from {sorted(available)}")
        patches.append(available[name])
        labels.append(name)
    uploads = support.check_suffixes([support.file_path(f) for f in (patch_files or [])],
                                     (".png", ".webp", ".gif", ".jpg", ".jpeg"), name="patch upload")
    patches += uploads
    labels += [Path(p).stem for p in uploads]
    if not patches:
        raise ValueError("`patches` is empty: tick at least one bundled patch or upload a PNG with transparency")
    intervention = PatchBlend(
        patches,
        position=(support.check_float(x, name="patch x", low=0, high=1),
                  support.check_float(y, name="patch y", low=0, high=1)),
        scale=support.check_float(scale, name="patch scale", low=0.02, high=1),
        steps=support.check_int(steps, name="number of steps", low=3, high=support.MAX_STEPS),
        labels=labels,
    )
    models = _models(bundled, files, input_size, mean, std, class_names, hub_ids, outputs_are)
    seed = support.check_int(seed, name="seed", low=0, high=support.MAX_SEED)
    return _run(picture, intervention, models, outputs, settings, seed, progress)


def build_patch_tab() -> None:
    lesions = lesion_examples()
    defaults = patch_defaults()
    patches = patch_choices()
    gr.Markdown("Blend colourful patches into the image with opacity rising from 0 to 1. Several patches give "
                "a mean curve with a band (one standard deviation)."
                + (" Default: a synthetic melanoma with the lesion scenario's stickers; a classifier trained on "
                   "data where stickers co-occur with benign nevi should react to them." if lesions else
                   " The skin-lesion scenario is not in this build; the default is a bundled photo."))
    with gr.Row():
        with gr.Column(scale=1):
            image = _safe_image_input(gr.Image(defaults["image"], type="filepath", image_mode=None,
                                               label="Image", sources=["upload", "clipboard"]))
            patch_names = gr.CheckboxGroup(list(patches), value=defaults["patch_names"], label="Bundled patches",
                                           elem_id="patch-patches")
            patch_files = gr.File(label="Your patches (PNG with transparency)", file_count="multiple",
                                  file_types=["image"])
        with gr.Column(scale=1):
            with gr.Row():
                x = gr.Slider(0, 1, value=defaults["x"], step=0.01, label="Patch centre x (fraction)")
                y = gr.Slider(0, 1, value=defaults["y"], step=0.01, label="Patch centre y (fraction)")
            scale = gr.Slider(0.05, 1, value=defaults["scale"], step=0.01, label="Patch size (fraction of the short side)")
            steps = gr.Slider(3, support.MAX_STEPS, value=defaults["steps"], step=1, label="Number of steps")
            seed = gr.Number(0, label="Seed (shuffle test)", precision=0)
            controls = model_controls(defaults["models"])
            button = gr.Button("Run", variant="primary", elem_id="patch-run")
    outputs = result_outputs("patch")
    inputs = [image, patch_names, patch_files, x, y, scale, steps, seed, *controls.inputs()]
    button.click(run_patch, inputs, outputs, api_name="patch", concurrency_limit=CONCURRENCY)
    examples = [[str(p), 0.8, 0.2, 0.3] for p in lesions[:4]]
    examples += [[str(ASSETS / "examples" / "chelsea.jpg"), 0.45, 0.35, 0.3],
                 [str(ASSETS / "examples" / "coffee.jpg"), 0.5, 0.45, 0.35]]
    gr.Examples(examples, [image, x, y, scale], label="Examples (bundled images)")


# ---------------------------------------------------------------------------------------------------
# Tab 3: turntable frames


DEFAULT_CLASSES = ("coffee mug: a photo of a coffee mug; a ceramic mug with a handle; a cup of coffee\n"
                   "barrel: a photo of a barrel; a small drum\n"
                   "pitcher: a photo of a pitcher; a jug")


@friendly_errors
def run_turntable(frames, rotation, use_clip, classes, clip_model, clip_pretrained, seed, bundled, files,
                  input_size, mean, std, class_names, outputs, n_permutations, alpha, hub_ids="",
                  outputs_are="auto", progress=gr.Progress()):
    """Score uploaded frames (ordered by file name) with the bundled models and/or CLIP zero-shot."""
    from propgrad import Frames

    settings = _test_settings(n_permutations, alpha)
    paths = [support.file_path(f) for f in (frames or [])]
    if len(paths) < 3:
        raise ValueError(f"`frames`: upload at least 3 frames (ordered by file name), got {len(paths)}")
    if len(paths) > support.MAX_FRAMES:
        raise ValueError(f"`frames`: at most {support.MAX_FRAMES} frames per run, got {len(paths)}; "
                         "keep every n-th frame")
    support.check_suffixes(paths, support.IMAGE_SUFFIXES, name="frames")
    rotation = support.check_float(rotation or 0, name="total rotation", low=0, high=3600)
    values = None
    property_name = "frame"
    if rotation > 0:
        values = list(np.arange(len(paths)) * rotation / len(paths))
        property_name = "turntable angle (degrees)"
    intervention = Frames(paths, values=values, property_name=property_name)
    clip = []
    if use_clip:
        try:
            from propgrad.models.clip import ClipZeroShot
        except ImportError as error:
            raise ModelUnavailableError(f"CLIP zero-shot is not installed in this build ({error}); "
                                        "untick CLIP and use the bundled classifier") from error
        progress(0.0, desc="loading CLIP")
        clip.append(ClipZeroShot(support.parse_classes(classes), model_name=str(clip_model or "").strip() or "ViT-B-32",
                                 pretrained=str(clip_pretrained or "").strip() or "openai"))
    models = _models(bundled, files, input_size, mean, std, class_names, hub_ids, outputs_are, extra=clip,
                     missing="`models`: tick a bundled model, tick CLIP, name a hub classifier or upload a .pt2 / "
                             "TorchScript file")
    seed = support.check_int(seed, name="seed", low=0, high=support.MAX_SEED)
    try:
        return _run(None, intervention, models, outputs, settings, seed, progress)
    except ModelUnavailableError as error:
        if not clip:
            raise
        # The package speaks of arguments; here the user has boxes to fill in.
        raise ModelUnavailableError(
            f"{error} In this app: type the checkpoint file's path into 'Pretrained tag or local checkpoint "
            f"path' (the open_clip model must match it), or untick CLIP to use the other models."
        ) from None


def build_turntable_tab() -> None:
    gr.Markdown("Frames of an object turning (uploaded in file-name order). The default is a rendered mug turning "
                "360 degrees in 36 frames, made by `propgrad.turntable`. CLIP needs its weights (hub tag or a local "
                "checkpoint); the bundled ImageNet classifier always works.")
    frames_value = turntable_frames()
    with gr.Row():
        with gr.Column(scale=1):
            frames = gr.File(frames_value, label="Frames (ordered by file name)", file_count="multiple",
                             file_types=["image"], height=220)
            rotation = gr.Number(360, label="Total rotation covered by the frames (degrees; 0 = number them)")
            seed = gr.Number(0, label="Seed (shuffle test)", precision=0)
        with gr.Column(scale=1):
            use_clip = gr.Checkbox(False, label="Add CLIP zero-shot (open_clip; needs weights)")
            classes = gr.Textbox(DEFAULT_CLASSES, lines=4,
                                 label="CLIP classes: one per line, 'class: description; description; ...'")
            with gr.Row():
                clip_model = gr.Textbox("ViT-B-32", label="open_clip model")
                clip_pretrained = gr.Textbox("openai", label="Pretrained tag or local checkpoint path")
            controls = model_controls(default_models(), outputs="coffee mug")
            button = gr.Button("Run", variant="primary", elem_id="turntable-run")
    outputs = result_outputs("turntable")
    inputs = [frames, rotation, use_clip, classes, clip_model, clip_pretrained, seed, *controls.inputs()]
    button.click(run_turntable, inputs, outputs, api_name="turntable", concurrency_limit=CONCURRENCY)
    gr.Examples([[frames_value, 360], [frames_value[::3], 360]], [frames, rotation],
                example_labels=["Rendered mug, 36 frames over 360 degrees", "Rendered mug, every third frame (12)"],
                label="Examples (rendered by propgrad.turntable)")


# ---------------------------------------------------------------------------------------------------
# Tab 4 (when the lesion scenario ships per-epoch checkpoints): training dynamics


@friendly_errors
def run_dynamics(image, variants, steps, seed, n_permutations, alpha, progress=gr.Progress()):
    """Follow one lesion image's sticker score through the training epochs of each chosen variant."""
    plot, csv_path, table = support.run_dynamics(
        _load(image), variants,
        steps=support.check_int(steps, name="number of steps", low=3, high=support.MAX_STEPS),
        n_permutations=support.check_int(n_permutations, name="permutations", low=100, high=100_000),
        alpha=support.check_float(alpha, name="alpha", low=1e-4, high=0.2),
        seed=support.check_int(seed, name="seed", low=0, high=support.MAX_SEED),
        progress=_progress_adapter(progress),
    )
    return str(plot), table, str(csv_path)


def build_dynamics_tab(variants: list[str]) -> None:
    lesions = lesion_examples()
    gr.Markdown("How one image's sticker score and prediction flips evolve over training: every per-epoch "
                "checkpoint of the lesion classifiers explains the same patch-blending series.")
    with gr.Row():
        image = _safe_image_input(gr.Image(str(lesions[0]) if lesions else None, type="filepath", image_mode=None,
                                           label="Lesion image", sources=["upload", "clipboard"], scale=1))
        with gr.Column(scale=1):
            chosen = gr.CheckboxGroup(variants, value=variants, label="Model variants")
            steps = gr.Slider(3, support.MAX_STEPS, value=8, step=1, label="Number of steps")
            seed = gr.Number(0, label="Seed (shuffle test)", precision=0)
            permutations = gr.Slider(500, 10000, value=2000, step=500, label="Shuffle-test permutations")
            alpha = gr.Number(0.01, label="Significance level alpha")
            button = gr.Button("Run", variant="primary", elem_id="dynamics-run")
    plot = gr.Image(label="Score and flips per epoch", type="filepath", interactive=False)
    table = gr.Dataframe(headers=support.DYNAMICS_HEADERS, label="Per checkpoint", interactive=False,
                         elem_id="dynamics-table")
    download = gr.File(label="Download (CSV)", interactive=False)
    button.click(run_dynamics, [image, chosen, steps, seed, permutations, alpha], [plot, table, download],
                 api_name="dynamics", concurrency_limit=CONCURRENCY)
    if lesions:
        gr.Examples([[str(p)] for p in lesions[:4]], [image], label="Examples (synthetic lesions)")


# ---------------------------------------------------------------------------------------------------
# The app


INTRO = """# propgrad: local interventional explanations
Change one property of one image step by step, run every model on every step, and measure how strongly and how
systematically each output follows: the expected property gradient magnitude
**E[|grad_X F|] = mean over steps of |dF/dX|** (numpy's `np.gradient`, unit spacing), its shuffle-test p-value
(two-sided, 10,000 permutations by default) and where the prediction flips.
Method: Penzel & Denzler, *Locally Explaining Prediction Behavior via Gradual Interventions and Measuring
Property Gradients*, WACV 2026."""


def build_demo() -> gr.Blocks:
    """The whole app: one tab per intervention source."""
    ip2p = instruct_pix2pix_status()
    with gr.Blocks(title="propgrad: local interventional explanations", analytics_enabled=False,
                   delete_cache=(3600, 3600)) as demo:
        gr.Markdown(INTRO)
        with gr.Tab("Diffusion edits"):
            build_edit_tab(ip2p)
        with gr.Tab("Patch blending"):
            build_patch_tab()
        with gr.Tab("Turntable frames (CLIP)"):
            build_turntable_tab()
        variants = support.dynamics_variants()
        if variants:
            with gr.Tab("Training dynamics"):
                build_dynamics_tab(variants)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return demo


def launch_kwargs(**overrides) -> dict:
    """Settings every launch shares (the tests launch with these too)."""
    kwargs = dict(max_file_size=MAX_FILE_SIZE, show_error=True, footer_links=["api"],
                  allowed_paths=[str(ASSETS)])
    kwargs.update(overrides)
    return kwargs


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    # Host and port come from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (a Space sets them).
    build_demo().launch(**launch_kwargs())
