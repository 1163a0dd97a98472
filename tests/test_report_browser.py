"""report.html opened from disk in Debian's Chromium with the network off: every image shows, nothing is fetched.

One page each for an explanation (from the bundled lesion model and sticker, the run `explain` makes),
a comparison of properties, a study, a screen and training dynamics; a screenshot of each goes to ``PROPGRAD_SCREENSHOTS`` (else
pytest's tmp). Skips when Chromium or Playwright is missing; never downloads a browser.
"""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from propgrad.export import explanation as report
from propgrad.compare import compare_properties
from propgrad.export.comparison import write_comparison
from propgrad.interventions import ParametricEdit
from propgrad.study import run_images
from toy_models import Redness

playwright_sync = pytest.importorskip("playwright.sync_api")

from propgrad.testing.browser import MISSING, MISSING_REASON, screenshot_folder  # noqa: E402

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(MISSING, reason=MISSING_REASON)]


def explain_page(folder: Path) -> Path:
    import propgrad as pg
    from propgrad.paths import ASSETS

    image = Image.open(ASSETS / "examples" / "chelsea.jpg").convert("RGB")
    result = pg.explain(image, ParametricEdit("hue", stop=180, steps=6), [Redness()], n_permutations=200, seed=0)
    return report.write_report(result, folder)["html"]


def comparison_page(folder: Path) -> Path:
    image = Image.new("RGB", (48, 32), (200, 90, 90))
    comparison = compare_properties(image, {"darker": ParametricEdit("darken", steps=4),
                                            "hue": ParametricEdit("hue", stop=120, steps=4)}, [Redness()],
                                    n_permutations=200, seed=0)
    return write_comparison(comparison, folder)["html"]


def study_page(folder: Path) -> Path:
    images = [Image.new("RGB", (48, 32), (int(v), 90, 90)) for v in (60, 140, 220)]
    return run_images(images, ParametricEdit("darken", steps=5), [Redness()], out=folder,
                      n_permutations=200).paths["report.html"]


def screen_page(folder: Path) -> Path:
    from propgrad.screen import screen
    from propgrad.export.screen import write_screen

    image = Image.new("RGB", (48, 32), (200, 90, 90))
    result = screen(image, [Redness()], edits=["darken", "hue"], regions=["whole image"], steps=4,
                    n_permutations=200)
    # A skipped row's reason as an instruction editor without its weights gives it: a path and flags that must
    # neither run off a phone's page nor break "--editor-model" into "-" and "-editor-model".
    skipped = ("instruction: make the fur white: skipped (then set PROPGRAD_INSTRUCT_PIX2PIX=/path/to/"
               "instruct-pix2pix or pass that folder as the model (command line: --editor instruct-pix2pix "
               "--editor-model /path/to/instruct-pix2pix).)",)
    return write_screen(dataclasses.replace(result, skipped=skipped), folder)["html"]


def dynamics_page(folder: Path) -> Path:
    from propgrad import export
    from propgrad.lesions.dynamics import DynamicsResult, TrainingDynamics, read_dynamics

    epochs = np.arange(1, 13)
    rising = np.linspace(0.1, 0.9, 12)
    results = {variant: DynamicsResult(epochs=epochs, labels=[f"{variant}_epoch{e:02d}" for e in epochs],
                                       output="melanoma", scores=rising * size, pvalues=np.full(12, 0.002 / size),
                                       flip_fraction=(rising > 0.5) * size, n_flips=rising, start_probability=0.1 + 0 * rising,
                                       end_probability=0.1 + rising * size, alpha=0.01)
               for variant, size in (("biased", 1.0), ("unbiased", 0.05))}
    dynamics = TrainingDynamics(results, {"file": "melanoma_1.png", "sha256": "7b" * 32, "width": 128, "height": 128},
                                8, 2000, 0.01, 0, {k: read_dynamics(k, v) for k, v in results.items()},
                                ends=(Image.new("RGB", (128, 128), (150, 90, 70)), Image.new("RGB", (128, 128), (40, 160, 60))))
    return export.write(dynamics, folder)["html"]


PAGES = {"explain": (explain_page, "Scores"), "comparison": (comparison_page, "Ranked properties"),
         "study": (study_page, "Summary"), "screen": (screen_page, "Ranked table"),
         "dynamics": (dynamics_page, "Per checkpoint")}


@pytest.mark.parametrize("kind", list(PAGES))
def test_report_opens_offline_with_every_image(browser, tmp_path, kind):
    make, heading = PAGES[kind]
    path = make(tmp_path / kind)
    # Copied alone into an empty folder: the page must not need its neighbours (the PNGs beside it).
    alone = tmp_path / "alone" / "report.html"
    alone.parent.mkdir()
    shutil.copy(path, alone)
    context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
    fetched = []
    context.on("request", lambda request: fetched.append(request.url))
    page = context.new_page()
    page.goto(alone.as_uri(), wait_until="load")
    try:
        assert page.get_by_role("heading", name=heading).count() == 1
        images = page.locator("img")
        assert images.count() >= (1 if kind == "screen" else 2)  # a screen has no input image, only its figure
        # Every image decoded (naturalWidth > 0): all of them came from the page itself.
        widths = images.evaluate_all("imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
        assert all(width > 0 for width in widths), widths
        assert [url for url in fetched if not url.startswith(("file:", "data:"))] == []
        # No table is wider than the page (wide ones fold into a card per row).
        too_wide = page.evaluate("() => Array.from(document.querySelectorAll('table')).filter("
                                 "t => t.scrollWidth > document.body.clientWidth + 1).map(t => t.scrollWidth)")
        assert too_wide == [], too_wide
        if kind == "dynamics":  # one table per run, whose rows stay rows (one table of both folded into 24 cards)
            assert page.locator("h3").all_inner_texts() == ["biased", "unbiased"]
            assert page.locator("table:not(.cards)").count() == 2 and page.locator("table tbody tr").count() == 24
        # Nor does anything make a phone scroll sideways (the input's SHA-256 once did: 538 px in 390).
        page.set_viewport_size({"width": 390, "height": 844})
        page_width = page.evaluate("() => document.documentElement.scrollWidth")
        assert page_width <= 391, f"the page is {page_width} px wide on a 390 px phone"
        # A flag in a note is one line, as it is typed (a single rect).
        broken = page.evaluate("() => Array.from(document.querySelectorAll('.flag')).filter("
                               "f => f.getClientRects().length > 1).map(f => f.textContent)")
        assert broken == [], broken
        if kind == "screen":
            assert page.locator(".flag", has_text="--editor-model").count() == 1
        # Every table folds into a card per row there: none has columns out of sight.
        hidden = page.evaluate("() => Array.from(document.querySelectorAll('table')).filter("
                               "t => t.scrollWidth > t.clientWidth + 1).map(t => t.scrollWidth)")
        assert hidden == [], hidden
        # Every figure whole on the phone (scrolled sideways, a curve showed its first steps and hid the late jump).
        cut = page.evaluate("() => Array.from(document.querySelectorAll('figure img')).filter("
                            "i => i.getBoundingClientRect().right > document.documentElement.clientWidth + 1)"
                            ".map(i => i.alt)")
        assert cut == [], cut
        page.screenshot(path=str(screenshot_folder(tmp_path) / f"report-{kind}-phone.png"), full_page=True)
        page.set_viewport_size({"width": 1200, "height": 900})
        folder = screenshot_folder(tmp_path)
        shot = folder / f"report-{kind}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
    finally:
        context.close()
