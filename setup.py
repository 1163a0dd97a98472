"""Build hook: the wheel carries the repository's ``assets/`` as ``propgrad/_assets`` (and ``lessons/`` as
``propgrad/_lessons``), built from a clean tree.

``assets/`` stays the one source (the app, the tests and a checkout read it in place); only a built
package gets a copy, made here at build time, so ``pip install <path or git URL>`` gives the bundled
weights, model cards, licences, patches and examples without a second copy in git. What is copied is an
explicit list (:data:`SHIPPED`): a new kind of file in ``assets/`` (a script, a screenshot) stays out until it
is named here. The package's folder under ``build/`` is emptied first, so modules and assets left there by an
earlier build cannot reach the wheel. Everything else about the package is in pyproject.toml.
:mod:`propgrad.paths` finds either location.
"""
import fnmatch
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ASSETS = Path(__file__).resolve().parent / "assets"
# What a user of the installed package needs (paths below assets/; * also crosses folders): weights, their
# cards and licences, patches, examples, frames. Build scripts and the README's screenshots are not.
SHIPPED = ("CREDITS.md", "examples/*.jpg", "patches/*.png", "turntable/*.png", "authors/LICENSE",
           "authors/*.safetensors", "authors/*.md", "lesions/*.safetensors", "lesions/*.md", "lesions/*.json",
           "lesions/examples/*.png", "lesions/patches/*.png")
# The course's lessons (jupytext percent scripts) ship too, as propgrad/_lessons (propgrad.lessons finds them).
LESSONS = Path(__file__).resolve().parent / "lessons"


def shipped(relative: str) -> bool:
    """Whether the asset at ``relative`` (posix, below assets/) goes into the wheel."""
    return any(fnmatch.fnmatch(relative, pattern) for pattern in SHIPPED)


class BuildPyWithAssets(build_py):
    def run(self):
        editable = getattr(self, "editable_mode", False)
        if not editable:
            # A stale build/lib/propgrad (a module deleted since, an asset no longer shipped) would be packed too.
            shutil.rmtree(Path(self.build_lib) / "propgrad", ignore_errors=True)
        super().run()
        if editable:
            return  # `pip install -e .`: paths.py reads the checkout's assets/ in place
        if not ASSETS.is_dir():
            raise SystemExit(f"{ASSETS} is missing: build from a checkout or an sdist that has assets/")
        target = Path(self.build_lib) / "propgrad" / "_assets"
        for path in sorted(ASSETS.rglob("*")):
            relative = path.relative_to(ASSETS).as_posix()
            if path.is_file() and shipped(relative):
                destination = target / relative
                self.mkpath(str(destination.parent))
                self.copy_file(str(path), str(destination))
        if LESSONS.is_dir():
            target = Path(self.build_lib) / "propgrad" / "_lessons"
            self.mkpath(str(target))
            for path in sorted(LESSONS.glob("[0-9][0-9]_*.py")):
                self.copy_file(str(path), str(target / path.name))


setup(cmdclass={"build_py": BuildPyWithAssets})
