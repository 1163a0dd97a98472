"""A study's figures: mean curves with a band per model (paper Fig. 3/5), score against flips (Fig. 6).

Built on ``matplotlib.figure.Figure`` (no pyplot state), in the single-image figures' colours.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..plots import _wrap, model_look  # one palette for every figure
from ..reading import axis_words, value_words
from ..score import GRADIENT, STATISTIC_LABELS
from .aggregate import MeanCurve, SeriesPoint

_COLUMNS = 2
_PANEL_WIDTH, _PANEL_HEIGHT = 6.5, 4.0


def _grid(count: int, models: int) -> tuple[Figure, list]:
    """Panels two abreast, with room under them for one legend row per two (one panel: per one) models."""
    columns = min(_COLUMNS, count)
    rows = -(-count // columns)
    legend_rows = -(-models // columns) if models else 0
    figure = Figure(figsize=(_PANEL_WIDTH * columns, _PANEL_HEIGHT * rows + 0.22 * legend_rows + 0.15),
                    layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel().tolist()
    for axis in axes[count:]:
        axis.set_visible(False)
    return figure, axes[:count]


def _legend_below(figure: Figure, axes: list) -> None:
    """One legend under every panel: a model keeps its colour in each, and a legend inside a panel covered the
    bands and curves, which often span its whole height."""
    entries: dict = {}
    for axis in axes:
        for handle, label in zip(*axis.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    if entries:
        figure.legend(list(entries.values()), list(entries), loc="outside lower center", fontsize=8, frameon=False,
                      ncols=min(len(entries), _COLUMNS if len(axes) > 1 else 1))


def _look_of(models: list[str]) -> dict[str, dict]:
    return {model: model_look(i) for i, model in enumerate(dict.fromkeys(models))}


def mean_curves(curves: list[MeanCurve], probabilities: bool = True) -> Figure:
    """One panel per intervention: each model's mean output along the steps, +/- one std as a band."""
    by_intervention: dict[str, list[MeanCurve]] = defaultdict(list)
    for curve in curves:
        by_intervention[curve.intervention].append(curve)
    looks = _look_of([c.model for c in curves])
    figure, axes = _grid(max(1, len(by_intervention)), len(looks))
    for axis, (intervention, group) in zip(axes, by_intervention.items()):
        for curve in group:
            x = np.arange(len(curve.mean))
            low, high = curve.mean - curve.std, curve.mean + curve.std
            if probabilities:
                low, high = np.clip(low, 0, 1), np.clip(high, 0, 1)
            look = looks[curve.model]
            axis.plot(x, curve.mean, markersize=3, label=curve.model, **look)
            axis.fill_between(x, low, high, color=look["color"], alpha=0.15, linewidth=0)
        values = group[0].property_values
        ticks = list(range(len(values)))[:: max(1, len(values) // 10)]
        name = group[0].property_name
        shown = value_words(name, values)
        axis.set_xticks(ticks, [f"{i}\n{shown[i]}" for i in ticks], fontsize=8)
        axis.set_xlabel(f"step / {axis_words(name)}")
        axis.set_ylabel("model output (mean ± std over series)")
        axis.grid(alpha=0.3)
        axis.set_title(f"{intervention}\n{_what_each_curve_is(group)}", fontsize=9, loc="left")
    _legend_below(figure, axes)
    return figure


def _what_each_curve_is(group: list[MeanCurve]) -> str:
    """The output and the number of series behind each curve of a panel: said once when all curves share them, per
    model otherwise (the shared legend names models only, so that a model has one entry whatever its n per panel)."""
    outputs, counts = {curve.output for curve in group}, {curve.n_series for curve in group}
    if len(outputs) == 1 and len(counts) == 1:
        return f"{next(iter(outputs))}, mean of {next(iter(counts))} series each"
    return _wrap("; ".join(f"{curve.model}: {curve.output}, {curve.n_series} series" for curve in group), 100)


def score_vs_flips(points: list[SeriesPoint]) -> Figure:
    """One panel per intervention: each series' E[|grad_X F|] against its number of prediction flips."""
    by_intervention: dict[str, list[SeriesPoint]] = defaultdict(list)
    for point in points:
        by_intervention[point.intervention].append(point)
    looks = _look_of([p.model for p in points])
    figure, axes = _grid(max(1, len(by_intervention)), len(looks))
    rng = np.random.default_rng(0)  # jitter only, so points with equal flip counts stay visible
    for axis, (intervention, group) in zip(axes, by_intervention.items()):
        models = list(dict.fromkeys(p.model for p in group))
        for offset, model in enumerate(models):
            mine = [p for p in group if p.model == model]
            flips = np.array([p.flips for p in mine], dtype=float)
            shift = (offset - (len(models) - 1) / 2) * 0.12
            axis.scatter([p.score for p in mine], flips + shift + rng.uniform(-0.04, 0.04, len(mine)),
                         s=18, alpha=0.7, label=model, **looks[model])
        axis.set_xlabel(f"{STATISTIC_LABELS[GRADIENT]} per series")  # the stored curves' score, whatever was tested
        axis.set_ylabel("prediction flips per series\n(spread a little so equal counts stay visible)", fontsize=9)
        # Whole counts only: with 0 and 1 flips the ticks read 0.0, 0.2, ... and the spread points sat at -0.1.
        axis.set_ylim(-0.5, max(p.flips for p in group) + 0.5)
        axis.yaxis.set_major_locator(MaxNLocator(integer=True))
        axis.grid(alpha=0.3)
        axis.set_title(intervention, fontsize=10, loc="left")
    _legend_below(figure, axes)
    return figure
