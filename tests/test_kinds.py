"""The registry of intervention kinds: one description per kind, used by every front end."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import propgrad
from propgrad.cli import build_parser, main
from propgrad.cli.flags import spec_from_args
from propgrad.errors import ArgumentError
from propgrad.interventions import InterventionSeries
from propgrad.kinds import (KINDS, EditSpec, FramesSpec, InstructPix2PixSpec, InterventionSpec, PatchSpec, option,
                            register_kind, spec_from_dict, steps_option, unregister_kind)
from propgrad.study import from_toml, run_study

ROOT = Path(__file__).resolve().parents[1]
MODEL = "EfficientNet-Lite0 (ImageNet)"


# -- The README's "Adding an intervention", as code ------------------------------------------------------------

@dataclass(frozen=True)
class AddNoise:
    """The intervention: Gaussian pixel noise whose standard deviation rises from 0 to ``sigma``."""

    sigma: float
    steps: int
    seed: int = 0
    name = "noise"

    def series(self, image, progress=lambda fraction, message="": None):
        levels = np.linspace(0.0, self.sigma, self.steps)
        noise = np.random.default_rng(self.seed).standard_normal((image.height, image.width, 3))
        pixels = np.asarray(image, dtype=np.float64)
        images = [image.copy()] + [Image.fromarray(np.clip(pixels + level * noise, 0, 255).astype(np.uint8))
                                   for level in levels[1:]]
        return [InterventionSeries(images, levels, "noise standard deviation", label="noise")]


@dataclass(frozen=True, kw_only=True)
class NoiseSpec(InterventionSpec):
    """Its description: every front end derives what it needs from these fields."""

    kind = "noise"
    selector = "noise"
    summary = "Gaussian pixel noise of rising strength"

    noise: float = option(40.0, "largest noise standard deviation (grey levels)", above=0, high=255)
    noise_seed: int = option(0, "seed of the noise pattern", low=0)
    steps: int = steps_option()

    def describe(self) -> str:
        return f"noise up to {self.noise:g}"

    def make(self):
        return AddNoise(self.noise, self.steps, self.noise_seed)


@pytest.fixture
def noise_kind():
    register_kind(NoiseSpec)
    yield NoiseSpec
    unregister_kind("noise")


@pytest.fixture
def photo(tmp_path):
    """The bundled cat, small (the segmenter finds its object)."""
    path = tmp_path / "photos" / "cat.png"
    path.parent.mkdir()
    Image.open(ROOT / "assets" / "examples" / "chelsea.jpg").convert("RGB").resize((96, 64)).save(path)
    return path


def test_a_new_kind_works_from_python(noise_kind, photo):
    result = propgrad.explain(propgrad.load_image(photo), NoiseSpec(noise=60, steps=4).build(),
                              propgrad.models.get_model(MODEL), n_permutations=200)
    assert result.property_name == "noise standard deviation" and result.n_steps == 4
    assert np.allclose(result.series[0].values, [0, 20, 40, 60])


@pytest.mark.slow
def test_a_new_kind_works_from_explain(noise_kind, photo, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["explain", str(photo), "--noise", "60", "--noise-seed", "3", "--steps", "4", "--permutations",
                 "200", "--out", str(out), "--no-progress"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["intervention"] == "noise" and report["n_steps"] == 4
    assert "largest noise standard deviation" in build_parser()._subparsers._group_actions[0].choices[
        "explain"].format_help()


@pytest.mark.slow
def test_a_new_kind_works_from_a_study_file(noise_kind, photo, tmp_path):
    study = tmp_path / "study.toml"
    study.write_text(f'[inputs]\nimages = "{photo.parent}"\n\n[[intervention]]\nkind = "noise"\nnoise = 30\n'
                     f'steps = 3\nregion = "object"\n\n[models]\nnames = ["{MODEL}"]\n')
    definition = from_toml(study)
    assert definition.interventions[0] == NoiseSpec(noise=30, steps=3, region="object")
    assert definition.interventions[0].label == "noise up to 30 in the object"
    report = run_study(definition, tmp_path / "results")
    rows = (tmp_path / "results" / "results.csv").read_text().splitlines()
    assert report.paths and len(rows) == 2 and "noise up to 30 in the object" in rows[1]


def test_the_toy_kind_leaves_the_registry_as_it_was(noise_kind):
    assert "noise" in KINDS
    unregister_kind("noise")
    assert sorted(KINDS) == ["edit", "frames", "guided-editor", "instruct-pix2pix", "patch"]


# -- The rules the fields carry -----------------------------------------------------------------------------------

@pytest.mark.parametrize("build, message", [
    (lambda: EditSpec(steps=2), "`steps` must be an integer of at least 3, got 2"),
    (lambda: EditSpec(steps=4.5), "`steps` must be an integer of at least 3"),
    (lambda: EditSpec(edit="sparkle"), "`edit` must be one of 'blur', "),
    (lambda: EditSpec(stop=float("nan")), "`stop` must be a finite number"),
    (lambda: PatchSpec(), "`patches` is empty"),
    (lambda: PatchSpec(patches=("a.png",), scale=0), "`scale` must be a number in (0, 1], got 0.0"),
    (lambda: PatchSpec(patches=("a.png",), position=(0.5,)), "`position` must hold 2 values"),
    (lambda: PatchSpec(patches=("a.png",), position=(0.5, 2)), "`position` must be a number in [0, 1]"),
    (lambda: InstructPix2PixSpec(instruction="  "), "`instruction` is empty"),
    (lambda: InstructPix2PixSpec(instruction="x", max_guidance=1.0), "`max_guidance` must be a number above 1.01"),
    (lambda: InstructPix2PixSpec(instruction="x", seeds=(-1,)), "`seeds` must be an integer of at least 0"),
    (lambda: FramesSpec(frames=("a.png", "b.png", "c.png"), region="object"), "`region` does not apply to frames"),
    (lambda: EditSpec(feather=-1), "`feather` must be a number of at least 0"),
    # Else it softened nothing, unsaid (a study file's `feather` without `region`, `--feather` without `--region`).
    (lambda: EditSpec(feather=3), "`feather` softens a region's edge: give a region too"),
    (lambda: spec_from_dict({"kind": "blend"}), "`kind` must be one of 'edit', 'frames', 'guided-editor'"),
    (lambda: spec_from_dict({"kind": "edit", "scale": 0.3}), "unknown key 'scale'; allowed keys: "),
])
def test_each_rule_names_its_argument(build, message):
    with pytest.raises(ArgumentError if "unknown key" not in message else ValueError) as error:
        build()
    assert message in str(error.value)


def test_argument_errors_carry_the_name_for_front_ends():
    with pytest.raises(ArgumentError) as error:
        EditSpec(steps=1)
    assert error.value.argument == "steps"
    assert str(error.value.renamed("number of steps")) == "`number of steps` must be an integer of at least 3, got 1"


def test_specs_round_trip_through_their_dict():
    for spec in (EditSpec(edit="hue", stop=90, region="background", feather=2),
                 PatchSpec(patches=("a.png", "b.png"), position=(0.2, 0.8), labels=("one", "two")),
                 InstructPix2PixSpec(instruction="make it winter", seeds=(0, 4))):
        assert spec_from_dict(spec.to_dict()) == spec


def test_labels():
    assert EditSpec(edit="hue").label == "hue edit"
    assert EditSpec(edit="hue", region="mask.png").label == "hue edit in mask.png"
    assert PatchSpec(patches=("x/rings.png",)).label == "patch blend (rings.png)"
    assert InstructPix2PixSpec(instruction="add snow", name="snow").label == "snow"


@pytest.mark.parametrize("argv, message", [
    (["explain", "IMG", "--edit", "hue", "--scale", "0.4"], "`--scale` does not apply to --edit interventions"),
    (["explain", "IMG", "--patch", "assets/patches/rings.png", "--stop", "2"],
     "`--stop` does not apply to --patch interventions"),
])
def test_a_flag_the_chosen_kind_does_not_take_is_an_error(argv, message, monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(ArgumentError, match=message.replace("(", r"\(")):
        spec_from_args(build_parser().parse_args(argv))


def test_flags_default_to_the_kinds_defaults(monkeypatch):
    monkeypatch.chdir(ROOT / "assets" / "patches")
    spec = spec_from_args(build_parser().parse_args(["explain", "IMG"]))
    assert spec == EditSpec()
    spec = spec_from_args(build_parser().parse_args(["explain", "IMG", "--patch", "rings.png", "--patch",
                                                     "stripes.png"]))
    assert spec == PatchSpec(patches=("rings.png", "stripes.png")) and spec.steps == 10 and spec.scale == 0.3


def test_the_readme_shows_this_files_toy_kind():
    """The docs' "Adding an intervention" (docs/python.md, moved from the README) is this file's code: every code
    line there is here."""
    readme = (ROOT / "docs" / "python.md").read_text()
    block = readme.split("## Adding an intervention", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    here = Path(__file__).read_text()
    for line in block.splitlines():
        code = line.split("  #")[0].rstrip()
        if code.strip() and not code.strip().startswith("@register_kind"):
            assert code in here, code
