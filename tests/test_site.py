"""The documentation site builds with ``mkdocs build --strict``, offline, and says what the README promises (issue 24).

Runs after tests/test_lessons.py in a full run (pytest orders the files by name): the lessons executed there are
written to ``<basetemp>/executed-lessons*/`` and become the site's lesson pages with their outputs; without them the
pages are built from the lessons' source (``PROPGRAD_DOCS_EXECUTE=0``), so this test never runs the lessons itself.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("mkdocs")
pytest.importorskip("mkdocstrings")


def test_readme_is_short_and_links_the_teaching_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    assert "(docs/teaching.md)" in readme and "## Quick start" in readme and "## Licence" in readme
    for link in re.findall(r"\]\(((?:docs|lessons|assets)/[^)#]*)\)", readme):
        assert (ROOT / link).exists(), f"the README links {link}, which does not exist"


def test_every_preset_slug_is_documented():
    from propgrad.app.links import markdown_table

    page = (ROOT / "docs" / "app-links.md").read_text(encoding="utf-8")
    assert markdown_table() in page, "docs/app-links.md does not list the presets as the app has them"


@pytest.mark.slow
def test_mkdocs_build_strict_offline(tmp_path, tmp_path_factory):
    executed = sorted(tmp_path_factory.getbasetemp().glob("executed-lessons*"))
    env = dict(os.environ, PROPGRAD_DOCS_EXECUTE="0", NO_MKDOCS_2_WARNING="1")
    if executed:
        env["PROPGRAD_EXECUTED_LESSONS"] = str(executed[-1])
    site = tmp_path / "site"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    print(f"mkdocs build --strict: {time.perf_counter() - started:.1f} s, lessons executed: {bool(executed)}")
    assert done.returncode == 0, done.stderr[-4000:]
    pages = list(site.rglob("*.html"))
    assert (site / "teaching.html").is_file() and (site / "lessons" / "01-property-gradient-by-hand.html").is_file()
    assert (site / "reference" / "score.html").read_text().count("permutation_test") >= 2  # from the docstrings
    # Offline: nothing the pages load comes from elsewhere (links to other sites are fine; fonts, scripts and
    # style sheets are not).
    fetched = re.compile(r"<(?:script|img)[^>]+src=[\"']https?://|<link[^>]+href=[\"']https?://[^\"']*[\"'][^>]*>"
                         r"|@import url\([\"']?https?://|fonts\.googleapis")
    for page in pages:
        text = page.read_text(encoding="utf-8")
        found = fetched.search(text)
        assert not found or "rel=\"canonical\"" in found.group(0), f"{page.relative_to(site)} fetches {found.group(0)}"
    for css in site.rglob("*.css"):
        assert "fonts.googleapis" not in css.read_text(encoding="utf-8"), css
    # The lessons' links into the app lead to the reader's own app, and the page says so (they named 127.0.0.1:7860
    # unexplained).
    linking = (site / "lessons" / "02-which-cat-model-is-biased.html").read_text(encoding="utf-8")
    assert 'href="http://127.0.0.1:7860/?example=' in linking
    said = "The links to presets in this lesson open the app at http://127.0.0.1:7860 (start it with <code>python app.py"
    assert said in linking
    if executed:
        lesson = (site / "lessons" / "02-which-cat-model-is-biased.html").read_text(encoding="utf-8")
        assert "Exercise 1: correct" in lesson and "figures/02-which-cat-model-is-biased-1.png" in lesson
