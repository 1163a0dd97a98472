"""Studies in this process: end to end, resume, report, definitions, inputs and their errors."""
from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from propgrad.cli import main as cli_main
from propgrad.kinds import EditSpec, PatchSpec
from propgrad.study import (
    DefinitionMismatch,
    InputSpec,
    ModelSpec,
    StudyDefinition,
    flip_prediction,
    from_toml,
    run_images,
    run_study,
)
from propgrad.study.inputs import list_images
from propgrad.study.items import item_seed, make_items

ROOT = Path(__file__).resolve().parents[1]
STICKER = ROOT / "assets" / "lesions" / "patches" / "sticker_1.png"
MODELS = ("Lesion CNN (biased)", "Lesion CNN (unbiased)")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not STICKER.is_file(), reason="the lesion scenario's assets are not shipped here")]


def lesion_folder(folder: Path, count: int, seed: int) -> Path:
    """``count`` small synthetic lesions written into ``folder`` as lesion_<n>.png."""
    from propgrad.lesions.generator import make_dataset

    for number, image in enumerate(make_dataset(count, seed=seed, size=64).images):
        image.save(folder / f"lesion_{number}.png")
    return folder


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory) -> Path:
    """Three small synthetic lesions and one file that is not an image."""
    folder = lesion_folder(tmp_path_factory.mktemp("lesions"), 3, seed=5)
    (folder / "broken.png").write_bytes(b"not a png")
    return folder


def tiny_definition(images: Path, **changes) -> StudyDefinition:
    settings = dict(permutations=200, seed=3, models=ModelSpec(names=MODELS))
    settings.update(changes)
    return StudyDefinition(InputSpec(images=str(images)),
                           (PatchSpec(patches=(str(STICKER),), steps=4, position=(0.8, 0.2)),),
                           **settings)


@pytest.fixture(scope="module")
def finished(image_folder, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("study") / "results"
    run_study(tiny_definition(image_folder), out)
    return out


def read(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_study_writes_rows_summary_and_figures(finished):
    rows = read(finished / "results.csv")
    assert len(rows) == 3 * len(MODELS)  # images x interventions x models x outputs of interest
    assert {row["model"] for row in rows} == set(MODELS)
    assert all(0 <= float(row["pvalue"]) <= 1 and float(row["score"]) >= 0 for row in rows)
    curves = read(finished / "curves.csv")
    assert len(curves) == len(rows) * 4  # one per step
    summary = read(finished / "summary.csv")
    # Ranked by what the mean curve did (its tier, then its change), not listed in the definition's order: the
    # unbiased model's mean curve drops in one step (abrupt, tier a), the biased one's rises and falls back (tier c).
    assert [(row["model"], row["tier"]) for row in summary] == [("Lesion CNN (unbiased)", "a"),
                                                                ("Lesion CNN (biased)", "c")]
    assert all(row["n_images"] == "3" for row in summary)
    # Every image's series is checked for gradualness; the summary carries the share.
    assert all(0 <= float(row["gradual_share"]) <= 1 for row in rows)
    assert all(0 <= float(row["gradual_share"]) <= 1 for row in summary)
    markdown = (finished / "summary.md").read_text()
    assert "broken.png" in markdown and "not a readable image" in markdown  # skipped and listed
    assert "gradual series" in markdown
    # Flip prediction: a table where some row can be tested, else one sentence (not a row of n/a per model).
    testable = [row for row in summary if row["flip_accuracy_held_out"]]
    assert ("| held-out accuracy |" in markdown) == bool(testable)
    assert ("Not testable for " in markdown) == (not testable)
    assert (finished / "mean_curves.png").stat().st_size > 0 and (finished / "score_vs_flips.png").is_file()


def test_the_study_page_names_its_images_and_their_sha256(finished, image_folder):
    """report.html is shared on its own: it names every image it is about and each file's SHA-256, as every other
    report.html names its input (the broken file was skipped, and is listed as skipped, not as an input)."""
    page = (finished / "report.html").read_text()
    assert "<b>Input:</b> 3 images: lesion_0.png, lesion_1.png, lesion_2.png" in page
    for number in range(3):
        digest = hashlib.sha256((image_folder / f"lesion_{number}.png").read_bytes()).hexdigest()
        assert page.count(digest) == 1, number
    inputs = page[page.index("<h2>Input images</h2>"):]
    assert "broken.png" not in inputs[:inputs.index("</ul>")]
    # Its columns in words, as summary.md says them (the page used "series per tier" and "gradual series" unsaid).
    from propgrad.export import html as html_report
    from propgrad.study.report import FLIP_COLUMNS, SUMMARY_LEGEND

    markdown = (finished / "summary.md").read_text()
    assert html_report.escape(SUMMARY_LEGEND) in page and SUMMARY_LEGEND in markdown


def test_the_flip_tables_columns_are_said_where_the_table_is(finished, tmp_path):
    """held-out accuracy, in-sample, ROC AUC and majority rate were unexplained on the page; a study too small to
    test flips shows a sentence instead of the table, and no legend for it."""
    from dataclasses import replace

    from propgrad.export import html as html_report
    from propgrad.study.flip_prediction import FlipPrediction
    from propgrad.study.report import FLIP_COLUMNS, markdown, write_report

    copy = tmp_path / "copy"
    shutil.copytree(finished, copy)
    summary = write_report(copy, figures_too=False).summary
    assert FLIP_COLUMNS not in markdown(summary, 0.01, [], [])  # three images: not testable, a sentence instead
    testable = [replace(row, flip_accuracy=FlipPrediction(0.9, 0.1, 1.0, 0.95, 0.6, 12)) for row in summary]
    assert FLIP_COLUMNS in markdown(testable, 0.01, [], [])
    page = (copy / "report.html").read_text()
    assert html_report.escape(FLIP_COLUMNS) not in page
    shown = html_report.study_page("study", "reading", [{"model": "m"}], {}, {}, flips={
        "method": "method", "rows": [{"model": "m", "held-out accuracy": "0.9"}], "columns": FLIP_COLUMNS})
    assert html_report.escape(FLIP_COLUMNS) in shown


def test_report_regenerates_the_aggregates(finished, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(finished, copy)
    for name in ("summary.csv", "summary.md", "mean_curves.png", "score_vs_flips.png"):
        (copy / name).unlink()
    assert cli_main(["study", "report", str(copy)]) == 0
    assert (copy / "summary.csv").read_text() == (finished / "summary.csv").read_text()
    assert (copy / "summary.md").read_text() == (finished / "summary.md").read_text()
    assert (copy / "mean_curves.png").is_file()


def test_interrupted_study_resumes_to_identical_results(image_folder, finished, tmp_path, caplog):
    out = tmp_path / "resumed"

    def stop_after_two(result, done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_study(tiny_definition(image_folder), out, on_item=stop_after_two)
    # Its report, asked for now, says it is not whole (it read "3 images ... significant 100 %" of 3 of 10 items).
    from propgrad.study.report import write_report

    stopped = write_report(out, figures_too=False)
    said = stopped.notes[0]
    assert said.startswith("only 2 of ") and "items have finished" in said
    assert stopped.not_run == int(said.split(" of ")[1].split()[0]) - 2
    assert cli_main(["study", "report", str(out)]) == 3  # `study report` says so too (it exited 0)
    # A row cut off mid-write, as a killed process leaves it.
    with (out / "results.csv").open("a") as handle:
        handle.write('"lesion_2.png | patch blend (sticker_1.png)",lesion_2.png,,patch bl')
    with caplog.at_level("INFO", logger="propgrad.study"):
        report = run_study(tiny_definition(image_folder), out)
    # Said, where a resumed study printed what a fresh one does (2 finished, one of them cut off above).
    resumed = [r.getMessage() for r in caplog.records if r.getMessage().startswith("resuming ")]
    assert len(resumed) == 1 and resumed[0].endswith(": 1 of 4 items were finished before; 3 to run"), resumed
    for name in ("results.csv", "curves.csv", "summary.csv", "summary.md"):
        assert (out / name).read_text() == (finished / name).read_text(), name
    assert [row.model for row in report.summary] == [row["model"] for row in read(finished / "summary.csv")]


def cut_rows(count: int):
    """Damage: the last ``count`` rows of a table gone, as `head -n -count` leaves it."""
    def cut(path: Path) -> None:
        lines = path.read_text().splitlines(keepends=True)
        path.write_text("".join(lines[:-count]))
    return cut


def cut_last_row_short(path: Path) -> None:
    """Damage: the last row of results.csv with 16 of its 18 fields, as a full disk can leave it."""
    lines = path.read_text().splitlines(keepends=True)
    lines[-1] = ",".join(lines[-1].split(",")[:16]) + "\n"
    path.write_text("".join(lines))


@pytest.mark.parametrize("table, damage", [("results.csv", cut_rows(3)), ("results.csv", Path.unlink),
                                           ("curves.csv", Path.unlink), ("curves.csv", cut_rows(1)),
                                           ("results.csv", cut_last_row_short)],
                         ids=["results cut short", "results removed", "curves removed", "curves cut short",
                              "results row cut to 16 fields"])
def test_a_resume_runs_again_the_finished_items_whose_rows_were_lost(finished, image_folder, tmp_path, caplog,
                                                                     table, damage):
    """An audit cut rows off results.csv (or removed a table) and ran the study again: status 0, no word, and a
    summary of fewer images than its series implied; a row cut to 16 of 18 fields was kept with two empty cells."""
    out = tmp_path / "damaged"
    shutil.copytree(finished, out)
    damage(out / table)
    run_study(tiny_definition(image_folder), out)
    for name in ("results.csv", "curves.csv", "summary.csv", "summary.md"):
        assert (out / name).read_text() == (finished / name).read_text(), name
    said = [record.getMessage() for record in caplog.records if "missing or cut rows" in record.getMessage()]
    assert len(said) == 1 and f"in {table} (" in said[0] and "again" in said[0], said


def test_a_report_says_which_finished_items_lost_their_rows(finished, tmp_path):
    """`study report` on a cut results.csv summarised silently, n_images counted from one table and n_series from
    the other; it leaves those items out, and says which."""
    from propgrad.study.report import write_report

    copy = tmp_path / "copy"
    shutil.copytree(finished, copy)
    cut_rows(1)(copy / "results.csv")  # the second model's row of the last image
    report = write_report(copy, figures_too=False)
    assert report.notes[0].startswith("1 finished item has missing or cut rows in results.csv (lesion_2.png | ")
    assert "leaves it out" in report.notes[0] and report.notes[0] in (copy / "summary.md").read_text()
    assert [(row.n_images, row.n_series) for row in report.summary] == [(2, 2), (2, 2)]
    assert len(report.rows_lost) == 1 and report.rows_lost[0].startswith("lesion_2.png | ")


def test_study_report_exits_3_when_items_lost_their_rows(finished, tmp_path, capsys):
    """`study report` on a cut results.csv wrote a summary that leaves items out and exited 0 (done): a script read
    it as the whole study. It says so as a run's failures are said, status 3 with the count, and --json lists them."""
    import json

    copy = tmp_path / "copy"
    shutil.copytree(finished, copy)
    cut_rows(1)(copy / "results.csv")
    capsys.readouterr()
    assert cli_main(["study", "report", str(copy), "--json"]) == 3
    printed = capsys.readouterr()
    document = json.loads(printed.out)
    assert len(document["rows_lost"]) == 1 and document["rows_lost"][0].startswith("lesion_2.png | ")
    items = len((copy / "items.jsonl").read_text().splitlines())
    assert printed.err.strip().splitlines()[-1].startswith(f"failed: 1 of {items} items (1 lost their rows; summary.md")
    assert (copy / "summary.md").is_file()  # what it could summarise is written


def unreadable_journal(folder: Path) -> None:
    (folder / "items.jsonl").write_bytes(bytes(range(256)) * 8)


def journal_as_a_folder(folder: Path) -> None:
    (folder / "items.jsonl").unlink()
    (folder / "items.jsonl").mkdir()


def damaged_definition(folder: Path) -> None:
    (folder / "study.json").write_text("{bad\n")


@pytest.mark.parametrize("damage, message", [
    (unreadable_journal, r"items.jsonl' \(the journal of finished items\) is damaged at line 1 of \d+ .*; remove "
                         r"items.jsonl to run every item again, or choose another folder"),
    (journal_as_a_folder, r"items.jsonl' \(the journal of finished items\) cannot be read: Is a directory; remove "
                          r"items.jsonl"),
    (damaged_definition, r"study.json' \(the study's definition\) cannot be read: it is not JSON .*; this folder "
                         r"cannot be resumed without it: choose another folder, or delete this one to start over")])
def test_a_damaged_study_file_is_named_and_nothing_is_rewritten(finished, image_folder, tmp_path, damage, message):
    """Random bytes in the journal gave "'utf-8' codec can't decode byte 0xfa", naming no file; a folder in its place
    emptied results.csv and curves.csv to their headers before the error."""
    from propgrad.study.store import DamagedStudyFile

    out = tmp_path / "damaged"
    shutil.copytree(finished, out)
    damage(out)
    with pytest.raises(DamagedStudyFile, match=message):
        run_study(tiny_definition(image_folder), out)
    for name in ("results.csv", "curves.csv"):
        assert (out / name).read_bytes() == (finished / name).read_bytes(), name


def test_a_damaged_last_journal_line_is_dropped_and_its_item_runs_again(finished, image_folder, tmp_path, caplog):
    """A crash mid-append can leave bytes that are not text: the study stopped at them ("'utf-8' codec can't
    decode"); they are cut away and that item runs again."""
    out = tmp_path / "damaged"
    shutil.copytree(finished, out)
    lines = (out / "items.jsonl").read_bytes().splitlines(keepends=True)
    (out / "items.jsonl").write_bytes(b"".join(lines[:-1]) + b"\xfa\x00{\"key\": \n")
    run_study(tiny_definition(image_folder), out)
    for name in ("results.csv", "curves.csv", "summary.csv"):
        assert (out / name).read_text() == (finished / name).read_text(), name
    # Every line reads (the damaged one is gone, not left before the new entries), and the dropped item ran again.
    journal = [json.loads(line) for line in (out / "items.jsonl").read_bytes().splitlines()]
    assert json.loads(lines[-1])["key"] in [entry["key"] for entry in journal[len(lines) - 1:]]
    assert "its last line was cut off or damaged" in caplog.text


def test_a_resumed_study_refuses_an_image_that_changed_since(image_folder, tmp_path):
    """It kept the old file's rows: chicky.jpg replaced by a rocket still read 'Pekinese' in results.csv."""
    import hashlib

    images = tmp_path / "images"
    shutil.copytree(image_folder, images)
    out = tmp_path / "out"
    run_study(tiny_definition(images), out)
    rows = list(csv.DictReader((out / "results.csv").open()))
    first = images / "lesion_0.png"
    assert {row["image_sha256"] for row in rows if row["image"] == first.name} == {
        hashlib.sha256(first.read_bytes()).hexdigest()}
    run_study(tiny_definition(images), out)  # unchanged: resumes (nothing to run)
    shutil.copy(images / "lesion_1.png", first)
    with pytest.raises(DefinitionMismatch, match="the image 'lesion_0.png' changed since its results were stored"):
        run_study(tiny_definition(images), out)


def test_a_folder_whose_study_finished_nothing_is_started_over(tmp_path, image_folder, caplog):
    # Every image unreadable (a wrong --images), then the corrected run into the same folder: it was refused as
    # "another study definition", with nothing in the folder to keep.
    unreadable = tmp_path / "unreadable"
    unreadable.mkdir()
    (unreadable / "a.png").write_bytes(b"not a png")
    out = tmp_path / "results"
    assert not run_study(tiny_definition(unreadable), out).summary
    with caplog.at_level("WARNING", logger="propgrad.study"):
        report = run_study(tiny_definition(image_folder), out)
    assert report.summary and "finished no item" in caplog.text and "inputs.images" in caplog.text


def test_folder_of_another_definition_is_refused(image_folder, finished):
    # Which setting differs, with both values: the fingerprints alone left two hex strings to compare.
    with pytest.raises(DefinitionMismatch, match=r"another study definition \(permutations: 200 there, 300 now\)"):
        run_study(tiny_definition(image_folder, permutations=300), finished)


def test_item_seed_depends_on_study_seed_and_key_only():
    images = list_images(InputSpec(images=str(STICKER.parent)))
    forward = make_items(images, ["a", "b"], 7)
    backward = make_items(list(reversed(images)), ["b", "a"], 7)
    assert {i.key: i.seed for i in forward} == {i.key: i.seed for i in backward}
    assert item_seed(7, "x") != item_seed(8, "x")


def test_toml_study_matches_flags(image_folder, finished, tmp_path):
    study = tmp_path / "study.toml"
    study.write_text(f"""
permutations = 200
seed = 3
[inputs]
images = "{image_folder}"
[[intervention]]
kind = "patch"
patches = ["{STICKER}"]
steps = 4
position = [0.8, 0.2]
[models]
names = {json.dumps(list(MODELS))}
""")
    assert from_toml(study) == tiny_definition(image_folder)
    out = tmp_path / "from-toml"
    assert cli_main(["study", "run", str(study), "--out", str(out), "--no-progress"]) == 0
    assert (out / "results.csv").read_text() == (finished / "results.csv").read_text()
    flags = tmp_path / "from-flags"
    assert cli_main(["study", "--images", str(image_folder), "--patch", str(STICKER), "--steps", "4", "--position",
                     "0.8", "0.2", "--model", MODELS[0], "--model", MODELS[1], "--permutations", "200", "--seed", "3",
                     "--out", str(flags), "--no-progress"]) == 0
    assert (flags / "results.csv").read_text() == (finished / "results.csv").read_text()


@pytest.mark.parametrize("table, key", [("", "permutatoins = 10"), ("[inputs]\n", "folder = 'x'"),
                                        ("[[intervention]]\n", "opacity = 1"), ("[models]\n", "model = 'x'")])
def test_unknown_toml_key_names_it_and_the_allowed_ones(tmp_path, table, key):
    study = tmp_path / "study.toml"
    study.write_text(f"{table}{key}\n")
    name = key.split(" ")[0]
    with pytest.raises(ValueError, match=rf"unknown key '{name}'; allowed keys: "):
        from_toml(study)


def test_a_study_files_mistake_names_its_key_as_written(tmp_path, image_folder, capsys):
    # "`--outputs` is empty" sent the user to a flag `study run` does not take; its own flags keep their names.
    study = tmp_path / "study.toml"
    study.write_text(f'outputs = ""\n[inputs]\nimages = "{image_folder}"\n[[intervention]]\nkind = "patch"\n'
                     f'patches = ["{STICKER}"]\n')
    assert cli_main(["study", "run", str(study), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    assert "error: `outputs` is empty" in capsys.readouterr().err
    assert cli_main(["study", "run", str(study), "--out", str(tmp_path / "o"), "--workers", "0"]) == 2
    assert "error: `--workers` must be" in capsys.readouterr().err


def test_bad_inputs_have_clear_errors(tmp_path, image_folder):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no images here")
    with pytest.raises(ValueError, match="holds no image files"):
        list_images(InputSpec(images=str(empty)))
    listing = tmp_path / "list.csv"
    listing.write_text("path,diagnosis\nlesion_0.png,melanoma\n")
    with pytest.raises(ValueError, match=r"`label_column` 'label' is not a column of list.csv; its columns are "
                                         r"'path' and 'diagnosis'"):
        list_images(InputSpec(images=str(listing), label_column="label"))
    assert cli_main(["study", "--images", str(empty), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    with pytest.raises(ValueError, match="`models` must be one of 'EfficientNet-Lite0 \\(ImageNet\\)', .*, got 'No such model'"):
        run_study(tiny_definition(image_folder, models=ModelSpec(names=("No such model",))), tmp_path / "m")


def test_csv_list_gives_labels_and_placements(tmp_path, image_folder):
    listing = tmp_path / "list.csv"
    listing.write_text(f"path,label,position_x,position_y,scale\n"
                       f"{image_folder / 'lesion_0.png'},melanoma,0.2,0.3,0.25\n"
                       f"{image_folder / 'lesion_1.png'},nevus,,,\n")
    refs = list_images(InputSpec(images=str(listing)))
    assert [r.label for r in refs] == ["melanoma", "nevus"]
    assert refs[0].overrides == {"position_x": 0.2, "position_y": 0.3, "scale": 0.25} and refs[1].overrides == {}
    report = run_study(StudyDefinition(InputSpec(images=str(listing)),
                                       (PatchSpec(patches=(str(STICKER),), steps=4),),
                                       ModelSpec(names=MODELS[:1]), permutations=100), tmp_path / "out")
    rows = read(tmp_path / "out" / "results.csv")
    assert [row["label"] for row in rows] == ["melanoma", "nevus"]
    assert report.summary[0].n_images == 2


def test_hugging_face_datasets(tmp_path, image_folder):
    datasets = pytest.importorskip("datasets")
    files = [str(image_folder / f"lesion_{i}.png") for i in range(2)]
    saved = tmp_path / "saved"
    data = datasets.Dataset.from_dict({"picture": files, "diagnosis": [1, 0]}).cast_column("picture", datasets.Image())
    data = data.cast_column("diagnosis", datasets.ClassLabel(names=["nevus", "melanoma"]))
    data.save_to_disk(str(saved))
    with pytest.raises(ValueError, match=r"`image_column` 'image' is not a column of data set saved; its columns are "
                                         r"'picture' and 'diagnosis'"):
        list_images(InputSpec(dataset=str(saved)))
    with pytest.raises(ValueError, match="`label_column` 'label' is not a column"):
        list_images(InputSpec(dataset=str(saved), image_column="picture", label_column="label"))
    spec = InputSpec(dataset=str(saved), image_column="picture", label_column="diagnosis")
    assert [r.label for r in list_images(spec)] == ["melanoma", "nevus"]
    report = run_study(StudyDefinition(spec, (EditSpec(edit="hue", steps=4),),
                                       ModelSpec(names=MODELS[:1]), permutations=100), tmp_path / "out")
    assert report.summary[0].n_images == 2 and not report.skipped
    # An imagefolder tree: labels from the sub-folder names.
    tree = tmp_path / "tree"
    for label, index in (("melanoma", 0), ("nevus", 1)):
        (tree / label).mkdir(parents=True)
        shutil.copy(files[index], tree / label / f"{index}.png")
    assert sorted(r.label for r in list_images(InputSpec(dataset=str(tree)))) == ["melanoma", "nevus"]


def test_run_images_for_the_app(tmp_path, image_folder):
    from propgrad import PatchBlend
    from propgrad.models import get_model

    models = [get_model(name) for name in MODELS]
    in_memory = Image.open(image_folder / "lesion_1.png").convert("RGB")
    report = run_images([image_folder / "lesion_0.png", in_memory, image_folder / "broken.png"],
                        PatchBlend([STICKER], steps=4), models, n_permutations=100, out=tmp_path / "small")
    assert sorted(row.model for row in report.summary) == sorted(MODELS) and report.summary[0].n_images == 2
    assert report.skipped and report.skipped[0][0] == "broken.png"
    curve = report.curves[0]
    assert curve.mean.shape == (4,) and np.all(curve.std >= 0)
    assert (report.folder / "results.csv").is_file() and report.paths["summary.md"].is_file()
    # Every setting of the intervention is kept, so the report's settings rerun it (an audit found the names alone).
    kept = json.loads((report.folder / "study.json").read_text())["in_memory"]["intervention_settings"][0]
    assert kept["type"] == "PatchBlend" and kept["steps"] == 4 and kept["patches"][0]["file"] == STICKER.name
    # 4 steps cannot reach alpha = 0.01 whatever the permutations (an audit's 5-step study said "0 % significant"
    # of a steady fall from 0.96 to 0.01, without a word): the note says so and how many steps would do.
    summary_md = report.paths["summary.md"].read_text()
    assert "permutations the smallest p-value" not in summary_md
    assert "with 4 steps a shuffle test has only 24 orders" in summary_md and "use more steps" in summary_md
    # 20 permutations cannot reach alpha = 0.01: "0 % significant" on every row says why (the command line prints
    # summary.md).
    few = run_images([image_folder / "lesion_0.png"], PatchBlend([STICKER], steps=8), models[:1], n_permutations=20,
                     out=tmp_path / "few")
    said = "with 20 permutations the smallest p-value is 0.0476, above alpha = 0.01"
    assert said in few.paths["summary.md"].read_text() and said in few.paths["report.html"].read_text()


def test_flip_prediction_protocol():
    result = flip_prediction([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9], [0, 0, 0, 0, 1, 1, 1, 1])
    assert result.in_sample == 1.0 and result.auc == 1.0 and result.n == 8
    assert flip_prediction([0.1, 0.2, 0.3], [0, 0, 1]) is None  # one flip: too few to fit a threshold
    # Two of each: a random half often holds one outcome, and held-out accuracy fell far below chance; not reported.
    assert flip_prediction([0.1, 0.9, 0.2, 0.8], [0, 1, 0, 1]) is None


def test_a_study_intervention_takes_a_region(tmp_path, image_folder):
    mask = np.zeros((64, 64), dtype=np.uint8)
    mask[:, :32] = 255  # the left half
    Image.fromarray(mask).save(tmp_path / "left.png")
    out = tmp_path / "region"
    assert cli_main(["study", "--images", str(image_folder), "--edit", "hue", "--steps", "4", "--region",
                     str(tmp_path / "left.png"), "--model", MODELS[0], "--permutations", "100", "--out", str(out),
                     "--no-progress"]) == 0
    rows = read(out / "results.csv")
    assert len(rows) == 3 and rows[0]["intervention"] == "hue edit in left.png"
    with pytest.raises(ValueError, match="neither 'object', 'background' nor a mask file"):
        run_study(StudyDefinition(InputSpec(images=str(image_folder)),
                                  (EditSpec(edit="hue", steps=4, region=str(tmp_path / "nope.png")),),
                                  ModelSpec(names=MODELS[:1]), permutations=100), tmp_path / "bad-region")


def test_instruct_pix2pix_study_with_a_tiny_random_editor(tmp_path, image_folder, monkeypatch):
    """The editor's weights are a folder (as $PROPGRAD_INSTRUCT_PIX2PIX names them); tiny and random here."""
    pytest.importorskip("diffusers")
    from propgrad.testing.random_pix2pix import random_instruct_pix2pix

    weights = tmp_path / "tiny-pix2pix"
    random_instruct_pix2pix("tiny").save_pretrained(weights)
    monkeypatch.setenv("PROPGRAD_INSTRUCT_PIX2PIX", str(weights))
    monkeypatch.setenv("PROPGRAD_CACHE_DIR", str(tmp_path / "cache"))
    study = tmp_path / "edit.toml"
    study.write_text(f"""
permutations = 50
[inputs]
images = "{image_folder}"
[[intervention]]
kind = "instruct-pix2pix"
instruction = "make it red"
steps = 3
denoising_steps = 2
seeds = [0, 1]
[models]
names = ["{MODELS[0]}"]
""")
    report = run_study(from_toml(study), tmp_path / "out")
    row = report.summary[0]
    assert (row.intervention, row.n_images, row.n_series) == ("InstructPix2Pix: make it red", 3, 6)
    curves = read(tmp_path / "out" / "curves.csv")
    assert {c["series"] for c in curves} == {"seed 0", "seed 1"}
    assert [float(c["property_value"]) for c in curves[:3]] == [1.0, 1.01, 10.0]


def test_summary_pages_say_n_a_and_nothing_finished_in_words():
    import math

    from propgrad.study.aggregate import SummaryRow
    from propgrad.study.report import markdown, summary_cells

    nan = math.nan
    row = SummaryRow(intervention="darken", model="m", output="cat", n_images=1, n_series=1, score_mean=nan,
                     score_std=nan, significant_share=nan, flip_share=nan, output_start=nan, output_end=nan,
                     flip_accuracy=None)
    cells = summary_cells(row, 0.01)
    assert "nan" not in " ".join(cells.values()) and cells["mean output, step 0 \u2192 last"] == "n/a \u2192 n/a"
    # A study where nothing finished: sentences, not empty tables or a heading with nothing under it.
    page = markdown([], 0.01, [], [("image.png | darken", "boom")])
    assert "No item finished: there is nothing to summarise" in page and "- `image.png | darken`: boom" in page
    # Nothing explained that is not there: no tier legend, no flip prediction's method.
    assert "| model |" not in page and "Ranked by" not in page and "Predicting prediction flips" not in page


def test_the_reading_says_how_systematic_was_decided_and_when_images_cancel():
    import numpy as np

    from propgrad.reading import read_curve
    from propgrad.study.aggregate import SummaryRow
    from propgrad.study.report import study_reading

    def row(model, curve, share, change_mean, tiers):
        return SummaryRow(intervention="darken", model=f"ConvMixer cats vs dogs, {model} (authors)", output="cat",
                          n_images=4, n_series=4, score_mean=0.05, score_std=0.01, significant_share=share,
                          flip_share=0.5, output_start=curve[0], output_end=curve[-1], flip_accuracy=None,
                          tier_shares=tiers, change_mean=change_mean,
                          reading=read_curve(np.array(curve), significant=share >= 0.5, output="cat"))

    # The numbers of a real two-model study of four cat photos: the unbiased model moved p(cat) by 0.65 in each
    # image, up in some and down in others, so that its mean curve moved by 0.20 only.
    tiers = {"a": 1.0, "b": 0.0, "c": 0.0, "d": 0.0, "e": 0.0}
    words = study_reading([row("dark-cats bias", [0.43, 0.35, 0.1], 0.5, 0.35, tiers),
                           row("unbiased", [0.49, 0.30, 0.5], 0.75, 0.65, tiers)])
    # "systematic" on a mean curve is a head count of the images' own tests, and the reading says so.
    assert "at least half its images' own tests were significant: dark-cats bias 2 of 4 and unbiased 3 of 4" in words
    assert ("p(cat) of unbiased moved by 0.65 per series on average, but not the same way in every series, so its "
            "mean curve moves by 0.20 only (100 % of its series are in tier a on their own)") in words
    assert words.count("not the same way") == 1  # the dark-cats model's images moved alike: no warning


def test_the_summary_says_what_some_images_were(tmp_path, capsys):
    """A tiny picture and a transparent one change what the models see: the study's summary.md, report.html and
    --json say which images, as a single explanation's notes do."""
    (tmp_path / "images").mkdir()
    images = lesion_folder(tmp_path / "images", 2, seed=7)
    Image.open(images / "lesion_0.png").resize((24, 24)).save(images / "tiny.png")
    faded = Image.open(images / "lesion_1.png").convert("RGBA")
    faded.putalpha(128)
    faded.save(images / "faded.png")
    out = tmp_path / "out"
    assert cli_main(["study", "--images", str(images), "--edit", "hue", "--steps", "4", "--permutations", "200",
                     "--model", MODELS[0], "--out", str(out), "--no-progress", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    # Numbers as numbers; a held-out accuracy that cannot be measured (3 series) is null, not "".
    assert printed["rows"][0]["flip_accuracy_held_out"] is None and isinstance(printed["rows"][0]["gradient_mean"], float)
    tiny = [note for note in printed["notes"] if note.startswith("tiny.png: the image is only 24 x 24 px")]
    faded_note = [note for note in printed["notes"] if note.startswith("faded.png: ") and "transparent" in note]
    assert len(tiny) == 1 and len(faded_note) == 1, printed["notes"]
    assert not [note for note in printed["notes"] if "lesion_" in note]  # the ordinary images are not named
    for name in ("summary.md", "report.html"):
        text = (out / name).read_text()
        assert "tiny.png: the image is only 24 x 24 px" in text and "faded.png: " in text, name
    assert not [note for note in printed["notes"] if "same picture" in note]
    # A second report from the folder says the same (the notes are kept in the journal).
    assert cli_main(["study", "report", str(out)]) == 0
    assert "tiny.png: the image is only 24 x 24 px" in (out / "summary.md").read_text()


def test_the_summary_says_when_one_picture_is_there_twice(tmp_path, capsys):
    """Copies under other names count as images of their own in every share: the summary says which."""
    images = lesion_folder(tmp_path, 2, seed=9)
    (images / "copy_of_0.png").write_bytes((images / "lesion_0.png").read_bytes())
    out = tmp_path / "out"
    assert cli_main(["study", "--images", str(images), "--edit", "hue", "--steps", "4", "--permutations", "200",
                     "--model", MODELS[0], "--out", str(out), "--no-progress", "--json"]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert notes[1:] == ["copy_of_0.png and lesion_0.png are the same picture (one SHA-256): each copy counts as an "
                         "image of its own in every share and mean"], notes
    assert notes[0].startswith("with 4 steps a shuffle test")  # too short for alpha = 0.01, said first


def test_an_unreadable_image_mended_since_is_read_when_the_study_runs_again(image_folder, tmp_path):
    """An audit replaced a broken file with a good one and ran the study into the same folder: the image stayed
    skipped ("not a readable image"), while a changed good image is refused."""
    images = tmp_path / "images"
    shutil.copytree(image_folder, images)
    out = tmp_path / "out"
    first = run_study(tiny_definition(images), out)
    assert [name for name, _ in first.skipped] == ["broken.png"]
    shutil.copy(images / "lesion_0.png", images / "broken.png")
    again = run_study(tiny_definition(images), out)
    assert not again.skipped and again.summary[0].n_images == 4


def test_a_model_file_that_changed_since_is_named_and_refused(image_folder, tiny_torchscript, tmp_path):
    """A study resumed after the model was retrained under the same name averaged both weights' rows into one
    summary row; the folder now says which file changed."""
    model = tmp_path / "model.pt"
    shutil.copy(tiny_torchscript, model)
    definition = tiny_definition(image_folder, models=ModelSpec(files=(str(model),), input_size=(32, 32)))
    out = tmp_path / "out"
    run_study(definition, out)
    stored = json.loads((out / "study.json").read_text())
    assert stored["files"][str(model)] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert stored["files"][str(STICKER)] == hashlib.sha256(STICKER.read_bytes()).hexdigest()  # a patch is a file too
    run_study(definition, out)  # the same file: resumes
    with model.open("ab") as handle:
        handle.write(b"\0")  # any other bytes: another model as far as the study can know
    with pytest.raises(DefinitionMismatch, match=r"made with another version of model\.pt \(its SHA-256 differs\)"):
        run_study(definition, out)


def test_a_model_file_that_cannot_run_stops_the_study_before_any_item(image_folder, tiny_torchscript, tmp_path,
                                                                       capsys):
    # Each item failed with the same words, and the command offered a retry that could only fail again.
    code = cli_main(["study", "--images", str(image_folder), "--model-file", str(tiny_torchscript),
                     "--input-size", "32", "32", "--class-names", "a,b", "--out", str(tmp_path / "out")])
    assert code == 2 and not (tmp_path / "out").exists()
    assert "has 2 names but model file" in capsys.readouterr().err


def test_a_folder_made_before_studies_recorded_their_files_is_resumed(image_folder, tmp_path, caplog):
    # Refusing it lost every finished item of every sticker study made before.
    definition = tiny_definition(image_folder)
    out = tmp_path / "out"
    run_study(definition, out)
    study = json.loads((out / "study.json").read_text())
    older = {key: value for key, value in study.items() if key != "files"}
    older["fingerprint"] = definition.fingerprint(files=False)
    (out / "study.json").write_text(json.dumps(older))
    finished = (out / "results.csv").read_text()
    run_study(definition, out)
    assert (out / "results.csv").read_text() == finished
    assert "resumed on the assumption that sticker_1.png did not change" in caplog.text
    assert json.loads((out / "study.json").read_text())["fingerprint"] == definition.fingerprint()


def test_a_picture_the_lesion_models_were_not_made_for_is_named_in_a_study(tmp_path):
    """The note went with the models' caveats, which stopped holding it when it moved before a run's answer: a study
    of a photo through the lesion models said nothing of it."""
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("RGB", (60, 40), (120, 110, 100)).save(folder / "photo.png")
    run_study(tiny_definition(folder), tmp_path / "out")
    assert "photo.png: the lesion models learnt from the square synthetic skin lesions" in \
        (tmp_path / "out" / "summary.md").read_text()


def test_a_studys_mean_curve_is_placed_in_the_propertys_words(tmp_path):
    # "drops by 0.80 at step 7" in a study beside "at 80 % darker" for the same curve in a single run.
    import numpy as np
    from PIL import Image

    from propgrad.interventions import ParametricEdit
    from propgrad.study import run_images
    from toy_models import Flip

    images = [Image.fromarray(np.full((32, 32, 3), level, dtype=np.uint8)) for level in (200, 180)]
    study = run_images(images, ParametricEdit("darken", stop=0.8, steps=8), [Flip()], out=tmp_path / "study",
                       outputs_of_interest="a", n_permutations=100)
    row, = study.summary
    assert "drops by 0.80 at 80 % darker" in row.reading.text and "step 7" not in row.reading.text, row.reading.text
