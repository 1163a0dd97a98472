"""Deep links into the app and the talk view.

``?tab=edit|patch|turntable|dynamics|screen&example=N`` opens that tab and runs its N-th preset (counted from 1
as the tab lists them); ``?example=<slug>`` finds a preset by its slug in any tab; ``?view=talk`` shows one result
per screen at projector size (1280x720): the strip, the curves and the reading (a comparison: its answer per
model) in large type, the controls folded
away, and the key ``n`` (or PageDown / the right arrow, what a presentation clicker sends) runs the next preset;
``?view=lessons`` leads to the executed lessons (their own address changes with every start of the server).

The page does what a visitor would do: the browser script below selects the tab, clicks the preset and presses
Run once the preset's values are in the form; the server only says which presets exist (:func:`config`) and
leaves the targeted tab's default answer out of the page load (:func:`wants_tab`), so that it cannot arrive after
the preset's own result and replace it. Slugs are made from the preset labels (:func:`slugify`), with short names
for the two fur-versus-background presets; ``docs/app-links.md`` lists them all.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

TABS = {  # slug -> (the tab's title on the page, its element prefix)
    "edit": ("Diffusion & region edits", "edit"),
    "patch": ("Patch blending", "patch"),
    "turntable": ("Turntable frames", "turntable"),
    "dynamics": ("Training dynamics", "dynamics"),
    "screen": ("Diffusion & region edits", "screen"),
}
SHORT = {
    "Fur vs background: a light cat darkened (the paper's Table 1 setup)": "fur-vs-background",
    "Fur vs background: a dark dog darkened": "dark-dog-fur-vs-background",
}
SCREEN_PRESETS = [("screen-whole-image", "Screen the first tab's image: every edit on the whole image (12 properties)"),
                  ("screen-all-regions", "Screen the first tab's image: every edit x whole image, object, background")]


@dataclass(frozen=True)
class Preset:
    tab: str  # the slug of its tab
    number: int  # from 1, as the tab lists it
    slug: str
    label: str


def slugify(label: str) -> str:
    """``"Coffee cup, hue rotated: ImageNet classifier"`` -> ``"coffee-cup-hue-rotated-imagenet-classifier"``.

    Examples
    --------
    >>> slugify("Rendered mug, every third frame (12)")
    'rendered-mug-every-third-frame-12'
    """
    if label in SHORT:
        return SHORT[label]
    return re.sub(r"[^a-z0-9]+", "-", label.lower().replace("'", "")).strip("-")


def presets() -> list[Preset]:
    """Every tab's presets, in the tabs' order and each tab's own order."""
    from .tabs import dynamics, edit, patch, turntable

    found: list[Preset] = []

    def add(tab: str, labels, slug_prefix: str = ""):
        for number, label in enumerate(labels, start=1):
            found.append(Preset(tab, number, slugify(slug_prefix + label), label))

    add("edit", edit.edit_examples()[1])
    add("patch", patch.patch_examples()[1])
    add("turntable", turntable.EXAMPLE_LABELS)
    variants = dynamics.dynamics_variants()
    if variants:
        # (the patch tab has melanoma presets too: the slug says which tab)
        add("dynamics", dynamics.dynamics_examples(variants)[1], slug_prefix="training dynamics ")
    for number, (slug, label) in enumerate(SCREEN_PRESETS, start=1):
        found.append(Preset("screen", number, slug, label))
    return found


def _query(query: str | dict) -> dict[str, str]:
    if isinstance(query, dict):
        return {str(k): str(v) for k, v in query.items()}
    text = urlsplit(query).query if "?" in query or "://" in query else query
    return {key: values[-1] for key, values in parse_qs(text).items()}


def resolve_query(query: str | dict) -> Preset | None:
    """The preset a query names (``"?tab=patch&example=2"``, ``"/?example=fur-vs-background"``), else None.

    Examples
    --------
    >>> resolve_query("/?example=fur-vs-background").tab
    'edit'
    >>> resolve_query("?tab=patch&example=1").number
    1
    >>> resolve_query("?example=no-such-preset") is None
    True
    """
    params = _query(query)
    example, tab = params.get("example", "").strip(), params.get("tab", "").strip().lower()
    if not example:
        return None
    known = presets()
    if example.isdigit():
        return next((p for p in known if p.tab == (tab or "edit") and p.number == int(example)), None)
    return next((p for p in known if p.slug == example.lower() and (not tab or p.tab == tab)), None)


def wants_tab(query: dict, tab: str) -> bool:
    """Whether the page's query runs a preset shown on ``tab``'s page (its default answer is then left out of the page
    load): the Screen's presets too, for the first tab, whose page holds the Screen (its default answer stood above
    the Screen's, two answers on one page).

    Examples
    --------
    >>> wants_tab({"tab": "screen", "example": "1"}, "edit"), wants_tab({"example": "2"}, "patch")
    (True, False)
    """
    preset = resolve_query(query)
    return preset is not None and TABS[preset.tab][0] == TABS[tab][0]


def config(lessons: str | None = None) -> dict:
    """What the browser script needs: each tab's title and prefix, and its presets' slugs and labels; ``lessons``
    the address of the lessons' pages, where ``?view=lessons`` leads."""
    tabs = {}
    for slug, (title, prefix) in TABS.items():
        tabs[slug] = {"title": title, "prefix": prefix, "presets": []}
    for preset in presets():
        tabs[preset.tab]["presets"].append({"slug": preset.slug, "label": preset.label})
    return {"tabs": tabs, "order": [slug for slug in TABS if tabs[slug]["presets"]], "lessons": lessons}


def markdown_table() -> str:
    """Every slug, its tab and number, and its label: the docs' table (``docs/app-links.md``)."""
    lines = ["| link | tab | preset |", "| --- | --- | --- |"]
    for preset in presets():
        lines.append(f"| `?example={preset.slug}` | `?tab={preset.tab}&example={preset.number}` | {preset.label} |")
    return "\n".join(lines)


# The browser side. ``CONFIG`` is replaced by :func:`config`'s JSON when the page is built.
SCRIPT = r"""
async () => {
  const CONFIG = __CONFIG__;
  const params = new URLSearchParams(window.location.search);
  const view = (params.get("view") || "").toLowerCase();
  const talking = view === "talk";
  // The lessons' pages live in a folder made at each start, so their own address changes with every restart of the
  // server; this one does not (a course page can link it).
  if (view === "lessons" && CONFIG.lessons) {
    window.location.replace(CONFIG.lessons);
    return;
  }
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  async function until(test, timeout = 120000) {
    const started = Date.now();
    while (Date.now() - started < timeout) {
      const value = test();
      if (value) return value;
      await sleep(100);
    }
    return null;
  }
  const visible = (el) => !!el && el.offsetParent !== null;
  const named = (selector, title) => [...document.querySelectorAll(selector)]
    .filter((b) => b.textContent.trim() === title);
  // On a phone gradio folds the tabs that do not fit into a menu of plain buttons: the tab's own button is then
  // hidden and a click on it does nothing, so the menu's button is the one to click.
  const tabButton = (title) => {
    const tabs = named("button[role=tab]", title);
    return tabs.find(visible) || named(".overflow-dropdown button", title)[0] || tabs[0];
  };
  const tabSelected = (title) => named("button[role=tab]", title).some((b) => b.getAttribute("aria-selected") === "true")
    || named(".overflow-dropdown button.selected", title).length > 0;
  const activePanel = () => [...document.querySelectorAll("[role=tabpanel]")].find(visible) || document;

  function exampleButton(panel, preset, number) {
    // (hidden in the talk view, where the examples fold away with the controls: a click still selects them)
    const items = [...panel.querySelectorAll("button.gallery-item")];
    const named = items.find((b) => b.textContent.trim() === preset.label);
    return named || items[number - 1] || null;
  }

  async function openTab(tab) {
    const button = tabButton(tab.title);
    if (button && !tabSelected(tab.title)) button.click();
    await until(() => button === undefined || tabSelected(tab.title), 10000);
    await sleep(300);
  }

  async function runScreen(number) {
    const section = await until(() => document.getElementById("screen-section"));
    if (!section) return false;
    const run = () => document.getElementById("screen-run");
    // Opened unless open: the talk view hides the Screen button itself, so "the button is not visible" read as
    // "closed", and its second preset closed the section it was shown in (an empty box for the whole run).
    // gradio 6 marks an open accordion's header "label-wrap open" (the page's CSS relies on it too, demo.py).
    const header = section.querySelector("button.label-wrap");
    const open = () => header ? header.classList.contains("open") : visible(run());
    if (!open()) {
      if (header) header.click();
      await until(() => open() && run(), 10000);
    }
    // Preset 1: the whole image only; preset 2: every region. (Ticked again until the boxes hold: the section's
    // controls are drawn when it opens.)
    const regionBoxes = () => [...document.getElementById("screen-section").querySelectorAll("input[type=checkbox]")]
      .filter((box) => ["object", "background"].includes(box.closest("label") ? box.closest("label").textContent.trim() : ""));
    for (let attempt = 0; attempt < 20; attempt++) {
      const wrong = regionBoxes().filter((box) => box.checked === (number === 1));
      if (!wrong.length && regionBoxes().length) break;
      wrong.forEach((box) => box.click());
      await sleep(300);
    }
    await sleep(300);
    run().click();
    document.getElementById("screen-section").scrollIntoView({block: "start"});
    return true;
  }

  // Where a preset stands among all that n walks through (the Screen's, a section of the first tab, are not
  // among them): "preset 5/5" then "preset 1/6" did not tell a speaker how many were left.
  const walked = () => CONFIG.order.filter((slug) => slug !== "screen");
  function badgeText(tabSlug, number) {
    const tab = CONFIG.tabs[tabSlug], label = tab.presets[number - 1].label;
    if (tabSlug === "screen") return `Screen preset ${number} of ${tab.presets.length}: ${label}`;
    const before = walked().slice(0, walked().indexOf(tabSlug))
      .reduce((count, slug) => count + CONFIG.tabs[slug].presets.length, 0);
    const all = walked().reduce((count, slug) => count + CONFIG.tabs[slug].presets.length, 0);
    return `preset ${before + number} of ${all}: ${label}`;
  }

  // From a preset's first step until its run has started: a second preset begun meanwhile (n pressed twice a second
  // apart, a clicker's double press) took the first one's "Example loaded" for its own, pressed Run before its own
  // values had arrived, and the loading of its values then cancelled that run: "Running..." for good.
  let starting = null;  // the preset starting, if any
  // Tab slug -> the number of the last preset run there, which the tab shows; the first tab opens on its first.
  const lastPreset = CONFIG.tabs[CONFIG.order[0]].presets.length ? {[CONFIG.order[0]]: 1} : {};
  // The talk bar's button says so meanwhile: an n pressed then is dropped, and a speaker saw nothing happen.
  const NEXT_LABEL = "next preset (n)";
  const startingShown = (on) => {
    const button = document.getElementById("propgrad-talk-next");
    if (!button) return;
    button.textContent = on ? "starting preset..." : NEXT_LABEL;
    button.setAttribute("aria-busy", on ? "true" : "false");
  };
  const release = (preset) => {
    if (starting !== preset) return;
    starting = null;
    startingShown(false);
  };

  async function runPreset(tabSlug, number) {
    const tab = CONFIG.tabs[tabSlug];
    if (!tab || !tab.presets[number - 1] || starting) return false;
    const preset = tab.presets[number - 1];
    starting = preset;
    startingShown(true);
    try {
      return await startPreset(tab, tabSlug, number);
    } finally {
      release(preset);
    }
  }

  async function startPreset(tab, tabSlug, number) {
    const preset = tab.presets[number - 1];
    await openTab(tab);
    window.propgradPreset = {tab: tabSlug, number: number, slug: preset.slug, label: preset.label};
    if (tabSlug !== "screen") lastPreset[tabSlug] = number;
    // The talk view's address names the preset on screen: a reload mid-talk (a crashed tab, a borrowed laptop)
    // comes back to it instead of to preset 1.
    nameInAddress(tabSlug, number);
    // The selected tab names the tab; the whole text stays on hover where the line is cut.
    nameBadge(badgeText(tabSlug, number), `(${tab.title}, its preset ${number} of ${tab.presets.length})`);
    // The Screen is a section of the first tab: shown in the talk view alone, in the tab's place, while its preset is.
    document.body.classList.toggle("propgrad-talk-screen", tabSlug === "screen");
    if (tabSlug === "screen") return runScreen(number);
    const item = await until(() => exampleButton(activePanel(), preset, number), 60000);
    if (!item) return false;
    const summary = () => document.getElementById(`${tab.prefix}-summary`);
    item.click();
    if (summary()) {
      await until(() => summary().textContent.includes("Example loaded"), 30000);
      await sleep(200);
    } else {
      await sleep(1500);  // a tab without a summary (training dynamics): give the preset's image time to arrive
    }
    const run = () => document.getElementById(`${tab.prefix}-run`);
    if (!run()) return false;
    const idle = () => !run().disabled && run().textContent.trim() === "Run";
    // A run cancelled by the loading of the values it was pressed for (a preset begun as the previous one's run
    // started) leaves "Running..." over an idle Run button: pressed again, while this preset is still the one on screen.
    const stuck = () => idle() && summary() && summary().textContent.includes("The new result appears here when it is ready");
    for (let attempt = 0; attempt < 3; attempt++) {
      run().click();
      await until(() => !idle(), 5000);
      release(preset);  // the run has started: the next preset may cancel it
      // Finished: Run was disabled while it ran and is enabled again (window.propgradPreset.done, for tests).
      await until(idle, 600000);
      await sleep(500);
      if (!stuck() || window.propgradPreset.slug !== preset.slug) break;
    }
    if (window.propgradPreset.slug === preset.slug) window.propgradPreset.done = true;
    return true;
  }
  window.propgradRunPreset = runPreset;

  // The intro's "the answer is below the controls" goes to the open tab's answer: on a phone it sat three screens
  // down, on a laptop a screen, under the form.
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a[href='#answer']");
    if (!link) return;
    event.preventDefault();
    const answer = activePanel().querySelector("[id$='-summary']");
    if (answer) answer.scrollIntoView({behavior: "smooth", block: "start"});
  });

  function findPreset() {
    const example = (params.get("example") || "").trim().toLowerCase();
    const tabSlug = (params.get("tab") || "").trim().toLowerCase();
    if (/^[0-9]+$/.test(example)) return [tabSlug || "edit", parseInt(example, 10)];
    for (const slug of CONFIG.order) {
      if (tabSlug && slug !== tabSlug) continue;
      const index = CONFIG.tabs[slug].presets.findIndex((p) => p.slug === example);
      if (index >= 0) return [slug, index + 1];
    }
    return example ? null : (tabSlug && CONFIG.tabs[tabSlug] ? [tabSlug, 0] : null);
  }

  // -- the talk view: only the result, large, one preset after another --------------------------------------------
  function hideAround(element, stop) {
    // Hide every sibling, up to ``stop``, of what leads to ``element``.
    let node = element;
    while (node && node !== stop && node.parentElement) {
      for (const sibling of node.parentElement.children) {
        if (sibling !== node && !sibling.contains(element) && sibling.id !== "propgrad-talk-bar" &&
            sibling.id !== "propgrad-link-notice" &&
            !sibling.querySelector("[role=tabpanel], [id$='-summary']")) sibling.classList.add("talk-hidden");
      }
      node = node.parentElement;
    }
  }

  // A tab the speaker opened by hand: the badge named the preset of the tab left behind ("preset 1 of 16: Fur vs
  // background" over the patch tab). It names what the tab shows, and where it has no preset run, what n does.
  // The badge's own text is kept while another tab is shown, and comes back with its tab.
  let badgeOwn = null;
  function nameBadge(text, more = "") {
    const badge = document.getElementById("propgrad-preset-badge");
    if (!badge) return;
    badge.textContent = text;
    badge.title = more ? `${text} ${more}` : text;
    badgeOwn = null;
  }
  // The tab selected now, and the tab the badge names (the Screen is a section of the first tab, not a tab).
  const shownTab = () => CONFIG.order.find((slug) => slug !== "screen" && tabSelected(CONFIG.tabs[slug].title));
  const namedTab = () => {
    const current = window.propgradPreset || {tab: CONFIG.order[0]};
    return current.tab === "screen" ? CONFIG.order[0] : current.tab;
  };
  // A tab showing its default: what n does there.
  const defaultText = (slug) => `${CONFIG.tabs[slug].title}: its default; n runs its preset 1 of ` +
    `${CONFIG.tabs[slug].presets.length}`;
  // What a tab shows: the last preset run there, else its default.
  const shownText = (slug) => lastPreset[slug] ? badgeText(slug, lastPreset[slug]) : defaultText(slug);
  // The talk view's address: the preset on screen (its slug), or a tab showing its default (?tab=); the other
  // parameters stay (gradio's ?__theme=dark among them).
  function nameInAddress(tabSlug, number) {
    if (!talking) return;
    const address = new URL(window.location.href);
    const preset = number ? CONFIG.tabs[tabSlug].presets[number - 1] : null;
    if (preset) address.searchParams.set("example", preset.slug);
    else address.searchParams.delete("example");
    if (preset) address.searchParams.delete("tab");
    else address.searchParams.set("tab", tabSlug);
    if (address.href !== window.location.href) history.replaceState(history.state, "", address);
  }

  let addressByHand = false;  // whether the address names a tab clicked by hand (nameShownTab)
  function nameShownTab() {
    const badge = document.getElementById("propgrad-preset-badge");
    const shown = shownTab();
    // A preset on its way to its tab is named by startPreset once there: meanwhile the new tab flashed "its default".
    if (!badge || !shown || starting) return;
    // A tab clicked by hand is named in the address too: a reload went back to the preset of the tab before. (Not
    // before: the page's load event reads the address, and an example named there kept the default answer away.)
    if (shown !== namedTab()) {
      nameInAddress(shown, lastPreset[shown] || 0);
      addressByHand = true;
    } else if (addressByHand) {
      const current = window.propgradPreset || {tab: shown, number: lastPreset[shown] || 0};
      nameInAddress(current.tab, current.number);
      addressByHand = false;
    }
    if (shown === namedTab()) {
      if (badgeOwn) [badge.textContent, badge.title, badgeOwn] = [...badgeOwn, null];
      return;
    }
    const text = shownText(shown);
    if (badge.textContent === text) return;
    if (!badgeOwn) badgeOwn = [badge.textContent, badge.title];
    badge.textContent = badge.title = text;
  }

  function markTalk() {
    // The Screen is shown in the first tab's place only while its preset is what the speaker looks at: not once
    // another tab is picked or the first tab's own Run is pressed by hand (the class stuck, hiding every result).
    if (document.body.classList.contains("propgrad-talk-screen") &&
        !(window.propgradPreset && window.propgradPreset.tab === "screen" &&
          tabSelected(CONFIG.tabs[CONFIG.order[0]].title))) {
      document.body.classList.remove("propgrad-talk-screen");
      // The first tab shows its own result from now on: the badge names that, not the Screen's preset (which came
      // back with the first tab after a trip to another).
      const first = CONFIG.order[0];
      window.propgradPreset = {tab: first, number: lastPreset[first] || 0};
      nameBadge(shownText(first));
    }
    nameShownTab();
    // The page's header (title, the method accordion) goes too; the tab bar stays.
    const tabs = document.querySelector("button[role=tab]");
    const container = document.querySelector(".gradio-container");
    if (tabs && container) {
      const bar = tabs.closest("[role=tablist]") || tabs.parentElement;
      const wrapper = bar.closest(".tabs") || bar.parentElement;
      hideAround(wrapper, container);
    }
    for (const tab of Object.values(CONFIG.tabs)) {
      const keep = talkParts(tab).map((part) => document.getElementById(`${tab.prefix}-${part}`))
        .filter((el) => el);
      if (!keep.length) continue;
      const panel = keep[0].closest("[role=tabpanel]");
      if (!panel) continue;
      for (const el of keep) {
        let node = el;
        while (node && node !== panel) {
          if (node.parentElement) {
            for (const sibling of node.parentElement.children) {
              if (!keep.some((k) => sibling.contains(k))) sibling.classList.add("talk-hidden");
            }
          }
          node = node.parentElement;
        }
      }
    }
    // What one tab's parts hid of another's (the Screen's section and the first tab's result share a column) comes
    // back: the part itself too, not only what holds one (the first tab's result stayed blank for the rest of a talk
    // once its Screen section had been opened under "controls").
    const partSelector = ["summary", "strip", "curves", "slide"].map((part) => `[id$='-${part}']`).join(", ");
    for (const el of document.querySelectorAll(".talk-hidden")) {
      if (el.matches(partSelector) || el.querySelector(partSelector)) el.classList.remove("talk-hidden");
    }
    // The reading on top, the strip and the curves side by side under it: one screen at 1280x720. The Screen: its
    // answer beside its figure of the top rows.
    for (const tab of Object.values(CONFIG.tabs)) {
      const names = talkParts(tab);
      const parts = names.map((part) => document.getElementById(`${tab.prefix}-${part}`));
      if (parts.some((el) => !el)) continue;
      let common = parts[0].parentElement;
      while (common && !parts.every((el) => common.contains(el))) common = common.parentElement;
      if (!common) continue;
      common.classList.add("talk-grid", `talk-grid-${names.length}`);
      parts.forEach((el, index) => {
        let child = el;
        while (child.parentElement && child.parentElement !== common) child = child.parentElement;
        child.classList.add(`talk-${names[index]}`);
      });
    }
    fitFigures();
  }

  // A reading that grows (the next preset's) moves the figures down before the next second's check: fit them at once.
  const summaries = new WeakSet();
  const resized = new ResizeObserver(() => fitFigures());

  // The bar floats right of the tabs where they leave it room (at 1024 px it covered "Training dynamics" and cut its
  // own words to "its default; n runs it..."); with less than 320 px there it sits above the page.
  function fitBar() {
    const bar = document.getElementById("propgrad-talk-bar");
    if (!bar) return;
    // The page's own tabs (the first list): their right edge does not move when the bar's place does.
    const list = document.querySelector("[role=tablist]");
    const tabs = list ? [...list.querySelectorAll("[role=tab]")].filter((tab) => tab.offsetParent) : [];
    const right = tabs.length ? Math.max(...tabs.map((tab) => tab.getBoundingClientRect().right)) : 0;
    // The page's width without its scroll bar (the bar's `right` is measured from there), less the bar's own padding
    // and border and the gap it keeps.
    const width = document.documentElement.clientWidth;
    const frame = bar.offsetWidth - bar.clientWidth + 16 + 12;
    const room = Math.floor(Math.min(width - right - frame - 16, 0.42 * width));
    const narrow = window.innerWidth <= 1000 || room < 320;
    document.body.classList.toggle("propgrad-talk-narrow", narrow);
    bar.style.maxWidth = narrow ? "" : `${room}px`;
  }

  function fitFigures() {
    fitBar();
    // Each figure may fill the screen's height left under it (at 1920x1080 they stopped at the size they were drawn,
    // a third of the screen empty below them); the width still holds them where it binds first.
    for (const summary of document.querySelectorAll("[id$='-summary']")) {
      if (!summaries.has(summary)) { summaries.add(summary); resized.observe(summary); }
    }
    // No taller than the figure is at its box's width either: a figure the width binds (a strip of one row, the
    // curves beside it) sat at the top of a box that ran to the bottom of the screen, a third of it an empty frame.
    // Figures side by side keep one height, the taller one's.
    const rooms = [];
    for (const figure of document.querySelectorAll(".talk-strip, .talk-curves, #dynamics-curves")) {
      if (!figure.offsetParent) continue;
      const top = figure.getBoundingClientRect().top + window.scrollY;
      const img = figure.querySelector("img"), box = figure.querySelector(".image-container") || figure;
      const needed = img && img.naturalWidth ? Math.ceil(box.clientWidth * img.naturalHeight / img.naturalWidth) + 2
                                             : Infinity;
      rooms.push({figure, top, room: Math.max(200, Math.min(Math.floor(window.innerHeight - top - 24), needed))});
    }
    for (const one of rooms) {
      const row = rooms.filter((other) => Math.abs(other.top - one.top) < 4).map((other) => other.room);
      one.figure.style.setProperty("--talk-room", `${Math.max(...row)}px`);
    }
    fitScreenAnswer();
  }

  // The Screen's answer in the talk view: 22 px, smaller (down to 16) where a long one ran below the screen (the
  // preset of every region put its last model under the fold). Fitted once per answer.
  // (A variable the talk view's rule reads: the normal page, back under "controls", keeps its own size.)
  function fitScreenAnswer() {
    // Not under "controls" (the whole page is taller than the window there) nor on a narrow screen, where the slide
    // sits under the answer and the page scrolls by design.
    const answer = document.querySelector("body.propgrad-talk.propgrad-talk-screen:not(.propgrad-talk-narrow) " +
                                          "#screen-summary");
    const slide = document.querySelector("#screen-slide img");
    // Again in a window of another height, for another answer, or once the slide has come.
    const fitted = answer && `${window.innerHeight}:${answer.textContent}:${slide ? slide.src : ""}`;
    if (!answer || !answer.offsetParent || answer.dataset.fitted === fitted) return;
    answer.style.removeProperty("--talk-answer-size");
    // The whole page, not the answer alone (the panel around it ran 17 px below a 1280x720 screen); a step that
    // does not make the page shorter is taken back (the slide, not the answer, is what runs over).
    let height = document.documentElement.scrollHeight;
    for (let size = 22; size > 16 && height > window.innerHeight; size--) {
      answer.style.setProperty("--talk-answer-size", `${size - 1}px`);
      const now = document.documentElement.scrollHeight;
      if (now >= height) {
        if (size === 22) answer.style.removeProperty("--talk-answer-size");
        else answer.style.setProperty("--talk-answer-size", `${size}px`);
        break;
      }
      height = now;
    }
    answer.dataset.fitted = fitted;
  }

  // What the talk view shows of a tab: the reading, the strip and the curves; of the Screen, its answer and its slide,
  // the top three rows drawn for a projector (the page's figure of six rows came out in 8 px type beside the answer).
  const talkParts = (tab) => tab.prefix === "screen" ? ["summary", "slide"] : ["summary", "strip", "curves"];

  function talkView() {
    document.body.classList.add("propgrad-talk");
    const bar = document.createElement("div");
    bar.id = "propgrad-talk-bar";
    // The page opens with the first tab's default, its first preset: the badge names it from the start.
    const opening = CONFIG.tabs[CONFIG.order[0]].presets;
    const first = opening.length ? badgeText(CONFIG.order[0], 1) : "press n for the next preset";
    bar.innerHTML = `<span id="propgrad-preset-badge"></span>` +
      '<button id="propgrad-talk-next" type="button" ' +
      `title="n, PageDown or the right arrow; back: p, PageUp or the left arrow">${NEXT_LABEL}</button>` +
      '<button id="propgrad-talk-controls" type="button">controls</button>';
    bar.querySelector("#propgrad-preset-badge").textContent = first;
    // First in the page: where the bar cannot float (a narrow screen) it sits above the tabs, not under the page.
    document.body.prepend(bar);
    const controls = document.getElementById("propgrad-talk-controls");
    controls.addEventListener("click", () => {
      const talk = document.body.classList.toggle("propgrad-talk");
      controls.textContent = talk ? "controls" : "back to the talk view";
    });
    // Gradio scopes a stylesheet's @media rules to its own container, which the bar and the body are not in: the
    // narrow layout is a class on the body instead, set again on every resize (fitFigures).
    fitBar();
    // The preset a step from the one on screen: +1 (n) or -1 (p, a clicker's back key).
    const step = (by) => {
      // The page opens with the first tab's default, which is its first preset: n goes on to the second.
      let current = window.propgradPreset || {tab: CONFIG.order[0], number: 1};
      // A tab the speaker opened by hand (under "controls") is where n goes on: after the last preset run there, else
      // from its first (n ran the presets of the tab the last preset was on). The Screen is a section of the first
      // tab, not a tab.
      const shown = shownTab();
      if (shown && shown !== namedTab()) current = {tab: shown, number: lastPreset[shown] || 0};
      // The tab clicked by hand kept the focus: its outline stayed on the projected screen.
      if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
      let tabSlug = current.tab, number = current.number + by;
      if (number > CONFIG.tabs[tabSlug].presets.length) {
        tabSlug = CONFIG.order[(CONFIG.order.indexOf(tabSlug) + 1) % CONFIG.order.length];
        if (tabSlug === "screen") tabSlug = CONFIG.order[0];
        number = 1;
      } else if (number < 1) {
        // Back past a tab's first preset: the last of the tab before it (the Screen's presets are reached by link).
        const order = CONFIG.order.filter((slug) => slug !== "screen");
        tabSlug = order[(order.indexOf(tabSlug === "screen" ? order[0] : tabSlug) - 1 + order.length) % order.length];
        number = CONFIG.tabs[tabSlug].presets.length;
      }
      runPreset(tabSlug, number);
    };
    const next = () => step(1);
    document.getElementById("propgrad-talk-next").addEventListener("click", next);
    document.addEventListener("keydown", (event) => {
      const typing = event.target && ["INPUT", "TEXTAREA", "SELECT"].includes(event.target.tagName);
      if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "n" || event.key === "PageDown" || event.key === "ArrowRight") {
        event.preventDefault();
        next();
      } else if (event.key === "p" || event.key === "PageUp" || event.key === "ArrowLeft") {
        // Back: a speaker who pressed once too often, or wants the slide before again, had to reload.
        event.preventDefault();
        step(-1);
      }
    });
    markTalk();
    setInterval(markTalk, 1000);
    // A tab gradio draws for the first time (n moving on to the next tab's preset) showed its controls, examples
    // and Run button for up to a second, until the next check folded them: fold new parts in the frame they appear.
    whenThePageChanges(markTalk);
    window.addEventListener("resize", fitFigures);
  }

  // Ctrl+Enter (Cmd+Enter) runs the form the keyboard is in: on the turntable tab Run sat 78 Tab presses from the
  // top, behind a link and a remove button per frame. The Screen's own button where the focus is in its section.
  function runButtonFor(element) {
    const section = element && element.closest && element.closest("#screen-section");
    if (section) return section.querySelector("#screen-run");
    const panels = [...document.querySelectorAll("[role=tabpanel]")].filter((panel) => panel.offsetParent);
    const panel = (element && element.closest && element.closest("[role=tabpanel]")) || panels[0];
    return panel ? [...panel.querySelectorAll("button[id$='-run']")].find((button) => button.id !== "screen-run")
                 : null;
  }
  // Caught on its way down, before the focused control sees it: a ticked checkbox took the Enter as a click (the run
  // then went without its model), the Screen's list of edits as picking one (brightness left the screen).
  window.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey) return;
    const button = runButtonFor(document.activeElement);
    if (!button || button.disabled) return;
    event.preventDefault();
    event.stopPropagation();
    button.click();
    ownRun(button);
  }, true);
  const shortcut = () => {
    for (const button of document.querySelectorAll("button[id$='-run']:not([aria-keyshortcuts])")) {
      button.setAttribute("aria-keyshortcuts", "Control+Enter Meta+Enter");
      button.title = "Run (Ctrl+Enter from anywhere in the form)";
    }
  };
  shortcut();
  whenThePageChanges(shortcut);  // tabs are drawn when first opened: their buttons get the hint then

  // On a phone Run floats at the bottom of the screen while the form is read (demo.CSS); past the form, over the
  // answer, it covered the last two lines read ("... the prediction flips all the same"): there it fades, and it
  // comes back above the answer. Said by a class on the body: gradio scopes a stylesheet's @media rules.
  const pastForm = () => {
    const summary = [...document.querySelectorAll(".result-summary")].find((one) => one.offsetParent);
    const past = window.innerWidth <= 720 && !!summary && summary.getBoundingClientRect().top < window.innerHeight - 80;
    if (document.body.classList.contains("propgrad-past-form") !== past) {
      document.body.classList.toggle("propgrad-past-form", past);
    }
  };
  window.addEventListener("scroll", pastForm, {passive: true});
  window.addEventListener("resize", pastForm);
  whenThePageChanges(pastForm);

  // ``fn()`` once in each frame in which the page changed, however much changed.
  function whenThePageChanges(fn) {
    let waiting = false;
    new MutationObserver(() => {
      if (waiting) return;
      waiting = true;
      requestAnimationFrame(() => { waiting = false; fn(); });
    }).observe(document.body, {childList: true, subtree: true});
  }

  document.addEventListener("click", (event) => {
    const run = event.target.closest && event.target.closest("[id$='-run']");
    if (run && run.id !== "screen-run" && event.isTrusted && window.propgradPreset &&
        window.propgradPreset.tab === "screen") {
      window.propgradPreset = {tab: CONFIG.order[0], number: 0};
    }
    if (run && event.isTrusted) ownRun(run);
  }, true);
  // A run the speaker started from the controls, not a preset: the bar kept "preset 1 of 16: Fur vs background"
  // over a lesion model run on the cat photo. (A preset's own Run is clicked by the page, not by a person.)
  function ownRun(button) {
    const slug = button.id.replace(/-run$/, "");
    if (!talking || !CONFIG.tabs[slug]) return;
    const tab = slug === "screen" ? `${CONFIG.tabs[CONFIG.order[0]].title}, its Screen` : CONFIG.tabs[slug].title;
    nameBadge(`${tab}: your own run, not a preset`, "(n goes on with the next preset)");
  }
  if (talking) talkView();
  let found = findPreset();
  let notice = "";
  const tabParam = (params.get("tab") || "").trim().toLowerCase();
  if ((found && !CONFIG.tabs[found[0]]) || (tabParam && !CONFIG.tabs[tabParam])) {
    notice = `This link names no tab (${window.location.search}): the tabs are ${CONFIG.order.join(", ")}. ` +
      "The page shows each tab's default.";
    found = null;
  } else if (found && found[1] > 0 && !CONFIG.tabs[found[0]].presets[found[1] - 1]) {
    // The tab it names still opens, with what its presets are.
    const tab = CONFIG.tabs[found[0]];
    notice = `This link names no preset (${window.location.search}): ${tab.title} has ` +
      (tab.presets.length ? `presets 1 to ${tab.presets.length} (its Examples buttons); it shows its default.`
                          : "no presets; it shows its default.");
    found = [found[0], 0];
  } else if (!found && params.get("example")) {
    notice = `This link names no preset (${window.location.search}): the page shows each tab's default; the ` +
      "Examples buttons under each tab are its presets.";
  }
  if (notice) {
    // A mistyped link must not look like the preset it meant: say so above the page.
    const box = document.createElement("div");
    box.id = "propgrad-link-notice";
    box.setAttribute("role", "status");
    box.textContent = notice;
    const container = await until(() => document.querySelector(".gradio-container"), 60000);
    if (container) container.prepend(box);
  }
  if (found) {
    await until(() => tabButton(CONFIG.tabs[found[0]].title), 60000);
    if (found[1] > 0) {
      await runPreset(found[0], found[1]);
      // A shared link is about its result: show it (at 1440 x 900 it began 1,100 px down, under the controls).
      const summary = document.getElementById(`${CONFIG.tabs[found[0]].prefix}-summary`);
      if (summary && !document.body.classList.contains("propgrad-talk")) {
        // The Examples row that names the preset is off screen above: say which one this is, over the result.
        const tab = CONFIG.tabs[found[0]], preset = tab.presets[found[1] - 1];
        const box = document.createElement("div");
        box.id = "propgrad-link-preset";
        box.setAttribute("role", "status");
        // The Screen is a section of the first tab, with presets of its own: "Diffusion & region edits, preset 1 of 2"
        // named a tab that has five.
        const where = found[0] === "screen" ? `the Screen section of ${tab.title}` : tab.title;
        box.textContent = `This link opened ${where}, preset ${found[1]} of ${tab.presets.length}: ` +
          `${preset.label}. Its settings are in the controls above; change them and press ` +
          `${found[0] === "screen" ? "Screen" : "Run"} to try your own.`;  // the Screen's button is "Screen"
        summary.before(box);
        box.scrollIntoView({block: "start"});
        // Stale once the visitor runs something else (Run, an Examples button, another tab's).
        const stale = (event) => {
          if (!event.target.closest || !event.target.closest("button")) return;
          box.remove();
          document.removeEventListener("click", stale);
        };
        document.addEventListener("click", stale);
      }
    } else {
      const tab = CONFIG.tabs[found[0]];
      // The Screen's link opens the first tab (its section is there): the opening preset is what it shows.
      if (talking && tab.title !== CONFIG.tabs[CONFIG.order[0]].title) {
        // Another tab's default is not the opening preset the badge named: say what is shown; n runs its presets.
        window.propgradPreset = {tab: found[0], number: 0};
        nameBadge(defaultText(found[0]));
      }
      await openTab(tab);
    }
  }
}
"""

TALK_CSS = """
/* ?view=talk: one result per screen at projector size; the controls fold away (the "controls" button). */
body.propgrad-talk .talk-hidden { display: none !important; }
body.propgrad-talk .gradio-container > .main > .wrap > .contain > .column > .prose:first-child,
body.propgrad-talk footer { display: none !important; }
body.propgrad-talk .result-summary, body.propgrad-talk .result-summary .prose {
  font-size: clamp(22px, 1.6vw, 32px) !important; line-height: 1.35 !important; }
/* A comparison's answer, one point per model, held tight: at 22 px with the list's own margins it pushed the strip
   off a 1280x720 screen. */
body.propgrad-talk .result-summary .summary-answer :is(p, ul, li) { margin-top: 0 !important;
  margin-bottom: 2px !important; }
body.propgrad-talk .result-summary .summary-answer li { font-size: clamp(20px, 1.45vw, 29px) !important;
  line-height: 1.3 !important; }
/* What was run, in smaller type than what it found: projected at the answer's size, "2 properties compared, ... adjusted
   p over 6 tests (Benjamini-Hochberg)" was the first and largest thing a class read. */
body.propgrad-talk .result-summary .prose > p:first-child { font-size: 0.72em !important; line-height: 1.35 !important; }
/* The headline and the reading (a comparison: its answer), in words; the table, the models' names and the notes stay in the normal view. */
body.propgrad-talk .result-summary .summary-reading { display: block !important; }
body.propgrad-talk .talk-only { display: inline !important; }
body.propgrad-talk .talk-only-block { display: block !important; }
body.propgrad-past-form .run-button { opacity: 0 !important; pointer-events: none !important; }
.run-button { transition: opacity 0.2s; }
body.propgrad-talk .result-summary .prose > :nth-child(n+3), body.propgrad-talk .result-summary table {
  display: none !important; }
/* Halves: the curves are held to half the screen's height, so a wider column only left white beside them while
   the strip's step labels shrank below what carries to the back of the room. */
body.propgrad-talk .talk-grid { display: grid !important; grid-template-columns: 1fr 1fr; gap: 12px;
  align-items: start; }
body.propgrad-talk .talk-grid-3 > .talk-summary { grid-column: 1 / -1; }
/* While a preset runs the reading says so in large type; gradio's progress line was drawn over it. */
body.propgrad-talk .talk-summary > [data-testid=status-tracker] { display: none !important; }
/* The Screen: its answer (in large type) beside its figure of the top rows, held to the screen's height. */
body.propgrad-talk #screen-summary, body.propgrad-talk #screen-summary .prose {
  font-size: var(--talk-answer-size, 22px) !important;
  line-height: 1.35 !important; }
body.propgrad-talk #screen-summary .prose > :nth-child(n+3) { display: none !important; }
body.propgrad-talk .talk-slide { min-width: 0; }
body.propgrad-talk .talk-grid > #screen-section { grid-column: 1 / -1; }
body.propgrad-talk:not(.propgrad-talk-screen) #screen-section,
body.propgrad-talk.propgrad-talk-screen .talk-grid-3 > :is(.talk-summary, .talk-strip, .talk-curves) {
  display: none !important; }
body.propgrad-talk .talk-slide img { max-height: calc(100vh - 110px); width: 100%; object-fit: contain; }
body.propgrad-talk .talk-grid > .talk-hidden { display: none !important; }
/* The figures fill the height the script measured under them (--talk-room; before it has, 10 px under half the
   screen: at 50vh the default preset's page was 728 px tall on a 720 px projector), drawn as large as the column's
   width and that height allow, at the top of their box. */
body.propgrad-talk :is(.talk-strip, .talk-curves, #dynamics-curves) :is(.image-container, .image-container > button) {
  height: var(--talk-room, calc(50vh - 10px)) !important; }
body.propgrad-talk :is(.talk-strip, .talk-curves, #dynamics-curves) .image-frame { width: 100% !important;
  height: 100% !important; }
body.propgrad-talk .talk-strip img, body.propgrad-talk .talk-curves img, body.propgrad-talk #dynamics-curves img {
  width: 100%; height: 100%; max-height: none; object-fit: contain; object-position: top; }
body.propgrad-talk .talk-strip, body.propgrad-talk .talk-curves { min-width: 0; }
/* The figures start at the top of their box, where the full-screen button covered a corner of the strip's last image:
   faint until the pointer or the keyboard comes to it (a band of its own, as on a phone, cost the figures 26 px). */
body.propgrad-talk :is(.talk-strip, .talk-curves) .icon-button-wrapper { opacity: 0.3; }
body.propgrad-talk :is(.talk-strip, .talk-curves) .icon-button-wrapper:is(:hover, :focus-within) { opacity: 1; }
/* One line at the right of the tabs' row, which is empty there: at the bottom left it covered the strip's bars, at the
   bottom right the curves' legend. A preset's name longer than two lines is cut (its title attribute has it whole). */
#propgrad-talk-bar { position: fixed; right: 12px; top: 6px; z-index: 100; display: flex; gap: 8px;
  flex-wrap: nowrap; max-width: 42vw; white-space: nowrap;
  align-items: center; font-size: 14px; background: var(--background-fill-primary); padding: 4px 8px;
  border: 1px solid var(--border-color-primary); border-radius: 8px; opacity: 0.85; }
/* Two lines where one would cut the preset's name ("Fur vs background: a light cat darken..."): the tabs' row holds
   them. */
#propgrad-preset-badge { min-width: 0; white-space: normal; display: -webkit-box; -webkit-box-orient: vertical;
  -webkit-line-clamp: 2; line-clamp: 2; overflow: hidden; font-size: 13px; line-height: 1.2; }
#propgrad-talk-bar button { white-space: nowrap; flex: none; }
/* Narrow screens (the script's class: gradio scopes @media rules to its container) have no empty room beside the
   tabs: the bar sits above the page instead of covering its tabs, and the strip and the curves stack. */
body.propgrad-talk-narrow #propgrad-talk-bar { position: static; max-width: none; margin: 8px 12px;
  flex-wrap: wrap; white-space: normal; }
body.propgrad-talk.propgrad-talk-narrow .talk-grid { grid-template-columns: 1fr; }
#propgrad-link-notice, #propgrad-link-preset { margin: 8px 0; padding: 8px 12px; border: 1px solid var(--border-color-primary);
  border-radius: 8px; background: var(--background-fill-secondary); }
/* The talk view's bar sits at the top right, where it covered the end of a wrong link's notice: the notice keeps
   clear of it (42vw, the bar's widest, with its padding, border and place 12 px from the edge). */
body.propgrad-talk:not(.propgrad-talk-narrow) #propgrad-link-notice { margin-right: calc(42vw + 40px); }
/* With the controls unfolded the page is the normal one, its form under the corner: the bar takes a line of its own
   above it (fixed, it covered the labels at the top right, "Number of s[teps]"). */
body:not(.propgrad-talk) #propgrad-talk-bar { position: static; width: fit-content; margin: 6px 12px 0 auto; }
#propgrad-talk-bar button { padding: 2px 10px; border: 1px solid var(--border-color-primary); border-radius: 6px; }
"""


def script(lessons: str | None = None) -> str:
    """The browser script with the presets filled in (for ``launch(js=...)``); ``lessons`` as in :func:`config`."""
    return SCRIPT.replace("__CONFIG__", json.dumps(config(lessons)))


__all__ = ["Preset", "SCREEN_PRESETS", "TABS", "TALK_CSS", "config", "markdown_table", "presets", "resolve_query",
           "script", "slugify", "wants_tab"]
