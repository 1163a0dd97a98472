"""What the page gives readers who do not see it as most do (propgrad.app.access), in a real browser: the result
figures have words, a form error is read out, the keyboard's focus shows, and the text an audit measured keeps AA
contrast (4.5:1) in the light and the dark theme. Skips when Chromium or Playwright is missing.
"""
from __future__ import annotations

import re

import pytest

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

from propgrad.app.access import FIGURE_WORDS  # noqa: E402
from propgrad.testing.browser import MISSING, MISSING_REASON  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.skipif(MISSING, reason=MISSING_REASON)]

# WCAG's contrast ratio of an element's text against the first opaque background behind it.
CONTRAST = r"""(element) => {
  const channels = (colour) => colour.match(/[\d.]+/g).slice(0, 3).map(Number);
  const luminance = (colour) => {
    const [r, g, b] = channels(colour).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  let behind = element, background = null;
  while (behind) {
    const colour = getComputedStyle(behind).backgroundColor;
    if (colour && !/rgba\(.*, 0\)$/.test(colour) && colour !== "transparent") { background = colour; break; }
    behind = behind.parentElement;
  }
  background = background || getComputedStyle(document.body).backgroundColor;
  const [a, b] = [luminance(getComputedStyle(element).color), luminance(background)];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def _page(browser, server, dark: bool = False):
    page = browser.new_context(viewport={"width": 1440, "height": 900},
                               color_scheme="dark" if dark else "light").new_page()
    page.goto(server + ("?__theme=dark" if dark else ""), wait_until="load", timeout=60_000)
    expect(page.locator("#edit-summary")).to_contain_text("2 properties compared", timeout=240_000)
    return page


def test_result_figures_have_words_and_a_form_error_is_read_out(browser, server):
    page = _page(browser, server)
    for figure in ("edit-strip", "edit-curves"):
        image = page.locator(f"#{figure} img").first
        expect(image).to_have_attribute("alt", FIGURE_WORDS[figure[len("edit"):]], timeout=20_000)
    page.get_by_label("Edit end value (parametric; blank = the edit's default)").fill("-5")
    page.locator("#edit-run").click()
    announcer = page.locator("#propgrad-announcer")
    expect(announcer).to_contain_text("Cannot run: edit end value", timeout=60_000)
    assert announcer.get_attribute("aria-live") == "assertive"
    # The same error again, after Run is pressed again, is read out again (the box never left the page).
    announcer.evaluate("box => { box.textContent = ''; }")
    page.locator("#edit-run").click()
    expect(announcer).to_contain_text("Cannot run: edit end value", timeout=60_000)
    # The keyboard's focus on a checkbox shows (a checked one looked the same focused as not).
    page.locator("#edit-run").focus()
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.type") == "checkbox":
            break
    else:
        raise AssertionError("60 Tab presses after Run never reached a checkbox")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineWidth")
    assert float(outline.rstrip("px")) >= 2, outline


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_measured_text_keeps_aa_contrast(browser, server, dark):
    """The audit's measures under gradio's default theme: helper text 1.9:1, Run 2.8:1, the selected tab 2.8:1
    (light); the form's error 2.9:1 (dark)."""
    page = _page(browser, server, dark)
    measured = {
        "Run": page.locator("#edit-run"),
        "the selected tab": page.locator("[role=tab][aria-selected=true]").first,
        "helper text": page.get_by_text("object / background: the bundled U^2-Net-p").first,
    }
    page.get_by_label("Edit end value (parametric; blank = the edit's default)").fill("-5")
    page.locator("#edit-run").click()
    expect(page.locator("#edit-error")).to_contain_text("Cannot run", timeout=60_000)
    measured["the form's error"] = page.locator("#edit-error p").first
    ratios = {name: round(element.evaluate(CONTRAST), 2) for name, element in measured.items()}
    assert all(ratio >= 4.5 for ratio in ratios.values()), ratios


def test_a_narrow_window_says_how_to_see_a_whole_figure_with_what_it_has(browser, server):
    """A laptop zoomed to 200 % (720 CSS px, a mouse) was told to tap and pinch; and the phone's line read "tap
    ⤢for full screen" (CSS took the blank after the escape as the escape's end)."""
    hints, keys = {}, {}
    for touch in (False, True):
        context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=touch, is_mobile=touch)
        page = context.new_page()
        page.goto(server, wait_until="load", timeout=60_000)
        expect(page.locator(".result-wide").first).to_be_attached(timeout=60_000)
        hints[touch] = page.evaluate("() => getComputedStyle(document.querySelector('.result-wide'), '::before')"
                                     ".content")
        # The header's keys (Ctrl+Enter, n for the next preset) are for a keyboard: a phone's header left them out.
        keys[touch] = page.locator(".keys-hint").evaluate_all("spans => spans.map(span => span.offsetWidth > 0)")
        context.close()
    assert hints == {False: '"the whole figure: click \u2922 for full screen, or zoom in"',
                     True: '"the whole figure: tap \u2922 for full screen, or pinch to zoom"'}, hints
    assert keys == {False: [True, True], True: [False, False]}, keys


def test_the_answer_is_a_heading_to_a_screen_reader(browser, server):
    # A screen reader's "next heading" key found one heading on the whole page, the title.
    page = _page(browser, server)
    expect(page.locator("#edit-summary").get_by_role("heading", name="The answer.")).to_have_count(1)
    page.close()


def test_ctrl_enter_runs_the_form_the_keyboard_is_in(browser, server):
    # On the turntable tab Run sat 78 Tab presses from the top, behind a link and a remove button per frame.
    page = _page(browser, server)
    run = page.locator("#edit-run")
    expect(run).to_have_attribute("aria-keyshortcuts", "Control+Enter Meta+Enter")
    # From a ticked checkbox: it took the Enter as a click, and the run went without that model.
    model = page.get_by_label("ConvMixer cats vs dogs, unbiased (authors)").first
    expect(model).to_be_checked()
    model.focus()
    page.keyboard.press("Control+Enter")
    # The run starts: its button says so (it is disabled until the answer comes), then the answer is back.
    expect(run).to_have_text("Running...", timeout=10_000)
    expect(page.locator("#edit-summary")).to_contain_text("2 properties compared", timeout=240_000)
    expect(run).to_have_text("Run", timeout=240_000)
    expect(model).to_be_checked()
    page.close()


def test_a_phones_floating_run_gives_way_over_the_answer(browser, server):
    # Fixed at the bottom of the screen, Run covered the last two lines of the answer being read.
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(server, wait_until="load", timeout=60_000)
    expect(page.locator("#edit-summary")).to_contain_text("The answer.", timeout=240_000)
    run = page.locator("#edit-run")
    opacity = "b => getComputedStyle(b).opacity"
    assert run.evaluate(opacity) == "1"  # over the form, in reach
    page.locator("#edit-summary").scroll_into_view_if_needed()
    expect(page.locator("body")).to_have_class(re.compile("propgrad-past-form"), timeout=5_000)
    page.wait_for_timeout(400)
    assert run.evaluate(opacity) == "0" and run.evaluate("b => getComputedStyle(b).pointerEvents") == "none"
    page.evaluate("window.scrollTo(0, 0)")
    expect(page.locator("body")).not_to_have_class(re.compile("propgrad-past-form"), timeout=5_000)
    context.close()
