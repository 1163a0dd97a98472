"""The first tab: diffusion edits (an InstructPix2Pix guidance sweep) or parametric edits of one image."""
from __future__ import annotations

import logging

import gradio as gr

from ... import paths
from ...errors import ModelUnavailableError
from .. import settings
from ..settings import CONCURRENCY
from ..parsing import MAX_STEPS, check_float, check_int, check_text, parse_seeds, shown
from ..run import chosen_models, explain_for_app, load_input, shuffle_test_settings
from ..shared import default_models, friendly_errors, model_controls, result_outputs, safe_image_input

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


@friendly_errors
def run_edit(image, instruction, editor, max_guidance, image_guidance, steps, denoising_steps, seeds,
             edit_end, bundled, files, input_size, mean, std, class_names, outputs, n_permutations, alpha,
             hub_ids="", outputs_are="auto", progress=gr.Progress()):
    """Edit ``image`` gradually (InstructPix2Pix guidance sweep or a parametric edit) and score the models."""
    shuffle = shuffle_test_settings(n_permutations, alpha)
    picture = load_input(image)
    steps = check_int(steps, name="number of steps", low=3, high=MAX_STEPS)
    seed_list = parse_seeds(seeds)
    notes: list[str] = []
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

        intervention = InstructPix2PixSweep(
            instruction,
            max_guidance=check_float(max_guidance, name="max text guidance", low=1.5, high=30),
            steps=steps,
            image_guidance=check_float(image_guidance, name="image guidance", low=1.0, high=10),
            denoising_steps=check_int(denoising_steps, name="denoising steps", low=1, high=100),
            seeds=seed_list,
            max_side=settings.IP2P_MAX_SIDE,
        )
    elif isinstance(editor, str) and editor.startswith("parametric: "):
        from ... import ParametricEdit

        end = None if edit_end in (None, "") else check_float(edit_end, name="edit end value",
                                                                       low=-1e4, high=1e4)
        intervention = ParametricEdit(editor.removeprefix("parametric: "), stop=end, steps=steps)
        if len(seed_list) > 1:
            notes.append(f"a parametric edit is the same for every seed: one series, shuffle test seeded "
                         f"with {seed_list[0]}")
    else:
        raise ValueError(f"`editor` {shown(editor)} is not available here; choose one of {editor_choices(False)}")
    models = chosen_models(bundled, files, input_size, mean, std, class_names, hub_ids, outputs_are)
    return explain_for_app(picture, intervention, models, outputs, shuffle, seed_list[0], progress, notes)


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
            image = safe_image_input(gr.Image(str(ASSETS / "examples" / "chelsea.jpg"), type="filepath",
                                               image_mode=None, label="Image", sources=["upload", "clipboard"]))
            editor = gr.Dropdown(choices, value="parametric: brightness", label="Editor")
            # Only the chosen editor's own settings are shown (see show_editor_settings).
            instruction = gr.Textbox("make the fur white", label="Instruction (InstructPix2Pix only)",
                                     visible=False)
            edit_end = gr.Number(0.1, label="Edit end value (parametric; blank = the edit's default)")
        with gr.Column(scale=1):
            steps = gr.Slider(3, MAX_STEPS, value=10, step=1, label="Number of steps")
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
