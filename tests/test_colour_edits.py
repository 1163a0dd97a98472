"""Colour edits for regions: darken, lighten, recolour (Lab chroma, lightness kept); registered as edit kinds."""
import numpy as np
import pytest
from PIL import Image

from propgrad.interventions import EDITS, RECOLOUR_TARGETS, ParametricEdit, darken, lighten, recolour


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(3)
    return Image.fromarray(rng.integers(20, 236, (16, 20, 3), dtype=np.uint8))


def test_registered_as_parametric_edits():
    for name in ("darken", "lighten", *(f"recolour {c}" for c in RECOLOUR_TARGETS), "hue", "saturation"):
        assert name in EDITS


def test_darken_and_lighten_move_towards_black_and_white(image):
    pixels = np.asarray(image, dtype=np.float64)
    np.testing.assert_allclose(np.asarray(darken(image, 0.85)), pixels * 0.15, atol=0.5 + 1e-9)
    np.testing.assert_allclose(np.asarray(lighten(image, 0.5)), pixels + 0.5 * (255 - pixels), atol=0.5 + 1e-9)
    assert np.asarray(darken(image, 1.0)).max() == 0 and np.asarray(lighten(image, 1.0)).min() == 255
    np.testing.assert_array_equal(np.asarray(darken(image, 0.0)), np.asarray(image))


@pytest.mark.parametrize("colour", ["red", "green", "blue"])
@pytest.mark.parametrize("strength", [0.5, 1.0])
def test_recolour_keeps_lightness_and_moves_chroma_to_the_target(colour, strength):
    from skimage.color import rgb2lab

    # Mid-tone pixels: there the target chroma fits in sRGB (bright yellow or bright blue would be clipped).
    mid = Image.fromarray(np.random.default_rng(3).integers(90, 160, (16, 20, 3), dtype=np.uint8))
    target = RECOLOUR_TARGETS[colour]
    before = rgb2lab(np.asarray(mid) / 255.0)
    after = rgb2lab(np.asarray(recolour(mid, strength, target)) / 255.0)
    goal = rgb2lab(np.asarray(target, dtype=np.float64).reshape(1, 1, 3) / 255.0)[0, 0]
    expected = (1 - strength) * before[..., 1:] + strength * goal[1:]
    assert np.mean(np.abs(after[..., 0] - before[..., 0]) < 1.5) > 0.95  # lightness kept (8-bit rounding)
    assert np.median(np.linalg.norm(after[..., 1:] - expected, axis=-1)) < 1.0  # chroma where it should be
    assert np.corrcoef(before[..., 0].ravel(), after[..., 0].ravel())[0, 1] > 0.99  # texture kept


def test_recolour_at_zero_strength_is_the_image(image):
    np.testing.assert_allclose(np.asarray(recolour(image, 0.0), dtype=float), np.asarray(image, dtype=float), atol=1)


@pytest.mark.parametrize("kind", ["darken", "lighten", "recolour red"])
def test_series_start_at_the_original_with_strength_on_the_x_axis(kind, image):
    series = ParametricEdit(kind, stop=0.8, steps=5).series(image)[0]
    np.testing.assert_allclose(series.values, [0, 0.2, 0.4, 0.6, 0.8])
    assert "strength" in series.property_name
    np.testing.assert_array_equal(np.asarray(series.images[0]), np.asarray(image))
    assert ParametricEdit(kind).values()[-1] == EDITS[kind].default_stop


@pytest.mark.parametrize("kwargs, match", [
    (dict(stop=1.5), r"`stop` \(the edit's end value\) for darken must lie in \[0, 1\], got 1.5"),
    (dict(start=-0.1, stop=0.5), r"`start` \(the edit's start value\) for darken must lie in \[0, 1\]"),
    (dict(stop=0.0), r"`stop` \(the edit's end value\) equals its start value"),
])
def test_strength_outside_zero_one_is_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ParametricEdit("darken", **kwargs)


def test_register_recolour_checks_the_colour():
    from propgrad.interventions import register_recolour

    with pytest.raises(ValueError, match="`colour` must be an \\(r, g, b\\) triple"):
        register_recolour("bad", (300, 0, 0))


def test_recolour_without_scikit_image_says_what_to_install(monkeypatch, image):
    import sys

    monkeypatch.setitem(sys.modules, "skimage", None)
    with pytest.raises(ImportError, match="pip install scikit-image"):
        recolour(image, 0.5)
