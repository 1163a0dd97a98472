"""The first tab: diffusion edits (an InstructPix2Pix guidance sweep) or parametric edits of one image."""
from __future__ import annotations

import logging

import gradio as gr

from ... import paths
from ...errors import ArgumentError, ModelUnavailableError, not_one_of
from ...kinds import EditSpec, InstructPix2PixSpec
from .. import editors as guided  # issue 17: editors beyond InstructPix2Pix
from .. import settings
from ..settings import CONCURRENCY
from ..parsing import RANGES, box_names, check_float, check_int, check_text, file_path, in_range, parse_seeds
from ..regions import BACKGROUND, CHOICES, OBJECT, PAINTED, WHOLE, region_interventions
from ..results import compare_for_app, explain_for_app
from ..run import chosen_models, load_input, shuffle_test_settings
from ..shared import (COMMA_HINT, default_models, friendly_errors, model_controls, preset_loaded, result_outputs,
                      safe_image_input, study_input, run_button, wire_run, with_model_args)
from ..screen import build_screen_section, statistic_input
from ..study import study_for_app

log = logging.getLogger("propgrad.app")

ASSETS = paths.ASSETS


def instruct_pix2pix_status() -> tuple[bool, str]:
    """Whether InstructPix2Pix weights can be loaded here, and a sentence saying so."""
    try:
        from ...interventions.diffusion import instruct_pix2pix_available
    except ImportError:
        return False, "InstructPix2Pix support is not installed in this build."
    try:
        available = bool(instruct_pix2pix_available())
    except Exception:  # noqa: BLE001 - an availability probe must never stop the app
        log.exception("InstructPix2Pix availability check failed")
        available = False
    if available:
        return True, "InstructPix2Pix weights found: instruction-based edits are available."
    return False, ("InstructPix2Pix weights (timbrooks/instruct-pix2pix) are not on this machine, so only the "
                   "parametric edits are available; with the weights in the Hugging Face cache the instruction editor "
                   "appears here.")


IP2P = "InstructPix2Pix (instruction)"
# The package's argument names -> this tab's boxes, for messages.
BOXES = {"stop": "edit end value", "edit": "editor", "steps": "number of steps", "seeds": "seeds",
         "max_guidance": "max text guidance", "image_guidance": "image guidance", "denoising_steps": "denoising steps"}


def editor_choices(ip2p_available: bool, guided_choices=()) -> list[str]:
    from ... import EDITS

    return ([IP2P] if ip2p_available else []) + list(guided_choices) + [f"parametric: {kind}" for kind in EDITS]


# The paper's Table 1 as the default: darken the fur (the segmenter's object) or the background of a cat,
# explained by the authors' cats-vs-dogs ConvMixers trained with and without a dark-cats / dark-dogs bias.
DEFAULT_EDIT = "parametric: darken"
DEFAULT_END = 0.85
DEFAULT_STEPS = 11
DEFAULT_REGIONS = [OBJECT, BACKGROUND]
AUTHORS_HINT = "(authors)"


def edit_defaults() -> dict:
    """The tab's default example: the fur-versus-background experiment where the authors' models ship."""
    authors = default_models(prefer=(AUTHORS_HINT,))
    has_authors = any(AUTHORS_HINT in name for name in authors)
    return dict(image=str(ASSETS / "examples" / "chelsea.jpg"), editor=DEFAULT_EDIT, edit_end=DEFAULT_END,
                steps=DEFAULT_STEPS, regions=list(DEFAULT_REGIONS), models=authors if has_authors else default_models(),
                outputs="cat" if has_authors else "")


def _edit(editor, instruction, max_guidance, image_guidance, steps, denoising_steps, seed_list, edit_end, notes):
    """The chosen editor as an intervention on the whole image (a region wraps it afterwards)."""
    if not editor:
        raise ValueError("`editor` is empty: choose InstructPix2Pix or one of the parametric edits")
    if editor == IP2P:
        # The instruction is checked first: an empty box is the user's to fix on any machine.
        spec = box_names(InstructPix2PixSpec, BOXES, instruction=check_text(instruction, name="instruction",
                                                                             max_length=500),
                         max_guidance=check_float(max_guidance, name="max text guidance", low=1.5, high=30),
                         image_guidance=check_float(image_guidance, name="image guidance", low=1.0, high=10),
                         denoising_steps=check_int(denoising_steps, name="denoising steps", low=1, high=100),
                         seeds=seed_list, steps=steps)
        available, message = instruct_pix2pix_status()
        if not available:
            raise ModelUnavailableError(f"{message} Choose a parametric edit instead.")
        return spec.make(max_side=settings.IP2P_MAX_SIDE)
    if guided.name_of(editor):
        instruction = check_text(instruction, name="instruction", max_length=500)
        return guided.intervention(editor, instruction, check_float(max_guidance, name="max guidance", low=0, high=30),
                                   steps, check_int(denoising_steps, name="denoising steps", low=1, high=100),
                                   seed_list)
    if isinstance(editor, str) and editor.startswith("parametric: "):
        end = None if edit_end in (None, "") else in_range(edit_end, "edit_end", "edit end value")
        if len(seed_list) > 1:
            notes.append(f"a parametric edit is the same for every seed: one series, shuffle test seeded "
                         f"with {seed_list[0]}")
        try:
            return box_names(lambda **given: EditSpec(**given).build(), BOXES, edit=editor.removeprefix("parametric: "),
                             stop=end, steps=steps)
        except ArgumentError as error:
            raise with_comma_hint(error, end, _parametric_kind(editor)) from None
    raise not_one_of("editor", editor, editor_choices(False))


def with_comma_hint(error: ArgumentError, end, kind) -> ArgumentError:
    """``error`` with a hint where the end value is what the number box makes of a decimal comma: it drops the
    comma, "0,4" arrives as 4, and "must lie in [0, 1], got 4.0" named a number the visitor never typed. ``kind``:
    the parametric edit (:func:`_parametric_kind`), None for an unknown one.

    Examples
    --------
    >>> error = ArgumentError("edit end value", "for darken must lie in [0, 1], got 4.0")
    >>> str(with_comma_hint(error, 4.0, _parametric_kind("parametric: darken"))).removeprefix(str(error))
    ' (the box drops a decimal comma, so 0,4 arrives as 4: type 0.4)'
    """
    bounds = kind.bounds if kind is not None else None
    if end is None or bounds is None or not float(end).is_integer() or bounds[0] <= end <= bounds[1] or end < 1:
        return error
    meant = float(f"0.{int(end)}")
    if not bounds[0] <= meant <= bounds[1]:
        return error
    comma = f"{meant:g}".replace(".", ",")
    return ArgumentError(error.argument, f"{error.problem} ({COMMA_HINT}, so {comma} arrives as {int(end)}: type "
                                         f"{meant:g})", error.gloss)


@friendly_errors
@with_model_args
def run_edit(image, instruction, editor, max_guidance, image_guidance, steps, denoising_steps, seeds,
             edit_end, bundled, files=None, input_size=None, mean="", std="", class_names="", outputs="",
             n_permutations=10_000, alpha=0.01, hub_ids="", outputs_are="auto", regions=(WHOLE,), painted=None,
             mask_file=None, study_files=None, statistic="gradient", progress=gr.Progress()):
    """Explain which property of an image a classifier relies on: edit it step by step and score each model.

    Darkens, recolours, blurs, rotates... the image (or edits it by a text instruction with InstructPix2Pix
    when its weights are on the server) in equal steps, only inside each chosen region, runs every chosen
    model on every step and measures how strongly (E[|grad_X F|]) and how systematically (shuffle-test
    p-value) each output follows, and where the predicted class flips. Ticking several regions, e.g. the
    object and the background, compares them in one ranked table: "does this classifier rely on the
    background?" is the background row scoring higher than the object row. With study_files the same edit
    runs on every image given and the table aggregates them. Bad arguments come back as an error naming
    the argument.

    Args:
        image: the image to explain (an http(s) URL or a data: URI); ignored when study_files is given
        instruction: text instruction for InstructPix2Pix, e.g. "make the fur white" (only with that editor)
        editor: "parametric: <edit>" (darken, hue, blur, rotation... see the enum) or InstructPix2Pix if listed
        max_guidance: InstructPix2Pix only: the largest text guidance scale of the sweep, 1.5 to 30 (paper: 15)
        image_guidance: InstructPix2Pix only: image guidance scale, 1 to 10 (authors' code: 2.5)
        steps: number of steps including the unedited image, 3 to 30
        denoising_steps: InstructPix2Pix only: denoising steps per image, 1 to 100
        seeds: "0", "0, 1, 2" or "0-3"; several give a mean curve (InstructPix2Pix); the first seeds the test
        edit_end: end value of a parametric edit, e.g. 0.85 = 85% darker, 180 = degrees of hue
        {model_args}
        regions: where to edit, any of the enum ("object", "background": bundled segmenter); several = compare
        painted: the painting canvas (UI only; leave it out and give mask_file instead)
        mask_file: a greyscale PNG mask, white = inside, for the "painted or uploaded mask" region
        study_files: several images or a zip of them to run the same edit on (a study); leave out for one image
        statistic: what is shuffle-tested: "gradient" (the paper's E[|grad_X F|]), "correlation", "mutual-information"

    Returns:
        {result_returns}
    """
    shuffle = shuffle_test_settings(n_permutations, alpha)
    picture = None if study_files else load_input(image)
    steps = in_range(steps, "steps", "number of steps")
    seed_list = parse_seeds(seeds)
    notes: list[str] = []
    edit = _edit(editor, instruction, max_guidance, image_guidance, steps, denoising_steps, seed_list, edit_end, notes)
    mask_path = file_path(mask_file, name="mask file") if mask_file else None
    interventions, region_notes = region_interventions(edit, regions, painted, mask_path)
    notes += region_notes
    models = chosen_models(bundled, files, input_size, mean, std, class_names, hub_ids, outputs_are)
    if study_files:
        if PAINTED in (regions or []):
            raise ValueError("`regions`: a painted or uploaded mask belongs to one image; a study over several "
                             "images takes the whole image or the segmenter's object / background")
        return study_for_app(study_files, interventions, models, outputs, shuffle, seed_list[0], progress, notes)
    if len(interventions) == 1:
        return explain_for_app(picture, next(iter(interventions.values())), models, outputs, shuffle, seed_list[0],
                               progress, notes, statistic=statistic)
    return compare_for_app(picture, interventions, models, outputs, shuffle, seed_list[0], progress, notes,
                           statistic=statistic)


def _quiet(*args, **kwargs) -> None:
    """Progress of a run nobody watches."""


def default_result(progress=_quiet) -> tuple:
    """The tab's default example through its own handler: what the page shows on load (and the bench times)."""
    d = edit_defaults()
    return run_edit(d["image"], "make the fur white", d["editor"], 15, 2.5, d["steps"], 20, "0", d["edit_end"],
                    d["models"], outputs=d["outputs"], regions=d["regions"], progress=progress)


def show_editor_settings(editor: str):
    """Visibility of (instruction, diffusion settings, edit end value, seeds) for the chosen editor: a parametric
    edit is the same for every seed, so its seed box is hidden (the shuffle test then uses seed 0). The end value's
    box says what its number means for that edit (degrees, px, a factor)."""
    diffusion = editor == IP2P or bool(guided.name_of(editor))
    kind = _parametric_kind(editor)
    end = (gr.update(visible=not diffusion) if kind is None else
           gr.update(visible=True, info=_end_info(kind), step=_end_step(kind)))
    return gr.update(visible=diffusion), gr.update(visible=diffusion), end, gr.update(visible=diffusion)


def _parametric_kind(editor):
    """The parametric edit a dropdown choice names ("parametric: blur"), else None."""
    from ... import EDITS

    if isinstance(editor, str) and editor.startswith("parametric: "):
        return EDITS.get(editor.removeprefix("parametric: "))
    return None


def _end_info(kind) -> str:
    return f"{kind.property_name}; default end {kind.default_stop:g}"


def _end_step(kind) -> float:
    """What the box's arrows add: a twentieth of a 0-to-1 strength, a degree or a pixel (they added 1 to 0.85)."""
    return 0.05 if abs(kind.default_stop - kind.identity) <= 1 else 1.0


def end_for_editor(editor: str):
    """The end value's box when the visitor picks another editor: that edit's own default end. The previous edit's
    number stayed, and meant something else: darken's 0.85 became a blur of 0.85 px or a turn of 0.85 degrees, an
    edit nobody can see, which the answer then read as an effect. (A preset sets both boxes itself: wired to the
    visitor's own changes only.)"""
    kind = _parametric_kind(editor)
    return gr.skip() if kind is None else gr.update(value=kind.default_stop)


def show_mask_inputs(regions):
    """The painting canvas and the mask upload only while 'painted or uploaded mask' is ticked."""
    painted = PAINTED in (regions or [])
    return gr.update(visible=painted), gr.update(visible=painted)


def canvas_for(image):
    """A fresh painting canvas over the chosen image (an earlier image's strokes would not fit).

    Wired with the upload as it arrives (no decoding): a file that is not an image failed gradio's decoding here,
    beside the box's own refusal, as an error with a traceback in the log (the wrapper that names the file is lost
    where gradio makes a session its own copy of the box, after a preset has set it)."""
    path = (image.get("path") or image.get("url")) if isinstance(image, dict) else image
    return {"background": path, "layers": [], "composite": path}


def edit_examples() -> tuple[list[list], list[str]]:
    """Whole presets (image, editor, end value, steps, regions, models, outputs of interest) and their labels."""
    defaults = edit_defaults()
    imagenet = default_models()
    rows = [[defaults["image"], DEFAULT_EDIT, DEFAULT_END, DEFAULT_STEPS, DEFAULT_REGIONS, defaults["models"],
             defaults["outputs"]]]
    labels = ["Fur vs background: a light cat darkened (the paper's Table 1 setup)"]
    if (ASSETS / "examples" / "chicky.jpg").is_file() and defaults["outputs"]:
        rows.append([str(ASSETS / "examples" / "chicky.jpg"), DEFAULT_EDIT, DEFAULT_END, DEFAULT_STEPS, DEFAULT_REGIONS,
                     defaults["models"], defaults["outputs"]])
        labels.append("Fur vs background: a dark dog darkened")
    # The ImageNet classifier on its own predicted class (blank outputs): a coffee cup is not scored as a cat.
    rows += [[defaults["image"], "parametric: brightness", 0.1, 10, [WHOLE], imagenet, ""],
             [str(ASSETS / "examples" / "coffee.jpg"), "parametric: hue", 180, 12, [WHOLE], imagenet, ""],
             [str(ASSETS / "examples" / "rocket.jpg"), "parametric: blur", 8, 8, [WHOLE], imagenet, ""]]
    labels += ["Cat, dimmed: ImageNet classifier", "Coffee cup, hue rotated: ImageNet classifier",
               "Rocket, blurred: ImageNet classifier"]
    return rows, labels


def build_edit_tab(ip2p: tuple[bool, str]) -> list:
    """The tab's controls, wired to :func:`run_edit`; returns the result components (filled on page load)."""
    available, message = ip2p
    status = guided.editor_status()
    choices = editor_choices(available, guided.choices(status))
    defaults = edit_defaults()
    # "The default is the paper's Table 1" read as the paper's result: on this one photo the unbiased model's
    # background row is the one significant row, and a class took the unbiased model for the biased one.
    gr.Markdown("Darken, recolour, blur... one image step by step, inside a region or on the whole image. The default "
                "runs the setup of the paper's Table 1 on one photo: the cat's fur and, separately, the background "
                "darkened, for the method authors' cats-vs-dogs models (unbiased, dark-cats bias, dark-dogs bias). "
                "One image shows what these models do with it, a hypothesis about them; the paper's table averages "
                "many images (\"Study (optional)\" in the form runs the same settings on several).")
    with gr.Row():
        with gr.Column(scale=1):
            image = safe_image_input(gr.Image(defaults["image"], type="filepath", image_mode=None, label="Image",
                                              sources=["upload", "clipboard"], height=220))
            editor = gr.Dropdown(choices, value=defaults["editor"], label="Editor", info=message, elem_id="edit-editor")
            # Only the chosen editor's own settings are shown (see show_editor_settings).
            instruction = gr.Textbox("make the fur white", label="Instruction (diffusion editors only)",
                                     visible=False)
            edit_end = gr.Number(defaults["edit_end"], label="Edit end value (parametric; blank = the edit's default)",
                                 info=_end_info(_parametric_kind(defaults["editor"])),
                                 step=_end_step(_parametric_kind(defaults["editor"])), elem_id="edit-end")
            regions = gr.CheckboxGroup(list(CHOICES), value=defaults["regions"], elem_id="edit-regions",
                                       label="Regions (tick several to compare them)",
                                       info="object / background: the bundled U^2-Net-p salient-object segmenter")
            # The canvas's background is a copy of the image: a broken image must fail with the image's name.
            painted = safe_image_input(gr.ImageEditor(
                canvas_for(defaults["image"]), type="numpy", label="Paint the region", visible=False, layers=False,
                transforms=(), sources=["upload", "clipboard"], brush=gr.Brush(colors=["#ff00ff"], color_mode="fixed"),
                height=320))
            mask_file = gr.File(label="...or upload a mask (greyscale PNG, white = inside)", file_types=["image"],
                                visible=False)
            button, error = run_button("edit")
        with gr.Column(scale=1):
            steps = gr.Slider(*RANGES["steps"], value=defaults["steps"], step=1, label="Number of steps",
                              elem_id="edit-steps")
            statistic = statistic_input()
            seeds = gr.Textbox("0", label="Seed(s): '0', '0, 1, 2' or '0-3' (several = mean curve)", visible=False)
            with gr.Accordion("Diffusion settings", open=True, visible=False) as diffusion_settings:
                max_guidance = gr.Slider(1.5, 20, value=15, step=0.5,
                                         label="Max guidance (InstructPix2Pix: text guidance s_max; other editors: "
                                         "the high end of their knob)")
                image_guidance = gr.Slider(1.0, 5.0, value=2.5, step=0.1, label="Image guidance")
                denoising = gr.Slider(5, 100, value=20, step=1, label="Denoising steps")
            if status:
                with gr.Accordion("Guided editors: which are here, how to get the others", open=False):
                    gr.Markdown(guided.markdown(status))
            controls = model_controls(defaults["models"], outputs=defaults["outputs"], prefix="edit")
            study_files = study_input("edit")
    editor.change(show_editor_settings, editor, [instruction, diffusion_settings, edit_end, seeds], queue=False,
                  api_visibility="private")
    editor.input(end_for_editor, editor, edit_end, queue=False, api_visibility="private")
    regions.change(show_mask_inputs, regions, [painted, mask_file], queue=False, api_visibility="private")
    image.change(canvas_for, image, painted, queue=False, preprocess=False, api_visibility="private")
    rows, labels = edit_examples()
    examples = gr.Examples(rows, [image, editor, edit_end, steps, regions, controls.bundled, controls.outputs],
                           example_labels=labels, label="Examples: each sets the image, edit, regions, models and "
                                                        "outputs together", examples_per_page=8)
    outputs = result_outputs("edit", comparisons=True)
    build_screen_section(image, controls, steps, statistic)  # issue 16: the Screen action
    # Newer inputs go last: API clients pass arguments by position.
    inputs = [image, instruction, editor, max_guidance, image_guidance, steps, denoising, seeds, edit_end,
              *controls.inputs(), regions, painted, mask_file, study_files, statistic]
    running = wire_run(button, error, run_edit, inputs, outputs, "edit", CONCURRENCY)
    preset_loaded(examples, outputs, running)
    return outputs
