"""Build hook: the wheel carries the repository's ``assets/`` as ``propgrad/_assets`` (and ``lessons/`` as
``propgrad/_lessons``).

``assets/`` stays the one source (the app, the tests and a checkout read it in place); only a built
package gets a copy, made here at build time, so ``pip install <path or git URL>`` gives the bundled
weights, model cards, licences, patches and examples without a second copy in git. Everything else
about the package is in pyproject.toml. :mod:`propgrad.paths` finds either location.
"""
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ASSETS = Path(__file__).resolve().parent / "assets"
# The course's lessons (jupytext percent scripts) ship too, as propgrad/_lessons (propgrad.lessons finds them).
LESSONS = Path(__file__).resolve().parent / "lessons"
# Build scripts and the README's screenshots are not needed at run time.
LEFT_OUT = {"make_assets.py", "convert.py", "screenshot.png", "screenshot-regions.png"}


class BuildPyWithAssets(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # `pip install -e .`: paths.py reads the checkout's assets/ in place
        if not ASSETS.is_dir():
            raise SystemExit(f"{ASSETS} is missing: build from a checkout or an sdist that has assets/")
        target = Path(self.build_lib) / "propgrad" / "_assets"
        for path in sorted(ASSETS.rglob("*")):
            if path.is_file() and path.name not in LEFT_OUT and "__pycache__" not in path.parts:
                destination = target / path.relative_to(ASSETS)
                self.mkpath(str(destination.parent))
                self.copy_file(str(path), str(destination))
        if LESSONS.is_dir():
            target = Path(self.build_lib) / "propgrad" / "_lessons"
            self.mkpath(str(target))
            for path in sorted(LESSONS.glob("[0-9][0-9]_*.py")):
                self.copy_file(str(path), str(target / path.name))


setup(cmdclass={"build_py": BuildPyWithAssets})
