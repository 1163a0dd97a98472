"""Models: bundled classifier, user model files (and their refusal), ConvMixer, CLIP zero-shot, registry."""
from __future__ import annotations

import hashlib
import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from torchvision import transforms as T

from propgrad.errors import ModelUnavailableError
from propgrad.export.provenance import describe_model
from propgrad.models import (
    ACCEPTED_FORMATS,
    ClipZeroShot,
    EfficientNetLite0,
    Model,
    ResizeCropNormalize,
    ResizeNormalize,
    bundled_model_names,
    conv_mixer,
    detect_format,
    get_model,
    load_convmixer,
    load_model_file,
    register_model,
    unregister_model,
)

AUTHORS = Path(__file__).resolve().parents[2] / "shared" / "third_party" / "propgrad-authors"
EFFICIENTNET = "EfficientNet-Lite0 (ImageNet)"
TINY_CLIP = "propgrad-test-tiny-clip"
OTHER_TINY_CLIP = "propgrad-test-tiny-clip-wide"


# ---------------------------------------------------------------------------------------------- fixtures
def _photo_like(seed: int, size: tuple[int, int]) -> Image.Image:
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width] / max(size)
    base = np.stack([np.sin(6 * x + seed), np.cos(5 * y), x * y], axis=-1) * 90 + 128
    noise = rng.normal(0, 25, (height, width, 3))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def images() -> list[Image.Image]:
    """Five images of different sizes and aspect ratios (one greyscale, converted by the models)."""
    sizes = [(64, 48), (40, 90), (120, 120), (33, 77), (96, 50)]
    pictures = [_photo_like(seed, size) for seed, size in enumerate(sizes)]
    pictures[3] = pictures[3].convert("L")
    return pictures


@pytest.fixture(scope="module")
def chelsea() -> Image.Image:
    skimage_data = pytest.importorskip("skimage.data")
    return Image.fromarray(skimage_data.chelsea())


@pytest.fixture(scope="module")
def efficientnet() -> EfficientNetLite0:
    return EfficientNetLite0(batch_size=3)


def _tiny_net(n_classes: int = 3, *, final_softmax: bool = False) -> nn.Module:
    torch.manual_seed(0)
    layers = [
        nn.Conv2d(3, 8, 3, stride=2), nn.BatchNorm2d(8), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, n_classes),
    ]
    if final_softmax:
        layers.append(nn.Softmax(dim=1))
    network = nn.Sequential(*layers)
    with torch.no_grad():  # non-trivial running statistics, so eval-mode BatchNorm matters
        network[1].running_mean.uniform_(-0.5, 0.5)
        network[1].running_var.uniform_(0.5, 2.0)
    return network.eval()


@pytest.fixture(scope="module")
def tiny_net() -> nn.Module:
    return _tiny_net()


@pytest.fixture(scope="module")
def pt2_file(tmp_path_factory, tiny_net) -> Path:
    path = tmp_path_factory.mktemp("pt2") / "tiny.pt2"
    batch = torch.export.Dim("batch", min=1, max=1024)
    program = torch.export.export(tiny_net, (torch.randn(2, 3, 40, 40),), dynamic_shapes=({0: batch},))
    torch.export.save(program, path)
    return path


@pytest.fixture(scope="module")
def torchscript_file(tmp_path_factory, tiny_net) -> Path:
    path = tmp_path_factory.mktemp("ts") / "tiny_traced.pt"
    torch.jit.save(torch.jit.trace(tiny_net, torch.randn(2, 3, 40, 40)), path)
    return path


@pytest.fixture(scope="module")
def convmixer_file(tmp_path_factory) -> Path:
    """A tiny random-weight ConvMixer saved exactly in the authors' checkpoint format."""
    torch.manual_seed(1)
    paras = {"dim": 16, "depth": 2, "kernel_size": 3, "patch_size": 8, "n_classes": 2, "in_channels": 3}
    network = conv_mixer(**paras)
    path = tmp_path_factory.mktemp("convmixer") / "tiny_convmixer.pth"
    torch.save({"paras": paras, "state_dict": network.state_dict(), "performance": {"acc": {}}}, path)
    return path


def _write_clip_config(folder: Path, name: str, embed_dim: int) -> None:
    config = {
        "embed_dim": embed_dim,
        "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 8},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
    }
    (folder / f"{name}.json").write_text(json.dumps(config))


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    """(model, preprocess, tokenizer, checkpoint path) of a random-weight 1-layer CLIP, registered in open_clip."""
    open_clip = pytest.importorskip("open_clip")
    folder = tmp_path_factory.mktemp("clip")
    _write_clip_config(folder, TINY_CLIP, 24)
    _write_clip_config(folder, OTHER_TINY_CLIP, 40)
    open_clip.add_model_config(folder)
    torch.manual_seed(2)
    model, _, preprocess = open_clip.create_model_and_transforms(TINY_CLIP, pretrained=None)
    checkpoint = folder / "tiny_clip.pt"
    torch.save(model.state_dict(), checkpoint)
    return model.eval(), preprocess, open_clip.get_tokenizer(TINY_CLIP), checkpoint


CLASSES = {
    "cat": ["a photo of a cat", "a cat", "a fluffy cat"],
    "dog": ["a photo of a dog", "a dog"],
    "car": ["a photo of a car"],
}


# ---------------------------------------------------------------------------------------------- preprocessing
def test_resize_normalize_matches_torchvision_classic_transforms(images):
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    reference = T.Compose([T.Resize((30, 50)), T.ToTensor(), T.Normalize(mean, std)])
    ours = ResizeNormalize((30, 50), mean, std)(images)
    expected = torch.stack([reference(image.convert("RGB")) for image in images])
    assert ours.shape == (5, 3, 30, 50) and ours.dtype == torch.float32
    torch.testing.assert_close(ours, expected, atol=1e-6, rtol=0)


def test_resize_crop_normalize_matches_torchvision_classic_transforms(chelsea):
    reference = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3)])
    ours = ResizeCropNormalize(256, 224, (0.5,) * 3, (0.5,) * 3)([chelsea])
    torch.testing.assert_close(ours[0], reference(chelsea), atol=1e-6, rtol=0)
    assert float(ours.min()) >= -1.0 and float(ours.max()) <= 1.0


@pytest.mark.parametrize("size", [(213, 320), (320, 213), (256, 256), (224, 300), (97, 1000), (300, 257)])
def test_preprocessing_is_bit_for_bit_torchvisions_v2_functional(size):
    # The transforms are written out without torchvision (the app does not import it); the numbers stay identical.
    import torchvision.transforms.v2.functional as TF
    from torchvision.transforms import InterpolationMode

    rng = np.random.default_rng(sum(size))
    image = Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8))
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)

    def reference(pils):
        tensors = [TF.to_dtype(TF.pil_to_tensor(pil), torch.float32, scale=True) for pil in pils]
        return TF.normalize(torch.stack(tensors), list(mean), list(std))

    squashed = reference([TF.resize(image, [128, 128], InterpolationMode.BILINEAR, antialias=True)])
    assert torch.equal(ResizeNormalize((128, 128), mean, std)([image]), squashed)
    cropped = reference([TF.center_crop(TF.resize(image, 256, InterpolationMode.BILINEAR, antialias=True), [224, 224])])
    assert torch.equal(ResizeCropNormalize(256, 224, mean, std)([image]), cropped)


def test_imagenet_class_names_are_torchvisions():
    from torchvision.models._meta import _IMAGENET_CATEGORIES

    from propgrad.models.efficientnet import IMAGENET_CLASSES

    assert IMAGENET_CLASSES == list(_IMAGENET_CATEGORIES)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"size": (0, 10)}, ValueError, "`size` must be positive"),
        ({"size": (10, 10, 3)}, TypeError, "`size` must be an int or a"),
        ({"size": True}, TypeError, "`size` must be an int"),
        ({"size": (10.5, 10)}, TypeError, "`size` must hold ints"),
        ({"size": 8, "mean": (0.5, 0.5)}, ValueError, "`mean` must have 3 values"),
        ({"size": 8, "std": (0.5, 0.0, 0.5)}, ValueError, "`std` must be positive"),
        ({"size": 8, "std": "abc"}, TypeError, "`std` must be three numbers"),
    ],
)
def test_preprocess_validation_names_the_argument(kwargs, error, message):
    with pytest.raises(error, match=message):
        ResizeNormalize(**kwargs)


def test_preprocess_refuses_a_bare_image(images):
    with pytest.raises(TypeError, match="wrap a single image in a list"):
        ResizeNormalize(8)(images[0])


# ---------------------------------------------------------------------------------------------- bundled classifier
@pytest.mark.slow
def test_efficientnet_calls_chelsea_a_cat(efficientnet, chelsea):
    probabilities = efficientnet.predict([chelsea])
    assert probabilities.shape == (1, 1000) and probabilities.dtype == np.float32
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    top = efficientnet.output_names[int(np.argmax(probabilities[0]))]
    assert top in {"tiger cat", "Egyptian cat"}
    assert isinstance(efficientnet, Model) and efficientnet.output_kind == "probability"


@pytest.mark.slow
def test_efficientnet_network_is_loaded_once_per_device(efficientnet, chelsea):
    efficientnet.predict([chelsea])
    assert EfficientNetLite0().network is efficientnet.network


def test_registry_offers_the_bundled_classifier_lazily():
    assert EFFICIENTNET in bundled_model_names()
    assert isinstance(get_model(EFFICIENTNET), EfficientNetLite0)
    built = []
    register_model("test: counting factory", lambda: built.append(1) or "model", "a test entry")
    try:
        assert built == [] and "test: counting factory" in bundled_model_names()
        assert get_model("test: counting factory") == "model" and built == [1]
        register_model("test: counting factory", lambda: "replacement")
        assert get_model("test: counting factory") == "replacement"
        assert bundled_model_names().count("test: counting factory") == 1
    finally:
        unregister_model("test: counting factory")
    with pytest.raises(ValueError, match=r"`model` must be one of 'EfficientNet-Lite0 \(ImageNet\)', .* or .*, got 'no such model'$"):
        get_model("no such model")
    with pytest.raises(ValueError, match="`name` must be a non-empty string"):
        register_model("  ", EfficientNetLite0)
    with pytest.raises(TypeError, match="`factory` must be callable"):
        register_model("not callable", "EfficientNetLite0")


# ---------------------------------------------------------------------------------------------- batched == one by one
def _build(kind: str, request) -> Model:
    if kind == "bundled":
        return request.getfixturevalue("efficientnet")
    if kind == "pt2":
        return load_model_file(request.getfixturevalue("pt2_file"), input_size=40, batch_size=2)
    if kind == "torchscript":
        return load_model_file(request.getfixturevalue("torchscript_file"), input_size=(40, 40), batch_size=3)
    if kind == "convmixer":
        return load_model_file(request.getfixturevalue("convmixer_file"), batch_size=2)
    model, preprocess, tokenizer, _ = request.getfixturevalue("tiny_clip")
    output = "probability" if kind == "clip probability" else "similarity"
    return ClipZeroShot.from_open_clip(model, preprocess, tokenizer, CLASSES, output=output, batch_size=2)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["bundled", "pt2", "torchscript", "convmixer", "clip probability", "clip similarity"])
def test_batched_equals_one_by_one(kind, request, images):
    model = _build(kind, request)
    batched = model.predict(images)
    single = np.concatenate([model.predict([image]) for image in images])
    assert batched.shape == (len(images), len(model.output_names)) and batched.dtype == np.float32
    np.testing.assert_allclose(batched, single, atol=1e-5, rtol=0)
    assert isinstance(model, Model) and model.predict([]).shape == (0, len(model.output_names))
    # the images differ, so rows differ: a model ignoring its input would pass the equality above
    assert np.ptp(batched, axis=0).max() > 1e-4


# ---------------------------------------------------------------------------------------------- model files
def _reference(network: nn.Module, images, size, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)):
    with torch.no_grad():
        return torch.softmax(network(ResizeNormalize(size, mean, std)(images)), dim=1).numpy()


def test_pt2_round_trip_gives_the_original_outputs(pt2_file, tiny_net, images):
    assert detect_format(pt2_file) == "pt2"
    model = load_model_file(pt2_file, input_size=(40, 40))
    assert model.name == "tiny.pt2" and model.output_names == ["class 0", "class 1", "class 2"]
    np.testing.assert_allclose(model.predict(images), _reference(tiny_net, images, (40, 40)), atol=1e-5, rtol=0)


def test_pt2_with_static_shapes_sets_input_size_and_pads_batches(tmp_path, tiny_net, images):
    path = tmp_path / "static.pt2"
    torch.export.save(torch.export.export(tiny_net, (torch.randn(1, 3, 24, 36),)), path)
    model = load_model_file(path, class_names=["a", "b", "c"], batch_size=4)
    assert model.transform.size == (24, 36) and model.fixed_batch_size == 1
    np.testing.assert_allclose(model.predict(images), _reference(tiny_net, images, (24, 36)), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match=r"does not match the exported model's fixed input size \(24, 36\)"):
        load_model_file(path, input_size=(40, 40))


@pytest.mark.parametrize("compile_with", ["trace", "script"])
def test_torchscript_round_trip_gives_the_original_outputs(compile_with, tmp_path, tiny_net, images):
    path = tmp_path / f"tiny_{compile_with}.ts"
    compiled = torch.jit.trace(tiny_net, torch.randn(1, 3, 32, 32)) if compile_with == "trace" else torch.jit.script(tiny_net)
    torch.jit.save(compiled, path)
    assert detect_format(path) == "torchscript"
    mean, std = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)
    model = load_model_file(path, input_size=32, mean=mean, std=std, name="mine")
    assert model.name == "mine"
    np.testing.assert_allclose(model.predict(images), _reference(tiny_net, images, (32, 32), mean, std), atol=1e-5, rtol=0)


def test_outputs_that_already_are_probabilities_are_not_softmaxed_again(tmp_path, images):
    network = _tiny_net(final_softmax=True)
    path = tmp_path / "probabilities.pt"
    torch.jit.save(torch.jit.trace(network, torch.randn(1, 3, 32, 32)), path)
    with torch.no_grad():
        expected = network(ResizeNormalize(32)(images)).numpy()
    np.testing.assert_allclose(load_model_file(path, input_size=32).predict(images), expected, atol=1e-6)
    forced = load_model_file(path, input_size=32, apply_softmax=True).predict(images)
    np.testing.assert_allclose(forced, torch.softmax(torch.as_tensor(expected), 1).numpy(), atol=1e-6)
    raw = load_model_file(path, input_size=32, apply_softmax=False)
    assert raw.output_kind == "similarity"


def test_class_name_count_must_match_the_outputs(pt2_file):
    with pytest.raises(ValueError, match=r"`class_names` has 2 names but model file 'tiny.pt2' returns 3 outputs"):
        load_model_file(pt2_file, input_size=40, class_names=["cat", "dog"])
    model = load_model_file(pt2_file, input_size=40, class_names=["cat", "dog", "bird"])
    assert model.output_names == ["cat", "dog", "bird"]
    with pytest.raises(ValueError, match="`class_names` must be unique"):
        load_model_file(pt2_file, input_size=40, class_names=["cat", "cat", "bird"])


class _FeatureMap(nn.Module):
    def forward(self, x):
        return x * 2  # (n, 3, h, w): not one row of scores per image


class _NoOutputs(nn.Module):
    def forward(self, x):
        return x.mean(dim=(1, 2, 3))[:, None][:, :0]  # (n, 0); one output is a binary classifier, see test_binary_models


@pytest.mark.parametrize(
    "module, message",
    [(_FeatureMap(), r"returned outputs of shape \(3, 3, 16, 16\)"), (_NoOutputs(), "returns 0 output per image")],
)
def test_outputs_of_the_wrong_shape_are_refused(module, message, tmp_path):
    path = tmp_path / "odd.pt"
    torch.jit.save(torch.jit.script(module), path)
    with pytest.raises(ValueError, match=rf"model file 'odd.pt' {message}") as caught:
        load_model_file(path, input_size=16)
    # Named once, and without advice about the input size, which cannot mend an output's shape.
    assert str(caught.value).count("odd.pt") == 1 and "input_size" not in str(caught.value)


class _Payload:
    """Unpickling this creates ``marker``: a harmless stand-in for code an attacker would run."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    # the payload is live: an ordinary unpickler runs it
    control = tmp_path / "control_marker"
    pickle.loads(pickle.dumps(_Payload(control)))
    assert control.exists()

    marker = tmp_path / "marker"
    saved = tmp_path / "evil_checkpoint.pth"
    torch.save({"paras": {"dim": 8}, "state_dict": {}, "x": _Payload(marker)}, saved)
    legacy = tmp_path / "evil_legacy.pth"
    torch.save({"paras": {}, "state_dict": _Payload(marker)}, legacy, _use_new_zipfile_serialization=False)
    bare = tmp_path / "evil_bare.pkl"
    bare.write_bytes(pickle.dumps(_Payload(marker)))
    for path in (saved, legacy, bare):
        with pytest.raises(ValueError, match=rf"'{path.name}' was refused: loading it would run code .*it would call \S*open"):
            load_model_file(path)
        with pytest.raises(ValueError, match="refused"):
            load_convmixer(path)
        assert not marker.exists()


@pytest.mark.parametrize("where", ["sample inputs", "opaque constant", "renamed, protocol 0"])
def test_a_pt2_with_a_code_running_entry_is_refused(where, tmp_path, pt2_file):
    marker = tmp_path / "marker"
    buffer = io.BytesIO()
    torch.save((_Payload(marker),), buffer)
    evil = tmp_path / "evil.pt2"
    with zipfile.ZipFile(pt2_file) as source, zipfile.ZipFile(evil, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if where == "sample inputs" and item.filename.endswith("sample_inputs/model.pt"):
                data = buffer.getvalue()
            if where == "renamed, protocol 0" and item.filename.endswith("sample_inputs/model.pt"):
                # A hostile-input audit's file: no 0x80 to tell the pickle by, no ".pt" to tell it by case, yet
                # torch's reader finds it and, failing to read it weights-only, unpickled it in full.
                item.filename, data = item.filename[:-8] + "MODEL.PT", pickle.dumps(_Payload(marker), protocol=0)
            if where == "opaque constant" and item.filename.endswith("constants/model_constants_config.json"):
                # torch.export.load would pass this entry to pickle.loads
                data = json.dumps({"config": {"c": {"path_name": "opaque_obj_0", "use_pickle": True}}}).encode()
                folder = item.filename.rsplit("/", 1)[0]
                target.writestr(f"{folder}/opaque_obj_0", pickle.dumps(_Payload(marker)))
            target.writestr(item, data)
    # the payload is live: torch.export.load unpickles sample inputs without restriction when the
    # weights-only attempt fails
    control = tmp_path / "control_marker"
    buffer_control = io.BytesIO()
    torch.save((_Payload(control),), buffer_control)
    torch.load(io.BytesIO(buffer_control.getvalue()), weights_only=False)
    assert control.exists()

    with pytest.raises(ValueError, match="'evil.pt2' was refused: .*run code"):
        load_model_file(evil, input_size=40)
    assert not marker.exists()


def test_a_torchscript_file_whose_pickle_would_run_code_is_called_refused(tmp_path, torchscript_file):
    """TorchScript's own unpickler refuses a callable; the message said "torch.jit.load failed (RuntimeError:
    builtins.open)" as if the file were damaged."""
    marker = tmp_path / "marker"
    evil = tmp_path / "evil_ts.pt"
    with zipfile.ZipFile(torchscript_file) as source, zipfile.ZipFile(evil, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, pickle.dumps(_Payload(marker)) if item.filename.endswith("/data.pkl") else data)
    with pytest.raises(ValueError, match=r"'evil_ts.pt' was refused: loading it would run code .*open"):
        load_model_file(evil, input_size=40)
    assert not marker.exists()


def test_a_pt2_with_entries_that_differ_only_in_case_is_refused(tmp_path, pt2_file):
    twice = tmp_path / "twice.pt2"
    with zipfile.ZipFile(pt2_file) as source, zipfile.ZipFile(twice, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)  # before writestr moves the shared record's offset
            target.writestr(item, data)
            if item.filename.endswith("sample_inputs/model.pt"):
                target.writestr(item.filename[:-8] + "Model.pt", data)
    with pytest.raises(ValueError, match="'twice.pt2'.*differ only in case"):
        load_model_file(twice, input_size=40)


def _jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    _photo_like(9, (32, 32)).save(buffer, "JPEG")
    return buffer.getvalue()


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "not a model")
    return buffer.getvalue()


def _safetensors_bytes() -> bytes:
    from safetensors.torch import save

    return save({"weight": torch.zeros(2, 2)})


def _safetensors_like_a_pickle() -> bytes:
    """A safetensors file whose header length begins with 0x80, the pickle protocol's first byte."""
    header = b'{"__metadata__":{"pad":"' + b"x" * (128 - 27) + b'"}}'
    assert len(header) == 128
    return (128).to_bytes(8, "little") + header


@pytest.mark.parametrize(
    "file_name, content, message",
    [
        ("photo.pt2", _jpeg_bytes, "it is an image, not a model"),
        ("empty.pt2", lambda: b"", "the file is empty"),
        ("noise.pt", lambda: np.random.default_rng(0).bytes(4096), "the content is not a torch model file"),
        ("archive.pt2", _zip_bytes, "zip archive but none written by torch"),
        ("weights.pth", None, "a state_dict without its architecture"),
        ("truncated.pth", "truncated", "the zip archive is damaged or truncated"),
        ("bad_pickle.pth", lambda: b"\x80\x02" + np.random.default_rng(1).bytes(64), "cannot be read"),
        ("weights.safetensors", _safetensors_bytes, "it is a safetensors file, weights without the network"),
        ("padded.safetensors", _safetensors_like_a_pickle, "it is a safetensors file, weights without the network"),
    ],
)
def test_wrong_files_are_refused_with_the_accepted_formats(file_name, content, message, tmp_path, tiny_net):
    path = tmp_path / file_name
    if content is None:
        torch.save(tiny_net.state_dict(), path)
    elif content == "truncated":
        torch.save(tiny_net.state_dict(), path)
        path.write_bytes(path.read_bytes()[:300])
    else:
        path.write_bytes(content())
    with pytest.raises(ValueError) as caught:
        load_model_file(path)
    text = str(caught.value)
    assert f"model file {file_name!r}" in text and message in text
    assert "accepted formats: a .pt2 file written by torch.export.save" in text and "TorchScript" in text
    assert "ConvMixer checkpoint" in ACCEPTED_FORMATS


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"model file '.*nothing.pt2' does not exist"):
        load_model_file(tmp_path / "nothing.pt2")


# ---------------------------------------------------------------------------------------------- ConvMixer
def test_tiny_convmixer_checkpoint_loads_with_the_authors_preprocessing(convmixer_file, images):
    model = load_convmixer(convmixer_file)
    assert model.output_names == ["cat", "dog"] and model.transform.size == (128, 128)
    assert model.transform.mean == (0.5, 0.5, 0.5) and model.transform.std == (0.5, 0.5, 0.5)
    checkpoint = torch.load(convmixer_file, weights_only=True)
    network = conv_mixer(**checkpoint["paras"])
    network.load_state_dict(checkpoint["state_dict"])
    expected = _reference(network.eval(), images, (128, 128), (0.5,) * 3, (0.5,) * 3)
    np.testing.assert_allclose(model.predict(images), expected, atol=1e-5, rtol=0)
    assert load_model_file(convmixer_file, class_names=["a", "b"]).output_names == ["a", "b"]


@pytest.mark.skipif(not AUTHORS.is_dir(), reason="the authors' reference files are not available")
@pytest.mark.parametrize("variant", ["unbiased", "dark-cats-bias", "dark-dogs-bias"])
def test_authors_checkpoints_load_strictly(variant):
    path = AUTHORS / f"convmixer_{variant}.pth"
    checkpoint = torch.load(path, weights_only=True)
    assert set(conv_mixer(**checkpoint["paras"]).state_dict()) == set(checkpoint["state_dict"])
    model = load_convmixer(path)
    assert model.name == f"convmixer_{variant}.pth" and model.output_names == ["cat", "dog"]


@pytest.mark.skipif(not AUTHORS.is_dir(), reason="the authors' reference files are not available")
def test_unbiased_authors_convmixer_tells_cats_from_dogs():
    from propgrad.images import load_image

    model = load_convmixer(AUTHORS / "convmixer_unbiased.pth")
    names = ["cat_001.jpg", "cat_002.jpg", "dog_001.jpg", "dog_002.jpg"]
    probabilities = model.predict([load_image(AUTHORS / name) for name in names])
    # measured: cat 1.00, 0.85; dog 1.00, 0.95
    assert probabilities[0, 0] > 0.9 and probabilities[1, 0] > 0.7
    assert probabilities[2, 1] > 0.9 and probabilities[3, 1] > 0.8


# ---------------------------------------------------------------------------------------------- CLIP
def test_clip_probabilities_sum_prompt_softmax_per_class(tiny_clip, images):
    model, preprocess, tokenizer, _ = tiny_clip
    probability = ClipZeroShot.from_open_clip(model, preprocess, tokenizer, CLASSES)
    similarity = ClipZeroShot.from_open_clip(model, preprocess, tokenizer, CLASSES, output="similarity")
    p, s = probability.predict(images), similarity.predict(images)
    assert probability.output_names == ["cat", "dog", "car"] and probability.output_kind == "probability"
    assert similarity.output_names[:2] == ["cat: a photo of a cat", "cat: a cat"] and len(similarity.output_names) == 6
    assert similarity.output_kind == "similarity"
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert (s >= -1 - 1e-6).all() and (s <= 1 + 1e-6).all()
    # independent computation: softmax over all six prompts, then sum per class
    scale = float(model.logit_scale.exp())
    weights = np.exp(scale * s - (scale * s).max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    expected = np.stack([weights[:, :3].sum(1), weights[:, 3:5].sum(1), weights[:, 5]], axis=1)
    np.testing.assert_allclose(p, expected, atol=1e-5)


def test_clip_text_is_embedded_once(tiny_clip, images):
    model, preprocess, tokenizer, _ = tiny_clip
    calls = []

    def counting_tokenizer(texts):
        calls.append(list(texts))
        return tokenizer(texts)

    clip = ClipZeroShot.from_open_clip(model, preprocess, counting_tokenizer, CLASSES)
    clip.predict(images[:2])
    clip.predict(images[2:])
    assert len(calls) == 1 and len(calls[0]) == 6


@pytest.mark.parametrize(
    "classes, error, message",
    [
        ({}, ValueError, "`classes` is empty"),
        ({"cat": []}, ValueError, r"`classes\['cat'\]` has no prompts"),
        ({"cat": ["a cat", "   "]}, ValueError, r"`classes\['cat'\]` has an empty prompt"),
        ([("cat", ["a cat"]), (" cat ", ["a kitten"])], ValueError, "class 'cat' is given twice"),
        ({"  ": ["a cat"]}, ValueError, "class names must be non-empty strings"),
        ({"cat": "a cat"}, TypeError, "not one string"),
        ({"cat": ["a cat", "a cat "]}, ValueError, "twice"),
        ("cat", TypeError, "`classes` must be a dict"),
    ],
)
def test_clip_class_validation_names_the_problem(classes, error, message, tiny_clip):
    model, preprocess, tokenizer, _ = tiny_clip
    with pytest.raises(error, match=message):
        ClipZeroShot.from_open_clip(model, preprocess, tokenizer, classes)
    with pytest.raises(error, match=message):  # validated before any weights are looked for
        ClipZeroShot(classes, pretrained="/no/such/file.pt")


def test_clip_output_must_be_known(tiny_clip):
    model, preprocess, tokenizer, _ = tiny_clip
    with pytest.raises(ValueError, match="`output` must be 'probability' or 'similarity'"):
        ClipZeroShot.from_open_clip(model, preprocess, tokenizer, CLASSES, output="logits")


def test_clip_loads_a_local_checkpoint_path(tiny_clip, images, monkeypatch):
    monkeypatch.delenv("PROPGRAD_CLIP_CHECKPOINT", raising=False)
    model, preprocess, tokenizer, checkpoint = tiny_clip
    loaded = ClipZeroShot(CLASSES, model_name=TINY_CLIP, pretrained=checkpoint, output="similarity")
    direct = ClipZeroShot.from_open_clip(model, preprocess, tokenizer, CLASSES, output="similarity")
    np.testing.assert_allclose(loaded.predict(images), direct.predict(images), atol=1e-5, rtol=0)
    # Loaded once per process: a second model with the same weights shares the network (a refactor had moved the cache
    # onto the helper that names the checkpoint file, and every ClipZeroShot loaded its weights again).
    assert ClipZeroShot(CLASSES, model_name=TINY_CLIP, pretrained=checkpoint)._model is loaded._model
    # A report names the checkpoint by its file and SHA-256, and the architecture by its name.
    described = describe_model(loaded)
    assert described["model_name"] == TINY_CLIP and described["pretrained"] == {
        "file": Path(checkpoint).name, "sha256": hashlib.sha256(Path(checkpoint).read_bytes()).hexdigest()}
    with pytest.raises(ValueError, match="does not fit the architecture"):
        ClipZeroShot(CLASSES, model_name=OTHER_TINY_CLIP, pretrained=checkpoint)


def test_clip_checkpoint_from_the_environment_replaces_the_hub_tag(tiny_clip, images, monkeypatch, tmp_path):
    _, _, _, checkpoint = tiny_clip
    monkeypatch.setenv("PROPGRAD_CLIP_CHECKPOINT", str(checkpoint))
    clip = ClipZeroShot(CLASSES, model_name=TINY_CLIP, pretrained="openai")
    np.testing.assert_allclose(clip.predict(images[:2]).sum(axis=1), 1.0, atol=1e-5)
    monkeypatch.setenv("PROPGRAD_CLIP_CHECKPOINT", str(tmp_path / "missing.bin"))
    with pytest.raises(ModelUnavailableError, match="PROPGRAD_CLIP_CHECKPOINT"):
        ClipZeroShot(CLASSES, model_name=TINY_CLIP, pretrained="openai")


def test_clip_without_weights_says_how_to_provide_them(monkeypatch, tmp_path):
    huggingface_hub = pytest.importorskip("huggingface_hub")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("PROPGRAD_CLIP_CHECKPOINT", raising=False)
    with pytest.raises(ModelUnavailableError) as caught:
        ClipZeroShot(CLASSES, model_name="ViT-B-32", pretrained="openai")
    text = str(caught.value)
    assert "'ViT-B-32'" in text and "'openai'" in text
    assert "pretrained='/path/to/" in text and "PROPGRAD_CLIP_CHECKPOINT" in text
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        ClipZeroShot(CLASSES, pretrained=str(tmp_path / "clip.bin"))
    with pytest.raises(ValueError, match="neither an open_clip tag of 'ViT-B-32'"):
        ClipZeroShot(CLASSES, pretrained="no-such-tag")


def test_the_app_can_tell_whether_clips_default_weights_are_here(monkeypatch, tmp_path):
    """The turntable tab says before a run whether CLIP's default weights are on the server (a run without them
    failed and cleared the tab's answer): the environment's file, else the default tag's file in the hub cache, as
    open_clip would find it, open_clip itself not imported."""
    import open_clip
    from propgrad.models.clip import DEFAULT_WEIGHTS_REPO, default_weights_here

    assert open_clip.get_pretrained_cfg("ViT-B-32", "openai")["hf_hub"].strip("/") == DEFAULT_WEIGHTS_REPO
    monkeypatch.delenv("PROPGRAD_CLIP_CHECKPOINT", raising=False)
    cache = tmp_path / "cache"
    assert not default_weights_here(cache)
    folder = cache / f"models--{DEFAULT_WEIGHTS_REPO.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text("abc123")
    (folder / "snapshots" / "abc123").mkdir(parents=True)
    (folder / "snapshots" / "abc123" / "open_clip_model.safetensors").write_bytes(b"weights")
    assert default_weights_here(cache)
    monkeypatch.setenv("PROPGRAD_CLIP_CHECKPOINT", str(tmp_path / "missing.bin"))
    assert not default_weights_here(cache)  # the environment's file is the one that would load
    (tmp_path / "clip.bin").write_bytes(b"weights")
    monkeypatch.setenv("PROPGRAD_CLIP_CHECKPOINT", str(tmp_path / "clip.bin"))
    assert default_weights_here(tmp_path / "empty")


def test_a_greyscale_network_is_told_it_gets_rgb(tmp_path):
    # "RuntimeError: RuntimeError: ...; check `input_size`" sent its owner to the wrong setting.
    path = tmp_path / "grey.pt"
    torch.jit.script(nn.Sequential(nn.Conv2d(1, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten()).eval()).save(str(path))
    with pytest.raises(ValueError) as caught:
        load_model_file(path, input_size=(32, 32))
    message = str(caught.value)
    assert "RuntimeError: RuntimeError" not in message
    assert "the network takes 1-channel images and propgrad gives it RGB" in message
    assert "check `input_size`" not in message


class _TooDark(nn.Module):
    """A network that refuses dark images, as a user's model may."""

    def forward(self, x):
        if x.mean() < 10:
            raise RuntimeError("too dark for me")
        return x.mean((2, 3))[:, :2]


def test_a_network_that_raises_is_named_with_its_own_error_in_one_line(tmp_path):
    """TorchScript's message is its whole traceback: the command line printed its first line only ("error: Error: The
    following operation failed in the TorchScript interpreter."), without the model's reason."""
    path = tmp_path / "picky.pt"
    torch.jit.script(_TooDark()).save(str(path))
    with pytest.raises(ValueError) as caught:
        load_model_file(path, input_size=(16, 16), class_names=["a", "b"])
    message = str(caught.value)
    assert "\n" not in message and message.startswith("model file 'picky.pt' failed on plain grey, black and white")
    assert "The following operation failed in the TorchScript interpreter. ... RuntimeError: too dark for me" in message


def test_a_class_name_inside_the_word_typed_is_no_guess():
    from propgrad.errors import near_names

    assert near_names("durian", ["a", "b", "c"]) == []  # it offered 'a'
    assert near_names("tiger cats", ["tiger cat", "tabby"]) == ["tiger cat"]
