"""The app's Model Context Protocol tools: one lean endpoint per tab, for agents.

The tabs' own endpoints (``/edit``, ``/patch``...) take every box of the page, so that a gradio_client
call can do whatever a visitor can; as MCP tools they cost an agent 48k characters of context and answer
in Markdown. These tools take only what an agent sets (an image, the edit, the models...), every other
setting at the tab's default, and answer with one JSON document (:mod:`.agent_result`) plus the strip and
the curves as images. :mod:`.mcp_server` lists only these tools and shapes their answers.

Each tool checks its own arguments under the names the schema gives them, then runs the tab's handler
(the same code path as the page); a message from deeper down that names a box of the page is renamed to
the argument (:func:`_renamed`).
"""
from __future__ import annotations

import base64
import binascii
import functools
import io
import re
import shutil
from pathlib import Path

import gradio as gr

from PIL import Image, UnidentifiedImageError

from ..errors import ArgumentError, ModelUnavailableError, in_words, not_all_of, not_one_of
from ..images import IMAGE_FORMATS, why_unreadable
from ..limits import repeated_names
from ..score import STATISTICS
from . import agent_result, folders, results
from .parsing import RANGES, in_range
from .settings import CONCURRENCY, local_paths_allowed
from .shared import BOX_PARAMETERS

# An image sent inline (a data: URI) to the MCP tools: the app's default upload limit, whatever an operator sets
# for model files (PROPGRAD_MAX_UPLOAD_MB).
MAX_IMAGE_MB = 25
MAX_IMAGE_BYTES = MAX_IMAGE_MB * 2**20

IMAGE_SOURCES = ("a data: URI (data:image/png;base64,...); a file path on the server only where it allows local "
                 "paths (served on localhost, or PROPGRAD_ALLOW_LOCAL_PATHS=1)")
IMAGE_HELP = IMAGE_SOURCES + "; URLs are not fetched"
MODELS_HELP = "bundled models to explain side by side; [] = the ImageNet classifier"
OUTPUTS_HELP = 'outputs of interest: "" = each model\'s predicted class, "all", "vector", or names ("cat, dog")'
TEST_HELP = {"seed": "seed of the shuffle test, 0 or more",
             "n_permutations": "shuffle-test permutations, {} to {}".format(*RANGES["n_permutations"]),
             "alpha": "significance level, {:g} to {:g}".format(*RANGES["alpha"]),
             "steps_range": "{} to {}".format(*RANGES["steps"])}
RESULT_HELP = """result: JSON: kind, reading (plain words), rows (per model and output, per region too where several, then ranked: change, tier, flips, score, p-value, significant, reading), settings, notes, links (URLs of the figures and the zip)
        strip: PNG image content: the image at each step
        curves: PNG image content: each output of interest along the property, flips marked"""

# Where a tool's argument is not named as the handler's parameter it fills (an agent sends "edit", the page's
# handler takes "editor").
TOOL_ARGUMENTS = {"editor": "edit", "mask_file": "mask", "patch_files": "patches"}
# The tabs' box names -> the tools' argument names, for messages raised below the tools.
RENAMED = {box: TOOL_ARGUMENTS.get(parameter, parameter) for box, parameter in BOX_PARAMETERS.items()}


def _renamed(message: str) -> str:
    """``message`` with the page's box names (in backticks) replaced by the tools' argument names, and without what
    only the page's boxes need said: a number box drops a decimal comma, a JSON number has none."""
    from .shared import without_box_hints

    message = without_box_hints(message)
    # A handler called through the API already names its parameters (app.shared.api_words): those too.
    names = {**RENAMED, **TOOL_ARGUMENTS}
    return re.sub(r"`([^`]+)`", lambda m: f"`{names.get(m.group(1), m.group(1))}`", message)


# Whose queue each tool waits in: its tab's (the tab's API name; the Screen's own for run_screen).
TAB_OF_TOOL = {"run_edit": "edit", "run_patch": "patch", "run_turntable": "turntable", "run_screen": "screen",
               "run_dynamics": "dynamics"}


def agent_tool(function):
    """``function`` as a tool: a user's error comes back as one message naming the argument, never a traceback
    (the app's :func:`~.shared.friendly_errors`, with the page's box names turned into the tool's argument names);
    its memory goes back to the system when it ends (:func:`~.memory.released`), as the tabs' runs' does."""
    from .memory import released
    from .shared import friendly_errors

    guarded = friendly_errors(released(function))

    @functools.wraps(function)
    def tool(*args, **kwargs):
        try:
            return guarded(*args, **kwargs)
        except gr.Error as error:
            raise gr.Error(_renamed(str(error.message)), duration=None, title="Cannot run",
                           print_exception=False) from None

    return tool


# ---------------------------------------------------------------------------------------------------------
# Arguments


def image_argument(value, name: str = "image", target: Path | None = None) -> str:
    """A data: URI, written to a private file (``target`` without its suffix, else a new folder) so that
    report.json can name and hash it; or, where the server allows it, a path on the server."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"`{name}` is missing: give {IMAGE_HELP}")
    value = value.strip()
    if value.startswith("data:"):
        header, comma, payload = value.partition(",")
        if not comma or ";base64" not in header:
            raise ValueError(f"`{name}`: a data: URI must be base64, data:image/png;base64,...")
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ValueError(f"`{name}`: the data: URI is not valid base64 ({error})") from None
        if len(data) > MAX_IMAGE_BYTES:
            raise ValueError(f"`{name}`: {len(data) / 2**20:.0f} MB is over the {MAX_IMAGE_MB} MB limit")
        try:  # the file's own name ("image.png") would be named in the error, where the caller sent no file
            Image.open(io.BytesIO(data)).close()
        except (UnidentifiedImageError, OSError) as error:
            raise ValueError(f"`{name}`: the data: URI's {len(data):,} bytes are not an image "
                             f"({why_unreadable(error)}); encode a {IMAGE_FORMATS} file") from None
        suffix = {"image/jpeg": ".jpg", "image/webp": ".webp", "image/gif": ".gif"}.get(header[5:].split(";")[0],
                                                                                        ".png")
        path = (target or folders.request_dir() / name).with_suffix(suffix)
        path.write_bytes(data)
        return str(path)
    if value.startswith(("http://", "https://")):
        raise ValueError(f"`{name}`: URLs are not fetched; give {IMAGE_SOURCES}")
    if not local_paths_allowed():
        raise ValueError(f"`{name}`: this server does not read its own files; give a data: URI "
                         "(data:image/png;base64,...)")
    if not Path(value).is_file():
        raise ValueError(f"`{name}`: no such file on the server: {value!r}")
    if target is not None:
        return str(shutil.copyfile(value, target.with_suffix(Path(value).suffix)))
    return value


def choices_argument(values, choices, name: str, default=()) -> list[str]:
    """A list of names from ``choices``; empty: ``default``."""
    values = [values] if isinstance(values, str) else list(values or [])
    unknown = [value for value in values if value not in choices]
    if unknown:
        raise not_all_of(name, unknown, choices)
    repeated = repeated_names(values)
    if repeated:  # as the command line: a name twice was quietly run once here and twice there
        raise ValueError(f"`{name}` names {repeated[0]!r} more than once")
    return values or list(default)


def models_argument(models) -> list[str]:
    from .shared import bundled_names, default_models

    return choices_argument(models, bundled_names(), "models", default_models())


def shuffle_arguments(seed, n_permutations, alpha) -> dict:
    return dict(seed=in_range(seed, "seed"),
                n_permutations=in_range(n_permutations, "n_permutations"),
                alpha=in_range(alpha, "alpha"))


def _answer(handler, *args, **kwargs) -> tuple[str, str, str, str]:
    """Run a tab's handler, keep its run (not only the page's components), write the zip; the tool's answer."""
    pending: list = []
    token = results.DEFER.set(pending)
    try:
        handler(*args, progress=_quiet, **kwargs)
    finally:
        results.DEFER.reset(token)
    run = results.finish(pending[0])
    return agent_result.dumps(agent_result.run_document(run)), str(run.strip), str(run.curves), str(run.bundle)


def _quiet(*args, **kwargs) -> None:
    """Progress nobody watches (gradio reports the queue to the MCP client itself)."""


# ---------------------------------------------------------------------------------------------------------
# The tools


def edit_choices() -> list[str]:
    from .tabs.edit import editor_choices, instruct_pix2pix_status
    from . import editors as guided

    return [c.removeprefix("parametric: ") for c in editor_choices(instruct_pix2pix_status()[0],
                                                                    guided.choices(guided.editor_status()))]


REGIONS = {"whole image": "whole image", "object": "object (segmenter)", "background": "background (segmenter)",
           "mask": "painted or uploaded mask"}


@agent_tool
def run_edit(image, edit="darken", edit_end=None, steps=11, regions=("whole image",), mask="", instruction="",
             models=(), outputs="", statistic="gradient", seed=0, n_permutations=10_000, alpha=0.01):
    """Explain whether a classifier relies on a property of an image: edit it step by step and score each model.

    Darkens, recolours, blurs... the image (or edits it by a text instruction where an instruction editor is
    listed) in equal steps, inside each chosen region; every model runs on every step; each output of interest
    gets E[|grad_X F|] (how strongly it follows; 0.01: about one point per step), a shuffle-test p-value (how
    systematically) and where the prediction flips. Several regions (e.g. object and background) are compared
    in one ranked table.

    Args:
        image: the image to explain: {image_help}
        edit: the edit (see the enum): parametric edits, or an instruction editor where its weights are here
        edit_end: end value of a parametric edit (0.85 = 85% darker, 180 = degrees of hue); leave out for the edit's default
        steps: number of steps including the unedited image, {steps_range}
        regions: where to edit: "whole image", "object" / "background" (bundled segmenter), "mask"; several = compared
        mask: for the "mask" region: a greyscale mask, white = inside, given like image
        instruction: the text instruction of an instruction editor, e.g. "make the fur white"
        models: {models_help}
        outputs: {outputs_help}
        statistic: what is shuffle-tested: "gradient" (the paper's), "correlation", "mutual-information"
        seed: {seed}
        n_permutations: {n_permutations}
        alpha: {alpha}

    Returns:
        {result_help}
    """
    from .. import EDITS
    from .tabs.edit import run_edit as tab

    picture = image_argument(image)
    choices = edit_choices()
    if edit not in choices:
        raise not_one_of("edit", edit, choices)
    chosen = choices_argument(regions, REGIONS, "regions", ["whole image"])
    mask_path = image_argument(mask, "mask") if "mask" in chosen else None
    if statistic not in STATISTICS:
        raise not_one_of("statistic", statistic, STATISTICS)
    test = shuffle_arguments(seed, n_permutations, alpha)
    editor = f"parametric: {edit}" if edit in EDITS else edit
    if edit in EDITS and instruction and instruction.strip():
        # Left unused, an agent reported a darkening as its test of "make it night".
        guided = [choice for choice in choices if choice not in EDITS]
        raise ArgumentError("instruction", f"is for an instruction editor, and edit {edit!r} is a parametric edit that "
                                           "takes none: leave `instruction` out, or set `edit` to "
                                           + (in_words(guided, "or") if guided else "an instruction editor (none is "
                                              "installed on this server: its weights are not here)"))
    return _answer(tab.__wrapped__, picture, instruction, editor, 15, 2.5, in_range(steps, "steps"), 20,
                   str(test["seed"]),
                   None if edit_end is None else in_range(edit_end, "edit_end"),
                   models_argument(models), outputs=outputs or "", n_permutations=test["n_permutations"],
                   alpha=test["alpha"], regions=[REGIONS[r] for r in chosen], mask_file=mask_path,
                   statistic=statistic)


@agent_tool
def run_patch(image, patches=(), x=0.5, y=0.5, scale=0.3, steps=10, models=(), outputs="", seed=0,
              n_permutations=10_000, alpha=0.01):
    """Explain whether a classifier relies on a patch: blend it in with rising opacity and score each model.

    The paper's skin-lesion scenario: a coloured sticker blended in at opacity 0 to 1; a model that learnt the
    sticker as a shortcut follows it (high E[|grad_X F|], small p-value, prediction flips). Several patches give
    one series each and a mean curve.

    Args:
        image: the image to explain: {image_help}
        patches: bundled patches to blend (see the enum); [] = the first three
        x: horizontal position of the patch centre, 0 (left) to 1 (right)
        y: vertical position of the patch centre, 0 (top) to 1 (bottom)
        scale: patch size as a fraction of the image's shorter side, 0.02 to 1
        steps: number of opacity steps including opacity 0, {steps_range}
        models: {models_help}
        outputs: {outputs_help}
        seed: {seed}
        n_permutations: {n_permutations}
        alpha: {alpha}

    Returns:
        {result_help}
    """
    from .tabs.patch import patch_choices, run_patch as tab

    picture = image_argument(image)
    chosen = choices_argument(patches, patch_choices(), "patches", list(patch_choices())[:3])
    test = shuffle_arguments(seed, n_permutations, alpha)
    return _answer(tab.__wrapped__, picture, chosen, None, in_range(x, "x"),
                   in_range(y, "y"), in_range(scale, "scale"),
                   in_range(steps, "steps"), test["seed"], models_argument(models),
                   outputs=outputs or "", n_permutations=test["n_permutations"], alpha=test["alpha"])


@agent_tool
def run_turntable(frames=(), rotation=360.0, use_clip=False, classes="", models=(), outputs="", seed=0,
                  n_permutations=10_000, alpha=0.01):
    """Explain whether a classifier's output depends on viewpoint: score frames of an object turning.

    Real interventional data: frames of an object rotating, in the order given, scored with the models and/or
    CLIP zero-shot against text descriptions per class; E[|grad_X F|] measures how strongly each output follows
    the rotation.

    Args:
        frames: 3 to 120 frames in the order taken, each {image_help}; [] = the bundled mug turning 360 degrees (36 frames)
        rotation: total rotation in degrees over the frames (labels the x axis); 0 = number the frames
        use_clip: also score with CLIP ViT-B-32 zero-shot (needs its weights on the server)
        classes: CLIP classes, one per line, "name: a photo of a ...; another description"; "" = mug, barrel, pitcher
        models: {models_help}
        outputs: {outputs_help}
        seed: {seed}
        n_permutations: {n_permutations}
        alpha: {alpha}

    Returns:
        {result_help}
    """
    from .tabs.turntable import DEFAULT_CLASSES, run_turntable as tab, turntable_frames

    frames = [frames] if isinstance(frames, str) else list(frames or [])
    if len(frames) > 120:
        raise ValueError(f"`frames`: at most 120 frames, got {len(frames)}")
    # Numbered in the order given (the tab takes frames in file-name order).
    folder = folders.request_dir()
    paths = [image_argument(frame, "frames", folder / f"frame_{number:03d}") for number, frame in enumerate(frames)]
    test = shuffle_arguments(seed, n_permutations, alpha)
    try:
        return _answer(tab.__wrapped__, paths or turntable_frames(), in_range(rotation, "rotation"), bool(use_clip),
                       classes or DEFAULT_CLASSES, "ViT-B-32", "openai", test["seed"],
                       models_argument(models), outputs=outputs or "", n_permutations=test["n_permutations"],
                       alpha=test["alpha"])
    except ModelUnavailableError as error:
        if not hasattr(error, "what_is_missing"):
            raise
        # The tab's message names its boxes ("untick 'Add CLIP zero-shot'"), which an agent does not have.
        raise ModelUnavailableError(
            f"`use_clip`: CLIP cannot run on this server: leave `use_clip` false to score with the models alone, or "
            f"ask the server's operator to place open_clip's ViT-B-32 'openai' weights in its cache. What is "
            f"missing: {error.what_is_missing}") from None


@agent_tool
def run_screen(image, edits=(), regions=(), steps=11, models=(), outputs="", statistic="gradient", adjustment="bh",
               seed=0, n_permutations=10_000, alpha=0.01):
    """Explain which property of an image a classifier uses: screen every edit in every region, ranked.

    Each edit (darken, hue, blur...) runs step by step on the whole image, the segmenter's object and the
    background; each row (property x model x output) gets its score, p-value, the p-value adjusted over the
    whole table, and where the prediction flips; rows ranked by what the output did (tier a to e, then its
    change), not by p. At most 40
    properties (12 edits x 3 regions is 34).

    Args:
        image: the image to screen: {image_help}
        edits: the edits to screen (see the enum); [] = all
        regions: "whole image", "object", "background"; [] = all three
        steps: number of steps per property including the unedited image, {steps_range}
        models: {models_help}
        outputs: {outputs_help}
        statistic: what is shuffle-tested: "gradient" (the paper's), "correlation", "mutual-information"
        adjustment: multiple-testing adjustment: "bh" (Benjamini-Hochberg) or "holm"
        seed: {seed}
        n_permutations: {n_permutations}
        alpha: {alpha}

    Returns:
        result: JSON: kind, reading, rows (rank, property, model, output, change, tier, flips, score, p-value, adjusted p, reading), settings, links
        figure: PNG image content: the top properties' strongest steps and curves
    """
    from ..screen import REGIONS as SCREEN_REGIONS
    from .run import chosen_models, load_input
    from .screen import edit_names, screen_for_app

    picture = load_input(image_argument(image))
    chosen_edits = choices_argument(edits, edit_names(), "edits", edit_names())
    chosen_regions = choices_argument(regions, SCREEN_REGIONS, "regions", SCREEN_REGIONS)
    steps = in_range(steps, "steps")
    if statistic not in STATISTICS:
        raise not_one_of("statistic", statistic, STATISTICS)
    if adjustment not in ("bh", "holm"):
        raise not_one_of("adjustment", adjustment, ("bh", "holm"))
    test = shuffle_arguments(seed, n_permutations, alpha)
    model_list = chosen_models(models_argument(models), None, None, "", "", "", "", "auto")
    result, notes, paths, bundle, settings = screen_for_app(
        picture, model_list, outputs or "", chosen_edits, chosen_regions, steps, statistic, adjustment,
        test["n_permutations"], test["alpha"], _quiet, seed=test["seed"])
    doc = agent_result.screen_document(result, notes, settings)
    return agent_result.dumps(doc), str(paths["figure"]), str(bundle)


@agent_tool
def run_dynamics(image="", variants=(), steps=8, seed=0, n_permutations=2000, alpha=0.01):
    """Follow one lesion image's sticker score through training: when did the biased model learn the shortcut?

    Every saved per-epoch checkpoint of the bundled lesion classifiers explains the same sticker-blending series;
    the figure shows E[|grad_X F|] and prediction flips per epoch for each variant.

    Args:
        image: a skin-lesion image: {image_help}; "" = the first bundled example
        variants: trained variants to follow: "biased", "unbiased"; [] = both
        steps: number of opacity steps including opacity 0, {steps_range}
        seed: {seed}
        n_permutations: {n_permutations}
        alpha: {alpha}

    Returns:
        result: JSON: kind, reading (per variant), rows (variant, epoch, reading, output_start, output_end, change_first_to_last (signed), score, pvalue, significant, flip_share, mean_flips, checkpoint), settings (the input's name and SHA-256, the checkpoints' files and SHA-256, the shuffle test), links (the figure and the zip of the report)
        figure: PNG image content: score and flips per epoch, one line per variant
    """
    from ..lesions.models import example_paths
    from .run import load_input
    from .tabs.dynamics import dynamics_results, dynamics_variants

    examples = example_paths()
    picture = load_input(image_argument(image) if image or not examples else str(examples[0]))
    chosen = choices_argument(variants, dynamics_variants(), "variants", dynamics_variants())
    steps = in_range(steps, "steps")
    test = shuffle_arguments(seed, n_permutations, alpha)
    answer = dynamics_results(picture, chosen, steps=steps, **test)
    doc = agent_result.dynamics_document(answer.dynamics)
    return agent_result.dumps(doc), str(answer.plot), str(answer.bundle)


TOOLS = (run_edit, run_patch, run_turntable, run_screen, run_dynamics)


def _described(function):
    """The docstring's shared phrases filled in (gradio reads each argument's description from it)."""
    function.__doc__ = function.__doc__.format(image_help=IMAGE_HELP, models_help=MODELS_HELP,
                                               outputs_help=OUTPUTS_HELP, result_help=RESULT_HELP, **TEST_HELP)
    return function


for _tool in TOOLS:
    _described(_tool)


# ---------------------------------------------------------------------------------------------------------
# Registration


def _raw(component):
    """Hand the tool the client's value as sent: the tool checks it and names the argument (gradio's own checks,
    e.g. a dropdown's choices or a number's rounding, would answer without the name or change the value)."""
    component.preprocess = lambda payload: payload
    return component


def _text(value=""):
    return _raw(gr.Textbox(value))


def _required_image():
    # No value: the schema lists it as required.
    return _raw(gr.Textbox(None))


def _number(value, integer: bool = False):
    # The schema says integer; a fractional value is refused by name, not rounded.
    return _raw(gr.Number(value, precision=0 if integer else None))


def _names(choices, value=()):
    return _raw(gr.Dropdown(list(choices), value=list(value), multiselect=True, allow_custom_value=True))


def _strings(value=()):
    # A list of strings in the schema (gradio's JSON box would say "any object").
    component = _raw(gr.JSON(list(value)))
    component.api_info = lambda: {"type": "array", "items": {"type": "string"}}
    return component


def _one_of(choices, value):
    return _raw(gr.Dropdown(list(choices), value=value, allow_custom_value=True))


def _test_inputs(permutations=10_000):
    return [_number(permutations, integer=True), _number(0.01)]


def register(dynamics: bool) -> dict[str, str]:
    """Add the tools' endpoints (inside the current Blocks, hidden); returns {tool name: api name}.

    Call it before the tabs are built: the tabs' private events take their handlers' names as api names.
    """
    from ..screen import REGIONS as SCREEN_REGIONS
    from .screen import edit_names
    from .shared import bundled_names
    from .tabs.patch import patch_choices

    models = bundled_names()
    wired = {}
    with gr.Column(visible=False):
        def outputs(*names):
            return [gr.Textbox(label="result"), *[gr.Image(type="filepath", label=name) for name in names],
                    gr.File(label="download")]

        def wire(function, inputs, names):
            button = gr.Button(visible=False)
            # In its tab's queue: a limit of its own let a tab run twice its limit at once.
            event = button.click(function, inputs, outputs(*names), api_name=function.__name__,
                                 concurrency_limit=CONCURRENCY, concurrency_id=TAB_OF_TOOL[function.__name__])
            # gradio renames an api_name that is taken (registered first, these are not); the tool keeps its name.
            wired[function.__name__] = event.get("api_name") or function.__name__

        wire(run_edit, [_required_image(), _one_of(edit_choices(), "darken"), _number(None), _number(11, integer=True),
                        _names(REGIONS, ["whole image"]), _text(), _text(), _names(models), _text(),
                        _one_of(STATISTICS, "gradient"), _number(0, integer=True), *_test_inputs()],
             ["strip", "curves"])
        wire(run_patch, [_required_image(), _names(patch_choices()), _number(0.5), _number(0.5), _number(0.3),
                         _number(10, integer=True), _names(models), _text(), _number(0, integer=True),
                         *_test_inputs()], ["strip", "curves"])
        wire(run_turntable, [_strings(), _number(360), _raw(gr.Checkbox(False)), _text(), _names(models),
                             _text(), _number(0, integer=True), *_test_inputs()], ["strip", "curves"])
        wire(run_screen, [_required_image(), _names(edit_names()), _names(SCREEN_REGIONS), _number(11, integer=True),
                          _names(models), _text(), _one_of(STATISTICS, "gradient"), _one_of(["bh", "holm"], "bh"),
                          _number(0, integer=True), *_test_inputs()], ["figure"])
        if dynamics:
            from .tabs.dynamics import dynamics_variants

            wire(run_dynamics, [_text(), _names(dynamics_variants()), _number(8, integer=True),
                                _number(0, integer=True), *_test_inputs(2000)], ["figure"])
    return wired
