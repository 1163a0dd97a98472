"""``python -m propgrad editors``: every guided editor, its knob and range, licence, and whether its weights
are here (and how to get them)."""
from __future__ import annotations

from . import console


def run_list() -> int:
    """Print every known editor: its knob and range, whether its weights are here, how to get them."""
    from ..interventions.editors import EDITORS, editor_available

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
            console.say(f"    get them: `hf download {editor.default_model} --local-dir /path/to/{editor.name}`, then "
                  f"set {editor.env}=/path/to/{editor.name} or pass --editor-model /path/to/{editor.name}")
    return 0
