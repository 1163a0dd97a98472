"""Matplotlib figures of an Explanation: image strip, output curves, null distributions, animation.

Figures are built with ``matplotlib.figure.Figure`` directly, never through pyplot's global state, so
several sessions can plot at once in one server process.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import ImageDraw, ImageFont

from .explain import Explanation
from .interventions.frames import Frames
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


def _text_size(width_in: float, low: float = 9.0, high: float = 13.0) -> float:
    """A font size (points) that reads as about 11-13 px when the figure is shown ~1000 px wide.

    The app scales every PNG to its column, so text must grow with the figure's width in inches.
    """
    return float(np.clip(0.85 * width_in, low, high))


def _informative_label(explanation: Explanation, label: str) -> bool:
    # Interventions label their series with their kind ("frames", "brightness"), which the property
    # name or the intervention's name already says; only labels that tell series apart are worth showing.
    text = label.strip().lower()
    if not text or text == Frames.name:
        return False
    said = (explanation.property_name.lower(), explanation.intervention.lower())
    return not any(text in place for place in said)


def strip_title(explanation: Explanation, series_index: int = 0) -> str:
    """The image strip's title: the property, then the series' label when it adds something.

    Examples
    --------
    A parametric brightness edit reads ``"brightness factor"``, uploaded frames with an angle
    ``"turntable angle (degrees)"``, the second of three patches ``"patch opacity: sticker_2 (series 2 of 3)"``.
    """
    series = explanation.series[series_index]
    title = explanation.property_name
    details = []
    if _informative_label(explanation, series.label):
        details.append(series.label)
    if len(explanation.series) > 1:
        details.append(f"series {series_index + 1} of {len(explanation.series)}")
    if details:
        title += ": " + details[0] + (f" ({details[1]})" if len(details) > 1 else "")
    return title


def image_strip(explanation: Explanation, max_images: int = 10, series_index: int = 0) -> Figure:
    """One row of the intervention's images, each labelled below with its step and property value.

    The title sits at the top left and the labels under the images, so the top right corner stays
    empty: the app's image toolbar (full screen, download) sits there.
    """
    series = explanation.series[series_index]
    indices = strip_indices(len(series), max_images)
    aspect = series.images[0].height / series.images[0].width
    width = 1.3 * len(indices)
    size = _text_size(width)
    figure = Figure(figsize=(width, 1.2 * aspect + 3.4 * size / 72 + 0.05), layout="constrained")
    axes = figure.subplots(1, len(indices), squeeze=False)[0]
    for axis, index in zip(axes, indices):
        axis.imshow(np.asarray(series.images[index]))
        axis.set_axis_off()
        axis.text(0.5, -0.04, f"step {index}\n{_format_value(series.values[index])}", transform=axis.transAxes,
                  ha="center", va="top", fontsize=size)
    figure.suptitle(strip_title(explanation, series_index), x=0.005, ha="left", fontsize=size + 1)
    return figure


def draws_threshold(model) -> bool:
    """Whether 0.5 is ``model``'s decision rule: probabilities over exactly two classes.

    A one-output binary model is presented as two columns ``[1 - p, p]``, so it counts too. With more
    classes the predicted class can win well below 0.5, so no line is drawn for it.

    Examples
    --------
    >>> draws_threshold(get_model("EfficientNet-Lite0 (ImageNet)"))  # 1000 classes  # doctest: +SKIP
    False
    """
    return model.output_kind == PROBABILITY and len(model.output_names) == 2


# More legend entries than this go below the axes, where they cover no curve.
_LEGEND_INSIDE = 3


def output_curves(explanation: Explanation) -> Figure:
    """Outputs of interest of every model along the intervention.

    Several series give the mean curve with a +/- one standard deviation band. Two-class probability
    models get the 0.5 decision line (see :func:`draws_threshold`); the steps where a model's prediction
    flips (its argmax changes) are marked with triangles on its curve (with several series, on each
    series' own thin line). The legend carries E[|grad_X F|] and the p-value, and moves below the plot
    when it has more than a few entries.

    Examples
    --------
    >>> figure = output_curves(explanation)  # doctest: +SKIP
    >>> save_figure(figure, "curves.png")  # doctest: +SKIP
    """
    pairs, left_out = plotted_scores(explanation)
    binary = [draws_threshold(model) for model, _ in pairs]
    any_flips = any(f.flip_steps for model, _ in pairs for f in model.flips)
    n_entries = len(pairs) + any(binary) + any_flips
    outside = n_entries > _LEGEND_INSIDE
    legend_size = 8.5
    # Room for the legend rows under the axes, so the plot itself keeps its height.
    height = 4.0 + (0.2 * n_entries + 0.3 if outside else 0)
    figure = Figure(figsize=(7.5, height), layout="constrained")
    axis = figure.subplots()
    # Steps, not property values, on the x axis: edits may run towards smaller values (darker, less
    # saturated), and the curve should still read from the original on the left.
    x = np.arange(explanation.n_steps)
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
    if any(binary):
        axis.axhline(0.5, color="grey", linestyle="--", linewidth=1,
                     label="decision threshold 0.5" + ("" if all(binary) else " (two-class models)"))
    if any_flips:
        # A legend entry, not a title note: on a 1000-class curve the flip is another class winning, not
        # this curve crossing a line, and the reader needs to be told so.
        meaning = "crosses 0.5" if all(binary) else "argmax changes"
        axis.scatter([], [], marker="v", s=60, color="white", edgecolor="black", label=f"prediction flips ({meaning})")
    ticks = strip_indices(explanation.n_steps, 16)
    axis.set_xticks(ticks, [f"{i}\n{_format_value(explanation.values[i])}" for i in ticks], fontsize=8)
    axis.tick_params(axis="y", labelsize=9)
    axis.set_xlabel(f"step / {explanation.property_name}")
    axis.set_ylabel("model output")
    axis.grid(alpha=0.3)
    more = f"{left_out} lower-scoring outputs not drawn" if left_out else None
    if outside:
        figure.legend(*axis.get_legend_handles_labels(), loc="outside lower center", fontsize=legend_size,
                      title=more, title_fontsize=legend_size, frameon=False)
    else:
        axis.legend(fontsize=legend_size, loc="best", title=more, title_fontsize=legend_size)
    # Left-aligned: the app's image toolbar covers the top right corner.
    axis.set_title(f"{explanation.intervention}: * significant at alpha = {explanation.alpha}", fontsize=10,
                   loc="left")
    return figure


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def null_distributions(explanation: Explanation, max_columns: int = 3) -> Figure:
    """Histogram of the shuffled scores per model and output, with the observed score marked.

    One shared legend under the panels; the title at the top left keeps the top right corner free for
    the app's image toolbar.
    """
    panels, _ = plotted_scores(explanation)
    columns = min(max_columns, len(panels))
    rows = int(np.ceil(len(panels) / columns))
    panel_width = 2.8
    figure = Figure(figsize=(max(panel_width * columns, 4.5), 2.5 * rows + 0.8), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for axis, (model, score) in zip(axes, panels):
        axis.hist(score.null_distribution, bins=40, color="#9ecae1", edgecolor="none",
                  label="shuffled steps (null)")
        axis.axvline(score.score, color="#d62728", linewidth=2, label="observed score")
        axis.axvline(score.null_distribution.mean(), color="black", linestyle=":", linewidth=1, label="null mean")
        name = _wrap(f"{model.name}: {score.output}", 34)
        axis.set_title(f"{name}\nobserved {score.score:.4f}, p = {_format_p(score.pvalue)}", fontsize=9.5)
        axis.set_xlabel("E[|∇X F|]", fontsize=9)
        axis.tick_params(labelsize=8)
        axis.xaxis.set_major_locator(MaxNLocator(4))
    for axis in axes[len(panels):]:
        axis.set_visible(False)
    figure.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3, fontsize=9,
                  frameon=False)
    figure.suptitle("Shuffle test: E[|∇X F|] with the steps shuffled", x=0.005, ha="left", fontsize=10.5)
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
