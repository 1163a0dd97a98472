"""What every tab takes: uploaded and hub models, odd images, and bad input of every box, each named.

Every bad input must end in a ``gr.Error`` whose message says what was wrong (never a traceback, never a
generic message); the odd-but-valid images (greyscale, RGBA, 16-bit, huge) must simply work."""
from __future__ import annotations

import pytest

from app_cases import *  # noqa: F403  (helpers and fixtures)

pytestmark = pytest.mark.slow  # runs models or a server end to end: seconds each


def test_uploaded_torchscript_runs_side_by_side(progress, tiny_torchscript):
    outputs = patch_call(progress, **model_args(files=[str(tiny_torchscript)], input_size=64,
                                                            class_names="red, green, blue"))
    models = [row[0] for row in outputs[4]]
    assert models == [IMAGENET, "tiny.pt (uploaded)"]
    assert outputs[4][1][1] in {"red", "green", "blue"}


def test_a_one_logit_upload_said_to_return_logits(progress, tmp_path):
    import torch

    class RedLogit(torch.nn.Module):  # 0.5 on grey probes, so "auto" would take it for a probability
        def forward(self, x):
            return 0.5 + 50 * (x[:, 0] - x[:, 1]).mean(dim=(1, 2))[:, None]

    path = tmp_path / "red.pt"
    torch.jit.save(torch.jit.trace(RedLogit(), torch.rand(2, 3, 32, 32)), path)
    arguments = dict(bundled=[], files=[str(path)], input_size=32, mean="0, 0, 0", std="1, 1, 1", class_names="red",
                     outputs="all")
    outputs = patch_call(progress, **arguments, outputs_are="logits")
    assert [row[:2] for row in outputs[4]] == [["red.pt (uploaded)", "not red"], ["red.pt (uploaded)", "red"]]
    assert outputs[4][0][2] == pytest.approx(outputs[4][1][2])  # |d(1 - p)| = |dp|
    with pytest.raises(gr.Error, match="'Uploaded models return: logits' in the app, --outputs-are logits on the command"):
        patch_call(progress, **arguments, outputs_are="auto")


def test_a_one_output_upload_read_as_a_probability_says_so(progress, tmp_path):
    """A one-logit model whose outputs stayed inside [0, 1] was read as a probability by "auto", and nothing said so:
    the upload's line, the run's notes and the report's guide now do."""
    import torch

    class Bounded(torch.nn.Module):  # inside [0, 1] on the probes and on the image: a logit "auto" cannot tell apart
        def forward(self, x):
            return 0.3 + 0.2 * x[:, 0].mean(dim=(1, 2))[:, None]

    path = tmp_path / "bounded.pt"
    torch.jit.save(torch.jit.trace(Bounded(), torch.rand(2, 3, 32, 32)), path)
    ready = shared.check_uploaded_models([str(path)], 32, "0, 0, 0", "1, 1, 1", "cat", "auto")
    assert "its single output is read as a probability" in ready and "say so: 'Uploaded models return: logits' in the app" in ready
    outputs = patch_call(progress, **model_args(bundled=[], files=[str(path)], input_size=32, mean="0, 0, 0",
                                                std="1, 1, 1", class_names="cat", outputs="cat"))
    summary, bundle = outputs[0], outputs[-1]
    assert "bounded.pt (uploaded)'s single output was read as a probability ('auto'" in summary
    with zipfile.ZipFile(bundle) as archive:
        page = archive.read("report.html").decode()
    guide = page[page.index('<h2 id="guide">'):]
    assert "bounded.pt (uploaded)" in guide and "your own TorchScript model (bounded.pt)" in guide
    # The Python API says it among the explanation's notes too, which the command line and a study print.
    from propgrad import ParametricEdit, explain
    from propgrad.models.files import load_model_file

    model = load_model_file(path, input_size=32, mean=(0, 0, 0), std=(1, 1, 1), class_names=["cat"])
    result = explain(Image.new("RGB", (32, 32), (90, 90, 90)), ParametricEdit("darken", steps=4), model,
                     n_permutations=20)
    assert any(note.startswith("bounded.pt's single output was read as a probability") for note in result.notes)


def test_a_thousand_class_names_are_accepted(tmp_path):
    """ImageNet's names are 11,486 characters; the box took 2,000 (the command line reads a file)."""
    from propgrad.app.model_inputs import build_models, uploaded_settings
    from propgrad.models.spec import ModelSpec

    import torch

    class Thousand(torch.nn.Module):
        def forward(self, x):
            return x.mean(dim=(1, 2, 3))[:, None].repeat(1, 1000)

    path = tmp_path / "thousand.pt"
    torch.jit.save(torch.jit.trace(Thousand(), torch.rand(2, 3, 32, 32)), path)
    names = "\n".join(f"a rather long class name number {k}" for k in range(1000))
    assert len(names) > 30_000
    model, = build_models(ModelSpec(**uploaded_settings([str(path)], input_size=32, mean="", std="",
                                                        class_names=names, outputs_are="auto")))
    assert model.output_names[999] == "a rather long class name number 999"


def test_hub_classifier_from_a_folder_runs_side_by_side(progress, tiny_vit_folder):
    outputs = patch_call(progress, bundled=[], outputs="all",
                         hub_ids=f"{tiny_vit_folder}\n{tiny_vit_folder}")  # named twice: one model
    # Ranked by what each output did, as every table is.
    assert sorted((row[0], row[1]) for row in outputs[4]) == [(str(tiny_vit_folder), name) for name in ("cat", "dog", "fox")]
    for row in outputs[4]:
        assert row[2] >= 0 and 0 < row[3] <= 1


@pytest.mark.parametrize("kind", ["grayscale", "rgba", "uint16", "huge", "palette"])
def test_odd_but_valid_images_work(progress, tiny_torchscript, tmp_path, kind):
    rng = np.random.default_rng(0)
    if kind == "grayscale":
        image = Image.fromarray(rng.integers(0, 255, (60, 80), dtype=np.uint8), "L")
    elif kind == "rgba":
        image = Image.fromarray(rng.integers(0, 255, (60, 80, 4), dtype=np.uint8), "RGBA")
    elif kind == "uint16":
        image = Image.fromarray(rng.integers(0, 65535, (60, 80), dtype=np.uint16))
    elif kind == "palette":
        image = Image.fromarray(rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)).convert("P")
    else:
        image = Image.new("RGB", (5000, 3000), (120, 60, 30))
    path = tmp_path / f"{kind}.png"
    image.save(path)
    outputs = patch_call(progress, image=str(path), steps=3,
                         **model_args(bundled=(), files=[str(tiny_torchscript)], input_size=32))
    assert len(outputs[4]) == 1


@pytest.mark.parametrize("case", BAD_CASES, ids=[case[0] for case in BAD_CASES])
def test_bad_input_gives_a_clear_error(progress, tmp_path, case):
    _, tab, build, words = case
    call = {"patch": patch_call, "edit": edit_call, "turntable": turntable_call}[tab]
    with pytest.raises(gr.Error) as caught:
        call(progress, **build(tmp_path))
    message = caught.value.message
    assert words.lower() in message.lower(), message
    assert "Traceback" not in message and shared.GENERIC_ERROR != message
    assert not (tmp_path / "pwned").exists()


def test_unexpected_errors_are_logged_and_shown_generically(progress, monkeypatch, caplog):
    def boom(*args, **kwargs):
        raise RuntimeError("internal detail")

    monkeypatch.setattr(results, "show", boom)
    with pytest.raises(gr.Error) as caught:
        patch_call(progress, **model_args(permutations=1000))
    assert caught.value.message == shared.GENERIC_ERROR
    assert "internal detail" in caplog.text


def test_a_call_the_code_got_wrong_is_no_box_to_change(progress, monkeypatch, caplog):
    """A TypeError from the interpreter (here a wrong call, as a half-edited server made) was shown as "Cannot run:
    show() takes ... arguments" under "the message says which box to change", and never logged: it is an internal
    error, logged with its traceback; a TypeError a check raises still names its box."""
    def miscalled(*args, **kwargs):
        return len(1, 2)

    monkeypatch.setattr(results, "show", miscalled)
    with pytest.raises(gr.Error) as caught:
        patch_call(progress, **model_args(permutations=1000))
    assert caught.value.message == shared.GENERIC_ERROR
    assert "len() takes exactly one argument" in caplog.text and "Traceback" in caplog.text

    def refused(*args, **kwargs):
        raise TypeError("`steps` must be an integer")

    monkeypatch.setattr(results, "show", refused)
    with pytest.raises(gr.Error) as caught:
        patch_call(progress, **model_args(permutations=1000))
    assert caught.value.message != shared.GENERIC_ERROR and "must be an integer" in caught.value.message


@pytest.mark.skipif(not AUTHORS.is_dir(), reason="the authors' checkpoints are not in ../shared")
def test_uploaded_convmixer_with_blank_preprocessing_uses_its_own(progress):
    """Blank size/mean/std take the checkpoint's 128 px and 0.5 statistics: the cat stays a cat."""
    outputs = edit_call(progress, image=str(AUTHORS / "cat_001.jpg"), steps=3, edit_end=0.9,
                        **model_args(bundled=(), files=[str(AUTHORS / "convmixer_unbiased.pth")], input_size=None,
                                     mean="", std=""))
    row = outputs[4][0]
    assert row[0] == "convmixer_unbiased.pth (uploaded)" and row[1] == "cat"


def test_outputs_named_by_some_models_fall_back_with_a_note_for_the_others():
    selection, notes = parsing.select_outputs([IMAGENET_LIKE, PETS], "tiger cat, dog")
    assert selection == {"ImageNet": ["tiger cat"], "pets": ["dog"]}
    assert notes == ["ImageNet has no output 'dog'; skipped for it.", "pets has no output 'tiger cat'; skipped for it."]
    selection, notes = parsing.select_outputs([IMAGENET_LIKE, PETS], "cat")
    assert selection == {"ImageNet": None, "pets": ["cat"]}
    assert notes == ["ImageNet has no output 'cat'; scored its predicted class instead."]


def test_class_names_with_commas_stay_whole():
    selection, _ = parsing.select_outputs([IMAGENET_LIKE], "Tabby, tabby cat, lynx, catamount")
    assert selection == {"ImageNet": ["tabby, tabby cat", "lynx, catamount"]}


@pytest.mark.parametrize("text, message", [
    ("tabby cat", r"no model has an output 'tabby cat' \(closest: 'tabby, tabby cat'"),
    ("dog, dgo", r"no model has an output 'dgo' \(closest: 'dog'\)"),
    ("all, cat", r"'all' scores every output; give it alone"),
])
def test_outputs_no_model_has_are_errors_with_the_closest_names(text, message):
    with pytest.raises(ValueError, match=message):
        parsing.select_outputs([IMAGENET_LIKE, PETS], text)


def test_a_class_the_model_lacks_gets_no_far_fetched_suggestion():
    """ImageNet has no giraffe; difflib's default cutoff offered 'pirate' for it."""
    from propgrad.models.imagenet_classes import IMAGENET_CATEGORIES

    imagenet = _Outputs("ImageNet", list(IMAGENET_CATEGORIES))  # noqa: F405
    with pytest.raises(ValueError) as giraffe:
        parsing.select_outputs([imagenet], "giraffe")
    assert "closest" not in str(giraffe.value)
    with pytest.raises(ValueError, match=r"'zebar' \(closest: 'zebra'\)"):
        parsing.select_outputs([imagenet], "zebar")


def test_a_misspelt_output_stops_the_run_in_the_app(progress):
    with pytest.raises(gr.Error, match=r"no model has an output 'zebra-cat'.*leave it empty"):
        patch_call(progress, outputs="zebra-cat")


def test_an_emptied_input_size_box_means_from_the_file(progress, tiny_torchscript):
    # Browsers send 0 for a number box the user cleared.
    outputs = patch_call(progress, **model_args(bundled=[], files=[str(tiny_torchscript)], input_size=0))
    assert outputs[4][0][0] == "tiny.pt (uploaded)"


@pytest.mark.parametrize("tab, argument, box, extra, value, words", list(_text_cases()))
def test_every_text_box_refuses_odd_text_by_name(progress, tiny_torchscript, monkeypatch, tab, argument, box, extra,
                                                 value, words):
    if extra == "upload":
        extra = dict(files=[str(tiny_torchscript)], bundled=[])
    if argument == "instruction":  # the box is read only when the editor's weights exist
        monkeypatch.setattr(edit_tab, "instruct_pix2pix_status", lambda: (True, "test"))
    with pytest.raises(gr.Error) as caught:
        CALLS[tab](progress, **{**extra, argument: value})
    message = caught.value.message
    assert f"`{box}`" in message and words in message, message
    assert message != shared.GENERIC_ERROR and len(message) < 600


@pytest.mark.parametrize("value", ["abc", LONG, [1, 2], {"a": 1}, float("nan"), 10**400, "1\x00"],
                         ids=["word", "long", "list", "dict", "nan", "huge", "nul"])
@pytest.mark.parametrize("tab, argument, box", NUMBER_BOXES, ids=[n[1] for n in NUMBER_BOXES])
def test_every_number_box_refuses_what_is_no_number_by_name(progress, tab, argument, box, value):
    with pytest.raises(gr.Error) as caught:
        CALLS[tab](progress, **{argument: value})
    message = caught.value.message
    assert f"`{box}`" in message and message != shared.GENERIC_ERROR and len(message) < 600, message


def test_a_5000_character_hub_id_gets_a_clear_message(progress):
    with pytest.raises(gr.Error) as caught:
        patch_call(progress, hub_ids="a" * 5000)
    assert "hub classifiers" in caught.value.message and caught.value.message != shared.GENERIC_ERROR


def test_a_long_folder_name_is_refused_without_an_os_error():
    from propgrad.models.hub import load_hub_classifier

    with pytest.raises(ValueError, match="not a usable folder name|too long"):
        load_hub_classifier("/" + "a" * 300 + "/b")


@pytest.mark.parametrize("folder", ["/etc", "/root", "./models", "~/models", "..", "C:\\models"])
def test_a_public_server_never_looks_at_its_folders(public_server, progress, monkeypatch, folder):
    from propgrad.app import model_inputs

    with pytest.raises(gr.Error, match="takes hub ids only") as caught:
        patch_call(progress, hub_ids=folder)
    assert "PROPGRAD_ALLOW_LOCAL_PATHS" in caught.value.message
    looked = []
    monkeypatch.setattr(Path, "is_dir", lambda self: looked.append(self) or True)
    monkeypatch.setattr(Path, "exists", lambda self: looked.append(self) or True)
    with pytest.raises(ValueError, match="takes hub ids only"):
        model_inputs.hub_models(folder)
    assert not looked


def test_a_hub_id_shaped_name_is_not_probed_as_a_folder_on_a_public_server(public_server, monkeypatch):
    from propgrad.models import hub

    monkeypatch.setattr(Path, "is_dir", lambda self: pytest.fail(f"asked the file system about {self}"))
    assert hub._local_folder("etc", allow_folders=False) is None


@pytest.mark.parametrize("pretrained", ["/root/.cache/clip.pt", "LICENSE", "README.md", "~/clip.bin"])
def test_clip_checkpoint_paths_are_refused_on_a_public_server(public_server, progress, monkeypatch, pretrained):
    looked = []
    monkeypatch.setattr(Path, "is_file", lambda self: looked.append(self) or True)
    with pytest.raises(gr.Error, match="open_clip tags of 'ViT-B-32' only") as caught:
        turntable_call(progress, use_clip=True, clip_pretrained=pretrained)
    # (open_clip reads its own package's configs; nothing the visitor typed is looked up)
    assert "openai" in caught.value.message and all("open_clip" in str(path) for path in looked)


@pytest.mark.parametrize("host, share, env, allowed", [
    ("127.0.0.1", False, "", True), ("localhost", False, "", True), ("::1", False, "", True),
    ("0.0.0.0", False, "", False), ("127.0.0.1", True, "", False), ("0.0.0.0", False, "1", True),
    (None, False, "", False),
])
def test_local_paths_are_allowed_on_loopback_or_by_the_operator(monkeypatch, host, share, env, allowed):
    monkeypatch.setenv(settings.ALLOW_LOCAL_PATHS_ENV, env)
    monkeypatch.delenv("SPACE_ID", raising=False)
    settings.configure_serving(host, share=share)
    assert settings.local_paths_allowed() is allowed


def test_local_folders_work_on_loopback(progress, tiny_vit_folder):
    settings.configure_serving("127.0.0.1")
    outputs = patch_call(progress, hub_ids=str(tiny_vit_folder), **model_args(bundled=[], permutations=200))
    assert outputs[4][0][0] == str(tiny_vit_folder)


def test_the_app_denies_server_paths_until_it_knows_where_it_serves():
    settings.configure_serving(None)
    assert not settings.local_paths_allowed()


def test_an_upload_is_checked_when_it_arrives(tiny_torchscript, tmp_path):
    ready = shared.check_uploaded_models([str(tiny_torchscript)], None, "", "", "", "auto")
    assert "ready: **tiny.pt (uploaded)**, outputs class 0, class 1 and class 2: your own TorchScript model" in ready
    # What a run will do with it: the input size and where it came from, the normalisation, the outputs' reading.
    assert "input 224 x 224 px (propgrad's default: a TorchScript file does not store one)" in ready
    assert "ImageNet's" in ready and "made probabilities by softmax ('auto' judged them" in ready
    # Checked again when a setting changes (class names typed after the upload), nothing said without an upload.
    named = shared.check_again([str(tiny_torchscript)], 64, "", "", "red, green, blue", "logits")
    assert "outputs red, green and blue" in named and "input 64 x 64 px (as given)" in named and "(as asked)" in named
    assert "returns 3 outputs" in shared.check_again([str(tiny_torchscript)], 64, "", "", "red, green", "auto")
    assert shared.check_again(None, 64, "", "", "red", "auto") == ""
    refused = shared.check_uploaded_models([_text_file(tmp_path, "notes.pt")], None, "", "", "", "auto")
    assert refused.startswith("**Cannot use this upload:**") and "notes.pt" in refused
    assert shared.check_uploaded_models([_text_file(tmp_path, "model.pkl")], None, "", "", "", "auto").startswith(
        "**Cannot use this upload:** `model file`")


def test_a_library_argument_is_named_by_its_box():
    """A model's class-name count is checked deep in its loading, under the library's name `class_names`."""
    from propgrad.app.shared import in_box_words
    from propgrad.errors import ArgumentError

    error = ArgumentError("class_names", "has 1 name but model file 'm.pt2' returns 3 outputs per image")
    assert in_box_words(error) == "`class names` has 1 name but model file 'm.pt2' returns 3 outputs per image"
    assert in_box_words(ValueError("`alpha` must lie in (0, 1)")) == "`alpha` must lie in (0, 1)"


def test_a_word_inside_class_names_suggests_those_with_it_as_a_word_first():
    """'cat' on the command line was offered 'crate' (edit distance), then 'oystercatcher' (containment)."""
    from propgrad.errors import near_names
    from propgrad.models.imagenet_classes import IMAGENET_CATEGORIES

    assert near_names("cat", list(IMAGENET_CATEGORIES)) == ["tiger cat", "Persian cat", "Siamese cat"]
    assert near_names("", list(IMAGENET_CATEGORIES)) == [] and near_names(" a ", list(IMAGENET_CATEGORIES)) == []


def test_predicted_is_the_blank_box_as_on_the_command_line():
    assert parsing.select_outputs([IMAGENET_LIKE], "predicted") == parsing.select_outputs([IMAGENET_LIKE], "")
