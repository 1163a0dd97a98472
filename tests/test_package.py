"""The built wheel carries assets/ and works from any folder (issue 18: a package that installs whole).

The wheel is built from a copy of the checkout (so the checkout gets no build/ or egg-info), with the
build tools already installed (``--no-build-isolation``: offline). It is installed without its
dependencies into a bare virtual environment that sees this interpreter's site-packages through a
``.pth`` file, so the install takes a second and nothing is downloaded: the package itself comes only
from the wheel.
"""
from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# What a user of the installed package needs: weights, their cards and licences, patches, examples, frames.
EXPECTED = [
    "propgrad/_assets/CREDITS.md",
    "propgrad/_assets/examples/chelsea.jpg",
    "propgrad/_assets/patches/rainbow_disc.png",
    "propgrad/_assets/turntable/mug_000.png",
    "propgrad/_assets/lesions/cnn_biased.safetensors",
    "propgrad/_assets/lesions/cnn_biased.md",
    "propgrad/_assets/lesions/checkpoints/cnn_biased_epoch01.safetensors",
    "propgrad/_assets/lesions/examples/melanoma_1.png",
    "propgrad/_assets/lesions/patches/sticker_1.png",
    "propgrad/_assets/authors/LICENSE",
    "propgrad/_assets/authors/convmixer_unbiased.safetensors",
    "propgrad/_assets/authors/convmixer_unbiased.md",
    # The course (issue 24): the lessons' percent scripts.
    "propgrad/_lessons/01_property_gradient_by_hand.py",
    "propgrad/_lessons/05_your_own_model_and_intervention.py",
]


def _source_files() -> list[Path]:
    # What git tracks or would track, so that a stale build/ or a local venv in the checkout (ignored) cannot
    # leak into the wheel.
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], capture_output=True, check=True).stdout
    return [Path(p) for p in listed.decode().split("\0") if p]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to build from")
    return _build(_copy_checkout(tmp_path_factory.mktemp("source")), tmp_path_factory.mktemp("wheel"))


def _copy_checkout(source: Path) -> Path:
    for relative in _source_files():
        if (ROOT / relative).is_file():
            (source / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / relative, source / relative)
    return source


def _build(source: Path, out: Path) -> Path:
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                            "-w", str(out), str(source)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = out.glob("propgrad-*.whl")
    return found


# What belongs in the wheel, besides the package's own modules: the assets a user needs (by suffix; each
# tracked file of these kinds, exactly once), and the metadata with both licence files. Anything else fails.
ASSET_SUFFIXES = {".jpg", ".png", ".safetensors", ".md", ".json"}
NOT_ASSETS = ("screenshot",)  # the README's pictures
METADATA = {"METADATA", "WHEEL", "RECORD", "entry_points.txt", "top_level.txt", "licenses/LICENSE",
            "licenses/THIRD_PARTY_LICENSES.md"}


def expected_wheel_files() -> set[str]:
    tracked = _source_files()
    modules = {p.as_posix() for p in tracked if p.parts[0] == "propgrad" and p.suffix == ".py"}
    assets = {f"propgrad/_assets/{p.relative_to('assets').as_posix()}" for p in tracked if p.parts[0] == "assets"
              and (p.suffix in ASSET_SUFFIXES or p.name == "LICENSE") and not p.name.startswith(NOT_ASSETS)}
    lessons = {f"propgrad/_lessons/{p.name}" for p in tracked
               if p.parts[0] == "lessons" and re.match(r"\d\d_.*\.py$", p.name)}
    return modules | assets | lessons


def _unexpected(names: list[str]) -> list[str]:
    expected = expected_wheel_files()
    return [name for name in names if name not in expected
            and not (name.startswith("propgrad-") and name.split("/", 1)[1] in METADATA)]


@pytest.mark.slow  # builds the wheel
def test_wheel_holds_exactly_the_package_its_assets_and_licences(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    missing = [name for name in EXPECTED if name not in names]
    assert not missing, f"not in the wheel: {missing}"
    assert len(names) == len(set(names))  # each file once
    assert not _unexpected(names), f"unexpected files in the wheel: {_unexpected(names)}"
    assert not expected_wheel_files() - set(names), f"missing: {sorted(expected_wheel_files() - set(names))}"
    dist_info = {name.split("/", 1)[1] for name in names if name.split("/", 1)[0].endswith(".dist-info")}
    assert {"licenses/LICENSE", "licenses/THIRD_PARTY_LICENSES.md"} <= dist_info
    assert not [n for n in names if n.startswith(("assets/", "tests/", "bench/", "lessons/", "docs/"))]


def test_the_allow_list_catches_a_stray_file():
    # The check itself can fail: a screenshot, a build script or an old module would be reported.
    stray = ["propgrad/_assets/screenshot-phone.png", "propgrad/_assets/make_assets.py", "propgrad/old_module.py",
             "assets/examples/chelsea.jpg", "propgrad/_lessons/notes.txt"]
    assert _unexpected(stray + ["propgrad/__init__.py", "propgrad-0.1.0.dist-info/RECORD"]) == stray


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A virtual environment with the wheel (no dependencies installed: it sees ours)."""
    venv = tmp_path_factory.mktemp("env") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    ours = [p for p in site.getsitepackages() + [sysconfig.get_paths()["purelib"]] if Path(p).is_dir()]
    # Appended after the new environment's own site-packages, so the wheel's propgrad comes first.
    Path(purelib, "_outer_site_packages.pth").write_text("\n".join(dict.fromkeys(ours)) + "\n")
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                           str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return venv


def _run(venv: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PROPGRAD_ASSETS"}}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow  # builds the wheel
def test_installed_package_lists_the_bundled_models_from_another_folder(installed, tmp_path):
    where = _run(installed, ["python", "-c", "import propgrad, propgrad.paths as p; print(propgrad.__file__); "
                             "print(p.ASSETS)"], tmp_path)
    assert where.returncode == 0, where.stderr
    package, assets = where.stdout.split()
    assert Path(package).is_relative_to(installed) and Path(assets) == Path(package).parent / "_assets"
    listed = _run(installed, ["propgrad", "models"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    for name in ("EfficientNet-Lite0 (ImageNet)", "Lesion CNN (biased)", "ConvMixer cats vs dogs, unbiased (authors)"):
        assert name in listed.stdout.splitlines()


@pytest.mark.slow  # builds the wheel
def test_installed_package_lists_its_lessons(installed, tmp_path):
    listed = _run(installed, ["propgrad", "lessons", "--list"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "which cat model is biased" in listed.stdout and len(listed.stdout.splitlines()) == 5


def test_installed_package_explains_a_bundled_example(installed, tmp_path):
    example = next(installed.rglob("propgrad/_assets/lesions/examples/melanoma_1.png"))
    done = _run(installed, ["propgrad", "explain", str(example), "--model", "Lesion CNN (biased)", "--edit",
                            "brightness", "--steps", "4", "--permutations", "200", "--no-progress", "--out", "out"],
                tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "out" / "report.json").is_file()
