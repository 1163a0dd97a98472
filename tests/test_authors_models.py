"""The authors' three cats-vs-dogs ConvMixers, shipped as safetensors: registered, documented, and
numerically the checkpoints they were converted from."""
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from propgrad.models.authors import MODEL_NAMES, VARIANTS, authors_dir, load_authors_model, register_authors_models
from propgrad.paths import ASSETS

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO.parent / "shared" / "third_party" / "propgrad-authors"
needs_source = pytest.mark.skipif(not SOURCE.is_dir(), reason="the authors' checkpoints are not in ../shared")


def test_registered_under_names_that_say_what_they_are():
    from propgrad.models.registry import bundled_model_names, get_model, model_description

    names = register_authors_models()
    assert names == list(MODEL_NAMES)
    for name in names:
        assert all(part in name for part in ("ConvMixer", "cats vs dogs", "(authors)"))
        assert name in bundled_model_names() and "MIT" in model_description(name)
    assert [n.split(", ")[1].split(" (")[0] for n in names] == ["unbiased", "dark-cats bias", "dark-dogs bias"]
    model = get_model(names[1])
    assert model.name == names[1] and model.output_names == ["cat", "dog"]


def test_files_cards_and_licence_ship_without_photos_or_pickles():
    folder = authors_dir()
    assert (folder / "LICENSE").read_text().startswith("MIT License")
    for stem in VARIANTS:
        card = (folder / f"{stem}.md").read_text()
        assert "PropGrad/Interventional-XAI" in card and "accuracy" in card and "MIT" in card
    assert not list(folder.glob("*.pth")) and not list(folder.glob("*.jpg"))


def test_preprocessing_is_the_authors():
    model = load_authors_model("convmixer_unbiased")
    transform = model.transform
    batch = transform([Image.new("RGB", (300, 200), (255, 0, 128))])
    assert tuple(batch.shape) == (1, 3, 128, 128)
    np.testing.assert_allclose(batch[0, :, 0, 0].numpy(), [1.0, -1.0, (128 / 255 - 0.5) / 0.5], atol=1e-6)


@needs_source
@pytest.mark.slow
@pytest.mark.parametrize("stem", list(VARIANTS))
def test_safetensors_give_the_checkpoints_outputs(stem):
    from safetensors import safe_open

    from propgrad.models.convmixer import load_convmixer

    rng = np.random.default_rng(0)
    images = [Image.open(ASSETS / "examples" / "chelsea.jpg"), Image.open(ASSETS / "examples" / "chicky.jpg"),
              Image.fromarray(rng.integers(0, 256, (140, 150, 3), dtype=np.uint8))]
    ours = load_authors_model(stem).predict(images)
    theirs = load_convmixer(SOURCE / f"{stem}.pth").predict(images)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    with safe_open(str(authors_dir() / f"{stem}.safetensors"), framework="pt") as handle:
        metadata = handle.metadata()
    from propgrad.models.safe_load import read_checkpoint

    assert json.loads(metadata["performance"]) == read_checkpoint(SOURCE / f"{stem}.pth")["performance"]


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match=r"`stem`: no weights file.*convert.py"):
        load_authors_model("convmixer_unbiased", root=tmp_path)
    with pytest.raises(ValueError, match=r"`stem` must be one of"):
        load_authors_model("convmixer_tabby")
    assert register_authors_models(root=tmp_path) == []
