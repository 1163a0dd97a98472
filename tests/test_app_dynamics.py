"""The training-dynamics tab's handler."""
from __future__ import annotations

import csv
import hashlib
import json
import zipfile

import pytest

from app_cases import *  # noqa: F403  (helpers and fixtures)
from propgrad.lesions.dynamics import ROW_FIELDS
from propgrad.lesions.models import checkpoint_paths
from propgrad.formats import format_number, format_output

# A checkpoint's reading: a class's label, a flip with the shuffle test's verdict when it does not confirm it.
# Every label a checkpoint can get, as the curves' labels read (a checkpoint has no shape: no "abrupt", no "erratic").
READING_LABELS = {"strong and systematic", "strong, not significant",
                  "strong, not significant, flips", "small but systematic", "small but systematic, flips",
                  "small, not significant", "small, not significant, flips", "systematic but negligible",
                  "no measurable effect"}

pytestmark = pytest.mark.slow  # runs models or a server end to end: seconds each


def test_training_dynamics_handler(progress):
    variants = dynamics_tab.dynamics_variants()
    if not variants:
        pytest.skip("the lesion scenario's per-epoch checkpoints are not in this build")
    image = str(lesion_examples()[0])
    summary, plot, table, bundle = dynamics_tab.run_dynamics(image, variants[:1], 4, 0, 500, 0.01,
                                                             progress=progress)
    # Like the other tabs, a zip of the report: the page in words, every digit and setting, the table, the figure.
    with zipfile.ZipFile(bundle) as archive:
        assert sorted(archive.namelist()) == ["dynamics.csv", "dynamics.json", "dynamics.png", "report.html"]
        archive.extractall(Path(bundle).parent / "unzipped")
    csv_path = Path(bundle).parent / "unzipped" / "dynamics.csv"
    document = json.loads((csv_path.parent / "dynamics.json").read_text())
    page = (csv_path.parent / "report.html").read_text()
    assert document["kind"] == "dynamics" and document["input"]["file"] == Path(image).name
    assert document["input"]["sha256"] == hashlib.sha256(Path(image).read_bytes()).hexdigest()
    assert document["settings"]["n_steps"] == 4 and document["settings"]["checkpoints"][variants[0]]
    # Each checkpoint by its contents too: two runs' epoch01 files read alike by name.
    assert document["settings"]["checkpoints"][variants[0]] == [
        {"file": Path(path).name, "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest()}
        for path in checkpoint_paths(variants[0])]
    assert document["settings"]["intervention"]["type"] == "PatchBlend"
    assert [row["epoch"] for row in document["table"]] == [int(row[1]) for row in table]
    assert "Reading:" in page and document["input"]["sha256"] in page and "Per checkpoint" in page
    # Each sticker's last step, not the first series' alone.
    assert all(f"step 3, the last: {name}" in page for name in ("sticker 1", "sticker 2", "sticker 3"))
    # "How to read this page" as on every report.html, linked from under the table, without Delta E (not shown here).
    guide = page[page.index('<h2 id="guide">'):page.index("<h2>Settings</h2>")]
    assert 'href="#guide"' in page and "E[|grad_X" in guide and "flip" in guide and "Delta E" not in guide
    # Its change is step 0 to the last step, as the table's column says, not the curve's highest minus lowest.
    assert "from step 0 to the last step" in guide and "highest minus" not in guide and "no shape" in guide
    assert Image.open(plot).format == "PNG" and len(table) >= 2 and csv_path.read_text().count("\n") == len(table) + 1
    # The page shows what every checkpoint saw (step 0 and each sticker's last step) beside the report's figure,
    # which is in the zip alone: "what was changed?" had no answer on the tab.
    with Image.open(csv_path.parent / "dynamics.png") as figure, Image.open(plot) as shown:
        assert shown.height >= figure.height and shown.width > figure.width + 300
        pixels, top = np.asarray(shown.convert("RGB")), (shown.height - figure.height) // 2
        assert np.array_equal(pixels[top:top + figure.height, -figure.width:], np.asarray(figure.convert("RGB")))
        assert (pixels[:, :300] < 200).any(axis=2).mean() > 0.3  # the lesion pictures, not white space
    # Like the other tabs: a reading in words first, and each checkpoint's reading in the table.
    assert summary.count("Reading:") == 1 and f"{variants[0]}: " in summary and "from epoch" in summary
    assert "is not in this run: add it" in summary and "Both react" not in summary  # one variant shown
    # The gradient's name held on one line, as on every tab (the talk view broke it after "grad_X").
    assert "grad_X F" not in summary and "grad_X\u00a0F" in summary
    assert all(row[2] in READING_LABELS for row in table), [row[2] for row in table]
    # The page shows the app's one number format and signif. like every tab; the CSV keeps every digit.
    # What the output did comes before the statistic, as in every ranked table.
    assert dynamics_tab.DYNAMICS_HEADERS[2:8] == ["reading", "mean p(melanoma), step 0 \u2192 last", "change, step 0 to last",
                                                  "E[|grad_X\u00a0F|]", "p", "signif."]
    assert {row[7] for row in table} <= {"yes", "no"}  # words, not "S"
    # The change the size rests on, shown so that a row's word agrees with its own numbers (0.86 -> 0.96 read
    # "small", 0.84 -> 0.94 "strong": the change was 0.0996 and 0.1004).
    assert all(abs(float(row[4])) >= 0.1 for row in table if row[2].startswith("strong"))  # signed: a fall too
    assert all(abs(float(row[4])) < 0.1 for row in table if row[2].startswith("small"))
    assert all(value == format_number(float(value)) for row in table for value in (row[5], row[6]))
    # The share of series that flipped in percent, as the reading under the plot says it.
    assert all(row[8] == f"{100 * float(one['flip_share']):.0f}\u00a0%" for row, one in
               zip(table, csv.DictReader(Path(csv_path).open())))
    exact = list(csv.DictReader(Path(csv_path).open()))
    # One description of a checkpoint: the CSV's columns are the records' fields, the page's rows their rounding.
    assert list(exact[0]) == list(ROW_FIELDS)
    assert table[0][3] == f"{format_output(float(exact[0]['output_start']))} \u2192 {format_output(float(exact[0]['output_end']))}"
    assert [row["reading"] for row in exact] == [row[2] for row in table]
    assert float(exact[0]["score"]) == pytest.approx(float(table[0][5]), rel=0.05)
    assert len(exact[0]["score"]) > len(table[0][5]) and exact[0]["significant"] in ("True", "False")
    with pytest.raises(gr.Error, match="`variants`: tick at least one"):
        dynamics_tab.run_dynamics(image, [], 4, 0, 500, 0.01, progress=progress)
    with pytest.raises(gr.Error, match="no per-epoch checkpoints"):
        dynamics_tab.run_dynamics(image, ["no such variant"], 4, 0, 500, 0.01, progress=progress)


def test_training_dynamics_tab_opens_with_its_default_and_offers_presets():
    variants = dynamics_tab.dynamics_variants()
    if not variants:
        pytest.skip("the lesion scenario's per-epoch checkpoints are not in this build")
    rows, labels = dynamics_tab.dynamics_examples(variants)
    assert len(rows) == len(labels) >= 2 and all(Path(row[0]).is_file() for row in rows)
    summary, plot, table, bundle = dynamics_tab.default_result()
    assert "Reading:" in summary and len(table) == sum(len(checkpoint_paths(v)) for v in variants)


def test_every_epoch_but_is_said_only_of_a_reading_that_held_nearly_throughout():
    from propgrad.lesions.dynamics import settled_words

    assert settled_words(list("sssfss"), list(range(1, 7)), "E") == "s at every epoch (E) except epoch 4 (f)"
    assert settled_words(list("sffsss"), list(range(1, 7)), "E") == "s at every epoch (E) except epochs 2-3 (f)"
    # Held at two of eight, or alternating: "at every epoch but ..." would overstate it.
    assert settled_words(list("xssssssx"), list(range(1, 9)), "E").startswith("x at the last epoch (8) (E); before that")
    assert settled_words(list("abab"), [1, 2, 3, 4], "E").startswith("b at the last epoch (4) (E); before that")
    assert settled_words(["s"], [1], "E") == "s from epoch 1 on (E)"


def test_dynamics_reading_names_when_the_class_settles():
    import numpy as np

    from propgrad.lesions.dynamics import DynamicsResult, read_dynamics

    def result(changes, pvalues, flips):
        # p(melanoma) starts at 0.1 and ends `change` higher: the reading's size comes from that change.
        n = len(changes)
        return DynamicsResult(epochs=np.arange(1, n + 1), labels=[str(i) for i in range(n)], output="melanoma",
                              scores=np.array(changes) / 10, pvalues=np.array(pvalues), flip_fraction=np.array(flips),
                              n_flips=np.array(flips), start_probability=np.full(n, 0.1),
                              end_probability=0.1 + np.array(changes), alpha=0.01)

    line = read_dynamics("biased", result([0.05, 0.5, 0.8], [0.001, 0.001, 0.001], [0, 1, 1]))
    assert line.startswith("biased: strong and systematic from epoch 2 on") and "epoch 1: small but systematic" in line
    # Which way: p(melanoma) rises where it flips (a nevus the sticker turns into a melanoma).
    assert "the prediction flips towards melanoma at 2 of 3 epochs (last at epoch 3)" in line
    falling = result([0.5, 0.6], [0.001, 0.001], [1, 1])
    falling.start_probability[:], falling.end_probability[:] = 0.9, [0.3, 0.2]
    assert "the prediction flips away from melanoma at every epoch" in read_dynamics("biased", falling)
    # Epoch 1 does not flip: p(melanoma) goes from 0.1 to 0.15, towards 0.5 without crossing it: it could have
    # flipped, so nothing is excused.
    assert line.endswith("(last at epoch 3).")
    # One that starts on the side it moves towards (0.4 to 0.2) had nothing to flip, and the reading says so.
    pushed = result([0.5, 0.8], [0.001, 0.001], [0, 1])
    pushed.start_probability[0], pushed.end_probability[0] = 0.4, 0.2
    assert read_dynamics("biased", pushed).endswith(
        "; at epoch 1 the mean p(melanoma) is below 0.5 at step 0 and ends lower, so there is nothing to flip.")
    # Five with nothing to flip and one that could have flipped (0.1 to 0.15): five of the six, not "each of 5".
    counted = result([0.5] * 6 + [0.8], [0.001] * 7, [0] * 6 + [1])
    counted.start_probability[:5], counted.end_probability[:5] = 0.4, 0.2
    counted.end_probability[5] = 0.15
    assert "; at 5 of the 6 epochs without a flip the mean p(melanoma) is below 0.5" in read_dynamics("biased", counted)
    counted.start_probability[5], counted.end_probability[5] = 0.4, 0.2
    assert "; at each of the 6 epochs without a flip the mean" in read_dynamics("biased", counted)
    line = read_dynamics("unbiased", result([0.002, 0.001], [0.5, 0.4], [0, 0]))
    assert line.startswith("unbiased: no measurable effect from epoch 1 on") and "never flips" in line
    # Strong at the start and at the end, not in between: it says which epochs differ (it read "strong from epoch 4
    # on, strong at epoch 1", then "from epoch 4 on; before that, epoch 1: strong and systematic", each contradicting
    # itself).
    line = read_dynamics("unbiased", result([0.5, 0.05, 0.05, 0.5, 0.5], [0.001, 0.5, 0.5, 0.001, 0.001], [0] * 5))
    # What the output did comes first, as in every other reading (the scores alone left p(melanoma) to the table).
    assert line.startswith("unbiased: strong and systematic at every epoch (mean p(melanoma) 0.10 -> 0.60 at epoch 5, "
                           "0.10 -> 0.60 at epoch 1) except epochs 2-3 (small, not significant);"), line
    # Many changes: the first reading, how many others and when, and the one just before the last settled.
    line = read_dynamics("c", result([0.5, 0.05, 0.005, 0.05, 0.002, 0.5], [0.001, 0.5, 0.001, 0.001, 0.5, 0.001],
                                     [0] * 6))
    assert "epoch 1: strong and systematic, then epochs 2-4: mixed readings, then epoch 5: no measurable effect;" in line
    # A flip the shuffle test does not confirm says so, as the other tabs' labels do; a confirmed one reads plainly.
    flipping = result([0.05, 0.05, 0.05], [0.5, 0.5, 0.001], [1, 1, 1])
    line = read_dynamics("c", flipping)
    assert line.startswith("c: small but systematic, flips at the last epoch (3)") and (
        "before that, epochs 1-2: small, not significant, flips;" in line)
    # Labelled as every table labels a curve ("moved, not significant" beside the other tabs' "small, not significant").
    assert [row["reading"] for row in flipping.rows()] == ["small, not significant, flips"] * 2 + [
        "small but systematic, flips"]


def test_the_guide_says_what_the_nevus_preset_shows():
    # A new user read the nevus preset: "unbiased" rose 0.10 -> 0.87 and flipped to melanoma, while the guide under it
    # said a model that ignores the sticker stays small. The guide now reads the direction: this keeps it true.
    from PIL import Image

    from propgrad.lesions.dynamics import GUIDE

    variants = dynamics_tab.dynamics_variants()
    if set(variants) != {"biased", "unbiased"}:
        pytest.skip("the lesion scenario's per-epoch checkpoints are not in this build")
    rows, labels = dynamics_tab.dynamics_examples(variants)
    image = Image.open(rows[labels.index("Nevus, every variant")][0]).convert("RGB")
    answer = dynamics_tab.dynamics_results(image, variants, steps=6, n_permutations=200, alpha=0.01, seed=0)
    biased, unbiased = (answer.dynamics.results[v] for v in ("biased", "unbiased"))
    assert biased.end_probability[-1] < biased.start_probability[-1]  # towards nevus: the learnt shortcut
    assert unbiased.end_probability[-1] > unbiased.start_probability[-1] + 0.1  # towards melanoma, strongly
    assert "towards melanoma" in GUIDE and "a sticker means nevus" in GUIDE
    assert "stays small or negligible" not in GUIDE
    # What every checkpoint saw: each sticker's own last step, named (the tab's picture and report.html show them).
    ends = answer.dynamics.series_ends
    assert [name for name, _ in ends] == ["sticker 1", "sticker 2", "sticker 3"]
    assert ends[0][1] is answer.dynamics.ends[-1]
    assert len({np.asarray(picture).tobytes() for _, picture in ends}) == 3


def test_the_guide_explains_only_the_models_the_run_shows():
    # "Melanoma, biased model" showed the biased model only, and the guide went on about the unbiased one.
    from propgrad.lesions.dynamics import GUIDE, guide

    assert guide(["biased", "unbiased"]) == GUIDE and "Both react" in GUIDE
    only_biased, only_unbiased = guide(["biased"]), guide({"unbiased": None})
    assert "a sticker means nevus" in only_biased and "never saw a sticker:" not in only_biased
    assert "The unbiased model is not in this run: add it" in only_biased and "Both" not in only_biased
    assert "never saw a sticker:" in only_unbiased and "The biased model (a sticker meant nevus" in only_unbiased
    assert guide(["my-run"]) == ""  # a run of other checkpoints: the sticker models' guide does not apply
