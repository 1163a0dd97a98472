"""The command line of issue 16: `screen`, `--statistic` and `--outputs vector` for explain, study definitions."""
import csv
import json

import numpy as np
import pytest
from PIL import Image

from propgrad.cli import main
from propgrad.models.registry import register_model, unregister_model


class LeftBrightness:
    name, output_names, output_kind = "left eye", ["dark", "bright"], "probability"

    def predict(self, images):
        p = np.array([np.asarray(im.convert("L"), dtype=float)[:, : im.width // 2].mean() / 255 for im in images])
        return np.stack([1 - p, p], axis=1)


@pytest.fixture(scope="module")
def registered():
    register_model("Left eye (screen test)", LeftBrightness)
    yield "Left eye (screen test)"
    unregister_model("Left eye (screen test)")


@pytest.fixture()
def files(tmp_path):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(60, 200, (24, 32, 3), dtype=np.uint8)).save(tmp_path / "image.png")
    left = np.zeros((24, 32), dtype=np.uint8)
    left[:, :16] = 255
    Image.fromarray(left).save(tmp_path / "left.png")
    return tmp_path


def test_screen_writes_the_ranked_table(files, registered, capsys):
    code = main(["screen", str(files / "image.png"), "--edits", "darken,lighten,blur", "--regions", "whole image",
                 "--mask", f"left={files / 'left.png'}", "--model", registered, "--outputs", "bright",
                 "--permutations", "500", "--adjustment", "holm", "--out", str(files / "out"), "--no-progress"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "6 properties x 1 model;" in printed and "Holm" in printed
    with (files / "out" / "screen.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6 and rows[0]["rank"] == "1"
    data = json.loads((files / "out" / "screen.json").read_text())
    assert data["adjustment"].startswith("Holm") and len(data["properties"]) == 6
    assert (files / "out" / "screen.png").is_file()


@pytest.mark.parametrize("args, message", [
    (["--edits", "sparkle"], "`--edits` must be one of 'blur', 'brightness',"),
    (["--edits", "darkn,blurr"], "got 'darkn' and 'blurr'; did you mean 'darken' for 'darkn', 'blur' for 'blurr'?"),
    (["--regions", "fur"], "`--regions` must be one of 'whole image', 'object' or 'background', got 'fur'"),
    (["--limit", "3"], "`--limit` is 3: this screen has 34 properties; restrict"),
    (["--mask", "left"], "`--mask` 'left': write LABEL=FILE"),
    (["--edits", ""], "`--edits` is empty"),
    (["--outputs", "vector", "--statistic", "correlation"], "'vector' is scored with statistic='gradient'"),
])
def test_screen_errors_name_the_flag(files, registered, args, message, capsys):
    code = main(["screen", str(files / "image.png"), "--model", registered, "--permutations", "10",
                 "--out", str(files / "out"), "--no-progress", *args])
    assert code == 2
    assert message in capsys.readouterr().err


def test_statistic_flag_is_refused_when_unknown(files, capsys):
    with pytest.raises(SystemExit):
        main(["explain", str(files / "image.png"), "--statistic", "kendall"])
    assert "invalid choice: 'kendall'" in capsys.readouterr().err


@pytest.mark.parametrize("statistic", ["correlation", "mutual-information"])
def test_explain_with_another_statistic(files, registered, statistic, capsys):
    code = main(["explain", str(files / "image.png"), "--edit", "darken", "--steps", "8", "--model", registered,
                 "--outputs", "bright", "--statistic", statistic, "--permutations", "300",
                 "--out", str(files / "out"), "--no-progress"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert ("|r| = " if statistic == "correlation" else "MI (nats) = ") in printed
    assert json.loads((files / "out" / "report.json").read_text())["statistic"] == statistic


def test_explain_outputs_vector(files, registered, capsys):
    code = main(["explain", str(files / "image.png"), "--edit", "darken", "--steps", "8", "--model", registered,
                 "--outputs", "vector", "--permutations", "300", "--out", str(files / "out"), "--no-progress"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "left eye | vector (all 2 outputs)" in printed
    report = json.loads((files / "out" / "report.json").read_text())
    assert report["models"][0]["outputs_of_interest"][0]["vector"] is True


# --- studies ------------------------------------------------------------------------------------
def _study_file(folder, extra: str = "") -> "Path":
    path = folder / "study.toml"
    path.write_text(f'{extra}\n[inputs]\nimages = "."\n[[intervention]]\nkind = "edit"\nedit = "hue"\n')
    return path


def test_study_definition_takes_a_statistic(tmp_path):
    from propgrad.study import from_toml

    default = from_toml(_study_file(tmp_path))
    chosen = from_toml(_study_file(tmp_path, 'statistic = "mutual-information"'))
    assert default.statistic == "gradient" and chosen.statistic == "mutual-information"
    assert default.fingerprint() != chosen.fingerprint()
    assert type(chosen).from_dict(chosen.to_dict()) == chosen
    with pytest.raises(ValueError, match="`statistic` must be one of"):
        from_toml(_study_file(tmp_path, 'statistic = "kendall"'))


def test_run_images_scores_with_the_statistic(tmp_path, files):
    from propgrad import ParametricEdit
    from propgrad.study import run_images

    report = run_images([files / "image.png"], ParametricEdit("darken", steps=6), [LeftBrightness()],
                        outputs_of_interest="bright", n_permutations=100, statistic="correlation",
                        out=tmp_path / "study")
    with (report.folder / "results.csv").open() as handle:
        row = next(csv.DictReader(handle))
    assert float(row["score"]) == pytest.approx(1.0, abs=1e-6)  # darkening the left half: a perfect ramp


def test_a_screen_names_its_model_files_sha256(files, tiny_torchscript):
    # explain's report.json named a model file's SHA-256 and a screen's did not: a screen could not be cited.
    import hashlib

    code = main(["screen", str(files / "image.png"), "--edits", "darken", "--regions", "whole image",
                 "--model-file", str(tiny_torchscript), "--input-size", "32", "32", "--permutations", "200",
                 "--out", str(files / "out"), "-q"])
    assert code == 0
    model = json.loads((files / "out" / "screen.json").read_text())["settings"]["models"][0]
    assert model["source"]["sha256"] == hashlib.sha256(tiny_torchscript.read_bytes()).hexdigest()
    assert model["preprocessing"]["size"] == [32, 32] and model["n_outputs"] == 3
