"""Command-line flags of the gradualness check (``explain``): thresholds in, one verdict line out."""
from __future__ import annotations

import argparse

from ..errors import ArgumentError
from ..gradualness import (DEFAULT_MAX_JUMP_SHARE, DEFAULT_MAX_ORDER_RATIO, DEFAULT_MAX_STILL_SHARE,
                           DEFAULT_MIN_RHO, GradualnessCriteria)


def add_flags(parser: argparse.ArgumentParser) -> None:
    """Add --min-rho, --max-jump-share, --max-still-share and --max-order-ratio (see :mod:`propgrad.gradualness`)."""
    group = parser.add_argument_group(
        "gradualness check (of the series itself, before any model; flagged series are reported, not dropped)")
    group.add_argument("--min-rho", type=float, default=DEFAULT_MIN_RHO,
                       help="a series is monotone when the Spearman correlation of its image change (mean Delta E "
                       "to step 0) with the step reaches this")
    group.add_argument("--max-jump-share", type=float, default=DEFAULT_MAX_JUMP_SHARE,
                       help="a series is not gradual when one step holds more than this share of its change (at 3 "
                       "steps, where one of the two holds about half, at least 0.75)")
    group.add_argument("--max-still-share", type=float, default=DEFAULT_MAX_STILL_SHARE,
                       help="a series is not gradual when more than this share of its steps change (almost) nothing "
                       "(a knob that acts only past a threshold)")
    group.add_argument("--max-order-ratio", type=float, default=DEFAULT_MAX_ORDER_RATIO,
                       help="a series that is not monotone (e.g. a full rotation) is still gradual when its summed "
                       "step changes are at most this share of a random order's")


def criteria(args) -> GradualnessCriteria:
    """The thresholds the flags name; errors name the flag."""
    try:
        return GradualnessCriteria(min_rho=args.min_rho, max_jump_share=args.max_jump_share,
                                   max_order_ratio=args.max_order_ratio, max_still_share=args.max_still_share)
    except ArgumentError as error:  # the user typed the flag
        raise error.renamed("--" + error.argument.replace("_", "-")) from None


def lines(result) -> list[str]:
    """What ``explain`` prints about the series: the verdict, and a warning when one is not gradual."""
    out = [result.gradual_summary]
    if not result.gradual:
        out.append("warning: a series that is not gradual measures the intervention as much as the model; "
                   "look at gradualness.png and the strip")
    return out
