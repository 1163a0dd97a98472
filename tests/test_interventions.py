"""Interventions, image loading and explain(): invariants for every intervention x model pair."""
import io
import json

import numpy as np
import pytest
from PIL import Image

import propgrad as pg
from propgrad.images import IMAGE_FORMATS
from propgrad.interventions import EDITS


class MeanColourModel:
    """Tiny deterministic model: softmax over the mean R, G, B of the image (a stand-in classifier)."""

    name = "mean colour"
    output_names = ["red", "green", "blue"]
    output_kind = "probability"

    def predict(self, images):
        means = np.stack([np.asarray(image, dtype=np.float64).reshape(-1, 3).mean(axis=0) / 255 for image in images])
        logits = 8 * means
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)


class TinyTorchModel:
    """A random-weight conv net: batched and one-by-one outputs must agree."""

    name = "tiny conv"
    output_kind = "probability"
    output_names = ["a", "b", "c", "d"]

    def __init__(self):
        import torch

        torch.manual_seed(0)
        self.net = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, stride=2), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
            torch.nn.Flatten(), torch.nn.Linear(8, 4),
        ).eval()

    def predict(self, images):
        import torch

        batch = torch.stack([torch.from_numpy(np.asarray(im.resize((32, 32)), dtype=np.float32) / 255).permute(2, 0, 1)
                             for im in images])
        with torch.inference_mode():
            return torch.softmax(self.net(batch), dim=1).numpy()


def _photo(seed=0, size=(96, 64)):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : size[1], 0 : size[0]]
    array = np.stack([x * 255 / size[0], y * 255 / size[1], rng.integers(0, 255, (size[1], size[0]))], axis=-1)
    return Image.fromarray(array.astype(np.uint8))


def _patch():
    patch = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    patch.paste((255, 0, 200, 255), (4, 4, 16, 16))
    return patch


def _frames(tmp_path, count=5):
    paths = []
    for i in reversed(range(count)):  # written out of order on purpose
        path = tmp_path / f"frame_{i}.png"
        _photo(i).rotate(30 * i).save(path)
        paths.append(path)
    return paths


INTERVENTIONS = {
    **{f"edit-{kind}": (lambda tmp, kind=kind: pg.ParametricEdit(kind, steps=5)) for kind in EDITS},
    "patch": lambda tmp: pg.PatchBlend([_patch(), _patch().rotate(45)], position=(0.3, 0.6), scale=0.4, steps=5),
    "frames": lambda tmp: pg.Frames(_frames(tmp)),
}
MODELS = {"mean-colour": MeanColourModel, "tiny-torch": TinyTorchModel}


@pytest.mark.parametrize("model_name", sorted(MODELS))
@pytest.mark.parametrize("intervention_name", sorted(INTERVENTIONS))
def test_every_intervention_model_pair(intervention_name, model_name, tmp_path):
    image = _photo()
    before = np.asarray(image).copy()
    intervention = INTERVENTIONS[intervention_name](tmp_path)
    model = MODELS[model_name]()
    source = None if intervention_name == "frames" else image
    result = pg.explain(source, intervention, model, n_permutations=200, seed=0)

    # The input image is untouched.
    np.testing.assert_array_equal(np.asarray(image), before)
    # Step 0 is the original (for frames: the first frame by file name).
    original = source if source is not None else Image.open(tmp_path / "frame_0.png").convert("RGB")
    for series in result.series:
        np.testing.assert_array_equal(np.asarray(series.images[0]), np.asarray(original))
        assert len(series.images) == len(series.values) >= 3
    # Batched outputs equal one-by-one outputs.
    for s, series in enumerate(result.series):
        single = np.concatenate([model.predict([im]) for im in series.images])
        np.testing.assert_allclose(result.models[0].outputs[s], single, atol=1e-5)
    score = result.models[0].output_of_interest
    assert 0 <= score.score and 1 / 201 <= score.pvalue <= 1


def test_parametric_values_and_identity_start():
    edit = pg.ParametricEdit("brightness", stop=0.2, steps=5)
    np.testing.assert_allclose(edit.values(), [1.0, 0.8, 0.6, 0.4, 0.2])
    shifted = pg.ParametricEdit("hue", start=30, stop=90, steps=4).values()
    assert shifted[0] == 0 and shifted[1] == 30 and shifted[-1] == 90


def test_patch_opacity_rises_linearly_and_patch_appears():
    image = Image.new("RGB", (64, 64), (0, 0, 0))
    patch = Image.new("RGBA", (10, 10), (200, 100, 50, 255))
    series = pg.PatchBlend(patch, position=(0.5, 0.5), scale=0.5, steps=5).series(image)[0]
    np.testing.assert_allclose(series.values, [0, 0.25, 0.5, 0.75, 1])
    centre = [np.asarray(im)[32, 32] for im in series.images]
    np.testing.assert_allclose([c[0] for c in centre], [0, 50, 100, 150, 200], atol=1)
    assert np.asarray(series.images[-1])[0, 0].tolist() == [0, 0, 0]  # outside the patch


def test_transparent_patch_pixels_leave_the_image_alone():
    image = Image.new("RGB", (40, 40), (10, 20, 30))
    patch = Image.new("RGBA", (40, 40), (255, 255, 255, 0))
    last = pg.PatchBlend(patch, scale=1.0, steps=3).series(image)[0].images[-1]
    assert np.all(np.asarray(last) == [10, 20, 30])


def test_frames_sort_naturally_and_resize_mismatched(tmp_path):
    for i in (10, 2, 1):
        Image.new("RGB", (32 + i, 32), (i * 20, 0, 0)).save(tmp_path / f"f{i}.png")
    series = pg.Frames(sorted(tmp_path.iterdir())).series(None)[0]
    assert [np.asarray(im)[0, 0, 0] for im in series.images] == [20, 40, 200]
    assert {im.size for im in series.images} == {(33, 32)}
    # Said, not done silently: both others were resized and stretched (their aspect ratios differ by over 1 %).
    assert series.notes == ("2 frames resized to the first frame's 33x32 px: f2.png (34x32) and f10.png (42x32); 2 of "
                            "them stretched (another aspect ratio): the model sees the stretch as part of the change, "
                            "so give frames of one size",)
    same = tmp_path / "same"
    same.mkdir()
    for i in range(3):
        Image.new("RGB", (32, 32)).save(same / f"f{i}.png")
    assert pg.Frames(sorted(same.iterdir())).series(None)[0].notes == ()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: pg.ParametricEdit("sharpness"), "kind"),
        (lambda: pg.ParametricEdit("brightness", steps=2), "steps"),
        (lambda: pg.ParametricEdit("brightness", stop=-1), "stop"),
        (lambda: pg.ParametricEdit("brightness", stop=1.0), "would not change"),
        (lambda: pg.PatchBlend([]), "patches"),
        (lambda: pg.PatchBlend(_patch(), scale=0), "scale"),
        (lambda: pg.PatchBlend(_patch(), position=(2, 0.5)), "position"),
        (lambda: pg.PatchBlend(b"not an image"), "patch 1"),
        (lambda: pg.Frames(["a.png", "b.png"]), "at least 3"),
        (lambda: pg.Frames([_photo()] * 3, order=[0, 0, 1]), "order"),
    ],
)
def test_bad_intervention_arguments(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


class _Echo:
    """A model that leaves ``output_kind`` out (probabilities, by default), unlike :class:`MeanColourModel`: two
    outputs, the image's mean brightness and its complement."""

    name = "echo"
    output_names = ["bright", "dark"]

    def predict(self, images):
        means = np.array([np.asarray(image, dtype=float).mean() / 255 for image in images])
        return np.stack([means, 1 - means], axis=1)


@pytest.mark.parametrize(
    "intervention, models, message",
    [
        ("darken", [_Echo()], r"`intervention`: 'darken' is a name, not an intervention; give an intervention \(e\.g\. "
                              r"ParametricEdit\('darken'"),
        (5, [_Echo()], "`intervention` is of type int; give an intervention"),
        ([1, 2], [_Echo()], "`intervention` is a list of int; give an intervention"),
        (None, ["EfficientNet-Lite0 (ImageNet)"], r"`models`: 'EfficientNet-Lite0 \(ImageNet\)' is a name, not a "
                                                   r"model; load it first, e.g. propgrad.models.get_model"),
        (None, "EfficientNet-Lite0 (ImageNet)", "is a name, not a model"),
        (None, [object()], "`models`: an object of type object is not a model"),
        (None, [], "`models` is empty"),
    ],
)
def test_explain_names_what_it_takes_for_a_name_or_a_stray_value(intervention, models, message):
    """Names where objects belong (the first thing a new Python user tries) are refused with what to give instead,
    not an AttributeError from inside."""
    intervention = pg.ParametricEdit("darken", stop=0.5, steps=4) if intervention is None else intervention
    with pytest.raises((TypeError, ValueError), match=message):
        pg.explain(_photo(), intervention, models, n_permutations=100)


def test_explain_takes_a_duck_typed_model_alone_or_in_a_list():
    """A model needs a name, output names and predict (no output_kind: probabilities), given alone or in a list."""
    edit = pg.ParametricEdit("darken", stop=0.5, steps=4)
    for models in (_Echo(), [_Echo()]):
        assert [m.name for m in pg.explain(_photo(), edit, models, n_permutations=100).models] == ["echo"]


def test_frames_with_unreadable_file(tmp_path):
    paths = _frames(tmp_path, 3)
    (tmp_path / "frame_1.png").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="frame_1.png"):
        pg.Frames(paths).series(None)


# --- image loading -----------------------------------------------------------------------------
def _png_bytes(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "source",
    [
        Image.new("L", (40, 30), 128),
        Image.new("RGBA", (40, 30), (255, 0, 0, 128)),
        Image.new("P", (40, 30)),
        Image.new("I;16", (40, 30), 40000),
        np.full((30, 40), 40000, dtype=np.uint16),
        np.random.default_rng(0).random((30, 40, 3)),
        np.zeros((30, 40, 4), dtype=np.uint8),
        _png_bytes(Image.new("LA", (40, 30))),
    ],
)
def test_odd_images_become_rgb(source):
    image = pg.load_image(source)
    assert image.mode == "RGB" and image.size == (40, 30)


def test_what_loading_changed_is_said_in_every_report_of_the_input(tmp_path):
    """A half-transparent upload was laid over white without a word, and its answer changed completely; a 20 px
    picture ran with no hint that every model enlarges it many times."""
    from propgrad.images import FLATTENED, describe_input

    rgba = np.zeros((80, 80, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = np.linspace(0, 255, 80)[None, :].astype(np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "faded.png")
    rgba[..., 3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "opaque.png")
    Image.fromarray(rgba[:20, :20, :3]).save(tmp_path / "tiny.png")
    faded = pg.load_image(tmp_path / "faded.png")
    assert describe_input(faded)["notes"] == [FLATTENED]
    assert "notes" not in describe_input(pg.load_image(tmp_path / "opaque.png"))  # alpha 255 everywhere: nothing changed
    assert "only 20 x 20 px" in describe_input(pg.load_image(tmp_path / "tiny.png"))["notes"][0]
    # The explanation's notes (which the app, report.html and the command line show) start with it.
    result = pg.explain(faded, pg.ParametricEdit("brightness", stop=0.2, steps=6), pg.models.get_model(
        "Lesion CNN (biased)"), n_permutations=200)
    assert result.notes[0] == FLATTENED and result.input["notes"] == [FLATTENED]
    # Frames: said once for all of them, not once inside each frame's record.
    frames = pg.explain(None, pg.Frames([tmp_path / "faded.png"] * 3), pg.models.get_model("Lesion CNN (biased)"),
                        n_permutations=200)
    assert frames.notes[0] == FLATTENED and frames.input["notes"] == [FLATTENED]
    assert not any("notes" in frame for frame in frames.input["frames"])


def test_an_exif_turned_photo_and_a_cmyk_file_say_what_loading_did(tmp_path):
    """A phone photo was turned by its EXIF tag, and a CMYK print file converted without its profile, without a word:
    a researcher comparing with a pipeline that reads the stored pixels saw different answers."""
    from propgrad.images import CMYK_CONVERTED, describe_input

    photo = Image.new("RGB", (160, 96), (200, 10, 10))
    exif = photo.getexif()
    exif[0x0112] = 6  # stored on its side: a viewer turns it 90 degrees clockwise
    photo.save(tmp_path / "phone.jpg", exif=exif)
    turned = pg.load_image(tmp_path / "phone.jpg")
    assert turned.size == (96, 160)
    (note,) = describe_input(turned)["notes"][:1]
    assert "EXIF orientation was applied" in note and "turned 90 degrees clockwise" in note
    Image.new("CMYK", (80, 80), (0, 200, 200, 0)).save(tmp_path / "print.jpg")
    assert describe_input(pg.load_image(tmp_path / "print.jpg"))["notes"] == [CMYK_CONVERTED]
    photo.save(tmp_path / "plain.jpg")  # no orientation tag: nothing to say
    assert "notes" not in describe_input(pg.load_image(tmp_path / "plain.jpg"))


def test_sixteen_bit_keeps_its_range():
    image = pg.load_image(Image.new("I;16", (40, 30), 65535))
    assert np.asarray(image).min() == 255


def test_odd_files_read_as_a_viewer_shows_them_and_say_so(tmp_path):
    """A hostile-input audit: a near-black 16-bit scan came out brighter than the photo (its 0-97 stretched to
    0-255), a [0, 1] float TIFF was stretched, an invalid EXIF orientation said it had turned the picture, an
    animation's first frame was used without a word, and a 20 x 4000 file was called "10x2048 px"."""
    from propgrad.images import input_notes

    dark = np.linspace(0, 97, 80 * 70).reshape(70, 80).astype(np.uint16)
    Image.fromarray(dark).save(tmp_path / "dark16.png")
    image = pg.load_image(tmp_path / "dark16.png")
    assert np.asarray(image).max() <= 1 and "16-bit with values only up to 97 of 65,535" in input_notes(image)[0]
    Image.fromarray(np.full((70, 80), 0.5, dtype=np.float32)).save(tmp_path / "half.tif")
    image = pg.load_image(tmp_path / "half.tif")
    assert np.asarray(image).mean() == 128 and not input_notes(image)  # 0.5 of the full scale, not stretched
    photo = Image.new("RGB", (80, 70), (200, 50, 50))
    exif = Image.Exif()
    exif[0x0112] = 9  # no such orientation: nothing is turned, so nothing is said
    photo.save(tmp_path / "nine.jpg", exif=exif)
    assert not input_notes(pg.load_image(tmp_path / "nine.jpg"))
    frames = [Image.new("RGB", (80, 70), colour) for colour in ("red", "blue", "green")]
    frames[0].save(tmp_path / "moving.gif", save_all=True, append_images=frames[1:])
    assert input_notes(pg.load_image(tmp_path / "moving.gif")) == [
        "the file holds 3 frames (an animation or pages); only the first is used"]
    Image.new("RGB", (20, 4000)).save(tmp_path / "thin.png")
    with pytest.raises(ValueError, match=r"`image` is 20x4000 px: shrunk to at most 2048 px a side it would be 10x2048"):
        pg.load_image(tmp_path / "thin.png")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ValueError, match=r"'empty.png' is empty \(0 bytes\)"):
        pg.load_image(tmp_path / "empty.png")


def test_the_pixel_limit_named_is_the_one_that_holds(tmp_path):
    """Between PIL's limit and twice that it only warned, so a 100-megapixel file opened although the message for
    larger ones said "under 89 megapixels"."""
    import warnings

    from propgrad.images import max_megapixels

    path = tmp_path / "large.png"
    Image.new("1", (10_000, 10_000)).save(path)  # 100 megapixels, a few kB on disk
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no raw warning on the way
        with pytest.raises(ValueError, match=rf"too many pixels to open safely \(10000 x 10000\); use an image under "
                                             rf"{max_megapixels()} megapixels"):
            pg.load_image(path)


def test_huge_image_is_downscaled_and_the_report_says_so():
    image = pg.load_image(Image.new("RGB", (5000, 2500)))
    assert image.size == (2048, 1024)
    # report.json gave 2048 x 1024 beside the file's SHA-256, as though the file were that size.
    from propgrad.images import describe_input

    assert "the image is 5000x2500 px; it was shrunk to 2048x1024 px" in describe_input(image)["notes"][0]


@pytest.mark.parametrize(
    "source, message",
    [
        (Image.new("RGB", (8, 100)), "at least 16 px"),
        (b"\x89PNG\r\n\x1a\n broken", "not a readable image"),
        ("/no/such/file.png", "no such file"),
        (np.zeros((10, 10, 2)), "shape"),
        (12, "must be a PIL image"),
        (None, "missing"),
    ],
)
def test_bad_images_are_refused_clearly(source, message):
    with pytest.raises((ValueError, TypeError), match=message):
        pg.load_image(source)


def test_an_unreadable_image_is_said_in_words():
    """The message named Pillow's exception class ("(UnidentifiedImageError)")."""
    whole = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 10, 10)).save(whole, format="PNG")
    for data, words in ((b"\x89PNG\r\n\x1a\n broken", "its contents are not an image format propgrad reads"),
                        (whole.getvalue()[:-40], "the file is cut short")):
        with pytest.raises(ValueError) as caught:
            pg.load_image(data)
        assert words in str(caught.value) and "Error" not in str(caught.value)
        assert str(caught.value).endswith(f"use a {IMAGE_FORMATS} file")


def test_truncated_jpeg_file(tmp_path):
    path = tmp_path / "cut.jpg"
    buffer = io.BytesIO()
    _photo().save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue()[:200])
    with pytest.raises(ValueError, match="cut.jpg"):
        pg.load_image(path)


# --- explain -----------------------------------------------------------------------------------
def test_explain_output_selection_and_determinism():
    image = _photo()
    edit = pg.ParametricEdit("hue", stop=300, steps=8)
    model = MeanColourModel()
    default = pg.explain(image, edit, model, n_permutations=300, seed=1)
    predicted = int(np.argmax(model.predict([image])[0]))
    assert [s.index for s in default.models[0].scores] == [predicted]
    everything = pg.explain(image, edit, model, outputs_of_interest="all", n_permutations=300, seed=1)
    assert [s.output for s in everything.models[0].scores] == ["red", "green", "blue"]
    by_name = pg.explain(image, edit, model, outputs_of_interest=["blue", 0], n_permutations=300, seed=1)
    assert [s.index for s in by_name.models[0].scores] == [2, 0]
    again = pg.explain(image, edit, model, outputs_of_interest="all", n_permutations=300, seed=1)
    for a, b in zip(everything.models[0].scores, again.models[0].scores):
        assert a.pvalue == b.pvalue and a.score == b.score


def test_p_values_of_a_model_do_not_depend_on_its_neighbours():
    image = _photo()
    edit = pg.ParametricEdit("brightness", steps=6)
    alone = pg.explain(image, edit, MeanColourModel(), n_permutations=300, seed=3)
    together = pg.explain(image, edit, [TinyTorchModel(), MeanColourModel()], n_permutations=300, seed=3)
    assert alone.models[0].scores[0].pvalue == together.model("mean colour").scores[0].pvalue


def test_several_series_give_mean_score_and_curve():
    image = _photo()
    blend = pg.PatchBlend([_patch(), _patch().transpose(Image.Transpose.FLIP_LEFT_RIGHT)], steps=6)
    result = pg.explain(image, blend, MeanColourModel(), n_permutations=300)
    model = result.models[0]
    score = model.scores[0]
    assert len(score.series_scores) == 2
    assert score.score == pytest.approx(np.mean(score.series_scores))
    mean, spread = model.mean_curve(score.index)
    assert mean.shape == spread.shape == (6,)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"models": []}, "models"),
        ({"n_permutations": -5}, "n_permutations"),
        ({"alpha": 1.5}, "alpha"),
        ({"outputs_of_interest": "purple"}, "purple"),
        ({"outputs_of_interest": 7}, "out of range"),
        ({"outputs_of_interest": []}, "empty"),
    ],
)
def test_explain_bad_arguments(kwargs, message):
    arguments = {"models": MeanColourModel(), **kwargs}
    with pytest.raises(ValueError, match=message):
        pg.explain(_photo(), pg.ParametricEdit("blur", steps=4), n_permutations=arguments.pop("n_permutations", 100),
                   **arguments)


def test_model_returning_wrong_shape_or_nan_is_reported():
    class Broken(MeanColourModel):
        name = "broken"

        def predict(self, images):
            return np.full((len(images), 3), np.nan)

    with pytest.raises(ValueError, match=r"broken.*NaN or infinite outputs for 4 of 4 images; .*check the model"):
        pg.explain(_photo(), pg.ParametricEdit("blur", steps=4), Broken(), n_permutations=100)
    with pytest.raises(ValueError, match="broken.*NaN"):  # the screen checks with the same rule
        pg.screen(_photo(), [Broken()], edits=["blur"], regions=["whole image"], steps=4, n_permutations=100)

    class Short(MeanColourModel):
        name = "short"

        def predict(self, images):
            return np.ones((1, 3)) / 3

    with pytest.raises(ValueError, match="short.*shape"):
        pg.explain(_photo(), pg.ParametricEdit("blur", steps=4), Short(), n_permutations=100)


def test_reports_round_trip(tmp_path):
    import json

    from propgrad.export import explanation as report

    result = pg.explain(_photo(), pg.PatchBlend([_patch(), _patch()], steps=5), [MeanColourModel(), TinyTorchModel()],
                        n_permutations=200)
    paths = report.write_report(result, tmp_path / "out")
    data = json.loads(paths["json"].read_text())
    model = data["models"][0]
    assert model["name"] == "mean colour" and len(model["outputs"]) == 5 and len(model["outputs"][0]) == 3
    assert set(model) >= {"name", "outputs", "output_of_interest", "score", "pvalue", "flips"}
    assert len(model["series_outputs"]) == 2
    assert model["score"] == result.models[0].scores[0].score
    rows = paths["csv"].read_text().splitlines()
    assert len(rows) == 1 + 2 * 5 and "mean colour | " in rows[0]
    for key in ("strip", "curves", "null", "animation"):
        assert paths[key].stat().st_size > 1000
    archive = report.write_zip(result, tmp_path / "bundle.zip")
    import zipfile

    assert sorted(zipfile.ZipFile(archive).namelist()) == sorted(p.name for p in paths.values())


@pytest.mark.slow
def test_review_edge_cases(tmp_path):
    """Cases a review found: non-RGB inputs, values that travel with sorted frames, many outputs drawn."""
    from propgrad.export import explanation as report

    for mode in ("L", "RGBA", "P", "I;16"):
        image = _photo().convert("L").convert(mode) if mode == "I;16" else _photo().convert(mode)
        for intervention in (pg.ParametricEdit("rotation", steps=3), pg.PatchBlend(_patch(), steps=3)):
            result = pg.explain(image, intervention, MeanColourModel(), n_permutations=50)
            assert result.series[0].images[0].mode == "RGB"
    paths = []
    for name in ("b.png", "a.png", "c.png"):
        paths.append(tmp_path / name)
        _photo().save(paths[-1])
    frames = pg.Frames(paths, values=[90, 0, 180])
    assert [p.name for p in frames.frames] == ["a.png", "b.png", "c.png"] and frames.values == [0, 90, 180]
    with pytest.raises(ValueError, match="values"):
        pg.Frames(paths, values=[0, float("nan"), 1])
    floats = np.zeros((20, 20, 4))
    floats[..., 0] = floats[..., 3] = 1.0
    assert np.asarray(pg.load_rgba(floats))[0, 0].tolist() == [255, 0, 0, 255]

    class Wide:
        name, output_kind = "wide", "probability"
        output_names = [f"class {i}" for i in range(300)]

        def predict(self, images):
            rng = np.random.default_rng(len(images))
            values = rng.random((len(images), 300))
            return values / values.sum(axis=1, keepdims=True)

    result = pg.explain(_photo(), pg.ParametricEdit("blur", steps=4), Wide(), outputs_of_interest="all",
                        n_permutations=50)
    from propgrad import plots

    drawn, left_out = plots.plotted_scores(result)
    assert len(drawn) == plots.MAX_PLOTTED and left_out == 300 - plots.MAX_PLOTTED
    assert min(s.score for _, s in drawn) >= sorted(s.score for s in result.models[0].scores)[-plots.MAX_PLOTTED]
    paths = report.write_report(result, tmp_path / "wide")
    assert len(json.loads(paths["json"].read_text())["models"][0]["outputs_of_interest"]) == 300
    with pytest.raises(ValueError, match="seed"):
        pg.explain(_photo(), pg.ParametricEdit("blur", steps=4), MeanColourModel(), seed="1")
    with pytest.raises(ValueError, match="alpha"):
        pg.explain(_photo(), pg.ParametricEdit("blur", steps=4), MeanColourModel(), alpha="0.1")
    picked = pg.explain(_photo(), pg.ParametricEdit("blur", steps=4), MeanColourModel(),
                        outputs_of_interest=np.array([0, 2, 2]), n_permutations=50)
    assert [s.index for s in picked.models[0].scores] == [0, 2]


def test_a_file_mask_is_recorded_by_its_name_and_sha256(tmp_path):
    # The settings gave {"array": [160, 200], "mean": 0.2} alone: a reader could not tell which mask was used.
    import hashlib

    from propgrad.export.provenance import describe_intervention

    path = tmp_path / "fur.png"
    mask = np.zeros((40, 50), dtype=np.uint8)
    mask[10:20, 10:30] = 255
    Image.fromarray(mask).save(path)
    region = pg.Region(pg.ParametricEdit("darken", steps=4), str(path))
    described = describe_intervention(region)
    assert described["mask_source"] == {"file": "fur.png", "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    assert pg.Region(pg.ParametricEdit("darken", steps=4), mask > 0).mask_source is None


def test_edit_strengths_are_the_decimals_asked_for():
    """np.linspace's float noise (0.08499999999999999, 0.3999999999999999) went into every file, and a filter on
    0.4 missed the step; the images are those of the noisy values (the outputs did not change)."""
    assert list(pg.ParametricEdit("darken", stop=0.85, steps=11).values())[1:4] == [0.085, 0.17, 0.255]
    assert 0.4 in list(pg.ParametricEdit("brightness", stop=0.1, steps=10).values())
    assert list(pg.ParametricEdit("hue", stop=120, steps=4).values()) == [0.0, 40.0, 80.0, 120.0]
    from propgrad.interventions.patch import PatchBlend

    patch = Image.new("RGBA", (8, 8), (255, 0, 0, 255))
    opacities = PatchBlend([patch], steps=11).series(Image.new("RGB", (32, 32)))[0].values
    assert 0.3 in list(opacities) and 0.7 in list(opacities)
