"""``python -m propgrad editors``: every guided editor, its knob and range, licence, and whether its weights
are here (and how to get them)."""
from __future__ import annotations

from . import console


def get_them(editor) -> str:
    """How to put an editor's weights where propgrad finds them."""
    return (f"`hf download {editor.default_model} --local-dir /path/to/{editor.name}`, then set "
            f"{editor.env}=/path/to/{editor.name} or pass --editor-model /path/to/{editor.name}")


def describe(editor) -> dict:
    """One editor as ``--json`` lists it: what the printout says, as fields."""
    from ..interventions.editors import editor_available

    low, high = editor.knob_range
    here = editor_available(editor.name)
    return {"name": editor.name, "title": editor.title, "pipeline_class": editor.pipeline_class,
            "default_model": editor.default_model, "knob": editor.knob, "knob_range": [low, high],
            "batched": editor.batched, "licence": editor.licence, "weights_available": here,
            "fixed": dict(editor.fixed), "note": editor.note, "env": editor.env,
            "get_weights": None if here else get_them(editor)}


def run_list() -> int:
    """Print every known editor: its knob and range, whether its weights are here, how to get them (``--json``: as
    one document, a list of :func:`describe`'s records, for an agent asking whether an editor can run here)."""
    from ..interventions.editors import EDITORS, editor_available

    if console.json_wanted():
        console.emit([describe(editor) for editor in EDITORS.values()])
        return 0
    for editor in EDITORS.values():
        here = editor_available(editor.name)
        low, high = editor.knob_range
        console.say(f"{editor.name}: {editor.title} ({editor.pipeline_class}); knob {editor.knob} {low:g}..{high:g}; "
              f"{'batched' if editor.batched else 'one call per knob value'}; licence: {editor.licence}; "
              f"weights: {'available' if here else 'missing'}")
        if editor.fixed:
            console.say(f"    fixed: {', '.join(f'{k}={v!r}' for k, v in editor.fixed.items())}")
        if editor.note:
            console.say(f"    note: {editor.note}")
        if not here:
            console.say(f"    get them: {get_them(editor)}")
    return 0
