"""The command line, end to end: the authors' ConvMixer checkpoints and a model file of our own."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from propgrad.cli import main

REPO = Path(__file__).resolve().parents[1]
AUTHORS = REPO.parent / "shared" / "third_party" / "propgrad-authors"
needs_authors = pytest.mark.skipif(not AUTHORS.is_dir(), reason="the authors' checkpoints are not in ../shared")


def _run(*args, cwd=REPO):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "propgrad", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_help_documents_every_option():
    completed = _run("explain", "--help")
    assert completed.returncode == 0
    for option in ("--edit", "--patch", "--frames", "--model-file", "--input-size", "--mean", "--std",
                   "--class-names", "--seed", "--permutations", "--alpha", "--outputs", "--out", "--steps"):
        assert option in completed.stdout


@needs_authors
def test_authors_convmixers_explained_end_to_end(tmp_path):
    """Darkening a cat: the three checkpoints of the authors' fur-colour experiment, one run."""
    out = tmp_path / "report"
    completed = _run(
        "explain", AUTHORS / "cat_001.jpg", "--edit", "brightness", "--stop", "0.2", "--steps", "12",
        "--model-file", AUTHORS / "convmixer_unbiased.pth",
        "--model-file", AUTHORS / "convmixer_dark-cats-bias.pth",
        "--model-file", AUTHORS / "convmixer_dark-dogs-bias.pth",
        "--outputs", "cat", "--permutations", "2000", "--seed", "1", "--out", out,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads((out / "report.json").read_text())
    assert [m["name"] for m in report["models"]] == [
        "convmixer_unbiased.pth", "convmixer_dark-cats-bias.pth", "convmixer_dark-dogs-bias.pth"]
    for model in report["models"]:
        assert model["output_names"] == ["cat", "dog"]
        assert model["output_of_interest"] == "cat"
        outputs = np.array(model["outputs"])
        assert outputs.shape == (12, 2)
        np.testing.assert_allclose(outputs.sum(axis=1), 1, atol=1e-5)
        assert model["score"] == pytest.approx(np.abs(np.gradient(outputs[:, 0])).mean(), abs=1e-6)
        assert 1 / 2001 <= model["pvalue"] <= 1
        assert set(model["flips"]) >= {"flipped", "n_flips", "flip_steps"}
    for name in ("curves.csv", "strip.png", "curves.png", "null.png", "animation.gif"):
        assert (out / name).stat().st_size > 0
    by_name = {m["name"]: m for m in report["models"]}
    # Measured behaviour of the authors' models on this photo: darkening it leaves the unbiased model
    # (and the dark-dogs one) at P(cat) ~ 1, while the fur-colour-biased dark-cats model drops below 0.5
    # at the darkest step. The score must rank them accordingly and the flip must be found.
    unbiased = by_name["convmixer_unbiased.pth"]
    biased = by_name["convmixer_dark-cats-bias.pth"]
    assert unbiased["score"] < 0.01 and not unbiased["flips"]["flipped"]
    assert biased["score"] > 5 * unbiased["score"] and biased["score"] > 0.03
    assert biased["flips"]["flipped"] and biased["flips"]["predicted"][-1] == "dog"
