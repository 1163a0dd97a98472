"""Binary classifiers with ONE output (a logit, or a probability): presented as [1 - p, p] everywhere."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from propgrad import explain, prediction_flips
from propgrad.interventions.parametric import ParametricEdit
from propgrad.models import load_model_file
from propgrad.models.base import softmax_for
from propgrad.models.torch_model import ResizeNormalize, TorchClassifier, check_class_names, to_probabilities

SIZE = 16
# Inputs scaled to [0, 1] and left there, so "mean brightness" is literally the input's mean.
PLAIN = {"input_size": SIZE, "mean": (0.0, 0.0, 0.0), "std": (1.0, 1.0, 1.0)}


class _BrightnessLogit(nn.Module):
    """Logit = mean brightness - 0.5: positive for bright images, crossing 0 at mid-grey."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(1, 2, 3))[:, None] - 0.5


class _BrightnessProbability(nn.Module):
    """A final sigmoid: the single output already is a probability."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(8 * (x.mean(dim=(1, 2, 3))[:, None] - 0.5))


class _RednessLogit(nn.Module):
    """Logit 0.5 on every grey image (the loading probe), far outside [0, 1] on coloured ones."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 + 10 * (x[:, 0] - x[:, 1]).mean(dim=(1, 2))[:, None]


def _save(module: nn.Module, folder, kind: str):
    example = torch.rand(4, 3, SIZE, SIZE)
    if kind == "pt2":
        path = folder / f"{type(module).__name__}.pt2"
        batch = torch.export.Dim("batch", min=1, max=1024)
        torch.export.save(torch.export.export(module, (example,), dynamic_shapes=({0: batch},)), path)
    else:
        path = folder / f"{type(module).__name__}.pt"
        torch.jit.save(torch.jit.trace(module, example), path)
    return path


def _grey(value: int, size=(24, 20)) -> Image.Image:
    return Image.new("RGB", size, (value, value, value))


@pytest.fixture(scope="module")
def images() -> list[Image.Image]:
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (20 + 4 * i, 24, 3), dtype=np.uint8)) for i in range(5)]


def _logits(images: list[Image.Image]) -> np.ndarray:
    with torch.no_grad():
        return _BrightnessLogit()(ResizeNormalize(SIZE, (0.0,) * 3, (1.0,) * 3)(images))[:, 0].numpy()


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize("kind", ["torchscript", "pt2"])
def test_a_single_logit_becomes_two_probability_columns(kind, tmp_path, images):
    model = load_model_file(_save(_BrightnessLogit(), tmp_path, kind), batch_size=2, **PLAIN)
    assert model.output_names == ["class 0", "class 1"] and model.output_kind == "probability"
    assert model.apply_softmax is True  # the black probe image gives -0.5: a logit, not a probability
    outputs = model.predict(images)
    assert outputs.shape == (5, 2) and outputs.dtype == np.float32
    np.testing.assert_allclose(outputs.sum(axis=1), 1, atol=1e-6)
    np.testing.assert_allclose(outputs[:, 1], _sigmoid(_logits(images)), atol=1e-6)
    np.testing.assert_allclose(outputs[:, 0], 1 - _sigmoid(_logits(images)), atol=1e-6)


@pytest.mark.parametrize(
    "class_names, expected",
    [(None, ["class 0", "class 1"]), (["malignant"], ["not malignant", "malignant"]),
     (["benign", "malignant"], ["benign", "malignant"])],
)
def test_a_single_output_takes_zero_one_or_two_class_names(class_names, expected, tmp_path):
    path = _save(_BrightnessLogit(), tmp_path, "torchscript")
    assert load_model_file(path, class_names=class_names, **PLAIN).output_names == expected


def test_a_single_output_refuses_three_names_or_repeated_ones(tmp_path):
    path = _save(_BrightnessLogit(), tmp_path, "torchscript")
    with pytest.raises(ValueError, match=r"`class_names` has 3 names but model file '_BrightnessLogit.pt' returns "
                                         r"1 output per image \(a binary classifier\); give 2 names"):
        load_model_file(path, class_names=["a", "b", "c"], **PLAIN)
    with pytest.raises(ValueError, match="`class_names` must be unique"):
        load_model_file(path, class_names=["a", "a"], **PLAIN)


@pytest.mark.parametrize("kind", ["torchscript", "pt2"])
def test_flips_where_the_logit_crosses_zero_and_both_columns_score_alike(kind, tmp_path):
    model = load_model_file(_save(_BrightnessLogit(), tmp_path, kind), class_names=["dark", "bright"], **PLAIN)
    # Mean 0.75 darkened to 0.15: the logit falls through 0 at brightness factor 2/3.
    edit = ParametricEdit("brightness", stop=0.2, steps=9)
    result = explain(_grey(191), edit, model, outputs_of_interest="all", n_permutations=500)
    series = result.series[0]
    logits = _logits(series.images)
    assert logits[0] > 0 > logits[-1]
    expected_flip = int(np.flatnonzero(logits <= 0)[0])
    (explained,) = result.models
    assert explained.flips[0].flip_steps == [expected_flip]
    assert list(explained.flips[0].predicted[:2]) == [1, 1] and explained.flips[0].predicted[-1] == 0
    negative, positive = explained.scores
    assert (negative.output, positive.output) == ("dark", "bright")
    assert negative.score == pytest.approx(positive.score, rel=1e-5) and positive.score > 0
    assert negative.pvalue == pytest.approx(positive.pvalue)
    np.testing.assert_allclose(explained.outputs[0, :, 1], _sigmoid(logits), atol=1e-6)
    # The default output of interest is the class predicted on the original image: "bright".
    default = explain(_grey(191), edit, model, n_permutations=100)
    assert [score.output for score in default.models[0].scores] == ["bright"]


@pytest.mark.parametrize("kind", ["torchscript", "pt2"])
def test_a_single_probability_is_not_squashed_again(kind, tmp_path, images):
    path = _save(_BrightnessProbability(), tmp_path, kind)
    with torch.no_grad():
        probability = _BrightnessProbability()(ResizeNormalize(SIZE, (0.0,) * 3, (1.0,) * 3)(images))[:, 0].numpy()
    outputs = load_model_file(path, **PLAIN).predict(images)
    np.testing.assert_allclose(outputs[:, 1], probability, atol=1e-6)
    np.testing.assert_allclose(outputs[:, 0], 1 - probability, atol=1e-6)
    forced = load_model_file(path, apply_softmax=True, **PLAIN).predict(images)
    np.testing.assert_allclose(forced[:, 1], _sigmoid(probability), atol=1e-6)


def test_a_settled_probability_outside_zero_one_asks_for_a_sigmoid(tmp_path):
    path = _save(_RednessLogit(), tmp_path, "torchscript")
    model = load_model_file(path, **PLAIN)  # every probe image is grey: 0.5, taken for a probability
    red = Image.new("RGB", (20, 20), (250, 10, 10))
    np.testing.assert_allclose(model.predict([_grey(90)]), [[0.5, 0.5]])
    with pytest.raises(ValueError, match=r"model '_RednessLogit.pt' returned a single output of 9\.91\d, outside "
                                         r"\[0, 1\].*--outputs-are logits on the command line, apply_softmax=True in Python"):
        model.predict([red])
    fixed = load_model_file(path, apply_softmax=True, **PLAIN).predict([red])
    assert fixed[0, 1] == pytest.approx(_sigmoid(0.5 + 10 * (250 - 10) / 255), abs=1e-6)


@pytest.mark.parametrize("words, setting", [("auto", "auto"), (" Logits ", True), ("probabilities", "already probabilities"),
                                            ("scores", False)])
def test_what_a_user_says_the_outputs_are_maps_to_a_setting(words, setting):
    assert softmax_for(words) == setting


def test_unknown_output_words_are_named():
    with pytest.raises(ValueError, match=r"`outputs are` must be one of 'auto', 'logits', 'probabilities' or 'scores', "
                                         r"got 'odds' \('logits': softmax"):
        softmax_for("odds")


def test_saying_probabilities_skips_the_probe_and_still_guards_the_range(tmp_path, images):
    path = _save(_BrightnessProbability(), tmp_path, "pt2")
    model = load_model_file(path, apply_softmax=softmax_for("probabilities"), **PLAIN)
    assert model.output_kind == "probability"
    positive = model.predict(images)[:, 1]
    np.testing.assert_allclose(positive, _sigmoid(8 * (_logits(images))), atol=1e-6)
    logit_model = load_model_file(_save(_RednessLogit(), tmp_path, "torchscript"),
                                  apply_softmax=softmax_for("probabilities"), **PLAIN)
    with pytest.raises(ValueError, match="outside \\[0, 1\\]"):
        logit_model.predict([Image.new("RGB", (20, 20), (250, 10, 10))])


def test_a_batch_of_one_export_is_probed_with_every_shade(tmp_path, images):
    # Exported for a batch of exactly one: grey alone gives a logit of 0 (a "probability"), but black
    # and white give -0.5 and 0.5, so the probe must see them too and settle on a sigmoid.
    path = tmp_path / "one.pt2"
    torch.export.save(torch.export.export(_BrightnessLogit(), (torch.rand(1, 3, SIZE, SIZE),)), path)
    model = load_model_file(path, **PLAIN)
    assert model.fixed_batch_size == 1
    np.testing.assert_allclose(model.predict(images)[:, 1], _sigmoid(_logits(images)), atol=1e-6)


def test_raw_outputs_keep_one_column(tmp_path, images):
    path = _save(_BrightnessLogit(), tmp_path, "torchscript")
    raw = load_model_file(path, apply_softmax=False, **PLAIN)
    assert raw.output_kind == "similarity" and raw.output_names == ["class 1"]
    np.testing.assert_allclose(raw.predict(images)[:, 0], _logits(images), atol=1e-6)
    named = load_model_file(path, apply_softmax=False, class_names=["benign", "malignant"], **PLAIN)
    assert named.output_names == ["malignant"]


def test_a_torch_classifier_settles_on_its_first_batch(images):
    model = TorchClassifier(
        name="direct", output_names=check_class_names(["bright"], 1, "model 'direct'"),
        load=lambda device: _BrightnessLogit(), transform=ResizeNormalize(SIZE, (0.0,) * 3, (1.0,) * 3),
    )
    assert model.output_names == ["not bright", "bright"]
    outputs = model.predict([_grey(0)] + images)  # black: -0.5, outside [0, 1], so sigmoid from now on
    assert model.apply_softmax is True
    np.testing.assert_allclose(outputs[1:, 1], _sigmoid(_logits(images)), atol=1e-6)


def test_ties_go_to_the_negative_class_in_both_forms():
    assert to_probabilities(torch.zeros(1, 1), True).tolist() == [[0.5, 0.5]]
    assert list(prediction_flips([[0.4, 0.6], [0.5, 0.5], [0.6, 0.4]]).predicted) == [1, 0, 0]
    assert list(prediction_flips([0.6, 0.5, 0.4]).predicted) == [1, 0, 0]
    # float32 values on both sides of 0.5, neighbours included: the one-column rule and the argmax of
    # the two-column form agree everywhere
    half = np.float32(0.5)
    near = [np.nextafter(half, np.float32(0)), half, np.nextafter(half, np.float32(1))]
    p = np.concatenate([near, np.random.default_rng(0).uniform(0.4999, 0.5001, 1000)]).astype(np.float32)
    two_columns = to_probabilities(torch.from_numpy(p)[:, None], "already probabilities").numpy()
    np.testing.assert_array_equal(prediction_flips(two_columns).predicted, prediction_flips(p).predicted)
    np.testing.assert_array_equal(prediction_flips(p).predicted, (p > 0.5).astype(int))


def test_a_single_output_with_one_output_name_says_it_presents_two_columns(images):
    model = TorchClassifier(name="one name", output_names=["bright"], load=lambda device: _BrightnessLogit(),
                            transform=ResizeNormalize(SIZE))
    with pytest.raises(ValueError, match=r"model 'one name' returned 1 outputs per image \(a single output is shown "
                                         r"as two columns \[1 - p, p\]\), expected 1 .*check_class_names"):
        model.predict(images)


def test_several_outputs_said_to_be_probabilities_are_refused_outside_zero_one():
    # They were scored and read as "p(banana) 0.28 -> 0.33" while report.json held -0.21.
    raw = torch.tensor([[-0.21, 0.6, 0.61], [0.1, 0.2, 0.7]])
    with pytest.raises(ValueError, match=r"model 'x.pt' returned an output of -0.21, outside \[0, 1\].*logits"):
        to_probabilities(raw, softmax_for("probabilities"), "model 'x.pt'")
    # Probabilities that need not sum to 1 (one sigmoid per class) are theirs to give.
    sigmoids = torch.tensor([[0.9, 0.8, 0.1]])
    assert torch.equal(to_probabilities(sigmoids, softmax_for("probabilities")), sigmoids)
