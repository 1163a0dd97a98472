"""``python -m propgrad dynamics``: the lesion scenario's training dynamics (its own flags)."""
from __future__ import annotations


def run_dynamics(argv: list[str]) -> int:
    from ..lesions.dynamics import main as dynamics_main

    dynamics_main(argv)  # returns its results for callers in Python; the shell gets 0
    return 0
