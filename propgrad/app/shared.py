"""The UI pieces every tab shares: the error wrapper, the safe image input, model controls, result components."""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import gradio as gr
from PIL import Image

from ..errors import ModelUnavailableError
from ..models.base import OUTPUTS_ARE
from . import results
from .model_inputs import MODEL_SUFFIXES

log = logging.getLogger("propgrad.app")

IMAGENET_HINT = "(ImageNet)"  # the bundled ImageNet classifier, not the lesion heads built on it
GENERIC_ERROR = ("Something went wrong on the server while computing this (the details are in the server log). "
                 "Try smaller images or fewer steps; if it keeps happening, please report it.")


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


def safe_image_input(component, box: str = "image"):
    """Make gradio's own decoding of an upload fail with a message naming ``box`` instead of a bare exception.

    Also for the painting canvas, whose background is a copy of the image (a broken image fails there too).
    """
    original = component.preprocess

    def preprocess(payload):
        try:
            return original(payload)
        except gr.Error:
            raise
        except Exception as error:  # noqa: BLE001 - PIL raises many types for broken files
            name = getattr(payload, "orig_name", None) or "the upload"
            if isinstance(error, Image.DecompressionBombError):
                raise gr.Error(f"`{box}`: {name!r} has too many pixels to open safely; upload an image "
                               "under 50 megapixels", print_exception=False) from error
            raise gr.Error(f"`{box}`: {name!r} is not a readable image ({error.__class__.__name__}); "
                           "use a PNG, JPEG or WebP file", print_exception=False) from error

    component.preprocess = preprocess
    return component


def bundled_names() -> list[str]:
    """The registered models (cheap: weights load on first use)."""
    from ..models.bundled import bundled_model_names

    return bundled_model_names()


def default_models(prefer: tuple[str, ...] = (IMAGENET_HINT,)) -> list[str]:
    """The bundled models whose names contain the first hint that matches any; else the first model."""
    names = bundled_names()
    for hint in prefer:
        chosen = [n for n in names if hint.lower() in n.lower()]
        if chosen:
            return chosen
    return names[:1]


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
    """Bundled models, outputs of interest, and (folded) the user's own models and the test settings."""
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
                        file_count="multiple", file_types=list(MODEL_SUFFIXES))
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
    """Summary, strip, animation, curves, table, null plot and download, in the order handlers return them."""
    summary = gr.Markdown("Results appear here.", elem_id=f"{prefix}-summary")
    # The figures carry their own titles; gradio's label badge would cover them.
    strip = gr.Image(label="Image strip (step, property value)", type="filepath", interactive=False,
                     show_label=False)
    with gr.Row():
        curves = gr.Image(label="Output curves (threshold and flips marked)", type="filepath", scale=2,
                          interactive=False, show_label=False)
        animation = gr.Image(label="Animation (GIF)", type="filepath", scale=1, interactive=False)
    # Relative widths and wrapping, so that the score and p-value stay on screen on a phone too.
    table = gr.Dataframe(headers=results.TABLE_HEADERS, label="Scores per model and output of interest",
                         interactive=False, wrap=True, elem_id=f"{prefix}-table",
                         column_widths=["22%", "15%", "14%", "12%", "13%", "24%"])
    with gr.Row():
        null = gr.Image(label="Null distributions (shuffle test)", type="filepath", scale=2, interactive=False,
                        show_label=False)
        bundle = gr.File(label="Download everything (zip: JSON / CSV tables, figures)", scale=1, interactive=False)
    return [summary, strip, animation, curves, table, null, bundle]


def study_input(prefix: str) -> gr.File:
    """Several images or a zip: the tab's intervention and models run on each, aggregated (a small study)."""
    from .study import MAX_STUDY_IMAGES, STUDY_SUFFIXES

    return gr.File(label=f"Study (optional): several images or a zip, at most {MAX_STUDY_IMAGES}; the same settings "
                         "run on each and the results are averaged (the image above is then not used)",
                   file_count="multiple", file_types=list(STUDY_SUFFIXES), elem_id=f"{prefix}-study")
