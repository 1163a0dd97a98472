"""The patch tab's handler: bundled and uploaded patches, several patches, the lesion default."""
from __future__ import annotations

import zipfile

import pytest

from app_cases import *  # noqa: F403  (helpers and fixtures)

pytestmark = pytest.mark.slow  # runs models or a server end to end: seconds each


def test_patch_default_returns_every_output(progress):
    outputs = patch_call(progress, patch_names=["rainbow disc", "rings"])
    report = check_outputs(outputs, 1)
    assert report["models"][0]["name"] == IMAGENET
    assert len(report["series_labels"]) == 2  # two patches: a mean curve with a spread
    assert progress.calls and progress.calls[-1][0] == pytest.approx(1.0)


def test_report_html_names_where_the_patch_went_and_its_size(progress):
    # Only report.json had them: the readable report could not be matched to a run.
    outputs = patch_call(progress, x=0.45, y=0.35, scale=0.5)
    with zipfile.ZipFile(outputs[-1]) as archive:
        page = archive.read("report.html").decode()
    settings = page[page.index("<h2>Settings</h2>"):page.index("<h2>Versions</h2>")]
    assert "<dt>position</dt><dd>0.45, 0.35</dd>" in settings and "<dt>scale</dt><dd>0.5</dd>" in settings


def test_patch_default_is_the_lesion_scenario_when_it_ships(progress):
    defaults = patch_tab.patch_defaults()
    if not lesion_examples():
        assert defaults["image"].endswith("chelsea.jpg")
        return
    assert "lesions" in defaults["image"] and all(n.startswith("sticker") for n in defaults["patch_names"])
    outputs = patch_tab.run_patch(defaults["image"], defaults["patch_names"], None, defaults["x"], defaults["y"],
                                   defaults["scale"], defaults["steps"], 0, defaults["models"], None, 224, MEAN, STD,
                                   "", "", 2000, 0.01, progress=progress)
    check_outputs(outputs, len(defaults["models"]))
    scores = {row[0]: row[2] for row in outputs[4]}
    # The classifier trained with stickers on benign nevi reacts to them far more than the one trained without.
    assert scores["Lesion CNN (biased)"] > 5 * scores["Lesion CNN (unbiased)"]


def test_several_patches_report_where_any_series_flips(progress):
    outputs = patch_call(progress, patch_names=["rainbow disc", "rings", "stripes"], steps=6)
    for row in outputs[4]:
        assert row[5].startswith(("in ", "no flip in 3 series")), row[5]


def test_an_uploaded_patch_is_named_as_its_box_and_an_opaque_one_is_said(progress, tmp_path):
    # After three ticked stickers an unreadable upload was "patch 4"; an opaque upload was pasted as a rectangle unsaid.
    import gradio as gr
    from PIL import Image

    text = tmp_path / "text.png"
    text.write_text("not an image")
    with pytest.raises(gr.Error, match="`patch upload`: 'text.png'"):
        patch_call(progress, patch_files=[str(text)])
    opaque = tmp_path / "square.png"
    Image.new("RGB", (32, 32), "red").save(opaque)
    outputs = patch_call(progress, patch_names=[], patch_files=[str(opaque)])
    assert "the patch upload 'square.png' has no transparent pixels" in outputs[0]
