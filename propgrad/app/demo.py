"""The whole app: the tabs in order, the queue, and the launch settings every launch shares."""
from __future__ import annotations

import importlib.util
import logging
import os
import signal
import sys
import threading

import gradio as gr

from .. import paths
from ..ranking import tier_legend
from ..score import STATISTIC_LABELS
from . import access, defaults, kept_copies, lesson_pages, links, mcp_server, mcp_tools, memory, shared, stale, upkeep
from .settings import CONCURRENCY, MAX_FILE_SIZE, QUEUE_SIZE, configure_serving
from .tabs import dynamics, edit, patch, turntable
from .zerogpu import use_zero_gpu

log = logging.getLogger("propgrad.app")

INTRO = """# propgrad: local interventional explanations
Change one property of one image step by step and see whether each model's prediction follows it. Each tab opens
with an example already answered: **[the answer is below the controls](#answer)** (go to it, or press Run to try
your own settings<span class="keys-hint">; **Ctrl+Enter** runs the form you are in</span>). **Learn it:** [the five lessons]({lessons}) · a talk? open [`?view=talk`](?view=talk)<span class="keys-hint"> (key **n**: next preset)</span> ·
any preset has a link: [`?example=fur-vs-background`](?example=fur-vs-background)."""
METHOD = f"""Every model runs on every step; each output of interest gets the expected property gradient magnitude
**E[|grad_X F|] = mean over steps of |dF/dX|** (the size of the output's slope from step to step, averaged over the steps: 0.01 =
one percentage point per step), its shuffle-test p-value (two-sided, 10,000 permutations by default; *significant* = systematic, not
large) and where the prediction flips. Each row is also read in plain words: its size from the curve's change
(*negligible* under 0.01, *strong* from 0.1), its shape (*steady fall*, *U-shaped*, *one dominant step*...) and
whether the test finds it systematic; tables rank rows by what the output did (tier {tier_legend()}), not by p.
Method: Penzel & Denzler, *Locally Explaining Prediction Behavior via Gradual Interventions and Measuring Property
Gradients*, WACV 2026."""


def build_demo() -> gr.Blocks:
    """The whole app: one tab per intervention source (training dynamics when its checkpoints ship)."""
    use_zero_gpu()
    ip2p = edit.instruct_pix2pix_status()
    variants = dynamics.dynamics_variants()
    with gr.Blocks(title="propgrad: local interventional explanations", analytics_enabled=False,
                   delete_cache=(3600, 3600)) as demo:
        # The agents' tools: lean endpoints, hidden on the page (see mcp_tools; mcp_server lists only these).
        demo.propgrad_mcp_tools = mcp_tools.register(dynamics=bool(variants))
        gr.Markdown(INTRO.format(lessons="?view=lessons"))  # an address that outlives a restart (links.script)
        with gr.Accordion("How the answer is computed and read", open=False):
            gr.Markdown(METHOD)
        results = {}
        with gr.Tab(links.TABS["edit"][0]):
            results["edit"] = edit.build_edit_tab(ip2p)
        with gr.Tab(links.TABS["patch"][0]):
            results["patch"] = patch.build_patch_tab()
        with gr.Tab(links.TABS["turntable"][0]):
            results["turntable"] = turntable.build_turntable_tab()
        tabs = [("edit", edit), ("patch", patch), ("turntable", turntable)]
        if variants:
            with gr.Tab(links.TABS["dynamics"][0]):
                results["dynamics"] = dynamics.build_dynamics_tab(variants)
            tabs.append(("dynamics", dynamics))
        # Each tab opens with its default example's result: computed once per process after start-up
        # (defaults.start, from launch), the same for every visitor.
        for tab, module in tabs:
            defaults.register(tab, module.default_result)
            outputs = results[tab]
            placeholder = (shared.PRESS_RUN, *[None] * (len(outputs) - 1))
            # Not queued: the answer is made once, and a class opening the link at once filled the queue (four
            # events a visitor) and found "Error" where the default answer goes.
            demo.load(default_unless_linked(tab, placeholder), None, outputs, api_visibility="private",
                      show_progress="minimal", queue=False)
    shared.named_bounds(demo)
    kept_copies.remember(demo)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    shared.learn_api_names(demo)  # an API caller's error names the parameter it sent, not the box
    return demo


def default_unless_linked(tab: str, placeholder: tuple):
    """The tab's default answer on page load, unless the page's link runs one of its presets (``?example=``):
    then nothing, so that the default cannot arrive after the preset's own result and replace it."""

    async def load(request: gr.Request):
        query = dict(getattr(request, "query_params", {}) or {})
        if links.wants_tab(query, tab):
            return tuple(gr.skip() for _ in placeholder)
        return await defaults.result(tab, placeholder)

    return load


# Wide Markdown tables (the ranked comparison, a study's Table 3) scroll sideways on a phone instead of
# squeezing every cell to one letter per line.
CSS = """
/* The reading paragraph is a single run's answer, on the page and in the talk view; a comparison's is its answer per
   model (the paragraph over every row ran to ninety words): the talk view still shows it there, where the table is
   folded away (links.TALK_CSS). */
.result-summary:has(.summary-answer) .summary-reading { display: none; }
/* What the talk view says beside the reading that the page says elsewhere (a series that is not gradual). */
.talk-only-block { display: none; }
/* A run that brings its answer into view (shared._SHOW_OUTCOME) leaves a little room above it: flush against the
   window's edge, its first line read as cut off. */
.result-summary { scroll-margin-top: 16px; }
/* Words for the projector only (links.TALK_CSS shows them): the page says them at length further down. */
.talk-only { display: none; }
/* A figure with nothing to show (a failed run cleared it) is left out: its empty frame under "This run failed" read
   as a figure that did not load. */
.result-wide:has(.empty[aria-label="Empty value"]) { display: none !important; }
/* The Screen's slide, its top rows drawn for a projector, is the talk view's (links.TALK_CSS); the page has the table. */
body:not(.propgrad-talk) #screen-slide { display: none !important; }
.hint, .hint p { color: var(--body-text-color-subdued) !important; font-size: var(--text-sm) !important; }
.prose table { display: block; overflow-x: auto; }
.prose th, .prose td { white-space: nowrap; }
/* The result's one table: the page's font; words wrap (the reading gets the room), numbers never break. */
.ranked-table table { font-family: var(--font); font-size: var(--text-md); }
.ranked-table td:nth-child(-n+3), .ranked-table th:nth-child(-n+3) { white-space: normal; }
.ranked-table td:nth-child(3), .ranked-table th:nth-child(3) { min-width: 15em; }
/* Words stay whole ("background:", "EfficientNet-Lite0"): gradio's tables break anywhere by default. */
.ranked-table td, .ranked-table th { word-break: normal !important; overflow-wrap: normal !important;
  hyphens: manual; }
.ranked-table td:nth-child(-n+2), .ranked-table th:nth-child(-n+2) { min-width: 7em; }
/* A study's table: words wrap, whole (gradio's prose tables keep each cell on one line, 2,500 px for a study), and
   its first column stays in view when a phone scrolls the table sideways. */
.study-table th, .study-table td { white-space: normal !important; word-break: normal !important;
  overflow-wrap: normal !important; hyphens: manual; }
.study-table th:first-child, .study-table td:first-child { position: sticky; left: 0; z-index: 1;
  background: var(--background-fill-primary); min-width: 6em; }
#screen-table th, #screen-table td, #dynamics-table th, #dynamics-table td { word-break: normal !important;
  overflow-wrap: break-word !important; }
/* Headers break between words only ("outp ut", "adjuste d p" at 1440 px). */
#screen-table th, #screen-table th * { overflow-wrap: normal !important; word-break: keep-all !important; }
/* The tables' cells in the page's font, as in every other table (gradio draws them monospaced). */
#screen-table *, #dynamics-table * { font-family: var(--font) !important; }
/* Headers and numbers stay whole on a phone: the table scrolls sideways instead (the reading comes first). */
#dynamics-table th, #dynamics-table th *, #dynamics-table td:not(:nth-child(3)) { white-space: nowrap !important;
  word-break: normal !important; }
.form-error, .form-error * { color: #b42318 !important; }
/* What a phone shows in place of a wide table (Training dynamics' checkpoints as one line each). */
.phone-only { display: none; }
.phone-cards ul { padding-left: 0; list-style: none; }
.phone-cards li { border: 1px solid var(--border-color-primary); border-radius: 8px; margin: 6px 0;
  padding: 4px 8px; }
/* A laptop or a projector of 1024 px: the ranked table fits without scrolling sideways (its last column, the tier,
   was off the page): tighter cells, and headers wrap between words. */
@media (max-width: 1150px) {
  .ranked-table th, .ranked-table td { padding: 6px 8px !important; }
  .ranked-table th { white-space: normal !important; }
  .ranked-table td:nth-child(3), .ranked-table th:nth-child(3) { min-width: 12em; }
}
/* Wide pictures on a phone: legible, and they scroll sideways instead of shrinking. */
@media (max-width: 720px) {
  /* The ranked table as one card per row: property and model, the reading, then the numbers, named. */
  .ranked-table table, .ranked-table tbody, .ranked-table tr { display: block; border: none; }
  .ranked-table thead { display: none; }
  .ranked-table tr { border: 1px solid var(--border-color-primary); border-radius: 8px; margin: 8px 0;
                       padding: 6px 8px; }
  .ranked-table td { display: inline; border: none !important; padding: 0 6px 0 0 !important;
                       white-space: normal !important; min-width: 0 !important; background: none !important; }
  .ranked-table td:nth-child(-n+2) { font-weight: 600; }
  /* "object: darken · dark-cats bias": the two names ran together ("darken  dark-cats bias"). */
  .ranked-table td:nth-child(2)::before { content: "\\00b7\\0000a0"; font-weight: 400; }
  .ranked-table td:nth-child(3) { display: block; margin: 2px 0; }
  .ranked-table td:nth-child(4)::before { content: "change\\0000a0"; }
  .ranked-table td:nth-child(5)::before { content: "flips\\0000a0"; }
__STATISTIC_CARD_LABELS__
  .ranked-table td:nth-child(7)::before { content: "p\\0000a0"; }
  .ranked-table td:nth-child(8)::before { content: "adjusted\\0000a0p\\0000a0"; }
  .ranked-table td:nth-child(9)::before,
  .ranked-table.single-run td:nth-child(8)::before { content: "signif.\\0000a0"; }
  /* A single run's table has no adjusted p: its tier is the ninth column. Every name stays with its number. */
  .ranked-table td:nth-child(10)::before,
  .ranked-table.single-run td:nth-child(9)::before { content: "tier\\0000a0"; }
  /* Gradio folds the tabs that do not fit into a bare "..." button: a student would not know three more exist. The
     label shows where one tab is left beside it; beside two it would cut their names short. */
  .tab-wrapper:not(:has([role=tablist] > button:nth-of-type(2))) .overflow-menu > button::after {
    content: "more tabs"; margin-left: 6px; font-size: var(--text-md); }
  .overflow-menu > button { display: inline-flex; align-items: center; white-space: nowrap; }
  /* Figures are shown whole at the screen's width, as report.html shows them: scrolled sideways at a legible width,
     a curve showed its first steps and hid the late jump that was the finding. */
  /* The full-screen button sits in a band of its own over the picture: at the frame's right edge it covered the
     end of a wide figure's title ("(0 = original, 1 = full)"). */
  .result-wide .image-container { padding-top: 26px; }
  /* Its type is small there: say how to read it. */
  /* CSS takes the blank after a hex escape as its end ("tap ⤢for full screen"): hence two. */
  .result-wide::before { content: "the whole figure: tap \\002922  for full screen, or pinch to zoom"; }
  /* The checkpoints as cards, in place of their table; the properties' table keeps its columns, the numbers out of
     sight: say where they are. */
  .phone-only { display: block; }
  #dynamics-table { display: none !important; }
  /* The Screen's rows as cards too, in place of its table (a row of its 1,100 px table was 200 px tall on a phone,
     the reading wrapped in its column and the numbers out of sight). */
  #screen-table { display: none !important; }
  .result-wide::before { display: block; font-size: var(--text-sm);
    color: var(--body-text-color-subdued); padding: 2px 8px; }
  /* Run stays in reach on a phone, however long the form. */
  .run-button { position: fixed !important; left: 12px; right: 12px; bottom: 10px; width: auto !important;
                z-index: 50; box-shadow: 0 2px 10px rgba(0, 0, 0, 0.3); }
  .gradio-container { padding-bottom: 72px !important; }
  /* ... but not over the open Screen section, whose own button is "Screen": a floating Run there was pressed by
     mistake. It goes back to its place in the form above. (Gradio scopes these rules under .contain: the tab's
     panel is the ancestor to ask.) */
  [role=tabpanel]:has(#screen-section > .label-wrap.open) #edit-run { position: static !important; box-shadow: none; }
}
/* A phone or a tablet has no keyboard to press Ctrl+Enter or n on (held sideways, a phone is wider than 720 px). */
@media (hover: none) and (pointer: coarse) {
  .keys-hint { display: none; }
}
/* A narrow window with a mouse (a laptop zoomed to 200 %) is not tapped or pinched. */
@media (max-width: 720px) and (hover: hover) and (pointer: fine) {
  .result-wide::before { content: "the whole figure: click \\002922  for full screen, or zoom in"; }
}
""".replace("__STATISTIC_CARD_LABELS__", "\n".join(
    # A phone card names the statistic as the desktop table's header does (the table's class says which). The
    # no-break space is escaped with all six hex digits: "\00a0F" would read as U+A0F, "\00a0ad" as U+A0AD.
    f'  .ranked-table.statistic-{key} td:nth-child(6)::before {{ content: "{label.replace(" ", chr(92) + "0000a0")}\\0000a0"; }}'
    for key, label in STATISTIC_LABELS.items()))


MCP_ENV = "PROPGRAD_MCP"


def mcp_enabled() -> bool:
    """Whether the tabs' handlers are also served as MCP tools (``PROPGRAD_MCP=0`` turns it off).

    On by default where ``gradio[mcp]`` is installed; without the ``mcp`` package the app still serves
    (with a log line), unless ``PROPGRAD_MCP=1`` asks for it explicitly, when gradio's ImportError says
    what to install.
    """
    setting = os.environ.get(MCP_ENV, "").strip().lower()
    if setting in ("0", "false", "no", "off"):
        return False
    if setting in ("1", "true", "yes", "on"):
        return True
    if setting:
        raise ValueError(f"{MCP_ENV}={setting!r}: use 1 (serve the tabs as MCP tools) or 0 (do not)")
    if importlib.util.find_spec("mcp") is None:
        log.warning("the mcp package is missing: serving without MCP tools (pip install 'gradio[mcp]')")
        return False
    return True


def launch_kwargs(**overrides) -> dict:
    """Settings every launch shares (the tests launch with these too)."""
    lessons_folder = str(lesson_pages.folder())
    kwargs = dict(max_file_size=MAX_FILE_SIZE, show_error=True, footer_links=["api"],
                  allowed_paths=[str(paths.ASSETS), lessons_folder],
                  css=CSS + links.TALK_CSS + stale.CSS + access.CSS, theme=access.theme(),
                  js=f"() => {{ ({links.script(lesson_pages.link())})(); ({stale.script()})(); "
                     f"({access.script()})(); }}",
                  mcp_server=mcp_enabled())
    kwargs.update(overrides)
    return kwargs


def launch(demo: gr.Blocks, **overrides):
    """Launch ``demo`` with :func:`launch_kwargs`, first recording where it serves: visitors may name
    folders on the server only when it serves on a loopback address without a share link."""
    memory.tune_allocator()  # before the server's threads make arenas of their own
    kwargs = launch_kwargs(**overrides)
    host = kwargs.get("server_name") or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    share = kwargs.get("share")
    if share is None:  # gradio's own default: GRADIO_SHARE
        share = os.environ.get("GRADIO_SHARE", "").strip().lower() in ("1", "true", "yes")
    configure_serving(host, share=bool(share))
    # The MCP server exists only once gradio has created the app: launch without blocking, shape it, then block
    # as gradio would have (a script's launch blocks; prevent_thread_lock=True or an interactive session not).
    # (debug=True would block inside gradio's launch, before the server could be shaped; it blocks here instead.)
    block = kwargs.pop("debug", False) or (not kwargs.get("prevent_thread_lock", False)
                                            and not bool(getattr(sys, "ps1", sys.flags.interactive)))
    if block and threading.current_thread() is threading.main_thread():
        # A server stopped with SIGTERM (docker stop, kill, a Space restarting) ends as Ctrl+C ends it: gradio closes
        # and the exit handlers run, which remove the result folder (before, each stopped server left it in /tmp).
        # Set before the server starts, so that no moment of its life misses it.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    launched = demo.launch(**{**kwargs, "prevent_thread_lock": True})
    try:
        mcp_server.adapt(demo, getattr(demo, "propgrad_mcp_tools", {}))
    except Exception:  # noqa: BLE001 - a gradio that moved its hooks: serve its own tools rather than nothing
        log.exception("could not shape the MCP server (tests/test_mcp.py says how); serving gradio's own tools")
    if block:  # a server (python app.py), not a test or a notebook sharing this process with other work
        memory.freeze_start_up()  # before the defaults start: nothing half-made is frozen
        # What the page names for the server's life (the defaults' files, gradio's copies of the bundled pictures,
        # the lesson pages), put back where a cleaner of old temporary files removed it.
        upkeep.watch()
    # Load the default models and the segmenter and compute every tab's default example in the background, so that
    # the page opens with an answer and the first click is warm.
    warming = defaults.start(lambda: bool(getattr(demo, "is_running", False)))
    # Then the lessons run, at low priority, and their executed pages replace the unexecuted ones the header links.
    lesson_pages.execute_later(warming)
    if block:
        demo.block_thread()
    return launched
