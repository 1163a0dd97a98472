"""Matplotlib figures of an Explanation: image strip, output curves, null distributions, animation.

Figures are built with ``matplotlib.figure.Figure`` directly, never through pyplot's global state, so
several sessions can plot at once in one server process.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from PIL import ImageDraw, ImageFont

from .explain import Explanation
from .models.base import PROBABILITY

# Figures stay readable (and fast) with "all" outputs of a 1000-class model: only the highest-scoring
# outputs are drawn; the JSON and CSV keep every one.
MAX_PLOTTED = 12
_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def _format_value(value: float) -> str:
    return f"{value:.3g}"


def _format_p(pvalue: float) -> str:
    return f"{pvalue:.2g}" if pvalue >= 1e-3 else f"{pvalue:.1e}"


def plotted_scores(explanation: Explanation) -> tuple[list, int]:
    """(model, score) pairs to draw, at most MAX_PLOTTED, highest scores first; and how many were left out."""
    pairs = [(model, score) for model in explanation.models for score in model.scores]
    if len(pairs) <= MAX_PLOTTED:
        return pairs, 0
    kept = sorted(sorted(range(len(pairs)), key=lambda i: -pairs[i][1].score)[:MAX_PLOTTED])
    return [pairs[i] for i in kept], len(pairs) - MAX_PLOTTED


def strip_indices(n_steps: int, max_images: int) -> list[int]:
    """Evenly spaced step indices, always including the first and the last step."""
    if n_steps <= max_images:
        return list(range(n_steps))
    return sorted({int(round(i)) for i in np.linspace(0, n_steps - 1, max_images)})


def image_strip(explanation: Explanation, max_images: int = 10, series_index: int = 0) -> Figure:
    """One row of the intervention's images, each labelled with its step and property value."""
    series = explanation.series[series_index]
    indices = strip_indices(len(series), max_images)
    aspect = series.images[0].height / series.images[0].width
    figure = Figure(figsize=(1.6 * len(indices), 1.6 * aspect + 0.75), layout="constrained")
    axes = figure.subplots(1, len(indices), squeeze=False)[0]
    for axis, index in zip(axes, indices):
        axis.imshow(np.asarray(series.images[index]))
        axis.set_title(f"step {index}\n{_format_value(series.values[index])}", fontsize=8)
        axis.set_axis_off()
    title = explanation.property_name + (f" ({series.label})" if series.label else "")
    figure.suptitle(title, fontsize=9)
    return figure


def output_curves(explanation: Explanation) -> Figure:
    """Outputs of interest of every model along the intervention.

    Several series give the mean curve with a +/- one standard deviation band. Probability outputs get
    the 0.5 decision line; the steps where a model's prediction flips are marked with
    triangles on its curve (with several series, on each series' own thin line). The legend carries
    E[|grad_X F|] and the p-value.
    """
    figure = Figure(figsize=(7.5, 4.0), layout="constrained")
    axis = figure.subplots()
    # Steps, not property values, on the x axis: edits may run towards smaller values (darker, less
    # saturated), and the curve should still read from the original on the left.
    x = np.arange(explanation.n_steps)
    pairs, left_out = plotted_scores(explanation)
    any_probability = any(model.output_kind == PROBABILITY for model, _ in pairs)
    for colour, (model, score) in enumerate(pairs):
        mean, spread = model.mean_curve(score.index)
        tint = _COLOURS[colour % len(_COLOURS)]
        star = "*" if score.significant else ""
        label = f"{model.name}: {score.output}  E|∇|={score.score:.4f}, p={_format_p(score.pvalue)}{star}"
        axis.plot(x, mean, marker="o", markersize=3, color=tint, label=label)
        several = len(model.outputs) > 1
        if several:
            low, high = mean - spread, mean + spread
            if model.output_kind == PROBABILITY:
                low, high = np.clip(low, 0, 1), np.clip(high, 0, 1)
            axis.fill_between(x, low, high, color=tint, alpha=0.15, linewidth=0)
        # Flips belong to single series: with several, each is drawn thin and marked on its own line.
        for series_outputs, flips in zip(model.outputs, model.flips):
            curve = series_outputs[:, score.index]
            if several:
                axis.plot(x, curve, color=tint, linewidth=0.7, alpha=0.45)
            if flips.flip_steps:
                steps = flips.flip_steps
                axis.scatter(x[steps], curve[steps], marker="v", s=60, color=tint, edgecolor="black", zorder=5)
    if any_probability:
        axis.axhline(0.5, color="grey", linestyle="--", linewidth=1, label="decision threshold 0.5")
    ticks = strip_indices(explanation.n_steps, 16)
    axis.set_xticks(ticks, [f"{i}\n{_format_value(explanation.values[i])}" for i in ticks], fontsize=7)
    axis.set_xlabel(f"step / {explanation.property_name}")
    axis.set_ylabel("model output")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7, loc="best")
    more = f"; {left_out} lower-scoring outputs not drawn" if left_out else ""
    axis.set_title(f"{explanation.intervention}: * significant at alpha = {explanation.alpha}, "
                   f"▼ prediction flips{more}", fontsize=9)
    return figure


def null_distributions(explanation: Explanation) -> Figure:
    """Histogram of the shuffled scores per model and output, with the observed score marked."""
    panels, _ = plotted_scores(explanation)
    columns = min(3, len(panels))
    rows = int(np.ceil(len(panels) / columns))
    figure = Figure(figsize=(3.4 * columns, 2.6 * rows), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for axis, (model, score) in zip(axes, panels):
        axis.hist(score.null_distribution, bins=50, color="#9ecae1", edgecolor="none", label="shuffled")
        axis.axvline(score.score, color="#d62728", linewidth=2, label=f"observed {score.score:.4f}")
        axis.axvline(score.null_distribution.mean(), color="black", linestyle=":", linewidth=1, label="null mean")
        axis.set_title(f"{model.name}: {score.output}\np = {_format_p(score.pvalue)}", fontsize=8)
        axis.set_xlabel("E[|∇X F|]", fontsize=8)
        axis.tick_params(labelsize=7)
        axis.legend(fontsize=6)
    for axis in axes[len(panels):]:
        axis.set_visible(False)
    return figure


def save_figure(figure: Figure, path: str | Path, dpi: int = 110) -> Path:
    path = Path(path)
    figure.savefig(path, dpi=dpi)
    return path


def save_animation(explanation: Explanation, path: str | Path, duration_ms: int = 250, series_index: int = 0,
                   max_side: int = 320) -> Path:
    """Animated GIF (or WebP, by suffix) of one series with the step and property value drawn in."""
    series = explanation.series[series_index]
    frames = []
    for index, (image, value) in enumerate(zip(series.images, series.values)):
        frame = image.copy()
        frame.thumbnail((max_side, max_side))
        # Caption sized to the frame, and shortened to what fits: small frames still read.
        size = max(9, frame.width // 22)
        font = ImageFont.load_default(size=size)
        draw = ImageDraw.Draw(frame)
        caption = f"step {index}: {explanation.property_name} = {_format_value(value)}"
        if draw.textlength(caption, font=font) > frame.width - 6:
            caption = f"step {index}: {_format_value(value)}"
        draw.rectangle((0, 0, frame.width, size + 4), fill=(0, 0, 0))
        draw.text((3, 2), caption, fill=(255, 255, 255), font=font)
        frames.append(frame)
    path = Path(path)
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=duration_ms, loop=0)
    return path
