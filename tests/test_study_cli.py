"""`explain` reaches the app's editors and shows progress; `study` flags mirror `explain`'s."""
from __future__ import annotations

from pathlib import Path

import pytest

from propgrad.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
CAT = ROOT / "assets" / "examples" / "chelsea.jpg"


def test_explain_takes_the_instruct_pix2pix_flags():
    args = build_parser().parse_args(["explain", "cat.jpg", "--instruction", "make the fur white", "--max-guidance",
                                      "12", "--image-guidance", "1.5", "--denoising-steps", "5", "--seeds", "0", "3"])
    from propgrad.cli.flags import spec_from_args

    sweep = spec_from_args(args).build()
    assert (sweep.instruction, sweep.max_guidance, sweep.image_guidance, sweep.denoising_steps, sweep.seeds) == (
        "make the fur white", 12.0, 1.5, 5, (0, 3))


def test_explain_without_editor_weights_says_how_to_get_them(tmp_path, monkeypatch, capsys):
    if not CAT.is_file():
        pytest.skip("example image not shipped")
    monkeypatch.setenv("PROPGRAD_INSTRUCT_PIX2PIX", str(tmp_path / "no-weights-here"))
    code = main(["explain", str(CAT), "--instruction", "make the fur white", "--steps", "3", "--out",
                 str(tmp_path / "out"), "--no-progress"])
    assert code == 2
    assert "InstructPix2Pix weights" in capsys.readouterr().err


@pytest.mark.slow
def test_explain_draws_a_progress_bar(tmp_path, capsys):
    if not CAT.is_file():
        pytest.skip("example image not shipped")
    # --progress: pytest's stderr is no terminal, where bars are off by default.
    assert main(["explain", str(CAT), "--edit", "hue", "--steps", "3", "--permutations", "50",
                 "--out", str(tmp_path / "out"), "--progress"]) == 0
    assert "explain:" in capsys.readouterr().err  # tqdm writes to stderr


def test_study_help_lists_the_explain_flags(capsys):
    with pytest.raises(SystemExit):
        main(["study", "--help"])
    text = capsys.readouterr().out
    for flag in ("--images", "--dataset", "--edit", "--patch", "--instruction", "--position", "--scale", "--model",
                 "--model-file", "--hub-model", "--outputs", "--permutations", "--alpha", "--seed", "--out",
                 "--workers", "--ray", "--region"):
        assert flag in text, flag


def test_a_damaged_study_json_is_named_with_what_to_do(tmp_path, capsys):
    """'{bad' in study.json ended the study with "error: Expecting property name enclosed in double quotes", naming
    no file."""
    sticker = ROOT / "assets" / "lesions" / "patches" / "sticker_1.png"
    if not sticker.is_file():
        pytest.skip("the lesion scenario's assets are not shipped here")
    out = tmp_path / "o"
    out.mkdir()
    (out / "study.json").write_text("{bad\n")
    code = main(["study", "--images", str(sticker.parent), "--patch", str(sticker), "--steps", "4",
                 "--model", "Lesion CNN (biased)", "--out", str(out), "--no-progress"])
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2 and error.startswith(f"error: {str(out / 'study.json')!r} (the study's definition) cannot be "
                                          "read: it is not JSON"), error
    assert error.endswith("choose another folder, or delete this one to start over")
