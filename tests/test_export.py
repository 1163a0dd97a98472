"""One way out: export.write, rows, to_dict and zip_files answer for every result kind alike."""
from __future__ import annotations

import csv
import re
import zipfile

import numpy as np
import pytest
from PIL import Image

from propgrad import export
from propgrad.compare import compare_properties
from propgrad.explain import explain
from propgrad.export.explanation import summary_rows
from propgrad.interventions import ParametricEdit
from propgrad.screen import screen
from propgrad.study import run_images
from toy_models import Drift, Flip, Redness


IMAGE = Image.new("RGB", (32, 24), (200, 90, 90))


def results(tmp_path):
    edit = ParametricEdit("darken", steps=4)
    study = run_images([IMAGE, Image.new("RGB", (32, 24), (120, 90, 90))], edit, [Redness()], out=tmp_path / "study",
                       n_permutations=50)
    return {
        "explanation": explain(IMAGE, edit, [Redness()], n_permutations=50),
        "comparison": compare_properties(IMAGE, {"darker": edit, "bluer": ParametricEdit("hue", stop=120, steps=4)},
                                         [Redness()], n_permutations=50),
        "screen": screen(IMAGE, [Redness()], edits=["darken", "hue"], regions=["whole image"], steps=4,
                         n_permutations=50),
        "study": study.folder,
    }


def test_every_kind_goes_out_the_same_way(tmp_path):
    for kind, result in results(tmp_path).items():
        paths = export.write(result, tmp_path / kind)
        assert any(name.endswith("html") for name in paths), kind
        # Column titles in words on every page: no field name such as pvalue_adjusted or n_images.
        for page in (path for path in paths.values() if path.suffix == ".html"):
            titles = re.findall(r"<th>([^<]*)</th>", page.read_text())
            assert titles and not [t for t in titles if re.fullmatch(r"[a-z]+(_[a-z]+)+", t)], (kind, titles)
        rows = export.rows(result)
        assert rows, kind
        if kind != "study":
            assert all(row["reading"] and row["statistic"] == "gradient" and "change" in row for row in rows), kind
            assert export.to_dict(result)["input"]["pixels_sha256"], kind
            # Every report.json carries a settings block, also when the caller gave none (screen.json had none).
            block = export.to_dict(result)["settings"]
            assert [model["name"] for model in block["models"]] == ["redness"] and block["n_steps"] == 4, kind
            assert block["input"]["pixels_sha256"] and block["outputs_of_interest"], kind
        else:
            assert {"tier", "statistic", "tier_a_share"} <= set(rows[0])
            assert all(row["reading"].startswith("mean curve: ") for row in rows)
        made = export.settings(result)
        assert made["alpha"] == 0.01 and (made["n_permutations"] if kind != "study" else made["permutations"]) == 50
        assert export.curves(result) and export.figures(result), kind
        bundle = export.zip_files(paths, tmp_path / f"{kind}.zip")
        with zipfile.ZipFile(bundle) as archive:
            names = archive.namelist()
            assert "report.html" in names and len(names) == len(set(names)), kind


def test_a_folder_used_again_holds_only_the_last_runs_files(tmp_path):
    # A whole-image run into a region run's folder kept region.png, and a comparison beside an explanation's
    # report.json left a script to read the wrong run; a file the package did not write stays.
    from propgrad.interventions import Region

    found = results(tmp_path)
    out = tmp_path / "reused"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    masked = explain(IMAGE, Region(ParametricEdit("darken", steps=4), np.ones((24, 32), bool)), [Redness()],
                     n_permutations=50)
    assert "region" in export.write(masked, out)
    export.write(found["explanation"], out)
    assert not (out / "region.png").exists() and (out / "report.json").is_file()
    written = export.write(found["comparison"], out)
    left = {path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file()}
    made = {path.resolve().relative_to(out.resolve()).as_posix() for path in written.values()}
    lists = {name for name in left if name.endswith(".propgrad-written.json")}  # what each folder's run wrote
    assert left - made - lists == {"notes.txt"}, left - made
    assert "report.json" not in left and "comparison.json" in left
    # A run stopped midway leaves its files listed as it writes them: the next run removes them too.
    from propgrad.export.folder import ReportFolder

    stopped = ReportFolder(out, "report.json")
    stopped.table("extra", "extra.csv", ["a"], [{"a": 1}])
    export.write(found["explanation"], out)
    assert not (out / "extra.csv").exists() and not (out / "comparison.json").exists()


def test_a_p_at_the_permutations_floor_is_said_to_be_no_exact_value(tmp_path):
    # The command line printed "p-value 0.0010 (significant)" for 1 / 1,001 and an agent got "0.0099" from 100
    # permutations with no word that p could not go lower; the app's legend said it.
    from propgrad.app.agent_result import screen_document

    steady = explain(IMAGE, ParametricEdit("darken", steps=8), [Drift()], n_permutations=99)
    assert steady.floor_words.startswith("p = 0.010 is the smallest p 99 permutations can give"), steady.floor_words
    still = screen(Image.new("RGB", (32, 24), (0, 0, 0)), [Drift()], edits=["blur"], regions=["whole image"], steps=4,
                   n_permutations=50)
    assert still.floor_words == "" and not [n for n in screen_document(still)["notes"] if "smallest p" in n]
    found = screen(IMAGE, [Drift()], edits=["darken"], regions=["whole image"], steps=8, n_permutations=99)
    assert found.floor_words and "before adjustment, p = 0.010 is the smallest" in " ".join(
        screen_document(found)["notes"])


def test_a_stopped_comparisons_parts_and_a_studys_own_files_are_handled(tmp_path):
    # A comparison stopped midway left its per-property folders, unlisted, for good; a study written where a report's
    # list stayed behind lost its own curves.csv, named in that list.
    from propgrad.export.explanation import write_report

    found = results(tmp_path)
    out = tmp_path / "stopped"
    write_report(found["comparison"].explanations["darker"], out / "darker")  # a part, then the stop
    export.write(found["explanation"], out)
    assert not (out / "darker").exists()
    folder = tmp_path / "listed"
    export.write(found["explanation"], folder)
    for path in folder.iterdir():
        if not path.name.startswith("."):
            path.unlink()  # `rm folder/*` leaves the list
    report = run_images([IMAGE, Image.new("RGB", (32, 24), (120, 90, 90))], ParametricEdit("darken", steps=4),
                        [Redness()], out=folder, n_permutations=50)
    assert (folder / "curves.csv").is_file() and report.summary


def test_every_strip_marks_each_models_first_flip():
    # A turntable's strip of 12 of 36 frames showed none of its flips; two strips on one page sampled different steps,
    # unexplained. One badge per model, at its first flip, naming it where several ran.
    from types import SimpleNamespace

    from propgrad import plots

    def read(model, output, steps):
        return SimpleNamespace(model=model, output=output, flip_steps=steps)

    readings = [read("Lesion CNN (biased)", "melanoma", [5, 7]), read("Lesion CNN (biased)", "nevus", [5, 7]),
                read("Lesion CNN (unbiased)", "melanoma", [9])]
    assert plots.first_flips(readings) == {5: "biased", 9: "unbiased"}
    assert plots.first_flips(readings[:2]) == {5: ""}
    flipped = explain(IMAGE, ParametricEdit("darken", steps=12), [Flip()], n_permutations=50)
    assert plots.first_flips(flipped.readings) == {11: ""}
    badge = np.all(np.asarray(plots.strip_picture(flipped, max_images=6)) == plots.FLIP_BADGE, axis=-1)
    steady = explain(IMAGE, ParametricEdit("darken", steps=12), [Drift()], n_permutations=50)  # no flip
    still = np.all(np.asarray(plots.strip_picture(steady, max_images=6)) == plots.FLIP_BADGE, axis=-1)
    assert badge.sum() > 50 and not still.any()


def test_something_else_is_refused():
    with pytest.raises(TypeError, match="must be an Explanation, a PropertyComparison, a Screen, a "
                                        "TrainingDynamics or a study folder"):
        export.write(42, "out")


def test_every_result_kind_shows_settings_curves_and_figures(tmp_path):
    """The same small surface for each kind: settings, curves (one record per step) and the figures offered."""
    from propgrad import ParametricEdit, compare_properties, explain, export
    from propgrad.models import Model

    class Mean(Model):
        name = "mean"
        output_names = ["bright", "dark"]

        def predict(self, images):
            means = np.array([np.asarray(image, dtype=float).mean() / 255 for image in images])
            return np.stack([means, 1 - means], axis=1)

    image = Image.fromarray(np.full((24, 24, 3), 120, dtype=np.uint8))
    one = explain(image, ParametricEdit("brightness", stop=1.5, steps=5), Mean(), outputs_of_interest="bright",
                  n_permutations=200, seed=3)
    made = export.settings(one)
    assert (made["statistic"], made["n_permutations"], made["seed"]) == ("gradient", 200, 3)
    assert made["input"]["width"] == 24 and "pixels_sha256" in made["input"]
    records = export.curves(one)
    assert len(records) == 5 and [r["step"] for r in records] == list(range(5))
    assert records[-1]["value"] > records[0]["value"] and records[0]["output"] == "bright"
    assert set(export.figures(one)) == {"strip", "curves", "null", "animation", "gradualness"}  # no region

    both = compare_properties(image, {"brighter": ParametricEdit("brightness", stop=1.5, steps=5),
                                      "darker": ParametricEdit("darken", stop=0.5, steps=5)}, Mean(),
                              outputs_of_interest="bright", n_permutations=200, seed=3)
    assert export.settings(both)["n_permutations"] == 200
    assert {r["property"] for r in export.curves(both)} == {"brighter", "darker"}
    written = export.write(both, tmp_path / "comparison")
    assert all((tmp_path / "comparison" / file).is_file() for file in export.figures(both).values())
    assert written["figure"].name == export.figures(both)["comparison"]


def test_the_vector_score_exports_and_draws_the_curve_it_measured(tmp_path):
    """curves.csv and curves.png of outputs='vector' held the predicted class's probability under the vector's
    label; and with several series the drawn mean was the distance of the mean outputs, below every series' own."""
    from propgrad import plots
    from propgrad.export.explanation import write_csv

    class Three:
        name, output_names, output_kind = "three", ["a", "b", "c"], "probability"

        def predict(self, images):
            red = np.array([np.asarray(image, dtype=float)[..., 0].mean() / 255 for image in images])
            logits = np.stack([4 * red, 2 - 2 * red, np.zeros_like(red)], axis=1)
            return np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)

    result = explain(IMAGE, ParametricEdit("darken", steps=6), [Three()], outputs_of_interest="vector",
                     n_permutations=50)
    model, score = result.models[0], result.models[0].scores[0]
    distance = 0.5 * np.abs(model.outputs[0] - model.outputs[0, :1]).sum(axis=1)
    path = write_csv(result, tmp_path / "curves.csv")
    column = [float(line.split(",")[-1]) for line in path.read_text().splitlines()[1:]]
    assert column == pytest.approx(distance, rel=1e-6) and column[0] == 0
    # The score is half the summed gradient magnitude over outputs (score_outputs' definition), read on that curve.
    assert score.score == pytest.approx(0.5 * np.abs(np.gradient(model.outputs[0], axis=0)).sum(axis=1).mean())
    drawn = plots.output_curves(result).axes[0].get_lines()[0].get_ydata()
    assert np.allclose(drawn, distance) and result.readings[0].text.startswith("distance")

    # Two series moving apart (darker, lighter): the mean line is the mean of the two distances, as is the reading.
    from propgrad.interventions import InterventionSeries

    ramps = [InterventionSeries([Image.new("RGB", (16, 16), (v, 90, 90)) for v in values], np.arange(6.0), "step",
                                label=label)
             for label, values in (("down", (150, 120, 90, 60, 30, 0)), ("up", (150, 170, 190, 210, 230, 250)))]
    both = explain(None, ramps, [Three()], outputs_of_interest="vector", n_permutations=50)
    model = both.models[0]
    each = [0.5 * np.abs(out - out[:1]).sum(axis=1) for out in model.outputs]
    mean, _ = model.curve(0, True)
    assert np.allclose(mean, np.mean(each, axis=0))
    assert np.allclose(plots.output_curves(both).axes[0].get_lines()[0].get_ydata(), mean)
    assert f"{mean[-1]:.2f}" in both.readings[0].text


def test_frames_are_named_with_their_hashes_as_the_input(tmp_path):
    """report.json said "input": null for frames, so a turntable run named none of its images."""
    import hashlib

    from propgrad.interventions.frames import Frames

    paths = []
    for number in range(4):
        path = tmp_path / f"frame_{number}.png"
        Image.new("RGB", (32, 24), (60 * number, 90, 90)).save(path)
        paths.append(path)
    result = explain(None, Frames(paths), [Redness()], n_permutations=50)
    frames = export.to_dict(result)["input"]["frames"]
    assert [(one["file"], one["sha256"]) for one in frames] == [
        (path.name, hashlib.sha256(path.read_bytes()).hexdigest()) for path in paths]
    page = export.write(result, tmp_path / "out")["html"].read_text()
    assert "4 frames: frame_0.png, frame_1.png, frame_2.png, frame_3.png" in page


def test_every_page_says_what_its_models_are_and_what_its_terms_mean(tmp_path):
    """A student reading a shared report.html met "dark-cats bias", E[|grad_X F|] and Delta E undefined: every page
    now ends with how to read it, the models' registered descriptions first."""
    from propgrad.export.html import escape
    from propgrad.models.registry import get_model, register_model, unregister_model

    about = "a test model trained on red things only"
    register_model("redness", Redness, about)
    try:
        model = get_model("redness")
        assert model.description == about
        edit = ParametricEdit("darken", steps=4)
        kinds = {"explanation": explain(IMAGE, edit, model, n_permutations=50),
                 "comparison": compare_properties(IMAGE, {"darker": edit, "bluer": ParametricEdit("hue", stop=120,
                                                                                                   steps=4)},
                                                  model, n_permutations=50),
                 "screen": screen(IMAGE, model, edits=["darken"], regions=["whole image"], steps=4, n_permutations=50)}
    finally:
        unregister_model("redness")
    for kind, result in kinds.items():
        paths = export.write(result, tmp_path / kind)
        page = next(path for path in paths.values() if path.name == "report.html").read_text()
        guide = page[page.index('<h2 id="guide">How to read this page</h2>'):page.index("<h2>Settings</h2>")]
        assert f"<b>redness</b>: {about}" in guide, kind
        for term in ("change", "E[|grad_X F|]", "p, significant", "flip", "Delta E"):
            assert f"<dt>{escape(term)}</dt>" in guide, (kind, term)  # the gradient's name on one line
        assert "about 2.3 is just visible" in guide and "one percentage point, for a probability" in guide
        assert '<a href="#guide">' in page, kind  # the tables point to it
    assert export.to_dict(kinds["explanation"])["models"][0]["description"] == about
    # A model built without the registry has no description: the page names it only.
    plain = export.write(explain(IMAGE, ParametricEdit("darken", steps=4), Redness(), n_permutations=50),
                         tmp_path / "plain")
    assert "<li><b>redness</b></li>" in plain["html"].read_text()


def test_a_json_document_cut_off_by_a_full_disk_is_not_left_behind(tmp_path, monkeypatch):
    """screen.json was left at 8,192 bytes by a full disk: no JSON reader takes it, and it passed for a result. The
    document is written beside its name and renamed, so a failure at any point leaves no cut file under either name."""
    import errno
    import os

    from propgrad import disk
    from propgrad.export import tables

    def full_at_sync(descriptor):  # a delayed-allocation file system says ENOSPC when the data is made durable
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_at_sync)
    target = tmp_path / "screen.json"
    with pytest.raises(OSError):
        tables.write_json(target, {"rows": list(range(1000))})
    assert list(tmp_path.iterdir()) == []
    # write_whole itself keeps what was there before a failed write: the old document, whole.
    kept = tmp_path / "study.json"
    kept.write_text('{"old": true}')
    with pytest.raises(OSError):
        disk.write_whole(kept, '{"new": true}')
    assert kept.read_text() == '{"old": true}' and list(tmp_path.iterdir()) == [kept]
    monkeypatch.undo()
    assert disk.write_whole(kept, '{"new": true}').read_text() == '{"new": true}'
    assert list(tmp_path.iterdir()) == [kept]


def test_every_csv_keeps_every_digit_of_the_numbers(tmp_path):
    """A CSV is data to compute with (issue 23, item 3): its numbers are the results' own floats, not six significant
    digits of them (a p-value of 1/10001 used to read 9.999e-05)."""
    import csv

    made = results(tmp_path)
    for kind, name in (("comparison", "comparison.csv"), ("screen", "screen.csv")):
        with (export.write(made[kind], tmp_path / kind)["csv"]).open(newline="") as handle:
            written = list(csv.DictReader(handle))
        rows = export.rows(made[kind])
        assert len(written) == len(rows), kind
        for cells, row in zip(written, rows):
            for column in ("change", "score", "pvalue", "pvalue_adjusted"):
                assert float(cells[column]) == row[column], (kind, column)
    # The curves behind a screen's rows go out too (its readings could not be re-plotted from the zip).
    with (tmp_path / "screen" / "screen_curves.csv").open(newline="") as handle:
        curves = list(csv.DictReader(handle))
    assert [float(row["value"]) for row in curves] == [row["value"] for row in export.curves(made["screen"])]
    explanation = made["explanation"]
    paths = export.write(explanation, tmp_path / "explanation")
    # One run's table as a CSV too (p, the score and the tier were in report.json alone), as every other kind has.
    with paths["table"].open(newline="") as handle:
        scores = list(csv.DictReader(handle))
    assert [(float(row["score"]), float(row["pvalue"]), row["tier"]) for row in scores] == [
        (row["score"], row["pvalue"], row["tier"]) for row in export.rows(explanation)]
    with paths["csv"].open(newline="") as handle:
        written = list(csv.reader(handle))[1:]
    values = [float(cell) for line in written for cell in line[2:]]
    expected = []
    for s, series in enumerate(explanation.series):
        for step, value in enumerate(series.values):
            expected.append(float(value))
            expected += [float(model.series_curves(score.index, score.vector)[s, step])
                         for model in explanation.models for score in model.scores]
    assert values == expected and any(len(cell) > 8 for line in written for cell in line[2:])
    # report.json too: the outputs at each step (they kept seven decimals) and the gradualness figures (five and six).
    document = export.to_dict(explanation)
    model = explanation.models[0]
    assert document["models"][0]["outputs"] == model.outputs.mean(axis=0).tolist()
    assert document["series_gradualness"][0]["change"] == [float(v) for v in explanation.gradualness[0].change]


def test_the_settings_say_what_was_asked_for_the_outputs(tmp_path):
    """The JSON keeps what was asked ("predicted", which another image resolves to its own class); the page names
    this image's class and says it was the predicted one (a reader re-ran "red" where the JSON said "predicted"), and
    a screen asked per model with None says "predicted" there too (the page showed an empty row)."""
    explanation = explain(IMAGE, ParametricEdit("darken", steps=4), [Redness()], n_permutations=50)
    # As the app records a run (propgrad.export.provenance.run_settings); made without, the JSON has what was scored.
    paths = export.write(explanation, tmp_path / "one", settings={"outputs_of_interest": "predicted"})
    assert "red (asked: each model&#x27;s predicted class at step 0)" in paths["html"].read_text()
    assert export.to_dict(explanation)["settings"]["outputs_of_interest"] == {"redness": ["red"]}
    per_model = screen(IMAGE, [Redness()], edits=["darken"], regions=["whole image"], steps=4, n_permutations=50,
                       outputs_of_interest={"redness": None})
    assert export.to_dict(per_model)["settings"]["outputs_of_interest"] == {"redness": "predicted"}


def test_a_single_runs_rows_are_ranked_by_what_the_output_did(tmp_path):
    # Several models of one run stood in the order given: the drift, "significant", led the table, scores.csv and
    # report.html over the next model's flip.
    image = Image.fromarray(np.full((32, 32, 3), 200, dtype=np.uint8))
    result = explain(image, ParametricEdit("darken", stop=0.8, steps=8), [Drift(), Flip()],
                        outputs_of_interest="a", n_permutations=500, seed=0)
    drift, flip = (result.model(name).scores[0] for name in ("drift", "flip"))
    assert drift.significant and flip.score > 100 * drift.score  # the case: p favours the drift
    rows = summary_rows(result)
    assert [row["model"] for row in rows] == ["flip", "drift"] and rows[0]["tier"] < rows[1]["tier"]
    written = export.write(result, tmp_path / "run", figures=())
    with open(written["table"], newline="") as handle:
        assert [row["model"] for row in csv.DictReader(handle)] == ["flip", "drift"]
    page = written["html"].read_text(encoding="utf-8")
    assert page.index(">flip<") < page.index(">drift<")


def test_a_p_value_beside_alpha_shows_the_side_it_lies_on():
    # p = 0.0103 read "0.010" beside "not significant" at alpha = 0.01, in every table and reading.
    from propgrad.export.html import table
    from propgrad.formats import format_pvalue

    assert (format_pvalue(0.0103, 0.01), format_pvalue(0.0103), format_pvalue(0.0097, 0.01)) == ("0.0103", "0.010",
                                                                                                 "0.0097")
    page = table([{"model": "m", "pvalue": 0.0103, "pvalue_adjusted": 0.01049, "score": 0.0103}], alpha=0.01)
    assert ">0.0103<" in page and ">0.0105<" in page and ">0.010<" in page  # the score keeps two digits


def test_a_rows_flips_name_the_place_its_reading_names():
    # "where it flips: step 7: a -> b" stood beside a reading's "flips to b at 80 % darker".
    image = Image.fromarray(np.full((32, 32, 3), 200, dtype=np.uint8))
    edit = ParametricEdit("darken", stop=0.8, steps=8)
    result = explain(image, edit, [Flip()], outputs_of_interest="a", n_permutations=200, seed=0)
    row, = summary_rows(result)
    assert row["flips"] == "step 7 (80 % darker): a -> b" and "flips to b at 80 % darker" in row["reading"]
    compared = compare_properties(image, {"dark": edit, "light": ParametricEdit("lighten", stop=0.5, steps=8)},
                                  [Flip()], outputs_of_interest="a", n_permutations=200, seed=0)
    flips = {entry["property"]: entry["flips"] for entry in export.rows(compared)}
    # The toy flips where the image is darkest: at step 0 of the lightening.
    assert flips == {"dark": "step 7 (80 % darker): a -> b", "light": "step 1 (7 % lighter): b -> a"}
    screened = screen(image, [Flip()], edits=["darken"], regions=["whole image"], steps=8, outputs_of_interest="a",
                      n_permutations=200, seed=0)
    assert screened.rows[0].flips.startswith("step 7 (") and "darker): a -> b" in screened.rows[0].flips
