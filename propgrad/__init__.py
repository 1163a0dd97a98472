"""propgrad: local interventional explanations (Penzel & Denzler, WACV 2026).

Gradually change one property of one image, run models on every step, and measure how strongly and
how systematically their outputs follow: the expected property gradient magnitude E[|grad_X F|], its
shuffle-test p-value, and where the prediction flips.
"""
from .explain import ALL, PREDICTED, Explanation, ModelExplanation, OutputScore, explain
from .gradualness import Gradualness, GradualnessCriteria
from .images import load_image, load_rgba
from .interventions import EDITS, Frames, Intervention, InterventionSeries, ParametricEdit, PatchBlend, Region
from .compare import PropertyComparison, compare_properties, region_comparison
from .screen import Screen, ScreenRow, candidate_properties, screen
from .models.base import Model
from .score import (
    PermutationTestResult,
    PredictionFlips,
    permutation_test,
    prediction_flips,
    property_gradient,
    step_correlation,
)

from ._version import __version__  # noqa: E402

__all__ = [
    "ALL", "EDITS", "Explanation", "Gradualness", "GradualnessCriteria",
    "Frames", "Intervention", "InterventionSeries", "Model",
    "ModelExplanation", "OutputScore", "ParametricEdit", "PatchBlend", "PREDICTED", "PropertyComparison", "Region",
    "compare_properties", "region_comparison", "Screen", "ScreenRow", "candidate_properties", "screen",
    "PermutationTestResult", "PredictionFlips", "explain", "load_image", "load_rgba",
    "permutation_test", "prediction_flips", "property_gradient", "step_correlation",
]
