"""The plain-words reading on constructed curves (ramp, step, noise, flat, tiny drift), its thresholds, and
where it shows up (report.json, comparison.json, the command line's printout)."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from propgrad import reading
from propgrad.reading import Thresholds, read_curve
from propgrad.score import permutation_test, prediction_flips

DARKEN = "darkening strength (0 = original, 1 = full)"
VALUES = np.linspace(0, 0.85, 11)


def read(curve, thresholds=None, alpha=0.01, statistic="gradient"):
    """The reading of p(cat) following ``curve``, with the p-value and flips the package computes."""
    curve = np.asarray(curve, dtype=float)
    test = permutation_test(curve, n_permutations=2000, rng=0, statistic=statistic)
    flips = prediction_flips(np.stack([1 - curve, curve], axis=1))
    return read_curve(curve, significant=test.pvalue <= alpha, pvalue=test.pvalue, statistic=statistic,
                      alpha=alpha, flip_steps=flips.flip_steps, values=VALUES[:len(curve)] if len(curve) <= 11
                      else None, property_name=DARKEN if len(curve) <= 11 else "step", output="cat",
                      predicted=[["dog", "cat"][i] for i in flips.predicted], thresholds=thresholds)


def test_a_ramp_is_strong_and_systematic_and_says_where_it_flips():
    result = read(np.linspace(0.05, 0.95, 11))
    assert result.kind == reading.STRONG and result.label == "strong and systematic" and result.tier == "a"
    assert result.text == "p(cat) 0.05 -> 0.95, steady rise, flips to cat at 51 % darker"
    assert result.sentence.startswith("strong and systematic: p(cat) 0.05")
    assert result.shape == reading.STEADY_RISE and result.change == pytest.approx(0.9)


def test_a_late_step_is_abrupt_and_says_the_test_cannot_judge_it():
    curve = np.r_[np.full(10, 1e-6), 0.63]  # the dark-cats model on chelsea's fur: a cat only at 85 % darker
    result = read(curve)
    assert result.kind == reading.ABRUPT and result.tier == "a" and not result.significant
    # Its label says what the test found, as a flip's does: "abrupt" alone read as a finding in the talk view.
    assert result.label == "abrupt, not significant"
    assert result.text == "p(cat) 0.00 -> 0.63 in one step, flips to cat at 85 % darker"
    assert result.jump_step == 10 and result.jump == pytest.approx(0.63 - 1e-6)
    assert "one step carries the change" in result.evidence and "cannot judge it" in result.evidence
    # The flip is placed once, in the sentence; the evidence says only that it happened.
    assert result.evidence.endswith("the prediction flips all the same") and "85 %" not in result.evidence


def test_a_step_without_a_flip_says_how_far_it_jumps():
    result = read(np.r_[np.full(6, 0.6), np.full(5, 0.95)])
    assert result.kind == reading.ABRUPT  # one step carries it all
    assert result.label == ("abrupt" if result.significant else "abrupt, not significant")
    assert "jumps by 0.35 at 51 % darker" in result.text


def test_noise_is_not_significant_and_erratic():
    rng = np.random.default_rng(3)
    result = read(0.3 + 0.01 * rng.standard_normal(11))
    assert result.kind == reading.ERRATIC and result.label == "small, not significant, erratic"
    assert result.tier == "c" and result.shape == reading.IRREGULAR
    assert "flips" not in result.text


def test_noise_that_flips_is_a_flip_not_abrupt():
    result = read([0.45, 0.55, 0.44, 0.56, 0.45, 0.54, 0.46, 0.55, 0.44, 0.56, 0.45])
    assert result.kind == reading.FLIPS and result.tier == "a" and result.shape == reading.IRREGULAR
    assert "and 7 more times" in result.text and "back to dog" in result.text
    once = read([0.45, 0.55, 0.44, 0.56, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45])
    # Four flips are all named: "and once more" would hide the one a reader then asks about.
    assert once.text.count("flips") == 1 and "more" not in once.text and once.text.count(" % darker") == 5
    assert "does not reach alpha = 0.01, so no systematic trend is confirmed" in result.evidence


def test_a_steady_decline_is_never_abrupt():
    # The dark-dogs model, background darkened: p(cat) 0.99 -> 0.48, one flip, p around 0.02.
    curve = np.r_[0.99, 0.985, 0.97, 0.94, 0.9, 0.83, 0.75, 0.66, 0.58, 0.52, 0.48]
    result = read(curve, alpha=1e-9)  # not significant at this alpha
    assert result.shape == reading.STEADY_FALL and result.kind == reading.FLIPS
    # The label says why the row is in tier a: "strong, not significant" alone is also tier c's (no flip).
    assert result.label == "strong, not significant, flips" and "steady fall" in result.text
    assert "flips to dog" in result.text
    assert read(curve).label == "strong and systematic"


def test_a_u_is_u_shaped_never_abrupt():
    t = np.linspace(0, 1, 11)
    for statistic in ("gradient", "correlation", "mutual-information"):
        result = read(0.2 + 0.6 * (2 * t - 1) ** 2, statistic=statistic)
        assert result.shape == reading.U_SHAPED and result.kind != reading.ABRUPT
        assert "U-shaped" in result.text
    assert "cannot see a U shape" in read(0.2 + 0.6 * (2 * t - 1) ** 2, statistic="correlation").evidence
    hump = read(0.2 + 0.6 * (1 - (2 * t - 1) ** 2))
    assert hump.shape == reading.HUMP


def test_a_flat_curve_has_no_measurable_effect():
    result = read(np.full(11, 0.7))
    assert result.kind == reading.NONE and result.label == "no measurable effect" and result.tier == "e"
    assert result.text == "p(cat) 0.70 -> 0.70"
    assert not result.moved


def test_a_tiny_drift_is_systematic_but_negligible():
    result = read(0.3 + np.arange(11) * 4e-5)  # moves 4e-4 in all, perfectly smooth
    assert result.kind == reading.NEGLIGIBLE and result.label == "systematic but negligible" and result.tier == "d"
    assert "too small to matter" in result.evidence
    assert not result.moved


def test_a_small_smooth_trend_is_small_but_systematic():
    result = read(0.6 + np.arange(11) * 0.004)  # moves 0.04 in all
    assert result.kind == reading.SYSTEMATIC and result.tier == "b"


def test_extremes_beyond_start_and_end_are_named():
    curve = np.r_[np.linspace(0.96, 0.05, 6), np.linspace(0.2, 0.92, 5)]
    result = read(curve)
    assert "lowest 0.05 at 43 % darker" in result.text  # 0.425, a half rounded up
    assert "flips to dog at" in result.text and "back to cat at" in result.text
    # The ends alone (0.96 -> 0.92) hid a change of 0.91: the way runs through the extreme.
    assert "0.96 -> 0.05 -> 0.92" in result.text
    # Where the ends carry most of the change they stand alone.
    assert " 0.20 -> 0.90," in read(np.r_[0.2, 0.1, np.linspace(0.3, 0.9, 9)]).text


def test_size_comes_from_the_curve_under_every_statistic():
    ramp = 0.6 + np.arange(11) * 0.004  # moves 0.04 in all
    assert {read(ramp, statistic=s).size for s in ("gradient", "correlation", "mutual-information")} == {"small"}


def test_thresholds_move_the_classes():
    ramp = 0.6 + np.arange(11) * 0.004  # moves 0.04 in all
    assert read(ramp).kind == reading.SYSTEMATIC
    assert read(ramp, Thresholds(strong=0.03)).kind == reading.STRONG
    assert read(ramp, Thresholds(negligible=0.05, strong=0.1)).kind == reading.NEGLIGIBLE


def test_the_default_thresholds_are_set_in_one_place(monkeypatch):
    monkeypatch.delenv(reading.THRESHOLDS_ENV, raising=False)
    assert reading.default_thresholds() == Thresholds()
    monkeypatch.setenv(reading.THRESHOLDS_ENV, "negligible=0.02, strong=0.5")
    assert reading.default_thresholds() == Thresholds(negligible=0.02, strong=0.5)
    try:
        reading.set_default_thresholds(Thresholds(strong=0.95))
        assert reading.default_thresholds().strong == 0.95
        assert read(np.linspace(0.05, 0.95, 11)).kind == reading.FLIPS  # moves 0.9 < 0.95, but flips
    finally:
        reading.set_default_thresholds(None)
    assert reading.default_thresholds().strong == 0.5


@pytest.mark.parametrize("text, words", [("strong=abc", "not a number"), ("loud=1", "NAME=VALUE"),
                                         ("negligible=0.5", "must not exceed"), ("jump_share=0", "(0, 1]"),
                                         ("extreme=-1", ">= 0")])
def test_bad_thresholds_are_named(text, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        Thresholds.parse(text)


# The known answers: constructed curves, n = 11 and 21 steps, every statistic.
def known_curves(n):
    t = np.linspace(0, 1, n)
    return {"ramp": 0.5 * t, "late jump": np.r_[np.zeros(n - 1), 0.6],
            "mid jump": np.where(np.arange(n) >= n // 2, 0.6, 0.0), "U": 0.5 * (2 * t - 1) ** 2,
            "noise": np.random.default_rng(0).normal(0, 0.1, n), "drift": 1e-6 * t, "flat": np.zeros(n)}


@pytest.mark.parametrize("statistic", ["gradient", "correlation", "mutual-information"])
@pytest.mark.parametrize("n", [11, 21])
def test_the_ranking_puts_what_moved_first_for_every_statistic(n, statistic):
    from propgrad.ranking import ranked

    readings = {}
    for name, curve in known_curves(n).items():
        test = permutation_test(curve, n_permutations=2000, rng=0, statistic=statistic)
        readings[name] = read_curve(curve, significant=test.pvalue <= 0.01, pvalue=test.pvalue, statistic=statistic,
                                    output="cat")
    order = ranked(list(readings), readings.get)
    position = {name: order.index(name) for name in order}
    for moved in ("ramp", "late jump", "mid jump"):
        assert position[moved] < position["noise"], (statistic, n, order)
    assert position["noise"] < position["drift"] and position["noise"] < position["flat"]
    if statistic != "correlation":
        assert position["U"] < position["noise"], (statistic, n, order)
    assert readings["late jump"].kind == reading.ABRUPT and "cannot judge it" in readings["late jump"].evidence
    assert readings["drift"].tier == "d" and readings["flat"].tier == "e"


def test_no_shuffle_test_can_confirm_a_single_late_jump():
    # Why no second test sits beside p: a curve flat but for its last step has only n distinct arrangements, so
    # every statistic's shuffle p-value stays at or above 2 / n (0.18 for 11 steps) - the flip is what shows the change.
    # The gradient's floor is higher: its one-sided differences at the ends score the jump at either of the two steps
    # nearest each end alike, 4 of 11 arrangements (a teacher found lesson 1's reading promise "at best p = 0.18"
    # beside the test's 0.36, and a histogram with 37 % of the shuffles at the observed score).
    curve = np.r_[np.zeros(10), 0.6]
    floors = {"gradient": 4 / 11, "correlation": 2 / 11}
    for statistic, floor in floors.items():
        assert reading.best_step_pvalue(11, 10, statistic) == pytest.approx(floor)
    for statistic in ("gradient", "correlation", "mutual-information"):
        best = reading.best_step_pvalue(11, 10, statistic)
        assert best >= 2 / 11 - 1e-12
        # The floor is what the test really gives the most extreme arrangement, which the late jump is.
        assert permutation_test(curve, n_permutations=5000, rng=0, statistic=statistic).pvalue == pytest.approx(
            best, abs=0.02)
    late = reading.read_curve(curve, significant=False, pvalue=0.36, flip_steps=[10], predicted=["dog"] * 10 + ["cat"])
    assert "(at best p = 0.36)" in late.evidence, late.evidence


def test_places_along_the_intervention_in_words():
    assert reading.describe_value(DARKEN, 0.85, 10) == "85 % darker"
    assert reading.describe_value("lightening strength (0 = original, 1 = full)", 0.5, 3) == "50 % lighter"
    assert reading.describe_value("recolour to red: strength (0 = original, 1 = full)", 1.0, 9) == "100 % towards red"
    assert reading.describe_value("patch opacity", 0.3, 3) == "30 % patch opacity"
    assert reading.describe_value("brightness factor", 0.46, 6) == "step 6 (brightness factor 0.46)"
    assert reading.describe_value("blur radius (px)", 4.0, 5) == "step 5 (blur radius 4 px)"


def test_short_names_drop_what_every_model_name_shares():
    names = [f"ConvMixer cats vs dogs, {b} (authors)" for b in ("unbiased", "dark-cats bias")]
    assert list(reading.short_names(names).values()) == ["unbiased", "dark-cats bias"]
    assert reading.short_names(["a", "ab"]) == {"a": "a", "ab": "ab"}  # "" would be left: whole names
    assert reading.short_names(["one model"]) == {"one model": "one model"}


def test_a_paragraph_names_what_moved_which_model_and_what_did_not():
    def made(model, prop, curve):
        return read_curve(np.asarray(curve), significant=True, model=model, property_label=prop, output="cat")

    readings = [made("M unbiased", "fur", np.linspace(0.9, 0.2, 11)), made("M biased", "fur", np.full(11, 0.1)),
                made("M unbiased", "background", np.full(11, 0.9)), made("M biased", "background", np.full(11, 0.1))]
    text = reading.paragraph(readings)
    assert text.startswith("Reading: fur moved p(cat) of unbiased (strong and systematic: p(cat) 0.90 -> 0.20, "
                           "steady fall)")
    assert ", but not measurably that of biased." in text
    assert ". Background did not move p(cat) of any model measurably." in text  # a sentence starts with a capital


# ---------------------------------------------------------------------------------------------------------
# Where the reading shows: report.json, comparison.json, the command line


@pytest.fixture(scope="module")
def explanation():
    from PIL import Image

    import propgrad
    from propgrad.models.bundled import get_model
    from propgrad.paths import ASSETS

    image = Image.open(ASSETS / "examples" / "chelsea.jpg")
    model = get_model("ConvMixer cats vs dogs, dark-cats bias (authors)")
    return propgrad.explain(image, propgrad.ParametricEdit("darken", stop=0.85, steps=6), model,
                            outputs_of_interest="cat", n_permutations=500)


def test_report_json_has_a_reading_per_row(explanation):
    from propgrad.export import explanation as report

    data = report.to_dict(explanation)
    model = data["models"][0]
    assert model["reading"]["class"] in reading.TIER_OF and model["reading"]["text"].startswith("p(cat) ")
    assert model["reading"]["tier"] in "abcde" and model["reading"]["change"] >= 0
    assert model["outputs_of_interest"][0]["reading"] == model["reading"]
    assert data["reading"].startswith("Reading: ")
    json.dumps(data)  # every field serialisable


@pytest.mark.slow
def test_the_command_line_prints_the_reading(tmp_path, capsys):
    from propgrad.cli import main
    from propgrad.paths import ASSETS

    code = main(["explain", str(ASSETS / "examples" / "chelsea.jpg"), "--edit", "darken", "--steps", "4",
                 "--model", "ConvMixer cats vs dogs, unbiased (authors)", "--outputs", "cat", "--permutations",
                 "300", "--out", str(tmp_path), "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    # One row: its reading under it, not again as the paragraph; two rows: both, and the paragraph.
    assert "reading: " in printed and "Reading: " not in printed
    assert json.loads((tmp_path / "report.json").read_text())["models"][0]["reading"]["label"] in printed
    assert main(["explain", str(ASSETS / "examples" / "chelsea.jpg"), "--edit", "darken", "--steps", "4", "--model",
                 "ConvMixer cats vs dogs, unbiased (authors)", "--model", "ConvMixer cats vs dogs, dark-cats bias "
                 "(authors)", "--outputs", "cat", "--permutations", "300", "--out", str(tmp_path / "two"),
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("    reading: ") == 2 and "Reading: " in printed


def test_a_late_jump_is_a_sharp_rise_with_its_place_not_a_steady_one():
    """The dark dog's fur darkened for the unbiased model: flat, then 0.15 -> 0.54 -> 0.95 in the last two steps."""
    curve = [0.04, 0.08, 0.12, 0.11, 0.08, 0.05, 0.06, 0.09, 0.15, 0.54, 0.95]
    result = reading.read_curve(curve, significant=False, pvalue=0.05, flip_steps=[9],
                                values=np.linspace(0, 0.85, 11), property_name="darkening strength", output="cat")
    assert result.shape == reading.SHARP_RISE and "steady" not in result.text
    assert "sharp rise between 68 % darker and 85 % darker" in result.text
    even = reading.read_curve(np.linspace(0.1, 0.9, 11), significant=True, pvalue=0.001)
    assert even.shape == reading.STEADY_RISE
    assert reading.curve_shape(curve[::-1]) == reading.SHARP_FALL


def test_an_abrupt_reading_says_how_much_of_the_change_its_step_carries():
    """The chelsea cat's background darkened: p 0.43 -> 0.58, of which one step made 0.08. "One step carries the
    change" overstated it: the evidence names the share unless the step made nearly all of it."""
    half = reading.read_curve([0.43, 0.45, 0.53, 0.55, 0.56, 0.57, 0.58, 0.58], significant=True, pvalue=0.0004)
    assert half.kind == reading.ABRUPT, half
    assert half.evidence.startswith("one step carries 53 % of the change;"), half.evidence  # 0.08 of 0.15
    whole = reading.read_curve([0.1, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.9], significant=True, pvalue=0.0004)
    assert whole.evidence.startswith("one step carries the change;"), whole.evidence


def test_three_steps_read_as_what_they_are():
    # A new user's 3-step run: p(cat) 0.96, 0.23, 0.92 read "abrupt: 0.96 -> 0.92 in one step" (of two steps one
    # always carries over half). It is a V; a 3-step ramp with an uneven split is still a ramp.
    curve = [0.96, 0.23, 0.92]
    test = permutation_test(np.asarray(curve), n_permutations=2000, rng=0)
    v = read_curve(curve, significant=False, pvalue=float(test.pvalue), flip_steps=[1, 2], values=[0, 0.42, 0.85],
                   property_name=DARKEN, output="cat", predicted=["cat", "dog", "cat"])
    assert v.shape == reading.U_SHAPED and "in one step" not in v.text and v.kind != reading.ABRUPT
    assert reading.curve_shape([0.1, 0.4, 0.9]) == reading.STEADY_RISE


def test_a_small_change_is_placed_not_called_sharp():
    # "small but systematic: ... sharp rise between 0 % and 22 %" for a change of 0.04 read as two opposite claims.
    curve = np.r_[0.96, 0.962, 0.975, 0.99, 0.995, 0.996, 0.997, 0.998, 0.999, 0.999, 0.999]
    result = read_curve(curve, significant=True, pvalue=0.001, values=np.linspace(0, 1, 11),
                        property_name="patch opacity", output="melanoma")
    assert result.size == "small" and result.shape == reading.SHARP_RISE
    assert "rises mostly between" in result.text and "sharp" not in result.text


def test_the_three_step_rule_leaves_longer_curves_to_their_threshold():
    # A tighter jump share set by the user still flags a 4-step curve (the 3-step floor must not loosen it).
    assert reading.curve_shape([0, 0.35, 0.75, 0.8], jump_share=0.4) == reading.ONE_STEP


def test_the_paragraph_names_the_output_only_where_it_is_one():
    ramp = read_curve(np.linspace(0.1, 0.9, 11), significant=True, pvalue=0.001, output="cat")
    flat = read_curve(np.full(11, 0.5), significant=False, pvalue=0.9, output="cat")
    logit = read_curve(np.linspace(-2, 2, 11), significant=True, pvalue=0.001, output="cat", output_kind="score")
    readings = [reading.Reading(**{**vars(r), "model": m, "property_label": "fur"})
                for r, m in ((ramp, "model A"), (flat, "model B"))]
    assert reading.paragraph(readings).startswith("Reading: fur moved p(cat) of A (")
    assert reading.paragraph(readings).endswith(", but not measurably that of B.")
    mixed = readings[:1] + [reading.Reading(**{**vars(logit), "model": "model C", "property_label": "fur"})]
    # A logit is no p(cat); the rows in rank order, as the table under the paragraph has them (C moved 4.0).
    assert reading.paragraph(mixed).startswith("Reading: fur moved the output of C (")
    # A sentence after the first starts with a capital; a name with capitals of its own keeps them.
    second = [reading.Reading(**{**vars(ramp), "model": "model A", "property_label": label})
              for label in ("fur", "background", "iPhone sticker")]
    text = reading.paragraph(second)
    assert ". Background moved p(cat)" in text and ". iPhone sticker moved p(cat)" in text, text


def test_a_rise_after_a_dip_is_not_called_steady():
    # A new user's study: "unbiased: p(cat) 0.33 -> 0.94, steady rise, lowest 0.19 at step 5": the mean curve falls
    # first, by a fifth of its range, and the words contradicted each other.
    curve = [0.33, 0.29, 0.25, 0.21, 0.19, 0.35, 0.5, 0.65, 0.8, 0.94]
    result = read_curve(curve, significant=True, pvalue=0.002)
    assert result.shape == reading.OVERALL_RISE and "steady" not in result.text
    assert "overall rise" in result.text and "lowest 0.19" in result.text
    assert reading.curve_shape(1 - np.asarray(curve)) == reading.OVERALL_FALL
    # A wobble of a twentieth of the range at the start stays steady.
    assert reading.curve_shape([0.33, 0.30, 0.4, 0.5, 0.6, 0.7, 0.8, 0.94]) == reading.STEADY_RISE


def test_printed_ends_do_not_contradict_the_size():
    # Training dynamics, a new user: "0.86 -> 0.96", change 0.095, "small but systematic": the page says strong from
    # 0.1, and the student subtracted the printed ends. The ends get a third decimal where two would cross a threshold.
    result = read_curve(np.linspace(0.8649, 0.9599, 8), significant=True, pvalue=0.001)
    assert result.size == "small" and "0.865 -> 0.960" in result.text
    assert "0.10 -> 0.90" in read_curve(np.linspace(0.1, 0.9, 8), significant=True, pvalue=0.001).text
    assert reading.format_ends(0.5, 0.5051) == ("0.500", "0.505")  # negligible under 0.01, not "0.50 -> 0.51"
    from propgrad.lesions.dynamics import checkpoint_cells

    row = dict(variant="unbiased", epoch=4, reading="small but systematic", output_start=0.8649, output_end=0.9599,
               change_first_to_last=0.095, score=0.03, pvalue=0.001, significant=True, flip_share=0.0)
    assert checkpoint_cells(row)[3] == "0.865 -> 0.960"
    # The change signed, as the record keeps it: "0.54 -> 0.28" beside "0.260" read as a rise.
    assert checkpoint_cells(row)[4] == "+0.095"
    assert checkpoint_cells({**row, "output_start": 0.54, "output_end": 0.28, "change_first_to_last": -0.26})[4] == \
        "-0.260"


class _ManyClasses:
    """60 outputs: the first rises with the image's brightness, the others stay put."""

    name, output_kind = "many", "probability"
    output_names = [f"class {i}" for i in range(60)]

    def predict(self, images):
        bright = np.array([np.asarray(image, dtype=float).mean() / 255 for image in images])
        rest = np.tile(np.linspace(0.001, 0.002, 59), (len(images), 1))
        return np.column_stack([bright, rest])


def test_every_output_of_a_classifier_reads_short_ranked_and_with_its_multiplicity(tmp_path):
    """--outputs all on an ImageNet model printed 2,000 lines, the paragraph named 1,000 classes in class order, and
    440 'significant' outputs came without a word that nothing was adjusted."""
    from PIL import Image

    import propgrad as pg

    image = Image.new("RGB", (48, 48), (120, 120, 120))
    result = pg.explain(image, pg.ParametricEdit("brightness", stop=0.5, steps=6), [_ManyClasses()],
                        outputs_of_interest="all", n_permutations=100, seed=0)
    said = reading.paragraph(result.readings)
    assert said.startswith("Reading: many (class 0) (") and "and 51 more: no measurable effect" in said, said
    assert said.count("many (class ") == 1 + reading.LISTED  # the one that moved, then eight that did not
    note = next(note for note in result.notes if note.startswith("60 outputs of many were tested"))
    assert "about 0.6 would pass by chance alone" in note
    # Fewer outputs, no note: three classes at alpha = 0.01 make a false positive a remote chance.
    few = pg.explain(image, pg.ParametricEdit("brightness", stop=0.5, steps=6), [_ManyClasses()],
                     outputs_of_interest=[0, 1, 2], n_permutations=100, seed=0)
    assert not any("were tested, each at alpha" in note for note in few.notes)
    # A comparison adjusts its rows: the single run's note is not repeated there.
    from propgrad.compare import compare_properties

    compared = compare_properties(image, {"dimmed": pg.ParametricEdit("brightness", stop=0.5, steps=6),
                                          "lit": pg.ParametricEdit("brightness", start=1.0, stop=1.5, steps=6)},
                                  [_ManyClasses()], outputs_of_interest="all", n_permutations=100, seed=0)
    assert not any("were tested, each at alpha" in note for note in compared.notes), compared.notes


def test_flips_over_several_series_are_placed_where_the_series_share_their_steps():
    """The patch tab's three stickers: "flips in 3/3 series" left a reader to find where on the curves; the reading
    says where the first flips fall, when every series has the same property values."""
    curve = [0.9, 0.8, 0.6, 0.4, 0.2, 0.1]
    values = np.linspace(0, 1, 6)
    placed = reading.read_curve(curve, significant=True, pvalue=0.001, flipped_series="3/3", first_flips=[2, 3, 3],
                                values=values, property_name="patch opacity", series=3)
    assert ("flips in 3/3 series, each series' first flip between 40 % patch opacity and 60 % patch opacity"
            in placed.text), placed.text
    one_place = reading.read_curve(curve, significant=True, pvalue=0.001, flipped_series="2/3", first_flips=[3, 3],
                                   values=values, property_name="patch opacity", series=3)
    assert "flips in 2/3 series, each flipping series' first flip at 60 % patch opacity" in one_place.text
    # "each series' first flip" over one flipping series of three read as all three flipping there.
    alone = reading.read_curve(curve, significant=True, pvalue=0.001, flipped_series="1/3", first_flips=[4],
                               values=values, property_name="patch opacity", series=3)
    assert "flips in 1/3 series, its first flip at 80 % patch opacity" in alone.text and "each" not in alone.text
    counted = reading.read_curve(curve, significant=True, pvalue=0.001, flipped_series="3/3", series=3)
    assert "flips in 3/3 series" in counted.text and "first" not in counted.text
    # "flips in 3/3 series" left a reader asking to what: one class in the verb, several named after.
    to_dog = reading.read_curve(curve, significant=True, pvalue=0.001, flipped_series="3/3", first_flips=[2, 3, 3],
                                first_flips_to=["dog", "dog", "dog"], values=values, property_name="patch opacity",
                                series=3)
    assert to_dog.text.endswith("flips to dog in 3/3 series, each series' first flip between 40 % patch opacity and 60 "
                                "% patch opacity"), to_dog.text
    mixed = reading.read_curve(curve, significant=True, pvalue=0.001, flipped_series="2/3", first_flips_to=["dog", "fox"],
                               series=3)
    assert mixed.text.endswith("flips in 2/3 series, first to dog or fox"), mixed.text


def test_a_flip_between_near_equal_classes_is_said_to_be_a_near_tie():
    # EfficientNet-Lite0 on chelsea dimmed (the first tab's ImageNet preset): Egyptian cat and tiger cat trade the
    # top place at 0.389 against 0.388, which "flips to tiger cat" alone told a class was a change of mind.
    outputs = np.array([[0.425, 0.336, 0.239], [0.403, 0.363, 0.234], [0.3883, 0.3890, 0.2227],
                        [0.396, 0.385, 0.219], [0.375, 0.415, 0.210], [0.341, 0.444, 0.215]])
    flips = prediction_flips(outputs)
    assert flips.flip_steps == [2, 3, 4]
    assert flips.margins == pytest.approx([0.0007, 0.011, 0.04])
    names = ["Egyptian cat", "tiger cat", "tabby"]
    result = read_curve(outputs[:, 0], significant=True, pvalue=0.001, flip_steps=flips.flip_steps,
                        flip_margins=flips.margins, output="Egyptian cat",
                        predicted=[names[i] for i in flips.predicted])
    assert ("flips to tiger cat at step 2 in a near tie (ahead by 0.00070), back to Egyptian cat at step 3 in a "
            "near tie (ahead by 0.011), to tiger cat at step 4" in result.text)
    assert result.text.endswith("at step 4")  # a lead of 0.04 is a flip like any other
    # The threshold is the reader's to set, as the others are.
    wide = read_curve(outputs[:, 0], significant=True, pvalue=0.001, flip_steps=flips.flip_steps,
                      flip_margins=flips.margins, output="Egyptian cat", thresholds=Thresholds(near_tie=0.05),
                      predicted=[names[i] for i in flips.predicted])
    assert wide.text.count("near tie") == 3 and read(np.linspace(0.05, 0.95, 11)).text.count("near tie") == 0


def test_a_small_change_whose_every_flip_is_a_near_tie_is_not_read_as_flips():
    # A new user's RGBA cat recoloured: p(tabby) moved by 0.066, "flips ... in a near tie (ahead by 0.012)", and
    # the row stood in tier a, "the output really moved", beside strong changes.
    curve = np.array([0.40, 0.42, 0.44, 0.455, 0.466])
    near = read_curve(curve, significant=False, pvalue=0.2, flip_steps=[3], flip_margins=[0.012], output="tabby")
    assert near.kind == reading.ERRATIC and near.tier == "c" and "in a near tie (ahead by 0.012)" in near.text
    assert read_curve(curve, significant=True, pvalue=0.001, flip_steps=[3], flip_margins=[0.012],
                      output="tabby").tier == "b"  # small but systematic, as without the flip
    # A clear flip still counts, and so does a near tie on a strong change.
    clear = read_curve(curve, significant=False, pvalue=0.2, flip_steps=[3], flip_margins=[0.3], output="tabby")
    assert clear.kind == reading.FLIPS and clear.tier == "a"
    strong = read_curve(curve * 2 - 0.4, significant=False, pvalue=0.2, flip_steps=[3], flip_margins=[0.012],
                        output="tabby")
    assert strong.kind == reading.FLIPS and strong.tier == "a"


def test_a_single_column_flip_margin_is_its_two_column_lead():
    flips = prediction_flips(np.array([0.2, 0.49, 0.505, 0.9]))
    assert flips.flip_steps == [2] and flips.margins == pytest.approx([0.01])
    assert flips.margin_at(2) == pytest.approx(0.01) and flips.margin_at(1) is None


def test_a_near_tie_is_between_the_two_classes_a_flip_names():
    # cat falls while dog and fox stay level: the flip from cat to dog is decisive, whatever dog's lead over fox.
    outputs = np.array([[0.5, 0.26, 0.24], [0.36, 0.33, 0.31], [0.10, 0.4500, 0.4492]])
    flips = prediction_flips(outputs)
    assert flips.flip_steps == [2] and flips.margins == pytest.approx([0.35])
    result = read_curve(outputs[:, 0], significant=True, pvalue=0.001, flip_steps=[2], flip_margins=flips.margins,
                        output="cat", predicted=[["cat", "dog", "fox"][i] for i in flips.predicted])
    assert "near tie" not in result.text


def test_a_near_tie_is_said_of_probabilities_only():
    from propgrad.reading import flips_text

    similarities = np.array([[0.30, 0.29], [0.295, 0.2955], [0.28, 0.29]])  # cosine similarities: 0.0005 means nothing
    flips = prediction_flips(similarities)
    assert flips_text([flips], ["a", "b"], "probability").endswith("(near tie)")
    assert "near tie" not in flips_text([flips], ["a", "b"], "score")
    assert "near tie" not in flips_text([flips], ["a", "b"], "probability", Thresholds(near_tie=0.0001))


def test_a_spike_undone_at_once_reads_as_one_in_one_precision():
    # "abrupt: p(coffee mug) 0.000 -> 0.50 -> 0.006 in one step" over a curve that rose and fell again.
    spike = reading.read_curve([0.0, 0.5, 0.04, 0.006], significant=False, pvalue=0.3, output="coffee mug")
    assert spike.shape == "hump-shaped" and "in one step" not in spike.text and spike.kind != "abrupt"
    assert "0.000 -> 0.500 -> 0.006" in spike.text, spike.text


def test_the_paragraph_names_a_negligible_drift_as_its_row_does():
    # "drift and constant: no measurable effect" stood under a row reading "systematic but negligible" for the drift.
    from PIL import Image

    from propgrad.explain import explain
    from propgrad.interventions import ParametricEdit
    from propgrad.reading import paragraph
    from toy_models import Constant, Drift, Flip

    image = Image.fromarray(np.full((32, 32, 3), 200, dtype=np.uint8))
    result = explain(image, ParametricEdit("darken", stop=0.8, steps=8), [Flip(), Drift(), Constant()],
                     outputs_of_interest="a", n_permutations=500, seed=0)
    assert [one.label for one in result.readings[1:]] == ["systematic but negligible", "no measurable effect"]
    text = paragraph(result.readings)
    assert "drift: systematic but negligible" in text and "constant: no measurable effect" in text, text


def test_the_multiplicity_note_counts_every_models_tests_together():
    # At alpha = 0.5 four models of one output each got the note four times, "about 0.5 would pass" each.
    from PIL import Image

    from propgrad.explain import explain
    from propgrad.interventions import ParametricEdit
    from toy_models import Constant, Drift, Flip, Redness

    image = Image.fromarray(np.full((32, 32, 3), 200, dtype=np.uint8))
    result = explain(image, ParametricEdit("darken", stop=0.8, steps=8), [Flip(), Drift(), Constant(), Redness()],
                     outputs_of_interest=[0], n_permutations=200, seed=0, alpha=0.5)
    notes = [note for note in result.notes if "were tested, each at alpha" in note]
    assert len(notes) == 1 and notes[0].startswith("4 outputs of 4 models (flip, drift, constant and redness)"), notes
    assert "about 2 would pass by chance alone" in notes[0]


def test_a_late_jump_after_a_tiny_drift_is_not_called_systematic():
    # Under the correlation a drift of 1e-5 before a last-step jump made the test pass (p = 0.0005): the reading said
    # "finds it systematic" of the jump, which alone could not pass (two levels: at best p = 0.18); flat, it said
    # "cannot judge it".
    from propgrad.reading import read_curve

    curve = np.append(0.90025 - 1e-6 * np.arange(10), 0.0)
    said = read_curve(curve, significant=True, pvalue=0.0005, statistic="correlation", output="a")
    assert said.kind == "abrupt" and "finds it systematic" not in said.evidence
    assert ("finds an order, but not the jump's: a change in one step this near an end of the series could not pass "
            "alone (at best p = 0.18), and the other steps move the output by only 9.0e-06 in all") in said.evidence
    # A jump in the middle passes alone: the test confirms it.
    middle = np.append(np.full(6, 0.9) - 1e-6 * np.arange(6), np.full(5, 0.0))
    assert "finds it systematic" in read_curve(middle, significant=True, pvalue=0.0005, statistic="correlation",
                                               output="a").evidence


def test_outputs_that_are_not_probabilities_have_their_size_words_qualified():
    # A raw score's fall from 1.00 to 0.89 read "strong", as ten percentage points would, with nothing to say so.
    from PIL import Image

    from propgrad.explain import explain
    from propgrad.interventions import ParametricEdit
    from toy_models import Flip

    class Raw(Flip):
        name, output_kind = "raw", "similarity"

    image = Image.fromarray(np.full((32, 32, 3), 200, dtype=np.uint8))
    edit = ParametricEdit("darken", stop=0.8, steps=8)
    mixed = explain(image, edit, [Raw(), Flip()], outputs_of_interest="a", n_permutations=100, seed=0)
    assert ("the outputs of raw are not probabilities: the size words (negligible under 0.01, strong from 0.1) are a "
            "probability's, read on that model's own scale, where 0.1 need not be much") in mixed.notes
    assert explain(image, edit, [Flip()], outputs_of_interest="a", n_permutations=100, seed=0).scale_note is None


def test_a_paragraph_where_nothing_moved_still_names_a_systematic_drift():
    from PIL import Image

    from propgrad.explain import explain
    from propgrad.interventions import ParametricEdit
    from propgrad.reading import paragraph
    from toy_models import Constant, Drift

    image = Image.fromarray(np.full((32, 32, 3), 200, dtype=np.uint8))
    result = explain(image, ParametricEdit("darken", stop=0.8, steps=8), [Drift(), Constant()],
                     outputs_of_interest="a", n_permutations=500, seed=0)
    assert paragraph(result.readings) == ("Reading: no model moved measurably; drift: systematic but negligible; "
                                          "constant: no measurable effect.")


def test_an_extreme_that_makes_the_change_differ_from_the_ends_is_named():
    # "p(cat) 0.40 -> 0.56" beside a change of 0.18: the 0.58 the change was taken from went unnamed (it was 0.02 past
    # the end, under the fixed 0.05).
    said = reading.read_curve([0.40, 0.45, 0.50, 0.58, 0.56], significant=True, pvalue=0.001, output="cat")
    assert said.change == pytest.approx(0.18) and "highest 0.58 at step 3" in said.text, said.text
    # A large change keeps the fixed limit: 0.04 past the end of a change of 0.9 is not worth a clause.
    large = reading.read_curve([0.04, 0.5, 0.94, 0.90], significant=True, pvalue=0.001, output="cat")
    assert "highest" not in large.text, large.text


def test_a_curve_that_swings_is_read_through_its_extremes():
    # The unbiased model's p(cat) under rotation: down to 0.005, back to 0.979, down to 0.062. "0.96 -> 0.06" and
    # "down by 0.97" hid the return; a curve that crosses the middle of its range three times swings.
    curve = [0.957, 0.95, 0.69, 0.005, 0.05, 0.01, 0.02, 0.85, 0.979, 0.96, 0.062]
    said = reading.read_curve(curve, significant=False, pvalue=0.9, output="cat")
    assert said.text.startswith("p(cat) 0.96 -> 0.01 -> 0.98 -> 0.06"), said.text
    assert said.swings == 3 and said.direction == "back and forth"
    # The dark-dogs model under rotation: a second dip, from 0.99 to 0.48, stays in the upper two thirds of the range;
    # turns between the thirds read it "down and back" through "0.99 -> 0.03 -> 0.93", four flips beside it.
    second = reading.read_curve([0.99, 1.0, 1.0, 0.93, 0.98, 0.03, 0.43, 0.99, 0.87, 0.48, 0.93], significant=False,
                                pvalue=0.5, output="cat")
    assert second.text.startswith("p(cat) 0.99 -> 0.03 -> 0.99 -> 0.48 -> 0.93"), second.text
    assert second.direction == "back and forth"
    # Noise under a third of the range is no turn: a fall with a wobble stays "down".
    wobble = reading.read_curve([0.9, 0.7, 0.75, 0.5, 0.55, 0.3, 0.1], significant=True, pvalue=0.001, output="cat")
    assert wobble.direction == "down" and wobble.swings == 1
    # A fall that keeps most of its change is "down", however it got there; a table's ends name the extreme the change
    # was taken from ("p(espresso) 0.90 -> 0.27" beside a change of 0.86).
    fall = reading.read_curve([0.96, 0.002, 0.107], significant=False, output="cat")
    assert fall.direction == "down"
    hue = reading.read_curve([0.90, 0.7, 0.4, 0.1, 0.04, 0.2, 0.27], significant=False, output="espresso")
    assert hue.ends == "p(espresso) 0.90 -> 0.04 -> 0.27" and hue.direction == "down and partly back"


def test_an_output_pinned_at_zero_says_it_had_no_room_to_fall():
    # The dark-cats model gives chelsea p(cat) 0.00: "no measurable effect" of the background read as evidence that it
    # ignores the background, where its output could not fall.
    pinned = reading.read_curve(np.full(11, 2e-6) + np.linspace(0, 1e-6, 11), significant=False, pvalue=0.4,
                                output="cat")
    assert pinned.kind == reading.NONE and pinned.evidence == "the output starts at 0.00, so only a rise could show"
    middle = reading.read_curve(np.full(11, 0.5) + np.linspace(0, 1e-6, 11), significant=False, output="cat")
    assert middle.evidence == ""
    raw = reading.read_curve(np.full(11, 2e-6), significant=False, output="cat", output_kind="score")
    assert "starts at" not in raw.evidence
