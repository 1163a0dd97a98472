"""Matplotlib figures of an Explanation: image strip, output curves, null distributions, animation.

Figures are built with ``matplotlib.figure.Figure`` directly, never through pyplot's global state, so
several sessions can plot at once in one server process.
"""
from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib import rcParams
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter, MaxNLocator
from PIL import Image, ImageDraw, ImageFont

from .disk import write_whole
from .explain import Explanation
from .gradualness import verdict
from .interventions.frames import Frames
from .interventions.region import share_in_words
from .models.base import PROBABILITY
from .formats import format_number, format_pvalue
from .reading import DISTANCE, axis_words, for_pages, output_label, short_names, value_words
from .score import DEFAULT_ALTERNATIVE, GRADIENT, P_MEANING, STATISTIC_LABELS

# Figures stay readable (and fast) with "all" outputs of a 1000-class model: only the highest-scoring
# outputs are drawn; the JSON and CSV keep every one.
MAX_PLOTTED = 12
# Flips are marked with a shape that points nowhere: a downward triangle read as "the output dropped" where the
# prediction flipped up to the output. A diamond fills more of its box than a triangle: drawn smaller.
FLIP_MARKER = "D"
FLIP_AREA = 0.6
# The marks as a title names them: filled, a flip to or from the output; hollow, between two other classes.
FLIP_GLYPH, OTHER_FLIP_GLYPH = "\u25c6", "\u25c7"


def flip_marks(size: float, fill: str, edge: str) -> dict:
    """The scatter settings of a flip's mark (:data:`FLIP_MARKER`), in a figure or its legend."""
    return {"marker": FLIP_MARKER, "s": size * FLIP_AREA, "color": fill, "edgecolor": edge}


# Model k's colour and marker in every figure. Okabe and Ito's colour-blind-safe palette: matplotlib's red and green
# (the default preset's two biased models) were all but one colour under deuteranopia. The markers tell the curves
# apart where colour cannot (a grey print, a washed-out projector).
_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#8C564B"]
_MARKERS = ["o", "s", "^", "v", "P", "X", "<", ">"]


def model_look(number: int) -> dict:
    """The colour and marker of the ``number``-th model (or series) of a figure, as ``plot`` takes them."""
    return {"color": _COLOURS[number % len(_COLOURS)], "marker": _MARKERS[number % len(_MARKERS)]}


def _score_label(score) -> str:
    """How a score is called in a legend: the statistic's one name (as in every table)."""
    return STATISTIC_LABELS[getattr(score, "statistic", GRADIENT)]


def plotted_scores(explanation: Explanation) -> tuple[list, int]:
    """(model, score) pairs to draw, at most MAX_PLOTTED, highest scores first; and how many were left out."""
    pairs = [(model, score) for model in explanation.models for score in model.scores]
    if len(pairs) <= MAX_PLOTTED:
        return pairs, 0
    kept = sorted(sorted(range(len(pairs)), key=lambda i: -pairs[i][1].score)[:MAX_PLOTTED])
    return [pairs[i] for i in kept], len(pairs) - MAX_PLOTTED


def strip_indices(n_steps: int, max_images: int, keep: Sequence[int] = ()) -> list[int]:
    """Evenly spaced step indices, always including the first and the last step, and the steps in ``keep`` (a
    flip's, each in place of the nearest evenly spaced step: "flips at 43 % darker" fell between a comparison's
    pictures at 34 % and 51 %), as many as there is room for.

    Examples
    --------
    >>> strip_indices(11, 6), strip_indices(11, 6, keep=[5])
    ([0, 2, 4, 6, 8, 10], [0, 2, 5, 6, 8, 10])
    """
    if n_steps <= max_images:
        return list(range(n_steps))
    indices = sorted({int(round(i)) for i in np.linspace(0, n_steps - 1, max_images)})
    kept: set[int] = set()
    for step in keep:
        if step in indices:
            kept.add(step)
            continue
        free = [index for index in indices[1:-1] if index not in kept]
        if not 0 < step < n_steps - 1 or not free:
            continue
        nearest = min(free, key=lambda index: abs(index - step))
        indices = sorted({*indices, step} - {nearest})
        kept.add(step)
    return indices


def tick_steps(n_steps: int, most: int) -> list[int]:
    """The steps an axis ticks: evenly spaced, the first and the last among them. Every step where that is at most
    ``most`` (two more for a short axis: 8 ticks for 8 steps beat 0, 1, 3, 4, 6, 7); else the finest stride that
    divides the steps evenly into at most ``most`` ticks and more than half as many (on an axis of ten or more, at
    least half); else an even stride with the
    last step at its end, the densest whose last gap is within a third of the others' (rounded positions scattered
    uneven gaps over the axis).

    Examples
    --------
    >>> tick_steps(8, 6), tick_steps(10, 6), tick_steps(21, 6)
    ([0, 1, 2, 3, 4, 5, 6, 7], [0, 3, 6, 9], [0, 4, 8, 12, 16, 20])
    >>> tick_steps(12, 6), tick_steps(20, 16), tick_steps(32, 6)
    ([0, 3, 6, 9, 11], [0, 3, 6, 9, 12, 15, 19], [0, 8, 16, 24, 31])
    """
    if n_steps <= most + (2 if most <= 8 else 0):
        return list(range(n_steps))
    last = n_steps - 1
    # 0, 11, 22 for 23 steps is too coarse (an uneven last gap is better), but 8 even ticks for 36 frames beat
    # 0, 3, ... 33, 35 on an axis that holds 16.
    fewest = max(3, most // 2 + 1 if most < 10 else (most + 1) // 2)
    for stride in range(2, n_steps):
        count = last // stride + 1
        if last % stride == 0 and fewest <= count <= most:
            return list(range(0, n_steps, stride))
        if count < fewest:
            break
    candidates = []
    for stride in range(-(-last // (most - 1)), -(-last // (most - 1)) + 3):
        ticks = list(range(0, last, stride))
        if last - ticks[-1] < 0.6 * stride and len(ticks) > 1:
            ticks.pop()  # the last step replaces a tick that would crowd it
        if len(ticks) + 1 <= most:
            candidates.append((abs(last - ticks[-1] - stride) / stride, [*ticks, last]))
    # The densest stride whose last gap is within a third of the others', else the evenest.
    return next((ticks for badness, ticks in candidates if badness <= 0.34), min(candidates)[1])


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
    title = axis_words(explanation.property_name)
    details = []
    if _informative_label(explanation, series.label):
        details.append(series.label)
    if len(explanation.series) > 1:
        details.append(f"series {series_index + 1} of {len(explanation.series)}")
    if details:
        title += ": " + details[0] + (f" ({details[1]})" if len(details) > 1 else "")
    return title


REGION_COLOUR = (255, 214, 0)  # a yellow that reads on fur, sky and shadow alike
FLIP_BADGE = (178, 34, 34)  # a dark red under white text (contrast above 4.5:1), on any picture


def _binary(mask: np.ndarray) -> np.ndarray:
    return np.asarray(mask, dtype=np.float32) >= 0.5


def draw_region(image: Image.Image, mask: np.ndarray, *, style: str = "outline", colour=REGION_COLOUR,
                width: int | None = None, tint: float = 0.35) -> Image.Image:
    """``image`` with the region drawn on it, so a user can check that the edit hits the intended part.

    Parameters
    ----------
    image : PIL image
        The image the mask belongs to (the mask is resized to it if needed).
    mask : array (H, W) in [0, 1]
        The region, e.g. ``explanation.series[0].mask`` or ``resolve_region(...).mask``.
    style : "outline", "tint" or "both"
        An outline along the region's border (mask = 0.5), a colour wash over the region, or both.
    width : int, optional
        Outline width in px; default about 1 % of the image's short side, at least 2.
    tint : float
        Opacity of the wash inside the region.

    Examples
    --------
    >>> shown = draw_region(image, explanation.series[0].mask, style="both")  # doctest: +SKIP
    """
    if style not in ("outline", "tint", "both"):
        raise ValueError(f"`style` must be 'outline', 'tint' or 'both', got {style!r}")
    base = np.asarray(image.convert("RGB"), dtype=np.float32)
    mask = np.asarray(mask, dtype=np.float32)
    if mask.shape != base.shape[:2]:
        mask = np.asarray(Image.fromarray(mask, "F").resize(image.size, Image.Resampling.BILINEAR))
    colour = np.asarray(colour, dtype=np.float32)
    if style in ("tint", "both"):
        weight = tint * mask.clip(0, 1)[:, :, None]
        base = base * (1 - weight) + colour * weight
    if style in ("outline", "both"):
        base[_outline(mask, width or max(2, round(min(image.size) / 100)))] = colour
    return Image.fromarray(np.clip(base + 0.5, 0, 255).astype(np.uint8))


def _outline(mask: np.ndarray, width: int) -> np.ndarray:
    """The pixels within ``width`` of the region's border (mask = 0.5), as a boolean (H, W) array."""
    from PIL import ImageFilter

    inside = Image.fromarray(_binary(mask).astype(np.uint8) * 255)
    kernel = 2 * (width // 2) + 1
    grown = np.asarray(inside.filter(ImageFilter.MaxFilter(kernel))) > 0
    shrunk = np.asarray(inside.filter(ImageFilter.MinFilter(kernel))) > 0
    return grown & ~shrunk


def region_panel(image: Image.Image, mask: np.ndarray, title: str = "region") -> Figure:
    """A small figure: the image with the region outlined and tinted, and how much of it the region covers."""
    figure = Figure(figsize=(3.2, 3.2 * image.height / image.width + 0.45), layout="constrained")
    axis = figure.subplots()
    axis.imshow(np.asarray(draw_region(image, mask, style="both")))
    axis.set_axis_off()
    axis.set_title(f"{title}: {share_in_words(float(np.mean(mask)))} of the image", fontsize=10, loc="left")
    return figure


def draws_threshold(model, score=None) -> bool:
    """Whether 0.5 is ``model``'s decision rule on the curve of ``score``: probabilities over exactly two classes,
    and not the whole output vector's distance from step 0 (a ``score`` that is a vector).

    A one-output binary model is presented as two columns ``[1 - p, p]``, so it counts too. With more
    classes the predicted class can win well below 0.5, so no line is drawn for it.

    Examples
    --------
    >>> draws_threshold(get_model("EfficientNet-Lite0 (ImageNet)"))  # 1000 classes  # doctest: +SKIP
    False
    """
    return (model.output_kind == PROBABILITY and len(model.output_names) == 2
            and not (score is not None and score.vector))


def decision_line(axis, label: str | None = None) -> None:
    """The 0.5 decision threshold of a two-class probability (:func:`draws_threshold`), drawn the same in every
    figure."""
    axis.axhline(0.5, color="grey", linestyle="--", linewidth=1, label=label)


# Fixed-layout figures (the app's and the reports') place their titles and x labels themselves: matplotlib's automatic
# placement measures every tick label of the axes (and of its siblings) again on each draw, about a fifth of a small
# figure's drawing time (issue 23). TITLE_Y is where the automatic placement puts a title over an axes with no ticks
# on top (pixel for pixel); :func:`_xlabel_under_ticks` where it puts an x label under the tick labels.
TITLE_Y = 1.0


def _ticks_depth_pt(tick_size: float, tick_lines: int = 1) -> float:
    """How far under the axes the x label starts, in points: the tick and its pad (3.5 pt each), the labels' block
    (one line: its size; each further line 1.4 sizes, DejaVu Sans at matplotlib's line spacing), then the label pad
    (4 pt), as measured on matplotlib 3.11. The figures laid out in fixed inches leave this room under their axes."""
    return 3.5 + 3.5 + tick_size * (1.4 * tick_lines - 0.4) + 4.0


def _xlabel_under_ticks(axis, label: str, fontsize: float | None = None, *, tick_size: float = 8.0,
                        tick_lines: int = 1) -> None:
    """``axis``'s x label, its top ``tick_lines`` lines of ``tick_size`` pt tick labels below the axes (tick,
    padding and label pad as matplotlib's defaults), placed once instead of measured on every draw."""
    from matplotlib.transforms import ScaledTranslation

    figure = axis.get_figure()
    below_pt = _ticks_depth_pt(tick_size, tick_lines)
    axis.set_xlabel(label, fontsize=fontsize)
    axis.xaxis.set_label_coords(0.5, 0, transform=axis.transAxes + ScaledTranslation(0, -below_pt / 72,
                                                                                      figure.dpi_scale_trans))


# More legend entries than this go below the axes, where they cover no curve.
_LEGEND_INSIDE = 3

# The curve figures' type (points): ticks, legend and x label; y label; panel title. A size up from the other
# figures: the talk view shows them at 70 to 80 % of their size, where 8 pt came out at 9 px on a projector.
_CURVE_TEXT, _CURVE_LABEL, _CURVE_TITLE = 10.5, 11.5, 12


def _legend_pt(labels: Sequence[str], size: float) -> float:
    """The height of a one-column legend of ``labels`` in points: an entry takes 1.5 sizes and 1.3 more for each
    further line (measured, matplotlib 3.11), the legend 0.8 sizes of padding."""
    return sum(size * (1.5 + 1.3 * text.count("\n")) for text in labels) + 0.8 * size


def _room_above(axis, rows: int, font_pt: float, probability: bool) -> None:
    """Raise the top of the y axis so that a legend of ``rows`` rows in the upper corner lies above every curve,
    band and marker; a probability axis keeps its ticks within [0, 1]."""
    axes_in = axis.get_position().height * axis.figure.get_figheight()
    # Each row about 1.3 lines of text; the frame and its padding about 0.2 in; a small gap to the curves.
    _free_top_share(axis, min((rows * 1.3 * font_pt / 72 + 0.25) / axes_in, 0.5), probability)


def _clear_of_legend(axis, legend, probability: bool) -> None:
    """Raise the top of the y axis further where the legend, as drawn, still reaches down to the curves: the estimate
    of :func:`_room_above` fell short of a wrapped entry, and the legend hid the coffee cup's first step (0.90)."""
    share = min((legend.get_window_extent().height + 16) / axis.get_window_extent().height, 0.6)
    _free_top_share(axis, share, probability)


def _free_top_share(axis, share: float, probability: bool) -> None:
    """Raise the top of the y axis until the data stay out of its top ``share``; a probability axis keeps its ticks
    within [0, 1]."""
    low, high = axis.get_ylim()
    needed = low + (axis.dataLim.y1 - low) / (1 - share)
    if needed > high:
        ticks = axis.get_yticks()
        axis.set_ylim(low, needed)
        if probability:
            axis.set_yticks([tick for tick in ticks if low <= tick <= 1 + 1e-9])


def output_curves(explanation: Explanation) -> Figure:
    """Outputs of interest of every model along the intervention.

    Several series give the mean curve with a +/- one standard deviation band. Two-class probability
    models get the 0.5 decision line (see :func:`draws_threshold`); the steps where a model's prediction
    flips (its argmax changes) are marked with diamonds on its curve (with several series, on each
    series' own thin line). The legend carries E[|grad_X F|] and the p-value, and moves below the plot
    when it has more than a few entries.

    Examples
    --------
    >>> figure = output_curves(explanation)  # doctest: +SKIP
    >>> save_figure(figure, "curves.png")  # doctest: +SKIP
    """
    pairs, left_out = plotted_scores(explanation)
    binary = [draws_threshold(model, score) for model, score in pairs]
    split = [[_flips_of(model, score, flips) for flips in model.flips] for model, score in pairs]
    any_flips = any(own for series in split for own, _ in series)
    any_others = any(others for series in split for _, others in series)
    series_shown = max((len(model.outputs) for model, _ in pairs), default=1)
    n_entries = len(pairs) + any(binary) + any_flips + any_others + (series_shown > 1)
    outside = n_entries > _LEGEND_INSIDE
    size, width = _CURVE_TEXT, 7.5
    y_text = _wrap(y_label(pairs), 40)
    left_in, right_in = 0.75 + 0.2 * y_text.count("\n"), 0.15
    axis_in = width - left_in - right_in
    values = value_words(explanation.property_name, explanation.values)
    # Two lines a tick (step, value): as many as the wider of the two fit side by side.
    ticks, tick_size = _ticks_that_fit([max(str(i), value, key=_text_em) for i, value in enumerate(values)],
                                       axis_in, size, most=16)
    labels = [_curve_label(model, score, explanation.alpha) for model, score in pairs]
    # Long model names wrap instead of running past the figure (outside) or over the axes' right edge (inside).
    labels = _legend_fitted(labels, 1, axis_in - (0 if outside else 0.2), size)
    rows = sum(1 + 1.3 / 1.5 * label.count("\n") for label in labels) + n_entries - len(pairs)
    more = f"{left_out} lower-scoring outputs not drawn" if left_out else None
    marked = any(score.significant for _, score in pairs)
    title = _wrap(f"{explanation.intervention}: {_star_note(marked, explanation.alpha)}", 68)
    top_in = 0.17 + 0.23 * (title.count("\n") + 1)
    # Room for the legend rows under the axes, so the plot itself keeps its height (the entries other than the
    # curves, and the title of those left out, one line each).
    others = [""] * (n_entries - len(pairs) + bool(more))
    legend_in = _legend_pt([*labels, *others], size) / 72 + 0.05 if outside else 0
    under_in = (_ticks_depth_pt(tick_size, 2) + 1.2 * size + 6.0) / 72
    height = 3.4 + under_in + top_in + legend_in
    figure = Figure(figsize=(width, height))
    # Fixed margins in inches (title above; two-line step ticks and the x label below, then the legend rows):
    # the constrained layout cost more than the drawing (issue 23).
    figure.subplots_adjust(left=left_in / width, right=1 - right_in / width, top=1 - top_in / height,
                           bottom=(under_in + legend_in) / height)
    axis = figure.subplots()
    # Steps, not property values, on the x axis: edits may run towards smaller values (darker, less
    # saturated), and the curve should still read from the original on the left.
    x = np.arange(explanation.n_steps)
    for colour, ((model, score), flip_steps) in enumerate(zip(pairs, split)):
        mean, spread = model.curve(score.index, score.vector)
        look = model_look(colour)
        tint = look["color"]
        axis.plot(x, mean, markersize=3.5, label=labels[colour], **look)
        several = len(model.outputs) > 1
        if several:
            low, high = mean - spread, mean + spread
            if model.output_kind == PROBABILITY:
                low, high = np.clip(low, 0, 1), np.clip(high, 0, 1)
            axis.fill_between(x, low, high, color=tint, alpha=0.15, linewidth=0)
        # Flips belong to single series: with several, each is drawn thin and marked on its own line.
        for curve, (own, others) in zip(model.series_curves(score.index, score.vector), flip_steps):
            if several:
                axis.plot(x, curve, color=tint, linewidth=0.9, alpha=0.6)
            _mark_flips(axis, x, curve, own, others, tint, 60)
    if any(binary):
        decision_line(axis, "decision threshold 0.5" + ("" if all(binary) else " (two-class models)"))
    if any_flips:
        # A legend entry, not a title note: on a 1000-class curve the flip is another class winning, not
        # this curve crossing a line, and the reader needs to be told so.
        meaning = "crosses 0.5" if all(binary) else "to or from this output"
        axis.scatter([], [], **flip_marks(60, "black", "black"), label=f"prediction flips ({meaning})")
    if any_others:
        axis.scatter([], [], **flip_marks(60, "white", "black"),
                     label="the prediction changes between two other classes")
    if series_shown > 1:
        # Said, not left to guess: with two series the thin lines are the band's edges, and a reader took the flips
        # marked on them for markers floating off the (mean) curve.
        flips_said = " (flips marked on them)" if any_flips else ""
        axis.plot([], [], color="grey", linewidth=0.9, alpha=0.6,
                  label=f"thin lines: the {series_shown} series one by one{flips_said}; band: mean \u00b1 1 std")
    probability_range(axis, pairs)
    axis.set_xticks(ticks, [f"{i}\n{values[i]}" for i in ticks], fontsize=tick_size)
    axis.tick_params(axis="y", labelsize=size)
    axis.yaxis.set_major_formatter(WholeValues())
    _xlabel_under_ticks(axis, f"step / {axis_words(explanation.property_name)}", fontsize=size, tick_size=tick_size,
                        tick_lines=2)
    axis.set_ylabel(y_text, fontsize=_CURVE_LABEL)
    axis.grid(alpha=0.3)
    if outside:
        figure.legend(*axis.get_legend_handles_labels(), loc="lower left", bbox_to_anchor=(left_in / width, 0.0),
                      fontsize=size, title=more, title_fontsize=size, frameon=False, alignment="left")
    else:
        # Above every curve, not wherever "best" finds least overlap: on a turntable's curve, which rises and falls
        # across the whole width, that was over its peak.
        probability = all(model.output_kind == PROBABILITY for model, _ in pairs)
        _room_above(axis, rows + bool(more), size, probability=probability)
        _clear_of_legend(axis, axis.legend(fontsize=size, loc="upper left", title=more, title_fontsize=size),
                         probability)
    # Left-aligned: the app's image toolbar covers the top right corner.
    axis.set_title(title, fontsize=_CURVE_TITLE, loc="left", y=TITLE_Y)
    return figure


def _curve_label(model, score, alpha: float) -> str:
    """A curve's legend entry: the model, its output, the statistic and p (starred where significant); wrapped, it
    keeps the statistic's name on one line ("E[|grad_X" over "F|]=0.084")."""
    star = "*" if score.significant else ""
    return for_pages(f"{model.name}: {score.output}  {_score_label(score)}={format_number(score.score)}, "
                     f"p={format_pvalue(score.pvalue, alpha)}{star}")


def _star_note(marked: bool, alpha: float) -> str:
    """What a title says about the legend's stars: what a star means where one is drawn, else that none is (a title
    saying "* significant" over a legend with no star sent readers looking for one)."""
    # In words: "no p <= alpha = 0.01" read as a formula to a new user.
    return f"* = significant (p <= {alpha:g})" if marked else f"none significant (p <= {alpha:g})"


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


class WholeValues(Formatter):
    """Tick labels that are the values themselves ("2.5e-06", "0.19"), with as many digits as the ticks need to
    differ: matplotlib's default wrote 0.25 ... 1.00 and a "1e-5" at the axis end, and a reader took the scores
    for 0.25 to 1."""

    def __call__(self, value, pos=None):
        ticks = np.asarray(self.axis.get_majorticklocs(), dtype=float)
        spacing = np.diff(ticks).min() if ticks.size > 1 else 0.0
        largest = np.abs(ticks).max() if ticks.size else abs(value)
        if spacing <= 0 or largest <= 0:
            return f"{value:.2g}"
        # Enough digits for the ticks to differ, and for every whole digit of a large value ("1000", not "1e+03").
        digits = max(2, int(np.ceil(np.log10(largest / spacing))) + 1, int(np.floor(np.log10(largest))) + 1)
        # Ticks every 0.25 need a third digit that the spacing alone does not ask for: 1.25 written "1.2".
        while digits < 15 and any(abs(float(f"{tick:.{digits}g}") - tick) > 1e-6 * spacing for tick in ticks):
            digits += 1
        return f"{value:.{digits}g}"


def null_distributions(result: Explanation | Mapping[str, Explanation], max_columns: int = 3,
                       adjusted: Mapping[tuple[str, str, str], float] | None = None) -> Figure:
    """Histogram of the shuffled scores per model and output, with the observed score marked.

    ``result``: one Explanation, or a comparison's explanations by property name ({name: Explanation}),
    drawn as one figure with a block of panels per property under its name: the title, how to read it and the
    legend once (two stacked figures said them twice, and cost a second figure's drawing). ``adjusted``: the
    p-value each (property, model, output) is judged by where it is adjusted over a table (a comparison's), shown
    beside p: a reader of "p = 0.019" alone could not see why the table said "not significant" at alpha 0.01.

    One shared legend under the panels; the title at the top left keeps the top right corner free for
    the app's image toolbar.
    """
    groups = list(result.items()) if isinstance(result, Mapping) else [("", result)]
    statistic = groups[0][1].statistic
    panels = [plotted_scores(one)[0] for _, one in groups]
    columns = max(1, min(max_columns, max(len(group) for group in panels)))
    # Fixed places in inches instead of the constrained layout, which cost more than the drawing (issue 23): the
    # figure's title and how to read it, then per property its name and its rows of panels (each with its title
    # block above and its x label below), one legend row at the bottom.
    head, name_height, title_block, axes_height, label_block, legend_height = 1.0, 0.3, 0.62, 1.55, 0.5, 0.4
    title_block += 0.17 if adjusted else 0.0  # the adjusted p on a line of its own
    row_height = title_block + axes_height + label_block
    rows = [int(np.ceil(len(group) / columns)) for group in panels]
    named = len(groups) > 1
    height = head + sum(rows) * row_height + named * name_height * len(groups) + legend_height
    width = max(2.8 * columns, 6.0)
    figure = Figure(figsize=(width, height))
    left, gap = 0.2, 0.35  # no y tick labels (see below)
    axes_width = (width - left - 0.3 - gap * (columns - 1)) / columns  # room for the last tick label
    top = head
    drawn = []
    for (name, one), group, group_rows in zip(groups, panels, rows):
        if named:
            figure.text(0.005, 1 - (top + 0.05) / height, name, ha="left", va="top", fontsize=10.5,
                        fontweight="bold")
            top += name_height
        for number, (model, score) in enumerate(group):
            row, column = divmod(number, columns)
            axis_top = top + row * row_height + title_block
            axis = figure.add_axes(((left + column * (axes_width + gap)) / width,
                                    1 - (axis_top + axes_height) / height, axes_width / width, axes_height / height))
            # One filled outline instead of 40 bars: the same histogram, far fewer artists to draw.
            counts, edges = np.histogram(score.null_distribution, bins=40)
            axis.stairs(counts, edges, fill=True, color="#9ecae1", linewidth=0, label="shuffled steps (null)")
            axis.axvline(score.score, color="#d62728", linewidth=2, label=f"observed {STATISTIC_LABELS[statistic]}")
            axis.axvline(score.null_distribution.mean(), color="black", linestyle=":", linewidth=1,
                         label="null mean")
            judged = (adjusted or {}).get((name, model.name, score.output))
            p = f"p = {format_pvalue(score.pvalue, one.alpha)}" + (
                "" if judged is None else f", adjusted {format_pvalue(judged, one.alpha)}")
            numbers = f"observed {format_number(score.score)}" + (", " if judged is None else "\n") + p
            axis.set_title(f"{_wrap(f'{model.name}: {score.output}', 34)}\n{numbers}", fontsize=9.5, y=TITLE_Y)
            _xlabel_under_ticks(axis, STATISTIC_LABELS[one.statistic], fontsize=9)
            axis.tick_params(labelsize=8)
            axis.xaxis.set_major_locator(MaxNLocator(4))
            axis.xaxis.set_major_formatter(WholeValues())
            # The counts depend only on the number of shuffles; where the observed score falls among them is the
            # reading (and its share is p, in the title). Their ticks were a third of the figure's drawing.
            axis.set_yticks([])
            axis.spines[["left", "right", "top"]].set_visible(False)
            drawn.append(axis)
        top += group_rows * row_height
    figure.legend(*drawn[0].get_legend_handles_labels(), loc="lower center", ncols=3, fontsize=9,
                  frameon=False, bbox_to_anchor=(0.5, 0.0))
    figure.suptitle(f"Shuffle test: {STATISTIC_LABELS[statistic]} with the steps shuffled", x=0.005,
                    y=1 - 0.05 / height, ha="left", va="top", fontsize=10.5)
    # How to read it: a smooth trend's gradient lies BELOW the shuffles, which looks wrong to a first reader.
    alpha = groups[0][1].alpha
    judged_by = " (the adjusted p, over the whole table)" if adjusted else ""
    reading = f"p = {P_MEANING[DEFAULT_ALTERNATIVE[statistic]]} Significant where p{judged_by} <= alpha = {alpha:g}."
    figure.text(0.005, 1 - 0.3 / height, _wrap(reading, int(width * 14)), ha="left", va="top", fontsize=8.5,
                color="#333333")
    return figure


def gradualness_plot(explanation: Explanation) -> Figure:
    """The image change per step of every series (mean Delta E to step 0), not-gradual series dashed.

    A small figure meant to sit under the image strip: a curve that rises step by step says the
    property changed gradually; a flat start with one jump, or a zigzag, says it did not.
    """
    figure = Figure(figsize=(6.4, 2.1), layout="constrained")
    axis = figure.subplots()
    steps = np.arange(explanation.n_steps)
    for number, (series, result) in enumerate(zip(explanation.series, explanation.gradualness)):
        label = series.label if len(explanation.series) > 1 and series.label else None
        axis.plot(steps, result.change, markersize=3, linewidth=1.5, linestyle="-" if result.gradual else "--",
                  label=label, **model_look(number))
    axis.set_xlabel("step", fontsize=9)
    axis.set_ylabel("ΔE to step 0", fontsize=9)
    axis.tick_params(labelsize=8)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    if 1 < len(explanation.series) <= 8:
        axis.legend(fontsize=7.5, frameon=False)
    axis.set_title(_wrap(explanation.gradual_summary, 90), fontsize=9, loc="left",
                   color="black" if explanation.gradual else "#d62728")
    return figure


# zlib level 1 for PNGs: figures (flat colours) come out about as small as at Pillow's default level 6 and photos a
# few per cent larger, in a third to a half of the time (a run's zip writes a dozen PNGs; issue 23).
PNG_OPTIONS = {"compress_level": 1}


def save_picture(image: Image.Image, path: str | Path) -> Path:
    """Save a Pillow picture (PNG written with :data:`PNG_OPTIONS`; other formats as Pillow writes them)."""
    path = Path(path)
    image.save(path, **(PNG_OPTIONS if path.suffix.lower() == ".png" else {}))
    return path


def save_figure(figure: Figure, path: str | Path, dpi: int = 110) -> Path:
    """``figure`` as the file ``path`` names (by its suffix; PNG without one), whole or not at all: drawn first, then
    written (:func:`~propgrad.disk.write_whole`). matplotlib's own PNG writer let a full disk pass unnoticed
    (``--plot /dev/full`` ended with status 0)."""
    path = Path(path)
    kind = path.suffix.lower().lstrip(".") or "png"
    drawn = io.BytesIO()
    figure.savefig(drawn, format=kind, dpi=dpi, **({"pil_kwargs": PNG_OPTIONS} if kind == "png" else {}))
    return write_whole(path, drawn.getvalue())


def save_gif(frames: list[Image.Image], path: str | Path, duration_ms: int = 250) -> Path:
    """Frames -> an animated GIF (or WebP, by suffix), looping.

    GIF frames are quantised with Pillow's fast octree, each with its own palette: Pillow's default
    (median cut) cost about 1 s per frame of a side-by-side comparison, this a few milliseconds.
    """
    path = Path(path)
    if path.suffix.lower() == ".gif":
        frames = [frame.convert("RGB").quantize(colors=255, method=Image.Quantize.FASTOCTREE) for frame in frames]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=duration_ms, loop=0)
    return path


def caption_frame(image: Image.Image, caption: str, short: str | None = None, max_side: int = 320) -> Image.Image:
    """A copy of ``image`` at most ``max_side`` px, with ``caption`` (or ``short`` where it does not fit) in a black
    band at the top, sized to the frame so that small frames still read."""
    frame = image.convert("RGB")
    frame.thumbnail((max_side, max_side))
    size = max(10, frame.width // 22)
    font = ImageFont.load_default(size=size)
    draw = ImageDraw.Draw(frame)
    if short is not None and draw.textlength(caption, font=font) > frame.width - 6:
        caption = short
    draw.rectangle((0, 0, frame.width, size + 4), fill=(0, 0, 0))
    draw.text((3, 2), caption, fill=(255, 255, 255), font=font)
    return frame


def save_animation(explanation: Explanation, path: str | Path, duration_ms: int = 250, series_index: int = 0,
                   max_side: int = 320) -> Path:
    """Animated GIF (or WebP, by suffix) of one series with the step and property value drawn in."""
    series = explanation.series[series_index]
    name = explanation.property_name
    frames = [caption_frame(image, f"step {index}: {axis_words(name)} = {value}", f"step {index}: {value}", max_side)
              for index, (image, value) in enumerate(zip(series.images, value_words(name, series.values)))]
    return save_gif(frames, path, duration_ms)


def thumb_size(image: Image.Image, thumb: int) -> tuple[int, int]:
    """(width, height) of ``image`` scaled so that its long side is ``thumb`` px (portrait images too)."""
    height = max(1, round(thumb * image.height / image.width))
    if height > thumb:  # portrait: the long side is `thumb`
        return max(1, round(thumb * image.width / image.height)), thumb
    return thumb, height


def strip_picture(explanation: Explanation, *, max_images: int = 12, per_row: int = 6, series_index: int = 0,
                  thumb: int = 200, title: str | None = None, show_region: bool = True,
                  keep: Mapping[int, str] | None = None) -> Image.Image:
    """The image strip as a picture (Pillow, no matplotlib: a few milliseconds): up to ``max_images`` steps in
    rows of ``per_row``, each labelled below with its step and property value, the title at the top left; the steps
    in ``keep`` (where the prediction flips; default each model's first, :func:`first_flips`) are among them
    (:func:`strip_indices`), each with a badge saying whose flip it is ("dark-cats flips"; "flip" where the step maps
    to "", a run of one model).

    A region edit's series (with a ``mask``) gets the region's border drawn on every image (``show_region``), so
    the strip shows where the edit applies. The app, the reports and the lessons show this one picture.

    Examples
    --------
    >>> strip_picture(explanation).save("strip.png")  # doctest: +SKIP
    """
    series = explanation.series[series_index]
    keep = first_flips(explanation.readings) if keep is None else keep
    indices = strip_indices(len(series), max_images, keep)
    width, height = thumb_size(series.images[0], thumb)
    border = None
    if show_region and series.mask is not None and _binary(series.mask).any() and not _binary(series.mask).all():
        small = np.asarray(Image.fromarray(np.asarray(series.mask, dtype=np.float32), "F").resize((width, height)))
        border = _outline(small, 3)
    # One line per step in a large font ("step 2: 0.17"): the talk view shows the strip at half a projected screen,
    # about half its size (two lines of 15 px read 7 px there, one of 20 px 9.7 px).
    font = ImageFont.load_default(size=25)
    small_font = ImageFont.load_default(size=15)  # a narrow portrait image's label
    title_font = ImageFont.load_default(size=23)
    gap, band, title_band = 6, 36, 34
    columns = min(per_row, len(indices))
    rows = -(-len(indices) // columns)
    canvas_width = columns * (width + gap) - gap + 8
    # Wrapped to the strip: a three-step strip is 600 px wide and cut a title longer than about 60 characters.
    title_lines = _wrapped(title if title is not None else strip_title(explanation, series_index), title_font,
                           canvas_width - 8)
    title_line = title_font.size + 5
    title_band += title_line * (len(title_lines) - 1)
    canvas = Image.new("RGB", (canvas_width, title_band + rows * (height + band)), "white")
    draw = ImageDraw.Draw(canvas)
    for line_number, line in enumerate(title_lines):
        draw.text((4, 4 + title_line * line_number), line, fill="black", font=title_font)
    captions = value_words(explanation.property_name, series.values)
    for number, index in enumerate(indices):
        left = 4 + (number % columns) * (width + gap)
        top = title_band + (number // columns) * (height + band)
        pixels = np.asarray(series.images[index].convert("RGB").resize((width, height), Image.Resampling.BILINEAR))
        if border is not None:
            pixels = pixels.copy()
            pixels[border] = REGION_COLOUR
        canvas.paste(Image.fromarray(pixels), (left, top))
        if index in keep:
            # A flip step kept among evenly spaced ones says why it is there, and whose flip it is (two strips on one
            # page sampled steps 0, 2, 5, 6 and 0, 2, 4, 6, unexplained); a badge leaves the label the others' size.
            whose = keep[index]
            badge = fitted(f"{whose} flip{'' if ' and ' in whose else 's'}" if whose else "flip", draw, small_font,
                           width - 20)
            box = draw.textbbox((left + 6, top + 6), badge, font=small_font)
            draw.rectangle((box[0] - 4, box[1] - 3, box[2] + 4, box[3] + 3), fill=FLIP_BADGE)
            draw.text((left + 6, top + 6), badge, fill="white", font=small_font)
        label = f"step {index}: {captions[index]}"
        draw.text((left + width / 2, top + height + 4), label, fill="black", anchor="ma",
                  font=font if draw.textlength(label, font=font) <= width else small_font)
    return canvas


def fitted(text: str, draw, font, width: int) -> str:
    """``text`` shortened in the middle ("IMG_20…0512.jpg") until it fits ``width`` pixels: both ends of a file
    name or a label (its start and its extension or number) tell it from its neighbours."""
    if draw.textlength(text, font=font) <= width:
        return text
    keep = len(text)
    while keep > 4:
        keep -= 1
        short = text[: keep // 2] + "\u2026" + text[len(text) - (keep - keep // 2):]
        if draw.textlength(short, font=font) <= width:
            return short
    return text[:2] + "\u2026"


def series_ends_picture(explanation: Explanation, thumb: int = 200, most: int = 8) -> Image.Image:
    """The last step of every series side by side, each named (its label: the patch, the seed): the strip shows
    the first series only, so three patches showed the first and never the other two.

    Examples
    --------
    >>> series_ends_picture(explanation).save("ends.png")  # doctest: +SKIP
    """
    more = f" (the first {most} of {len(explanation.series)})" if len(explanation.series) > most else ""
    named = [(series.name(number), series.images[-1]) for number, series in enumerate(explanation.series[:most])]
    return named_pictures(named, f"the last step of every series{more}", thumb=thumb)


def named_pictures(named: Sequence[tuple[str, Image.Image]], title: str, *, thumb: int = 200,
                   per_row: int | None = None) -> Image.Image:
    """Pictures in rows of ``per_row`` (default: one row), each named under it, under a title: every picture is drawn
    at the first one's shape, ``thumb`` px on its long side (the strip's sizes, readable at half size in the talk
    view)."""
    if not named:
        raise ValueError("`named` is empty: give at least one (name, picture) pair")
    width, height = thumb_size(named[0][1], thumb)
    # The strip's sizes (see strip_picture): under it, at half size in the talk view, 14 px labels read 7 px.
    font, title_font = ImageFont.load_default(size=23), ImageFont.load_default(size=23)
    gap, band, title_band = 6, 34, 34
    columns = min(per_row or len(named), len(named))
    rows = -(-len(named) // columns)
    canvas = Image.new("RGB", (max(columns * (width + gap) - gap + 8, 360), title_band + rows * (height + band)),
                       "white")
    draw = ImageDraw.Draw(canvas)
    draw.text((4, 4), fitted(title, draw, title_font, canvas.width - 8), fill="black", font=title_font)
    for number, (label, picture) in enumerate(named):
        left = 4 + (number % columns) * (width + gap)
        top = title_band + (number // columns) * (height + band)
        canvas.paste(picture.convert("RGB").resize((width, height), Image.Resampling.BILINEAR), (left, top))
        draw.text((left + width / 2, top + height + 3), fitted(label, draw, font, width), fill="black", font=font,
                  anchor="ma")
    return canvas


def side_by_side(pictures: Sequence[Image.Image], gap: int = 12, centred: bool = True) -> Image.Image:
    """Pictures left to right on white, centred on each other's height (or along the top)."""
    height = max(picture.height for picture in pictures)
    canvas = Image.new("RGB", (sum(p.width for p in pictures) + gap * (len(pictures) - 1), height), "white")
    left = 0
    for picture in pictures:
        canvas.paste(picture.convert("RGB"), (left, (height - picture.height) // 2 if centred else 0))
        left += picture.width + gap
    return canvas


GRADUAL_FONT = 24  # the verdict under a strip, in px (about 12 px in the talk view, at half its size)


def gradualness_picture(explanation: Explanation, width: int = 620, height: int = 90) -> Image.Image:
    """The image change per step (mean Delta E to step 0, first series) as bars, with the verdict: a small
    Pillow picture to sit under the strip (a few milliseconds; :func:`gradualness_plot` is the full figure).

    Examples
    --------
    >>> gradualness_picture(explanation).save("change.png")  # doctest: +SKIP
    """
    font = ImageFont.load_default(size=GRADUAL_FONT)
    if not explanation.gradualness:
        return Image.new("RGB", (width, height), "white")
    # The verdict wraps to the strip's width (a turntable's ran past the edge); the bars keep their height.
    lines = _wrapped(gradualness_caption(explanation), font, width - 8)
    line_height = GRADUAL_FONT + 4
    canvas = Image.new("RGB", (width, height + line_height * (len(lines) - 1)), "white")
    draw = ImageDraw.Draw(canvas)
    check = explanation.gradualness[0]
    colour = (40, 110, 180) if explanation.gradual else (200, 60, 40)
    for number, line in enumerate(lines):
        draw.text((4, 2 + number * line_height), line, fill=colour, font=font)
    change = np.asarray(check.change, dtype=float)
    top, bottom = line_height + 4 + line_height * (len(lines) - 1), canvas.height - 4
    most = float(change.max()) if change.size and change.max() > 0 else 1.0
    bar = (width - 8) / max(1, len(change))
    for step, value in enumerate(change):
        left = 4 + step * bar
        draw.rectangle([left + 1, bottom - (bottom - top) * value / most, left + bar - 2, bottom], fill=colour)
    return canvas


def gradualness_caption(explanation: Explanation) -> str:
    """The words over the bars: the verdict, and the reason only where the series is not gradual. A gradual one's
    evidence (rank correlation, largest step, the colours outside the region) ran to three lines of large type in
    every strip, and the notes under the table say it in full."""
    said = verdict(explanation.gradualness) if explanation.gradual else explanation.gradual_summary
    # "per step" beside bars that grow as a running total read as a contradiction.
    return f"image change from step 0 (Delta E): {said}"


def _wrapped(text: str, font, width: float) -> list[str]:
    """``text`` in lines no wider than ``width`` pixels in ``font`` (words kept whole, "6 %" too)."""
    lines: list[str] = []
    for word in (word.replace("\0", " ") for word in text.replace(" %", "\0%").split()):
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def first_flips(readings) -> dict[int, str]:
    """Each model's first flip step, as its reading names it, with whose it is ("" for a run of one model): the steps a
    strip keeps and marks (:func:`strip_picture`)."""
    models = list(dict.fromkeys(one.model for one in readings))
    short = short_names(models)
    # Per model, not per reading: a model's two outputs flip at the same steps (its predicted class), one badge each.
    first = {}
    for one in readings:
        if one.flip_steps:
            first[one.model] = min(first.get(one.model, one.flip_steps[0]), one.flip_steps[0])
    found: dict[int, list[str]] = {}
    for model, step in first.items():
        found.setdefault(step, []).append(short[model] if len(models) > 1 else "")
    return {step: " and ".join(name for name in names if name) for step, names in sorted(found.items())}


def strip_and_companions(explanation: Explanation, *, title: str | None = None, max_images: int = 12,
                         ends: bool = True, keep: Mapping[int, str] | None = None) -> list[Image.Image]:
    """The strip as the app shows it and every strip.png holds it (:func:`stack_pictures` puts them one under the
    other): the steps, each model's first flip among them (``keep``, default :func:`first_flips` of the run's
    readings: a turntable's 12 pictures of 36 frames showed none of its four flips), under them how much each step
    changes the image and the verdict, and (``ends``, for a run of several series: the strip shows the first only)
    the last step of every series.

    Examples
    --------
    >>> save_picture(stack_pictures(strip_and_companions(explanation)), "strip.png")  # doctest: +SKIP
    """
    strip = strip_picture(explanation, title=title, max_images=max_images, keep=keep)
    pictures = [strip]
    if explanation.gradualness:
        pictures.append(gradualness_picture(explanation, width=strip.width))
    if ends and len(explanation.series) > 1:
        pictures.append(series_ends_picture(explanation))
    return pictures


def stack_pictures(pictures: list[Image.Image], gap: int = 8) -> Image.Image:
    """Pictures one under the other on white, left-aligned."""
    height = sum(p.height for p in pictures) + gap * (len(pictures) - 1)
    canvas = Image.new("RGB", (max(p.width for p in pictures), height), "white")
    top = 0
    for picture in pictures:
        canvas.paste(picture, (0, top))
        top += picture.height + gap
    return canvas


def y_label(pairs) -> str:
    """What the y axis shows, as the readings name it: "p(cat)" when every curve is that, "probability" when all are
    probabilities of different outputs, else "model output"."""
    labels = {output_label(score.output, DISTANCE if score.vector else model.output_kind) for model, score in pairs}
    if len(labels) == 1:
        return labels.pop()
    if all(model.output_kind == PROBABILITY and not score.vector for model, score in pairs):
        return "probability of the output"
    return "model output"


def _scored(result: Explanation) -> list:
    """(model, score) for every scored output, in the order colours are given."""
    return [(model, score) for model in result.models for score in model.scores]


def _flips_of(model, score, flips) -> tuple[list[int], list[int]]:
    """One series' flip steps split as its reading counts them: those to or from the output (every flip for the
    whole-output vector score), and the changes between two other classes."""
    own = flips.steps_involving(score.index, len(model.output_names), score.vector)
    return own, [step for step in flips.flip_steps if step not in own]


def _mark_flips(axis, x, curve, own, others, tint, size) -> None:
    """Filled diamonds where the prediction flips to or from the output, hollow ones where it changes between
    two other classes: the plot then shows the flips the reading names, and the others apart."""
    # Not clipped by the axes: a flip at p = 1 sits on the plot's top edge, where half its marker was cut off.
    if own:
        axis.scatter(x[own], curve[own], **flip_marks(size, tint, "black"), zorder=5, clip_on=False)
    if others:
        axis.scatter(x[others], curve[others], **flip_marks(size, "white", tint), linewidths=1.3,
                     zorder=5, clip_on=False)


def probability_range(axis, pairs) -> None:
    """The whole probability range on ``axis`` where every (model, score) of ``pairs`` is a probability: zoomed to
    0.29-0.44, a change of 0.14 looked like a collapse beside the 0-to-1 curves of another preset, and a curve's
    size is what its reading is about."""
    if pairs and all(model.output_kind == PROBABILITY and not score.vector for model, score in pairs):
        axis.set_ylim(-0.03, 1.03)
        axis.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1])


def _property_curves(axis, result: Explanation, label, markersize: float = 3,
                     flip_size: float = 50) -> tuple[bool, bool]:
    """Every model's mean curve of one property on ``axis``, named by ``label(model, score)``, its flips (of the
    first series) marked with diamonds, and the 0.5 line where it is the decision rule; returns whether that line
    and whether a hollow diamond (a change between two other classes) were drawn, for the legend. Model k keeps
    colour k in every panel."""
    binary = hollow = False
    for number, (model, score) in enumerate(_scored(result)):
        hollow = output_curve(axis, model, score, number, label(model, score), markersize, flip_size)[1] or hollow
        binary = binary or draws_threshold(model, score)
    if binary:
        decision_line(axis)
    probability_range(axis, _scored(result))
    return binary, hollow


def output_curve(axis, model, score, number: int = 0, label: str | None = None, markersize: float = 3,
                 flip_size: float = 50) -> tuple[bool, bool]:
    """One output's mean curve on ``axis`` with its flips (of the first series) as diamonds, as every curve figure
    draws it, in the look of the figure's ``number``-th model (:func:`model_look`); returns whether a filled diamond
    (a flip to or from the output) and whether a hollow one (a change between two other classes) was drawn."""
    mean, _ = model.curve(score.index, score.vector)
    x = np.arange(len(mean))
    look = model_look(number)
    tint = look["color"]
    axis.plot(x, mean, markersize=markersize, label=label, **look)
    axis.yaxis.set_major_formatter(WholeValues())  # a tiny distance's ticks read 2e-05, not 2 under a "1e-5"
    own, others = _flips_of(model, score, model.flips[0])
    _mark_flips(axis, x, mean, own, others, tint, flip_size)
    return bool(own), bool(others)


def comparison_curves(comparison, short_names: dict[str, str] | None = None, max_columns: int = 4) -> Figure:
    """Every property's curves side by side on one y axis: each model keeps its colour across the panels, one
    legend below. The lean figure the app shows at once (the images are in the strips above it; the scores in
    the table): no constrained layout, which cost more than the drawing.

    Examples
    --------
    >>> save_figure(comparison_curves(comparison), "curves.png")  # doctest: +SKIP
    """
    names = list(comparison.properties)[:max_columns]
    pairs = [(m.name, s.output) for m in comparison.explanations[names[0]].models for s in m.scores]
    several_outputs = len({output for _, output in pairs}) > 1
    short = short_names or {}
    panel = 3.6 if len(names) > 1 else 6.0
    size = _CURVE_TEXT
    figure = Figure(figsize=(panel * len(names) + 0.9, 4.0))
    columns = 1 if len(names) == 1 else 2
    axes = figure.subplots(1, len(names), squeeze=False, sharey=True)[0]

    def label(model, score):
        return short.get(model.name, model.name) + (f": {score.output}" if several_outputs else "")

    binary = hollow = False
    # Wrapped to the axes' 3 inches: "distance of the vector (all 5 outputs) from step 0" ran past the figure's top.
    y_text = _wrap(y_label(_scored(comparison.explanations[names[0]])), 34)
    left_in = 0.75 + 0.2 * y_text.count("\n")
    # The first and the last step are always ticked, and their labels stand out half their width past the data
    # (inset 5 % of the axes): the gap between panels and the right margin make room for them ("-0.000456" ran into
    # the next panel's first label and off the figure's right edge).
    width = figure.get_figwidth()
    shown_values = [value_words(comparison.explanations[name].property_name, comparison.explanations[name].values)
                    for name in names]
    ends = [[_text_em(values[i]) * size / 2 / 72 for i in (0, -1)] for values in shown_values]
    wspace, right_in = 0.08, 0.015 * width
    for _ in range(2):  # the axes' width depends on the gaps, the gaps on the axes' inset: twice is close enough
        axis_width = (width - right_in - left_in) / (len(names) + wspace * (len(names) - 1))
        inset = axis_width * _X_MARGIN / (1 + 2 * _X_MARGIN)
        between = max((ends[i][1] + ends[i + 1][0] + 0.06 - 2 * inset for i in range(len(names) - 1)), default=0)
        wspace = max(0.08, between / axis_width)
        right_in = max(0.015 * width, ends[-1][1] - inset + 0.04)
    axis_width = (width - right_in - left_in) / (len(names) + wspace * (len(names) - 1))
    ticked = []
    for axis, name, values in zip(axes, names, shown_values):
        drew_line, drew_hollow = _property_curves(axis, comparison.explanations[name], label, markersize=3.5,
                                                  flip_size=55)
        binary, hollow = binary or drew_line, hollow or drew_hollow
        ticked.append((values, *_ticks_that_fit(values, axis_width, size)))
    tick_size = min(font for _, _, font in ticked)  # one size on every panel
    x_labels = [_wrap(axis_words(comparison.explanations[name].property_name), 46) for name in names]
    for axis, name, (values, ticks, _), x_label in zip(axes, names, ticked, x_labels):
        axis.set_xticks(ticks, [values[i] for i in ticks], fontsize=tick_size)
        axis.tick_params(axis="y", labelsize=size)
        axis.grid(alpha=0.3)
        axis.set_title(_wrap(name, 40), fontsize=_CURVE_TITLE, loc="left", y=TITLE_Y)
        _xlabel_under_ticks(axis, x_label, fontsize=size, tick_size=tick_size)
    x_label_lines = max(x_label.count("\n") + 1 for x_label in x_labels)
    axes[0].set_ylabel(y_text, fontsize=_CURVE_LABEL)
    entries, labels = axes[0].get_legend_handles_labels()  # every model is in every panel, in the same colour
    if binary:
        entries.append(axes[0].axhline(np.nan, color="grey", linestyle="--", linewidth=1))
        labels.append("decision threshold 0.5")
    entries.append(axes[0].scatter([], [], **flip_marks(55, "black", "black")))
    labels.append("prediction flips (to or from the output)")
    if hollow:
        entries.append(axes[0].scatter([], [], **flip_marks(55, "white", "black")))
        labels.append("the prediction changes between two other classes")
    labels = _legend_fitted(labels, columns, width - left_in - 0.1, size)
    # Laid out once the legend is known (fixed inches, no constrained layout, which cost more than the drawing):
    # matplotlib fills the first legend column first (its taller column sets the height, see _legend_pt); under the
    # axes the ticks, their labels and the x label's lines (see _xlabel_under_ticks), then 6 pt of space.
    first_column = -(-len(labels) // columns)
    legend_pt = max(_legend_pt(part, size) for part in (labels[:first_column], labels[first_column:]) if part)
    under_axes_pt = _ticks_depth_pt(tick_size) + 1.2 * size * x_label_lines + 6.0
    bottom_in = (legend_pt + under_axes_pt) / 72 + 0.05
    figure.set_size_inches(width, 3.0 + bottom_in + 0.45)
    height = figure.get_figheight()
    figure.subplots_adjust(left=left_in / width, right=1 - right_in / width, top=1 - 0.5 / height,
                           bottom=bottom_in / height, wspace=wspace)
    figure.legend(entries, labels, loc="lower left", bbox_to_anchor=(left_in / width, 0.05 / height),
                  fontsize=size, frameon=False, ncols=columns if len(labels) > 1 else 1, borderaxespad=0)
    return figure


def _legend_fitted(labels: list[str], columns: int, inches: float, size: float) -> list[str]:
    """``labels`` wrapped where a legend of ``columns`` columns (filled column by column, as matplotlib does) would
    run past ``inches``: a long model name cut at the figure's right edge."""
    # About 0.62 of the size a character in DejaVu Sans text (capitals are wider); each column's handle and its pad
    # (matplotlib's handlelength 2 + handletextpad 0.8 sizes) and the gap between columns (2 sizes).
    room = int((inches * 72 / size - 2.8 * columns - 2.0 * (columns - 1)) / 0.62)
    first = -(-len(labels) // columns)
    parts = [labels[:first], labels[first:]] if columns > 1 else [labels]
    if sum(max((len(text) for text in part), default=0) for part in parts) <= room:
        return labels
    return [_wrap(text, room // columns) for text in labels]


# matplotlib's data margin on x (5 % each side): where the first and the last step sit inside the axes.
_X_MARGIN = rcParams["axes.xmargin"]


def _text_em(text: str) -> float:
    """A tick label's width in sizes of its font (DejaVu Sans: digits 0.64, a point or a space 0.32, a hyphen
    0.36, anything else about 0.6)."""
    return sum(0.636 if char.isdigit() else 0.318 if char in ". " else 0.361 if char == "-" else 0.6 for char in text)


def _ticks_that_fit(labels: list[str], axis_inches: float, size: float, most: int = 6) -> tuple[list[int], float]:
    """(ticks, font size): :func:`tick_steps` with no more ticks than labels fit side by side on an axis
    ``axis_inches`` wide ("0.1210.2430.364" at 10.5 pt on a 3.6 inch panel with every step ticked). A short
    series keeps at least four ticks in a smaller type rather than two or three at ``size``."""
    n_steps = len(labels)
    widths = [_text_em(text) for text in labels]
    smaller = min(size, 9.0)
    for font in dict.fromkeys((size, smaller)):
        for fewer in range(most, 1, -1):
            ticks = tick_steps(n_steps, fewer)
            if len(ticks) < min(n_steps, 4) and font != smaller:
                break
            if len(ticks) < 2:
                return ticks, font
            stride_pt = axis_inches * 72 * min(np.diff(ticks)) / (max(n_steps - 1, 1) * (1 + 2 * _X_MARGIN))
            if stride_pt >= font * (max(widths[i] for i in ticks) + 0.5):
                return ticks, font
    return tick_steps(n_steps, 2), smaller


def comparison_figure(comparison, max_columns: int = 4) -> Figure:
    """Each property side by side: its strongest step with the region drawn on, and every model's curve below.

    ``comparison`` is a :class:`propgrad.compare.PropertyComparison`. Columns follow its ranked properties,
    as its table and strips do; the curves share the y axis so that properties compare at a glance, and
    each legend entry carries E[|grad_X F|], the p-value (* significant) and the Benjamini-Hochberg
    adjusted p-value. Triangles mark prediction flips, as in :func:`output_curves`.

    Examples
    --------
    >>> save_figure(comparison_figure(comparison), "comparison.png")  # doctest: +SKIP
    """
    names = list(comparison.properties)[:max_columns]
    first = comparison.explanations[names[0]]
    image = first.series[0].images[0]
    aspect = image.height / image.width
    size = 9.0
    figure = Figure(figsize=(3.6 * len(names), 3.6 * aspect + 4.3))
    # Fixed margins in inches instead of the constrained layout, which cost more than the drawing (issue 23): the
    # two-line title and each image's name above, the step under each image, and under the curves their ticks,
    # x label and the legend below the axes.
    width, height = figure.get_figwidth(), figure.get_figheight()
    rows_in = height - 0.85 - 2.1 - 0.35
    figure.subplots_adjust(left=0.62 / width, right=1 - 0.12 / width, top=1 - 0.85 / height, bottom=2.1 / height,
                           wspace=0.1, hspace=0.35 / (rows_in / 2))
    grid = figure.subplots(2, len(names), squeeze=False, height_ratios=[3.6 * aspect, 3.2], sharey="row")
    for column, name in enumerate(names):
        result = comparison.explanations[name]
        series = result.series[0]
        values = value_words(result.property_name, result.values)  # the first series' (the steps drawn above)
        top, bottom = grid[0, column], grid[1, column]
        last = series.images[-1]
        shown = draw_region(last, series.mask) if series.mask is not None else last
        top.imshow(np.asarray(shown))
        top.set_axis_off()
        top.set_title(_wrap(name, 40), fontsize=size + 1, loc="left", y=TITLE_Y)
        top.text(0.5, -0.02, f"step {len(series) - 1}: {values[-1]}", transform=top.transAxes,
                 ha="center", va="top", fontsize=size)

        def label(model, score, name=name):
            cell = comparison.score(name, model.name, score.output)
            star = "*" if score.significant else ""
            return (f"{_wrap(model.name, 36)}: {score.output}\n{_score_label(score)}={format_number(score.score)}, "
                    f"p={format_pvalue(score.pvalue, result.alpha)}{star}, "
                    f"adjusted {format_pvalue(cell.pvalue_adjusted, result.alpha)}")

        _property_curves(bottom, result, label)
        ticks = tick_steps(result.n_steps, 6)
        bottom.set_xticks(ticks, [values[i] for i in ticks], fontsize=8)
        _xlabel_under_ticks(bottom, _wrap(axis_words(result.property_name), 40), fontsize=size)
        bottom.tick_params(axis="y", labelsize=8)
        bottom.grid(alpha=0.3)
        # Below the axes: with three models a legend inside would cover the curves it explains.
        # (0.6 in under the axes: below the ticks and a two-line x label.)
        axes_in = bottom.get_position().height * figure.get_figheight()
        bottom.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.6 / axes_in), frameon=False)
    grid[1, 0].set_ylabel(y_label(_scored(next(iter(comparison.explanations.values())))), fontsize=size)
    # The stars mark each property's own p, as in the legends (the adjusted p beside them), of the properties drawn.
    marked = any(score.significant for name in names for model in comparison.explanations[name].models
                 for score in model.scores)
    figure.suptitle(f"Properties compared: {_star_note(marked, comparison.alpha)}\n"
                    f"adjusted: p adjusted by Benjamini-Hochberg; {FLIP_GLYPH} prediction flips", x=0.005,
                    y=1 - 0.05 / height, ha="left", va="top", fontsize=size + 1)
    return figure
