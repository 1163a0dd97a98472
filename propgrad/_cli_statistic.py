"""The `--statistic` flag `explain`, `study` and `screen` share, and the output keywords `--outputs` takes."""
from __future__ import annotations

import argparse

from .score import GRADIENT, STATISTICS

# --outputs words that are not class names: passed on to explain as they are.
OUTPUT_KEYWORDS = ("predicted", "all", "vector")
OUTPUTS_HELP = ("outputs of interest: 'predicted' (class predicted on step 0), 'all', 'vector' (the whole output "
                "vector as one score: mean total-variation distance between neighbouring steps; needs "
                "--statistic gradient and a model with several outputs), or comma-separated class names / indices")


def add_flags(group: argparse._ActionsContainer) -> None:
    """Add ``--statistic`` to a parser or argument group."""
    group.add_argument("--statistic", choices=list(STATISTICS), default=GRADIENT,
                       help="what is measured and shuffle-tested: 'gradient' (the paper's E[|grad_X F|], two-sided), "
                       "'correlation' (|Pearson r| with the step: monotone trends only), 'mutual-information' "
                       "(KSG estimate, scikit-learn: any dependence; slower null)")
