"""The edit tab's handler: parametric and diffusion editors, regions (segmenter, painted, uploaded masks)."""
from __future__ import annotations

import gradio as gr
import pytest

from app_cases import *  # noqa: F403  (helpers and fixtures)

pytestmark = pytest.mark.slow  # runs models or a server end to end: seconds each


def test_edit_tab_parametric_editor_works_offline(progress):
    report = check_outputs(edit_call(progress, editor="parametric: hue", edit_end=120), 1)
    assert report["property_name"] == "hue rotation (degrees)"


def test_edit_tab_lists_parametric_editors_and_says_why():
    available, message = edit_tab.instruct_pix2pix_status()
    choices = edit_tab.editor_choices(available)
    assert "parametric: brightness" in choices and "parametric: rotation" in choices
    assert (edit_tab.IP2P in choices) == available
    if not available:
        assert "not on this machine" in message


def test_instruct_pix2pix_branch_with_a_tiny_random_pipeline(progress, monkeypatch):
    # The real editor path (guidance sweep, several seeds -> several series), on a tiny random-weight
    # pipeline of the real architecture instead of the 5 GB weights.
    diffusion = pytest.importorskip("propgrad.interventions.diffusion")
    from propgrad.testing.random_pix2pix import random_instruct_pix2pix

    pipe = random_instruct_pix2pix("tiny", seed=0)
    monkeypatch.setattr(edit_tab, "instruct_pix2pix_status", lambda: (True, "test pipeline"))
    monkeypatch.setattr(diffusion, "load_instruct_pix2pix", lambda *args, **kwargs: pipe)
    monkeypatch.setattr(settings, "IP2P_MAX_SIDE", 32)
    assert edit_tab.IP2P in edit_tab.editor_choices(True)
    outputs = edit_call(progress, editor=edit_tab.IP2P, instruction="make the fur white",
                        max_guidance=5, steps=3, denoising_steps=2, seeds="0, 1",
                        **model_args(bundled=("Lesion CNN (biased)",) if lesion_examples() else (IMAGENET,)))
    report = check_outputs(outputs, 1)
    assert report["property_name"] == "text guidance scale"
    assert len(report["series_labels"]) == 2  # one series per seed
    assert report["values"][1] == pytest.approx(1.01)


@pytest.mark.parametrize("editor, shown", [("InstructPix2Pix", (True, True, False, True)),
                                           ("parametric: hue", (False, False, True, False))])
def test_only_the_chosen_editors_settings_are_shown(editor, shown):
    updates = edit_tab.show_editor_settings(edit_tab.IP2P if editor == "InstructPix2Pix" else editor)
    assert tuple(update["visible"] for update in updates) == shown


def test_picking_another_edit_gives_its_own_end_value_and_says_its_unit():
    # Darken's 0.85 stayed when a visitor picked blur or rotation: a blur of 0.85 px, a turn of 0.85 degrees, which
    # nobody can see and the answer read as a small systematic effect.
    assert edit_tab.end_for_editor("parametric: blur")["value"] == 8.0
    assert edit_tab.end_for_editor("parametric: rotation")["value"] == 180.0
    assert edit_tab.end_for_editor(edit_tab.IP2P) == gr.skip()  # no end value to set
    blur = edit_tab.show_editor_settings("parametric: blur")[2]
    assert blur["info"] == "blur radius (px); default end 8" and blur["step"] == 1.0
    assert edit_tab.show_editor_settings("parametric: darken")[2]["step"] == 0.05
    # Wired to the visitor's own choice only: a preset sets the editor and its end value together, and a reset on
    # every change would overwrite the preset's end value with the edit's default.
    with gr.Blocks() as demo:
        edit_tab.build_edit_tab((False, ""))
    wired = [fn for fn in demo.fns.values() if getattr(fn.fn, "__name__", "") == "end_for_editor"]
    assert len(wired) == 1 and [trigger for _, trigger in wired[0].targets] == ["input"]


def test_an_end_value_typed_with_a_decimal_comma_is_explained(progress):
    # Chromium's number box drops the comma: "0,4" arrives as 4, and the error named a number nobody typed.
    with pytest.raises(gr.Error, match=r"got 4\.0 \(the box drops a decimal comma, so 0,4 arrives as 4: type 0\.4\)"):
        edit_call(progress, editor="parametric: darken", edit_end=4)
    with pytest.raises(gr.Error) as caught:  # a number that no comma explains gets no hint
        edit_call(progress, editor="parametric: darken", edit_end=-2)
    assert "comma" not in str(caught.value)


def test_edit_default_is_the_fur_versus_background_comparison(progress):
    pytest.importorskip("rembg")
    defaults = edit_tab.edit_defaults()
    assert defaults["editor"] == "parametric: darken" and len(defaults["regions"]) == 2
    if not AUTHORS_MODELS:
        pytest.skip("the authors' ConvMixers are not in this build")
    assert defaults["models"] == AUTHORS_MODELS and defaults["outputs"] == "cat"
    outputs = edit_call(progress, editor=defaults["editor"], edit_end=defaults["edit_end"], steps=5,
                        regions=defaults["regions"], **model_args(bundled=AUTHORS_MODELS, outputs="cat", permutations=500))
    summary, strip, animation, curves, table, null, bundle = outputs
    assert "2 properties compared" in summary and "Benjamini-Hochberg" in summary
    # The answer per model (what moves its output most) comes before the reading over every row, as in report.html.
    # A heading to a screen reader, bold to the eye.
    heading = '<strong role="heading" aria-level="2">The answer.</strong>'
    assert summary.index(heading) < summary.index("**Reading:**")
    answer = summary[summary.index(heading):summary.index("**Reading:**")]
    assert answer.count("\n- ") >= len(AUTHORS_MODELS)
    assert {row[0].split(" | ")[0] for row in table} == {"object: darken", "background: darken"}
    assert len(table) == 2 * len(AUTHORS_MODELS)
    with Image.open(animation) as gif:
        assert gif.n_frames == 5
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        page = archive.read("report.html").decode()
        folder = next(name.split("/")[0] for name in names if name.endswith("/report.html") and "object" in name)
        own = archive.read(f"{folder}/report.html").decode()
    assert {"comparison.json", "comparison.csv", "curves.png", "report.html", "strip.png"} <= names
    # The page shows the curves the app drew (comparison.png drew the same curves again, on the way to the zip).
    assert "comparison.png" not in names and page.count(">Model outputs along each property</h2>") == 1
    assert "go here -->" not in page
    # A property's own page lists what its intervention was made with, and not the other property's.
    settings = own[own.index("<h2>Settings</h2>"):]
    assert "intervention settings" in settings and "<dd>object</dd>" in settings and "background" not in settings
    assert any(name.endswith("/report.json") for name in names)
    # The comparison's own page lists what the properties share and how each was made (it listed the properties
    # and the test only: the models, the steps and the edit's strength were on the per-property pages alone).
    shared = page[page.rindex("<h2>Settings</h2>"):page.index("<h2>Versions</h2>")]
    # Each with its weights by file and SHA-256 (a reader could not tell which weights gave the answer).
    assert all(f"{name} (probability, 2 outputs; weights convmixer_" in shared for name in AUTHORS_MODELS)
    assert shared.count(".safetensors (SHA-256 ") == len(AUTHORS_MODELS)
    assert "<dt>steps</dt><dd>5</dd>" in shared and "<dt>stop</dt><dd>0.85</dd>" in shared
    assert "background" in shared and "object" in shared
    assert ">Steps of each property</h2>" in page  # the strip the app shows, not only each property's step 0
    # Each property's own page shows its strip (it had curves, GIF and region but no steps); the comparison's page,
    # which has the strip of every property, does not repeat them.
    assert f"{folder}/strip.png" in names and "Steps of the intervention" in own
    assert "Steps of the intervention" not in page


def test_a_painted_region_restricts_the_edit(progress):
    outputs = edit_call(progress, editor="parametric: darken", edit_end=0.8, regions=["painted or uploaded mask"],
                        painted=_painted(True))
    report = check_outputs(outputs, 1)
    assert "painted region" in report["intervention"]


def test_a_painted_layer_without_strokes_is_an_error(progress):
    with pytest.raises(gr.Error, match="no strokes"):
        edit_call(progress, editor="parametric: darken", regions=["painted or uploaded mask"], painted=_painted(False))


def test_an_uploaded_mask_of_another_size_is_resized_with_a_note(progress, tmp_path):
    mask = np.zeros((60, 90), dtype=np.uint8)
    mask[20:40, 30:60] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    outputs = edit_call(progress, editor="parametric: lighten", edit_end=0.8, regions=["whole image",
                        "painted or uploaded mask"], mask_file=str(tmp_path / "mask.png"))
    assert "resized" in outputs[0] and "2 properties compared" in outputs[0]


@pytest.mark.parametrize("regions, words", [([], "`regions` is empty"),
                                            (["the sky"], "`regions` must be one of 'whole image', 'object \\(segmenter\\)'")])
def test_bad_regions_are_named(progress, regions, words):
    with pytest.raises(gr.Error, match=words):
        edit_call(progress, regions=regions)


def test_an_empty_uploaded_mask_is_an_error(progress, tmp_path):
    Image.fromarray(np.zeros((40, 40), dtype=np.uint8)).save(tmp_path / "empty.png")
    with pytest.raises(gr.Error, match="changes nothing|change nothing|selects no pixel"):
        edit_call(progress, regions=["painted or uploaded mask"], mask_file=str(tmp_path / "empty.png"))


def test_edit_end_value_out_of_range_names_the_box(progress):
    # The box's own name, without the Python name's gloss ("`edit end value` (the edit's end value)" was a tautology).
    with pytest.raises(gr.Error, match=r"`edit end value` for darken must lie in \[0, 1\], got 1.5'"):
        edit_call(progress, editor="parametric: darken", edit_end=1.5)


def test_an_unreadable_mask_upload_names_the_box(progress, tmp_path):
    with pytest.raises(gr.Error, match="`mask file`"):
        edit_call(progress, regions=["painted or uploaded mask"], mask_file=_text_file(tmp_path, "mask.png"))


def test_the_painting_canvas_takes_the_upload_as_it_arrives(tmp_path):
    # Wired without gradio's decoding: a file that is not an image failed there, beside the box's own refusal, as
    # an error with a traceback in the server's log.
    from propgrad.app.tabs.edit import build_edit_tab, canvas_for

    fake = tmp_path / "holiday.png"
    fake.write_text("not an image")
    assert canvas_for({"path": str(fake), "orig_name": "holiday.png"}) == {
        "background": str(fake), "layers": [], "composite": str(fake)}
    assert canvas_for(None)["background"] is None
    with gr.Blocks() as demo:
        build_edit_tab((False, ""))
    wired = [fn for fn in demo.fns.values() if getattr(fn.fn, "__name__", "") == "canvas_for"]
    assert len(wired) == 1 and wired[0].preprocess is False


def test_a_rotation_inside_a_region_says_what_it_does():
    # The Screen runs rotation on the whole image only; a Run computed it in the object and the background and read
    # the answer like any other's.
    from propgrad.app.regions import region_interventions
    from propgrad.interventions import ParametricEdit

    chosen, notes = region_interventions(ParametricEdit("rotation", steps=3), ["whole image", "object (segmenter)"])
    assert list(chosen) == ["whole image: rotation", "object: rotation"]
    assert notes == ["rotation inside a region turns the whole picture and keeps the turned pixels only inside the "
                     "region, which tears the region's border: a model's response there mixes the rotation with the "
                     "torn edge (the Screen runs it on the whole image only)"]
    assert region_interventions(ParametricEdit("rotation", steps=3), ["whole image"])[1] == []
    assert region_interventions(ParametricEdit("darken", steps=3), ["object (segmenter)"])[1] == []
