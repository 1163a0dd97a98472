"""The first tab: diffusion edits (an InstructPix2Pix guidance sweep) or parametric edits of one image."""
from __future__ import annotations

import logging

import gradio as gr

from ... import paths
from ...errors import ModelUnavailableError
from .. import settings
from ..settings import CONCURRENCY
from ..parsing import MAX_STEPS, check_float, check_int, check_text, file_path, parse_seeds, shown
from ..regions import BACKGROUND, CHOICES, OBJECT, PAINTED, WHOLE, region_interventions
from ..run import chosen_models, compare_for_app, explain_for_app, load_input, shuffle_test_settings
from ..shared import (bundled_names, default_models, friendly_errors, model_controls, result_outputs, safe_image_input,
                      study_input)
from ..screen import build_screen_section  # issue 16
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
    return False, ("InstructPix2Pix weights (`timbrooks/instruct-pix2pix`) are not on this machine, so only the "
                   "parametric edits below are available. On a machine with internet access, or with the "
                   "weights in the Hugging Face cache, the instruction editor appears here.")


IP2P = "InstructPix2Pix (instruction)"


def editor_choices(ip2p_available: bool) -> list[str]:
    from ... import EDITS

    return ([IP2P] if ip2p_available else []) + [f"parametric: {kind}" for kind in EDITS]


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
        instruction = check_text(instruction, name="instruction", max_length=500)
        if not instruction:
            raise ValueError("`instruction` is empty: type what the editor should change, e.g. 'make the fur white'")
        available, message = instruct_pix2pix_status()
        if not available:
            raise ModelUnavailableError(f"{message} Choose a parametric edit instead.")
        from ...interventions.diffusion import InstructPix2PixSweep

        from ...cache import SeriesCache

        # The disk cache (shared by sessions, locked per key) also lets object and background reuse one sweep.
        return InstructPix2PixSweep(
            instruction,
            max_guidance=check_float(max_guidance, name="max text guidance", low=1.5, high=30),
            steps=steps,
            image_guidance=check_float(image_guidance, name="image guidance", low=1.0, high=10),
            denoising_steps=check_int(denoising_steps, name="denoising steps", low=1, high=100),
            seeds=seed_list,
            max_side=settings.IP2P_MAX_SIDE,
            cache=SeriesCache(),
        )
    if isinstance(editor, str) and editor.startswith("parametric: "):
        from ... import ParametricEdit

        end = None if edit_end in (None, "") else check_float(edit_end, name="edit end value", low=-1e4, high=1e4)
        if len(seed_list) > 1:
            notes.append(f"a parametric edit is the same for every seed: one series, shuffle test seeded "
                         f"with {seed_list[0]}")
        try:
            return ParametricEdit(editor.removeprefix("parametric: "), stop=end, steps=steps)
        except ValueError as error:  # the package names its argument (`stop`); here the user sees a box
            raise ValueError(f"`edit end value`: {error}") from None
    raise ValueError(f"`editor` {shown(editor)} is not available here; choose one of {editor_choices(False)}")


@friendly_errors
def run_edit(image, instruction, editor, max_guidance, image_guidance, steps, denoising_steps, seeds,
             edit_end, bundled, files, input_size, mean, std, class_names, outputs, n_permutations, alpha,
             hub_ids="", outputs_are="auto", regions=(WHOLE,), painted=None, mask_file=None, study_files=None,
             statistic="gradient", progress=gr.Progress()):
    """Edit ``image`` gradually inside each ticked region and score the models; several regions are compared.

    ``regions`` defaults to the whole image for API clients that predate regions. With ``study_files``
    (several images or a zip) the same edit runs on each of them instead: a study.
    """
    shuffle = shuffle_test_settings(n_permutations, alpha)
    picture = None if study_files else load_input(image)
    steps = check_int(steps, name="number of steps", low=3, high=MAX_STEPS)
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


def show_editor_settings(editor: str):
    """Visibility of (instruction, diffusion settings, edit end value) for the chosen editor."""
    diffusion = editor == IP2P
    return gr.update(visible=diffusion), gr.update(visible=diffusion), gr.update(visible=not diffusion)


def show_mask_inputs(regions):
    """The painting canvas and the mask upload only while 'painted or uploaded mask' is ticked."""
    painted = PAINTED in (regions or [])
    return gr.update(visible=painted), gr.update(visible=painted)


def canvas_for(image):
    """A fresh painting canvas over the chosen image (an earlier image's strokes would not fit)."""
    return {"background": image, "layers": [], "composite": image}


def build_edit_tab(ip2p: tuple[bool, str]) -> None:
    available, message = ip2p
    choices = editor_choices(available)
    defaults = edit_defaults()
    gr.Markdown(
        "Change one property step by step, inside a region or on the whole image, and watch every model's output "
        "follow. Tick several regions to compare them in one table (the paper's Table 1): the default darkens the "
        "cat's fur (the bundled segmenter's object) and, separately, the background, for the method authors' "
        f"cats-vs-dogs ConvMixers (unbiased, dark-cats bias, dark-dogs bias). **Editors:** {message}")
    with gr.Row():
        with gr.Column(scale=1):
            image = safe_image_input(gr.Image(defaults["image"], type="filepath", image_mode=None, label="Image",
                                              sources=["upload", "clipboard"]))
            editor = gr.Dropdown(choices, value=defaults["editor"], label="Editor")
            # Only the chosen editor's own settings are shown (see show_editor_settings).
            instruction = gr.Textbox("make the fur white", label="Instruction (InstructPix2Pix only)",
                                     visible=False)
            edit_end = gr.Number(defaults["edit_end"], label="Edit end value (parametric; blank = the edit's default)")
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
        with gr.Column(scale=1):
            steps = gr.Slider(3, MAX_STEPS, value=defaults["steps"], step=1, label="Number of steps")
            seeds = gr.Textbox("0", label="Seed(s): '0', '0, 1, 2' or '0-3' (several = mean curve)")
            with gr.Accordion("Diffusion settings", open=True, visible=False) as diffusion_settings:
                max_guidance = gr.Slider(1.5, 20, value=15, step=0.5, label="Max text guidance s_max")
                image_guidance = gr.Slider(1.0, 5.0, value=2.5, step=0.1, label="Image guidance")
                denoising = gr.Slider(5, 100, value=20, step=1, label="Denoising steps")
            controls = model_controls(defaults["models"], outputs=defaults["outputs"])
            study_files = study_input("edit")
            button = gr.Button("Run", variant="primary", elem_id="edit-run")
    outputs = result_outputs("edit")
    statistic = build_screen_section(image, controls, steps)  # issue 16: the Screen action, its statistic
    # Newer inputs go last: API clients pass arguments by position.
    inputs = [image, instruction, editor, max_guidance, image_guidance, steps, denoising, seeds, edit_end,
              *controls.inputs(), regions, painted, mask_file, study_files, statistic]
    button.click(run_edit, inputs, outputs, api_name="edit", concurrency_limit=CONCURRENCY)
    editor.change(show_editor_settings, editor, [instruction, diffusion_settings, edit_end], queue=False,
                  api_visibility="private")
    regions.change(show_mask_inputs, regions, [painted, mask_file], queue=False, api_visibility="private")
    image.change(canvas_for, image, painted, queue=False, api_visibility="private")
    authors = [name for name in bundled_names() if AUTHORS_HINT in name]
    examples = [[defaults["image"], DEFAULT_EDIT, DEFAULT_END, DEFAULT_STEPS, DEFAULT_REGIONS]]
    if (ASSETS / "examples" / "chicky.jpg").is_file():
        examples.append([str(ASSETS / "examples" / "chicky.jpg"), DEFAULT_EDIT, DEFAULT_END, DEFAULT_STEPS,
                         DEFAULT_REGIONS])
    examples += [[defaults["image"], "parametric: brightness", 0.1, 10, ["whole image"]],
                 [str(ASSETS / "examples" / "coffee.jpg"), "parametric: hue", 180, 12, ["whole image"]],
                 [str(ASSETS / "examples" / "rocket.jpg"), "parametric: blur", 8, 8, ["whole image"]]]
    gr.Examples(examples, [image, editor, edit_end, steps, regions],
                label="Examples (bundled images" + ("; the dog is for the authors' models" if authors else "") + ")")
