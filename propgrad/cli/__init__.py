"""Command line: ``python -m propgrad explain | study | models | dynamics``.

| module | command |
| --- | --- |
| ``explain`` | one image, one intervention (or several regions compared) |
| ``screen`` | one image, many candidate properties ranked with adjusted p-values |
| ``study`` | many images x interventions x models, resumable, on any engine |
| ``lessons`` | the course's lessons, executed and written as offline HTML pages or notebooks |
| ``models``, ``editors``, ``dynamics`` | the bundled models; the guided editors; the lesion scenario's training dynamics |
| ``gradual`` | the gradualness check's thresholds and verdict lines |
| ``flags`` | the flags they share, derived from the registry of kinds and the model spec |
"""
from __future__ import annotations

import argparse
import sys

from ..errors import USER_ERRORS
from .explain import add_explain_parser, run_explain
from .screen import add_screen_parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m propgrad",
        description="Local interventional explanations: does a model's prediction for THIS image depend on "
        "THIS property? Gradually change the property, run the models on every step, and measure "
        "E[|grad_X F|], its shuffle-test p-value and where the prediction flips.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add_explain_parser(commands)
    add_screen_parser(commands)
    commands.add_parser("models", help="list the bundled models")
    commands.add_parser("editors", help="list the guided editors: knob, range, licence, weights and how to get them")
    commands.add_parser("dynamics", help="training dynamics of the lesion scenario (see its --help)", add_help=False)
    commands.add_parser("lessons", help="the course: execute the five lessons and write them as offline HTML "
                        "(see its --help)", add_help=False)
    commands.add_parser("study", help="many images: images x interventions x models, resumable, in-process, "
                        "local processes or Ray (see its --help)", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["study"]:
        from .study import main as study_main

        return study_main(argv[1:])
    if argv[:1] == ["lessons"]:
        from .lessons import run as run_lessons

        return run_lessons(argv[1:])
    if argv[:1] == ["dynamics"]:
        from .dynamics import run_dynamics

        run_dynamics(argv[1:])  # returns its results for callers in Python; the shell gets 0
        return 0
    args = build_parser().parse_args(argv)
    try:
        if args.command == "models":
            from .models import run_models

            return run_models()
        if args.command == "screen":
            from .screen import run

            return run(args)
        if args.command == "editors":
            from .editors import run_list

            return run_list()
        return run_explain(args)
    except USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


__all__ = ["build_parser", "main"]
