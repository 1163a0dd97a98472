"""The way an image takes through the package from the first tab's handler (issue 23, item 4).

Runs the first tab's default (the chelsea cat, darken in the object and in the background, the authors' three
ConvMixers) once to load the models, then once traced (``propgrad.testing.layers.trace_way``), and prints the
modules the image and what is made from it visit, in order with their layers, the distinct steps back up to a
higher layer and back into a module already left. Targets of the issue: at most 10 modules and at most 8
returns to a higher layer.

Run: ``python bench/way_out.py`` from the repository root. Ends with ``name: value`` lines.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def main() -> None:
    from propgrad.app.tabs import edit
    from propgrad.testing.layers import trace_way

    edit.default_result()
    way = trace_way(edit.default_result, edit.run_edit)
    print("the way:", way.drawn())
    print("modules (layer):", ", ".join(f"{name} ({way.layer[name]})" for name in way.modules))
    print("returns to a higher layer:", ", ".join(f"{a}->{b}" for a, b in way.returns_up))
    print("calls up a layer (not returns):", ", ".join(f"{a}->{b}" for a, b in way.calls_up))
    print("steps into a module it had left:", ", ".join(f"{a}->{b}" for a, b in way.steps_into_left))
    print(f"modules_visited: {len(way.modules)} (target <= 10)")
    print(f"steps_into_a_module_left: {len(way.steps_into_left)}")
    print(f"returns_to_a_higher_layer: {len(way.returns_up)} (target <= 8)")


if __name__ == "__main__":
    main()
