"""The app in a real browser (Debian's Chromium via Playwright): the page opens with each tab's default answer,
Run replaces it, examples are whole presets, and a phone-size page is saved for review.

Screenshots go into ``PROPGRAD_SCREENSHOTS`` if set, else pytest's tmp. Skips when Chromium or Playwright is
missing; never downloads a browser. Every test here carries the ``browser`` marker (``-m "not browser"`` skips
them). Timings are printed by ``bench/startup.py``, not asserted here.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

from propgrad.testing.browser import MISSING, MISSING_REASON, screenshot_folder  # noqa: E402
TABS = [("Diffusion & region edits", "edit"), ("Patch blending", "patch"), ("Turntable frames", "turntable")]
# The first tab's default compares two regions (a ranked table); the others explain one series.
DONE = {"edit": re.compile(r"2 properties compared"), "patch": re.compile(r"patch opacity"),
        "turntable": re.compile(r"turntable angle")}
WAIT_MS = 240_000

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(MISSING, reason=MISSING_REASON)]


def screenshots(tmp_path) -> Path:
    return screenshot_folder(tmp_path)


@pytest.fixture(scope="module")
def page(server, browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(server, wait_until="load", timeout=60_000)
    yield page
    context.close()


def check_answer(page, prefix: str, folder: Path, what=None, header: bool = True) -> str:
    """Wait for the tab's answer (the reading and the ranked table) and return the summary's text."""
    summary = page.locator(f"#{prefix}-summary")
    try:
        expect(summary).to_contain_text(what or DONE[prefix], timeout=WAIT_MS)
        expect(summary).to_contain_text("Reading:", timeout=WAIT_MS)
    except AssertionError as error:
        page.screenshot(path=str(folder / f"failed-{prefix}.png"), full_page=True)
        raise AssertionError(f"no result in the {prefix} tab; the page shows:\n{page.inner_text('body')[-3000:]}") from error
    text = summary.inner_text()
    if header:  # (a phone shows the table as one card per row, without the header)
        assert re.search(r"reading\s+change\s+flips\s+E\[\|grad_X\sF\|\]", text), text  # the one ranked table, with its reading
        assert "flips: the prediction flips" in text, text  # and the legend of its columns
    assert re.search(r"\d\.\d", text) and not page.get_by_text("Traceback").count()
    return text


@pytest.mark.parametrize("tab,prefix", TABS, ids=[prefix for _, prefix in TABS])
def test_each_tab_opens_with_its_default_answer_without_a_click(page, tmp_path, tab, prefix):
    page.get_by_role("tab", name=tab).click()
    folder = screenshots(tmp_path)
    check_answer(page, prefix, folder)
    expect(page.locator(f"#{prefix}-strip img")).to_have_count(1, timeout=WAIT_MS)
    expect(page.locator(f"#{prefix}-bundle")).to_contain_text("propgrad-", timeout=WAIT_MS)
    page.screenshot(path=str(folder / f"app-{prefix}.png"), full_page=True)


def test_run_replaces_the_default_answer(page, tmp_path):
    page.get_by_role("tab", name="Diffusion & region edits").click()
    check_answer(page, "edit", screenshots(tmp_path))
    steps = page.locator("#edit-steps input[type=number]")
    steps.fill("5")
    steps.press("Tab")
    button = page.locator("#edit-run")
    button.click()
    page.evaluate("window.scrollTo(0, 0)")  # back up to the form while it runs
    check_answer(page, "edit", screenshots(tmp_path), what=re.compile(r"5 steps each"))
    expect(button).to_be_enabled(timeout=WAIT_MS)  # disabled only while it ran
    # The new answer comes into view, its start on the screen: it sits below the form, and a new one out of sight
    # looked like no change at all.
    page.wait_for_timeout(1000)
    where = page.locator("#edit-summary").bounding_box()
    assert where and 8 <= where["y"] <= 900 - 160, where  # with a little room above it (scroll-margin-top)
    expect(page.locator("#edit-bundle")).to_contain_text("propgrad-chelsea-darken-object-vs-background",
                                                         timeout=WAIT_MS)
    steps.fill("11")
    steps.press("Tab")


def test_an_example_sets_every_control_of_its_preset(page):
    page.get_by_role("tab", name="Diffusion & region edits").click()
    page.get_by_text("Coffee cup, hue rotated: ImageNet classifier").click()
    summary = page.locator("#edit-summary")
    expect(summary).to_contain_text("Example loaded", timeout=30_000)
    expect(page.locator("#edit-editor input")).to_have_value("parametric: hue")
    expect(page.locator("#edit-end input")).to_have_value("180")
    expect(page.locator("#edit-steps input[type=number]")).to_have_value("12")
    regions = page.locator("#edit-regions")
    assert regions.get_by_label("whole image").is_checked()
    assert not regions.get_by_label("object (segmenter)").is_checked()
    models = page.locator("#edit-models")
    assert models.get_by_label("EfficientNet-Lite0 (ImageNet)").is_checked()
    assert not models.get_by_label("ConvMixer cats vs dogs, unbiased (authors)").is_checked()
    expect(page.locator("#edit-outputs textarea, #edit-outputs input").first).to_have_value("")
    # Picking another edit by hand gives that edit's own end value (darken's 0.85 stayed: a blur of 0.85 px); a preset
    # keeps its own (the hue preset's 180 above, the default's 0.85 below).
    page.locator("#edit-editor input").click()
    page.get_by_role("option", name="parametric: blur").click()
    expect(page.locator("#edit-end input")).to_have_value("8")
    expect(page.locator("#edit-end")).to_contain_text("blur radius (px)")
    # Back to the default preset for the other tests.
    page.get_by_text("Fur vs background: a light cat darkened").click()
    expect(page.locator("#edit-editor input")).to_have_value("parametric: darken")
    expect(page.locator("#edit-end input")).to_have_value("0.85")


def test_a_phone_sees_the_answer_and_can_reach_run(server, browser, tmp_path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page = context.new_page()
    page.goto(server, wait_until="load", timeout=60_000)
    folder = screenshots(tmp_path)
    text = check_answer(page, "edit", folder, header=False)
    assert "strong and systematic" in text  # a card per row, the reading in words
    # Each card names its numbers as the desktop header does (the CSS escape of the no-break space once took the
    # next letters for hex digits: "\00a0F" drew U+0A0F, "\00a0ad" drew U+A0AD).
    cells = page.locator("#edit-summary .ranked-table tbody tr").first.locator("td")
    named = cells.evaluate_all("tds => tds.map(td => getComputedStyle(td, '::before').content)")
    assert named[5] == '"E[|grad_X\u00a0F|]\u00a0"' and named[7] == '"adjusted\u00a0p\u00a0"', named
    assert named[1] == '"\u00b7\u00a0"', named  # "object: darken · dark-cats bias", not the two names run together
    # The flips and signif. cells too, named ("yes"/"no" alone, or left out, a phone's reader lost them); a
    # comparison's signif. judges its adjusted p and follows it.
    assert named[4] == '"flips\u00a0"' and named[8] == '"signif.\u00a0"', named
    # A single run's card ends in its tier, named so (its ninth column is a comparison's signif.), its signif. eighth.
    page.goto(f"{server}?tab=patch", wait_until="load", timeout=60_000)
    check_answer(page, "patch", folder, header=False)
    single = page.locator("#patch-summary .ranked-table tbody tr").first.locator("td")
    single_named = single.evaluate_all("tds => tds.map(td => getComputedStyle(td, '::before').content)")
    assert single_named[7] == '"signif.\u00a0"' and single_named[8] == '"tier\u00a0"', single_named
    page.goto(server, wait_until="load", timeout=60_000)
    check_answer(page, "edit", folder, header=False)
    # The legend explains the flips and signif. cells the cards show.
    legend = page.locator("#edit-summary").inner_text()
    assert "adjusted p: Benjamini-Hochberg" in legend and "flips: the prediction flips" in legend, legend
    # The tabs that do not fit are behind a button that says so (gradio draws a bare "...").
    more = page.locator("button[aria-label='More tabs']")
    assert more.evaluate("b => getComputedStyle(b, '::after').content") == '"more tabs"'
    run = page.locator("#edit-run")
    box = run.bounding_box()
    assert box and box["y"] + box["height"] <= 844, box  # in reach on the first screen (it stays at the bottom)
    # Scroll through once so that every lazily loaded picture is there, then save the page for review.
    for _ in range(20):
        page.mouse.wheel(0, 500)
        page.wait_for_timeout(100)
    expect(page.locator("#edit-strip img")).to_have_count(1, timeout=WAIT_MS)
    page.locator("#edit-strip").scroll_into_view_if_needed()
    # The full-screen button sits above the figure, not on its title (it covered "(0 = original, 1 = full)").
    button = page.locator("#edit-strip .icon-button-wrapper").bounding_box()
    picture = page.locator("#edit-strip img").bounding_box()
    assert button and picture and button["y"] + button["height"] <= picture["y"] + 1, (button, picture)
    shot = folder / "phone-390.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    # A form error comes into view above the floating Run button (it used to land just below the screen).
    page.locator("#edit-outputs textarea, #edit-outputs input").first.fill("zebra crossing")
    page.evaluate("window.scrollTo(0, 0)")
    run.click()
    expect(page.locator("#edit-error")).to_contain_text("zebra", timeout=60_000)
    page.wait_for_timeout(1000)
    where = page.locator("#edit-error").bounding_box()
    assert where and 0 <= where["y"] and where["y"] + where["height"] <= 844 - 72, where
    context.close()


def test_a_result_says_so_when_its_controls_were_changed_after_it(page):
    """A new user set the steps from 11 to 5 without pressing Run and read the old answer ("11 steps each") as the
    new settings' answer."""
    page.get_by_role("tab", name="Patch blending").click()
    check_answer(page, "patch", Path("."))
    assert not page.locator("#patch-stale").count()
    box = page.locator("#patch-patches input[type=checkbox]").first
    box.click()
    expect(page.locator("#patch-stale")).to_contain_text("changed after this result was made", timeout=20_000)
    assert page.locator("#patch-stale").is_visible()
    box.click()
    page.locator("#patch-run").click()  # the next result takes the notice away
    expect(page.locator("#patch-stale")).to_have_count(0, timeout=10_000)
    check_answer(page, "patch", Path("."))
    expect(page.locator("#patch-run")).to_have_text("Run", timeout=WAIT_MS)
    assert not page.locator("#patch-stale").count()
    # Changed while a run is under way (which read the controls before): its result is stale when it lands.
    page.locator("#patch-run").click()
    expect(page.locator("#patch-summary")).to_contain_text("Running...", timeout=10_000)
    box.click()
    box.click()
    expect(page.locator("#patch-run")).to_have_text("Run", timeout=WAIT_MS)
    expect(page.locator("#patch-stale")).to_have_count(1, timeout=10_000)
    page.locator("#patch-run").click()
    expect(page.locator("#patch-stale")).to_have_count(0, timeout=10_000)
    # The run under way first: the last answer, still on the page for a moment, passed for the new one and was then
    # read as "Running...".
    expect(page.locator("#patch-summary")).to_contain_text("Running...", timeout=10_000)
    check_answer(page, "patch", Path("."))
    expect(page.locator("#patch-run")).to_have_text("Run", timeout=WAIT_MS)


def test_bad_input_is_shown_once_and_clears_the_old_result(page):
    page.get_by_role("tab", name="Patch blending").click()
    check_answer(page, "patch", Path("."))
    boxes = page.locator("#patch-patches input[type=checkbox]")
    ticked = [number for number in range(boxes.count()) if boxes.nth(number).is_checked()]
    for number in ticked:
        boxes.nth(number).uncheck()
    page.locator("#patch-run").click()
    # Once, beside the Run button (Markdown shows the box's name as code).
    expect(page.locator("#patch-error")).to_contain_text("patches is empty", timeout=60_000)
    expect(page.locator("#patch-summary")).to_contain_text("This run failed", timeout=30_000)
    assert not page.locator("#patch-summary").get_by_text("Reading:").count()  # the old answer is gone
    # ... and its figures with it, frames and all (an empty frame read as a figure that did not load).
    expect(page.locator("#patch-strip")).to_be_hidden()
    expect(page.locator("#patch-curves")).to_be_hidden()
    assert not page.get_by_text("Traceback").count()
    for number in ticked:
        boxes.nth(number).check()
    page.locator("#patch-run").click()  # the next run's figures show again
    check_answer(page, "patch", Path("."))
    expect(page.locator("#patch-strip img")).to_be_visible(timeout=WAIT_MS)


def test_a_file_that_is_not_an_image_is_refused_as_it_arrives(server, browser, tmp_path):
    """It used to sit in the box; Run then failed in gradio's decoding with no message and stayed 'Running...'."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        page.goto(server, wait_until="load", timeout=60_000)
        page.get_by_role("tab", name="Patch blending").click()
        check_answer(page, "patch", tmp_path)
        fake = tmp_path / "holiday.png"
        fake.write_text("not an image")
        page.locator("[role=tabpanel]:visible input[type=file]").first.set_input_files(str(fake))
        expect(page.locator(".toast-body").first).to_contain_text("'holiday.png' is not a readable image",
                                                                  timeout=60_000)
        page.locator("#patch-run").click()
        expect(page.locator("#patch-error")).to_contain_text("image is missing", timeout=60_000)
        expect(page.locator("#patch-run")).to_have_text("Run", timeout=30_000)
        assert not page.get_by_text("Traceback").count()
    finally:
        context.close()


def test_training_dynamics_tab_when_the_lesion_checkpoints_ship(page):
    from propgrad.app.tabs.dynamics import dynamics_variants

    if not dynamics_variants():
        pytest.skip("the lesion scenario's per-epoch checkpoints are not in this build")
    page.get_by_role("tab", name="Training dynamics").click()
    # Like the other tabs: the default answer with its reading is there before any click.
    expect(page.locator("#dynamics-summary")).to_contain_text("Reading:", timeout=WAIT_MS)
    # A form error is said beside Run, as on the other tabs, and Run comes back (it stayed "Running..." until the
    # page was reloaded).
    variants = page.locator("#dynamics-variants input[type=checkbox]")
    ticked = [box for box in variants.all() if box.is_checked()]
    for box in ticked:
        box.uncheck()
    page.locator("#dynamics-run").click()
    expect(page.locator("#dynamics-error")).to_contain_text("tick at least one", timeout=60_000)
    expect(page.locator("#dynamics-run")).to_be_enabled(timeout=60_000)
    expect(page.locator("#dynamics-summary")).to_contain_text("This run failed")
    for box in ticked:
        box.check()
    page.locator("#dynamics-run").click()
    expect(page.locator("#dynamics-error")).to_be_hidden(timeout=WAIT_MS)
    table = page.locator("#dynamics-table")
    expect(table).to_contain_text(re.compile(r"0\.\d{3}"), timeout=WAIT_MS)
    expect(table).to_contain_text("systematic", timeout=WAIT_MS)
    # Like the other tabs, its download is the report's zip (report.html, dynamics.json, the CSV and the plot).
    expect(page.locator("#dynamics-bundle")).to_contain_text(re.compile(r"propgrad-melanoma-\d+-training-dynamics-[0-9a-f]{6}\s*\.zip"), timeout=WAIT_MS)
    assert not page.get_by_text("Traceback").count()


def test_a_phone_reads_the_checkpoints_as_cards(server, browser):
    from propgrad.app.tabs.dynamics import dynamics_variants

    if not dynamics_variants():
        pytest.skip("the lesion scenario's per-epoch checkpoints are not in this build")
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page = context.new_page()
    try:
        page.goto(server + "?tab=dynamics", wait_until="load", timeout=60_000)
        expect(page.locator("#dynamics-summary")).to_contain_text("Reading:", timeout=WAIT_MS)
        # In place of the table, whose numbers sat out of sight: one card per checkpoint, folded under the reading.
        expect(page.locator("#dynamics-table")).to_be_hidden()
        cards = page.locator("#dynamics-summary .checkpoint-cards")
        cards.locator("summary").click()
        first = cards.locator("li").first
        expect(first).to_contain_text(re.compile(r"epoch 1: .*mean p\(melanoma\) \d\.\d\d → \d\.\d\d "
                                                 r"\(change [+-][\d.]+\); E\[\|grad_X\sF\|\] [\d.e-]+, p [\d.e-]+"))
        box = first.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, box  # nothing to swipe
    finally:
        context.close()


def test_a_phone_shows_the_figures_whole(server, browser):
    """Scrolled sideways at a legible width, the comparison's curves showed one panel and half of the other (the
    fur's, where the dark-cats model flips, out of sight); they are shown whole now, with a note to zoom."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page = context.new_page()
    try:
        page.goto(server, wait_until="load", timeout=60_000)
        expect(page.locator("#edit-summary")).to_contain_text("The answer", timeout=WAIT_MS)
        for part in ("strip", "curves"):
            # Loaded when scrolled to (the browser's lazy loading): until then the picture has no size.
            page.locator(f"#edit-{part}").scroll_into_view_if_needed()
            image = page.locator(f"#edit-{part} img").first
            expect(image).to_be_visible(timeout=30_000)
            box = image.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (part, box)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 391
    finally:
        context.close()


def test_no_late_zip_lands_after_a_preset_was_loaded(page):
    page.get_by_role("tab", name="Diffusion & region edits").click()
    expect(page.locator("#edit-run")).to_be_enabled(timeout=WAIT_MS)
    page.locator("#edit-run").click()
    expect(page.locator("#edit-summary")).to_contain_text("Running", timeout=30_000)
    page.get_by_text("Cat, dimmed: ImageNet classifier").click()
    summary, bundle = page.locator("#edit-summary"), page.locator("#edit-bundle")
    expect(summary).to_contain_text("Example loaded", timeout=30_000)
    page.wait_for_timeout(8_000)  # longer than the run, its animation, null plot and zip take
    expect(summary).to_contain_text("Example loaded")
    assert ".zip" not in bundle.inner_text()
    expect(page.locator("#edit-run")).to_be_enabled()
    # Picking another edit by hand gives that edit's own end value (darken's 0.85 stayed: a blur of 0.85 px); a preset
    # keeps its own (the hue preset's 180 above, the default's 0.85 below).
    page.locator("#edit-editor input").click()
    page.get_by_role("option", name="parametric: blur").click()
    expect(page.locator("#edit-end input")).to_have_value("8")
    expect(page.locator("#edit-end")).to_contain_text("blur radius (px)")
    # Back to the default preset for the other tests.
    page.get_by_text("Fur vs background: a light cat darkened").click()
    expect(page.locator("#edit-editor input")).to_have_value("parametric: darken")
    expect(page.locator("#edit-end input")).to_have_value("0.85")


def test_a_study_shows_no_empty_animation_and_names_its_figure(server, browser):
    """A study answered into the single run's layout: its score-against-flips plot sat under "Null distributions:
    how the shuffle test decided", and "Animation" opened on nothing."""
    from propgrad.app import shared
    from propgrad.paths import ASSETS

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(f"{server}?tab=patch", wait_until="load", timeout=60_000)
    expect(page.locator("#patch-summary")).to_contain_text("patch opacity", timeout=WAIT_MS)
    panel = page.locator("[role=tabpanel]:visible")
    panel.get_by_text("Study (optional)").first.click()
    panel.locator("#patch-study input[type=file]").set_input_files(
        [str(ASSETS / "examples" / name) for name in ("coffee.jpg", "rocket.jpg")])
    page.wait_for_timeout(2_000)
    page.locator("#patch-run").click()
    expect(page.locator("#patch-summary")).to_contain_text("Study: 2 images", timeout=WAIT_MS)
    expect(page.locator("#patch-animation-fold")).to_be_hidden()
    expect(page.locator("#patch-null-fold")).to_contain_text(shared.STUDY_FOLD)
    # A preset is a single run again: both accordions as they were.
    panel.locator(".gallery-item").first.click()
    expect(page.locator("#patch-summary")).to_contain_text("Example loaded", timeout=30_000)
    expect(page.locator("#patch-animation-fold")).to_be_visible()
    expect(page.locator("#patch-null-fold")).to_contain_text(shared.NULL_FOLD)
    context.close()


def test_turntable_example_fills_the_frames(page):
    page.get_by_role("tab", name="Turntable frames").click()
    page.get_by_text("Rendered mug, every third frame (12)").click()
    page.locator("#turntable-run").click()
    expect(page.locator("#turntable-summary")).to_contain_text("12 steps", timeout=WAIT_MS)


def test_frames_uploaded_over_the_example_replace_it(page, tmp_path):
    """gradio's box added an upload to the 36 mug frames, and Run scored both interleaved by file name."""
    from PIL import Image

    page.get_by_role("tab", name="Turntable frames").click()
    frames = []
    for i, colour in enumerate(("red", "green", "blue", "white")):
        frames.append(str(tmp_path / f"mine_{i}.png"))
        Image.new("RGB", (64, 64), colour).save(frames[-1])
    page.locator("[role=tabpanel]:visible input[type=file]").first.set_input_files(frames)
    listed = page.locator("[role=tabpanel]:visible table").first
    expect(listed).to_contain_text("mine_3", timeout=60_000)
    expect(listed).not_to_contain_text("mug_000", timeout=60_000)
    # Their turn is unknown: numbered, not read as the mug's 360 degrees.
    rotation = page.get_by_label("Total rotation covered by the frames (degrees; 0 = number them)")
    expect(rotation).to_have_value("0", timeout=30_000)
    page.locator("#turntable-run").click()
    expect(page.locator("#turntable-summary")).to_contain_text("4 steps", timeout=WAIT_MS)
    expect(page.locator("#turntable-summary")).not_to_contain_text("degrees")
    page.get_by_text("Rendered mug, 36 frames over 360 degrees").click()
    expect(rotation).to_have_value("360", timeout=30_000)
    # Once the example has fully loaded (its reset of the rotation's owner included), not typed over meanwhile.
    expect(page.locator("#turntable-summary")).to_contain_text("Example loaded", timeout=30_000)
    page.wait_for_timeout(500)  # the reset runs beside "Example loaded", on the same event, unqueued
    # A full turn typed by the visitor is theirs: an upload keeps it.
    rotation.fill("360")
    rotation.press("Tab")
    page.locator("[role=tabpanel]:visible input[type=file]").first.set_input_files(frames)
    expect(listed).not_to_contain_text("mug_000", timeout=60_000)
    expect(rotation).to_have_value("360")
    page.get_by_text("Rendered mug, 36 frames over 360 degrees").click()


def test_ticking_the_painted_region_shows_the_canvas_and_upload(page):
    page.get_by_role("tab", name="Diffusion & region edits").click()
    canvas_label = page.get_by_text("Paint the region")
    assert not canvas_label.count() or not canvas_label.first.is_visible()
    page.locator("#edit-regions").get_by_label("painted or uploaded mask").check()
    expect(page.get_by_text("Paint the region").first).to_be_visible(timeout=10_000)
    page.locator("#edit-regions").get_by_label("painted or uploaded mask").uncheck()


def test_a_preset_brings_run_into_view(page):
    """The presets sit under the form and Run above it: "press Run" pointed at a button out of sight."""
    page.get_by_role("tab", name="Diffusion & region edits").click()
    preset = page.get_by_text("Fur vs background: a dark dog darkened")
    preset.scroll_into_view_if_needed()
    page.mouse.wheel(0, 400)  # as a reader scrolled down to the presets
    preset.click()
    expect(page.locator("#edit-summary")).to_contain_text("Example loaded", timeout=30_000)
    expect(page.locator("#edit-run")).to_be_in_viewport(timeout=10_000)
    # Picking another edit by hand gives that edit's own end value (darken's 0.85 stayed: a blur of 0.85 px); a preset
    # keeps its own (the hue preset's 180 above, the default's 0.85 below).
    page.locator("#edit-editor input").click()
    page.get_by_role("option", name="parametric: blur").click()
    expect(page.locator("#edit-end input")).to_have_value("8")
    expect(page.locator("#edit-end")).to_contain_text("blur radius (px)")
    # Back to the default preset for the other tests.
    page.get_by_text("Fur vs background: a light cat darkened").click()
    expect(page.locator("#edit-editor input")).to_have_value("parametric: darken")
    expect(page.locator("#edit-end input")).to_have_value("0.85")
