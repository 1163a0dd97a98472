"""Hugging Face image classifiers: tiny random-weight ViT / ConvNeXt saved the way the hub stores them."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from propgrad import explain
from propgrad.errors import ModelUnavailableError
from propgrad.export.provenance import describe_model
from propgrad.interventions import ParametricEdit
from propgrad.models import hub, load_hub_classifier

@pytest.fixture(scope="module")
def vit_folder(tiny_vit_folder):
    return tiny_vit_folder


@pytest.fixture(scope="module")
def convnext_folder(tmp_path_factory):
    from transformers import ConvNextConfig, ConvNextForImageClassification, ConvNextImageProcessor

    torch.manual_seed(1)
    config = ConvNextConfig(num_channels=3, hidden_sizes=[8, 16], depths=[1, 1], num_stages=2, num_labels=4)
    folder = tmp_path_factory.mktemp("hub") / "tiny-convnext"
    ConvNextForImageClassification(config).eval().save_pretrained(folder)
    ConvNextImageProcessor(size={"shortest_edge": 48}, crop_pct=0.875).save_pretrained(folder)
    return folder


@pytest.fixture()
def images():
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (40 + 7 * i, 56, 3), dtype=np.uint8)) for i in range(5)]


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    monkeypatch.setattr(hub, "_LOADED", type(hub._LOADED)())


def _logits(folder, images) -> torch.Tensor:
    """What transformers itself gives: its processor, its model, the raw logits."""
    from transformers import AutoImageProcessor, AutoModelForImageClassification

    model = AutoModelForImageClassification.from_pretrained(folder).eval()
    pixels = AutoImageProcessor.from_pretrained(folder)(images=images, return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        return model(pixel_values=pixels).logits


def _reference(folder, images):
    return torch.softmax(_logits(folder, images), dim=1).numpy()


def _binary_reference(folder, images):
    positive = torch.sigmoid(_logits(folder, images)[:, 0]).numpy()
    return np.stack([1 - positive, positive], axis=1)


def test_a_folder_classifier_gives_transformers_own_probabilities_and_labels(vit_folder, images):
    model = load_hub_classifier(vit_folder, batch_size=2)
    assert model.output_names == ["cat", "dog", "fox"]
    assert model.output_kind == "probability"
    outputs = model.predict(images)
    assert outputs.shape == (5, 3) and outputs.dtype == np.float32
    np.testing.assert_allclose(outputs, _reference(vit_folder, images), atol=1e-5)
    np.testing.assert_allclose(outputs.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_array_equal(outputs, load_hub_classifier(vit_folder, batch_size=2).predict(images))
    # A report names a folder's weights by file and SHA-256 (the folder's own path is the server's business).
    weights = sorted(Path(vit_folder).glob("*.safetensors")) + sorted(Path(vit_folder).glob("*.bin"))
    assert weights and describe_model(model)["source"] == [
        {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()} for path in weights]


def test_a_convnext_without_labels_gets_numbered_classes(convnext_folder, images):
    model = load_hub_classifier(str(convnext_folder), name="my convnext")
    assert model.name == "my convnext"
    # transformers' default id2label is LABEL_0..; they are distinct, so they are kept as they are.
    assert model.output_names == ["LABEL_0", "LABEL_1", "LABEL_2", "LABEL_3"]
    np.testing.assert_allclose(model.predict(images), _reference(convnext_folder, images), atol=1e-5)


def test_odd_images_are_converted_before_the_processor(vit_folder):
    model = load_hub_classifier(vit_folder)
    odd = [Image.new("L", (30, 20), 90), Image.new("RGBA", (33, 33), (10, 200, 30, 0)),
           Image.new("I;16", (25, 40), 30000)]
    outputs = model.predict(odd)
    assert outputs.shape == (3, 3) and np.isfinite(outputs).all()


def test_a_hub_id_loads_from_the_local_hub_cache_without_a_download(vit_folder, tmp_path, monkeypatch, images):
    # The layout huggingface_hub writes: models--org--name/snapshots/<revision>/<files>, refs/main.
    revision = "0" * 40
    repo = tmp_path / "models--propgrad-tests--tiny-vit"
    shutil.copytree(vit_folder, repo / "snapshots" / revision)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    model = load_hub_classifier("propgrad-tests/tiny-vit")
    # A report names the revision the files came from: the id alone names whatever the repository holds today.
    assert model.name == "propgrad-tests/tiny-vit"
    assert describe_model(model)["source"] == f"propgrad-tests/tiny-vit@{revision}"
    np.testing.assert_allclose(model.predict(images), _reference(vit_folder, images), atol=1e-5)


def test_a_hub_id_that_is_not_cached_names_the_id_and_how_to_provide_it(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ModelUnavailableError, match=r"'google/vit-base-patch16-224' is not in the local hub "
                                                     r"cache.*hf download google/vit-base-patch16-224.*HF_HOME"):
        load_hub_classifier("google/vit-base-patch16-224")


@pytest.mark.parametrize("source, error, message", [
    ("", ValueError, "`model_id` must be a hub id"),
    (None, ValueError, "`model_id` must be a hub id"),
    ("not a valid id!!", ValueError, "neither a hub id"),
    ("./no/such/folder", ModelUnavailableError, "no such folder"),
    # An id's shape ("." a namespace), but written as a folder: was sent to `hf download ./nosuchdir`.
    ("./nosuchdir", ModelUnavailableError, "no such folder"),
    ("~/nosuchdir", ModelUnavailableError, "no such folder"),
])
def test_bad_sources_are_named(source, error, message):
    with pytest.raises(error, match=message):
        load_hub_classifier(source)


def test_folders_missing_a_part_say_which(vit_folder, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelUnavailableError, match="no config.json"):
        load_hub_classifier(empty)
    no_processor = tmp_path / "no-processor"
    shutil.copytree(vit_folder, no_processor)
    (no_processor / "preprocessor_config.json").unlink()
    with pytest.raises(ModelUnavailableError, match="preprocessor_config.json"):
        load_hub_classifier(no_processor)
    truncated = tmp_path / "truncated"
    shutil.copytree(vit_folder, truncated)
    (truncated / "model.safetensors").write_bytes(b"\x00" * 10)
    with pytest.raises(ModelUnavailableError, match="no loadable image classifier"):
        load_hub_classifier(truncated)


def test_a_model_without_a_classification_head_is_refused(tmp_path):
    from transformers import CLIPTextConfig, CLIPTextModel

    CLIPTextModel(CLIPTextConfig(hidden_size=8, intermediate_size=16, num_hidden_layers=1,
                                 num_attention_heads=2)).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="is not an image classifier"):
        load_hub_classifier(tmp_path)


def test_remote_code_is_never_run(vit_folder, tmp_path):
    folder = tmp_path / "remote"
    shutil.copytree(vit_folder, folder)
    (folder / "evil.py").write_text("raise SystemExit('remote code ran')\n")
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoModelForImageClassification": "evil.Evil"}
    (folder / "config.json").write_text(json.dumps(config))
    # Either loaded as the plain ViT it declares, or refused; never evil.py.
    try:
        model = load_hub_classifier(folder)
    except (ValueError, ModelUnavailableError):
        return
    assert model.output_names == ["cat", "dog", "fox"]


def test_multi_label_heads_with_several_labels_are_refused(save_tiny_vit, tmp_path):
    folder = save_tiny_vit(tmp_path / "multi", problem_type="multi_label_classification")
    with pytest.raises(ValueError, match=r"is multi-label \(3 labels scored independently\)"):
        load_hub_classifier(folder)


def test_a_one_label_multi_label_head_is_a_binary_classifier(save_tiny_vit, tmp_path, images):
    folder = save_tiny_vit(tmp_path / "smiling", problem_type="multi_label_classification",
                           id2label={0: "smiling"}, label2id={"smiling": 0})
    model = load_hub_classifier(folder)
    assert model.output_names == ["not smiling", "smiling"] and model.output_kind == "probability"
    np.testing.assert_allclose(model.predict(images), _binary_reference(folder, images), atol=1e-5)


def test_a_half_precision_checkpoint_runs_in_float32(tmp_path, images):
    from transformers import ConvNextImageProcessor, ResNetConfig, ResNetForImageClassification

    torch.manual_seed(2)
    folder = tmp_path / "resnet-fp16"
    config = ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], num_labels=2)
    ResNetForImageClassification(config).eval().to(torch.float16).save_pretrained(folder)
    ConvNextImageProcessor(size={"shortest_edge": 40}, crop_pct=1.0).save_pretrained(folder)
    outputs = load_hub_classifier(folder).predict(images)
    assert outputs.shape == (5, 2) and outputs.dtype == np.float32 and np.isfinite(outputs).all()


@pytest.mark.parametrize("labels, names", [
    (None, ["class 0", "class 1"]),
    ({0: "malignant"}, ["not malignant", "malignant"]),
])
def test_a_one_logit_binary_head_becomes_two_columns(save_tiny_vit, tmp_path, images, labels, names):
    extra = dict(num_labels=1) if labels is None else dict(id2label=labels, label2id={"malignant": 0})
    folder = save_tiny_vit(tmp_path / "binary", **extra)
    model = load_hub_classifier(folder)
    assert model.output_names == names
    np.testing.assert_allclose(model.predict(images), _binary_reference(folder, images), atol=1e-5)


def test_regression_models_are_refused(save_tiny_vit, tmp_path):
    folder = save_tiny_vit(tmp_path / "regression", problem_type="regression")
    with pytest.raises(ValueError, match="regression"):
        load_hub_classifier(folder)


def test_loaded_once_and_only_a_few_kept(vit_folder, convnext_folder, tmp_path, monkeypatch):
    loads = []
    real = hub._load
    monkeypatch.setattr(hub, "_load", lambda source, device, *rest: loads.append(source) or real(source, device, *rest))
    load_hub_classifier(vit_folder)
    load_hub_classifier(vit_folder)
    assert len(loads) == 1
    copies = [shutil.copytree(vit_folder, tmp_path / f"copy{i}") for i in range(hub._KEEP_LOADED)]
    for folder in copies:
        load_hub_classifier(folder)
    assert len(hub._LOADED) == hub._KEEP_LOADED
    load_hub_classifier(vit_folder)  # evicted as the oldest: loaded again
    assert len(loads) == 2 + hub._KEEP_LOADED


def test_the_app_never_names_more_models_than_stay_loaded():
    from propgrad.app import model_inputs

    assert hub._KEEP_LOADED >= model_inputs.MAX_HUB_MODELS


def test_one_slow_load_does_not_hold_up_a_cached_model(vit_folder, convnext_folder, monkeypatch):
    import threading

    load_hub_classifier(vit_folder)  # cached
    release, started = threading.Event(), threading.Event()
    real = hub._load

    def slow(source, device, *rest):
        if source == str(convnext_folder):
            started.set()
            release.wait(30)
        return real(source, device, *rest)

    monkeypatch.setattr(hub, "_load", slow)
    other = threading.Thread(target=load_hub_classifier, args=(convnext_folder,))
    other.start()
    try:
        assert started.wait(30)
        done = threading.Event()
        threading.Thread(target=lambda: (load_hub_classifier(vit_folder), done.set())).start()
        assert done.wait(10), "a cached model waited for another model's load"
    finally:
        release.set()
        other.join(30)


def test_a_misspelt_hub_id_is_told_apart_from_being_offline(monkeypatch):
    from huggingface_hub.errors import RepositoryNotFoundError
    from transformers import AutoModelForImageClassification

    class NotFound(RepositoryNotFoundError):
        def __init__(self, message):  # the real one wants an HTTP response object
            Exception.__init__(self, message)

    def missing(*args, **kwargs):
        try:
            raise NotFound("404 Client Error: Repository Not Found")
        except RepositoryNotFoundError as error:
            raise OSError("google/vit-bse is not a local folder and is not a valid model identifier") from error

    monkeypatch.setattr(AutoModelForImageClassification, "from_pretrained", missing)
    with pytest.raises(ModelUnavailableError, match="no such model on the hub"):
        load_hub_classifier("google/vit-bse")


def test_a_hosted_space_takes_hub_ids_only(monkeypatch, vit_folder):
    from propgrad.app import model_inputs

    monkeypatch.setenv("SPACE_ID", "someone/propgrad")
    with pytest.raises(ValueError, match="takes hub ids only"):
        model_inputs.hub_models(str(vit_folder))


def test_explain_runs_a_hub_classifier_end_to_end(vit_folder):
    image = Image.fromarray(np.random.default_rng(3).integers(0, 256, (48, 48, 3), dtype=np.uint8))
    model = load_hub_classifier(vit_folder)
    result = explain(image, ParametricEdit("brightness", steps=6), [model], outputs_of_interest="all",
                     n_permutations=200)
    scores = result.models[0].scores
    assert [score.output for score in scores] == ["cat", "dog", "fox"]
    assert all(np.isfinite(score.score) and 0 < score.pvalue <= 1 for score in scores)


def test_without_folders_an_id_comes_from_the_hub_cache_and_never_from_the_working_directory(
        vit_folder, tmp_path, monkeypatch, images):
    import huggingface_hub.constants

    revision = "0" * 40
    cache = tmp_path / "cache"
    repo = cache / "models--propgrad-tests--tiny-vit"
    shutil.copytree(vit_folder, repo / "snapshots" / revision)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    # A loadable model folder whose name has a hub id's shape, in the server's working directory.
    shutil.copytree(vit_folder, tmp_path / "work" / "served-folder")
    monkeypatch.chdir(tmp_path / "work")
    model = load_hub_classifier("propgrad-tests/tiny-vit", allow_folders=False)
    np.testing.assert_allclose(model.predict(images), _reference(vit_folder, images), atol=1e-5)
    with pytest.raises(ModelUnavailableError, match="not in the local hub cache"):
        load_hub_classifier("served-folder", allow_folders=False)
    assert load_hub_classifier("served-folder").predict(images).shape == (len(images), 3)  # folders allowed
