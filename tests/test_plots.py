"""Figures: the 0.5 line only where it is the decision rule, legends off the curves, readable text."""
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

import propgrad as pg
from propgrad import plots
from propgrad.interventions import InterventionSeries
from propgrad.lesions.dynamics import DynamicsResult, plot_dynamics


class RedModel:
    """Softmax over k outputs whose logits move at different rates with the mean red: the argmax changes."""

    def __init__(self, k: int, name: str = "red", kind: str = "probability"):
        self.name, self.output_kind = f"{name} ({k})", kind
        self.output_names = [f"class {i}" for i in range(k)]
        self.slopes = np.linspace(-6, 6, k)

    def predict(self, images):
        red = np.array([np.asarray(image, dtype=np.float64)[..., 0].mean() / 255 for image in images])
        logits = (red[:, None] - 0.5) * self.slopes[None, :]
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)


def _ramp(steps=8, label="", property_name="redness"):
    images = [Image.new("RGB", (24, 16), (int(255 * v), 90, 90)) for v in np.linspace(0, 1, steps)]
    return InterventionSeries(images, np.linspace(0, 1, steps), property_name, label=label)


def _explain(models, series=None):
    return pg.explain(None, series or [_ramp()], models, outputs_of_interest="predicted", n_permutations=50)


def _threshold_lines(figure):
    axis = figure.axes[0]
    return [line for line in axis.get_lines() if np.allclose(line.get_ydata(), 0.5) and len(line.get_ydata()) == 2]


def _legend_texts(figure):
    legends = figure.legends + [axis.get_legend() for axis in figure.axes if axis.get_legend()]
    return [text.get_text() for legend in legends for text in legend.get_texts()]


def test_threshold_line_only_for_two_class_probability_models():
    binary = _explain(RedModel(2))
    figure = plots.output_curves(binary)
    assert len(_threshold_lines(figure)) == 1
    assert binary.models[0].flips[0].flipped
    assert "prediction flips (crosses 0.5)" in _legend_texts(figure)

    five = _explain(RedModel(5))
    assert five.models[0].flips[0].flipped
    figure = plots.output_curves(five)
    assert _threshold_lines(figure) == []
    assert not any("threshold" in text for text in _legend_texts(figure))
    assert "prediction flips (to or from this output)" in _legend_texts(figure)

    # Two similarity scores (CLIP) are not probabilities: 0.5 means nothing there either.
    assert _threshold_lines(plots.output_curves(_explain(RedModel(2, kind="similarity")))) == []
    mixed = plots.output_curves(_explain([RedModel(2), RedModel(5)]))
    assert len(_threshold_lines(mixed)) == 1
    assert "decision threshold 0.5 (two-class models)" in _legend_texts(mixed)


def _filled_and_hollow_flips(axis):
    """(filled, hollow) flip marker positions on ``axis``."""
    found = {True: [], False: []}
    for collection in axis.collections:
        faces = collection.get_facecolors()
        if len(collection.get_offsets()) and len(faces):
            found[bool(np.allclose(faces[0][:3], 1))] += [tuple(xy) for xy in collection.get_offsets()]
    return found[False], found[True]


def test_flips_between_two_other_classes_are_hollow_and_named_apart():
    """The reading of 'class 2' names only flips to or from it; the 0 -> 4 change is drawn, but hollow."""
    result = pg.explain(None, [_ramp()], RedModel(5), outputs_of_interest="class 2", n_permutations=50)
    model = result.models[0]
    assert model.flips[0].flip_steps and model.flips[0].steps_involving(2, 5) == []
    assert "flips" not in result.readings[0].text
    figure = plots.output_curves(result)
    filled, hollow = _filled_and_hollow_flips(figure.axes[0])
    assert not filled and [int(x) for x, _ in hollow] == model.flips[0].flip_steps
    assert "the prediction changes between two other classes" in _legend_texts(figure)
    assert not any(text.startswith("prediction flips") for text in _legend_texts(figure))

    predicted = _explain(RedModel(5))  # class 0, which the flip leaves: filled, as the reading names it
    filled, hollow = _filled_and_hollow_flips(plots.output_curves(predicted).axes[0])
    assert [int(x) for x, _ in filled] == predicted.models[0].flips[0].flip_steps and not hollow


def test_many_entry_legend_lies_below_the_axes_and_inside_the_figure():
    models = [RedModel(k, name=f"model {k}") for k in (2, 3, 4, 5, 6)]
    figure = plots.output_curves(_explain(models, [_ramp(label="a"), _ramp(label="b")]))
    assert len(figure.legends) == 1 and figure.axes[0].get_legend() is None
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    legend = figure.legends[0].get_window_extent(renderer)
    axis = figure.axes[0].get_window_extent(renderer)
    assert legend.y1 <= axis.y0, "the legend overlaps the curves"
    # Nothing cut off: every artist (legend, tick labels, title) lies inside the figure (inches).
    drawn, whole = figure.get_tightbbox(renderer), figure.bbox_inches
    assert drawn.x0 >= whole.x0 and drawn.y0 >= whole.y0 and drawn.x1 <= whole.x1 and drawn.y1 <= whole.y1
    # A single model keeps its small legend inside the plot.
    assert plots.output_curves(_explain(RedModel(2))).legends == []


class PeakModel:
    """One output that rises to 0.95 in the middle of the series and falls back, as a turntable's curve does."""

    name, output_kind, output_names = "peak", "probability", ["mug", "other"]

    def predict(self, images):
        red = np.array([np.asarray(image, dtype=np.float64)[..., 0].mean() / 255 for image in images])
        mug = 0.1 + 0.85 * np.exp(-((red - 0.5) / 0.2) ** 2)
        return np.stack([mug, 1 - mug], axis=1)


def test_a_legend_inside_the_plot_covers_no_point_of_the_curve():
    # Before, loc="best" put it over the peak of a curve that rises and falls across the whole width.
    figure = plots.output_curves(_explain(PeakModel(), [_ramp(steps=15)]))
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    axis = figure.axes[0]
    box = axis.get_legend().get_window_extent(renderer)
    line = axis.get_lines()[0]
    points = axis.transData.transform(np.column_stack([line.get_xdata(), line.get_ydata()]))
    assert not any(box.contains(x, y) for x, y in points), "the legend covers the curve"
    assert box.y0 > points[:, 1].max(), "the legend is not above the curve"
    # The probability axis does not label values it cannot take.
    assert max(axis.get_yticks()) <= 1


def _frames(tmp_path, n=4):
    paths = []
    for i in range(n):
        path = tmp_path / f"frame_{i}.png"
        Image.new("RGB", (20, 20), (40 * i, 80, 80)).save(path)
        paths.append(str(path))
    return paths


def test_strip_title_names_the_property_once(tmp_path):
    paths = _frames(tmp_path)
    turned = _explain(RedModel(2), pg.Frames(paths, values=[0, 90, 180, 270],
                                             property_name="turntable angle (degrees)").series())
    assert plots.strip_title(turned) == "turntable angle (degrees)"
    # As the app runs it: the Frames intervention itself, whose name is "frames".
    app_way = pg.explain(None, pg.Frames(paths, values=[0, 90, 180, 270], property_name="turntable angle (degrees)"),
                         RedModel(2), n_permutations=20)
    assert plots.strip_title(app_way) == "turntable angle (degrees)"
    assert plots.strip_title(_explain(RedModel(2), pg.Frames(paths).series())) == "frame"
    bright = _explain(RedModel(2), pg.ParametricEdit("brightness", steps=4).series(Image.new("RGB", (20, 20), "red")))
    assert plots.strip_title(bright).lower().count("brightness") == 1
    patches = _explain(RedModel(2), [_ramp(label="sticker_1", property_name="patch opacity"),
                                     _ramp(label="sticker_2", property_name="patch opacity")])
    assert plots.strip_title(patches, 1) == "patch opacity: sticker_2 (series 2 of 2)"


def test_strip_and_null_text_reads_at_app_size():
    result = _explain([RedModel(k, name=f"a rather long model name {k}") for k in (2, 3, 4, 5, 6)],
                      [_ramp(steps=30)])
    # Twelve of the 30 steps in two rows of six (one look: the app's, the reports' and the lessons' strip), each
    # thumbnail 200 px wide with its label in the band under it.
    strip = plots.strip_picture(result)
    assert strip.width == 6 * (200 + 6) - 6 + 8
    rows = np.asarray(strip.convert("L")).min(axis=1) < 128
    assert rows[-30:].any(), "the last row's labels sit under its images"
    # Its title is the strip's title (the property, once), as the app's strip is titled.
    assert np.array_equal(np.asarray(strip), np.asarray(plots.strip_picture(result, title=plots.strip_title(result))))
    assert not np.array_equal(np.asarray(strip), np.asarray(plots.strip_picture(result, title="something else")))

    null = plots.null_distributions(result)
    visible = [axis for axis in null.axes if axis.get_visible()]
    assert len(visible) == 5
    columns = {round(axis.get_position().x0, 3) for axis in visible}
    assert len(columns) <= 3
    smallest = min(axis.title.get_fontsize() for axis in visible)
    assert smallest * 800 / (72 * null.get_figwidth()) >= 11
    assert null._suptitle.get_horizontalalignment() == "left" and len(null.legends) == 1


def test_dynamics_probability_lines_are_drawn_over_the_flip_shares():
    epochs = np.arange(1, 5)
    result = DynamicsResult(
        epochs=epochs, labels=[f"e{e}" for e in epochs], output="melanoma", scores=np.full(4, 0.1),
        pvalues=np.full(4, 0.001), flip_fraction=np.ones(4), n_flips=np.ones(4), start_probability=np.ones(4),
        end_probability=np.zeros(4), alpha=0.01,
    )
    other = DynamicsResult(**{**result.__dict__, "flip_fraction": np.zeros(4), "end_probability": np.ones(4)})
    figure = plot_dynamics({"biased": result, "unbiased": other})
    flip_axis = figure.axes[1]
    # One legend, under the panels: inside, it covered flip shares that run from 0 to 1.
    assert [axis.get_legend() for axis in figure.axes] == [None, None] and len(figure.legends) == 1
    assert [text.get_text() for text in figure.legends[0].get_texts()][:2] == ["biased", "unbiased"]
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    assert figure.legends[0].get_window_extent(renderer).y1 <= min(a.get_window_extent(renderer).y0 for a in figure.axes)
    lines = [line for line in flip_axis.get_lines() if len(line.get_xdata())]
    shares = [line for line in lines if line.get_linestyle() == "-"]
    probabilities = [line for line in lines if line.get_linestyle() == "--"]
    assert len(shares) == len(probabilities) == 2
    assert min(line.get_zorder() for line in probabilities) > max(line.get_zorder() for line in shares)
    assert all(line.get_marker() not in (None, "None", "") for line in probabilities)
    assert any("p(melanoma)" in text.get_text() for text in figure.legends[0].get_texts())


def test_a_comparisons_null_plots_are_one_figure_with_a_block_per_property():
    """Two stacked figures said the title, how to read it and the legend twice."""
    results = {name: pg.explain(None, [_ramp()], [RedModel(2), RedModel(3, name="other")], n_permutations=50)
               for name in ("fur: darken", "background: darken")}
    figure = plots.null_distributions(results)
    assert len(figure.axes) == 4 and len(figure.legends) == 1 and figure.get_suptitle().startswith("Shuffle test")
    texts = [text.get_text() for text in figure.texts]
    assert [text for text in texts if text in results] == list(results)  # each block under its property's name
    # The two blocks' panels in two rows, the first property's above.
    rows = sorted({round(axis.get_position().y0, 3) for axis in figure.axes}, reverse=True)
    assert len(rows) == 2 and figure.axes[0].get_position().y0 > figure.axes[-1].get_position().y0
    assert all(axis.get_yticks().size == 0 for axis in figure.axes)  # counts of shuffles: no ticks
    assert "Significant where p <= alpha = 0.01" in " ".join(" ".join(texts).split())  # wrapped to the width
    # A comparison judges its rows by p adjusted over the table: each panel says it beside p, and so does the text.
    adjusted = {(name, model.name, score.output): 0.5 for name, result in results.items()
                for model in result.models for score in model.scores}
    judged = plots.null_distributions(results, adjusted=adjusted)
    assert all(axis.get_title().endswith(", adjusted 0.50") for axis in judged.axes)
    assert "the adjusted p, over the whole table" in " ".join(" ".join(text.get_text() for text in judged.texts).split())


def test_null_plot_names_the_tested_statistic_as_the_tables_do():
    from propgrad.score import STATISTIC_LABELS

    for statistic in ("gradient", "correlation"):
        result = pg.explain(None, [_ramp()], [RedModel(2)], outputs_of_interest="predicted", n_permutations=50,
                            statistic=statistic)
        figure = plots.null_distributions(result)
        texts = [figure._suptitle.get_text()] + [axis.get_xlabel() or "" for axis in figure.axes] + \
            [text.get_text() for axis in figure.axes for text in axis.texts]
        assert STATISTIC_LABELS[statistic] in " ".join(texts), (statistic, texts)
        assert "∇" not in " ".join(texts)


def test_several_series_show_each_ones_last_step_by_its_label():
    """The strip shows the first series only: three patches showed the first and never the others."""
    colours = [(220, 30, 30), (30, 200, 30), (30, 30, 220)]
    series = [InterventionSeries([Image.new("RGB", (24, 16), (90, 90, 90))] * 3 + [Image.new("RGB", (24, 16), colour)],
                                 np.arange(4.0), "step", label=name)
              for colour, name in zip(colours, ("sticker 1", "a patch with a very long name indeed", "sticker 3"))]
    picture = np.asarray(plots.series_ends_picture(_explain(RedModel(2), series)))
    # Each series' last step, in order, under the title band (28 px), one 160 px thumbnail and a 6 px gap apart.
    for number, colour in enumerate(colours):
        assert tuple(picture[28 + 40, 4 + number * 166 + 80]) == colour, number
    assert picture.shape[1] >= 3 * 160


class Flat:
    """The same output at every step: nothing to find, no star anywhere."""
    name, output_kind, output_names = "flat", "probability", ["a", "b"]

    def predict(self, images):
        return np.tile([0.3, 0.7], (len(images), 1))


def test_the_title_mentions_a_star_only_where_the_legend_draws_one():
    """"* significant at alpha" over a legend without a star sent readers looking for one."""
    starred = plots.output_curves(pg.explain(None, [_ramp()], RedModel(2), outputs_of_interest="predicted",
                                             n_permutations=500))
    assert starred.axes[0].get_title(loc="left").endswith("* = significant (p <= 0.01)")
    assert any(text.endswith("*") for text in _legend_texts(starred))
    plain = plots.output_curves(_explain(Flat()))
    assert plain.axes[0].get_title(loc="left").endswith("none significant (p <= 0.01)")
    assert not any(text.endswith("*") for text in _legend_texts(plain))


def test_the_gradualness_line_wraps_to_the_strip():
    """A turntable's verdict (rho, the random-order ratio, the largest step) ran past the strip's right edge."""
    result = _explain(RedModel(2))
    font = plots.ImageFont.load_default(size=plots.GRADUAL_FONT)
    narrow = plots.gradualness_picture(result, width=260)
    wide = plots.gradualness_picture(result, width=2400)
    lines = plots._wrapped(plots.gradualness_caption(result), font, 252)
    assert len(lines) > 1 and all(font.getlength(line) <= 252 for line in lines)
    assert narrow.height == wide.height + (plots.GRADUAL_FONT + 4) * (len(lines) - 1)


def test_the_strips_gradualness_line_says_the_verdict_and_a_reason_only_where_it_fails():
    """A gradual series' evidence filled three lines of large type in every strip; the notes say it in full."""
    result = _explain(RedModel(2))
    assert result.gradual and plots.gradualness_caption(result).endswith("gradual: yes")
    still = _explain(RedModel(2), [InterventionSeries([Image.new("RGB", (24, 16), (90, 90, 90))] * 4, np.arange(4.0),
                                                      "step")])
    assert not still.gradual and plots.gradualness_caption(still).endswith(still.gradual_summary)


def test_null_ticks_are_the_scores_themselves():
    # A null of scores around 5e-06 was labelled 0.25 ... 1.00 with "1e-5" at the axis end: read as scores up to 1.
    from matplotlib.figure import Figure

    import pytest

    from propgrad.plots import WholeValues

    # The last three tick every 0.25 or 0.025: the spacing asked for two digits, and 1.25 was written "1.2".
    for low, high in ((2e-6, 1e-5), (0.1915, 0.1925), (0.04, 0.09), (-0.1, 2.1), (-1.8, 0.05), (-14.98, -14.8)):
        axis = Figure().subplots()
        axis.set_xlim(low, high)
        axis.xaxis.set_major_formatter(WholeValues())
        axis.figure.canvas.draw()
        labels = [tick.get_text() for tick in axis.get_xticklabels()]
        values = list(axis.get_xticks())
        assert len(set(labels)) == len(labels) >= 2  # distinct, so no offset is needed
        assert all(float(label.replace("\u2212", "-")) == pytest.approx(value, rel=1e-9, abs=1e-12)
                   for label, value in zip(labels, values)), (labels, values)
        assert axis.xaxis.get_offset_text().get_text() == ""


def test_comparison_panels_tick_every_step_of_a_short_series_and_span_the_probabilities():
    # Eight steps were ticked 0, 1, 3, 4, 6, 7 (rounded positions), and a comparison zoomed its probability axis
    # to the curves while a single run's spans 0 to 1.
    from propgrad.compare import compare_properties

    image = Image.new("RGB", (24, 16), (128, 90, 90))
    edits = {"darken": pg.ParametricEdit("darken", steps=8), "blur": pg.ParametricEdit("blur", steps=8)}
    comparison = compare_properties(image, edits, RedModel(2), outputs_of_interest="class 1", n_permutations=50)
    for figure in (plots.comparison_curves(comparison), plots.comparison_figure(comparison)):
        curves = [axis for axis in figure.axes if axis.get_lines()]
        assert curves and all(list(axis.get_xticks()) == list(range(8)) for axis in curves)
        assert all(axis.get_ylim() == (-0.03, 1.03) for axis in curves)
    assert plots.tick_steps(12, 6) == [0, 3, 6, 9, 11]  # where no stride divides evenly, only the last gap is uneven
    # A 36-frame turntable was ticked 0, 3, ... 33, 35 where eight even ticks fit.
    assert plots.tick_steps(36, 16) == [0, 5, 10, 15, 20, 25, 30, 35]


@pytest.mark.parametrize("most", [6, 16])
def test_ticks_hold_the_ends_in_order_and_fit(most):
    for n_steps in range(1, 80):
        ticks = plots.tick_steps(n_steps, most)
        assert ticks[0] == 0 and ticks[-1] == n_steps - 1, (n_steps, ticks)
        assert all(later > earlier for earlier, later in zip(ticks, ticks[1:])), (n_steps, ticks)
        assert len(ticks) <= most + (2 if most <= 8 else 0), (n_steps, ticks)
        gaps = np.diff(ticks)
        assert len(gaps) < 2 or gaps.max() <= 1.5 * gaps.min(), (n_steps, ticks)  # only the last gap may differ
        assert len(set(gaps[:-1])) <= 1, (n_steps, ticks)


def test_curve_ticks_are_values_and_flip_marks_are_never_cut_at_the_edge():
    # A tiny distance curve showed ticks 0 ... 2 under a "1e-5" at the axis end; a flip at p = 1 lost the top half
    # of its triangle to the axes' clip; a large value was ticked "1e+03".
    from matplotlib.figure import Figure

    from propgrad.plots import WholeValues

    for result in (_explain(RedModel(2)), _explain(RedModel(5))):
        for figure in (plots.output_curves(result),):
            figure.canvas = FigureCanvasAgg(figure)
            figure.canvas.draw()
            axis = figure.axes[0]
            assert isinstance(axis.yaxis.get_major_formatter(), WholeValues)
            assert axis.yaxis.get_offset_text().get_text() == ""
            assert all(not collection.get_clip_on() for collection in axis.collections if len(collection.get_offsets()))
    axis = Figure().subplots()
    model = result.models[0]
    plots.output_curve(axis, model, model.scores[0])
    assert isinstance(axis.yaxis.get_major_formatter(), WholeValues)
    axis.set_ylim(0, 1000)
    axis.set_yticks([0, 250, 500, 750, 1000])
    axis.figure.canvas.draw()
    assert [tick.get_text() for tick in axis.get_yticklabels()] == ["0", "250", "500", "750", "1000"]


@pytest.mark.parametrize("n_properties", [1, 2])
@pytest.mark.parametrize("steps", [7, 8, 10])
def test_comparison_curves_labels_stay_apart_and_the_legend_inside(n_properties, steps):
    # At 10.5 pt eight steps' ticks ran together ("0.1210.2430.364"); with three models the one-panel legend covered
    # the x label; a long model name ran past the figure's right edge.
    from propgrad.compare import compare_properties

    image = Image.new("RGB", (24, 16), (128, 90, 90))
    edits = {name: pg.ParametricEdit(name, steps=steps) for name in ["darken", "hue"][:n_properties]}
    models = [RedModel(2, f"ConvMixer cats vs dogs, {bias} (authors)") for bias in ("unbiased", "dark-dogs bias",
                                                                                  "dark-cats bias")]
    comparison = compare_properties(image, edits, models, outputs_of_interest="predicted", n_permutations=50)
    figure = plots.comparison_curves(comparison)
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    legend = figure.legends[0].get_window_extent(renderer)
    for axis in figure.axes:
        boxes = [label.get_window_extent(renderer) for label in axis.get_xticklabels() if label.get_text()]
        assert len(boxes) >= min(steps, 4)
        assert all(left.x1 + 2 <= right.x0 for left, right in zip(boxes, boxes[1:])), [
            label.get_text() for label in axis.get_xticklabels()]
        assert legend.y1 <= axis.xaxis.label.get_window_extent(renderer).y0, "the legend covers the x label"
    drawn, whole = figure.get_tightbbox(renderer), figure.bbox_inches
    assert drawn.x0 >= whole.x0 and drawn.y0 >= whole.y0 and drawn.x1 <= whole.x1 and drawn.y1 <= whole.y1


def test_a_long_strip_title_wraps_to_a_short_strip():
    # A three-step strip is about 600 px wide: a title over about 60 characters ran off its right edge.
    series = _ramp(label="a", property_name="darkening strength within the object's region (0 = original, 1 = full)")
    result = _explain(RedModel(2), [series])
    short = plots.strip_picture(result, max_images=3, title="darken")
    long = plots.strip_picture(result, max_images=3)
    assert long.width == short.width and long.height > short.height
    title_band = np.asarray(long.convert("L"))[: long.height - short.height + 30]
    assert (title_band[:, -4:] > 200).all(), "the title runs to the strip's right edge"


def test_a_long_comparison_y_label_wraps_inside_the_figure():
    # "distance of the vector (all 5 outputs) from step 0" ran past the figure's top on one line.
    from propgrad.compare import compare_properties

    image = Image.new("RGB", (24, 16), (128, 90, 90))
    comparison = compare_properties(image, {"darken": pg.ParametricEdit("darken", steps=6)}, RedModel(5),
                                    outputs_of_interest="vector", n_permutations=50)
    figure = plots.comparison_curves(comparison)
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    label = figure.axes[0].yaxis.label
    box, ticks = label.get_window_extent(renderer), figure.axes[0].get_yticklabels()
    assert "\n" in label.get_text() and box.y1 <= figure.bbox.y1 and box.y0 >= figure.bbox.y0
    assert all(box.x1 <= tick.get_window_extent(renderer).x0 for tick in ticks if tick.get_text())


class _Valued:
    """An intervention with given property values (a redder image at each step), for tick labels of any width."""

    def __init__(self, name, values):
        self.name, self.values, self.property_name = name, list(values), name

    def series(self, image, progress=None):
        reds = np.linspace(0, 1, len(self.values))
        images = [Image.new("RGB", (24, 16), (int(255 * red), 90, 90)) for red in reds]
        return [InterventionSeries(images, np.asarray(self.values, float), self.property_name)]


@pytest.mark.parametrize("n_properties", [2, 4])
def test_comparison_end_labels_and_a_tall_legend_stay_clear(n_properties):
    # A cold reviewer: "-0.000456" at a panel's end ran into the next panel's first label and off the figure's right
    # edge; two 20-class models' legend (40 rows) covered the x label (1.4 sizes a row counted, 1.5 drawn).
    from propgrad.compare import compare_properties

    image = Image.new("RGB", (24, 16), (128, 90, 90))
    edits = {name: _Valued(name, np.linspace(-0.000123, -0.000456, 8)) for name in "abcd"[:n_properties]}
    comparison = compare_properties(image, edits, [RedModel(20, "one"), RedModel(20, "two")], outputs_of_interest="all",
                                    n_permutations=50)
    figure = plots.comparison_curves(comparison)
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    labels = [label for axis in figure.axes for label in axis.get_xticklabels() if label.get_text()]
    boxes = sorted((label.get_window_extent(renderer) for label in labels), key=lambda box: box.x0)
    assert all(left.x1 + 2 <= right.x0 for left, right in zip(boxes, boxes[1:]))  # across the panels too
    assert boxes[-1].x1 <= figure.bbox.x1
    legend = figure.legends[0].get_window_extent(renderer)
    assert all(legend.y1 <= axis.xaxis.label.get_window_extent(renderer).y0 for axis in figure.axes)


def test_a_single_runs_curves_fit_their_ticks_and_legend_in_the_talk_views_type():
    """10.5 pt type (9 px in the talk view at 8 pt): as many two-line step ticks as fit side by side, a long legend
    entry wrapped inside the figure with the statistic's name whole, nothing drawn past the figure's edges."""
    from propgrad.reading import for_pages

    long_name = "Lesion EfficientNet-Lite0 head trained on stickers (biased, second run)"
    for models, steps in (([PeakModel()], 36), ([RedModel(2, name=long_name)], 11),
                          ([RedModel(k, name=f"{long_name} {k}") for k in (2, 3, 4, 5)], 24)):
        figure = plots.output_curves(_explain(models, [_ramp(steps=steps)]))
        renderer = FigureCanvasAgg(figure).get_renderer()
        figure.draw(renderer)
        axis = figure.axes[0]
        labels = [label for label in axis.get_xticklabels() if label.get_text()]
        assert len(labels) >= 4 and min(label.get_fontsize() for label in labels) >= 9
        boxes = sorted((label.get_window_extent(renderer) for label in labels), key=lambda box: box.x0)
        assert all(left.x1 < right.x0 for left, right in zip(boxes, boxes[1:])), "tick labels overlap"
        drawn, whole = figure.get_tightbbox(renderer), figure.bbox_inches
        assert drawn.x0 >= whole.x0 and drawn.y0 >= whole.y0 and drawn.x1 <= whole.x1 and drawn.y1 <= whole.y1
        texts = _legend_texts(figure)
        assert all(size >= 10 for size in (axis.title.get_fontsize(), axis.xaxis.label.get_fontsize()))
        curve_labels = [text for text in texts if "p=" in text]
        assert len(curve_labels) == len(models)
        assert all(for_pages("E[|grad_X F|]") in text.replace("\n", " ") for text in curve_labels), curve_labels
        if len(models) == 1 and models[0].name == long_name:
            assert "\n" in curve_labels[0]  # wrapped inside the axes, not past the right edge


def test_a_reports_strip_is_the_apps_with_every_series_last_step(tmp_path):
    """The command line's strip.png showed the first sticker only: a second one appeared nowhere in its report. It
    is now the app's strip with its companions (image change per step, the last step of every series)."""
    from propgrad import export

    result = _explain(RedModel(2), [_ramp(label="sticker_1"), _ramp(label="sticker_2")])
    paths = export.write(result, tmp_path, figures=("strip", "curves"))
    saved = np.asarray(Image.open(paths["strip"]).convert("RGB"))
    pictures = plots.strip_and_companions(result)
    assert len(pictures) == 3 and pictures[-1].height < pictures[0].height  # strip, change per step, last steps
    assert np.array_equal(saved, np.asarray(plots.stack_pictures(pictures)))
    assert len(plots.strip_and_companions(_explain(RedModel(2), [_ramp()]))) == 2  # one series: no "last steps"
    # The curves say what their thin lines are: each series, with its flips marked on it.
    figure = plots.output_curves(result)
    assert any(text.get_text().startswith("thin lines: the 2 series one by one") for text in figure.legends[0].get_texts())


def test_model_curves_stay_apart_for_colour_blind_readers():
    """The default preset's two biased models were drawn in matplotlib's red and green, solid lines with round
    markers: under deuteranopia their colours were 7 apart (CIE76), one curve to the eye. Each model now has a marker
    of its own, and the first five colours stay at least 15 apart under a simulated deuteranopia and protanopia
    (Machado, Oliveira and Fernandes 2009, severity 1)."""
    from matplotlib.colors import to_rgb
    from skimage.color import rgb2lab

    looks = [plots.model_look(number) for number in range(5)]
    assert len({look["marker"] for look in looks}) == 5 and plots.FLIP_MARKER not in {look["marker"] for look in looks}
    simulations = {
        "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                                  [-0.011820, 0.042940, 0.968881]]),
        "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                                [-0.003882, -0.048116, 1.051998]]),
    }

    def linear(rgb):
        rgb = np.asarray(rgb)
        return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)

    def encoded(rgb):
        rgb = np.clip(rgb, 0, 1)
        return np.where(rgb <= 0.0031308, 12.92 * rgb, 1.055 * rgb ** (1 / 2.4) - 0.055)

    for name, matrix in simulations.items():
        seen = [rgb2lab(encoded(matrix @ linear(to_rgb(look["color"])))[None, None])[0, 0] for look in looks]
        closest = min(np.linalg.norm(a - b) for i, a in enumerate(seen) for b in seen[i + 1:])
        assert closest >= 15, (name, closest)
    figure = plots.output_curves(_explain([RedModel(2), RedModel(5)]))
    markers = [line.get_marker() for line in figure.axes[0].get_lines() if line.get_label()[:1] != "_"]
    assert len(set(markers)) == len(markers) >= 2, markers
