"""The UI pieces every tab shares: the error wrapper, the safe image input, model controls, result components."""
from __future__ import annotations

import functools
import logging
import re
import threading
import time
from dataclasses import dataclass

import gradio as gr
from PIL import Image

from ..disk import no_room
from ..errors import ModelUnavailableError, in_front_end_words, in_words, users_to_fix
from ..models.base import OUTPUTS_ARE
from . import defaults, folders, kept_copies, results
from .abandoned import RunAbandoned
from .model_inputs import MODEL_SUFFIXES
from .settings import MAX_UPLOAD_ENV, MAX_UPLOAD_MB

log = logging.getLogger("propgrad.app")

IMAGENET_HINT = "(ImageNet)"  # the bundled ImageNet classifier, not the lesion heads built on it
GENERIC_ERROR = ("Something went wrong on the server while computing this (the details are in the server log). "
                 "Try smaller images or fewer steps; if it keeps happening, please report it.")
# A full disk is no fault of the image or the steps (the generic message sent visitors to shrink them).
NO_ROOM_ERROR = ("The server's disk is full, so this run's files cannot be written. Older results are cleared as new "
                 "runs come: try again in a few minutes, or run the app on your own machine.")


# The model and test settings every tab takes, described once for the handlers' docstrings, from which gradio
# builds each MCP tool's argument descriptions (one "name: text" line each).
MODEL_ARGS_DOC = """bundled: names of bundled models to explain side by side (see the enum), e.g. the authors' ConvMixers
        files: your own model files (.pt2 exported program, TorchScript, authors' ConvMixer .pth); [] for none
        input_size: square input size in pixels of the uploaded model files; 0 = from the file (and when no files)
        mean: per-channel mean of the uploaded models' normalisation, "0.485, 0.456, 0.406"; "" = from the file
        std: per-channel std of the uploaded models' normalisation, "0.229, 0.224, 0.225"; "" = from the file
        class_names: comma-separated class names of the uploaded models; "" when no files or the file has them
        outputs: outputs of interest: "" = each model's predicted class, "all", "vector", or names ("cat, dog")
        n_permutations: shuffle-test permutations, 1000 to 20000 in steps of 1000 (more: finer p-values, slower)
        alpha: significance level for the shuffle test, 0.0001 to 0.2 (the paper uses 0.01)
        hub_ids: Hugging Face image classifiers (hub ids or server folders), one per line; "" for none
        outputs_are: what uploaded models return: "auto", "logits", "probabilities" or "scores"
"""


# The seven result components of the edit, patch and turntable tabs, described once likewise.
RESULT_RETURNS_DOC = """summary: Markdown: what ran, the reading in plain words, the ranked table (score, p-value, flips), notes
        strip: URL of a PNG of the image at each step with its property value (a comparison: a row per region)
        animation: URL of a GIF of the steps (none for a study)
        curves: URL of a PNG of each model output along the property, flips marked (a study: mean curves)
        table: rows of model, output, E[|grad_X F|] (0.01: about one point per step), p-value, significant, flips, reading
            (a study: per model and intervention, its tier, change, flips, mean output, E[|grad_X F|] mean ± std,
            share significant, images and share of gradual series)
        null: URL of a PNG of the shuffle-test null distributions and observed scores (a study: score vs flips)
        download: URL of a zip: report.json, scores.csv, curves.csv, figures, report.html (one self-contained page to
            share)"""


def with_model_args(handler):
    """``handler`` with the ``{model_args}`` and ``{result_returns}`` lines of its docstring replaced by
    :data:`MODEL_ARGS_DOC` and :data:`RESULT_RETURNS_DOC`."""
    handler.__doc__ = (handler.__doc__.replace("{model_args}", MODEL_ARGS_DOC.rstrip("\n"))
                       .replace("{result_returns}", RESULT_RETURNS_DOC))
    return handler


# Library arguments a handler passes on from a box of another name (a problem found deep in a model's loading).
BOXES = {"class_names": "class names", "classes": "CLIP classes", "model_name": "open_clip model"}


def in_box_words(error: BaseException) -> str:
    """An error's message, a library argument's name replaced by the box the user sees (:data:`BOXES`); in a call
    through the API, by the parameter the caller sent (:func:`api_words`)."""
    message = in_front_end_words(error, BOXES)
    return api_words(message) if api_call() else message


# What the page's number box does to "0,4" (a caller of the API sends numbers: its messages leave it out).
COMMA_HINT = "the box drops a decimal comma"
_COMMA_HINT = re.compile(rf" \({re.escape(COMMA_HINT)}, so [^)]*\)")
# The boxes' names in the handlers' messages -> the API parameter each fills: one table, from which the MCP tools'
# argument names are derived too (:data:`propgrad.app.mcp_tools.RENAMED`). A slider's refusal names it by its label
# (:func:`learn_api_names` reads those from the built page).
BOX_PARAMETERS = {
    "number of steps": "steps", "edit end value": "edit_end", "editor": "editor", "outputs of interest": "outputs",
    "outputs_of_interest": "outputs", "instruction": "instruction", "max text guidance": "max_guidance",
    "max guidance": "max_guidance", "image guidance": "image_guidance", "denoising steps": "denoising_steps",
    "seeds": "seeds", "mask file": "mask_file", "study images": "study_files", "patch x": "x", "patch y": "y",
    "patch scale": "scale", "patch upload": "patch_files", "total rotation": "rotation", "frames": "frames",
    "classes": "classes", "CLIP classes": "classes", "open_clip model": "clip_model",
    "CLIP pretrained tag or checkpoint path": "clip_pretrained", "permutations": "n_permutations",
    "hub ids": "hub_ids", "hub classifiers": "hub_ids", "model file": "files", "model files": "files",
    "class names": "class_names", "input size": "input_size", "mean": "mean", "std": "std",
    "uploaded models return": "outputs_are", "screen edits": "edits", "screen regions": "regions",
}
_BOX_PARAMETERS = {box.lower(): parameter for box, parameter in BOX_PARAMETERS.items()}  # as messages are matched
# Every box's label (lower case) -> the API parameter it fills (:func:`learn_api_names`).
_API_NAMES: dict[str, str] = {}


def learn_api_names(demo: gr.Blocks) -> None:
    """Note which API parameter each labelled box fills, for :func:`api_words`."""
    for endpoint in demo.get_api_info().get("named_endpoints", {}).values():
        for parameter in endpoint.get("parameters", []):
            label = str(parameter.get("label") or "").lower()
            if label and not label.startswith("parameter_"):
                _API_NAMES.setdefault(label, parameter["parameter_name"])


def without_box_hints(message: str) -> str:
    """``message`` without what only the page's boxes need said (:data:`COMMA_HINT`): a caller of the API or an
    agent sends numbers."""
    return _COMMA_HINT.sub("", message)


def api_call() -> bool:
    """Whether the event being handled came through the API (gradio_client marks its calls), not the page."""
    request = _request()
    headers = getattr(request, "headers", None) or {}
    return headers.get("x-gradio-user") == "api" or "/call/" in str(getattr(request, "url", ""))


def api_words(message: str, labels: dict[str, str] | None = None) -> str:
    """``message`` for a caller of the API: each box named in backticks by the parameter it fills ("`Number of steps`"
    and "`edit end value`" named boxes a script never saw: "`steps`", "`edit_end`"; :data:`BOX_PARAMETERS`, else a
    label of ``labels``, default the page's), without what only the page's boxes need said (:data:`COMMA_HINT`).

    Examples
    --------
    >>> api_words("`edit end value` for darken must lie in [0, 1], got 5.0 (the box drops a decimal comma, so 0,5 "
    ...           "arrives as 5: type 0.5)")
    '`edit_end` for darken must lie in [0, 1], got 5.0'
    >>> api_words("`Number of steps` must be from 3 to 30, got 1000", {"number of steps": "steps"})
    '`steps` must be from 3 to 30, got 1000'
    """
    labels = _API_NAMES if labels is None else labels

    def named(match: re.Match) -> str:
        box = match.group(1).lower()
        if box in _BOX_PARAMETERS:
            return f"`{_BOX_PARAMETERS[box]}`"
        for label, parameter in labels.items():
            # The label's head, before its gloss ("edit end value (parametric; ...)"): by prefix, "`edit`" and
            # "`patch`" became "edit_end" and "x".
            if re.split(r" \(|:", label)[0] == box:
                return f"`{parameter}`"
        return match.group(0)

    return re.sub(r"`([^`]+)`", named, without_box_hints(message))


def friendly_errors(handler):
    """Run ``handler``; show ValueError/TypeError/ModelUnavailableError messages as ``gr.Error``.

    Anything else is logged with its traceback on the server and shown as a generic message, so the
    UI never shows a traceback and the server keeps serving.
    """

    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        try:
            folders.check_room()
            with defaults.user_run(), folders.in_use():  # the background defaults pause meanwhile
                return handler(*args, **kwargs)
        except gr.Error:
            raise
        except RunAbandoned as error:
            log.info("stopped %s at %r: its visitor has left", handler.__name__, str(error))
            raise gr.Error("The run was stopped: its page was closed.", print_exception=False) from error
        except (ValueError, TypeError, ModelUnavailableError) as error:
            if not users_to_fix(error):
                # A call the code got wrong ("takes 5 positional arguments but 6 were given") is no box to change.
                log.exception("unexpected error in %s", handler.__name__)
                raise gr.Error(GENERIC_ERROR, print_exception=False) from error
            log.info("run refused in %s: %s", handler.__name__, error)
            # Stays until closed: the result boxes only say "Error", so the reason must not vanish.
            raise gr.Error(in_box_words(error), duration=None, title="Cannot run", print_exception=False) from error
        except MemoryError as error:
            raise gr.Error("The server ran out of memory: use a smaller image, fewer steps or fewer models.",
                           print_exception=False) from error
        except Exception as error:  # noqa: BLE001 - the last line of defence for a shared server
            if no_room(error):  # an OSError, or the series cache's "database or disk is full"
                log.warning("run refused in %s: %s", handler.__name__, error)
                raise gr.Error(NO_ROOM_ERROR, duration=None, title="Cannot run", print_exception=False) from error
            log.exception("unexpected error in %s", handler.__name__)
            raise gr.Error(GENERIC_ERROR, print_exception=False) from error

    return wrapper


def named_bounds(demo: gr.Blocks) -> None:
    """Every slider and number box of ``demo`` refuses an out-of-range value by its label.

    The page's sliders cannot leave their range, but an API call can: gradio then refused "Value 1000 is greater
    than maximum value 30." naming no box, and logged a traceback for each such call.
    """
    for block in demo.blocks.values():
        if isinstance(block, (gr.Slider, gr.Number)):
            _refuse_by_label(block)


def _refuse_by_label(component) -> None:
    original = component.preprocess

    def preprocess(payload):
        low, high = component.minimum, component.maximum
        if isinstance(payload, (int, float)) and not isinstance(payload, bool) and (
                (low is not None and payload < low) or (high is not None and payload > high)):
            allowed = (f"from {low:g} to {high:g}" if low is not None and high is not None else
                       f"at least {low:g}" if low is not None else f"at most {high:g}")
            message = f"`{component.label or 'a number'}` must be {allowed}, got {payload:g}"
            # gradio gives no request to a preprocess; only a caller of the API can move a slider past its range, so
            # a slider's refusal names the parameter it sent ("`Number of steps`" was a box a script never saw).
            raise gr.Error(api_words(message) if isinstance(component, gr.Slider) else message, print_exception=False)
        return original(payload)

    component.preprocess = preprocess


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
                from ..images import too_many_pixels

                raise gr.Error(too_many_pixels(box, repr(name)), print_exception=False) from error
            from ..images import IMAGE_FORMATS, why_unreadable

            raise gr.Error(f"`{box}`: {name!r} is not a readable image ({why_unreadable(error)}); "
                           f"use a {IMAGE_FORMATS} file", print_exception=False) from error

    component.preprocess = preprocess
    if isinstance(component, gr.Image):
        # Checked as it arrives: a file that is not an image leaves the box with a message at once, instead of
        # sitting there until Run fails on it.
        component.upload(_unreadable_upload_refused(component, preprocess), component, component, preprocess=False,
                         api_visibility="private")
    return component


def _unreadable_upload_refused(component, preprocess):
    def refuse(payload):
        if not payload:
            return gr.skip()
        try:
            preprocess(component.data_model.model_validate(payload))
        except gr.Error as error:
            gr.Warning(error.message.replace("`", ""), duration=15)  # a toast shows no Markdown
            return None
        return gr.skip()

    return refuse


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
    seed: gr.Number | None = None  # the shuffle test's seed, where the tab asks for it (not one of inputs())

    def inputs(self) -> list:
        # Newer settings go last: API clients pass arguments by position.
        return [self.bundled, self.files, self.input_size, self.mean, self.std, self.class_names,
                self.outputs, self.permutations, self.alpha, self.hub_ids, self.outputs_are]


def model_controls(defaults: list[str], outputs: str = "", prefix: str | None = None, seed: bool = False
                   ) -> ModelControls:
    """Bundled models and outputs of interest; then "Your own model" and the test settings, each its own section."""
    names = bundled_names()
    # The example's models first: the list reads from what this tab's default uses.
    ordered = [n for n in defaults if n in names] + [n for n in names if n not in defaults]
    bundled = gr.CheckboxGroup(ordered, value=[n for n in defaults if n in names], label="Models (side by side)",
                               elem_id=prefix and f"{prefix}-models")
    outputs_box = gr.Textbox(outputs, label="Outputs of interest", elem_id=prefix and f"{prefix}-outputs",
                             placeholder="blank = each model's predicted class; 'all'; or class names, comma-separated")
    with gr.Accordion("Your own model: a file (.pt2, TorchScript, ConvMixer) or a Hugging Face classifier",
                      open=False, elem_classes=["own-model"]):
        hub_ids = gr.Textbox("", label="Hugging Face image classifiers (hub ids or local folders, one per line)",
                             lines=1, placeholder="e.g. google/vit-base-patch16-224 (offline: only ids already in "
                                                  "this machine's hub cache)")
        # One short line: a longer label ran under the file box's own buttons once a file was in it.
        files = gr.File(label=f"Model files (.pt2, TorchScript, ConvMixer .pth; at most {MAX_UPLOAD_MB} MB each)",
                        file_count="multiple", file_types=list(MODEL_SUFFIXES))
        gr.Markdown(f"A .pt2 exported program, a TorchScript file or an authors' ConvMixer checkpoint, never "
                    f"unpickled with code. Larger than {MAX_UPLOAD_MB} MB: run the app yourself with "
                    f"`{MAX_UPLOAD_ENV}` set, or the command line's `--model-file`.", elem_classes=["hint"])
        upload_status = gr.Markdown("", elem_classes=["upload-status"])
        with gr.Row():
            input_size = gr.Number(None, label="Input size (px, square; 0 or blank = from the file)", precision=0,
                                   placeholder=".pt2: its export size; ConvMixer: 128; else 224")
            mean = gr.Textbox("", label="Mean (RGB, 0-1 scale; blank = from the file)",
                              placeholder="ImageNet 0.485, 0.456, 0.406; ConvMixer 0.5")
            std = gr.Textbox("", label="Std (RGB; blank = from the file)",
                             placeholder="ImageNet 0.229, 0.224, 0.225; ConvMixer 0.5")
        with gr.Row():
            class_names = gr.Textbox("", label="Class names of the uploaded models (comma-separated, optional)",
                                     placeholder="one-output binary model: the positive class, or negative, positive",
                                     scale=2)
            outputs_are = gr.Dropdown(list(OUTPUTS_ARE), value="auto", label="Uploaded models return", scale=1,
                                      info="logits: softmax (one output: sigmoid); probabilities: as they are; "
                                           "scores: raw; auto: judged on probe images")
    with gr.Accordion("Test settings (shuffle test)", open=False):
        with gr.Row():
            permutations = permutations_slider()
            alpha = gr.Number(0.01, label="Significance level alpha")
            seed_box = gr.Number(0, label="Seed (shuffle test)", precision=0) if seed else None
    # Checked on upload, with the message beside the box: a file that is no model is refused here, not at Run.
    checked = [files, input_size, mean, std, class_names, outputs_are]
    files.upload(check_again, checked, upload_status, api_visibility="private")
    files.clear(lambda: "", None, upload_status, queue=False, api_visibility="private")
    # Checked again when a setting changes, so that the line says what a run will do (class names typed after the
    # upload still read "class 0, class 1"; three names for two outputs were refused only at Run).
    for box in (input_size, mean, std, class_names):
        box.blur(check_again, checked, upload_status, api_visibility="private", trigger_mode="always_last")
    outputs_are.change(check_again, checked, upload_status, api_visibility="private", trigger_mode="always_last")
    return ModelControls(bundled, files, input_size, mean, std, class_names, outputs_box, permutations, alpha,
                         hub_ids, outputs_are, seed_box)


def permutations_slider(value: int = 10000) -> gr.Slider:
    """The shuffle test's permutations, one range on every tab (the training-dynamics tab starts lower: it tests
    every checkpoint)."""
    return gr.Slider(1000, 20000, value=value, step=1000, label="Shuffle-test permutations")


def check_again(files, *settings) -> str:
    """:func:`check_uploaded_models` for an upload or a changed setting, where models were uploaded (else nothing to
    say); the same files and settings again (a box left without a change) do not load the models again."""
    if not files:
        return ""
    from .parsing import file_path

    try:
        return _check_cached(tuple(file_path(f, name="model files") for f in files), *settings)
    except (ValueError, TypeError):  # not files, or settings that are no plain values: checked as they are
        return check_uploaded_models(files, *settings)


@functools.lru_cache(maxsize=32)
def _check_cached(paths: tuple[str, ...], *settings) -> str:
    # Keyed by the files and settings: uploads live in per-upload folders, so a path names one file.
    return check_uploaded_models(list(paths), *settings)


def check_uploaded_models(files, input_size, mean, std, class_names, outputs_are) -> str:
    """Load the uploaded model files as a run would; say what each is, or why it cannot be used."""
    from ..models.spec import ModelSpec
    from .model_inputs import build_models, uploaded_settings
    from .parsing import file_path

    try:
        paths = [file_path(f, name="model files") for f in (files or [])]
        models = build_models(ModelSpec(**uploaded_settings(paths, input_size=input_size, mean=mean, std=std,
                                                            class_names=class_names or "",
                                                            outputs_are=outputs_are or "auto")))
    except Exception as error:  # noqa: BLE001 - an upload check must never stop the app
        if isinstance(error, (ValueError, TypeError, ModelUnavailableError)) and users_to_fix(error):
            return f"**Cannot use this upload:** {in_box_words(error)}"
        log.exception("checking uploaded models failed")
        return f"**Cannot use this upload:** {GENERIC_ERROR}"
    lines = []
    for model in models:
        # What the run will do with it, as every report's guide says it: the input size and where it came from,
        # the normalisation, and what its outputs are read as ("auto" read a one-logit model as a probability,
        # unsaid).
        named = in_words(model.output_names, most=4, quote=str)
        lines.append(f"- ready: **{model.name}**, outputs {named}: {getattr(model, 'description', '')}")
    return "\n".join(lines)


PRESS_RUN = "Press **Run** to explain this example."
RUNNING = ("**Running...** The new result appears here when it is ready; until then, any figures below are the "
           "previous run's.")
FAILED = ("**This run failed**: the message next to the Run button says which box to change. The previous result "
          "was cleared so that it is not mistaken for this run's.")
# What the box beside Run says when a run fails before its handler starts (gradio could not read an input).
UNREAD_INPUT = ("**Cannot run:** the server could not read one of the inputs: a file that is not what its box expects "
                "(an image that does not open, for example). Upload it again, or pick an example below.")
# ... when the input was the server's own copy of a bundled picture, gone from its temp folder (now put back).
PUT_BACK = ("**Cannot run:** the server's copies of pictures this page shows ({names}) had been removed from its "
            "temporary folder (by a cleaner of old files, perhaps); they are back now. Pick the example again (or "
            "reload the page), then press Run.")


def unread_input() -> str:
    """What the form says when gradio could not read an input: often a bundled picture whose copy something removed
    (put back here, so that picking the example again works; before, it failed the same way until a restart)."""
    restored = kept_copies.put_back()
    if not restored:
        return UNREAD_INPUT
    return PUT_BACK.format(names=in_words(restored, quote=str) if len(restored) <= 3 else f"{len(restored)} of them")


def run_button(prefix: str) -> tuple[gr.Button, gr.Markdown]:
    """The tab's Run button and, right under it, the place where a form error is shown (once)."""
    button = gr.Button("Run", variant="primary", elem_id=f"{prefix}-run", elem_classes=["run-button"])
    error = gr.Markdown("", visible=False, elem_id=f"{prefix}-error", elem_classes=["form-error"])
    return button, error


ANIMATION_FOLD = "Animation: every step of the series"
NULL_FOLD = "Null distributions: how the shuffle test decided"
# A study has no one series to animate or shuffle; the null plot's place holds its score-against-flips figure.
STUDY_FOLD = "Does the score predict flips? Each series' score against its flips"


class ResultOutputs(list):
    """:func:`result_outputs`' seven components, in the order handlers return them, and ``folds``: the accordions
    around the animation and the null plot, whose titles a study changes (:func:`fold_titles`)."""

    folds: tuple = ()


def fold_titles(count: int = 2, study: bool = False, figure: str | None = None) -> tuple:
    """The updates of the first ``count`` of the animation's and the null plot's accordions (a tab without them
    has none) for a single run, or for a study whose score-against-flips ``figure`` sits in the null plot's place
    (the study used to show it under "Null distributions", above an empty "Animation")."""
    if not study:
        updates = gr.update(visible=True), gr.update(label=NULL_FOLD, visible=True)
    else:
        updates = gr.update(visible=False), gr.update(label=STUDY_FOLD, visible=figure is not None)
    return updates[:count]


def result_outputs(prefix: str, placeholder: str = PRESS_RUN, comparisons: bool = False) -> ResultOutputs:
    """Summary (with the ranked table), strip, animation, curves, table, null plot and download, in the order
    handlers return them. The animation and the null distributions fold into accordions; the table is the
    API's (the page shows the same rows, with the reading, in the summary). ``comparisons``: the tab can compare
    several regions, whose zip holds comparison.json (the label promised it in tabs that never make one)."""
    summary = gr.Markdown(placeholder, elem_id=f"{prefix}-summary", elem_classes=["result-summary"])
    # The figures carry their own titles; gradio's label badge would cover them.
    strip = gr.Image(label="Image strip (step, property value)", type="filepath", interactive=False,
                     show_label=False, buttons=["fullscreen"], elem_classes=["result-wide"], elem_id=f"{prefix}-strip")
    curves = gr.Image(label="Output curves (threshold and flips marked)", type="filepath", interactive=False,
                      show_label=False, buttons=["fullscreen"], elem_classes=["result-wide"],
                      elem_id=f"{prefix}-curves")
    with gr.Accordion(ANIMATION_FOLD, open=False, elem_id=f"{prefix}-animation-fold") as animation_fold:
        animation = gr.Image(label="Every step in turn (GIF, looping; the caption names the step)", type="filepath",
                             interactive=False, buttons=[], elem_id=f"{prefix}-animation", height=260)
    with gr.Accordion(NULL_FOLD, open=False, elem_id=f"{prefix}-null-fold") as null_fold:
        null = gr.Image(label="Null distributions (shuffle test)", type="filepath", interactive=False,
                        show_label=False, buttons=["fullscreen"], elem_id=f"{prefix}-null")
    table = gr.Dataframe(headers=results.TABLE_HEADERS, label="Scores per model and output of interest",
                         interactive=False, wrap=True, elem_id=f"{prefix}-table", visible=False)
    document = "report.json; comparison.json for several regions" if comparisons else "report.json"
    bundle = gr.File(label="Download everything (zip: report.html to read and share, a JSON file with every setting "
                           f"and number ({document}), CSV tables, figures)",
                     interactive=False, elem_id=f"{prefix}-bundle")
    outputs = ResultOutputs([summary, strip, animation, curves, table, null, bundle])
    outputs.folds = (animation_fold, null_fold)
    return outputs


def shown_first(handler, n_outputs: int = 7, folds: bool = False, tab: str = ""):
    """The Run button's version of ``handler``: the answer at once (summary, table, strip, curves), and the run
    itself as an extra output, so that :func:`finish_run` adds the animation, null plot and zip right after
    (nothing follows a handler that answers with everything, as Training dynamics does or a study). Then the form's
    error box and, with ``folds``, the two accordions' updates (:func:`fold_titles`: a study's differ).
    ``n_outputs``: how many outputs the handler returns; ``tab``: whose presets supersede the run (its API name)."""
    n_folds = 2 if folds else 0

    @functools.wraps(handler)
    def run(*args, **kwargs):
        pending: list = []
        started = time.monotonic()
        token = results.DEFER.set(pending)
        try:
            outputs = handler(*args, **kwargs)
        except gr.Error as error:
            if _superseded(started, _request(), tab):
                return (gr.skip(),) * (n_outputs + 2 + n_folds)
            # Shown once, beside the form; the old result is cleared (no red "Error" on every output).
            return (FAILED, *[None] * (n_outputs - 1), None,
                    gr.update(value=f"**Cannot run:** {error.message}", visible=True), *fold_titles(n_folds))
        finally:
            results.DEFER.reset(token)
        if _superseded(started, _request(), tab):  # a preset was loaded meanwhile: it stays on the page
            return (gr.skip(),) * (n_outputs + 2 + n_folds)
        if pending:
            # A preset loaded on this tab after this keeps its late files off the page.
            pending[0].started, pending[0].tab = started, tab
        folded = fold_titles(n_folds, study=not pending, figure=outputs[5] if len(outputs) > 5 else None)
        return (*outputs, pending[0] if pending else None, gr.update(value="", visible=False), *folded)

    return run


# When each session last loaded a preset on each tab (monotonic seconds): a run of that tab that started before it
# is not shown any more. Per tab: a preset on the Patch tab dropped a run still going on the first tab.
_PRESETS: dict[tuple[str, str], float] = {}
_PRESETS_LOCK = threading.Lock()
_MAX_PRESETS = 40_000  # (session, tab) pairs: 10,000 sessions of four tabs


def _preset_loaded_now(request: gr.Request | None, tab: str = "") -> None:
    session = getattr(request, "session_hash", None)
    if session is None:
        return
    with _PRESETS_LOCK:
        _PRESETS.pop((session, tab), None)
        _PRESETS[session, tab] = time.monotonic()
        while len(_PRESETS) > _MAX_PRESETS:  # the oldest go first
            _PRESETS.pop(next(iter(_PRESETS)))


def _request() -> gr.Request | None:
    """The request of the event being handled (gradio's own context variable; None outside an event)."""
    try:
        from gradio.context import LocalContext

        return LocalContext.request.get(None)
    except (ImportError, AttributeError):  # pragma: no cover - another gradio layout
        return None


def _superseded(run, request: gr.Request | None, tab: str | None = None) -> bool:
    """Whether this session loaded a preset on the run's tab (``tab``, else the run's own) after ``run`` (or a run
    started at this ``time.monotonic()``) started: its late answer or files must not land on the new preset."""
    session = getattr(request, "session_hash", None)
    tab = getattr(run, "tab", "") if tab is None else tab
    with _PRESETS_LOCK:
        loaded = _PRESETS.get((session, tab))
    started = run if isinstance(run, float) else getattr(run, "started", float("inf"))
    return loaded is not None and loaded >= started


def finish_run(run, request: gr.Request = None):
    """The animation, the null distributions and the zip of a run that :func:`shown_first` showed (nothing when the
    session loaded a preset since the run started: the preset's page says "press Run", and stays so)."""
    if run is None:  # a study: everything came with the answer
        return gr.skip(), gr.skip(), gr.skip(), None
    if _superseded(run, request):
        return gr.skip(), gr.skip(), gr.skip(), None
    try:
        results.finish(run)
    except Exception as error:  # noqa: BLE001 - the answer is on the page already; say what is missing
        log.exception("finishing a run failed")
        why = ("the server's disk is full; try again in a few minutes" if no_room(error) else
               "the details are in the server log")
        raise gr.Error(f"The result is shown, but its animation, null plot or zip could not be written ({why}).",
                       print_exception=False) from None
    if _superseded(run, request):
        return gr.skip(), gr.skip(), gr.skip(), None
    # The session's state lets the run (its images) go: only the files are needed from here on.
    return (str(run.animation) if run.animation is not None else None), str(run.null), str(run.bundle), None


EXAMPLE_LOADED = "**Example loaded**: press **Run** to explain it."


def preset_loaded(examples: gr.Examples, outputs: list, running: "RunEvents | None" = None) -> None:
    """After an example fills the controls, the old result goes and the page says to press Run.

    With ``running`` (what :func:`wire_run` returned), a run still under way is cancelled and its Run button is
    enabled again, and the animation, null plot and zip of an earlier run never land after the preset (the zip
    used to arrive seconds after "Example loaded").
    """
    folds = list(getattr(outputs, "folds", ()))

    def loaded(request: gr.Request):
        _preset_loaded_now(request, running.name if running else "")
        cleared = (EXAMPLE_LOADED, *[None] * (len(outputs) - 1), *fold_titles(len(folds)))
        return (*cleared, gr.update(interactive=True, value="Run")) if running else cleared

    targets = [*outputs, *folds, running.button] if running else [*outputs, *folds]
    examples.load_input_event.then(loaded, None, targets, queue=False, api_visibility="private",
                                   cancels=list(running.events) if running else None, js=SHOW_RUN)


# The presets sit under the form, the Run button above it: a student who clicked one was told to press a button out
# of sight. (On a phone Run floats at the bottom of the screen: nothing moves.)
SHOW_RUN = """() => {
  const run = [...document.querySelectorAll(".run-button")].find((b) => b.offsetParent !== null);
  if (run && getComputedStyle(run).position !== "fixed") run.scrollIntoView({block: "center", behavior: "smooth"});
  return [];
}"""


@dataclass
class RunEvents:
    """The Run button and its queued events, for :func:`preset_loaded` to cancel."""

    button: gr.Button
    events: tuple
    name: str = ""  # the tab's API name: its presets supersede its runs only


def wire_run(button: gr.Button, error: gr.Markdown, handler, inputs: list, outputs: list, api_name: str,
             concurrency: int, follows: bool = True) -> RunEvents:
    """Run: the button is disabled and the old result marked while it runs; the answer is shown as soon as it is
    computed, the animation, null plot and zip follow (``follows``: the seven outputs of
    :func:`result_outputs`; without, the handler's answer is all there is); a failed run clears the old result,
    says why beside the form and gives the button back.

    API clients call ``api_name``, whose one answer holds every output (the zip too).
    """
    state = gr.State()
    folds = list(getattr(outputs, "folds", ()))
    api = gr.Button(visible=False)
    api.click(handler, inputs, outputs, api_name=api_name, concurrency_limit=concurrency, concurrency_id=api_name)
    started = button.click(lambda: (gr.update(interactive=False, value="Running..."), RUNNING), None,
                           [button, outputs[0]], queue=False, api_visibility="private")
    shown = started.then(shown_first(handler, len(outputs), folds=bool(folds), tab=api_name), inputs,
                         [*outputs, state, error, *folds], concurrency_limit=concurrency, concurrency_id=api_name,
                         api_visibility="private")
    events = (shown,)
    if follows:
        events += (shown.success(finish_run, state, [outputs[2], outputs[5], outputs[6], state],
                                 concurrency_limit=concurrency, concurrency_id=f"{api_name}-finish",
                                 api_visibility="private"),)
    # Reached only when the handler never ran (an input gradio could not read) or crashed: the form says so and
    # the button comes back, as after a handled error (gradio skips the .then below after a failed preprocess).
    shown.failure(lambda: (FAILED, *[None] * (len(outputs) - 1), gr.update(value=unread_input(), visible=True),
                           gr.update(interactive=True, value="Run"), *fold_titles(len(folds))),
                  None, [*outputs, error, button, *folds], queue=False, api_visibility="private")
    shown.then(lambda: gr.update(interactive=True, value="Run"), None, button, queue=False, api_visibility="private")
    # What the run ended in is brought into view. A form error: on a phone, Run floats at the bottom of the screen and
    # the message under the form landed out of sight, so pressing Run seemed to do nothing. Else the answer: it sits
    # below the form, a screen or more down from Run on a laptop, and a new one looked like no change at all.
    shown.then(None, None, None, js=_SHOW_OUTCOME.replace("ERROR_ID", error.elem_id).replace(
        "ANSWER_ID", outputs[0].elem_id), queue=False, api_visibility="private")
    return RunEvents(button, events, api_name)


# Only when it is out of sight, or under the floating Run button (80 px at the bottom of a phone's screen); the answer
# by its start, where "The answer." and the reading are.
_SHOW_OUTCOME = """() => { const shown = (id) => { const box = document.getElementById(id);
    return box && box.offsetParent !== null && box.innerText.trim() ? box : null; };
  const error = shown("ERROR_ID"), answer = error ? null : shown("ANSWER_ID");
  const box = error || answer;
  if (!box) return;
  const where = box.getBoundingClientRect();
  if (where.top < 0 || (error ? where.bottom : where.top + 80) > window.innerHeight - 80)
    box.scrollIntoView({block: error ? "center" : "start"}); }"""


def study_input(prefix: str) -> gr.File:
    """Several images or a zip: the tab's intervention and models run on each, aggregated (a small study)."""
    from .study import MAX_STUDY_IMAGES, STUDY_SUFFIXES

    with gr.Accordion("Study (optional): the same run over several images", open=False):
        return gr.File(label=f"Several images or a zip, at most {MAX_STUDY_IMAGES}; the same settings run on each "
                             "and the results are averaged (the image above is then not used)",
                       file_count="multiple", file_types=list(STUDY_SUFFIXES), elem_id=f"{prefix}-study")
