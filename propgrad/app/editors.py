"""The guided editors in the app: which are here, how to get the others, and the intervention (issue 17).

Gradio-free. The edit tab lists every editor of :data:`propgrad.interventions.editors.EDITORS` in a
Markdown table; editors whose weights are present are added to its editor dropdown as
``"editor: <title>"``. InstructPix2Pix keeps its own dropdown entry and batched sweep.
"""
from __future__ import annotations

import logging

log = logging.getLogger("propgrad.app")

PREFIX = "editor: "
PIX2PIX = "instruct-pix2pix"


def editor_status() -> list[tuple[str, bool]]:
    """(editor name, weights present) for every known editor but InstructPix2Pix (listed on its own)."""
    try:
        from ..interventions.editors import EDITORS, editor_available
    except ImportError:  # diffusers missing in this build
        return []
    status = []
    for name in EDITORS:
        if name == PIX2PIX:
            continue
        try:
            here = bool(editor_available(name))
        except Exception:  # noqa: BLE001 - an availability probe must never stop the app
            log.exception("availability check of editor %s failed", name)
            here = False
        status.append((name, here))
    return status


def choices(status: list[tuple[str, bool]]) -> list[str]:
    """Dropdown entries of the editors whose weights are present."""
    from ..interventions.editors import EDITORS

    return [PREFIX + EDITORS[name].title for name, here in status if here]


def markdown(status: list[tuple[str, bool]]) -> str:
    """Every editor: knob and range, licence, and either 'available' or how to get its weights."""
    if not status:
        return ""
    from ..interventions.editors import EDITORS

    # A list, not a table: the settings column is narrow, and a wide table would hide the last column.
    lines = []
    for name, here in status:
        editor = EDITORS[name]
        how = ("**available**: choose it under *Editor*" if here else
               f"weights missing: `hf download {editor.default_model} --local-dir DIR`, then set `{editor.env}=DIR`")
        low, high = editor.knob_range
        lines.append(f"- **{editor.title}** (`{editor.knob}` {low:g} to {high:g}; {editor.licence}): {how}")
    return "\n".join(lines)


def name_of(choice: str) -> str | None:
    """The editor name behind a dropdown entry, or None for any other entry."""
    if not isinstance(choice, str) or not choice.startswith(PREFIX):
        return None
    from ..interventions.editors import EDITORS

    title = choice.removeprefix(PREFIX)
    return next((name for name, editor in EDITORS.items() if editor.title == title), None)


def intervention(choice: str, instruction: str, max_knob: float, steps: int, denoising_steps: int, seeds):
    """The GuidedEditorSweep for a dropdown entry: the editor's range with the slider's value as its high end."""
    from ..errors import ModelUnavailableError
    from ..interventions.editors import EDITORS, editor_available
    from ..kinds import GuidedEditorSpec
    from .parsing import box_names

    name = name_of(choice)
    if name is None:
        raise ValueError(f"`editor`: {choice!r} is not a known editor")
    editor = EDITORS[name]
    if not editor_available(name):
        raise ModelUnavailableError(editor.how_to_get())
    low = editor.knob_range[0]
    if not max_knob > low:
        raise ValueError(f"`max guidance` must be above {low:g} for {editor.title} (its knob {editor.knob} starts "
                         f"there), got {max_knob:g}")
    boxes = {"knob_range": "max guidance", "steps": "number of steps", "denoising_steps": "denoising steps"}
    return box_names(GuidedEditorSpec, boxes, editor=name, instruction=instruction, knob_range=(low, float(max_knob)),
                     steps=steps, denoising_steps=denoising_steps, seeds=tuple(seeds)).build()
