"""MkDocs hooks for the documentation site (``mkdocs.yml``: ``hooks: [mkdocs_hooks.py]``).

- The five lessons become pages (``lessons/NN-name.md``) with their outputs and figures: from executed notebooks in
  ``$PROPGRAD_EXECUTED_LESSONS`` (what tests/test_lessons.py wrote in the same CI run), else executed here (about
  two minutes; ``PROPGRAD_DOCS_EXECUTE=0`` renders their text and code without running them).
- The README's screenshots in ``assets/`` are served as ``images/`` (one copy in git).
- Sphinx roles in the numpydoc docstrings (``:func:`x` ``) are shown as the code they name.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parent


def _importable() -> None:
    """This checkout's propgrad first (mkdocs loads hooks with its own sys.path)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))

APP_URL_ENV = "PROPGRAD_APP_URL"
SCREENSHOTS = ("screenshot.png", "screenshot-phone.png", "screenshot-regions.png")
_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|obj|exc|const):(<code>|`)")


def _lesson_notebooks():
    """(path, notebook, executed) per lesson."""
    _importable()
    from propgrad import lessons

    paths = lessons.lesson_paths(ROOT / "lessons")
    folder = os.environ.get("PROPGRAD_EXECUTED_LESSONS", "").strip()
    found = []
    for path in paths:
        if folder and (Path(folder) / f"{path.stem}.ipynb").is_file():
            import nbformat

            found.append((path, nbformat.read(str(Path(folder) / f"{path.stem}.ipynb"), as_version=4), True))
        elif os.environ.get("PROPGRAD_DOCS_EXECUTE", "1").strip() == "0":
            found.append((path, lessons.source_notebook(path), False))
        else:
            found.append((path, lessons.execute(path).notebook, True))
    return found


def on_files(files, config):
    import tempfile

    _importable()
    from propgrad import lessons

    # The lessons' links into the app: a site published beside a Space names it (PROPGRAD_APP_URL); by default the
    # reader's own `python app.py`, which the page says (the links led to 127.0.0.1:7860 unexplained).
    app_url = os.environ.get(APP_URL_ENV, "").strip() or lessons.LOCAL_APP
    where = (f"the app at {app_url}" + (" (start it with `python app.py` on your machine)"
                                        if app_url == lessons.LOCAL_APP else ""))
    links_note = f"\n\n!!! tip \"Links into the app\"\n    The links to presets in this lesson open {where}.\n\n"
    # Read into the site's files here, so the folder goes at once (every build left one in /tmp).
    with tempfile.TemporaryDirectory(prefix="propgrad-docs-") as scratch:
        images = Path(scratch) / "figures"
        for path, notebook, executed in _lesson_notebooks():
            slug = lessons.slug(path)
            text = lessons.to_markdown(notebook, images, slug, app_url)
            if not executed:
                text = text.replace("\n", "\n\n!!! note\n    This page was built without running the lesson "
                                    "(PROPGRAD_DOCS_EXECUTE=0): the outputs are missing.\n\n", 1)
            if lessons.links_into_app(notebook):
                text = text.replace("\n", links_note, 1)
            # The figures sit beside the page: lessons/figures/<slug>-N.png
            files.append(File.generated(config, f"lessons/{slug}.md", content=text))
        for figure in sorted(images.glob("*.png")) if images.is_dir() else []:
            files.append(File.generated(config, f"lessons/figures/{figure.name}", content=figure.read_bytes()))
    for name in SCREENSHOTS:
        source = ROOT / "assets" / name
        if source.is_file():
            files.append(File.generated(config, f"images/{name}", content=source.read_bytes()))
    return files


def on_page_content(html, page, config, files):
    return _ROLE.sub(r"\1", html)
