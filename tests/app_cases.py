"""What the app's handler tests share: calls of each tab with small defaults, output checks, odd files,
the loopback and public-server fixtures. Test modules import it whole (``from app_cases import *``), so
its fixtures apply there too."""
from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from propgrad.app import parsing, results, settings, shared
from propgrad.app.tabs import dynamics as dynamics_tab
from propgrad.app.tabs import edit as edit_tab
from propgrad.app.tabs import patch as patch_tab
from propgrad.app.tabs import turntable as turntable_tab
from propgrad.lesions.models import example_paths as lesion_examples

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"
CHELSEA = str(ASSETS / "examples" / "chelsea.jpg")
MEAN, STD = "0.485, 0.456, 0.406", "0.229, 0.224, 0.225"
IMAGENET = "EfficientNet-Lite0 (ImageNet)"


@pytest.fixture(autouse=True)
def loopback_server():
    """Handlers called as on an app serving on 127.0.0.1 (where visitors may name the server's folders)."""
    settings.configure_serving("127.0.0.1")
    yield
    settings.configure_serving(None)


def model_args(bundled=(IMAGENET,), files=None, input_size=224, mean=MEAN, std=STD, class_names="",
               outputs="", permutations=2000, alpha=0.01):
    return dict(bundled=list(bundled), files=files, input_size=input_size, mean=mean, std=std,
                class_names=class_names, outputs=outputs, n_permutations=permutations, alpha=alpha)


def patch_call(progress, **overrides):
    args = dict(image=CHELSEA, patch_names=["rainbow disc"], patch_files=None, x=0.5, y=0.5, scale=0.3, steps=4,
                seed=0, **model_args())
    args.update(overrides)
    return patch_tab.run_patch(**args, progress=progress)


def edit_call(progress, **overrides):
    args = dict(image=CHELSEA, instruction="", editor="parametric: brightness", max_guidance=15,
                image_guidance=2.5, steps=4, denoising_steps=20, seeds="0", edit_end=0.2, **model_args())
    args.update(overrides)
    return edit_tab.run_edit(**args, progress=progress)


def turntable_call(progress, **overrides):
    frames = turntable_tab.turntable_frames()[::6]
    args = dict(frames=frames, rotation=360, use_clip=False, classes=turntable_tab.DEFAULT_CLASSES, clip_model="ViT-B-32",
                clip_pretrained="openai", seed=0, **model_args(outputs="coffee mug"))
    args.update(overrides)
    return turntable_tab.run_turntable(**args, progress=progress)


def check_outputs(outputs, n_rows):
    summary, strip, animation, curves, table, null, bundle = outputs
    assert "**Reading:**" in summary and "E[\\|grad_X\u00a0F\\|]" in summary  # the reading, then the one table
    assert len(table) == n_rows
    for row in table:
        assert row[2] >= 0 and 0 < row[3] <= 1
    for path in (strip, curves, null):
        assert Image.open(path).format == "PNG"
    with Image.open(animation) as gif:
        assert gif.format == "GIF" and gif.n_frames >= 3
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        # What the command line's report holds, the change per step (is the series gradual?) included.
        assert {"report.json", "curves.csv", "curves.png", "null.png", "strip.png", "report.html",
                "gradualness.png"} <= names
        report = json.loads(archive.read("report.json"))
    return report


def _corrupt_png(tmp_path: Path, name="broken.png") -> str:
    path = tmp_path / name
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 20)
    return str(path)


def _text_file(tmp_path: Path, name="notes.txt") -> str:
    path = tmp_path / name
    path.write_text("hello")
    return str(path)


def _tiny_image(tmp_path: Path) -> str:
    path = tmp_path / "tiny.png"
    Image.new("RGB", (8, 8), "red").save(path)
    return str(path)


def _bomb(tmp_path: Path) -> str:
    path = tmp_path / "bomb.png"
    Image.new("1", (20000, 10000)).save(path)  # 200 megapixels, a few kB on disk
    return str(path)


def _pickle_bomb(tmp_path: Path) -> str:
    """A .pt file whose unpickling would create a marker file: it must never run."""
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (Path.touch, (marker,))

    path = tmp_path / "evil.pt"
    with path.open("wb") as handle:
        pickle.dump(Exploit(), handle)
    return str(path)


def _frames(tmp_path: Path, n: int) -> list[str]:
    paths = []
    for i in range(n):
        path = tmp_path / f"frame_{i}.png"
        Image.new("RGB", (64, 64), (i * 40, 80, 120)).save(path)
        paths.append(str(path))
    return paths


BAD_CASES = [
    # (id, tab, overrides builder, words the message must contain)
    ("no image", "patch", lambda t: dict(image=None), "image` is missing"),
    ("corrupt image", "patch", lambda t: dict(image=_corrupt_png(t)), "not a readable image"),
    ("text file as image", "edit", lambda t: dict(image=_text_file(t)), "accepted: .png"),
    ("tiny image", "patch", lambda t: dict(image=_tiny_image(t)), "at least 16 px"),
    ("decompression bomb", "patch", lambda t: dict(image=_bomb(t)), "too many pixels"),
    ("decompression bomb as patch", "patch", lambda t: dict(patch_files=[_bomb(t)]), "too many pixels"),
    ("ambiguous class name", "edit", lambda t: dict(**model_args(outputs="CARDIGAN")), "exact spelling"),
    ("huge seed", "edit", lambda t: dict(seeds=str(2**70)), "seeds"),
    ("text edit end value", "edit", lambda t: dict(edit_end="abc"), "edit end value"),
    ("no patches", "patch", lambda t: dict(patch_names=[], patch_files=None), "`patches` is empty"),
    ("unknown patch", "patch", lambda t: dict(patch_names=["no such patch"]), "`patches` must be one of"),
    ("patch is a pdf", "patch", lambda t: dict(patch_files=[_text_file(t, "patch.pdf")]), "patch upload"),
    ("corrupt patch", "patch", lambda t: dict(patch_names=[], patch_files=[_corrupt_png(t, "p.png")]), "patch upload"),
    ("too few steps", "patch", lambda t: dict(steps=2), "number of steps"),
    ("too many steps", "edit", lambda t: dict(steps=500), "number of steps"),
    ("patch off the image", "patch", lambda t: dict(x=1.5), "patch x"),
    ("zero-size patch", "patch", lambda t: dict(scale=0), "patch scale"),
    ("seeds not numbers", "edit", lambda t: dict(seeds="one, two"), "`seeds`"),
    ("seeds empty", "edit", lambda t: dict(seeds="  "), "`seeds` is empty"),
    ("no editor", "edit", lambda t: dict(editor=None), "`editor` is empty"),
    ("unknown editor", "edit", lambda t: dict(editor="sepia"), "`editor` must be one of"),
    ("empty instruction", "edit", lambda t: dict(editor="InstructPix2Pix (instruction)", instruction="  "),
     "`instruction` is empty"),
    ("edit does not change", "edit", lambda t: dict(editor="parametric: brightness", edit_end=1.0), "would not change"),
    ("negative brightness", "edit", lambda t: dict(edit_end=-2), "at least 0"),
    ("two frames", "turntable", lambda t: dict(frames=_frames(t, 2)), "at least 3 frames"),
    ("no frames", "turntable", lambda t: dict(frames=None), "at least 3 frames"),
    ("frames are text", "turntable", lambda t: dict(frames=[_text_file(t, f"f{i}.txt") for i in range(3)]),
     "`frames`"),
    ("corrupt frame", "turntable", lambda t: dict(frames=_frames(t, 3) + [_corrupt_png(t, "frame_9.png")]),
     "not a readable image"),
    ("clip classes empty", "turntable", lambda t: dict(use_clip=True, classes=""), "`CLIP classes` is empty"),
    ("clip one class", "turntable", lambda t: dict(use_clip=True, classes="mug: a mug"), "at least two classes"),
    ("no models", "patch", lambda t: dict(bundled=[], files=None), "choose at least one"),
    ("unknown bundled model", "patch", lambda t: dict(bundled=["GPT-9"]), "`models` must be one of"),
    ("model file wrong type", "patch", lambda t: dict(files=[_text_file(t, "model.pkl")]), "accepted: .pt2"),
    ("model file corrupt", "patch", lambda t: dict(files=[_corrupt_png(t, "model.pt2")]), "model.pt2"),
    ("pickled model refused", "patch", lambda t: dict(files=[_pickle_bomb(t)]), "evil.pt"),
    ("mean not numbers", "patch", lambda t: dict(files=["x.pt"], mean="red, green"), "`mean`"),
    ("std zero", "patch", lambda t: dict(files=["x.pt"], std="0, 0, 0"), "`std` must be positive"),
    ("input size silly", "patch", lambda t: dict(files=["x.pt"], input_size=3), "input size"),
    ("all of 1000 classes", "patch", lambda t: dict(outputs="all"), "'all' would score all 1000"),
    ("alpha above one", "patch", lambda t: dict(alpha=2), "`alpha`"),
    ("too few permutations", "patch", lambda t: dict(n_permutations=5), "`permutations`"),
    ("rotation negative", "turntable", lambda t: dict(rotation=-90), "total rotation"),
    ("hub id not cached", "patch", lambda t: dict(hub_ids="google/vit-base-patch16-224"), "not in the local hub cache"),
    ("hub folder missing", "edit", lambda t: dict(hub_ids=str(t / "no-model")), "no such folder"),
    ("hub id not an id", "turntable", lambda t: dict(hub_ids="what is this?"), "neither a hub id"),
    ("outputs are nonsense", "patch", lambda t: dict(files=["x.pt"], outputs_are="odds"), "`outputs are`"),
    ("too many hub models", "patch", lambda t: dict(hub_ids="a/b, c/d, e/f, g/h, i/j"), "at most 4"),
]


AUTHORS = Path(__file__).resolve().parents[2] / "shared" / "third_party" / "propgrad-authors"


class _Outputs:
    def __init__(self, name, outputs):
        self.name, self.output_names = name, outputs


IMAGENET_LIKE = _Outputs("ImageNet", ["tabby, tabby cat", "tiger cat", "Egyptian cat", "lynx, catamount"])


PETS = _Outputs("pets", ["cat", "dog"])


LONG = "x" * 5000


TEXT_BOXES = [
    # (tab, argument, the box's name in the message, single-line?, extra arguments that make the box read)
    ("edit", "instruction", "instruction", True, dict(editor="InstructPix2Pix (instruction)")),
    ("edit", "seeds", "seeds", True, {}),
    ("patch", "outputs", "outputs of interest", False, {}),
    ("patch", "hub_ids", "hub classifiers", False, {}),
    ("patch", "mean", "mean", True, "upload"),
    ("patch", "std", "std", True, "upload"),
    ("patch", "class_names", "class names", False, "upload"),
    ("patch", "outputs_are", "uploaded models return", True, "upload"),
    ("turntable", "classes", "classes", False, dict(use_clip=True)),
    ("turntable", "clip_model", "open_clip model", True, dict(use_clip=True)),
    ("turntable", "clip_pretrained", "CLIP pretrained tag or checkpoint path", True, dict(use_clip=True)),
]


CALLS = {"patch": patch_call, "edit": edit_call, "turntable": turntable_call}


def _text_cases():
    for tab, argument, box, single_line, extra in TEXT_BOXES:
        # Class names take ImageNet's thousand (parsing.MAX_NAMES_TEXT); every other box 2,000 characters.
        long = "x" * (parsing.MAX_NAMES_TEXT + 1) if argument == "class_names" else LONG
        yield pytest.param(tab, argument, box, extra, long, "characters long", id=f"{argument}-too-long")
        yield pytest.param(tab, argument, box, extra, "a\x00b", "control character", id=f"{argument}-nul")
        yield pytest.param(tab, argument, box, extra, "a\x1bb", "control character", id=f"{argument}-escape")
        if single_line:
            yield pytest.param(tab, argument, box, extra, "a\nb", "line break", id=f"{argument}-newline")
        yield pytest.param(tab, argument, box, extra, ["a", "list"], "must be text", id=f"{argument}-list")


NUMBER_BOXES = [("patch", "x", "patch x"), ("patch", "y", "patch y"), ("patch", "scale", "patch scale"),
                ("patch", "steps", "number of steps"), ("patch", "seed", "seed"), ("patch", "n_permutations",
                "permutations"), ("patch", "alpha", "alpha"), ("edit", "edit_end", "edit end value"),
                ("turntable", "rotation", "total rotation")]


@pytest.fixture()
def public_server(monkeypatch):
    """The app as served on all interfaces: visitors are not this machine's users."""
    monkeypatch.delenv(settings.ALLOW_LOCAL_PATHS_ENV, raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    settings.configure_serving("0.0.0.0")
    yield


AUTHORS_MODELS = [name for name in shared.bundled_names() if "(authors)" in name]


def _painted(stroke: bool):
    layer = np.zeros((300, 451, 4), dtype=np.uint8)
    if stroke:
        layer[100:200, 150:300] = (255, 0, 255, 255)
    return {"background": None, "layers": [layer], "composite": None}


def _broken_zip(folder: Path) -> Path:
    path = folder / "broken.zip"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    return path


# Everything, the underscored helpers and the fixtures included, for the test modules' star import.
__all__ = [name for name in dir() if not name.startswith("__")]
