"""The command line behaves as tools users know do (pip, ruff, hf): --version, -q, --json, progress only on a
terminal, one-line errors naming the flag, the program's name as invoked."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from propgrad._version import __version__
from propgrad.cli import main

REPO = Path(__file__).resolve().parents[1]
LESION = "Lesion CNN (biased)"  # small and bundled: a run takes a fraction of a second
QUICK = ["--model", LESION, "--steps", "3", "--permutations", "100"]


@pytest.fixture()
def image(tmp_path) -> Path:
    path = tmp_path / "image.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 48, 3), dtype=np.uint8)).save(path)
    return path


def _python(code: str, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, *args, "-c", code] if code else [sys.executable, *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=120)


def test_version_under_the_name_it_was_invoked_by():
    as_module = subprocess.run([sys.executable, "-m", "propgrad", "--version"], cwd=REPO, capture_output=True,
                               text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert as_module.returncode == 0 and as_module.stdout.strip() == f"python -m propgrad {__version__}"
    # The installed script's name is sys.argv[0]'s.
    as_script = _python("import sys; sys.argv[0] = '/venv/bin/propgrad'; from propgrad.cli import main; "
                        "sys.exit(main(['--version']))")
    assert as_script.returncode == 0 and as_script.stdout.strip() == f"propgrad {__version__}"
    usage = _python("import sys; sys.argv[0] = '/venv/bin/propgrad'; from propgrad.cli import main; "
                    "sys.exit(main(['explain', '--help']))")
    assert usage.stdout.startswith("usage: propgrad explain")
    # With --json, the version is the one JSON document a script reads (it printed the plain line).
    typed = _python("import sys; sys.argv[0] = '/venv/bin/propgrad'; from propgrad.cli import main; "
                    "sys.exit(main(['--version', '--json']))")
    assert typed.returncode == 0 and json.loads(typed.stdout) == {"program": "propgrad", "version": __version__}


def test_quiet_prints_errors_only(image, tmp_path, capsys):
    assert main(["-q", "explain", str(image), "--edit", "hue", *QUICK, "--out", str(tmp_path / "a")]) == 0
    assert capsys.readouterr() == ("", "")
    assert main(["explain", str(image), "--edit", "hue", *QUICK, "--out", str(tmp_path / "b"), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
    assert main(["models", "-q"]) == 0 and capsys.readouterr().out == ""
    assert main(["-q", "explain", str(tmp_path / "missing.png")]) == 2
    assert capsys.readouterr().err.startswith("error: ")  # errors still show


def test_explain_json_is_report_json_and_nothing_else_on_stdout(image, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["explain", str(image), "--edit", "hue", *QUICK, "--out", str(out), "--json"]) == 0
    printed = capsys.readouterr()
    assert json.loads(printed.out) == json.loads((out / "report.json").read_text())
    assert "reading" in printed.err.lower() and "wrote" in printed.err  # the person's text went to stderr


def test_region_comparison_json_is_comparison_json(image, tmp_path, capsys):
    mask = tmp_path / "mask.png"
    Image.fromarray(np.pad(np.full((24, 24), 255, np.uint8), 12)).save(mask)
    other = tmp_path / "other" / "mask.png"  # two files of one name: two regions ("mask", "mask (2)")
    other.parent.mkdir()
    Image.fromarray(np.pad(np.full((12, 12), 255, np.uint8), 18)).save(other)
    out = tmp_path / "out"
    assert main(["explain", str(image), "--edit", "darken", "--region", str(mask), "--region", str(other), *QUICK,
                 "--out", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads((out / "comparison.json").read_text())


def test_screen_json_is_screen_json(image, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["screen", str(image), "--edits", "darken,hue", "--regions", "whole image", *QUICK, "--out", str(out),
                 "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document == json.loads((out / "screen.json").read_text()) and len(document["table"]) == 2


@pytest.mark.slow
def test_study_json_has_the_summary_rows_and_the_failed_items(image, tmp_path, capsys):
    folder = tmp_path / "images"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        (folder / name).write_bytes(image.read_bytes())
    (folder / "broken.png").write_bytes(b"not an image")
    out = tmp_path / "out"
    assert main(["study", "--images", str(folder), "--edit", "hue", *QUICK, "--out", str(out), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["rows"] and document["rows"][0]["n_images"] == 2
    assert isinstance(document["rows"][0]["gradient_mean"], float)
    assert [entry for entry in document["skipped"] + document["failed"] if "broken" in entry["item"]]


def test_models_lists_outputs_input_size_and_licence(capsys):
    assert main(["models", "--json"]) == 0
    printed = capsys.readouterr()
    models = {entry["name"]: entry for entry in json.loads(printed.out)}
    assert printed.err == ""  # not the listing again beside the JSON
    imagenet = models["EfficientNet-Lite0 (ImageNet)"]
    assert imagenet["outputs"] == 1000 and imagenet["input_size"] == [224, 224] and imagenet["licence"] == "Apache-2.0"
    assert all(entry["licence"] and entry["input_size"] for entry in models.values())
    assert main(["models"]) == 0
    text = capsys.readouterr().out
    assert "outputs: 1000 (tench, goldfish" in text and "input: 224x224 px; licence: Apache-2.0" in text


def test_progress_only_on_a_terminal_unless_asked(image, tmp_path, capsys):
    assert main(["explain", str(image), "--edit", "hue", *QUICK, "--out", str(tmp_path / "a")]) == 0
    assert "explain:" not in capsys.readouterr().err  # pytest's stderr is no terminal
    assert main(["explain", str(image), "--edit", "hue", *QUICK, "--out", str(tmp_path / "b"), "--progress"]) == 0
    assert "explain:" in capsys.readouterr().err


def test_no_progress_silences_the_libraries_bars(monkeypatch):
    from propgrad import progress_bar

    monkeypatch.delenv(progress_bar.HUB_BARS_ENV, raising=False)
    assert main(["editors", "--no-progress"]) == 0
    assert os.environ[progress_bar.HUB_BARS_ENV] == "1" and progress_bar.library_bars_disabled()
    diffusers_logging = pytest.importorskip("diffusers.utils.logging")
    diffusers_logging.enable_progress_bar()
    try:
        progress_bar.quiet_diffusers()  # what the pipeline loaders call before loading
        assert not diffusers_logging.is_progress_bar_enabled()
    finally:
        diffusers_logging.enable_progress_bar()


def test_explain_help_lists_every_file_explain_writes(image, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["explain", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    mask = tmp_path / "mask.png"
    Image.fromarray(np.pad(np.full((24, 24), 255, np.uint8), 12)).save(mask)
    out = tmp_path / "out"
    assert main(["explain", str(image), "--edit", "darken", "--region", str(mask), *QUICK, "--out", str(out)]) == 0
    written = sorted(path.name for path in out.iterdir())
    assert "region.png" in written and "report.html" in written
    assert [name for name in written if name not in help_text] == []


# Every subcommand with an input that does not exist: exit 2 and one line that names the argument.
MISSING = [
    (["explain", "missing.png"], "`image`"),
    (["explain", "--frames", "missing-1.png", "missing-2.png", "missing-3.png"], "`--frames`"),
    (["explain", "IMG", "--patch", "missing.png"], "`--patch`"),
    (["explain", "IMG", "--model-file", "missing.pt"], "`--model-file`"),
    (["explain", "IMG", "--region", "missing-mask.png"], "`--region`"),
    (["explain", "IMG", "--model-file", "IMG", "--class-names", "@missing.txt"], "--class-names"),
    (["screen", "missing.png"], "`image`"),
    (["screen", "IMG", "--mask", "collar=missing.png"], "--mask"),
    (["screen", "IMG", "--patch", "missing.png"], "`--patch`"),
    (["screen", "IMG", "--edits", "@missing.txt"], "--edits"),
    (["study", "--images", "missing"], "`--images`"),
    (["study", "--dataset", "missing"], "`--dataset`"),
    (["study", "--images", "DIR", "--patch", "missing.png"], "`--patch`"),
    (["study", "run", "missing.toml"], "`STUDY`"),
    (["study", "report", "missing"], "`DIR`"),
    (["dynamics", "--image", "missing.png"], "`--image`"),
    (["dynamics", "--checkpoints", "missing.safetensors"], "`--checkpoints`"),
    (["dynamics", "--patches", "missing.png"], "`--patches`"),
]


@pytest.mark.parametrize("arguments, named", MISSING, ids=[" ".join(a[:2]) + f" {n}" for a, n in MISSING])
def test_a_missing_input_is_one_line_naming_its_argument(arguments, named, image, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    arguments = [str(image) if a == "IMG" else str(image.parent) if a == "DIR" else a for a in arguments]
    assert main(arguments) == 2
    printed = capsys.readouterr()
    lines = printed.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and named in lines[0], printed.err
    assert "Traceback" not in printed.err and printed.out == ""


def test_every_subcommand_is_covered_by_the_missing_input_test():
    from propgrad.cli import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices
    # models, editors and lessons take no input file (lessons reads the bundled course).
    assert set(commands) - {"models", "editors", "lessons"} == {arguments[0] for arguments, _ in MISSING}


def test_weights_messages_end_with_the_download_command_and_where_the_folder_goes():
    from propgrad.interventions import diffusion
    from propgrad.interventions.editors import EDITORS
    from propgrad.models import clip

    messages = [diffusion._how_to_provide("timbrooks/instruct-pix2pix", " (loading from 'x' failed: offline)"),
                *[editor.how_to_get(failure=" (offline)") for editor in EDITORS.values()],
                clip._how_to_provide("ViT-B-32", "openai")]
    for message in messages:
        download = message.index("hf download")
        assert "failed" not in message[download:] and "offline" not in message[download:], message
        assert "PROPGRAD_" in message[download:], message  # where the local folder or file goes
    assert "timm/vit_base_patch32_clip_224.openai" in messages[-1]  # the repository open_clip downloads from


@pytest.mark.parametrize("argv, line", [
    (["--permutations", "0"], "error: `--permutations` must be a positive integer, got 0"),
    (["--seed", "-1"], "error: `--seed` must be a whole number of 0 or more"),
    (["--outputs", "zebraa"], "error: `--outputs`: 'zebraa' is not an output of model"),
    (["--steps", "abc"], "error: argument --steps: invalid int value: 'abc' (see "),
    # the flag alone: "`--stop` (the edit's end value)" glossed a name the user typed
    (["--stop", "1.5"], "error: `--stop` for darken must lie in [0, 1], got 1.5"),
    # the subcommand's --help lists its flags; the main one's did not
    (["--bogus"], "error: unrecognized arguments: --bogus (see python -m propgrad explain --help)"),
])
def test_errors_name_the_flag_as_typed_in_one_line(image, capsys, argv, line):
    """The package's names (n_permutations, outputs_of_interest) and argparse's 20-line usage block are gone."""
    try:
        status = main(["explain", str(image), "--edit", "darken", *QUICK, "--no-progress", "--out",
                       str(image.parent / "out"), *argv])
    except SystemExit as stop:  # argparse's own errors end with SystemExit(2)
        status = stop.code
    lines = [one for one in capsys.readouterr().err.splitlines() if one.strip()]
    assert status == 2 and len(lines) == 1 and lines[0].startswith(line), lines


def test_region_and_threshold_errors_name_what_the_user_typed(image, tmp_path, capsys, monkeypatch):
    """`explain` has no --mask: its region errors name --region or --compare-region; the screen's name the mask's
    label; a bad $PROPGRAD_READING_THRESHOLDS names the variable, not a flag nobody typed."""
    empty = tmp_path / "empty.png"
    Image.new("L", (48, 48), 0).save(empty)
    grey = tmp_path / "grey.png"  # the segmenter finds no object in it
    Image.new("RGB", (80, 80), (128, 128, 128)).save(grey)
    cases = [
        (["explain", str(image), "--edit", "darken", "--region", str(empty)], "error: `--region` is empty"),
        # Two files: which one (the mask's name), not a bare flag given twice.
        (["explain", str(image), "--edit", "darken", "--region", str(grey), "--region", str(empty)],
         "error: `--region empty` is empty"),
        (["explain", str(grey), "--edit", "darken", "--region", "object"], "error: `--region`: the segmenter found"),
        (["explain", str(grey), "--edit", "darken", "--compare-region"], "error: `--compare-region`: the segmenter"),
        (["screen", str(image), "--mask", f"collar={empty}"], "error: `--mask collar` is empty"),
    ]
    for argv, line in cases:
        assert main([*argv, *QUICK[:2], "--permutations", "100", "--no-progress", "--out", str(tmp_path / "o")]) == 2
        lines = [one for one in capsys.readouterr().err.splitlines() if one.strip()]
        assert len(lines) == 1 and lines[0].startswith(line), (argv, lines)
    monkeypatch.setenv("PROPGRAD_READING_THRESHOLDS", "negligible=abc")
    assert main(["explain", str(image), "--edit", "darken", *QUICK, "--no-progress", "--out", str(tmp_path / "t")]) == 2
    assert capsys.readouterr().err.strip() == "error: `$PROPGRAD_READING_THRESHOLDS`: 'negligible=abc' is not a number"


@pytest.mark.parametrize("command", ["explain", "screen"])
@pytest.mark.parametrize("bad", [["--seed", "-1"], ["--alpha", "2"]])
def test_a_bad_shuffle_setting_is_refused_before_the_output_folder_is_made(image, tmp_path, capsys, command, bad):
    """The run checked --seed and --alpha only after making --out, so the refusal left an empty folder behind."""
    out = tmp_path / "never-made"
    assert main([command, str(image), *QUICK, "--no-progress", "--out", str(out), *bad]) == 2
    assert f"`{bad[0]}`" in capsys.readouterr().err
    assert not out.exists()


def test_lessons_take_the_switches_every_command_takes(capsys):
    """cli.md promises -q and --json on every command; lessons refused both, and took --student for HTML silently."""
    assert main(["lessons", "--list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["number"] == 1 and listed[0]["title"]
    assert main(["-q", "lessons", "--list"]) == 0 and capsys.readouterr().out == ""
    assert main(["lessons", "--student", "--list"]) == 2
    assert "`--student` applies to --html and --notebooks" in capsys.readouterr().err


def test_a_study_names_its_flags_as_typed_too(image, tmp_path, capsys):
    argv = ["study", "--images", str(image.parent), "--edit", "darken", "--model", LESION, "--steps", "3",
            "--out", str(tmp_path / "out"), "--no-progress"]
    assert main([*argv, "--permutations", "0"]) == 2
    assert "`--permutations`" in capsys.readouterr().err


def test_flags_that_would_be_ignored_and_a_folder_as_the_image_are_refused(image, tmp_path, capsys):
    quick = ["--edit", "darken", *QUICK, "--out", str(tmp_path / "out"), "--no-progress"]
    assert main(["explain", str(image), *quick, "--class-names", "cat,dog"]) == 2
    assert "`--class-names` describes --model-file models" in capsys.readouterr().err
    # --outputs-are too: explain, screen and study ran with it ignored, status 0, the same scores as without it.
    assert main(["explain", str(image), *quick, "--outputs-are", "logits"]) == 2
    assert "`--outputs-are` describes --model-file models" in capsys.readouterr().err
    assert main(["explain", str(image.parent), *quick]) == 2
    assert "is a folder; give one image file" in capsys.readouterr().err


@pytest.mark.slow
def test_every_output_prints_the_strongest_rows_and_counts_the_rest(tmp_path, capsys):
    """`--outputs all` on the ImageNet model printed 2,004 lines (322 KB) in class order."""
    coffee = REPO / "assets" / "examples" / "coffee.jpg"
    assert main(["explain", str(coffee), "--edit", "blur", "--outputs", "all", "--steps", "4", "--permutations", "100",
                 "--no-progress", "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out.splitlines()
    rows = [line for line in printed if line.startswith("  EfficientNet-Lite0 (ImageNet) | ")]
    assert len(rows) == 20 and rows[0].startswith("  EfficientNet-Lite0 (ImageNet) | espresso: "), rows[:2]
    assert "  ... and 980 more rows, ranked by what the output did: the files (report.json or comparison.json, the " \
           "CSVs, report.html) hold every one" in printed
    assert len(printed) < 60 and any("1,000 outputs of EfficientNet-Lite0 (ImageNet) were tested" in line
                                     for line in printed)


def test_json_may_come_before_the_command_as_q_may(image, tmp_path, capsys):
    # "unrecognized arguments: --json (see ... explain --help)" sent the user to a help that lists --json.
    assert main(["--json", "-q", "explain", str(image), *QUICK, "--out", str(tmp_path / "out")]) == 0
    assert json.loads(capsys.readouterr().out)["models"]
    # Every command takes it: `editors` refused it, and an agent had no way to ask whether an editor's weights are here.
    assert main(["--json", "editors"]) == 0
    editors = json.loads(capsys.readouterr().out)
    assert editors and all({"name", "knob_range", "weights_available", "get_weights"} <= set(one) for one in editors)


def test_a_sticker_that_is_no_image_is_named_by_its_flag(image, capsys):
    (image.parent / "notes.txt").write_text("not an image")
    status = main(["explain", str(image), "--patch", str(image), "--patch", str(image.parent / "notes.txt"), *QUICK,
                   "--no-progress", "--out", str(image.parent / "out")])
    err = capsys.readouterr().err
    assert status == 2 and "error: `--patch` (file 2): 'notes.txt' is not a readable image" in err, err


def test_a_quiet_command_leaves_logging_as_it_found_it(tmp_path, caplog):
    """`-q` turned logging off process-wide: a Python caller (a notebook, the test session) lost every warning after
    one quiet command."""
    import logging

    from propgrad.cli import main

    assert main(["models", "-q"]) == 0
    logging.getLogger("propgrad.test").warning("still said")
    assert [record.getMessage() for record in caplog.records] == ["still said"]
