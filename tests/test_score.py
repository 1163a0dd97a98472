"""The score, shuffle test, correlation and flips, checked against plain loops written here."""
import numpy as np
import pytest
from PIL import Image

import propgrad as pg

from propgrad import permutation_test, prediction_flips, property_gradient, step_correlation


# --- reference implementations, deliberately naive ---------------------------------------------
def loop_gradient(y):
    n = len(y)
    total = abs(y[1] - y[0]) + abs(y[n - 1] - y[n - 2])
    for i in range(1, n - 1):
        total += abs((y[i + 1] - y[i - 1]) / 2.0)
    return total / n


def loop_permutation_pvalue(y, n_permutations, rng):
    observed = loop_gradient(y)
    null = []
    for _ in range(n_permutations):
        null.append(loop_gradient([y[i] for i in rng.permutation(len(y))]))
    centre = sum(null) / len(null)
    extreme = sum(abs(t - centre) >= abs(observed - centre) - 1e-12 for t in null)
    return observed, (1 + extreme) / (n_permutations + 1), np.array(null)


def loop_pearson(y):
    x = list(range(len(y)))
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / (sxx * syy) ** 0.5


# --- property gradient --------------------------------------------------------------------------
@pytest.mark.parametrize("steps", [3, 4, 17, 100])
def test_gradient_matches_loop_and_numpy(steps):
    y = np.random.default_rng(steps).random((steps, 5))
    score = property_gradient(y)
    assert score.shape == (5,)
    for column in range(5):
        assert score[column] == pytest.approx(loop_gradient(list(y[:, column])), abs=1e-12)
        assert score[column] == pytest.approx(np.abs(np.gradient(y[:, column])).mean(), abs=1e-12)


def test_gradient_of_linear_ramp_is_its_slope():
    assert property_gradient(np.linspace(0, 0.9, 10)) == pytest.approx(0.1)
    assert isinstance(property_gradient([0.0, 0.5, 1.0]), float)


def test_constant_series_scores_zero_and_p_one():
    result = permutation_test(np.full(12, 0.7), n_permutations=500, rng=0)
    assert result.statistic == 0.0
    assert result.pvalue == 1.0
    columns = permutation_test(np.full((12, 3), 0.2), n_permutations=200, rng=0)
    np.testing.assert_array_equal(columns.pvalue, [1.0, 1.0, 1.0])


# --- shuffle test ---------------------------------------------------------------------------------
def test_permutation_test_null_matches_loop_distribution():
    """Same observed score; p-values and null moments agree with an independent loop."""
    y = np.sin(np.linspace(0, 3, 25)) + np.random.default_rng(1).normal(0, 0.3, 25)
    vectorised = permutation_test(y, n_permutations=4000, rng=3)
    observed, p_loop, null_loop = loop_permutation_pvalue(list(y), 4000, np.random.default_rng(4))
    assert vectorised.statistic == pytest.approx(observed, abs=1e-12)
    assert vectorised.null_distribution.mean() == pytest.approx(null_loop.mean(), rel=0.02)
    assert vectorised.null_distribution.std() == pytest.approx(null_loop.std(), rel=0.08)
    assert vectorised.pvalue == pytest.approx(p_loop, abs=0.03)


def test_null_scores_are_scores_of_real_permutations():
    """Every null value is the score of some reordering: same multiset of values, recomputed by loop."""
    y = np.random.default_rng(0).random(6)
    result = permutation_test(y, n_permutations=300, rng=1)
    import itertools

    all_scores = {round(loop_gradient([y[i] for i in order]), 12) for order in itertools.permutations(range(6))}
    assert {round(v, 12) for v in result.null_distribution} <= all_scores


def test_pvalue_formula_uses_plus_one_and_two_sided_distance():
    y = np.random.default_rng(5).random((30, 4))
    result = permutation_test(y, n_permutations=999, rng=2)
    null = result.null_distribution
    centre = null.mean(axis=0)
    expected = (1 + (np.abs(null - centre) >= np.abs(result.statistic - centre) - 1e-12).sum(axis=0)) / 1000
    np.testing.assert_allclose(result.pvalue, expected)
    assert np.all(result.pvalue >= 1 / 1000)


def test_smooth_sigmoid_is_significant_and_below_null():
    x = np.linspace(-6, 6, 30)
    result = permutation_test(1 / (1 + np.exp(-x)), n_permutations=10_000, rng=0)
    assert result.pvalue == pytest.approx(1 / 10_001)
    assert result.statistic < result.null_distribution.min()
    assert permutation_test(1 / (1 + np.exp(-x)), alternative="less", n_permutations=999, rng=0).pvalue == 0.001


def test_step_function_is_significant():
    y = np.r_[np.zeros(15), np.ones(15)]
    assert permutation_test(y, n_permutations=2000, rng=0).pvalue < 0.01


def test_pure_noise_is_not_significant_on_average():
    rng = np.random.default_rng(11)
    pvalues = [permutation_test(rng.normal(size=40), n_permutations=500, rng=i).pvalue for i in range(40)]
    # Under the null, p is roughly uniform: few below alpha, median near one half.
    assert np.mean(np.array(pvalues) <= 0.01) <= 0.1
    assert 0.25 < np.median(pvalues) < 0.75


def test_columns_are_tested_independently():
    x = np.linspace(-5, 5, 25)
    noise = np.random.default_rng(3).random(25)
    result = permutation_test(np.c_[1 / (1 + np.exp(-x)), noise, np.ones(25)], n_permutations=2000, rng=0)
    assert result.pvalue[0] < 0.01 and result.pvalue[1] > 0.01 and result.pvalue[2] == 1.0
    assert result.null_distribution.shape == (2000, 3)


def test_same_seed_same_result_and_generator_accepted():
    y = np.random.default_rng(0).random((20, 3))
    a = permutation_test(y, n_permutations=300, rng=42)
    b = permutation_test(y, n_permutations=300, rng=np.random.default_rng(42))
    np.testing.assert_array_equal(a.null_distribution, b.null_distribution)
    np.testing.assert_array_equal(a.pvalue, b.pvalue)


def test_long_series_with_many_outputs_takes_the_blockwise_path():
    """Past the pair-table size the direct path runs; both must agree on the same permutations."""
    from propgrad import score

    y = np.random.default_rng(2).random((40, 7))
    table = permutation_test(y, n_permutations=700, rng=9)
    saved = score._TABLE_ELEMENTS
    score._TABLE_ELEMENTS = 0
    try:
        direct = permutation_test(y, n_permutations=700, rng=9)
    finally:
        score._TABLE_ELEMENTS = saved
    np.testing.assert_allclose(table.null_distribution, direct.null_distribution, atol=1e-12)


def test_several_series_average_their_scores():
    rng = np.random.default_rng(0)
    stacked = rng.random((3, 15, 2))
    result = permutation_test(stacked, n_permutations=200, rng=0)
    expected = np.mean([property_gradient(s) for s in stacked], axis=0)
    np.testing.assert_allclose(result.statistic, expected)


@pytest.mark.parametrize(
    "outputs, kwargs, message",
    [
        ([0.1, 0.2], {}, "at least 3 steps"),
        ([0.1, np.nan, 0.3], {}, "NaN"),
        (np.zeros((2, 2, 2, 2)), {}, "shape"),
        ([0.1, 0.2, 0.3], {"n_permutations": 0}, "n_permutations"),
        ([0.1, 0.2, 0.3], {"alternative": "bigger"}, "alternative"),
        ([0.1, 0.2, 0.3], {"rng": "seed"}, "rng"),
    ],
)
def test_bad_input_names_the_argument(outputs, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        permutation_test(outputs, **kwargs)


def test_non_numeric_outputs_raise_type_error():
    with pytest.raises(TypeError, match="outputs"):
        property_gradient(["a", "b", "c"])


# --- correlation and flips ---------------------------------------------------------------------------
def test_step_correlation_matches_loop():
    y = np.random.default_rng(7).random(20)
    assert step_correlation(y) == pytest.approx(loop_pearson(list(y)))
    assert np.isnan(step_correlation(np.ones(5)))


def test_prediction_flips_multiclass_and_binary():
    probabilities = [[0.8, 0.1, 0.1], [0.4, 0.5, 0.1], [0.3, 0.6, 0.1], [0.5, 0.2, 0.3]]
    flips = prediction_flips(probabilities)
    assert flips.flip_steps == [1, 3] and flips.n_flips == 2 and flips.flipped
    assert list(flips.predicted) == [0, 1, 1, 0] and not flips.changed_from_original
    binary = prediction_flips([0.9, 0.7, 0.4, 0.2])
    assert binary.flip_steps == [2] and binary.changed_from_original
    assert not prediction_flips([[0.6, 0.4]] * 5).flipped


def test_a_table_whose_adjusted_floor_is_above_alpha_checked_against_the_adjustment():
    # The note's arithmetic against the adjustment itself: with the permutations it asks for, a lone effect at the
    # floor passes; with one fewer it cannot, and the note is there. Under Benjamini-Hochberg it counts how many rows
    # at the floor pass together (uncapped: 102 rows with 50 permutations need 40, not the 20 a capped p gives).
    from propgrad.checks import too_few_permutations_for_table as note
    from propgrad.statistics import adjust_pvalues

    for rows, alpha in ((102, 0.01), (6, 0.05), (40, 0.001)):
        few = round(1 / alpha)  # the floor reaches alpha for one test, not for the table
        enough = int(note(rows, few, alpha, "holm", 0).rsplit("use at least ", 1)[1].split(" ")[0].replace(",", ""))
        for permutations, passes in ((enough, True), (enough - 1, False)):
            lone = [1 / (permutations + 1)] + [0.5] * (rows - 1)
            for method in ("holm", "bh"):
                assert (adjust_pvalues(lone, method)[0] <= alpha) == passes
                assert (note(rows, permutations, alpha, method, 0) is None) == passes
    assert "at least 40 are that strong" in note(102, 50, 0.05, "bh", 0)
    floor = [1 / 51] * 40 + [0.5] * 62
    assert (adjust_pvalues(floor, "bh")[:40] <= 0.05).all() and not (adjust_pvalues(floor[1:] + [0.5], "bh") <= 0.05).any()
    assert note(102, 50, 0.05, "bh", 3) is None  # rows passed together: nothing to say
    # No row at the floor: the shuffles found every effect weaker, so more permutations would not help (Holm's note
    # stays: with these settings nothing could pass).
    assert note(102, 50, 0.05, "bh", 0, smallest_pvalue=0.3) is None
    assert note(102, 50, 0.05, "bh", 0, smallest_pvalue=1 / 51) is not None
    assert note(102, 50, 0.05, "holm", 0, smallest_pvalue=0.3) is not None


def test_a_shuffle_test_too_small_to_reach_alpha_is_said():
    # The smallest p-value is 1 / (permutations + 1): 5 permutations cannot make anything significant at 0.01, and a
    # run that says "no effect" on every row must say why.
    from propgrad.checks import too_few_permutations

    steps = np.linspace(0, 1, 6)
    ramp = np.stack([steps, 1 - steps], axis=1)
    result = permutation_test(ramp, n_permutations=5, rng=0)
    assert result.pvalue.min() == pytest.approx(1 / 6)  # the floor the note names
    assert too_few_permutations(5, 0.01) == ("with 5 permutations the smallest p-value is 0.167, above alpha = 0.01: "
                                             "nothing can come out significant; use at least 99 permutations")
    assert too_few_permutations(99, 0.01) is None and too_few_permutations(98, 0.01) is not None

    image = Image.new("RGB", (32, 32), (200, 150, 100))
    few = pg.explain(image, pg.ParametricEdit("darken", steps=8), [Mean()], n_permutations=5, seed=0)
    assert too_few_permutations(5, 0.01) in few.notes
    enough = pg.explain(image, pg.ParametricEdit("darken", steps=8), [Mean()], n_permutations=299, seed=0)
    assert not [note for note in enough.notes if "permutations" in note]


def test_short_series_have_too_few_orders_for_alpha():
    # A series has n! orders and scores as its reverse does: its best p is about 2 / n! however many permutations
    # (checks.orders_floor), measured here on the shuffle test itself; a run that short says so in its notes.
    from propgrad.checks import orders_floor, too_few_steps

    from itertools import permutations

    from propgrad.score import statistic_scores

    values = np.random.default_rng(1).random(5)
    for steps in (3, 4, 5):
        # The order that scores highest of all n!: the best any series of these values can do. The correlation ties
        # an order with its reverse only, and reaches the floor; the gradient ties more, and stays above it.
        for statistic, reached in (("correlation", True), ("gradient", False)):
            orders = np.array(list(permutations(values[:steps])))
            best = orders[np.argmax(statistic_scores(orders[:, :, None], statistic)[:, 0])]
            p = permutation_test(best, n_permutations=20_000, rng=0, statistic=statistic).pvalue
            assert p >= 0.85 * orders_floor(steps)
            assert (p == pytest.approx(orders_floor(steps), rel=0.15)) == reached or steps == 3
    assert too_few_steps(5, 0.01) is not None and too_few_steps(6, 0.01) is None

    # A run says so, from every order of its own outputs tried (score.best_order_pvalue): the gradient ties more
    # orders than 2 / n!, and a steady 6-step fall cannot reach 0.01 (its best order: 0.011) though 720 orders could.
    from propgrad.score import best_order_pvalue

    image = Image.new("RGB", (32, 32), (200, 150, 100))
    for steps, short in ((3, True), (4, True), (6, True), (8, False)):
        result = pg.explain(image, pg.ParametricEdit("darken", steps=steps), [Mean()], n_permutations=2000, seed=0)
        floor = float(best_order_pvalue(result.models[0].outputs[:, :, [0]])[0])
        assert result.orders_floor == pytest.approx(floor) and (floor > 0.01) == short
        said = [note for note in result.notes if note.startswith(f"with {steps} steps no order of these outputs")]
        assert bool(said) == short and not any(note.endswith(" permutations") for note in result.notes)
        # The advice is what a steady trend needs under the gradient (8 at 0.01), not the 6 that 2 / n! suggests.
        assert all("(a steady trend needs at least 8 under this statistic, more where" in note for note in said)
        assert result.models[0].scores[0].pvalue >= 0.8 * floor  # the shuffle test itself stays above it
    # Frames are counted as frames: "use more steps" asked for a flag that --frames refuses.
    frames = pg.ParametricEdit("darken", steps=4).series(image)[0].images
    short = pg.explain(None, pg.Frames(frames), [Mean()], n_permutations=2000, seed=0)
    said = [note for note in short.notes if note.startswith("with 4 frames no order of these outputs")]
    assert said and "use more frames (" in said[0]


def test_mutual_information_on_six_steps_cannot_tell_orders_apart():
    # With k = steps - 1 every step is every other's neighbour: the orders of a model's (untied) outputs all score
    # the same, p is 1, and the notes say so rather than let "no effect" stand as a finding.
    rise = np.sort(np.random.default_rng(0).random(8))
    assert permutation_test(rise[:6], n_permutations=200, rng=0, statistic="mutual-information").pvalue == 1
    assert permutation_test(rise, n_permutations=200, rng=0, statistic="mutual-information").pvalue < 0.05

    image = Image.new("RGB", (32, 32), (200, 150, 100))
    six = pg.explain(image, pg.ParametricEdit("darken", steps=6), [Mean()], n_permutations=200, seed=0,
                     statistic="mutual-information")
    assert any("k = 5 neighbours on 6 steps (k = steps - 1)" in note for note in six.notes)
    # ... and no note says the outputs do not change: they do (every order ties because of the estimate).
    assert six.models[0].outputs.std() > 0.01 and not any("do not change along" in note for note in six.notes)
    # Where they really do not change, that note stays: more steps would not help.
    flat = pg.explain(image, pg.ParametricEdit("darken", steps=6), [Constant()], n_permutations=200, seed=0,
                      statistic="mutual-information")
    assert any("do not change along the 6 steps" in note for note in flat.notes)
    seven = pg.explain(image, pg.ParametricEdit("darken", steps=7), [Mean()], n_permutations=200, seed=0,
                       statistic="mutual-information")
    assert not any("k = steps - 1" in note for note in seven.notes)


class Constant:
    name, output_names, output_kind = "constant", ["a", "b"], "probability"

    def predict(self, images):
        return np.tile([0.3, 0.7], (len(images), 1))


class Mean:
    """p(bright) = the image's mean brightness: darkening moves it steadily."""

    name, output_names, output_kind = "mean", ["bright", "dark"], "probability"

    def predict(self, images):
        means = np.array([np.asarray(image, dtype=float).mean() / 255 for image in images])
        return np.stack([means, 1 - means], axis=1)


def test_a_floor_near_alpha_says_how_often_chance_passes():
    # An exact p of 0.011 at alpha 0.01: 10,000 permutations still give p <= 0.01 in about one run of six, which the
    # note says rather than "nothing can be significant"; far from alpha it says nothing of chance.
    from propgrad.checks import chance_below, too_few_steps

    rng = np.random.default_rng(0)
    estimates = (1 + rng.binomial(10_000, 0.011, 20_000)) / 10_001
    assert np.mean(estimates <= 0.01) == pytest.approx(chance_below(0.011, 0.01, 10_000), abs=0.01)
    assert "by chance, in up to about 16 % of runs" in too_few_steps(6, 0.01, floor=0.011, n_permutations=10_000)
    assert "chance" not in too_few_steps(6, 0.01, floor=0.0128, n_permutations=10_000)  # 0.45 %: no "about 0 %"
    assert "chance" not in too_few_steps(3, 0.01, floor=0.33, n_permutations=10_000)


def test_the_steps_advised_are_never_fewer_than_the_run_has():
    # Where no steady trend up to 8 steps reaches alpha the advice says "more than 8" (not the 2/n! count, not
    # "more than 7"), and a table never advises fewer steps than its rows already have.
    from functools import partial

    from propgrad.checks import too_few_permutations_for_table, too_few_steps
    from propgrad.score import steady_trend_need

    gradient = partial(steady_trend_need, statistic="gradient")
    assert too_few_steps(6, 0.001, floor=0.01, steady_trend=gradient).endswith(
        "(a steady trend needs more than 8 under this statistic)")
    table = too_few_permutations_for_table(10, 10_000, 0.01, "bh", 0, 0.5, 0.00427, gradient, n_steps=8)
    assert "(a steady trend needs more than 8 here)" in table
    correlation = partial(steady_trend_need, statistic="correlation")
    table = too_few_permutations_for_table(3, 10_000, 0.01, "holm", 0, 0.5, 0.0036, correlation, n_steps=8)
    assert "use more steps (more than 8)" in table  # an even ramp needs 6; these rows have 8 and tie more orders
    assert "permutations" not in table.split("use more steps")[1]  # 10,000 are enough for 3 rows
    # Short series and too few permutations: longer series alone would still leave every row unable to pass
    # (14 rows, 5 steps, 200 permutations: 14/201 = 0.07 > 0.01), so both are asked for.
    table = too_few_permutations_for_table(14, 200, 0.01, "holm", 0, 0.5, 1 / 120, n_steps=5)
    assert "no row can come out significant; use more steps (at least" in table
    assert table.endswith(" and at least 1,399 permutations, or fewer properties or models"), table
