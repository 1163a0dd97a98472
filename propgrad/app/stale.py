"""A result whose controls were changed after it was made says so, until the next run replaces it.

A new user set the steps from 11 to 5 without pressing Run and read the old answer ("11 steps each") as the
answer to the new settings: a failed run and a preset clear the result (:mod:`propgrad.app.shared`), a changed
box did not. The browser script below puts a notice over a tab's result when one of the tab's own controls is
changed by hand (the Screen's section, the examples and the results themselves are not the tab's controls), and
takes it away as soon as the result changes (a run, a preset, a failed run). Nothing is sent to the server.
"""
from __future__ import annotations

import json

# The tabs whose controls make one result (each has ``<prefix>-run`` and ``<prefix>-summary``).
PREFIXES = ("edit", "patch", "turntable", "dynamics")
NOTICE = ("The controls were changed after this result was made: it still shows the earlier settings. Press Run to "
          "update it.")

SCRIPT = r"""
() => {
  const PREFIXES = __PREFIXES__, NOTICE = __NOTICE__;
  // A result is on the page: its reading, and no run under way.
  const isResult = (summary) => !!summary && summary.textContent.includes("Reading:") &&
    !summary.textContent.includes("Running...");
  const waiting = new Set();
  function mark(prefix) {
    const summary = document.getElementById(`${prefix}-summary`);
    if (summary && summary.textContent.includes("Running...")) {
      // The run under way read the controls before this change: its result is stale when it lands.
      if (waiting.has(prefix)) return;
      waiting.add(prefix);
      const landed = setInterval(() => {
        const now = document.getElementById(`${prefix}-summary`);
        if (now && now.textContent.includes("Running...")) return;
        clearInterval(landed);
        waiting.delete(prefix);
        mark(prefix);
      }, 300);
      return;
    }
    if (!isResult(summary) || document.getElementById(`${prefix}-stale`)) return;
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
  const RESULTS = "[id$='-summary'], [id$='-strip'], [id$='-curves'], [id$='-table'], [id$='-bundle'], " +
    "[id$='-stale'], #screen-section, .gallery, button.gallery-item";
  function changed(event) {
    const target = event.target;
    if (!target || !target.closest || target.closest(RESULTS)) return;
    // Clicks count where they change a value: a dropdown's choice, an image removed. (An image dropped or pasted
    // fires no input event: "drop" and "paste" are listened to as well.)
    if (event.type === "click" && !target.closest("[role=option], .options li, button[aria-label*='Remove' i], " +
                                                  "button[aria-label*='Clear' i]")) return;
    const prefix = PREFIXES.find((p) => {
      const panel = outermostPanel(document.getElementById(`${p}-run`));
      return panel && panel.contains(target);
    });
    if (prefix) mark(prefix);
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
    return SCRIPT.replace("__PREFIXES__", json.dumps(list(PREFIXES))).replace("__NOTICE__", json.dumps(NOTICE))
