"""Command-line flags for the guided editors (``explain`` and ``study``) and the ``editors`` listing.

Kept apart from ``cli.py`` so the command line's restructuring can take it over as one piece:
``add_flags(group)`` adds --editor, --knob-range, --negative-prompt and --editor-model to the
intervention group; ``wants_editor(args)`` says whether they pick a guided editor other than the
batched InstructPix2Pix path; ``build(args)`` makes the intervention; ``spec_fields(args)`` gives the
study's intervention fields; ``run_list()`` prints the table.
"""
from __future__ import annotations

import argparse

PIX2PIX = "instruct-pix2pix"


def add_flags(group) -> None:
    """The editor flags, on the intervention group ``add_intervention_flags`` returns."""
    from .interventions.editors import editor_names

    group.add_argument("--editor", default=PIX2PIX, metavar="NAME",
                       help="--instruction: the guided editor (" + ", ".join(editor_names()) + "); see "
                       "`python -m propgrad editors` for their knobs, weights and licences")
    group.add_argument("--knob-range", type=float, nargs=2, metavar=("LOW", "HIGH"),
                       help="--editor: the knob's values for steps 1.. (linspace(LOW, HIGH, steps - 1)); default "
                       "per editor (InstructPix2Pix: use --max-guidance)")
    group.add_argument("--negative-prompt", metavar="TEXT",
                       help="--editor: negative prompt, for editors that take one (Qwen-Image-Edit: default ' ')")
    group.add_argument("--editor-model", metavar="ID_OR_FOLDER",
                       help="--editor: hub id or local folder of the weights (default: the editor's hub id, or the "
                       "folder in its environment variable, e.g. $PROPGRAD_LEDITS_PP)")


def wants_editor(args: argparse.Namespace) -> bool:
    """Whether the flags ask for a guided editor (anything but the default batched InstructPix2Pix sweep)."""
    if not getattr(args, "instruction", None):
        for flag in ("knob_range", "negative_prompt", "editor_model"):
            if getattr(args, flag, None) is not None:
                raise ValueError(f"--{flag.replace('_', '-')} needs --instruction (and --editor)")
        if getattr(args, "editor", PIX2PIX) != PIX2PIX:
            raise ValueError("--editor needs --instruction, the edit to make")
        return False
    from .interventions.editors import get_editor

    get_editor(args.editor)  # an unknown name fails here, listing the known ones
    return args.editor != PIX2PIX or any(getattr(args, f, None) is not None
                                         for f in ("knob_range", "negative_prompt", "editor_model"))


def build(args: argparse.Namespace):
    """The GuidedEditorSweep the flags describe, with the disk cache (as the app and studies use)."""
    from .cache import SeriesCache
    from .interventions.editors import GuidedEditorSweep

    return GuidedEditorSweep(args.instruction, **spec_fields(args), steps=args.steps,
                             denoising_steps=args.denoising_steps, seeds=tuple(args.seeds), cache=SeriesCache())


def spec_fields(args: argparse.Namespace) -> dict:
    """editor, knob_range, negative_prompt and model, as the study's intervention table takes them."""
    knob_range = tuple(args.knob_range) if args.knob_range else None
    if args.editor == PIX2PIX and knob_range is None:
        from .interventions.editors import get_editor

        knob_range = (get_editor(PIX2PIX).knob_range[0], args.max_guidance)
    return {"editor": args.editor, "knob_range": knob_range, "negative_prompt": args.negative_prompt,
            "model": args.editor_model}


def run_list() -> int:
    """Print every known editor: its knob and range, whether its weights are here, how to get them."""
    from .interventions.editors import EDITORS, editor_available

    for editor in EDITORS.values():
        here = editor_available(editor.name)
        low, high = editor.knob_range
        print(f"{editor.name}: {editor.title} ({editor.pipeline_class}); knob {editor.knob} {low:g}..{high:g}; "
              f"{'batched' if editor.batched else 'one call per knob value'}; licence: {editor.licence}; "
              f"weights: {'available' if here else 'missing'}")
        if editor.fixed:
            print(f"    fixed: {', '.join(f'{k}={v!r}' for k, v in editor.fixed.items())}")
        if editor.note:
            print(f"    note: {editor.note}")
        if not here:
            print(f"    get them: `hf download {editor.default_model} --local-dir /path/to/{editor.name}`, then "
                  f"set {editor.env}=/path/to/{editor.name} or pass --editor-model /path/to/{editor.name}")
    return 0
