"""The gradualness check: ordered series pass, scrambled or jumping ones are flagged, for every kind."""
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from propgrad.explain import explain
from propgrad.gradualness import GradualnessCriteria, _average_ranks, _rank_correlation, assess, summary_line
from propgrad.interventions import Frames, ParametricEdit, PatchBlend, Region
from propgrad.models.base import Model

REPO = Path(__file__).resolve().parents[1]
FRAMES = sorted((REPO / "assets" / "turntable").glob("mug_*.png"))
CAT = REPO / "assets" / "examples" / "chelsea.jpg"


class MeanRed(Model):
    """A one-output 'model': the mean red channel, enough to run explain without weights."""

    name = "mean red"
    output_names = ["red"]
    output_kind = "similarity"

    def predict(self, images):
        return np.array([[np.asarray(im.convert("RGB"), dtype=float)[..., 0].mean() / 255] for im in images])


def _frames():
    return [Image.open(p).convert("RGB") for p in FRAMES]


def test_turntable_in_order_is_gradual_and_shuffled_is_flagged():
    frames = _frames()
    assert len(frames) == 36
    in_order = assess(frames)
    assert in_order.gradual, in_order.reason
    order = np.random.default_rng(0).permutation(len(frames))
    shuffled = assess([frames[i] for i in order])
    assert not shuffled.gradual
    # In the words of the "yes" lines: the same measure, named alike, with its limit.
    assert "the change from step 0 does not grow steadily (rank correlation" in shuffled.reason
    assert "as much as shuffled ones, where an ordered series stays at most 75 %" in shuffled.reason
    assert shuffled.order_ratio > 0.9 > 0.75 > in_order.order_ratio


def test_parametric_and_patch_series_are_gradual():
    image = Image.open(CAT).convert("RGB").resize((96, 64))
    for intervention in (ParametricEdit("brightness", stop=0.2, steps=8), ParametricEdit("hue", steps=6),
                         PatchBlend([REPO / "assets" / "patches" / "rainbow_disc.png"], steps=8)):
        for series in intervention.series(image):
            result = assess(series.images)
            assert result.gradual, (intervention, result.reason)
            # Hue turns full circle and comes back towards the input: gradual by its order, not monotone.
            assert result.rho == pytest.approx(1.0) or "hue" in intervention.name
            assert result.outside_change is None


def test_region_edit_reports_no_change_outside_the_mask():
    image = Image.open(CAT).convert("RGB").resize((64, 48))
    mask = np.zeros((48, 64), dtype=np.float32)
    mask[10:30, 20:50] = 1
    region = Region(ParametricEdit("darken", stop=0.8, steps=6), mask)
    series = region.series(image)[0]
    result = assess(series.images, series.mask)
    assert result.gradual
    assert result.outside_change == pytest.approx(0.0, abs=1e-6)
    # The same images judged with a mask that leaves out the edited part see the change outside it.
    assert assess(series.images, 1 - mask).outside_change > 1


def test_a_knob_that_acts_in_one_step_and_a_constant_series_are_flagged():
    dark, bright = Image.new("RGB", (16, 16), (20, 20, 20)), Image.new("RGB", (16, 16), (220, 220, 220))
    threshold = assess([dark] * 6 + [bright] * 2)
    assert not threshold.gradual and "one step" in threshold.reason
    assert threshold.jump_share == pytest.approx(1.0)
    constant = assess([dark] * 5)
    assert not constant.gradual and "hardly change" in constant.reason
    assert np.isnan(constant.rho)


def test_thresholds_are_a_knob():
    frames = _frames()
    assert not assess(frames, criteria=GradualnessCriteria(max_order_ratio=0.3)).gradual
    ramp = [Image.new("RGB", (8, 8), (v, v, v)) for v in (0, 10, 20, 30, 200)]
    assert not assess(ramp).gradual  # 170 of 200 in the last step
    assert assess(ramp, criteria=GradualnessCriteria(max_jump_share=0.9)).gradual
    with pytest.raises(ValueError, match="`min_rho` must be a number in"):
        GradualnessCriteria(min_rho=2)
    with pytest.raises(ValueError, match="`images` must be at least 3"):
        assess(ramp[:2])


def test_same_inputs_same_figures():
    frames = _frames()[::3]
    a, b = assess(frames, seed=1), assess(frames, seed=1)
    assert a.order_ratio == b.order_ratio and np.array_equal(a.change, b.change)


@pytest.mark.slow
def test_explanation_report_and_summary_carry_the_verdict(tmp_path):
    from propgrad.export import explanation as report

    frames = _frames()
    order = np.random.default_rng(0).permutation(len(frames))
    for paths in ([str(FRAMES[i]) for i in range(0, 36, 2)], [str(FRAMES[i]) for i in order[:18]]):
        result = explain(None, Frames(paths, sort_by_name=False), MeanRed(), n_permutations=50)
        written = report.write_report(result, tmp_path / str(len(list(tmp_path.iterdir()))))
        data = json.loads(written["json"].read_text())
        assert isinstance(data["series_gradualness"][0]["gradual"], bool)
        assert data["all_series_gradual"] == result.gradual == data["series_gradualness"][0]["gradual"]
        assert written["gradualness"].is_file()
        assert summary_line(result.gradualness).startswith("gradual: ")
        # The page warns as the app does where a series is not gradual (both frame orders here are not).
        assert not result.gradual and "<b>Warning:</b> a series that is not gradual" in written["html"].read_text()
    gradual = explain(frames[0], ParametricEdit("darken", steps=6), MeanRed(), n_permutations=50)
    page = report.write_report(gradual, tmp_path / "gradual")["html"].read_text()
    assert gradual.gradual and "Warning:" not in page


def _grey_steps(levels):
    return [Image.new("RGB", (8, 8), (int(v), int(v), int(v))) for v in levels]


@pytest.mark.parametrize("levels, gradual", [
    (np.linspace(0, 200, 10), True),                            # even steps
    (np.r_[np.full(5, 20), np.linspace(40, 200, 5)], False),     # five identical steps, then five even ones
    (np.r_[np.full(7, 20), np.linspace(60, 200, 3)], False),     # seven identical, then three
    (np.r_[20, 20, np.linspace(40, 200, 8)], True),              # one still step in ten: a slow start passes
])
def test_a_threshold_knob_shows_as_still_steps(levels, gradual):
    result = assess(_grey_steps(levels))
    assert result.gradual is gradual, (result.reason, result.still_share)
    if not gradual:
        assert "change (almost) nothing" in result.reason and result.still_share > 0.25


def test_rank_correlation_gives_scipys_spearman_exactly():
    from scipy.stats import rankdata, spearmanr

    rng = np.random.default_rng(2)
    for _ in range(200):
        # Rounded values make ties (a still step repeats its neighbour's change).
        values = rng.random(int(rng.integers(2, 40))).round(int(rng.integers(1, 4)))
        steps = np.arange(values.size)
        np.testing.assert_array_equal(_average_ranks(values), rankdata(values))
        expected = spearmanr(steps, values).statistic if np.ptp(values) > 0 else np.nan
        np.testing.assert_array_equal(_rank_correlation(steps, values), expected)
    assert np.isnan(_rank_correlation([0, 1, 2], [1.0, 1.0, 1.0]))
    assert np.isnan(_rank_correlation([0, 1, 2], [1.0, np.nan, 2.0]))
    assert _rank_correlation([0, 1, 2, 3], [0.0, 0.2, 0.1, 0.9]) == pytest.approx(0.8)


def test_three_even_steps_are_gradual():
    # Of a 3-step series' two steps one always holds about half the change: a linear darkening in 3 steps was
    # flagged "53 % of the change happens in one step", blaming the edit for the step count.
    image = Image.radial_gradient("L").convert("RGB")
    series = ParametricEdit("darken", stop=0.85, steps=3).series(image)[0]
    assert assess(series.images).gradual
    jump = [Image.new("RGB", (8, 8), (v, v, v)) for v in (0, 10, 200)]
    assert not assess(jump).gradual and "one step" in assess(jump).reason


def test_a_tighter_jump_limit_still_binds_at_four_steps():
    greys = [Image.new("RGB", (8, 8), (v, v, v)) for v in (0, 40, 80, 150)]
    assert not assess(greys, criteria=GradualnessCriteria(max_jump_share=0.3)).gradual


def test_the_verdict_reads_in_words_for_one_series_and_counts_several():
    # "gradual: 1/1 series" read as a code to a new user.
    ramp = [Image.new("RGB", (8, 8), (v, v, v)) for v in range(0, 200, 20)]
    jump = [Image.new("RGB", (8, 8), (0, 0, 0))] * 9 + [Image.new("RGB", (8, 8), (255, 255, 255))]
    assert summary_line([assess(ramp)]).startswith("gradual: yes (the image change grows with the step")
    assert summary_line([assess(jump)]).startswith("gradual: NO, ")
    assert summary_line([assess(ramp), assess(ramp)]).startswith("gradual: 2 of 2 series (")
    assert summary_line([assess(ramp), assess(jump)]).startswith("gradual: 1 of 2 series; NOT gradual: ")


def test_a_region_edits_verdict_closes_its_brackets_once():
    # It ended "about 2.3 is just visible))": the region's own brackets inside the line's.
    ramp = [Image.new("RGB", (8, 8), (v, v, v)) for v in range(0, 200, 20)]
    mask = np.zeros((8, 8), dtype=bool)
    mask[2:6, 2:6] = True
    line = summary_line([assess(ramp, mask=mask)])
    assert "just visible" in line and line.endswith(")") and not line.endswith("))")
    assert line.count("(") == line.count(")")


def test_a_region_edit_that_leaves_the_rest_untouched_says_so_in_words():
    # "outside the region the colours change by 0 in colour difference Delta E, where about 2.3 is just visible" read
    # as a sentence cut short.
    mask = np.zeros((8, 8), dtype=bool)
    mask[2:6, 2:6] = True
    inside_only = []
    for v in range(0, 200, 20):
        array = np.zeros((8, 8, 3), dtype=np.uint8)
        array[mask] = v
        inside_only.append(Image.fromarray(array))
    line = summary_line([assess(inside_only, mask=mask)])
    assert "outside the region the colours do not change at all" in line and "Delta E" not in line
    assert line.count("(") == line.count(")")


def test_a_rotation_that_comes_back_is_not_said_to_grow():
    # A new user's turntable (the mug's full turn, rank correlation 0.45) read "the image change grows with the
    # step": it comes back to where it began. Accepted by its order, it says so.
    frames = [Image.open(path).convert("RGB") for path in FRAMES]
    if len(frames) < 10:
        pytest.skip("the turntable frames are not in assets/")
    line = summary_line([assess(frames)])
    assert line.startswith("gradual: yes (neighbouring steps differ ")
    assert "does not grow steadily" in line and "grows with the step:" not in line
    assert "as much as shuffled ones, where an ordered series stays at most 75 %, though" in line
    assert line.count("(") == line.count(")") == 1


def test_a_value_near_its_limit_is_written_apart_from_it():
    # Reviewer: rho 0.897 read "0.90, under 0.9"; a ratio of 0.7549 "75 %" beside "at most 75 %".
    from propgrad.gradualness import _beside

    assert _beside(0.897, 0.9) == "0.897" and _beside(0.57, 0.9) == "0.57"
    assert _beside(0.7549, 0.75, percent=True) == "75.5 %" and _beside(0.91, 0.75, percent=True) == "91 %"


def test_three_steps_say_the_raised_limit_that_let_their_largest_step_pass():
    """"the largest step makes 56 % of the change" beside --help's 0.5 read as a slip: the 3-step limit is said."""
    three = [Image.new("RGB", (8, 8), (v, v, v)) for v in (0, 90, 200)]
    assert summary_line([assess(three)]).endswith("of the change, under the limit of 75 % at 3 steps)")
    ten = [Image.new("RGB", (8, 8), (v, v, v)) for v in range(0, 200, 20)]
    assert "limit" not in summary_line([assess(ten)])
