"""The three statistics and the vector score on curves whose answer is known, and against plain loops."""
import numpy as np
import pytest
from scipy.special import digamma

from propgrad import permutation_test, statistics
from propgrad.explain import VECTOR, explain
from propgrad.interventions import InterventionSeries
from propgrad.models.base import Model
from propgrad.score import STATISTICS

STEPS = 21
K = 999
CURVES = {
    "ramp": np.linspace(0.1, 0.9, STEPS),
    "step": np.where(np.arange(STEPS) >= STEPS // 2, 0.8, 0.2),
    "noise": np.random.default_rng(3).random(STEPS),
    "u shape": 0.2 + 0.6 * np.linspace(-1, 1, STEPS) ** 2,
}
# Significant at 0.01 (True) or clearly not (False), per curve and statistic.
EXPECTED = {
    "ramp": {"gradient": True, "correlation": True, "mutual-information": True},
    "step": {"gradient": True, "correlation": True, "mutual-information": True},
    "noise": {"gradient": False, "correlation": False, "mutual-information": False},
    # Symmetric about the middle: r is 0, but the curve is smooth (gradient) and depends on the step (MI).
    "u shape": {"gradient": True, "correlation": False, "mutual-information": True},
}


@pytest.mark.parametrize("statistic", STATISTICS)
@pytest.mark.parametrize("curve", list(CURVES))
def test_known_answers(curve, statistic):
    result = permutation_test(CURVES[curve], n_permutations=K, rng=0, statistic=statistic)
    if EXPECTED[curve][statistic]:
        assert result.pvalue <= 0.01
    else:
        assert result.pvalue > 0.2


def test_u_shape_correlation_is_zero_and_mutual_information_is_not():
    u = CURVES["u shape"]
    correlation = permutation_test(u, n_permutations=9, rng=0, statistic="correlation").statistic
    assert correlation == pytest.approx(0, abs=1e-12)
    assert permutation_test(u, n_permutations=9, rng=0, statistic="mutual-information").statistic > 0.2  # k = 5: 0.27


@pytest.mark.parametrize("statistic", STATISTICS)
def test_constant_series_scores_zero_and_p_one(statistic):
    result = permutation_test(np.full((12, 2), 0.7), n_permutations=200, rng=0, statistic=statistic)
    np.testing.assert_array_equal(result.statistic, [0.0, 0.0])
    np.testing.assert_array_equal(result.pvalue, [1.0, 1.0])


@pytest.mark.parametrize("statistic", STATISTICS)
def test_same_seed_same_result_and_shapes(statistic):
    y = np.random.default_rng(0).random((2, 9, 3))
    first = permutation_test(y, n_permutations=300, rng=5, statistic=statistic)
    second = permutation_test(y, n_permutations=300, rng=5, statistic=statistic)
    np.testing.assert_array_equal(first.pvalue, second.pvalue)
    assert first.null_distribution.shape == (300, 3)
    assert first.alternative == ("two-sided" if statistic == "gradient" else "greater")


def loop_abs_pearson(y):
    x = np.arange(len(y), dtype=float)
    return abs(sum((a - x.mean()) * (b - np.mean(y)) for a, b in zip(x, y))
               / np.sqrt(sum((a - x.mean()) ** 2 for a in x) * sum((b - np.mean(y)) ** 2 for b in y)))


def test_correlation_null_matches_a_loop():
    y = np.random.default_rng(1).random((10, 2))
    orders = np.array([np.random.default_rng(s).permutation(10) for s in range(20)])
    block = statistics.correlation_block(y, orders)
    for row, order in enumerate(orders):
        for column in range(2):
            assert block[row, column] == pytest.approx(loop_abs_pearson(y[order, column]), abs=1e-12)


# I(step; output) of 10-step curves as the method authors' estimator gives it
# (benchmark-mi 0.1.3, KSGEnsembleFirstEstimator(neighborhoods=(5,)), x = the step index, both standardised).
T10 = np.linspace(0, 1, 10)
AUTHORS_MI = {
    "ramp": (T10, 0.745635),
    "sigmoid": (1 / (1 + np.exp(-12 * (T10 - 0.5))), 0.405635),
    "step": (np.where(np.arange(10) >= 5, 1.0, 0.0), 0.254365),
}


@pytest.mark.parametrize("curve", list(AUTHORS_MI))
def test_mutual_information_equals_the_authors_estimator(curve):
    values, theirs = AUTHORS_MI[curve]
    mine = permutation_test(values, n_permutations=9, rng=0, statistic="mutual-information").statistic
    assert mine == pytest.approx(theirs, abs=1e-6)
    # A ramp is a ramp whatever its slope and offset (standardised), and rounding does not break its ties.
    assert permutation_test(0.3 + 0.5 * values, n_permutations=9, rng=0,
                            statistic="mutual-information").statistic == pytest.approx(mine, abs=1e-9)


def test_mutual_information_does_not_move_with_the_seed():
    ramp = np.linspace(0, 1, 10)
    values = {permutation_test(ramp, n_permutations=99, rng=seed, statistic="mutual-information").statistic
              for seed in range(6)}
    assert len(values) == 1


def loop_ksg(y, k):
    """KSG algorithm 1 point by point against the step index, written apart from the vectorised one.

    Step distances are |i - j| / std, an exact integer over one number, so equal gaps tie exactly (the
    random outputs have no ties).
    """
    n = len(y)
    sx = np.arange(n).std()
    y = (y - y.mean()) / y.std()
    total = 0.0
    for i in range(n):
        joint = sorted(max(abs(i - j) / sx, abs(y[i] - y[j])) for j in range(n))
        radius = joint[k]  # joint[0] is the point itself
        nx = sum(abs(i - j) / sx < radius for j in range(n) if j != i)
        ny = sum(abs(y[i] - y[j]) < radius for j in range(n) if j != i)
        total += digamma(nx + 1) + digamma(ny + 1)
    return max(0.0, digamma(k) + digamma(n) - total / n)


@pytest.mark.parametrize("steps", [4, 11, 30])
def test_mutual_information_null_matches_a_loop(steps):
    rng = np.random.default_rng(steps)
    y = rng.random((steps, 2))
    orders = np.array([rng.permutation(steps) for _ in range(15)])
    block = statistics.ksg_block(y, orders)
    k = statistics.ksg_neighbours(steps)
    assert k == min(5, steps - 1)
    for row, order in enumerate(orders):
        for column in range(2):
            assert block[row, column] == pytest.approx(loop_ksg(y[order, column], k), abs=1e-12)


def test_unknown_statistic_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"`statistic` must be one of 'gradient', 'correlation' or "
                                         r"'mutual-information', got 'kendall'"):
        permutation_test(CURVES["ramp"], statistic="kendall")


# --- the vector score ---------------------------------------------------------------------------
class CurveModel(Model):
    """Outputs fixed curves, one row per image in call order (the test's series are known in advance)."""

    def __init__(self, rows, names=None):
        self.rows = np.asarray(rows, dtype=float)
        self.name = "curves"
        self.output_names = names or [f"class {i}" for i in range(self.rows.shape[1])]

    def predict(self, images):
        return self.rows[: len(images)]


def _series(steps):
    from PIL import Image

    images = [Image.new("RGB", (4, 4), (i, i, i)) for i in range(steps)]
    return [InterventionSeries(images, np.arange(steps, dtype=float), "step")]


def test_vector_score_is_half_the_l1_norm_of_the_gradient_not_total_variation():
    # One-hot A -> B -> C: the neighbouring steps' total-variation distance is 1 each, the score 0.833.
    one_hot = np.eye(3)
    result = explain(None, _series(3), CurveModel(one_hot), outputs_of_interest=VECTOR, n_permutations=50)
    assert result.models[0].scores[0].score == pytest.approx(5 / 6)


def test_vector_score_is_the_mean_half_l1_norm_of_the_gradient():
    rng = np.random.default_rng(0)
    rows = rng.dirichlet(np.ones(4), size=12)
    result = explain(None, _series(12), CurveModel(rows), outputs_of_interest=VECTOR, n_permutations=500)
    score = result.models[0].scores[0]
    expected = np.mean(0.5 * np.abs(np.gradient(rows, axis=0)).sum(axis=1))
    assert score.score == pytest.approx(expected, abs=1e-12)
    assert score.vector and score.output == "vector (all 4 outputs)"
    assert score.null_distribution.shape == (500,)


def test_vector_score_finds_a_smooth_shift_between_classes_and_not_noise():
    t = np.linspace(0, 1, STEPS)[:, None]
    smooth = np.hstack([0.7 - 0.5 * t, 0.2 + 0.5 * t, np.full_like(t, 0.1)])
    noise = np.random.default_rng(4).dirichlet(np.ones(3), size=STEPS)
    found = explain(None, _series(STEPS), CurveModel(smooth), outputs_of_interest=VECTOR, n_permutations=K)
    missed = explain(None, _series(STEPS), CurveModel(noise), outputs_of_interest=VECTOR, n_permutations=K)
    assert found.models[0].scores[0].pvalue <= 0.01
    assert missed.models[0].scores[0].pvalue > 0.2


def test_vector_needs_several_outputs_and_the_gradient():
    one = CurveModel(np.linspace(0, 1, 6)[:, None], names=["melanoma"])
    with pytest.raises(ValueError, match="'vector' scores the change of the whole output vector, but model "
                                         "'curves' returns one output"):
        explain(None, _series(6), one, outputs_of_interest=VECTOR, n_permutations=10)
    two = CurveModel(np.random.default_rng(0).random((6, 2)))
    with pytest.raises(ValueError, match="'vector' is scored with statistic='gradient'"):
        explain(None, _series(6), two, outputs_of_interest=VECTOR, statistic="correlation", n_permutations=10)


@pytest.mark.parametrize("statistic", STATISTICS)
def test_explain_reports_the_statistic(statistic):
    from propgrad.export.explanation import to_dict

    rows = np.column_stack([CURVES["u shape"], 1 - CURVES["u shape"]])
    result = explain(None, _series(STEPS), CurveModel(rows), outputs_of_interest=[0], statistic=statistic,
                     n_permutations=K)
    data = to_dict(result)
    assert data["statistic"] == statistic
    assert (data["models"][0]["pvalue"] <= 0.01) == EXPECTED["u shape"][statistic]


# --- The adjustments: scipy.stats' numbers without importing scipy.stats in the server ---

def _tables_with_ties(seed: int, count: int = 200):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        size = int(rng.integers(2, 40))
        # Rounded values make ties (shuffle-test p-values tie often: they are multiples of 1 / (permutations + 1)).
        yield rng.random(size).round(int(rng.integers(1, 4)))


def test_benjamini_hochberg_gives_scipys_numbers_exactly():
    from scipy.stats import false_discovery_control

    for p in _tables_with_ties(0):
        np.testing.assert_array_equal(statistics.adjust_pvalues(p, "bh"), false_discovery_control(p, method="bh"))


def test_holm_is_the_step_down_rule():
    p = np.array([0.01, 0.04, 0.03, 0.5])
    # Sorted 0.01, 0.03, 0.04, 0.5 times 4, 3, 2, 1 -> 0.04, 0.09, 0.08 -> monotone 0.09, then 0.5.
    np.testing.assert_allclose(statistics.adjust_pvalues(p, "holm"), [0.04, 0.09, 0.09, 0.5])
    for p in _tables_with_ties(1, 50):
        # Holm (1979) as written: the i-th smallest p times (m - i + 1), then the running maximum, at most 1.
        m, expected = p.size, np.empty(p.size)
        running = 0.0
        for rank, index in enumerate(np.argsort(p, kind="stable"), start=1):
            running = max(running, min(1.0, (m - rank + 1) * p[index]))
            expected[index] = running
        np.testing.assert_allclose(statistics.adjust_pvalues(p, "holm"), expected, rtol=1e-15)


def test_adjustments_refuse_what_is_not_a_row_of_p_values():
    for bad in ([0.1, np.nan], [0.2, 1.5], [[0.1, 0.2]]):
        with pytest.raises(ValueError, match="between 0 and 1|one row"):
            statistics.adjust_pvalues(bad)
    with pytest.raises(ValueError, match="adjustment"):
        statistics.adjust_pvalues([0.1, 0.2], "bonferroni")
    assert statistics.adjust_pvalues([]).size == 0
    assert statistics.adjust_pvalues([0.3]).tolist() == [0.3]


def test_binomial_cdf_gives_scipys_numbers():
    from scipy.stats import binom

    rng = np.random.default_rng(3)
    for _ in range(300):
        n = int(rng.integers(1, 20_001))
        p = float(rng.choice([rng.random(), rng.random() * 0.05, 0.0, 1.0]))
        k = int(rng.integers(-1, min(n, 400) + 2))
        assert statistics.binomial_cdf(k, n, p) == pytest.approx(float(binom.cdf(k, n, p)), rel=1e-9, abs=1e-12)


def test_the_default_flows_do_not_import_scipy_stats():
    """scipy.stats holds about 49 MB once imported; the app's runs must not need it (issue 23's memory target)."""
    import subprocess
    import sys

    code = ("import sys; from PIL import Image; import numpy as np\n"
            "from propgrad.gradualness import assess\n"
            "from propgrad.statistics import adjust_pvalues\n"
            "steps = [Image.fromarray(np.full((8, 8, 3), 20 * i, np.uint8)) for i in range(5)]\n"
            "assess(steps); adjust_pvalues([0.1, 0.2, 0.03])\n"
            # A short series' note says how often chance passes alpha: a binomial CDF.
            "from propgrad.checks import too_few_steps\n"
            "assert 'chance' in too_few_steps(6, 0.01, floor=0.011, n_permutations=10_000)\n"
            "import propgrad.compare, propgrad.screen\n"
            "print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    assert out.stdout.strip() == "False", out.stderr


def test_floor_notes_write_the_floor_with_the_digits_that_show_it_above_alpha():
    # "no exact p-value below 0.01" at alpha = 0.01 read as a floor a row could reach (significant means p <= alpha):
    # the floor was 0.0102, written with two digits.
    from propgrad.checks import too_few_permutations_for_table, too_few_steps

    assert "could get an exact p-value below 0.0102" in too_few_steps(6, 0.01, floor=0.0102, n_permutations=10_000)
    # Two rows at a floor of 0.005025, adjusted by Holm to 0.01005: ".3g" wrote it "0.01", "above alpha = 0.01".
    note = too_few_permutations_for_table(2, 199, 0.01, "holm", 0, orders=0.005025)
    assert note is not None and "is adjusted to 0.01005, above alpha = 0.01" in note, note
