"""The Python examples of the README and of the documentation run, so that they cannot rot (issue 24).

Every fenced ``python`` block of README.md and docs/*.md runs, the blocks of one page in order in one namespace
(a later block may use an earlier one's names), in a scratch folder where ``assets`` points at the checkout's (the
examples name files as ``assets/...`` and some write output folders). A block that cannot run here says so in the
page, right above it: ``<!-- not run: why, and which test covers it -->``; the reason is printed as the skip's.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(?:<!-- not run: (?P<reason>.*?) -->\n)?```python\n(?P<code>.*?)```", re.S)


def blocks(page: Path) -> list[tuple[str, str | None]]:
    return [(m.group("code"), m.group("reason")) for m in BLOCK.finditer(page.read_text(encoding="utf-8"))]


WITH_CODE = [page for page in PAGES if blocks(page)]


def test_the_pages_have_examples_and_each_skip_says_why():
    assert ROOT / "README.md" in WITH_CODE and len(WITH_CODE) >= 4
    for page in WITH_CODE:
        for _, reason in blocks(page):
            assert reason is None or len(reason) > 20, f"{page.name}: a block is not run without a reason"


@pytest.mark.slow
@pytest.mark.parametrize("page", WITH_CODE, ids=lambda p: p.name)
def test_page_examples_run(page, tmp_path, monkeypatch):
    (tmp_path / "assets").symlink_to(ROOT / "assets")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": f"example_{page.stem}"}
    ran, skipped = 0, []
    for number, (code, reason) in enumerate(blocks(page), start=1):
        if reason:
            skipped.append(f"block {number}: {reason}")
            continue
        exec(compile(code, f"{page.relative_to(ROOT)} (python block {number})", "exec"), namespace)
        ran += 1
    if skipped:
        print(f"{page.name}: not run: " + "; ".join(skipped))
    if not ran:
        pytest.skip("; ".join(skipped))
