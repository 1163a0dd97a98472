"""``python -m propgrad models``: the bundled models, one name a line."""
from __future__ import annotations


def run_models() -> int:
    from ..models.bundled import bundled_model_names

    for name in bundled_model_names():
        print(name)
    return 0
