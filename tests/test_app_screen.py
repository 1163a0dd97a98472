"""The first tab's Screen action and statistic, called directly (issue 16)."""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import gradio as gr
import pytest

from propgrad.app import screen as screen_tab
from propgrad.app import settings
from propgrad.app.tabs import edit as edit_tab

ROOT = Path(__file__).resolve().parents[1]
CHELSEA = str(ROOT / "assets" / "examples" / "chelsea.jpg")
DARK_CATS = "ConvMixer cats vs dogs, dark-cats bias (authors)"
EIGHT_EDITS = ["brightness", "contrast", "saturation", "hue", "blur", "rotation", "darken", "lighten"]  # 7 x 3 + 1
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not (ROOT / "assets" / "authors" / "convmixer_dark-cats-bias.safetensors").is_file(),
                                reason="the authors' models are not shipped here")]


@pytest.fixture(autouse=True)
def loopback_server():
    settings.configure_serving("127.0.0.1")
    yield
    settings.configure_serving(None)


def screen_call(progress, **overrides):
    args = dict(image=CHELSEA, bundled=[DARK_CATS], files=None, input_size=None, mean="", std="", class_names="",
                outputs="cat", n_permutations=1000, alpha=0.01, hub_ids="", outputs_are="auto", steps=6,
                edits=EIGHT_EDITS, regions=list(screen_tab.REGIONS), statistic="gradient",
                adjustment=next(iter(screen_tab.ADJUSTMENT_CHOICES)))
    args.update(overrides)
    return screen_tab.run_screen(**args, progress=progress)


def test_screen_ranks_twenty_properties_by_what_the_output_did(progress):
    summary, styled, figure, bundle = screen_call(progress)
    shown = styled.data
    table = shown.values.tolist()
    # Shown as every other table writes numbers ("0.50", gradio printed 0.5), kept numbers underneath.
    import gradio as gr

    from propgrad.formats import format_number

    shown_text = gr.Dataframe().postprocess(styled).metadata["display_value"]
    assert [row[5] for row in shown_text] == [format_number(row[5]) for row in table]
    assert all(isinstance(row[5], float) for row in table)
    assert list(shown.columns)[8] == "E[|grad_X\u00a0F|]"  # the statistic named as in every table, on one line
    assert "**22 properties** screened" in summary and "Benjamini-Hochberg" in summary
    # Not "The answer.", which heads the run above it.
    assert summary.startswith('<strong role="heading" aria-level="2">The screen\'s answer.</strong>')
    assert len(table) == 22 and [row[0] for row in table] == list(range(1, 23))
    assert {row[2] for row in table} >= {"object: darken", "background: darken", "whole image: rotation"}
    assert [row[1] for row in table] == sorted(row[1] for row in table)  # tiers a..e in order
    assert all(row[7] for row in table)  # every row has a reading
    assert Path(figure).is_file() and progress.calls
    with zipfile.ZipFile(bundle) as archive:
        assert sorted(archive.namelist()) == [  # one model
            "report.html", "screen.csv", "screen.json", "screen.png", "screen_curves.csv"]
        data = json.loads(archive.read("screen.json"))
    assert len(data["table"]) == 22 and all(0 < row["pvalue_adjusted"] <= 1 for row in data["table"])
    # What each property's steps were, and the packages: screen.json named only the properties.
    darken = data["settings"]["interventions"]["object: darken"]
    assert darken["property"].startswith("darkening strength") and len(darken["values"]) == 6  # steps=6
    assert darken["values"][0] == 0 and round(darken["values"][-1], 6) == 0.85 and data["settings"]["packages"]["propgrad"]
    assert re.fullmatch(r"propgrad-chelsea-screen-[0-9a-f]{6}\.zip", Path(bundle).name)


def test_the_page_gets_the_talk_views_slide_and_the_api_does_not(progress):
    answer = screen_call(progress, edits=["darken"], slide=True)
    assert len(answer) == 5 and len(screen_call(progress, edits=["darken"])) == 4
    slide, bundle = Path(answer[4]), answer[3]
    assert slide.is_file() and slide.parent == Path(answer[2]).parent and slide.name == "screen-talk.png"
    with zipfile.ZipFile(bundle) as archive:
        assert "screen-talk.png" not in archive.namelist()


def test_screen_vector_and_statistic(progress):
    _, styled, _, bundle = screen_call(progress, edits=["darken"], outputs="vector", adjustment=list(
        screen_tab.ADJUSTMENT_CHOICES)[1])
    table = styled.data
    assert set(table["output"]) == {"vector (all 2 outputs)"}
    _, styled, _, bundle = screen_call(progress, edits=["darken"], statistic="correlation")
    assert list(styled.data.columns)[8] == "|r|"
    with zipfile.ZipFile(bundle) as archive:
        assert json.loads(archive.read("screen.json"))["statistic"] == "correlation"


@pytest.mark.parametrize("overrides, message", [
    (dict(edits=[]), "`screen edits` is empty"),
    (dict(regions=[]), "`screen regions` is empty"),
    (dict(statistic="kendall"), "`statistic` must be one of"),
    (dict(outputs="vector", statistic="mutual-information"), "'vector' is scored with statistic='gradient'"),
])
def test_screen_bad_input(progress, overrides, message):
    with pytest.raises(gr.Error, match=message):
        screen_call(progress, **overrides)


def test_screen_limit_in_the_app(progress, monkeypatch):
    monkeypatch.setattr(screen_tab, "APP_LIMIT", 5)
    with pytest.raises(gr.Error, match="this server screens at most 5 properties at once: this screen has 22 properties; restrict the edits"):
        screen_call(progress)


def test_run_uses_the_chosen_statistic(progress):
    outputs = edit_tab.run_edit(image=CHELSEA, instruction="", editor="parametric: darken", max_guidance=15,
                                image_guidance=2.5, steps=5, denoising_steps=20, seeds="0", edit_end=0.85,
                                bundled=[DARK_CATS], files=None, input_size=None, mean="", std="", class_names="",
                                outputs="vector", n_permutations=500, alpha=0.01, regions=["whole image"],
                                statistic="gradient", progress=progress)
    with zipfile.ZipFile(outputs[-1]) as archive:
        report = json.loads(archive.read("report.json"))
    assert report["models"][0]["outputs_of_interest"][0]["vector"] is True
    outputs = edit_tab.run_edit(image=CHELSEA, instruction="", editor="parametric: darken", max_guidance=15,
                                image_guidance=2.5, steps=5, denoising_steps=20, seeds="0", edit_end=0.85,
                                bundled=[DARK_CATS], files=None, input_size=None, mean="", std="", class_names="",
                                outputs="cat", n_permutations=500, alpha=0.01, regions=["whole image"],
                                statistic="mutual-information", progress=progress)
    with zipfile.ZipFile(outputs[-1]) as archive:
        assert json.loads(archive.read("report.json"))["statistic"] == "mutual-information"


def test_every_column_of_the_screen_table_has_a_width():
    assert len(screen_tab.COLUMN_WIDTHS) == len(screen_tab.TABLE_HEADERS)
    assert sum(float(width.rstrip("%")) for width in screen_tab.COLUMN_WIDTHS) == 100


def test_where_the_models_differ_names_the_output_as_the_readings_do(progress):
    # It said "how far cat moved" under readings that say "p(cat) 0.96 -> 0.92".
    unbiased = "ConvMixer cats vs dogs, unbiased (authors)"
    summary, *_ = screen_call(progress, bundled=[unbiased, DARK_CATS], edits=["darken"], regions=["whole image"])
    assert "**Where the models differ**: how far p(cat) moved for each model" in summary


def test_the_app_and_the_command_line_record_the_same_settings(progress, tmp_path):
    """A run made in the app and the same run on the command line recorded settings that differed: the command line
    labelled the segmenter's regions ("object"), the app recorded the verdict on the images among the settings'
    notes. The same run records the same settings (the package versions aside), whichever front end made it."""
    from propgrad.cli import main as cli_main

    outputs = edit_tab.run_edit(image=CHELSEA, instruction="", editor="parametric: darken", max_guidance=15,
                                image_guidance=2.5, steps=4, denoising_steps=20, seeds="0", edit_end=0.85,
                                bundled=[DARK_CATS], files=None, input_size=None, mean="", std="", class_names="",
                                outputs="cat", n_permutations=200, alpha=0.01,
                                regions=["object (segmenter)", "background (segmenter)"],
                                progress=progress)
    with zipfile.ZipFile(outputs[-1]) as archive:
        app = json.loads(archive.read("comparison.json"))["settings"]
    assert cli_main(["explain", CHELSEA, "--edit", "darken", "--stop", "0.85", "--steps", "4", "--region", "object",
                     "--region", "background", "--model", DARK_CATS, "--outputs", "cat", "--permutations", "200",
                     "--out", str(tmp_path / "cli"), "-q"]) == 0
    cli = json.loads((tmp_path / "cli" / "comparison.json").read_text())["settings"]
    for settings in (app, cli):
        settings.pop("packages")
    assert app == cli


def test_a_screens_untestable_settings_are_said_once_before_its_answer():
    """The table's note that no row can pass (Holm over 14 rows with 200 permutations) opens the answer, and the
    notes under it do not say it again (the CLI and report.html dropped the repeat; the page did not)."""
    from PIL import Image
    from toy_models import Redness

    from propgrad.app.screen import screen_text
    from propgrad.screen import screen

    image = Image.new("RGB", (48, 32), (200, 90, 90))
    result = screen(image, [Redness()], edits=["darken", "lighten", "hue"], regions=["whole image"], steps=8,
                    adjustment="holm", n_permutations=200)
    assert result.floor_note and "no row can come out significant" in result.floor_note
    text = screen_text(result)
    caveat = text.index("Check the settings before this answer")
    assert caveat < text.index("screened, ranked by what the output did")
    assert text.count(result.floor_note) == 1
