"""A result whose controls were changed after it was made says so, until the next run replaces it.

A new user set the steps from 11 to 5 without pressing Run and read the old answer ("11 steps each") as the
answer to the new settings: a failed run and a preset clear the result (:mod:`propgrad.app.shared`), a changed
box did not. The browser script below puts a notice over a result when one of the controls that make it is changed
by hand (the results themselves are not controls; the Screen's own boxes make only the Screen's result, the first
tab's make both, and a preset, which clears its tab's result, marks the Screen's), and takes it away as soon as the
result changes (a run, a preset, a failed run). Nothing is sent to the server.
"""
from __future__ import annotations

import json

# Each result: its ``<prefix>-summary``, the tab (by its ``<tab>-run``) whose controls make it, and the words that
# show it holds a result. The Screen uses the first tab's image, models and steps, and its own section's boxes
# (which the first tab's Run does not read); ``preset``: its tab's presets leave it standing (they clear only the
# tab's own result), so a preset marks it too (the Screen's chelsea ranking stood under the coffee preset's form).
RESULTS = ({"prefix": "edit", "tab": "edit", "marker": "Reading:"},
           {"prefix": "patch", "tab": "patch", "marker": "Reading:"},
           {"prefix": "turntable", "tab": "turntable", "marker": "Reading:"},
           {"prefix": "dynamics", "tab": "dynamics", "marker": "Reading:"},
           {"prefix": "screen", "tab": "edit", "marker": "The screen's answer", "preset": True})
NOTICE = ("The controls were changed after this result was made: it still shows the earlier settings. Press Run to "
          "update it.")

SCRIPT = r"""
() => {
  const RESULTS = __RESULTS__, NOTICE = __NOTICE__;
  // A run under way: the tab's own words, or gradio's progress shown over the summary.
  const running = (summary) => summary.textContent.includes("Running...") ||
    !!summary.querySelector("[data-testid=status-tracker]:not(.hide)");
  const waiting = new Set();
  function mark(result) {
    const prefix = result.prefix;
    const summary = document.getElementById(`${prefix}-summary`);
    if (!summary) return;
    if (running(summary)) {
      // The run under way read the controls before this change: its result is stale when it lands.
      if (waiting.has(prefix)) return;
      waiting.add(prefix);
      const landed = setInterval(() => {
        const now = document.getElementById(`${prefix}-summary`);
        if (now && running(now)) return;
        clearInterval(landed);
        waiting.delete(prefix);
        mark(result);
      }, 300);
      return;
    }
    if (!summary.textContent.includes(result.marker) || document.getElementById(`${prefix}-stale`)) return;
    const box = document.createElement("div");
    box.id = `${prefix}-stale`;
    box.className = "stale-notice";
    box.setAttribute("role", "status");
    box.textContent = NOTICE;
    summary.before(box);
    const watch = new MutationObserver(() => { box.remove(); watch.disconnect(); });
    watch.observe(summary, {childList: true, subtree: true, characterData: true});
  }
  const outermostPanel = (element) => {
    let panel = element && element.closest("[role=tabpanel]");
    while (panel && panel.parentElement && panel.parentElement.closest("[role=tabpanel]")) {
      panel = panel.parentElement.closest("[role=tabpanel]");
    }
    return panel;
  };
  const OUTPUTS = "[id$='-summary'], [id$='-strip'], [id$='-curves'], [id$='-table'], [id$='-bundle'], " +
    "[id$='-figure'], [id$='-cards'], [id$='-stale'], .gallery, button.gallery-item";
  function changed(event) {
    const target = event.target;
    if (!target || !target.closest) return;
    if (event.type === "click" && target.closest("button.gallery-item")) {
      for (const result of RESULTS) {
        const panel = outermostPanel(document.getElementById(`${result.tab}-run`));
        if (result.preset && panel && panel.contains(target)) mark(result);
      }
      return;
    }
    if (target.closest(OUTPUTS)) return;
    // Clicks count where they change a value: a dropdown's choice, an image removed. (An image dropped or pasted
    // fires no input event: "drop" and "paste" are listened to as well.)
    if (event.type === "click" && !target.closest("[role=option], .options li, button[aria-label*='Remove' i], " +
                                                  "button[aria-label*='Clear' i]")) return;
    for (const result of RESULTS) {
      const panel = outermostPanel(document.getElementById(`${result.tab}-run`));
      if (!panel || !panel.contains(target)) continue;
      if (result.prefix !== "screen" && target.closest("#screen-section")) continue;
      mark(result);
    }
  }
  for (const kind of ["input", "change", "click", "drop", "paste"]) document.addEventListener(kind, changed, true);
}
"""

CSS = """
.stale-notice { margin: 8px 0; padding: 8px 12px; border: 1px solid #f0b35b; border-radius: 8px;
  background: #fff4e5; color: #5c3b00; }
"""


def script() -> str:
    """The browser script with the tabs and the notice filled in."""
    return SCRIPT.replace("__RESULTS__", json.dumps(list(RESULTS))).replace("__NOTICE__", json.dumps(NOTICE))
