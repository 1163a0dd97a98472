"""The command line, end to end: the authors' ConvMixer checkpoints and a model file of our own."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from propgrad.cli import main

REPO = Path(__file__).resolve().parents[1]
AUTHORS = REPO.parent / "shared" / "third_party" / "propgrad-authors"
needs_authors = pytest.mark.skipif(not AUTHORS.is_dir(), reason="the authors' checkpoints are not in ../shared")


def _run(*args, cwd=REPO):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "propgrad", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_help_documents_every_option():
    completed = _run("explain", "--help")
    assert completed.returncode == 0
    for option in ("--edit", "--patch", "--frames", "--model-file", "--hub-model", "--outputs-are", "--input-size", "--mean", "--std",
                   "--class-names", "--seed", "--permutations", "--alpha", "--outputs", "--out", "--steps"):
        assert option in completed.stdout


@pytest.mark.slow
@needs_authors
def test_authors_convmixers_explained_end_to_end(tmp_path):
    """Darkening a cat: the three checkpoints of the authors' fur-colour experiment, one run."""
    out = tmp_path / "report"
    completed = _run(
        "explain", AUTHORS / "cat_001.jpg", "--edit", "brightness", "--stop", "0.2", "--steps", "12",
        "--model-file", AUTHORS / "convmixer_unbiased.pth",
        "--model-file", AUTHORS / "convmixer_dark-cats-bias.pth",
        "--model-file", AUTHORS / "convmixer_dark-dogs-bias.pth",
        "--outputs", "cat", "--permutations", "2000", "--seed", "1", "--out", out,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads((out / "report.json").read_text())
    assert [m["name"] for m in report["models"]] == [
        "convmixer_unbiased.pth", "convmixer_dark-cats-bias.pth", "convmixer_dark-dogs-bias.pth"]
    for model in report["models"]:
        assert model["output_names"] == ["cat", "dog"]
        assert model["output_of_interest"] == "cat"
        outputs = np.array(model["outputs"])
        assert outputs.shape == (12, 2)
        np.testing.assert_allclose(outputs.sum(axis=1), 1, atol=1e-5)
        assert model["score"] == pytest.approx(np.abs(np.gradient(outputs[:, 0])).mean(), abs=1e-6)
        assert 1 / 2001 <= model["pvalue"] <= 1
        assert set(model["flips"]) >= {"flipped", "n_flips", "flip_steps"}
    for name in ("curves.csv", "strip.png", "curves.png", "null.png", "animation.gif"):
        assert (out / name).stat().st_size > 0
    by_name = {m["name"]: m for m in report["models"]}
    # Measured behaviour of the authors' models on this photo: darkening it leaves the unbiased model
    # (and the dark-dogs one) at P(cat) ~ 1, while the fur-colour-biased dark-cats model drops below 0.5
    # at the darkest step. The score must rank them accordingly and the flip must be found.
    unbiased = by_name["convmixer_unbiased.pth"]
    biased = by_name["convmixer_dark-cats-bias.pth"]
    assert unbiased["score"] < 0.01 and not unbiased["flips"]["flipped"]
    assert biased["score"] > 5 * unbiased["score"] and biased["score"] > 0.03
    assert biased["flips"]["flipped"] and biased["flips"]["predicted"][-1] == "dog"


def _tiny_model_file(folder: Path) -> Path:
    """A three-class network saved with torch.export, as a user uploads one."""
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, stride=2), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
                              torch.nn.Flatten(), torch.nn.Linear(4, 3)).eval()
    path = folder / "tiny.pt2"
    torch.export.save(torch.export.export(net, (torch.zeros(1, 3, 32, 32),)), path)
    return path


def test_an_edit_that_hardly_changes_the_image_is_said_before_the_rows(tmp_path, capsys):
    # Hue on a grey photo: the printout read "no measurable effect" with only "gradual: NO" under it.
    image = tmp_path / "grey.png"
    Image.new("RGB", (40, 40), (128, 128, 128)).save(image)
    assert main(["explain", str(image), "--edit", "hue", "--steps", "5", "--model-file", str(_tiny_model_file(tmp_path)),
                 "--input-size", "32", "32", "--permutations", "100", "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    caveat = printed.index("Check the edits before this answer: the images hardly change under 'hue")
    assert caveat < printed.index("reading:")


def test_exported_model_file_with_class_names(tmp_path):
    path = _tiny_model_file(tmp_path)
    image = tmp_path / "input.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(image)
    out = tmp_path / "out"
    code = main(["explain", str(image), "--edit", "hue", "--steps", "6", "--model-file", str(path),
                 "--input-size", "32", "32", "--mean", "0.5", "0.5", "0.5", "--std", "0.5", "0.5", "0.5",
                 "--class-names", "red,green,blue", "--outputs", "all", "--permutations", "300", "--out", str(out)])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    assert report["models"][0]["output_names"] == ["red", "green", "blue"]
    assert [o["name"] for o in report["models"][0]["outputs_of_interest"]] == ["red", "green", "blue"]
    assert report["n_permutations"] == 300 and report["seed"] == 0
    assert report["caveat"] is None  # hue on random colours changes them visibly
    # The settings block the app writes too: enough to run it again.
    settings = report["settings"]
    assert settings["input"]["file"] == "input.png" and len(settings["input"]["sha256"]) == 64
    assert settings["interventions"]["hue edit"]["kind"] == "hue" and settings["n_permutations"] == 300
    assert settings["models"][0]["n_outputs"] == 3 and settings["outputs_of_interest"] == "all"
    assert "propgrad" in settings["packages"]

    compared = tmp_path / "compared"
    halves = np.zeros((48, 64), dtype=np.uint8)
    halves[:, :32] = 255
    Image.fromarray(halves).save(tmp_path / "left.png")
    Image.fromarray(255 - halves).save(tmp_path / "right.png")
    assert main(["explain", str(image), "--edit", "hue", "--steps", "4", "--model-file", str(path),
                 "--input-size", "32", "32", "--region", str(tmp_path / "left.png"), "--region",
                 str(tmp_path / "right.png"), "--permutations", "200", "--out", str(compared)]) == 0
    reports = sorted(compared.glob("*/report.json")) + [compared / "comparison.json"]
    assert len(reports) == 3
    everything = json.loads(reports[-1].read_text())["settings"]
    assert set(everything["interventions"]) == {"left: hue", "right: hue"}
    for one, own in zip(reports, ("left: hue", "right: hue")):
        # A property's folder holds its own definition (re-run from it, it is that property) and names the rest.
        settings = json.loads(one.read_text())["settings"]
        assert settings["interventions"] == {own: everything["interventions"][own]}, one
        assert settings["comparison"] == {"file": "../comparison.json", "properties": ["left: hue", "right: hue"]}
        assert settings["input"] == everything["input"] and settings["input"]["file"] == "input.png", one


def test_outputs_are_takes_only_known_words(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["explain", "x.png", "--model-file", "m.pt", "--outputs-are", "odds"])
    assert exited.value.code == 2
    assert "invalid choice: 'odds'" in capsys.readouterr().err


@pytest.mark.slow
def test_hub_classifier_folder(tmp_path, tiny_vit_folder):
    image = tmp_path / "input.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(image)
    out = tmp_path / "out"
    assert main(["explain", str(image), "--edit", "contrast", "--steps", "5", "--hub-model", str(tiny_vit_folder),
                 "--outputs", "all", "--permutations", "200", "--out", str(out)]) == 0
    model = json.loads((out / "report.json").read_text())["models"][0]
    assert model["name"] == str(tiny_vit_folder) and model["output_names"] == ["cat", "dog", "fox"]


def test_outputs_of_interest_keep_class_names_that_hold_commas():
    from propgrad.outputs import parse_outputs

    class Model:
        output_names = ["tabby, tabby cat", "lynx, catamount", "dog"]

    assert parse_outputs("tabby, tabby cat,dog, 2", Model.output_names) == ["tabby, tabby cat", "dog", 2]


@pytest.mark.slow
def test_patch_and_frames_sources(tmp_path):
    import torch

    net = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(3, 2)).eval()
    model = tmp_path / "mean.pt"
    torch.jit.save(torch.jit.script(net), model)
    image = tmp_path / "image.png"
    Image.new("RGB", (40, 40), (30, 60, 90)).save(image)
    patch = tmp_path / "patch.png"
    Image.new("RGBA", (10, 10), (250, 10, 10, 255)).save(patch)
    common = ["--model-file", str(model), "--input-size", "16", "16", "--permutations", "200"]
    assert main(["explain", str(image), "--patch", str(patch), "--patch", str(patch), "--steps", "5",
                 "--out", str(tmp_path / "patch"), *common]) == 0
    report = json.loads((tmp_path / "patch" / "report.json").read_text())
    assert report["series_labels"] == ["patch.png", "patch.png"] and len(report["models"][0]["series_outputs"]) == 2
    # Both series step through the same opacities: the page's first line gives their range, as the app does.
    assert report["values_shared"] is True
    assert "5 steps of patch opacity, 0\u00a0% to 100\u00a0%, 2 series" in (tmp_path / "patch" / "report.html").read_text()
    frames = []
    for i in range(4):
        frames.append(tmp_path / f"f{i}.png")
        Image.new("RGB", (40, 40), (60 * i, 0, 0)).save(frames[-1])
    assert main(["explain", "--frames", *map(str, frames), "--out", str(tmp_path / "frames"), *common]) == 0
    assert json.loads((tmp_path / "frames" / "report.json").read_text())["n_steps"] == 4


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["explain", "--edit", "brightness"], "IMAGE is missing"),
        (["explain", "missing.png"], "no such file"),
        (["explain", "IMG", "--edit", "sparkle"], "`--edit` must be one of"),
        # The choices in words, and what a near miss meant (a Python list, no hint, before).
        (["explain", "IMG", "--edit", "brighten"], "or 'saturation', got 'brighten'; did you mean 'brightness'?"),
        (["explain", "IMG", "--edit", "recolor red"], "did you mean 'recolour red'?"),
        (["explain", "IMG", "--steps", "2"], "steps"),
        (["explain", "IMG", "--model-file", "IMG"], "IMG"),
        (["explain", "IMG", "--model", "no such model"], "no such model"),
        (["explain", "--frames", "IMG", "IMG"], "at least 3"),
        (["explain", "IMG", "--hub-model", "google/vit-base-patch16-224"], "not in the local hub cache"),
        # Named by the flag as typed, not the package's own name ("`feather` must be ...").
        (["explain", "IMG", "--edit", "darken", "--region", "object", "--feather", "-3"], "`--feather` must be"),
        (["explain", "IMG", "--edit", "darken", "--outputs", ""], "`--outputs` is empty"),
        # Softened nothing, with status 0 and no word, before.
        (["explain", "IMG", "--feather", "3"], "--feather softens a region's edge: give --region"),
        (["explain", "IMG", "--hub-model", "./nosuchdir"], "hub classifier './nosuchdir': no such folder"),
        # A checkpoint that is not the lesion training's: a safetensors traceback, status 1, before.
        (["dynamics", "--checkpoints", "IMG", "--steps", "4"], "`--checkpoints`: image.png is not a safetensors weights"),
        (["dynamics", "--checkpoints", str(REPO / "assets" / "authors" / "convmixer_unbiased.safetensors"), "--steps",
          "4"], "`--checkpoints`: convmixer_unbiased.safetensors holds the weights of another network"),
    ],
)
def test_errors_are_one_clear_line(arguments, message, tmp_path, capsys):
    image = tmp_path / "image.png"
    Image.new("RGB", (40, 40)).save(image)
    arguments = [str(image) if a == "IMG" else a for a in arguments]
    message = message.replace("IMG", image.name)
    assert main(arguments + ["--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message in error and "Traceback" not in error


def test_training_dynamics_from_the_command_line(tmp_path, capsys):
    from propgrad.lesions import checkpoint_paths

    checkpoints = checkpoint_paths("biased")[:2]
    if len(checkpoints) < 2:
        pytest.skip("the per-epoch lesion checkpoints are not in assets/")
    plot = tmp_path / "dynamics.png"
    code = main(["dynamics", "--checkpoints", *map(str, checkpoints), "--steps", "5", "--permutations", "100",
                 "--plot", str(plot)])
    assert code == 0 and plot.stat().st_size > 1000
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[-1].startswith("final_epoch_score: ")
    # Two runs: each one's last score named (the one unnamed line held the first run's, read as the last one's).
    assert main(["dynamics", "--variant", "biased", "unbiased", "--steps", "4", "--permutations", "100",
                 "--plot", str(tmp_path / "two.png")]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-2:]
    assert [line.split(": ")[0] for line in last] == ["final_epoch_score_biased", "final_epoch_score_unbiased"], last
    # The tab's columns and words: each checkpoint's reading, then the output's change, the statistic and p.
    from propgrad.reading import LABELS

    table = [line for line in printed if line.split() and line.split()[0].isdigit()]
    assert len(table) == 2 and all(any(label in line for label in LABELS.values()) and " -> " in line for line in table)
    assert any(line.startswith("custom: ") and " at epoch " in line for line in printed)
    # --json: dynamics.json's document alone on stdout, without --out too.
    assert main(["dynamics", "--checkpoints", *map(str, checkpoints), "--steps", "4", "--permutations", "100",
                 "--plot", str(tmp_path / "json.png"), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["kind"] == "dynamics" and [row["epoch"] for row in document["table"]] == [1, 2]
    assert {"change_first_to_last", "mean_flips"} <= set(document["table"][0])
    # Signed, end minus start: a fall of 0.26 was written +0.26.
    assert all(row["change_first_to_last"] == row["output_end"] - row["output_start"] for row in document["table"])


def test_a_model_input_size_over_the_image_limit_is_refused_before_any_work(tmp_path, capsys):
    # --input-size 100000 100000 grew to 23 GB resizing the first step until the kernel killed the process (137).
    image = tmp_path / "input.png"
    Image.new("RGB", (40, 40), (128, 128, 128)).save(image)
    assert main(["explain", str(image), "--edit", "darken", "--steps", "5", "--model-file", str(_tiny_model_file(tmp_path)),
                 "--class-names", "a,b,c", "--input-size", "100000", "100000", "--permutations", "100",
                 "--out", str(tmp_path / "out")]) == 2
    assert "`--input-size` asks for 100,000 x 100,000 px; the limit is 2,048 a side" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
