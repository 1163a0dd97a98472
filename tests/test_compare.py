"""Comparing properties in one run: the ranked table, Benjamini-Hochberg p-values, exports, the CLI flags."""
import csv
import json

import numpy as np
import pytest
from PIL import Image
from scipy.stats import false_discovery_control

from propgrad.cli import main
from propgrad.compare import PropertyComparison, compare_properties, region_comparison
from propgrad.export.comparison import table_row, write_comparison
from propgrad.interventions import ParametricEdit, Region
from propgrad.models.registry import register_model, unregister_model
from propgrad.ranking import rank_key


class LeftBrightness:
    """p(bright) = mean brightness of the image's left half: only edits on the left can move it."""

    name, output_names, output_kind = "left eye", ["dark", "bright"], "probability"

    def predict(self, images):
        p = np.array([np.asarray(im.convert("L"), dtype=float)[:, : im.width // 2].mean() / 255 for im in images])
        return np.stack([1 - p, p], axis=1)


class Noise:
    """Ignores the image: a seeded random output, the same for every property."""

    name, output_names, output_kind = "noise", ["dark", "bright"], "probability"

    def predict(self, images):
        p = np.random.default_rng(len(images)).uniform(0.3, 0.7, len(images))
        return np.stack([1 - p, p], axis=1)


@pytest.fixture(scope="module")
def image():
    return Image.fromarray(np.full((24, 32, 3), 220, dtype=np.uint8))


@pytest.fixture(scope="module")
def halves():
    left = np.zeros((24, 32), dtype=np.float32)
    left[:, :16] = 1
    return left, 1 - left


@pytest.fixture(scope="module")
def comparison(image, halves):
    edit = ParametricEdit("darken", stop=0.85, steps=11)
    left, right = halves
    properties = {"right half: darken": Region(edit, right), "left half: darken": Region(edit, left),
                  "everything: lighten": ParametricEdit("lighten", stop=0.2, steps=11)}
    return compare_properties(image, properties, [LeftBrightness(), Noise()], outputs_of_interest="bright",
                              n_permutations=2000, seed=0)


def test_one_explanation_per_property_ranked_by_what_the_output_did(comparison):
    assert isinstance(comparison, PropertyComparison)
    assert list(comparison.explanations) == ["right half: darken", "left half: darken", "everything: lighten"]
    assert comparison.properties[0] == "left half: darken"  # the only one that darkens what the model looks at
    best = [min(rank_key(s.reading) for s in comparison.scores if s.property == p) for p in comparison.properties]
    assert best == sorted(best)
    assert comparison.score("left half: darken", "left eye").tier == "a"
    # Rows are ranked one by one (a lecturer reads the first row as the strongest effect): not grouped by property.
    keys = [rank_key(s.reading) for s in comparison.scores]
    assert keys == sorted(keys) and comparison.scores[0].property == comparison.properties[0]
    left = comparison.score("left half: darken", "left eye")
    right = comparison.score("right half: darken", "left eye")
    assert left.flipped and left.significant and table_row(left)["flips"].startswith("step")
    assert right.score == 0 and not right.flipped and right.pvalue == 1.0
    assert comparison.models == ["left eye", "noise"]


def test_pvalues_adjusted_with_benjamini_hochberg_over_the_whole_table(comparison):
    raw = np.array([s.pvalue for s in comparison.scores])
    adjusted = np.array([s.pvalue_adjusted for s in comparison.scores])
    np.testing.assert_allclose(adjusted, false_discovery_control(raw, method="bh"))
    assert np.all(adjusted >= raw)
    assert all(s.significant_adjusted == (s.pvalue_adjusted <= comparison.alpha) for s in comparison.scores)
    assert "Benjamini-Hochberg" in comparison.adjustment


def test_same_seed_for_every_property_gives_the_same_null(comparison):
    explanations = list(comparison.explanations.values())
    nulls = [e.model("noise").output_of_interest.null_distribution for e in explanations]
    # The noise model gives the same outputs for every property, so its scores and p-values agree too.
    np.testing.assert_array_equal(nulls[0], nulls[1])


def test_table_has_one_row_per_property_and_six_columns_per_model(comparison):
    headers, rows = comparison.table()
    assert headers[0] == "property" and len(headers) == 1 + 6 * 2
    # Titled in words, as every other table (the paper's S and F read "S: S" on a phone's card).
    assert headers[1:7] == ["left eye: change", "left eye: E[|grad_X F|]", "left eye: p", "left eye: adjusted p",
                            "left eye: significant", "left eye: flips"]
    assert [row[0] for row in rows] == comparison.properties
    assert rows[0][5:7] == [True, True]


def test_table_columns_follow_the_models_as_given(image, halves):
    """The rows are ranked one by one: the columns once followed them, so the model ranked first came first."""
    left, _ = halves
    flipped = compare_properties(image, {"left half: darken": Region(ParametricEdit("darken", stop=0.85, steps=6), left)},
                                 [Noise(), LeftBrightness()], outputs_of_interest="bright", n_permutations=200, seed=0)
    assert flipped.scores[0].model == "left eye"  # ranked first ...
    headers, _ = flipped.table()
    assert headers[1] == "noise: change" and headers[7] == "left eye: change"  # ... but listed as given


@pytest.mark.slow
def test_written_report(comparison, tmp_path):
    paths = write_comparison(comparison, tmp_path)
    data = json.loads(paths["json"].read_text())
    assert data["properties"] == comparison.properties
    assert len(data["table"]) == 6 and set(data["table"][0]) >= {"pvalue_adjusted", "significant", "flipped"}
    assert set(data["explanations"]) == set(comparison.explanations)
    with paths["csv"].open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["property"] for r in rows] == [s.property for s in comparison.scores]
    for folder in data["folders"].values():
        assert (tmp_path / folder / "report.json").is_file() and (tmp_path / folder / "strip.png").is_file()
    assert paths["figure"].stat().st_size > 0
    # The page's legend of the tiers is every surface's one wording, and says why a row read "not significant"
    # can still rank first (its flip or its one dominant step).
    from propgrad.export.html import escape
    from propgrad.ranking import tier_legend

    legend = tier_legend()
    assert escape(legend) in paths["html"].read_text()
    assert all(f"{tier}: " in legend for tier in "abcde") and "or a prediction flip, significant or not" in legend.split("; ")[0]
    assert "Each property on its own follows" in paths["html"].read_text()


def test_the_callers_image_is_taken_as_it_is_and_left_as_it_was(image):
    # A loaded image is not copied again (the app loaded it); no property's series may change it or share it.
    before = image.tobytes()
    edit = ParametricEdit("darken", stop=0.85, steps=3)
    result = compare_properties(image, {"whole: darken": edit, "left: darken": Region(edit, np.ones((24, 32)))},
                                [LeftBrightness()], n_permutations=200, seed=0)
    assert image.tobytes() == before
    for explanation in result.explanations.values():
        assert all(step is not image for one in explanation.series for step in one.images)


def test_a_comparison_without_an_image_is_refused_before_any_property_runs():
    with pytest.raises(ValueError, match="`image` is missing"):
        compare_properties(None, {"a": ParametricEdit("darken", steps=3)}, [LeftBrightness()], n_permutations=200)


@pytest.mark.parametrize("interventions, error, match", [
    ({}, ValueError, "`interventions` is empty"),
    ([ParametricEdit("darken")], TypeError, "`interventions` must be a dict"),
    ({"a": "darken"}, TypeError, "`interventions`: 'a' is a str, not an intervention"),
    ({" ": ParametricEdit("darken")}, ValueError, "property names must be non-empty strings"),
    ({"a": ParametricEdit("darken"), "a ": ParametricEdit("lighten")}, ValueError, "must differ"),
])
def test_bad_interventions_are_refused(image, interventions, error, match):
    with pytest.raises(error, match=match):
        compare_properties(image, interventions, LeftBrightness())


def test_region_comparison_names_object_and_background(monkeypatch, image, halves):
    import propgrad.segment as segment

    monkeypatch.setattr(segment, "object_mask", lambda im: halves[0].copy())
    result = region_comparison(image, ParametricEdit("darken", stop=0.85, steps=5), LeftBrightness(),
                               n_permutations=200, outputs_of_interest="bright")
    assert list(result.explanations) == ["object: darken", "background: darken"]
    assert result.properties[0] == "object: darken"
    series = result.explanations["background: darken"].series[0]
    np.testing.assert_array_equal(series.mask, halves[1])


# --- command line ----------------------------------------------------------------------------------

@pytest.fixture()
def registered():
    register_model("Left eye (test)", LeftBrightness)
    yield "Left eye (test)"
    unregister_model("Left eye (test)")


@pytest.mark.slow
def test_cli_compare_region(monkeypatch, tmp_path, image, halves, registered, capsys):
    import propgrad.segment as segment

    monkeypatch.setattr(segment, "object_mask", lambda im: halves[0].copy())
    path = tmp_path / "image.png"
    image.save(path)
    code = main(["explain", str(path), "--edit", "darken", "--stop", "0.85", "--steps", "6", "--compare-region",
                 "--model", registered, "--outputs", "bright", "--permutations", "300", "--out", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "object: darken | left eye | bright" in printed and "adjusted p" in printed
    data = json.loads((tmp_path / "out" / "comparison.json").read_text())
    assert data["properties"] == ["object: darken", "background: darken"]
    assert (tmp_path / "out" / "comparison.csv").is_file() and (tmp_path / "out" / "comparison.png").is_file()
    # The files listed as written: comparison_contrast.csv went unsaid (one model here: none written).
    written = printed.strip().splitlines()[-1]
    assert written.startswith("wrote comparison.csv, comparison.json, comparison.png, report.html and one folder")
    # (and the list of them a run into the same folder removes first)
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_file()) == [
        ".propgrad-written.json", "comparison.csv", "comparison.json", "comparison.png", "report.html"]


def test_cli_region_mask_file_with_a_note(tmp_path, image, halves, registered, capsys):
    path, mask = tmp_path / "image.png", tmp_path / "mask.png"
    image.save(path)
    Image.fromarray((halves[0] * 255).astype(np.uint8)).resize((64, 48)).save(mask)
    code = main(["explain", str(path), "--edit", "darken", "--steps", "5", "--region", str(mask),
                 "--model", registered, "--permutations", "200", "--out", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "darken edit in the mask" in printed and "note: `mask` is 64x48 px" in printed
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["series_labels"] == ["darken in the mask"]
    small, mask_note, *_ = report["notes"]  # the input's size first (it is under 64 px), then the mask's
    assert "only" in small and " px" in small and mask_note.startswith("`mask` is 64x48 px")
    assert report["region"]["coverage"] == pytest.approx(0.5)
    assert (tmp_path / "out" / "region.png").is_file()


@pytest.mark.parametrize("args, match", [
    (["--region", "nowhere.png"], "`--region`: 'nowhere.png' is neither 'object', 'background' nor an existing mask"),
    (["--region", "object", "--frames", "a.png"], "give either IMAGE or --frames"),
])
def test_cli_region_errors(tmp_path, image, args, match, capsys):
    path = tmp_path / "image.png"
    image.save(path)
    assert main(["explain", str(path), *args, "--out", str(tmp_path / "out")]) == 2
    assert match in capsys.readouterr().err


def test_cli_region_needs_an_image(capsys, tmp_path):
    assert main(["explain", "--frames", "a.png", "b.png", "c.png", "--region", "object", "--out", str(tmp_path)]) == 2
    assert "--region and --compare-region need IMAGE" in capsys.readouterr().err


def test_cli_help_documents_the_region_options(capsys):
    with pytest.raises(SystemExit):
        main(["explain", "--help"])
    text = capsys.readouterr().out
    for option in ("--region", "--compare-region", "--feather", "darken", "lighten", "recolour"):
        assert option in text


@pytest.mark.slow
def test_cli_repeated_region_compares_them(tmp_path, image, halves, registered, capsys):
    path, left, right = tmp_path / "image.png", tmp_path / "left.png", tmp_path / "right.png"
    image.save(path)
    Image.fromarray((halves[0] * 255).astype(np.uint8)).save(left)
    Image.fromarray((halves[1] * 255).astype(np.uint8)).save(right)
    code = main(["explain", str(path), "--edit", "darken", "--steps", "6", "--region", str(right), "--region",
                 str(left), "--model", registered, "--outputs", "bright", "--permutations", "300",
                 "--out", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert code == 0, printed
    data = json.loads((tmp_path / "out" / "comparison.json").read_text())
    assert data["properties"] == ["left: darken", "right: darken"]  # ranked: only the left half matters
    assert data["table"][0]["flipped"] and not data["table"][1]["flipped"]


def test_a_sliver_region_is_said_before_the_answer(image):
    """On a greyscale photo the segmenter's "object" was the cat's eye (0.6 %): the answer said the background moved
    p(cat) most, and the note that its region was most of the image sat under the table."""
    sliver = np.zeros((image.height, image.width), np.float32)
    sliver[:1, :1] = 1
    comparison = compare_properties(image, {"spot: darken": Region(ParametricEdit("darken", steps=4), sliver),
                                            "rest: darken": Region(ParametricEdit("darken", steps=4), 1 - sliver)},
                                    LeftBrightness(), n_permutations=50, seed=0)
    first, *answers = comparison.answer
    assert first.startswith("Check the regions before this answer: they cover ")
    assert "of the image (spot: darken) and " in first and "(rest: darken)" in first
    assert answers and not any(a.startswith("Check the edits") for a in answers)  # the spot's tiny change: not again
    # Hue on a grey image changes nothing in the region of all but the whole image either: said, as for the whole.
    grey = compare_properties(image, {"spot: hue": Region(ParametricEdit("hue", steps=4), sliver),
                                      "rest: hue": Region(ParametricEdit("hue", steps=4), 1 - sliver)},
                              LeftBrightness(), n_permutations=50, seed=0)
    assert grey.answer[0].startswith("Check the regions") and "hardly change under 'spot: hue' and 'rest: hue'" in grey.answer[1]
    # In bounds, nothing is said first.
    half = np.zeros_like(sliver)
    half[:, : image.width // 2] = 1
    fine = compare_properties(image, {"left: darken": Region(ParametricEdit("darken", steps=4), half)},
                              LeftBrightness(), n_permutations=50, seed=0)
    assert not fine.answer[0].startswith(("Check the regions", "Check the edits"))


def test_an_edit_that_hardly_changes_the_image_is_said_before_the_answer(image):
    # Hue on a grey image changes nothing: the answer began "Every effect here is negligible", an empty experiment read
    # as evidence that the model ignores hue; the note saying so sat under the table.
    result = compare_properties(image, {"whole: hue": ParametricEdit("hue", steps=5),
                                        "whole: darken": ParametricEdit("darken", stop=0.85, steps=5)},
                                LeftBrightness(), outputs_of_interest="bright", n_permutations=200, seed=0)
    first = result.answer[0]
    assert first.startswith("Check the edits before this answer: the images hardly change under 'whole: hue' (")
    assert "is 0.00;" in first and "whole: darken" not in first
    assert result.answer_fields()["answer"][0] == first  # comparison.json and report.html say it too
    assert result.caveats[0] == first  # and an agent's reading (app.agent_result) begins with it
    # 5 steps cannot reach alpha = 0.01: said next, before the answer it qualifies.
    assert result.caveats[1].startswith('Check the settings before this answer, where "not significant" is no')
    visible = compare_properties(image, {"whole: darken": ParametricEdit("darken", stop=0.85, steps=5)},
                                 LeftBrightness(), outputs_of_interest="bright", n_permutations=200, seed=0)
    assert not any(sentence.startswith("Check the edits") for sentence in visible.answer)


class _Bright:
    name, output_names, output_kind = "bright eye", ["dark", "bright"], "probability"

    def predict(self, images):
        p = np.array([np.asarray(im.convert("L"), dtype=float).mean() / 255 for im in images]) ** 6
        return np.stack([1 - p, p], axis=1)


def test_untestable_settings_are_said_first_for_the_properties_they_hold_for():
    """Six steps cannot reach alpha = 0.01 for darken and lighten; hue on a grey image moves nothing. The caveat
    names the two it holds for (unnamed, it read as the whole answer's), and its note is not said again below."""
    from propgrad.checks import unsaid

    image = Image.fromarray(np.full((24, 32, 3), 200, dtype=np.uint8))
    props = {"darken": ParametricEdit("darken", stop=0.85, steps=6), "hue": ParametricEdit("hue", stop=120, steps=6),
             "lighten": ParametricEdit("lighten", stop=0.3, steps=6)}
    result = compare_properties(image, props, [_Bright()], outputs_of_interest="bright", n_permutations=2000, seed=0)
    assert result.floor_note is None  # no table-wide note: the properties' own floors bind
    settings = [c for c in result.caveats if c.startswith("Check the settings")]
    assert len(settings) == 1 and settings[0].startswith(
        'Check the settings before this answer, where "not significant" is no evidence either way: darken and '
        "lighten: with 6 steps no order"), settings
    assert result.answer[:len(result.caveats)] == result.caveats  # first in the answer
    left = unsaid(result.notes, result.caveats)
    assert not any("with 6 steps" in note for note in left) and any(note.startswith("hue: the outputs") for note in left)


def test_a_row_that_passes_below_an_untestable_floor_is_no_evidence_either():
    """An estimated p can fall below the exact floor of too-short series by chance: the caveat then says that neither
    verdict is evidence, not only "not significant" (it opened a run whose reading said "strong and systematic")."""
    import propgrad as pg
    from propgrad.interventions import InterventionSeries

    class Red:
        name, output_names, output_kind = "red eye", ["not red", "red"], "probability"

        def predict(self, images):
            p = np.array([np.asarray(im, dtype=float)[..., 0].mean() / 255 for im in images])
            return np.stack([1 - p, p], axis=1)

    values = [0.05, 0.2, 0.4, 0.7, 0.95]
    series = [InterventionSeries([Image.new("RGB", (64, 48), (round(255 * v), 90, 90)) for v in values],
                                 np.linspace(0, 1, 5), "redness")]
    lucky = pg.explain(None, series, [Red()], outputs_of_interest="red", n_permutations=300, seed=15,
                       statistic="correlation")
    assert lucky.orders_floor > lucky.alpha and lucky.models[0].scores[0].significant  # passed by chance
    assert lucky.caveat.startswith('Check the settings before this answer, where neither "significant" nor "not '
                                   'significant" is evidence: with 5 steps')
    plain = pg.explain(None, series, [Red()], outputs_of_interest="red", n_permutations=300, seed=0,
                       statistic="correlation")
    assert not plain.models[0].scores[0].significant
    assert plain.caveat.startswith('Check the settings before this answer, where "not significant" is no evidence')


def test_a_comparison_notes_where_a_small_systematic_row_stands_above_a_larger_one():
    # Tier b (small but systematic) ranks above tier c (not confirmed) whatever their changes: a class read rank as
    # size.
    import numpy as np
    from PIL import Image

    from propgrad.compare import compare_properties
    from propgrad.interventions import ParametricEdit
    from toy_models import Drift, Erratic

    class Creep(Drift):
        """p(a) creeps up by 0.04 as the image darkens: small, and systematic."""

        name = "creep"

        def predict(self, images):
            darkness = np.array([1 - np.asarray(image, dtype=float).mean() / 255 for image in images])
            p = 0.5 + 0.05 * darkness
            return np.stack([p, 1 - p], axis=1)

    image = Image.fromarray(np.full((32, 32, 3), 200, dtype=np.uint8))
    darken = ParametricEdit("darken", stop=0.8, steps=8)
    result = compare_properties(image, {"darken": darken}, [Creep(), Erratic()], outputs_of_interest="a",
                                n_permutations=200, seed=0, alpha=0.05)
    assert [entry.tier for entry in result.scores] == ["b", "c"], [(e.tier, e.change) for e in result.scores]
    assert ("rank is not size: a small systematic change (tier b) ranks above a larger change with no flip, single "
            "step or confirmed trend (tier c), so darken (creep, change 0.031) stands above darken (erratic, change "
            "0.20); read the change column beside the rank") in result.notes, result.notes
