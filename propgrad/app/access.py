"""What the page gives readers who do not see it as most do: words for the figures, form errors read out, a focus
that shows, and text that keeps its contrast.

An audit found the result figures as ``<img alt="">`` (a screen reader skipped the strip and the curves), a form
error that nothing announced, checkboxes and sliders whose keyboard focus changed no pixel, and gradio's default
theme drawing its helper text (the missing-weights notes among it) at 1.9:1 and the Run button's white on orange at
2.8:1, where WCAG AA asks for 4.5:1.
"""
from __future__ import annotations

import json

import gradio as gr

# Each result figure, by the end of its element id: what it shows, for those who cannot see it (the answer above it
# says what the figure found; the alt text says where to look).
FIGURE_WORDS = {
    "-strip": "Image strip: the input at every step of the intervention, each labelled with its step and property "
              "value. The answer above says how gradually the images change.",
    "-curves": "Output curves: each model's output of interest along the steps, flips of the predicted class marked "
               "with diamonds. The answer and the table above read each curve in words.",
    "-null": "Null distributions: each score against the scores of shuffled step orders (the shuffle test). The "
             "table above gives each p-value.",
    "-animation": "Animation: every step of the intervention in turn, captioned with its step.",
    "screen-figure": "The top properties of the screen: each one's strongest step and its output curve. The ranked "
                     "table above reads each in words.",
    "screen-slide": "The top three properties of the screen, drawn for a projector.",
    "dynamics-curves": "What every checkpoint sees along the intervention, and its score and share of flipped series "
                       "per epoch. The table above gives each checkpoint's numbers.",
}

SCRIPT = r"""
() => {
  const WORDS = __WORDS__;
  // A figure's words by its id: its own entry, else the entry its id ends with ("-curves" is every tab's curves, but
  // not the training dynamics', which has its own).
  const wordsFor = (id) => WORDS[id] ||
    WORDS[Object.keys(WORDS).find((end) => end.startsWith("-") && id.endsWith(end))];
  const figures = Object.keys(WORDS).map((end) => end.startsWith("-") ? `[id$='${end}']` : `#${end}`).join(", ");
  // One live region, read out when a form error appears (role=alert set on a box that is already there is not).
  const live = document.createElement("div");
  live.id = "propgrad-announcer";
  live.className = "visually-hidden";
  live.setAttribute("aria-live", "assertive");
  document.body.append(live);
  let said = new WeakMap();
  // Run pressed again: the same error, shown again, is read out again (its box never left the page).
  document.addEventListener("click", (event) => {
    if (event.target.closest && event.target.closest(".run-button, #screen-run")) said = new WeakMap();
  }, true);
  let queued = false;
  function pass() {
    queued = false;
    for (const block of document.querySelectorAll(figures)) {
      const words = wordsFor(block.id);
      for (const img of block.querySelectorAll("img")) if (words && img.alt !== words) img.alt = words;
    }
    for (const box of document.querySelectorAll(".form-error")) {
      // textContent first: it costs no layout, and most passes find the boxes empty.
      const text = box.textContent.trim() && box.offsetParent !== null ? box.innerText.trim() : "";
      if (text && said.get(box) !== text) live.textContent = text;
      said.set(box, text);
    }
  }
  new MutationObserver(() => { if (!queued) { queued = true; requestAnimationFrame(pass); } })
    .observe(document.body, {childList: true, subtree: true, characterData: true, attributes: true,
                             attributeFilter: ["src", "style", "class"]});
  pass();
}
"""

CSS = """
.visually-hidden { position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; }
/* The dark theme keeps gradio's lighter orange for its accents: the light theme's darker one (see theme()) read at
   3.7:1 as the selected tab's name on the dark page. */
.dark { --color-accent: #f97316; }
/* The form's error in the dark theme: #b42318 on the dark page read at 2.9:1. */
.dark .form-error { color: #ff9d8f !important; }
.dark .form-error * { color: #ff9d8f !important; }  /* a rule of its own: gradio scopes only a list's first ".dark" */
/* A checked checkbox and a slider looked the same focused as not. */
input[type=checkbox]:focus-visible, input[type=radio]:focus-visible, input[type=range]:focus-visible {
  outline: 3px solid var(--color-accent) !important; outline-offset: 2px; }
"""


def theme() -> gr.themes.Base:
    """Gradio's default theme with AA contrast for the text and controls the audit measured under it: helper and
    info text (the weights-missing notes) #bbbbc2 on white, 1.9:1, now zinc-500, 4.8:1; the Run button and the
    selected tab's orange on white, 2.8:1, now orange-700, 5.2:1; an input's focus border light blue, 1.8:1, now
    blue-600, 5.2:1."""
    return gr.themes.Default().set(
        body_text_color_subdued="*neutral_500", body_text_color_subdued_dark="*neutral_400",
        button_primary_background_fill="*primary_700", button_primary_background_fill_hover="*primary_800",
        button_primary_background_fill_dark="*primary_700",
        button_primary_border_color="*primary_700", color_accent="*primary_700",
        input_border_color_focus="*secondary_600",
    )


def script() -> str:
    """The browser script with the figures' words filled in."""
    return SCRIPT.replace("__WORDS__", json.dumps(FIGURE_WORDS))
