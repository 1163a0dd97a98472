"""report.html: one self-contained page per explanation, comparison and study; missing figures are named.

The pages are opened in Chromium (offline) by tests/test_report_browser.py; here only their text.
"""
from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import propgrad as pg
from propgrad import plots
from propgrad.export import explanation as report
from propgrad.export import html as html_report
from propgrad.compare import compare_properties
from propgrad.export.comparison import write_comparison
from propgrad.interventions import InterventionSeries, ParametricEdit
from propgrad.study import run_images


class Redness:
    """p(red) = the image's mean red; a name that must be escaped in HTML."""

    name, output_names, output_kind = "<b>red</b> & co", ["not red", "red"], "probability"

    def predict(self, images):
        p = np.array([np.asarray(image, dtype=float)[..., 0].mean() / 255 for image in images])
        return np.stack([1 - p, p], axis=1)


def ramp(steps: int = 6) -> InterventionSeries:
    images = [Image.new("RGB", (24, 16), (int(255 * v), 90, 90)) for v in np.linspace(0, 1, steps)]
    return InterventionSeries(images, np.linspace(0, 1, steps), "redness")


@pytest.fixture(scope="module")
def explanation():
    return pg.explain(None, [ramp()], [Redness()], outputs_of_interest="predicted", n_permutations=100, seed=0)


def outside_references(page: str) -> list[str]:
    """Every src/href/url() that is not a data: URI or an in-page anchor."""
    found = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", page) + re.findall(r"url\(([^)]*)\)", page)
    return [ref for ref in found if not ref.strip("'\" ").startswith(("data:", "#"))]


def assert_self_contained(page: str):
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert outside_references(page) == []
    assert "<script" not in page.lower() and "<link" not in page.lower() and "@import" not in page


def test_explain_writes_one_self_contained_page(explanation, tmp_path):
    paths = report.write_report(explanation, tmp_path)
    page = paths["html"].read_text()
    assert paths["html"] == tmp_path / "report.html"
    assert_self_contained(page)
    # The input, strip, gradualness, curves and null plots, each inlined; the table, settings and versions.
    assert page.count('src="data:image/png;base64,') == 5
    assert "Is the series gradual?" in page
    for heading in ("Input", "Steps of the intervention", "Model outputs along the property", "Scores",
                    "Shuffle-test null distributions", "Settings", "Versions"):
        assert f">{heading}</h2>" in page, heading
    assert "&lt;b&gt;red&lt;/b&gt; &amp; co" in page and "<b>red</b>" not in page
    assert f"<dd>{np.__version__}</dd>" in page and "<dt>permutations</dt>" in page and "n_permutations" not in page
    assert "missing" not in page.split("<style>")[1].split("</style>")[1]


def test_a_run_page_says_the_gradualness_verdict_and_what_the_tiers_mean(explanation, tmp_path):
    """The page reads on its own: the verdict the app and the command line print, and the tier legend under the
    table (the comparison's, the screen's and the study's pages had it; a single run's had a bare a-e column)."""
    from propgrad.ranking import tier_legend

    page = report.write_report(explanation, tmp_path, figures=())["html"].read_text()
    assert f"<p>The images themselves, before any model: {html_report.escape(explanation.gradual_summary)}</p>" in page
    assert f"tier: {html_report.escape(tier_legend())}." in page
    assert json.loads((tmp_path / "report.json").read_text())["gradual_summary"] == explanation.gradual_summary
    # Images that do not change: the verdict says why, and the note does not ask for more steps that cannot help.
    still = InterventionSeries([Image.new("RGB", (24, 16), (90, 90, 90))] * 8, np.linspace(0, 1, 8), "nothing")
    unchanged = pg.explain(None, [still], [Redness()], n_permutations=100, seed=0)
    page = report.write_report(unchanged, tmp_path / "still", figures=())["html"].read_text()
    assert "gradual: NO, the images hardly change" in page and "<b>Warning:</b>" in page
    assert any(note.startswith("the outputs of interest do not change along the 8 steps") for note in unchanged.notes)
    assert not any("use more steps" in note for note in unchanged.notes), unchanged.notes


def test_a_run_whose_edit_hardly_changes_the_image_says_so_before_its_reading(tmp_path):
    """Hue on a grey image: the app said "check the edits" before its answer, report.json and report.html only
    "gradual: NO" under it, so a shared report read "no measurable effect" as evidence."""
    grey = Image.new("RGB", (32, 24), (128, 128, 128))
    run = pg.explain(grey, ParametricEdit("hue", steps=5), [Redness()], n_permutations=100, seed=0)
    assert run.unchanged_caveat.startswith("Check the edits before this answer: the images hardly change under 'hue")
    paths = report.write_report(run, tmp_path, figures=())
    assert json.loads(paths["json"].read_text())["caveat"] == run.unchanged_caveat
    page = paths["html"].read_text()
    caveat = page.index("<b>Check the edits before this answer:</b> the images hardly change")
    assert caveat < page.index("<b>Reading:</b>")
    # An agent's answer (MCP) leads its reading with it.
    from types import SimpleNamespace

    from propgrad.app.agent_result import run_document

    told = run_document(SimpleNamespace(explanation=run, comparison=None, settings=None, notes=()))
    assert told["reading"].startswith(run.unchanged_caveat + " Reading:")
    # A visible edit has none, in the file too.
    darker = pg.explain(grey, ParametricEdit("darken", stop=0.85, steps=9), [Redness()], n_permutations=200, seed=0)
    assert darker.unchanged_caveat is None and report.to_dict(darker)["caveat"] is None


def test_a_figure_that_fails_is_named_and_the_rest_stays(explanation, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no backend for this figure")

    monkeypatch.setattr(plots, "null_distributions", broken)
    with pytest.warns(UserWarning, match="figure 'null'.*no backend"):
        paths = report.write_report(explanation, tmp_path)
    assert "null" not in paths and paths["json"].is_file() and paths["strip"].is_file()
    page = paths["html"].read_text()
    assert_self_contained(page)
    assert "Shuffle-test null distributions: missing" in page and "RuntimeError: no backend for this figure" in page
    assert page.count('src="data:image/png;base64,') == 4


def test_the_table_shows_each_rows_reading(explanation, tmp_path):
    from propgrad.reading import read_explanation

    page = report.write_report(explanation, tmp_path, figures=())["html"].read_text()
    sentence = read_explanation(explanation)[0].full
    # Under the row's numbers, across the table's width: the numbers keep their columns beside a long sentence.
    assert "<th>reading</th>" not in page and '<tr class="main">' in page
    assert re.search(r'<tr class="detail"><td class="wide" data-label="reading" colspan="\d+">'
                     + re.escape(html_report.escape(sentence)) + "</td></tr>", page)
    # The page draws the reading's arrow as one character (a narrow page broke "->" in two); the JSON keeps it.
    assert " -> " in sentence and " \u2192 " in html_report.escape(sentence) and "-&gt;" not in page
    # One series: "series that flip: 1/1" beside "where it flips" read as a code; several series keep the count.
    assert len(explanation.series) == 1 and "series that flip" not in page
    rows = [{"model": "m", "series_flipped": "2/5"}, {"model": "n", "series_flipped": "0/5"}]
    assert html_report.page_rows(rows) == rows


def test_cells_and_missing_files():
    assert html_report.cell(True) == ("yes", False) and html_report.cell(0.0123456) == ("0.012", True)  # the one number format (formats.format_number)
    assert html_report.cell(float("nan")) == ("", True) and html_report.cell([1, 4]) == ("1, 4", False)
    assert "gone.png was not found" in html_report.figure("strip", Path("/nonexistent/gone.png"))
    with pytest.raises(ValueError, match="`source`: 'a.txt' is not an image"):
        html_report.data_uri("a.txt")


def test_comparison_page_holds_every_property(tmp_path):
    image = Image.new("RGB", (24, 16), (200, 90, 90))
    comparison = compare_properties(image, {"darker": ParametricEdit("darken", steps=4),
                                            "bluer": ParametricEdit("hue", stop=120, steps=4)}, [Redness()],
                                    n_permutations=100, seed=0)
    paths = write_comparison(comparison, tmp_path, figures=("strip", "null"))
    page = paths["html"].read_text()
    assert_self_contained(page)
    assert ">Ranked properties</h2>" in page and ">darker</h2>" in page and ">bluer</h2>" in page
    assert "adjusted p" in page and "pvalue_adjusted" not in page and "{'class'" not in page  # words, not keys or dicts
    # comparison.png, and per property: input, strip, null.
    assert page.count('src="data:image/png;base64,') == 1 + 2 * 3
    folders = {p.parent.name for k, p in paths.items() if "/" in k}
    assert all((tmp_path / folder / "report.html").is_file() for folder in folders)
    assert all(f"<code>{folder}/report.html</code>" in page for folder in folders)  # each property's own page, named


def test_a_comparison_shows_a_strip_drawn_elsewhere(tmp_path):
    """The app draws one strip of every property; its comparison's report.html showed only step 0 of each."""
    image = Image.new("RGB", (24, 16), (200, 90, 90))
    comparison = compare_properties(image, {"darker": ParametricEdit("darken", steps=4)}, [Redness()],
                                    n_permutations=50, seed=0)
    Image.new("RGB", (40, 10), (10, 200, 10)).save(tmp_path / "app-strip.png")
    paths = write_comparison(comparison, tmp_path / "out", figures=("strip", "curves"),
                             drawn={"strip": tmp_path / "app-strip.png"})
    page = paths["html"].read_text()
    assert paths["strip"] == tmp_path / "out" / "strip.png" and paths["strip"].is_file()
    assert ">Steps of each property</h2>" in page
    # Each property's report has its own strip; the page with every property's does not show them again.
    own = next(path for key, path in paths.items() if key.endswith("/html")).read_text()
    assert "Steps of the intervention" in own and "Steps of the intervention" not in page
    # A strip named but not there: the page says so, and each property's section shows its own instead.
    gone = write_comparison(comparison, tmp_path / "gone", figures=("strip",), drawn={"strip": tmp_path / "no.png"})
    text = gone["html"].read_text()
    assert "no.png was not found" in text and "Steps of the intervention" in text
    assert page.index("Steps of each property") < page.index(">darker</h2>")  # near the top, before the sections
    # Drawn after the page was written (the app's way): put where the page left room for it, once.
    late = write_comparison(comparison, tmp_path / "late", figures=("curves",))
    assert "Steps of each property" not in late["html"].read_text()
    assert html_report.add_strip(late["html"], tmp_path / "app-strip.png")
    assert late["html"].read_text().count(">Steps of each property</h2>") == 1
    assert not html_report.add_strip(late["html"], tmp_path / "app-strip.png")


def test_a_comparison_shows_curves_drawn_elsewhere_instead_of_its_own_figure(tmp_path):
    """The app draws every property's curves for its page; its comparison's report.html drew them again as
    comparison.png, a fifth of the time its files took."""
    image = Image.new("RGB", (24, 16), (200, 90, 90))
    comparison = compare_properties(image, {"darker": ParametricEdit("darken", steps=4)}, [Redness()],
                                    n_permutations=50, seed=0)
    Image.new("RGB", (40, 10), (10, 10, 200)).save(tmp_path / "app-curves.png")
    given = write_comparison(comparison, tmp_path / "given", figures=(), drawn={"curves": tmp_path / "app-curves.png"})
    page = given["html"].read_text()
    assert "figure" not in given and not (tmp_path / "given" / "comparison.png").exists()
    assert given["curves"].is_file() and page.count(">Model outputs along each property</h2>") == 1
    # Drawn after the page was written (the app's way: the page is written while the curves are drawn).
    late = write_comparison(comparison, tmp_path / "late", figures=(), drawn={"curves": None})
    assert "figure" not in late and ">Model outputs along each property</h2>" not in late["html"].read_text()
    assert html_report.add_drawn(late["html"], curves=tmp_path / "app-curves.png") == ["curves"]
    assert late["html"].read_text().count(">Model outputs along each property</h2>") == 1
    # A property's own page points to the comparison's page for its curves (the files there differ by caller).
    own_page = (tmp_path / "given" / next(k for k in given if k.endswith("/html")).split("/")[0] / "report.html")
    assert "<code>../report.html</code>" in own_page.read_text() and "comparison.png" not in own_page.read_text()
    assert_self_contained(own_page.read_text())
    # Named but not there: the page says so where the curves were.
    gone = write_comparison(comparison, tmp_path / "gone", figures=(), drawn={"curves": tmp_path / "nope.png"})
    assert "nope.png was not found" in gone["html"].read_text()
    # Without them, the comparison draws its own figure, as the command line's does.
    own = write_comparison(comparison, tmp_path / "own", figures=())
    assert own["figure"].name == "comparison.png" and ">Comparison</h2>" in own["html"].read_text()


def test_study_page(tmp_path):
    images = [Image.new("RGB", (24, 16), (int(v), 90, 90)) for v in (60, 200)]
    study = run_images(images, ParametricEdit("darken", steps=4), [Redness()], out=tmp_path, n_permutations=100)
    page = study.paths["report.html"].read_text()
    assert_self_contained(page)
    for heading in ("Summary", "Mean curves (band: one standard deviation)", "Score vs prediction flips",
                    "Settings", "Versions"):
        assert f">{heading}</h2>" in page, heading
    assert page.count('src="data:image/png;base64,') == 2 and "E[|grad_X\u00a0F|] mean" in page and "<th>score_mean" not in page


def test_study_page_names_a_failed_figure(tmp_path, monkeypatch):
    from propgrad.study import figures

    def broken(*args, **kwargs):
        raise ValueError("cannot scatter")

    monkeypatch.setattr(figures, "score_vs_flips", broken)
    images = [Image.new("RGB", (24, 16), (200, 90, 90))]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study = run_images(images, ParametricEdit("darken", steps=4), [Redness()], out=tmp_path, n_permutations=100)
    assert any("cannot scatter" in str(w.message) for w in caught)
    page = study.paths["report.html"].read_text()
    assert "Score vs prediction flips: missing" in page and "ValueError: cannot scatter" in page
    assert page.count('src="data:image/png;base64,') == 1


def test_reports_name_the_input_file_and_its_sha256(tmp_path):
    import hashlib

    from propgrad.paths import ASSETS

    path = ASSETS / "examples" / "chelsea.jpg"
    import propgrad as pg

    result = pg.explain(path, ParametricEdit("darken", steps=4), [Redness()], n_permutations=50)
    paths = report.write_report(result, tmp_path, figures=())
    data = json.loads(paths["json"].read_text())
    assert data["input"]["file"] == "chelsea.jpg"
    assert data["input"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert data["input"]["sha256"] in paths["html"].read_text()
    in_memory = pg.explain(Image.new("RGB", (24, 16)), ParametricEdit("darken", steps=4), [Redness()],
                           n_permutations=50)
    assert "pixels_sha256" in report.to_dict(in_memory)["input"]


def test_settings_write_counts_with_separators_and_other_numbers_as_they_are():
    """Seeds and sizes are copied by readers (12345, not 12,345; '12,345, 23,456' read as four numbers)."""
    shown = html_report.settings_list({"n_permutations": 10000, "seed": 12345, "seeds": [12345, 23456],
                                       "size": [1024, 768], "fresh seed": None, "alpha": 0.01})
    assert "<dd>10,000</dd>" in shown and "<dd>12345</dd>" in shown and "<dd>12345, 23456</dd>" in shown
    assert "<dd>1024, 768</dd>" in shown and "fresh seed" not in shown and "<dd>0.01</dd>" in shown


def test_settings_leave_out_what_was_left_unset_and_say_what_an_unset_seed_means():
    """"stop none" read as a run that never stopped: an unset setting (its default, which the values show) is not
    listed; an unset seed is a fresh random one; numbers keep four significant digits below 1000 (blur radii printed
    "0, 0.8889, 1.77778")."""
    shown = html_report.settings_list({"seed": None, "intervention": {"type": "ParametricEdit", "stop": None,
                                                                        "steps": 10, "radii": [0.0, 0.8889, 1.77778]}})
    assert "<dt>seed</dt><dd>none (a fresh random seed)</dd>" in shown and "stop" not in shown
    assert "<dd><code>ParametricEdit</code></dd>" in shown and "<dd>0, 0.8889, 1.778</dd>" in shown
    assert "left unset are not listed" in shown


def test_every_page_puts_its_notes_under_its_summary(tmp_path):
    # A note that nothing could come out significant explains the table below it: on a single run's page it sat
    # in the settings at the bottom, on a comparison's after its figures. Every kind now puts notes up top.
    few = pg.explain(None, [ramp(9)], [Redness()], outputs_of_interest="predicted", n_permutations=5, seed=0)
    assert any("5 permutations" in note for note in few.notes)
    page = report.write_report(few, tmp_path / "one", figures=())["html"].read_text()
    # Where it means that "not significant" is no evidence, it is the caveat before the reading, and said once.
    caveat = page.index('<b>Check the settings before this answer, where &quot;not significant&quot; is no evidence '
                        'either way:</b> with 5 permutations')
    assert caveat < page.index("<b>Reading:</b>") < page.index(">Scores</h2>")
    assert page.count("with 5 permutations the smallest p-value") == 1  # not repeated as a note, nor in the settings
    # The page opens as the app's result does: what was done, then the reading.
    assert page.index("<p>redness: 9 steps of redness, 0 to 1; shuffle test with 5 permutations") < page.index(
        "<b>Reading:</b>")

    image = Image.new("RGB", (24, 16), (200, 90, 90))
    comparison = compare_properties(image, {"darker": ParametricEdit("darken", steps=9),
                                            "bluer": ParametricEdit("hue", stop=120, steps=9)}, [Redness()],
                                    n_permutations=5, seed=0)
    page = write_comparison(comparison, tmp_path / "two", figures=())["html"].read_text()
    # In the answer, first (what makes its "not significant" no evidence), and not again as a note.
    assert page.index("<b>Check the settings before this answer, where &quot;not significant&quot; is no evidence "
                      "either way:</b> with 5 permutations") < page.index(">Ranked properties</h2>")
    assert page.count("with 5 permutations the smallest p-value") == 1 and ">Notes</h2>" not in page


def test_the_plain_test_says_so_beside_the_adjusted_one():
    """A screen's card read "significant: yes" over a reading of "strong, not significant" (judged after adjustment):
    beside an adjusted column the plain one is named for what it is."""
    row = {"pvalue": 0.0085, "pvalue_adjusted": 0.021, "significant": True, "significant_adjusted": False}
    shown = html_report.table([row])
    assert "<th>significant before adjustment</th>" in shown and "<th>significant after adjustment</th>" in shown
    assert "<th>significant</th>" in html_report.table([{"pvalue": 0.0085, "significant": True}])


def test_each_propertys_report_json_holds_its_own_steps_and_intervention(tmp_path):
    """A comparison of 9 and 5 steps: each property's folder re-runs as that property (the 5-step one's report.json
    said 9 steps, the comparison's first property's), and names the comparison it belongs to."""
    image = Image.new("RGB", (24, 16), (200, 90, 90))
    comparison = compare_properties(image, {"darker": ParametricEdit("darken", steps=9),
                                            "bluer": ParametricEdit("hue", stop=120, steps=5)}, [Redness()],
                                    n_permutations=5, seed=0)
    write_comparison(comparison, tmp_path, figures=())
    everything = json.loads((tmp_path / "comparison.json").read_text())["settings"]
    for folder in sorted(path for path in tmp_path.iterdir() if path.is_dir()):
        settings = json.loads((folder / "report.json").read_text())["settings"]
        name = "darker" if "darker" in folder.name else "bluer"
        assert settings["n_steps"] == {"darker": 9, "bluer": 5}[name], folder
        assert list(settings["interventions"]) == [name]
        assert settings["interventions"][name] == everything["interventions"][name]
        assert settings["comparison"] == {"file": "../comparison.json", "properties": ["darker", "bluer"]}


def test_the_guide_says_p_as_each_statistic_tests_it():
    """The guide called p "at least as high as in the true order" for the two-sided gradient test: a student who
    recomputed the unbiased model's fur row by it got 0.91 where the report said 0.18."""
    from propgrad.score import CORRELATION, DEFAULT_ALTERNATIVE, GRADIENT, P_MEANING

    gradient, correlation = html_report.guide_section(GRADIENT), html_report.guide_section(CORRELATION)
    assert DEFAULT_ALTERNATIVE[GRADIENT] == "two-sided" and "in either direction" in gradient
    assert html_report.escape(P_MEANING["greater"]) in correlation and "either direction" not in correlation
    # The reading's words are defined where the tables use them, with the thresholds in force.
    assert all(word in gradient for word in ("abrupt", "erratic", "U-shaped", "negligible under 0.01"))
    with pytest.raises(ValueError, match="no term 'Delta-E'"):
        html_report.guide_section(GRADIENT, own={"Delta-E": None})


def test_a_region_runs_page_gives_the_regions_share_in_words(tmp_path):
    # "region: coverage 0.7346" asked a student to know what the number was a share of.
    from propgrad.interventions.region import Region

    mask = np.zeros((16, 24))
    mask[:, :6] = 1.0
    run = pg.explain(Image.new("RGB", (24, 16), (200, 90, 90)), Region(ParametricEdit("darken", steps=4), mask),
                     [Redness()], outputs_of_interest="predicted", n_permutations=50, seed=0)
    page = report.write_report(run, tmp_path / "one", figures=())["html"].read_text()
    assert "<dt>region</dt><dd>25\u00a0% of the image</dd>" in page
    assert report.to_dict(run)["region"] == {"coverage": 0.25}  # the JSON keeps the number


def test_a_wide_table_keeps_its_columns_and_puts_the_reading_under_each_row():
    # As cards, a screen's 102 rows were 11,900 px of label: value pairs with no column to run down.
    long = "strong, not significant, flips: p(cat) 0.96 -> 0.06, lowest 0.01 at step 5 (rotation 100 degrees), flips"
    rows = [{"rank": rank, "property": "whole image: rotation", "model": model, "output": "cat", "change": 0.99,
             "tier": "a", "flips": "step 3: cat -> dog", "score": 0.29, "pvalue": 0.87, "reading": long}
            for rank, model in enumerate(["ConvMixer cats vs dogs, unbiased (authors)",
                                          "ConvMixer cats vs dogs, dark-cats bias (authors)"], 1)]
    page = html_report.table(html_report.page_rows(rows))
    assert 'class="cards"' not in page and page.count('<tr class="main">') == page.count('<tr class="detail">') == 2
    assert '<td data-label="model">dark-cats bias</td>' in page and "<th>reading</th>" not in page
    assert 'colspan="9"' in page  # the reading spans the nine columns above it
    assert html_report.models_line(rows) == ('<p class="hint">Models: unbiased: ConvMixer cats vs dogs, unbiased '
                                             '(authors); dark-cats bias: ConvMixer cats vs dogs, dark-cats bias '
                                             '(authors).</p>')
    # Short texts only, more columns than a laptop holds: one card per row, as before.
    many = [{f"column {number}": number for number in range(10)}]
    assert html_report.table(many).startswith('<table class="cards">')


def test_a_short_reading_goes_under_its_row_too_and_an_empty_text_leaves_no_line():
    # By its name: a reading of 55 characters left a single run's nine columns folded into a card.
    rows = [{"model": "m", "output": "cat", "change": 0.4, "tier": "a", "score": 0.04, "pvalue": 0.001,
             "significant": True, "flips": "", "reading": "strong and systematic: p(cat) 0.90 -> 0.50, steady fall"},
            {"model": "m", "output": "dog", "change": 0.4, "tier": "a", "score": 0.04, "pvalue": 0.001,
             "significant": True, "flips": "step 3: cat -> dog; " * 6, "reading": ""}]
    page = html_report.table(rows)
    assert 'class="cards"' not in page and page.count('<tr class="main">') == 2
    # The long list of flips goes under its row; the first row's empty one and the second's empty reading do not.
    assert page.count('data-label="where it flips" colspan') == 1 and page.count('data-label="reading" colspan') == 1


def test_the_tested_line_says_how_the_p_values_were_made():
    table = [{}] * 12
    line = html_report.how_tested_line({"table": table, "n_permutations": 10_000, "alpha": 0.01,
                                        "adjustment": "Benjamini-Hochberg (false discovery rate)"})
    assert ("12 rows (property x model x output), each row's statistic against 10,000 shuffles of its series; "
            "p-values adjusted over all 12 with Benjamini-Hochberg (false discovery rate); alpha = 0.01.") in line
    # One row's p-value is its own.
    one = html_report.how_tested_line({"table": [{}], "n_permutations": 200, "alpha": 0.01, "adjustment": "x"})
    assert "one row" in one and "adjusted" not in one


def test_a_study_page_where_nothing_finished_explains_no_table():
    page = html_report.study_page("Study", "Reading: no item finished, so there is nothing to read.", [], {}, {},
                                  skipped=[("a.png", "not an image")],
                                  flips={"method": "METHOD", "note": "n", "rows": [], "columns": ""}, legend="LEGEND")
    assert "No item finished" in page and "a.png" in page
    assert "Ranked by" not in page and "METHOD" not in page and "LEGEND" not in page and "no rows" not in page


def test_paths_may_break_after_each_slash():
    """A study's long image paths made a 390 px page scroll sideways; its settings broke a path mid-name."""
    listed = html_report._images_list([{"image": "/data/lesions/melanoma_1.png", "SHA-256": "ab"}])
    assert "/<wbr>data/<wbr>lesions/<wbr>melanoma_1.png" in listed
    assert "/<wbr>patches/<wbr>sticker_1.png" in html_report.settings_list({"patches": ["/a/patches/sticker_1.png"]})


def test_joined_caveats_each_lead_in_bold():
    """An edit that hardly changes the images and settings that cannot reach alpha join two caveats: the second's
    lead-in stayed plain in report.html and the app."""
    from propgrad.app.results import caveat_markdown
    from propgrad.checks import untestable_caveat
    from propgrad.export.html import caveat_paragraph

    joined = ("Check the edits before this answer: the images hardly change under 'hue'. "
              + untestable_caveat("with 3 steps no order can reach alpha"))
    page = caveat_paragraph(joined)
    assert page.count("<b>Check the") == 2 and "either way:</b> with 3 steps" in page
    assert caveat_markdown(joined).count("**Check the") == 2
    assert caveat_markdown("the images: hardly change") == "the images: hardly change"  # no lead-in, nothing bold
    # In a comparison's or a screen's answer too, whose first points are its caveats.
    from propgrad.app.results import answer_markdown
    from propgrad.export.html import answer_paragraphs

    assert answer_markdown([joined, "unbiased: no property moved p(cat)."]).count("**Check the") == 2
    assert answer_paragraphs([joined]).count("<b>Check the") == 2
