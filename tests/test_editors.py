"""Guided editors on tiny random weights: end to end on CPU, step 0 is the input, same seed same series."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("diffusers")

from propgrad.cache import SeriesCache  # noqa: E402
from propgrad.errors import ModelUnavailableError  # noqa: E402
from propgrad.interventions.editors import (EDITORS, GuidedEditorSweep, editor_available, editor_names,  # noqa: E402
                                           get_editor, gpu_seconds, load_editor)

pytestmark = pytest.mark.slow  # runs models or a server end to end: seconds each


def _image(size=(64, 32)):
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))


@pytest.fixture(scope="module")
def ledits():
    from propgrad.testing.random_editors import random_ledits_pp

    return random_ledits_pp()


@pytest.fixture(scope="module")
def qwen():
    from propgrad.testing.random_editors import random_qwen_image_edit

    return random_qwen_image_edit()


@pytest.fixture()
def small_qwen_area(monkeypatch):
    # Qwen-Image-Edit encodes its input at about one megapixel whatever the output size: minutes on a
    # CPU with the tiny model. The test shrinks that working area; the code path is otherwise the real one.
    import diffusers.pipelines.qwenimage.pipeline_qwenimage_edit as module

    original = module.calculate_dimensions
    monkeypatch.setattr(module, "calculate_dimensions", lambda area, ratio: original(64 * 64, ratio))


def _arrays(series):
    return [np.asarray(im, dtype=np.int16) for im in series.images]


def test_ledits_sweep_end_to_end_same_seed_same_series(ledits, tmp_path):
    image = _image()
    sweep = GuidedEditorSweep("red fur", editor="ledits++", steps=4, denoising_steps=3, seeds=(0, 1), pipeline=ledits)
    first = sweep.series(image)
    assert [s.label for s in first] == ["seed 0", "seed 1"]
    for series in first:
        assert len(series) == 4 and series.property_name == "edit guidance scale"
        assert series.values.tolist() == [0.0, 1.0, 5.5, 10.0]
        assert series.images[0].tobytes() == image.tobytes()  # step 0 is the input (already a multiple of 32)
        assert all(im.size == image.size for im in series.images)
    again = sweep.series(image)
    assert all(np.array_equal(a, b) for s, t in zip(first, again) for a, b in zip(_arrays(s), _arrays(t)))
    # The knob does something: the largest value differs from the smallest.
    assert np.abs(_arrays(first[0])[3] - _arrays(first[0])[1]).max() > 0


def test_ledits_equals_one_pipeline_call_per_knob_value(ledits):
    """Step k is exactly what a user's own invert + call at that knob value gives."""
    import torch

    image = _image()
    series = GuidedEditorSweep("red fur", editor="ledits++", steps=3, denoising_steps=3, pipeline=ledits,
                               knob_range=(2.0, 6.0)).series(image)[0]
    ledits.invert(image=image, source_prompt="", num_inversion_steps=3, generator=torch.Generator("cpu").manual_seed(0))
    direct = ledits(editing_prompt=["red fur"], edit_guidance_scale=[6.0], edit_threshold=[0.9],
                    reverse_editing_direction=[False], generator=torch.Generator("cpu").manual_seed(0)).images[0]
    assert np.array_equal(np.asarray(direct), np.asarray(series.images[2]))


def test_qwen_sweep_end_to_end_and_cached(qwen, small_qwen_area, tmp_path):
    image = _image((64, 48))
    cache = SeriesCache(tmp_path / "cache")
    sweep = GuidedEditorSweep("make it blue", editor="qwen-image-edit", steps=3, denoising_steps=2, pipeline=qwen,
                              knob_range=(1.0, 6.0), cache=cache)
    (series,) = sweep.series(image)
    assert series.values.tolist() == [1.0, 1.0, 6.0]
    assert series.images[0].tobytes() == image.tobytes()
    assert all(im.size == image.size for im in series.images)
    assert series.property_name == "true cfg scale"
    # A second run of the same settings comes from the disk cache, identical.
    messages = []
    (cached,) = sweep.series(image, progress=lambda f, m="": messages.append(m))
    assert "loaded from cache" in messages
    assert all(np.array_equal(a, b) for a, b in zip(_arrays(series), _arrays(cached)))


def test_qwen_same_seed_same_series_and_knob_acts(qwen, small_qwen_area):
    image = _image((64, 48))
    sweep = GuidedEditorSweep("make it blue", editor="qwen-image-edit", steps=3, denoising_steps=2, pipeline=qwen,
                              knob_range=(1.0, 6.0))
    a, b = sweep.series(image)[0], sweep.series(image)[0]
    assert all(np.array_equal(x, y) for x, y in zip(_arrays(a), _arrays(b)))
    assert np.abs(_arrays(a)[2] - _arrays(a)[1]).max() > 0


def test_instruct_pix2pix_editor_keeps_its_batched_sweep(tmp_path):
    from propgrad.interventions.cfg_sweep import cfg_sweep
    from propgrad.testing.random_pix2pix import random_instruct_pix2pix

    pipe = random_instruct_pix2pix("tiny")
    image = _image()
    (series,) = GuidedEditorSweep("make it red", editor="instruct-pix2pix", steps=3, denoising_steps=2,
                                  pipeline=pipe).series(image)
    assert series.values.tolist() == [1.0, 1.01, 10.0]
    batched = cfg_sweep(pipe, image, [1.01, 10.0], prompt="make it red", image_guidance_scale=2.5,
                        num_inference_steps=2, seeds=0)[0]
    assert all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(batched, series.images[1:]))
    assert EDITORS["instruct-pix2pix"].batched and not EDITORS["ledits++"].batched


def test_table_describes_every_editor():
    import diffusers

    for name in editor_names():
        editor = get_editor(name)
        assert hasattr(diffusers, editor.pipeline_class), editor.pipeline_class
        assert editor.knob_range[0] < editor.knob_range[1] and editor.licence
    assert {"ledits++", "qwen-image-edit"} <= set(editor_names())


@pytest.mark.parametrize("kwargs, message", [
    ({"editor": "mgie"}, "unknown editor 'mgie'; known editors: instruct-pix2pix, ledits\\+\\+"),
    ({"knob_range": (5.0, 5.0)}, "`knob_range` must rise"),
    ({"knob_range": (8.0, 2.0)}, "`knob_range` must rise"),
    ({"knob_range": (1.0,)}, "`knob_range` must be two numbers"),
    ({"knob_range": (-1.0, 3.0)}, "edit_guidance_scale must be at least 0.0"),
    ({"negative_prompt": "blurry"}, "`negative_prompt`: editor 'ledits\\+\\+' takes no negative prompt"),
    ({"instruction": "x" * 1001}, "`instruction` is 1001 characters long"),
    ({"instruction": " "}, "`instruction` must be a non-empty string"),
    ({"steps": 2}, "`steps` must be an integer of at least 3"),
    ({"seeds": (1, 1)}, "`seeds` must be distinct"),
])
def test_bad_inputs_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GuidedEditorSweep(**{"instruction": "red fur", **kwargs})


def test_instruction_over_the_token_limit(ledits):
    with pytest.raises(ValueError, match="`instruction` is \\d+ tokens long; LEDITS\\+\\+ \\(Stable Diffusion 1.5\\) "
                                         "reads at most 77"):
        GuidedEditorSweep("red " * 100, editor="ledits++", steps=3, pipeline=ledits).series(_image())


def test_missing_weights_say_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.delenv("PROPGRAD_QWEN_IMAGE_EDIT", raising=False)
    assert not editor_available("qwen-image-edit", str(tmp_path / "none"))
    with pytest.raises(ModelUnavailableError, match="hf download Qwen/Qwen-Image-Edit .*PROPGRAD_QWEN_IMAGE_EDIT"):
        load_editor("qwen-image-edit", str(tmp_path / "none"), device="cpu")


def test_local_folder_is_found_and_loaded(ledits, tmp_path, monkeypatch):
    folder = tmp_path / "ledits"
    ledits.save_pretrained(folder)
    monkeypatch.setenv("PROPGRAD_LEDITS_PP", str(folder))
    assert editor_available("ledits++")
    pipe = load_editor("ledits++", device="cpu")
    assert type(pipe).__name__ == "LEditsPPPipelineStableDiffusion"


def test_zero_gpu_duration_grows_with_steps_denoising_and_seeds():
    base = gpu_seconds("qwen-image-edit", steps=10, denoising_steps=20, seeds=1)
    assert gpu_seconds("qwen-image-edit", steps=19, denoising_steps=20, seeds=1) > base
    assert gpu_seconds("qwen-image-edit", steps=10, denoising_steps=40, seeds=1) > base
    assert gpu_seconds("qwen-image-edit", steps=10, denoising_steps=20, seeds=2) > base
    assert gpu_seconds("ledits++", steps=3, denoising_steps=1, seeds=1) == 60  # the floor


@pytest.fixture(scope="module")
def ledits_folder(ledits, tmp_path_factory):
    folder = tmp_path_factory.mktemp("weights") / "ledits"
    ledits.save_pretrained(folder)
    return folder


def test_command_line_runs_an_editor_and_reports_gradualness(ledits_folder, tmp_path, monkeypatch, capsys):
    import json

    from propgrad.cli import main

    monkeypatch.setenv("PROPGRAD_CACHE_DIR", str(tmp_path / "cache"))
    image = tmp_path / "in.png"
    _image().save(image)
    code = main(["explain", str(image), "--instruction", "red fur", "--editor", "ledits++", "--editor-model",
                 str(ledits_folder), "--steps", "3", "--denoising-steps", "2", "--knob-range", "1", "8",
                 "--permutations", "20", "--no-progress", "--out", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "LEDITS++ (Stable Diffusion 1.5): red fur: 3 steps x 1 series" in printed and "gradual: " in printed
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert data["values"] == [0.0, 1.0, 8.0] and isinstance(data["series_gradualness"][0]["gradual"], bool)


def test_command_line_editor_errors(tmp_path, capsys):
    from propgrad.cli import main

    image = tmp_path / "in.png"
    _image().save(image)
    assert main(["explain", str(image), "--editor", "ledits++"]) == 2
    assert "`--instruction` is empty" in capsys.readouterr().err
    assert main(["explain", str(image), "--instruction", "x", "--editor", "qwen"]) == 2
    assert "`--editor` must be one of '" in capsys.readouterr().err
    assert main(["explain", str(image), "--instruction", "x", "--editor", "ledits++", "--negative-prompt", "y"]) == 2
    assert "takes no negative prompt" in capsys.readouterr().err


def test_study_with_a_guided_editor(ledits_folder, tmp_path, monkeypatch):
    from propgrad.study import from_toml, run_study

    monkeypatch.setenv("PROPGRAD_CACHE_DIR", str(tmp_path / "cache"))
    images = tmp_path / "images"
    images.mkdir()
    for number in range(2):
        _image().rotate(90 * number).save(images / f"{number}.png")
    study = tmp_path / "editor.toml"
    study.write_text(f"""
permutations = 20
[inputs]
images = "{images}"
[[intervention]]
kind = "guided-editor"
editor = "ledits++"
model = "{ledits_folder}"
instruction = "red fur"
knob_range = [1.0, 6.0]
steps = 3
denoising_steps = 2
[models]
names = ["EfficientNet-Lite0 (ImageNet)"]
""")
    report = run_study(from_toml(study), tmp_path / "out")
    row = report.summary[0]
    assert (row.intervention, row.n_images, row.n_series) == ("LEDITS++ (Stable Diffusion 1.5): red fur", 2, 2)
    assert 0 <= row.gradual_share <= 1


def test_study_definition_refuses_bad_editor_settings():
    from propgrad.kinds import EditSpec, spec_from_dict

    with pytest.raises(ValueError, match="`editor` must be one of .*got 'mgie'"):
        spec_from_dict({"kind": "guided-editor", "editor": "mgie", "instruction": "x"})
    with pytest.raises(ValueError, match="`knob_range` must rise"):
        spec_from_dict({"kind": "guided-editor", "instruction": "x", "knob_range": (3, 1)})
    # Other kinds store only their own fields.
    from propgrad.study.definition import InputSpec, StudyDefinition

    definition = StudyDefinition(InputSpec(images="x"), (EditSpec(),))
    assert "editor" not in definition.to_dict()["interventions"][0]


def test_zero_gpu_asks_for_the_sweeps_own_duration(monkeypatch):
    """On a ZeroGPU Space `spaces.GPU` gets a callable: the duration follows steps x denoising steps x seeds."""
    import sys
    import types

    from propgrad.interventions import diffusion, editors

    asked = {}

    def gpu(duration):
        def wrap(fn):
            def run(*args):
                asked["seconds"] = duration(*args)
                return fn(*args)
            return run
        return wrap

    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=gpu))
    from propgrad.app.zerogpu import zero_gpu

    wrapped = zero_gpu(lambda *args: "ran", duration=diffusion._gpu_duration)
    assert wrapped(None, None, [1.01] * 9, "x", 2.5, 50, [0, 1, 2], None) == "ran"
    assert asked["seconds"] == editors.gpu_seconds("instruct-pix2pix", 10, 50, 3) > 60
    args = (None, "qwen-image-edit", None, [1.0] * 9, "x", {}, 30, [0, 1], " ", None)
    assert editors._zero_gpu_duration(*args) == editors.gpu_seconds("qwen-image-edit", 10, 30, 2)


def test_app_lists_every_editor_and_runs_one_whose_weights_are_here(ledits_folder, tmp_path, monkeypatch):
    pytest.importorskip("gradio")
    import json
    import zipfile

    from propgrad.app import editors as app_editors
    from propgrad.app.tabs import edit as edit_tab

    monkeypatch.setenv("PROPGRAD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PROPGRAD_LEDITS_PP", str(ledits_folder))
    monkeypatch.delenv("PROPGRAD_QWEN_IMAGE_EDIT", raising=False)
    status = dict(app_editors.editor_status())
    assert status["ledits++"] and not status["qwen-image-edit"]
    table = app_editors.markdown(list(status.items()))
    assert "hf download Qwen/Qwen-Image-Edit --local-dir DIR" in table and "PROPGRAD_QWEN_IMAGE_EDIT=DIR" in table
    choice = app_editors.PREFIX + "LEDITS++ (Stable Diffusion 1.5)"
    assert app_editors.choices(list(status.items())) == [choice]
    assert choice in edit_tab.editor_choices(False, [choice])
    image = tmp_path / "in.png"
    _image().save(image)
    outputs = edit_tab.run_edit(
        str(image), "red fur", choice, 6, 2.5, 3, 2, "0", None, ["EfficientNet-Lite0 (ImageNet)"], None, 224,
        "0.485, 0.456, 0.406", "0.229, 0.224, 0.225", "", "", 100, 0.01, "", "auto", ["whole image"],
        progress=lambda *a, **k: None)
    summary, strip, *_, bundle = outputs
    assert "LEDITS++ (Stable Diffusion 1.5): red fur" in summary and "gradual: " in summary
    with zipfile.ZipFile(bundle) as archive:
        report = json.loads(archive.read("report.json"))
    assert report["values"] == [0.0, 1.0, 6.0] and "all_series_gradual" in report
    # The strip carries the change-per-step bars under it, in the verdict's colour.
    import numpy as np

    bottom = np.asarray(Image.open(strip).convert("RGB"))[-60:]
    assert ((bottom == (40, 110, 180)).all(axis=-1) | (bottom == (200, 60, 40)).all(axis=-1)).any()


def test_app_refuses_an_editor_whose_weights_are_missing(tmp_path, monkeypatch):
    from propgrad.app import editors as app_editors

    monkeypatch.delenv("PROPGRAD_QWEN_IMAGE_EDIT", raising=False)
    with pytest.raises(ModelUnavailableError, match="hf download Qwen/Qwen-Image-Edit"):
        app_editors.intervention(app_editors.PREFIX + "Qwen-Image-Edit", "make it blue", 6.0, 3, 2, [0])
