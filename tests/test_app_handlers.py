"""The app's handlers called directly: defaults, reproducibility, side-by-side models, and bad input.

Every bad input must end in a ``gr.Error`` whose message says what was wrong (never a traceback, never a
generic message); the odd-but-valid images (greyscale, RGBA, 16-bit, huge) must simply work.
"""
from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from propgrad.app import parsing, results, settings, shared
from propgrad.app.tabs import dynamics as dynamics_tab
from propgrad.app.tabs import edit as edit_tab
from propgrad.app.tabs import patch as patch_tab
from propgrad.app.tabs import turntable as turntable_tab
from propgrad.lesions.models import example_paths as lesion_examples

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"
CHELSEA = str(ASSETS / "examples" / "chelsea.jpg")
MEAN, STD = "0.485, 0.456, 0.406", "0.229, 0.224, 0.225"
IMAGENET = "EfficientNet-Lite0 (ImageNet)"


@pytest.fixture(autouse=True)
def loopback_server():
    """Handlers called as on an app serving on 127.0.0.1 (where visitors may name the server's folders)."""
    settings.configure_serving("127.0.0.1")
    yield
    settings.configure_serving(None)


def model_args(bundled=(IMAGENET,), files=None, input_size=224, mean=MEAN, std=STD, class_names="",
               outputs="", permutations=2000, alpha=0.01):
    return dict(bundled=list(bundled), files=files, input_size=input_size, mean=mean, std=std,
                class_names=class_names, outputs=outputs, n_permutations=permutations, alpha=alpha)


def patch_call(progress, **overrides):
    args = dict(image=CHELSEA, patch_names=["rainbow disc"], patch_files=None, x=0.5, y=0.5, scale=0.3, steps=4,
                seed=0, **model_args())
    args.update(overrides)
    return patch_tab.run_patch(**args, progress=progress)


def edit_call(progress, **overrides):
    args = dict(image=CHELSEA, instruction="", editor="parametric: brightness", max_guidance=15,
                image_guidance=2.5, steps=4, denoising_steps=20, seeds="0", edit_end=0.2, **model_args())
    args.update(overrides)
    return edit_tab.run_edit(**args, progress=progress)


def turntable_call(progress, **overrides):
    frames = turntable_tab.turntable_frames()[::6]
    args = dict(frames=frames, rotation=360, use_clip=False, classes=turntable_tab.DEFAULT_CLASSES, clip_model="ViT-B-32",
                clip_pretrained="openai", seed=0, **model_args(outputs="coffee mug"))
    args.update(overrides)
    return turntable_tab.run_turntable(**args, progress=progress)


def check_outputs(outputs, n_rows):
    summary, strip, animation, curves, table, null, bundle = outputs
    assert "**Reading:**" in summary and "E[\\|grad_X F\\|]" in summary  # the reading, then the one table
    assert len(table) == n_rows
    for row in table:
        assert row[2] >= 0 and 0 < row[3] <= 1
    for path in (strip, curves, null):
        assert Image.open(path).format == "PNG"
    with Image.open(animation) as gif:
        assert gif.format == "GIF" and gif.n_frames >= 3
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        assert {"report.json", "curves.csv", "curves.png", "null.png", "strip.png", "report.html"} <= names
        report = json.loads(archive.read("report.json"))
    return report


# ---------------------------------------------------------------------------------------------------
# What works


def test_patch_default_returns_every_output(progress):
    outputs = patch_call(progress, patch_names=["rainbow disc", "rings"])
    report = check_outputs(outputs, 1)
    assert report["models"][0]["name"] == IMAGENET
    assert len(report["series_labels"]) == 2  # two patches: a mean curve with a spread
    assert progress.calls and progress.calls[-1][0] == pytest.approx(1.0)


def test_same_inputs_same_result_in_separate_folders(progress):
    first = patch_call(progress)
    second = patch_call(progress)
    assert first[4] == second[4]
    assert Path(first[6]).parent != Path(second[6]).parent  # one private folder per request


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


def test_turntable_default_frames_score_the_mug(progress):
    outputs = turntable_call(progress)
    report = check_outputs(outputs, 1)
    assert outputs[4][0][1] == "coffee mug"
    assert report["property_name"] == "turntable angle (degrees)"
    assert report["values"][:2] == [0.0, 60.0]


def test_uploaded_torchscript_runs_side_by_side(progress, tiny_torchscript):
    outputs = patch_call(progress, **model_args(files=[str(tiny_torchscript)], input_size=64,
                                                            class_names="red, green, blue"))
    models = [row[0] for row in outputs[4]]
    assert models == [IMAGENET, "tiny.pt (uploaded)"]
    assert outputs[4][1][1] in {"red", "green", "blue"}


def test_a_one_logit_upload_said_to_return_logits(progress, tmp_path):
    import torch

    class RedLogit(torch.nn.Module):  # 0.5 on grey probes, so "auto" would take it for a probability
        def forward(self, x):
            return 0.5 + 50 * (x[:, 0] - x[:, 1]).mean(dim=(1, 2))[:, None]

    path = tmp_path / "red.pt"
    torch.jit.save(torch.jit.trace(RedLogit(), torch.rand(2, 3, 32, 32)), path)
    arguments = dict(bundled=[], files=[str(path)], input_size=32, mean="0, 0, 0", std="1, 1, 1", class_names="red",
                     outputs="all")
    outputs = patch_call(progress, **arguments, outputs_are="logits")
    assert [row[:2] for row in outputs[4]] == [["red.pt (uploaded)", "not red"], ["red.pt (uploaded)", "red"]]
    assert outputs[4][0][2] == pytest.approx(outputs[4][1][2])  # |d(1 - p)| = |dp|
    with pytest.raises(gr.Error, match="--outputs-are logits; in the app 'Uploaded models return: logits'"):
        patch_call(progress, **arguments, outputs_are="auto")


def test_hub_classifier_from_a_folder_runs_side_by_side(progress, tiny_vit_folder):
    outputs = patch_call(progress, bundled=[], outputs="all",
                         hub_ids=f"{tiny_vit_folder}\n{tiny_vit_folder}")  # named twice: one model
    assert [(row[0], row[1]) for row in outputs[4]] == [(str(tiny_vit_folder), name) for name in ("cat", "dog", "fox")]
    for row in outputs[4]:
        assert row[2] >= 0 and 0 < row[3] <= 1


@pytest.mark.parametrize("kind", ["grayscale", "rgba", "uint16", "huge", "palette"])
def test_odd_but_valid_images_work(progress, tiny_torchscript, tmp_path, kind):
    rng = np.random.default_rng(0)
    if kind == "grayscale":
        image = Image.fromarray(rng.integers(0, 255, (60, 80), dtype=np.uint8), "L")
    elif kind == "rgba":
        image = Image.fromarray(rng.integers(0, 255, (60, 80, 4), dtype=np.uint8), "RGBA")
    elif kind == "uint16":
        image = Image.fromarray(rng.integers(0, 65535, (60, 80), dtype=np.uint16))
    elif kind == "palette":
        image = Image.fromarray(rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)).convert("P")
    else:
        image = Image.new("RGB", (5000, 3000), (120, 60, 30))
    path = tmp_path / f"{kind}.png"
    image.save(path)
    outputs = patch_call(progress, image=str(path), steps=3,
                         **model_args(bundled=(), files=[str(tiny_torchscript)], input_size=32))
    assert len(outputs[4]) == 1


# ---------------------------------------------------------------------------------------------------
# Bad input: a gr.Error naming the problem, for each case


def _corrupt_png(tmp_path: Path, name="broken.png") -> str:
    path = tmp_path / name
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 20)
    return str(path)


def _text_file(tmp_path: Path, name="notes.txt") -> str:
    path = tmp_path / name
    path.write_text("hello")
    return str(path)


def _tiny_image(tmp_path: Path) -> str:
    path = tmp_path / "tiny.png"
    Image.new("RGB", (8, 8), "red").save(path)
    return str(path)


def _bomb(tmp_path: Path) -> str:
    path = tmp_path / "bomb.png"
    Image.new("1", (20000, 10000)).save(path)  # 200 megapixels, a few kB on disk
    return str(path)


def _pickle_bomb(tmp_path: Path) -> str:
    """A .pt file whose unpickling would create a marker file: it must never run."""
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (Path.touch, (marker,))

    path = tmp_path / "evil.pt"
    with path.open("wb") as handle:
        pickle.dump(Exploit(), handle)
    return str(path)


def _frames(tmp_path: Path, n: int) -> list[str]:
    paths = []
    for i in range(n):
        path = tmp_path / f"frame_{i}.png"
        Image.new("RGB", (64, 64), (i * 40, 80, 120)).save(path)
        paths.append(str(path))
    return paths


BAD_CASES = [
    # (id, tab, overrides builder, words the message must contain)
    ("no image", "patch", lambda t: dict(image=None), "image` is missing"),
    ("corrupt image", "patch", lambda t: dict(image=_corrupt_png(t)), "not a readable image"),
    ("text file as image", "edit", lambda t: dict(image=_text_file(t)), "accepted: .png"),
    ("tiny image", "patch", lambda t: dict(image=_tiny_image(t)), "at least 16 px"),
    ("decompression bomb", "patch", lambda t: dict(image=_bomb(t)), "too many pixels"),
    ("decompression bomb as patch", "patch", lambda t: dict(patch_files=[_bomb(t)]), "too many pixels"),
    ("ambiguous class name", "edit", lambda t: dict(**model_args(outputs="CARDIGAN")), "exact spelling"),
    ("huge seed", "edit", lambda t: dict(seeds=str(2**70)), "seeds"),
    ("text edit end value", "edit", lambda t: dict(edit_end="abc"), "edit end value"),
    ("no patches", "patch", lambda t: dict(patch_names=[], patch_files=None), "`patches` is empty"),
    ("unknown patch", "patch", lambda t: dict(patch_names=["no such patch"]), "unknown bundled patch"),
    ("patch is a pdf", "patch", lambda t: dict(patch_files=[_text_file(t, "patch.pdf")]), "patch upload"),
    ("corrupt patch", "patch", lambda t: dict(patch_names=[], patch_files=[_corrupt_png(t, "p.png")]), "patch 1"),
    ("too few steps", "patch", lambda t: dict(steps=2), "number of steps"),
    ("too many steps", "edit", lambda t: dict(steps=500), "number of steps"),
    ("patch off the image", "patch", lambda t: dict(x=1.5), "patch x"),
    ("zero-size patch", "patch", lambda t: dict(scale=0), "patch scale"),
    ("seeds not numbers", "edit", lambda t: dict(seeds="one, two"), "`seeds`"),
    ("seeds empty", "edit", lambda t: dict(seeds="  "), "`seeds` is empty"),
    ("no editor", "edit", lambda t: dict(editor=None), "`editor` is empty"),
    ("unknown editor", "edit", lambda t: dict(editor="sepia"), "not available here"),
    ("empty instruction", "edit", lambda t: dict(editor="InstructPix2Pix (instruction)", instruction="  "),
     "`instruction` is empty"),
    ("edit does not change", "edit", lambda t: dict(editor="parametric: brightness", edit_end=1.0), "would not change"),
    ("negative brightness", "edit", lambda t: dict(edit_end=-2), "at least 0"),
    ("two frames", "turntable", lambda t: dict(frames=_frames(t, 2)), "at least 3 frames"),
    ("no frames", "turntable", lambda t: dict(frames=None), "at least 3 frames"),
    ("frames are text", "turntable", lambda t: dict(frames=[_text_file(t, f"f{i}.txt") for i in range(3)]),
     "`frames`"),
    ("corrupt frame", "turntable", lambda t: dict(frames=_frames(t, 3) + [_corrupt_png(t, "frame_9.png")]),
     "not a readable image"),
    ("clip classes empty", "turntable", lambda t: dict(use_clip=True, classes=""), "`classes` is empty"),
    ("clip one class", "turntable", lambda t: dict(use_clip=True, classes="mug: a mug"), "at least two classes"),
    ("no models", "patch", lambda t: dict(bundled=[], files=None), "choose at least one"),
    ("unknown bundled model", "patch", lambda t: dict(bundled=["GPT-9"]), "unknown bundled model"),
    ("model file wrong type", "patch", lambda t: dict(files=[_text_file(t, "model.pkl")]), "accepted: .pt2"),
    ("model file corrupt", "patch", lambda t: dict(files=[_corrupt_png(t, "model.pt2")]), "model.pt2"),
    ("pickled model refused", "patch", lambda t: dict(files=[_pickle_bomb(t)]), "evil.pt"),
    ("mean not numbers", "patch", lambda t: dict(files=["x.pt"], mean="red, green"), "`mean`"),
    ("std zero", "patch", lambda t: dict(files=["x.pt"], std="0, 0, 0"), "`std` must be positive"),
    ("input size silly", "patch", lambda t: dict(files=["x.pt"], input_size=3), "input size"),
    ("all of 1000 classes", "patch", lambda t: dict(outputs="all"), "'all' would score all 1000"),
    ("alpha above one", "patch", lambda t: dict(alpha=2), "`alpha`"),
    ("too few permutations", "patch", lambda t: dict(n_permutations=5), "`permutations`"),
    ("rotation negative", "turntable", lambda t: dict(rotation=-90), "total rotation"),
    ("hub id not cached", "patch", lambda t: dict(hub_ids="google/vit-base-patch16-224"), "not in the local hub cache"),
    ("hub folder missing", "edit", lambda t: dict(hub_ids=str(t / "no-model")), "no such folder"),
    ("hub id not an id", "turntable", lambda t: dict(hub_ids="what is this?"), "neither a hub id"),
    ("outputs are nonsense", "patch", lambda t: dict(files=["x.pt"], outputs_are="odds"), "`outputs are`"),
    ("too many hub models", "patch", lambda t: dict(hub_ids="a/b, c/d, e/f, g/h, i/j"), "at most 4"),
]


@pytest.mark.parametrize("case", BAD_CASES, ids=[case[0] for case in BAD_CASES])
def test_bad_input_gives_a_clear_error(progress, tmp_path, case):
    _, tab, build, words = case
    call = {"patch": patch_call, "edit": edit_call, "turntable": turntable_call}[tab]
    with pytest.raises(gr.Error) as caught:
        call(progress, **build(tmp_path))
    message = caught.value.message
    assert words.lower() in message.lower(), message
    assert "Traceback" not in message and shared.GENERIC_ERROR != message
    assert not (tmp_path / "pwned").exists()


def test_clip_without_weights_says_how_to_get_them(progress, monkeypatch, tmp_path):
    # A local checkpoint path that does not exist: no download is tried, the message names the problem.
    with pytest.raises(gr.Error) as caught:
        turntable_call(progress, use_clip=True, clip_pretrained=str(tmp_path / "missing.bin"))
    assert "clip" in caught.value.message.lower()
    assert shared.GENERIC_ERROR != caught.value.message


def test_unexpected_errors_are_logged_and_shown_generically(progress, monkeypatch, caplog):
    def boom(*args, **kwargs):
        raise RuntimeError("internal detail")

    monkeypatch.setattr(results, "show", boom)
    with pytest.raises(gr.Error) as caught:
        patch_call(progress, **model_args(permutations=1000))
    assert caught.value.message == shared.GENERIC_ERROR
    assert "internal detail" in caplog.text


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


def test_training_dynamics_handler(progress):
    variants = dynamics_tab.dynamics_variants()
    if not variants:
        pytest.skip("the lesion scenario's per-epoch checkpoints are not in this build")
    image = str(lesion_examples()[0])
    plot, table, csv_path = dynamics_tab.run_dynamics(image, variants[:1], 4, 0, 500, 0.01, progress=progress)
    assert Image.open(plot).format == "PNG" and len(table) >= 2 and Path(csv_path).read_text().count("\n") == len(table) + 1
    with pytest.raises(gr.Error, match="`variants`: tick at least one"):
        dynamics_tab.run_dynamics(image, [], 4, 0, 500, 0.01, progress=progress)
    with pytest.raises(gr.Error, match="no per-epoch checkpoints"):
        dynamics_tab.run_dynamics(image, ["no such variant"], 4, 0, 500, 0.01, progress=progress)


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


def test_building_the_app_imports_no_editor_or_clip_packages():
    # Start-up stays fast because diffusers, open_clip and transformers load only when used.
    import subprocess
    import sys

    code = ("import sys, app; app.build_demo(); "
            "print(sorted(m for m in ('diffusers', 'open_clip', 'transformers') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


AUTHORS = Path(__file__).resolve().parents[2] / "shared" / "third_party" / "propgrad-authors"


@pytest.mark.skipif(not AUTHORS.is_dir(), reason="the authors' checkpoints are not in ../shared")
def test_uploaded_convmixer_with_blank_preprocessing_uses_its_own(progress):
    """Blank size/mean/std take the checkpoint's 128 px and 0.5 statistics: the cat stays a cat."""
    outputs = edit_call(progress, image=str(AUTHORS / "cat_001.jpg"), steps=3, edit_end=0.9,
                        **model_args(bundled=(), files=[str(AUTHORS / "convmixer_unbiased.pth")], input_size=None,
                                     mean="", std=""))
    row = outputs[4][0]
    assert row[0] == "convmixer_unbiased.pth (uploaded)" and row[1] == "cat"


def test_review_cases_that_must_work(progress):
    """A large hue rotation wraps around; several seeds with a parametric edit give one series and a note;
    a patch ticked twice is one series; the exact ImageNet name picks the dog, not the sweater."""
    hue = edit_call(progress, editor="parametric: hue", edit_end=5000, steps=3)
    assert len(hue[4]) == 1
    seeds = edit_call(progress, seeds="0, 1, 2", steps=3)
    assert "same for every seed" in seeds[0]
    twice = patch_call(progress, patch_names=["rainbow disc", "rainbow disc"])
    assert "series" not in str(twice[4][0][-1])
    dog = edit_call(progress, steps=3, **model_args(outputs="Cardigan"))
    assert dog[4][0][1] == "Cardigan"


def test_flips_name_the_classes_for_one_series_and_count_series_for_several():
    from propgrad.report import flips_text
    from propgrad.score import prediction_flips

    names = ["tabby", "Egyptian cat", "lynx"]
    walk = np.array([[0.5, 0.3, 0.2], [0.3, 0.5, 0.2], [0.2, 0.3, 0.5], [0.6, 0.2, 0.2], [0.2, 0.6, 0.2],
                     [0.6, 0.2, 0.2]])
    assert flips_text([prediction_flips(walk)], names) == (
        "step 1: tabby -> Egyptian cat; step 2: Egyptian cat -> lynx; step 3: lynx -> tabby; 2 more")
    still = prediction_flips(np.tile([0.7, 0.2, 0.1], (6, 1)))
    assert flips_text([still], names) == "no flip"
    assert flips_text([still, still], names) == "no flip in 2 series"
    # The first series need not be the one that flips: steps come from every series.
    assert flips_text([still, prediction_flips(walk[:3]), prediction_flips(walk[2:5])], names) == (
        "in 2/3 series, at steps 1, 2")


def test_several_patches_report_where_any_series_flips(progress):
    outputs = patch_call(progress, patch_names=["rainbow disc", "rings", "stripes"], steps=6)
    for row in outputs[4]:
        assert row[5].startswith(("in ", "no flip in 3 series")), row[5]


class _Outputs:
    def __init__(self, name, outputs):
        self.name, self.output_names = name, outputs


IMAGENET_LIKE = _Outputs("ImageNet", ["tabby, tabby cat", "tiger cat", "Egyptian cat", "lynx, catamount"])
PETS = _Outputs("pets", ["cat", "dog"])


def test_outputs_named_by_some_models_fall_back_with_a_note_for_the_others():
    selection, notes = parsing.select_outputs([IMAGENET_LIKE, PETS], "tiger cat, dog")
    assert selection == {"ImageNet": ["tiger cat"], "pets": ["dog"]}
    assert notes == ["ImageNet has no output 'dog'; skipped for it.", "pets has no output 'tiger cat'; skipped for it."]
    selection, notes = parsing.select_outputs([IMAGENET_LIKE, PETS], "cat")
    assert selection == {"ImageNet": None, "pets": ["cat"]}
    assert notes == ["ImageNet has no output 'cat'; scored its predicted class instead."]


def test_class_names_with_commas_stay_whole():
    selection, _ = parsing.select_outputs([IMAGENET_LIKE], "Tabby, tabby cat, lynx, catamount")
    assert selection == {"ImageNet": ["tabby, tabby cat", "lynx, catamount"]}


@pytest.mark.parametrize("text, message", [
    ("tabby cat", r"no model has an output 'tabby cat' \(closest: 'tabby, tabby cat'"),
    ("dog, dgo", r"no model has an output 'dgo' \(closest: 'dog'\)"),
    ("all, cat", r"'all' scores every output; give it alone"),
])
def test_outputs_no_model_has_are_errors_with_the_closest_names(text, message):
    with pytest.raises(ValueError, match=message):
        parsing.select_outputs([IMAGENET_LIKE, PETS], text)


def test_a_misspelt_output_stops_the_run_in_the_app(progress):
    with pytest.raises(gr.Error, match=r"no model has an output 'zebra-cat'.*leave the box blank"):
        patch_call(progress, outputs="zebra-cat")


def test_an_emptied_input_size_box_means_from_the_file(progress, tiny_torchscript):
    # Browsers send 0 for a number box the user cleared.
    outputs = patch_call(progress, **model_args(bundled=[], files=[str(tiny_torchscript)], input_size=0))
    assert outputs[4][0][0] == "tiny.pt (uploaded)"


@pytest.mark.parametrize("editor, shown", [("InstructPix2Pix", (True, True, False, True)),
                                           ("parametric: hue", (False, False, True, False))])
def test_only_the_chosen_editors_settings_are_shown(editor, shown):
    updates = edit_tab.show_editor_settings(edit_tab.IP2P if editor == "InstructPix2Pix" else editor)
    assert tuple(update["visible"] for update in updates) == shown


def test_the_scores_table_says_yes_or_no_and_the_summary_gives_alpha(progress):
    outputs = patch_call(progress, alpha=0.05)
    assert {row[4] for row in outputs[4]} <= {"yes", "no"}
    assert "alpha = 0.05" in outputs[0]


# ---------------------------------------------------------------------------------------------------
# Every text and number box: over-long, control characters, line breaks, wrong types


LONG = "x" * 5000
TEXT_BOXES = [
    # (tab, argument, the box's name in the message, single-line?, extra arguments that make the box read)
    ("edit", "instruction", "instruction", True, dict(editor="InstructPix2Pix (instruction)")),
    ("edit", "seeds", "seeds", True, {}),
    ("patch", "outputs", "outputs of interest", False, {}),
    ("patch", "hub_ids", "hub classifiers", False, {}),
    ("patch", "mean", "mean", True, "upload"),
    ("patch", "std", "std", True, "upload"),
    ("patch", "class_names", "class names", False, "upload"),
    ("patch", "outputs_are", "uploaded models return", True, "upload"),
    ("turntable", "classes", "classes", False, dict(use_clip=True)),
    ("turntable", "clip_model", "open_clip model", True, dict(use_clip=True)),
    ("turntable", "clip_pretrained", "CLIP pretrained tag or checkpoint path", True, dict(use_clip=True)),
]
CALLS = {"patch": patch_call, "edit": edit_call, "turntable": turntable_call}


def _text_cases():
    for tab, argument, box, single_line, extra in TEXT_BOXES:
        yield pytest.param(tab, argument, box, extra, LONG, "characters long", id=f"{argument}-too-long")
        yield pytest.param(tab, argument, box, extra, "a\x00b", "control character", id=f"{argument}-nul")
        yield pytest.param(tab, argument, box, extra, "a\x1bb", "control character", id=f"{argument}-escape")
        if single_line:
            yield pytest.param(tab, argument, box, extra, "a\nb", "line break", id=f"{argument}-newline")
        yield pytest.param(tab, argument, box, extra, ["a", "list"], "must be text", id=f"{argument}-list")


@pytest.mark.parametrize("tab, argument, box, extra, value, words", list(_text_cases()))
def test_every_text_box_refuses_odd_text_by_name(progress, tiny_torchscript, monkeypatch, tab, argument, box, extra,
                                                 value, words):
    if extra == "upload":
        extra = dict(files=[str(tiny_torchscript)], bundled=[])
    if argument == "instruction":  # the box is read only when the editor's weights exist
        monkeypatch.setattr(edit_tab, "instruct_pix2pix_status", lambda: (True, "test"))
    with pytest.raises(gr.Error) as caught:
        CALLS[tab](progress, **{**extra, argument: value})
    message = caught.value.message
    assert f"`{box}`" in message and words in message, message
    assert message != shared.GENERIC_ERROR and len(message) < 600


NUMBER_BOXES = [("patch", "x", "patch x"), ("patch", "y", "patch y"), ("patch", "scale", "patch scale"),
                ("patch", "steps", "number of steps"), ("patch", "seed", "seed"), ("patch", "n_permutations",
                "permutations"), ("patch", "alpha", "alpha"), ("edit", "edit_end", "edit end value"),
                ("turntable", "rotation", "total rotation")]


@pytest.mark.parametrize("value", ["abc", LONG, [1, 2], {"a": 1}, float("nan"), 10**400, "1\x00"],
                         ids=["word", "long", "list", "dict", "nan", "huge", "nul"])
@pytest.mark.parametrize("tab, argument, box", NUMBER_BOXES, ids=[n[1] for n in NUMBER_BOXES])
def test_every_number_box_refuses_what_is_no_number_by_name(progress, tab, argument, box, value):
    with pytest.raises(gr.Error) as caught:
        CALLS[tab](progress, **{argument: value})
    message = caught.value.message
    assert f"`{box}`" in message and message != shared.GENERIC_ERROR and len(message) < 600, message


def test_a_5000_character_hub_id_gets_a_clear_message(progress):
    with pytest.raises(gr.Error) as caught:
        patch_call(progress, hub_ids="a" * 5000)
    assert "hub classifiers" in caught.value.message and caught.value.message != shared.GENERIC_ERROR


def test_a_long_folder_name_is_refused_without_an_os_error():
    from propgrad.models.hub import load_hub_classifier

    with pytest.raises(ValueError, match="not a usable folder name|too long"):
        load_hub_classifier("/" + "a" * 300 + "/b")


@pytest.fixture()
def public_server(monkeypatch):
    """The app as served on all interfaces: visitors are not this machine's users."""
    monkeypatch.delenv(settings.ALLOW_LOCAL_PATHS_ENV, raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    settings.configure_serving("0.0.0.0")
    yield


@pytest.mark.parametrize("folder", ["/etc", "/root", "./models", "~/models", "..", "C:\\models"])
def test_a_public_server_never_looks_at_its_folders(public_server, progress, monkeypatch, folder):
    from propgrad.app import model_inputs

    with pytest.raises(gr.Error, match="takes hub ids only") as caught:
        patch_call(progress, hub_ids=folder)
    assert "PROPGRAD_ALLOW_LOCAL_PATHS" in caught.value.message
    looked = []
    monkeypatch.setattr(Path, "is_dir", lambda self: looked.append(self) or True)
    monkeypatch.setattr(Path, "exists", lambda self: looked.append(self) or True)
    with pytest.raises(ValueError, match="takes hub ids only"):
        model_inputs.hub_models(folder)
    assert not looked


def test_a_hub_id_shaped_name_is_not_probed_as_a_folder_on_a_public_server(public_server, monkeypatch):
    from propgrad.models import hub

    monkeypatch.setattr(Path, "is_dir", lambda self: pytest.fail(f"asked the file system about {self}"))
    assert hub._local_folder("etc", allow_folders=False) is None


@pytest.mark.parametrize("pretrained", ["/root/.cache/clip.pt", "LICENSE", "README.md", "~/clip.bin"])
def test_clip_checkpoint_paths_are_refused_on_a_public_server(public_server, progress, monkeypatch, pretrained):
    looked = []
    monkeypatch.setattr(Path, "is_file", lambda self: looked.append(self) or True)
    with pytest.raises(gr.Error, match="open_clip tags of 'ViT-B-32' only") as caught:
        turntable_call(progress, use_clip=True, clip_pretrained=pretrained)
    # (open_clip reads its own package's configs; nothing the visitor typed is looked up)
    assert "openai" in caught.value.message and all("open_clip" in str(path) for path in looked)


@pytest.mark.parametrize("host, share, env, allowed", [
    ("127.0.0.1", False, "", True), ("localhost", False, "", True), ("::1", False, "", True),
    ("0.0.0.0", False, "", False), ("127.0.0.1", True, "", False), ("0.0.0.0", False, "1", True),
    (None, False, "", False),
])
def test_local_paths_are_allowed_on_loopback_or_by_the_operator(monkeypatch, host, share, env, allowed):
    monkeypatch.setenv(settings.ALLOW_LOCAL_PATHS_ENV, env)
    monkeypatch.delenv("SPACE_ID", raising=False)
    settings.configure_serving(host, share=share)
    assert settings.local_paths_allowed() is allowed


def test_local_folders_work_on_loopback(progress, tiny_vit_folder):
    settings.configure_serving("127.0.0.1")
    outputs = patch_call(progress, hub_ids=str(tiny_vit_folder), **model_args(bundled=[], permutations=200))
    assert outputs[4][0][0] == str(tiny_vit_folder)


# ---------------------------------------------------------------------------------------------------
# Region edits in the first tab


AUTHORS_MODELS = [name for name in shared.bundled_names() if "(authors)" in name]


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
    assert {row[0].split(" | ")[0] for row in table} == {"object: darken", "background: darken"}
    assert len(table) == 2 * len(AUTHORS_MODELS)
    with Image.open(animation) as gif:
        assert gif.n_frames == 5
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
    assert {"comparison.json", "comparison.csv", "comparison.png", "report.html"} <= names
    assert any(name.endswith("/report.json") for name in names)


def _painted(stroke: bool):
    layer = np.zeros((300, 451, 4), dtype=np.uint8)
    if stroke:
        layer[100:200, 150:300] = (255, 0, 255, 255)
    return {"background": None, "layers": [layer], "composite": None}


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


@pytest.mark.parametrize("regions, words", [([], "`regions` is empty"), (["the sky"], "unknown region")])
def test_bad_regions_are_named(progress, regions, words):
    with pytest.raises(gr.Error, match=words):
        edit_call(progress, regions=regions)


def test_an_empty_uploaded_mask_is_an_error(progress, tmp_path):
    Image.fromarray(np.zeros((40, 40), dtype=np.uint8)).save(tmp_path / "empty.png")
    with pytest.raises(gr.Error, match="changes nothing|change nothing|selects no pixel"):
        edit_call(progress, regions=["painted or uploaded mask"], mask_file=str(tmp_path / "empty.png"))


# ---------------------------------------------------------------------------------------------------
# A small study in the patch and edit tabs


def test_a_patch_study_over_several_images_aggregates_them(progress):
    images = [CHELSEA, str(ASSETS / "examples" / "coffee.jpg"), str(ASSETS / "examples" / "rocket.jpg")]
    summary, sheet, animation, curves, table, scatter, bundle = patch_call(
        progress, study_files=images, patch_names=["rainbow disc", "rings"], **model_args(permutations=500))
    assert "3 images" in summary and "mean ± std" in summary
    assert len(table) == 1 and table.iloc[0]["images (series)"] == "3 (6)"
    assert list(table.columns)[3:5] == ["share significant", "share flipped"]
    assert Image.open(curves).format == "PNG" and Image.open(sheet).format == "PNG" and animation is None
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        rows = archive.read("results.csv").decode().strip().splitlines()
    assert {"results.csv", "curves.csv", "summary.csv", "summary.md", "report.html"} <= names
    assert len(rows) == 1 + 3  # one row per image x model x output


def test_a_study_zip_cannot_write_outside_its_folder(progress, tmp_path):
    archive_path = tmp_path / "images.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.write(CHELSEA, "../../escaped_chelsea.jpg")
        archive.write(ASSETS / "examples" / "coffee.jpg", "/tmp/abs_coffee.jpg")
        archive.writestr("notes.txt", "not an image")
    outputs = edit_call(progress, study_files=[str(archive_path)], regions=["whole image"],
                        **model_args(permutations=500))
    assert "2 images" in outputs[0]
    assert not Path("/tmp/abs_coffee.jpg").exists() and not (tmp_path.parent.parent / "escaped_chelsea.jpg").exists()


@pytest.mark.parametrize("files, words", [
    (lambda t: [CHELSEA], "at least 2 images"),
    (lambda t: [CHELSEA] * 25, "at most 24"),
    (lambda t: [_text_file(t), CHELSEA], "accepted: .png"),
    (lambda t: [str(_broken_zip(t)), CHELSEA], "not a readable zip"),
])
def test_bad_study_uploads_are_named(progress, tmp_path, files, words):
    with pytest.raises(gr.Error, match=words):
        patch_call(progress, study_files=files(tmp_path))


def _broken_zip(folder: Path) -> Path:
    path = folder / "broken.zip"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    return path


def test_an_unreadable_study_image_is_skipped_and_listed(progress, tmp_path):
    outputs = patch_call(progress, study_files=[CHELSEA, str(ASSETS / "examples" / "coffee.jpg"), _corrupt_png(tmp_path)],
                         **model_args(permutations=500))
    assert "Skipped" in outputs[0] and outputs[4].iloc[0]["images (series)"] == "2 (2)"


def test_a_painted_mask_cannot_be_used_for_a_study(progress):
    with pytest.raises(gr.Error, match="belongs to one image"):
        edit_call(progress, study_files=[CHELSEA, CHELSEA], regions=["painted or uploaded mask"], painted=_painted(True))


def test_two_study_zips_with_the_same_names_keep_every_image(tmp_path):
    from propgrad.app.study import study_images

    archives = []
    for number, grey in enumerate((10, 200)):
        archive_path = tmp_path / f"images{number}.zip"
        with zipfile.ZipFile(archive_path, "w") as archive:
            for name, shade in (("a.png", grey), ("b.png", grey + 20)):
                buffer = __import__("io").BytesIO()
                Image.new("RGB", (20, 20), (shade,) * 3).save(buffer, "PNG")
                archive.writestr(name, buffer.getvalue())
        archives.append(str(archive_path))
    out = tmp_path / "out"
    out.mkdir()
    paths = study_images(archives, out)
    assert sorted(Image.open(p).getpixel((0, 0))[0] for p in paths) == [10, 30, 200, 220]


def test_many_study_zips_are_refused_before_anything_is_unpacked(tmp_path):
    from propgrad.app.study import study_images

    archives = []
    for number in range(2):
        archive_path = tmp_path / f"zeros{number}.zip"
        with zipfile.ZipFile(archive_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for member in range(20):
                archive.writestr(f"{number}_{member}.png", b"\0" * 2**20)
        archives.append(str(archive_path))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ValueError, match="at most 24"):
        study_images(archives, out)
    assert not any(out.iterdir())


def test_a_damaged_zip_entry_names_the_box(tmp_path, progress):
    archive_path = tmp_path / "crc.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.write(CHELSEA, "a.jpg")
        archive.write(CHELSEA, "b.jpg")
    data = bytearray(archive_path.read_bytes())
    data[200] ^= 0xFF  # inside the first member's compressed bytes: its CRC no longer matches
    archive_path.write_bytes(bytes(data))
    with pytest.raises(gr.Error, match="`study images`.*cannot be unpacked"):
        patch_call(progress, study_files=[str(archive_path)])


def test_edit_end_value_out_of_range_names_the_box(progress):
    with pytest.raises(gr.Error, match="`edit end value`"):
        edit_call(progress, editor="parametric: darken", edit_end=1.5)


def test_an_unticked_painted_region_does_not_block_a_study(progress):
    outputs = edit_call(progress, study_files=[CHELSEA, str(ASSETS / "examples" / "coffee.jpg")],
                        regions=["whole image"], painted=_painted(True), **model_args(permutations=300))
    assert "2 images" in outputs[0]


def test_an_unreadable_mask_upload_names_the_box(progress, tmp_path):
    with pytest.raises(gr.Error, match="`mask file`"):
        edit_call(progress, regions=["painted or uploaded mask"], mask_file=_text_file(tmp_path, "mask.png"))


def test_the_app_denies_server_paths_until_it_knows_where_it_serves():
    settings.configure_serving(None)
    assert not settings.local_paths_allowed()


# ---------------------------------------------------------------------------------------------------
# The answer first, then the rest; what report.json records; uploads checked on upload


def test_the_run_button_shows_the_answer_first_and_the_rest_follows(progress):
    outputs = shared.shown_first(patch_tab.run_patch)(CHELSEA, ["rainbow disc"], None, 0.5, 0.5, 0.3, 4, 0,
                                                       [IMAGENET], progress=progress)
    summary, strip, animation, curves, table, null, bundle, run, error = outputs
    assert "**Reading:**" in summary and strip and curves and len(table) == 1
    assert animation is None and null is None and bundle is None  # not drawn yet: the answer is on the page first
    animation, null, bundle, state = shared.finish_run(run)
    assert state is None
    with Image.open(animation) as gif:
        assert gif.n_frames == 4
    assert Image.open(null).format == "PNG" and Path(bundle).name == "propgrad-chelsea-patch-blend.zip"
    assert error == gr.update(value="", visible=False)
    # A bad box: the message once, beside the form; the old result cleared.
    failed = shared.shown_first(patch_tab.run_patch)(CHELSEA, [], None, progress=progress)
    assert failed[0] == shared.FAILED and failed[1:8] == (None,) * 7
    assert failed[8]["visible"] and "`patches` is empty" in failed[8]["value"]
    # A study answers in one go: nothing follows.
    assert shared.finish_run(None) == (gr.skip(), gr.skip(), gr.skip(), None)


def test_report_json_records_every_setting_of_the_run(progress, tiny_torchscript):
    outputs = edit_call(progress, editor="parametric: darken", edit_end=0.6, regions=["painted or uploaded mask"],
                        painted=_painted(True), **model_args(files=[str(tiny_torchscript)], input_size=32,
                                                              permutations=300, alpha=0.05))
    assert Path(outputs[6]).name == "propgrad-chelsea-darken-edit-in-the-painted-region.zip"
    with zipfile.ZipFile(outputs[6]) as archive:
        report = json.loads(archive.read("report.json"))
    recorded = report["settings"]
    assert recorded["input"]["file"] == "chelsea.jpg" and len(recorded["input"]["sha256"]) == 64
    (name, intervention), = recorded["interventions"].items()
    assert intervention["type"] == "Region" and intervention["intervention"]["kind"] == "darken"
    assert intervention["intervention"]["stop"] == 0.6 and 0 < intervention["mask"]["mean"] < 1
    assert [model["name"] for model in recorded["models"]] == [IMAGENET, "tiny.pt (uploaded)"]
    uploaded = recorded["models"][1]
    assert uploaded["preprocessing"]["size"] == [32, 32] and uploaded["preprocessing"]["mean"] == [0.485, 0.456, 0.406]
    assert "output_handling" in uploaded
    assert (recorded["n_permutations"], recorded["alpha"], recorded["seed"]) == (300, 0.05, 0)
    assert {"propgrad", "numpy", "torch", "gradio"} <= set(recorded["packages"])
    assert report["models"][0]["reading"]["label"] in outputs[0]


def test_a_comparison_zip_has_every_propertys_curves_and_gif(progress):
    outputs = edit_call(progress, editor="parametric: lighten", edit_end=0.8, regions=["whole image",
                        "painted or uploaded mask"], painted=_painted(True), **model_args(permutations=300))
    assert Path(outputs[6]).name == "propgrad-chelsea-lighten-whole-image-vs-painted-region.zip"
    with zipfile.ZipFile(outputs[6]) as archive:
        names = set(archive.namelist())
        comparison = json.loads(archive.read("comparison.json"))
    for folder in comparison["folders"].values():
        assert {f"{folder}/curves.png", f"{folder}/animation.gif", f"{folder}/report.json"} <= names
    assert comparison["reading"].startswith("Reading: ") and comparison["settings"]["input"]["file"] == "chelsea.jpg"
    assert all("reading" in row for row in comparison["table"])


def test_an_upload_is_checked_when_it_arrives(tiny_torchscript, tmp_path):
    ready = shared.check_uploaded_models([str(tiny_torchscript)], None, "", "", "", "auto")
    assert "ready: **tiny.pt (uploaded)**, 3 outputs" in ready and "224x224" in ready
    refused = shared.check_uploaded_models([_text_file(tmp_path, "notes.pt")], None, "", "", "", "auto")
    assert refused.startswith("**Cannot use this upload:**") and "notes.pt" in refused
    assert shared.check_uploaded_models([_text_file(tmp_path, "model.pkl")], None, "", "", "", "auto").startswith(
        "**Cannot use this upload:** `model file`")


def test_each_tab_default_is_computed_once_and_shared(monkeypatch):
    from propgrad.app import defaults

    calls = []
    monkeypatch.setattr(defaults, "_COMPUTE", {"demo": lambda: calls.append(1) or ("answer",)})
    monkeypatch.setattr(defaults, "_READY", {"demo": __import__("threading").Event()})
    monkeypatch.setattr(defaults, "_RESULTS", {})
    monkeypatch.setattr(defaults, "_STARTED", __import__("threading").Event())
    thread = defaults.start(lambda: True)
    thread.join(30)
    assert [defaults.result("demo", ("press Run",)) for _ in range(3)] == [("answer",)] * 3 and calls == [1]
    assert defaults.result("no such tab", ("press Run",)) == ("press Run",)


@pytest.mark.parametrize("tab", [edit_tab, patch_tab])
def test_examples_are_whole_presets(tab):
    rows, labels = (tab.edit_examples() if tab is edit_tab else tab.patch_examples())
    assert len(rows) == len(labels) and len({len(row) for row in rows}) == 1
    if tab is edit_tab:
        coffee = next(row for row in rows if row[0].endswith("coffee.jpg"))
        assert coffee[5] == [IMAGENET] and coffee[6] == ""  # the ImageNet classifier on its predicted class
        assert all(row[5] for row in rows)  # every preset names its models
