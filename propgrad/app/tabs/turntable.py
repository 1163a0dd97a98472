"""The turntable tab: uploaded frames of an object turning, scored by classifiers and CLIP zero-shot."""
from __future__ import annotations

from functools import cache

import gradio as gr

from ... import paths
from ...errors import ModelUnavailableError
from ...images import IMAGE_SUFFIXES, file_sha256
from ...reading import for_pages
from ..model_inputs import clip_pretrained as checked_clip_pretrained
from ..parsing import MAX_FRAMES, check_suffixes, check_text, file_path, in_range, parse_classes
from ..results import explain_for_app
from ..run import chosen_models, shuffle_test_settings
from ..settings import CONCURRENCY, local_paths_allowed
from ..shared import (default_models, friendly_errors, model_controls, preset_loaded, result_outputs, run_button,
                      wire_run, with_model_args)

ASSETS = paths.ASSETS


def turntable_frames() -> list[str]:
    return [str(p) for p in sorted((ASSETS / "turntable").glob("*.png"))]


@cache
def _example_frame_digests() -> frozenset[str]:
    return frozenset(file_sha256(path) for path in turntable_frames()) - {None}


def without_example_frames(files) -> list[str]:
    """The file list after an upload, less the bundled example frames once a frame of the user's own is in it.

    gradio's multiple-file box adds an upload to what it holds, so frames uploaded over the example would be run
    interleaved (by file name) with the rendered mug's. The example's frames are known by content, because gradio
    copies every file, bundled or uploaded, into its own cache under a new path.
    """
    paths = [file_path(item, name="frames") for item in (files or [])]
    own = [path for path in paths if file_sha256(path) not in _example_frame_digests()]
    return own or paths


EXAMPLE_ROTATION = 360  # degrees the rendered mug's frames cover


def frames_uploaded(files, rotation, typed: bool = False):
    """The frames box and the rotation after an upload: the example's frames left out (:func:`without_example_frames`)
    and, where the visitor's own frames replaced them and the rotation is still the example's (``typed``: the visitor
    set it themselves, 360 degrees included), the frames numbered instead (0): four frames of an unknown turn were
    read as "turntable angle 90 degrees" a step."""
    kept = without_example_frames(files)
    own = any(file_sha256(path) not in _example_frame_digests() for path in kept)
    return kept, 0 if own and not typed and rotation == EXAMPLE_ROTATION else rotation


# The presets' labels (every frame, every third), which the deep links and the talk view name too.
EXAMPLE_LABELS = ("Rendered mug, 36 frames over 360 degrees", "Rendered mug, every third frame (12)")

DEFAULT_CLASSES = ("coffee mug: a photo of a coffee mug; a ceramic mug with a handle; a cup of coffee\n"
                   "barrel: a photo of a barrel; a small drum\n"
                   "pitcher: a photo of a pitcher; a jug")


@friendly_errors
@with_model_args
def run_turntable(frames, rotation=360, use_clip=False, classes=DEFAULT_CLASSES, clip_model="ViT-B-32",
                  clip_pretrained="openai", seed=0, bundled=None, files=None, input_size=None, mean="", std="",
                  class_names="", outputs="", n_permutations=10_000, alpha=0.01, hub_ids="", outputs_are="auto",
                  progress=gr.Progress()):
    """Explain whether a classifier's output depends on viewpoint: score captured frames of an object turning.

    Real interventional data: frames of an object rotating on a turntable, taken in order (sorted by file
    name), are scored with the chosen models and/or CLIP zero-shot against text descriptions per class;
    E[|grad_X F|] measures how strongly each output follows the rotation. Bad arguments come back as an
    error naming the argument.

    Args:
        frames: 3 or more frame images, in order by file name; http(s) URLs or data: URIs
        rotation: total rotation in degrees over the frames, to label the x axis; 0 = just number the frames
        use_clip: also score with CLIP zero-shot (needs its weights on the server)
        classes: CLIP classes, one per line as "name: a photo of a ...; another description"
        clip_model: open_clip architecture name, e.g. "ViT-B-32"
        clip_pretrained: open_clip pretrained tag or a server checkpoint path, e.g. "openai"
        seed: seed of the shuffle test, a non-negative integer
        {model_args}

    Returns:
        {result_returns}
    """
    from ...kinds import FramesSpec

    shuffle = shuffle_test_settings(n_permutations, alpha)
    paths = [file_path(f, name="frames") for f in (frames or [])]
    if len(paths) < 3:
        raise ValueError(f"`frames`: upload at least 3 frames (ordered by file name), got {len(paths)}")
    if len(paths) > MAX_FRAMES:
        raise ValueError(f"`frames`: at most {MAX_FRAMES} frames per run, got {len(paths)}; "
                         "keep every n-th frame")
    check_suffixes(paths, IMAGE_SUFFIXES, name="frames")
    rotation = in_range(rotation or 0, "rotation", "total rotation")
    intervention = FramesSpec(frames=tuple(paths), rotation=rotation).build()
    clip = []
    if use_clip:
        try:
            from ...models.clip import ClipZeroShot
        except ImportError as error:
            raise ModelUnavailableError(f"CLIP zero-shot is not installed in this build ({error}); "
                                        "untick CLIP and use the bundled classifier") from error
        progress(0.0, desc="loading CLIP")
        model_name = check_text(clip_model, name="open_clip model", max_length=100) or "ViT-B-32"
        try:
            clip.append(ClipZeroShot(parse_classes(classes), model_name=model_name,
                                     pretrained=checked_clip_pretrained(clip_pretrained, model_name)))
        except ModelUnavailableError as error:
            raise _clip_missing(error) from None
    models = chosen_models(bundled, files, input_size, mean, std, class_names, hub_ids, outputs_are, extra=clip,
                           missing="`models`: tick a bundled model, tick CLIP, name a hub classifier or upload a .pt2 / "
                                   "TorchScript file")
    seed = in_range(seed, "seed")
    try:
        return explain_for_app(None, intervention, models, outputs, shuffle, seed, progress)
    except ModelUnavailableError as error:
        if not clip:
            raise
        raise _clip_missing(error) from None


def _clip_missing(error: ModelUnavailableError) -> ModelUnavailableError:
    """The package's message about CLIP's missing weights, for the app: what a student can do first (untick a
    box), then where the weights go, then what is missing, for whoever runs the server."""
    # The package speaks of arguments; here the user has boxes to fill in.
    where = ("type the checkpoint file's path into 'Pretrained tag or local checkpoint path' (the open_clip "
             "model must match it)" if local_paths_allowed() else
             "this server takes open_clip tags only, so its operator must place the weights in the cache")
    missing = ModelUnavailableError(f"CLIP cannot run here: untick 'Add CLIP zero-shot' to use the other models, "
                                    f"or {where}. What is missing: {error}")
    missing.what_is_missing = str(error)  # for a front end without those boxes (an agent's tool)
    return missing


def default_result(progress=lambda *args, **kwargs: None) -> tuple:
    """The tab's default example through its own handler: what the page shows on load."""
    return run_turntable(turntable_frames(), 360, False, DEFAULT_CLASSES, "ViT-B-32", "openai", 0, default_models(),
                         outputs="coffee mug", progress=progress)


def clip_status() -> str:
    """Whether CLIP's default weights were on this server when the page was built, said before a run: ticking CLIP
    without them failed the run and cleared the tab's answer."""
    from ...models.clip import default_weights_here

    if default_weights_here():
        return "CLIP's default weights (ViT-B-32, openai) are on this server."
    return ("CLIP's default weights (ViT-B-32, openai) were not in this server's cache at its start: a run downloads "
            "them where the Hugging Face hub can be reached; without it, name a checkpoint file under CLIP settings.")


def build_turntable_tab() -> list:
    """The tab's controls, wired to :func:`run_turntable`; returns the result components (filled on page load)."""
    gr.Markdown(for_pages(
        "Frames of an object turning (uploaded in file-name order). The default is a rendered mug turning 360 degrees "
        "in 36 frames, rendered by this app (nothing downloaded). CLIP needs its weights (hub tag or a local "
        "checkpoint); the bundled ImageNet classifier always works. The second example keeps every third frame of the "
        "same turn: the curve is the same, but 30 degrees a step is too coarse to be gradual; the output jumps from "
        "step to step about as much as in a shuffled order, so the shuffle test does not confirm the trend, and "
        "E[|grad_X F|], a slope per step, is larger because each step turns three times as far. Compare runs at the "
        "same step size."))
    frames_value = turntable_frames()
    with gr.Row():
        with gr.Column(scale=1):
            frames = gr.File(frames_value, label="Frames (ordered by file name; the list scrolls)", file_count="multiple",
                             file_types=["image"], height=220)
            rotation = gr.Number(EXAMPLE_ROTATION, label="Total rotation covered by the frames (degrees; 0 = number "
                                 "them)", info="your own frames: the degrees they turn through, or 0")
            button, error = run_button("turntable")
        with gr.Column(scale=1):
            use_clip = gr.Checkbox(False, label="Add CLIP zero-shot (open_clip; needs weights)", info=clip_status())
            with gr.Accordion("CLIP settings", open=False):
                classes = gr.Textbox(DEFAULT_CLASSES, lines=4,
                                     label="CLIP classes: one per line, 'class: description; description; ...'")
                with gr.Row():
                    clip_model = gr.Textbox("ViT-B-32", label="open_clip model")
                    clip_pretrained = gr.Textbox("openai", label="Pretrained tag or local checkpoint path")
            controls = model_controls(default_models(), outputs="coffee mug", prefix="turntable", seed=True)
            seed = controls.seed
    examples = gr.Examples([[frames_value, EXAMPLE_ROTATION], [frames_value[::3], EXAMPLE_ROTATION]],
                           [frames, rotation],
                           example_labels=list(EXAMPLE_LABELS), label="Examples (a mug rendered by this app)")
    # Whether the rotation is the visitor's own (typed, a full turn of 360 included) rather than the example's.
    typed = gr.State(False)
    rotation.input(lambda: True, None, typed, queue=False, api_visibility="private")
    examples.load_input_event.then(lambda: False, None, typed, queue=False, api_visibility="private")
    # An upload replaces the example's frames instead of joining them, and numbers them unless told their turn
    # (see frames_uploaded). Unqueued, so that it is done before a Run pressed just after the upload reads the boxes.
    frames.upload(frames_uploaded, [frames, rotation, typed], [frames, rotation], show_progress="hidden", queue=False,
                  api_visibility="private")
    outputs = result_outputs("turntable")
    inputs = [frames, rotation, use_clip, classes, clip_model, clip_pretrained, seed, *controls.inputs()]
    running = wire_run(button, error, run_turntable, inputs, outputs, "turntable", CONCURRENCY)
    preset_loaded(examples, outputs, running)
    return outputs
