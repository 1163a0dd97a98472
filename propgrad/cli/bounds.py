"""The table of limits (:mod:`propgrad.limits`, command-line column) applied to parsed flags, before any work.

Only flags a command has are checked: ``explain``, ``screen`` and ``study`` share these names.
"""
from __future__ import annotations

from ..checks import check_shuffle_settings
from ..limits import CLI, check_count, check_limit
from .flags import name_list


def check_args(args) -> None:
    """Refuse flags over the limits, naming the flag and the limit in one line (a LimitError, exit status 2),
    and shuffle settings the run would refuse only after making the output folder."""
    if getattr(args, "permutations", None) is not None and hasattr(args, "alpha"):
        check_shuffle_settings(args.permutations, args.alpha, getattr(args, "seed", 0), permutations_name="permutations")
    if getattr(args, "permutations", None) is not None:
        check_limit("permutations", args.permutations, argument="--permutations", front_end=CLI)
    if getattr(args, "steps", None) is not None:
        check_limit("steps", args.steps, argument="--steps", front_end=CLI)
    if getattr(args, "seeds", None):
        check_count("seeds", args.seeds, argument="--seeds", front_end=CLI)
    if getattr(args, "limit", None) is not None:  # screen: its own bound on properties, within the table's
        check_limit("properties", args.limit, argument="--limit", front_end=CLI)
    if getattr(args, "frames", None):
        check_limit("frames", len(args.frames), argument="--frames", front_end=CLI)
    for flag, quantity in (("edits", "edits"), ("regions", "regions"), ("properties", "properties")):
        text = getattr(args, flag, None)
        if isinstance(text, str):
            check_count(quantity, name_list(text, f"--{flag}"), argument=f"--{flag}", front_end=CLI)
    regions = (getattr(args, "region", None) if isinstance(getattr(args, "region", None), list) else []) \
        + (getattr(args, "mask", None) or [])
    if regions:
        check_limit("regions", len(regions), argument="--region" if getattr(args, "region", None) else "--mask",
                    front_end=CLI)
    for flag in ("region", "mask"):  # the same region twice is one test counted twice in the adjustment
        given = getattr(args, flag, None)
        if isinstance(given, list):
            check_count("regions", given, argument=f"--{flag}", front_end=CLI)


def check_definition(definition) -> None:
    """A study file's settings, as the flags would be checked (its images are counted when they are listed)."""
    check_limit("permutations", definition.permutations, argument="permutations", front_end=CLI)
    for spec in definition.interventions:
        steps = getattr(spec, "steps", None)
        if isinstance(steps, int):
            check_limit("steps", steps, argument="steps", front_end=CLI)
        seeds = getattr(spec, "seeds", None)
        if seeds:
            check_count("seeds", seeds, argument="seeds", front_end=CLI)
