"""The first tab's Screen action: rank many candidate properties of the tab's image for the tab's models.

Self-contained: the edit tab makes its statistic dropdown with :func:`statistic_input` (beside its steps; its Run
button scores with it too) and calls :func:`build_screen_section` once with its image, model controls, steps
slider and that dropdown. The handler
:func:`run_screen` is gradio-free apart from the progress object (its table is a pandas frame, whose columns name the
headers), and is tested by calling it directly.
"""
from __future__ import annotations

import functools
import html
from collections.abc import Sequence
from pathlib import Path

import gradio as gr

from ..checks import unsaid
from ..errors import ArgumentError, counted, not_one_of, over_rows
from ..ranking import tier_legend
from ..formats import format_number, format_pvalue
from ..reading import for_pages, output_label, short_names
from ..score import GRADIENT, STATISTIC_LABELS, STATISTICS
from ..limits import APP, check_count
from ..screen import APP_LIMIT, REGIONS
from ..export.screen import written_files
from ..statistics import ADJUSTED_DEPENDS
from .cards import phone_cards
from .memory import released
from .parsing import in_range, select_outputs
from .results import answer_markdown, run_name
from .run import chosen_models, load_input, package_progress, shuffle_test_settings
from .shared import default_models, friendly_errors, with_model_args

# What the output did first (tier, change, flips, reading), then the test; the score is the chosen statistic.
TABLE_HEADERS = ["rank", "tier", "property", "model", "output", "change", "prediction flips", "reading",
                 "score", "adjusted p"]  # "score" is named by the run's statistic (table_headers)
# One width per column of TABLE_HEADERS; the reading gets the room it needs, every header its longest word.
COLUMN_WIDTHS = ["5%", "4%", "11%", "10%", "6%", "7%", "12%", "26%", "10%", "9%"]
ADJUSTMENT_CHOICES = {"Benjamini-Hochberg (false discovery rate)": "bh", "Holm (family-wise error rate)": "holm"}


def edit_names() -> list[str]:
    from ..interventions import EDITS

    return list(EDITS)


def table_headers(statistic: str) -> list[str]:
    """The table's headers, the score's column named by ``statistic`` as in every other table ("E[|grad_X F|]")."""
    return [for_pages(STATISTIC_LABELS[statistic]) if header == "score" else header for header in TABLE_HEADERS]


def screen_table(result) -> list[list]:
    """Rows for the app's table, ranked; numbers rounded for reading (the download's files keep every digit)."""
    short = short_names([row.model for row in result.rows])
    return [[row.rank, row.tier, row.property, short[row.model], row.output, float(f"{row.change:.2g}"),
             for_pages(row.flips), for_pages(row.reading.full), float(f"{row.score:.2g}"),
             float(format_pvalue(row.pvalue_adjusted, result.alpha))]
            for row in result.rows]


def _as_held(pvalue: float) -> str:
    """A p-value of the table as the table holds it: with a third digit where the table gave it one to show on which
    side of alpha it lies (:func:`format_pvalue`), which two digits would hide again."""
    shown = format_number(pvalue)
    return shown if float(shown) == pvalue else f"{pvalue:g}"


# How many cards a phone shows before the rest fold under "rows 11 to n".
PHONE_CARDS_OPEN = 10


def screen_cards(table) -> str:
    """The ranked table as one card per row, for a phone (the page shows them only there, in place of the table,
    whose 1,100 px rows were 200 px tall at 390 px, the numbers out of sight): the property and the model, the
    reading, then the numbers, named. Made from the table as the page holds it, after a run that succeeded, so
    the API keeps its four outputs."""
    if table is None or not len(table):
        return ""
    score = table.columns[TABLE_HEADERS.index("score")]

    def card(row) -> str:
        output = f" / {html.escape(str(row['output']))}" if str(row["output"]) else ""
        numbers = (f"change {format_number(row['change'])}; prediction flips: {html.escape(str(row['prediction flips']))}"
                   f"; {html.escape(score)} {format_number(row[score])}; adjusted p {_as_held(row['adjusted p'])}; "
                   f"tier {html.escape(str(row['tier']))}")
        return (f"<li><b>{row['rank']}. {html.escape(str(row['property']))}</b>, {html.escape(str(row['model']))}"
                f"{output}<br>{_bold_label(html.escape(str(row['reading'])))}<br><small>{numbers}</small></li>")

    return phone_cards([card(row) for _, row in table.iterrows()], "Ranked properties", "screen-cards",
                       open_first=PHONE_CARDS_OPEN, note="the table is on a wider screen and in the download")


def _bold_label(reading: str) -> str:
    """``"strong and systematic: p(cat) ..."`` with its label in bold, as the other tabs' tables show it."""
    label, colon, rest = reading.partition(": ")
    return f"<b>{label}</b>{colon}{rest}" if colon else reading


def screen_text(result, notes: Sequence[str] = ()) -> str:
    """A short summary above the table: the answer per model, how the table is ranked, where models differ,
    what was skipped."""
    label = STATISTIC_LABELS[result.statistic]
    count = len(result.properties)
    lines = [answer_markdown(result.answer_marked, "The screen's answer."),
             f"**{counted(count, 'property', 'properties')}** screened, ranked by what the output did (tier "
             f"{tier_legend()}), then by its change; score: {label}; p-values adjusted over "
             f"{over_rows(len(result.rows))} with "
             f"{result.adjustment}; alpha = {result.alpha} ({ADJUSTED_DEPENDS})."]
    if result.contrast_words:
        lines.append(result.contrast_words)
    for line in [*result.skipped, *unsaid(result.notes, result.caveats), *notes]:
        lines.append(f"- note: {line}")
    return for_pages("\n\n".join(lines))


@friendly_errors
@released
@with_model_args
def run_screen(image, bundled=None, files=None, input_size=None, mean="", std="", class_names="", outputs="",
               n_permutations=10_000, alpha=0.01, hub_ids="", outputs_are="auto", steps=11, edits=None,
               regions=REGIONS, statistic="gradient", adjustment=next(iter(ADJUSTMENT_CHOICES)),
               progress=gr.Progress(), slide: bool = False):
    """Explain which property of an image a classifier uses: screen every chosen edit in every chosen region.

    Each edit (darken, hue, blur...) runs step by step on the whole image, the segmenter's object and the
    background; every model runs on every step; each row (property x model x output) gets its score, its
    shuffle-test p-value, the p-value adjusted over the whole table, and where the prediction flips. Rows are
    ranked by what the output did (tier a to e, then its change), not by p. At most 40 properties. Bad arguments
    come back as an error naming the argument.

    Args:
        image: the image to screen (an http(s) URL or a data: URI)
        {model_args}
        steps: number of steps per property, including the unedited image, 3 to 30
        edits: the edits to screen (see the enum), e.g. ["darken", "hue"]
        regions: where to apply each edit: any of "whole image", "object", "background"
        statistic: what is shuffle-tested: "gradient" (the paper's E[|grad_X F|]), "correlation", "mutual-information"
        adjustment: "Benjamini-Hochberg (false discovery rate)" or "Holm (family-wise error rate)"

    Returns:
        summary: Markdown: how many properties were screened, the top rows and notes
        table: headers and rows: rank, tier, property, model, output, change, prediction flips, reading, the
            statistic's score (named by it) and the adjusted p-value
        figure: URL of a PNG of the top properties' strongest steps and curves
        download: URL of a zip with screen.csv, screen_curves.csv, screen.json, screen.png and report.html (one page to
            share)
    """
    # (``slide``, for the page only: a fifth answer, the talk view's figure, :func:`screen_on_page`.)
    # 1. Every box checked before any slow work.
    n_permutations, alpha = shuffle_test_settings(n_permutations, alpha)
    picture = load_input(image)
    steps = in_range(steps, "steps", "number of steps")
    if edits is None:  # an API client that leaves it out gets every edit, as the box's default does
        edits = edit_names()
    if not edits:
        raise ValueError("`screen edits` is empty: tick at least one edit to screen")
    if not regions:
        raise ValueError("`screen regions` is empty: tick at least one of " + ", ".join(REGIONS))
    # An MCP client may send any list: bounded and without repeats, before anything runs (the table of limits).
    edits = check_count("edits", edits, argument="screen edits", front_end=APP)
    regions = check_count("regions", regions, argument="screen regions", front_end=APP)
    if statistic not in STATISTICS:
        raise not_one_of("statistic", statistic, STATISTICS)
    if adjustment not in ADJUSTMENT_CHOICES:
        raise not_one_of("adjustment", adjustment, ADJUSTMENT_CHOICES)
    models = chosen_models(default_models() if bundled is None else bundled, files, input_size, mean, std,
                           class_names, hub_ids, outputs_are)
    result, notes, paths, bundle, _ = screen_for_app(picture, models, outputs, list(edits), list(regions), steps,
                                                     statistic, ADJUSTMENT_CHOICES[adjustment], n_permutations,
                                                     alpha, progress)
    import pandas as pd  # gradio's own dependency: a frame's columns name the table's headers, the API unchanged

    headers = table_headers(result.statistic)
    table = pd.DataFrame(screen_table(result), columns=headers)
    # Shown in the one number format of every other table ("0.50", gradio printed the float as "0.5"); the cells
    # stay numbers, so that the column sorts and an API client gets the values.
    numbers = [headers[TABLE_HEADERS.index(name)] for name in ("change", "score", "adjusted p")]
    answer = screen_text(result, notes), table.style.format(format_number, subset=numbers), str(paths["figure"]), str(bundle)
    return (*answer, slide_figure(result, paths["json"].parent)) if slide else answer


# The Screen button: run_screen's answer and the talk view's figure, which the API has no use for (a partial keeps
# run_screen's signature, its progress argument with it).
screen_on_page = functools.partial(run_screen, slide=True)


def slide_figure(result, folder: Path) -> str | None:
    """The talk view's figure of the top rows (:data:`propgrad.export.screen.TALK`) in the run's private folder, out
    of its zip; None when it could not be drawn (the talk view then shows no figure beside the answer)."""
    from .. import plots
    from ..export.figure_files import draw_into
    from ..export.screen import TALK, TALK_TOP, top_figure

    path, _ = draw_into(lambda out: plots.save_figure(top_figure(result, TALK_TOP, TALK), out),
                        folder / "screen-talk.png", "the talk view's screen figure")
    return None if path is None else str(path)


def screen_for_app(picture, models, outputs, edits, regions, steps, statistic, adjustment, n_permutations, alpha,
                   progress, seed: int = 0):
    """The screen and its files in a private folder: (result, notes, written paths, zip, the settings screen.json
    records); checked arguments in."""
    from .. import export
    from ..screen import screen
    from .folders import request_dir

    selection, notes = select_outputs(models, outputs)
    try:
        result = screen(picture, models, edits=edits, regions=regions, steps=steps, outputs_of_interest=selection,
                        statistic=statistic, adjustment=adjustment, n_permutations=n_permutations, alpha=alpha,
                        seed=seed, limit=APP_LIMIT, progress=package_progress(progress))
    except ArgumentError as error:
        if error.argument != "limit":
            raise
        # No box sets the limit here: the package's `limit` named one ("`most properties per screen` is 5").
        too_many = error.problem.partition(": ")[2]
        raise ValueError(f"this server screens at most {APP_LIMIT} properties at once: {too_many}") from None
    progress(1.0, desc="drawing the top properties")
    folder = request_dir()
    settings = export.settings(result, models)  # once, for screen.json and the download's name
    paths = export.write(result, folder / "screen", settings=settings)
    bundle = export.zip_files(paths, folder / f"{run_name(settings, ['screen'])}.zip")
    return result, notes, paths, bundle, settings


def statistic_input() -> gr.Dropdown:
    """What the shuffle test measures, for the tab's Run and its Screen alike: it sits beside the steps, where a
    student changing it for Run finds it (inside the folded Screen section nobody did)."""
    return gr.Dropdown(list(STATISTICS), value=STATISTICS[0], label="Statistic (Run and Screen)",
                       info="gradient: the paper's E[|grad_X F|]; correlation: |Pearson r| with the step (monotone "
                            "only); mutual-information: KSG (any dependence, slower)")


def build_screen_section(image, controls, steps, statistic) -> None:
    """The Screen accordion under the tab's results, with the tab's statistic (:func:`statistic_input`)."""
    with gr.Accordion("Screen: which property does the model use? (every edit × region, ranked)", open=False,
                      elem_id="screen-section"):
        gr.Markdown(
            "Runs every ticked edit on every ticked region of the image above, with the same models and outputs "
            "of interest (or, where no single class matters, type `vector` in that box to score the change of each model's whole output), and ranks the "
            f"rows by what the output did (tier {tier_legend()}), then by its change, not by p; p-values are "
            f"adjusted over the whole table. At most {APP_LIMIT} properties.")
        with gr.Row():
            edits = gr.Dropdown(edit_names(), value=edit_names(), multiselect=True, label="Screen edits",
                                elem_id="screen-edits")
            regions = gr.CheckboxGroup(list(REGIONS), value=list(REGIONS), label="Screen regions",
                                       info="rotation runs on the whole image only")
        adjustment = gr.Radio(list(ADJUSTMENT_CHOICES), value=next(iter(ADJUSTMENT_CHOICES)),
                              label="Multiple-testing adjustment (the statistic is the tab's, beside its steps)")
        button = gr.Button("Screen", variant="secondary", elem_id="screen-run")
        summary = gr.Markdown("The ranked table appears here.", elem_id="screen-summary")
        # Taller than gradio's 500 px: a hundred rows in a box of about ten read as a scrap of a table.
        table = gr.Dataframe(headers=table_headers(GRADIENT), label="Ranked properties", interactive=False, wrap=True,
                             elem_id="screen-table", max_height=760,
                             column_widths=COLUMN_WIDTHS)
        cards = gr.HTML("", elem_id="screen-cards")
        figure = gr.Image(label="Top properties: strongest step and curve", type="filepath", interactive=False,
                          show_label=False, buttons=["fullscreen"], elem_classes=["result-wide"], elem_id="screen-figure")
        # The talk view's figure: three rows in type a projector carries (the page's six shrink to 8 px there).
        slide = gr.Image(type="filepath", interactive=False, show_label=False, elem_id="screen-slide")
        bundle = gr.File(label=f"Download (zip: {written_files()})", interactive=False)
    from .settings import CONCURRENCY

    inputs = [image, *controls.inputs(), steps, edits, regions, statistic, adjustment]
    api = gr.Button(visible=False)
    api.click(run_screen, inputs, [summary, table, figure, bundle], api_name="screen", concurrency_limit=CONCURRENCY,
              concurrency_id="screen")
    # Said at once, as the tabs' Run does: the talk view showed an empty box for the half minute of every region
    # (its slide is cleared too, the one figure it shows beside the answer).
    started = button.click(lambda: (gr.update(interactive=False, value="Screening..."), SCREENING, None), None,
                           [button, summary, slide], queue=False, api_visibility="private")
    shown = started.then(screen_on_page, inputs, [summary, table, figure, bundle, slide],
                         concurrency_limit=CONCURRENCY, concurrency_id="screen", api_visibility="private")
    shown.success(screen_cards, table, cards, queue=False, api_visibility="private")
    # The button comes back either way: gradio runs a .then only after a success, and a refused screen raises.
    shown.then(lambda: gr.update(interactive=True, value="Screen"), None, button, queue=False,
               api_visibility="private")
    shown.failure(lambda: (SCREEN_FAILED, gr.update(interactive=True, value="Screen")), None, [summary, button],
                  queue=False, api_visibility="private")
    statistic.change(headers_before_a_run, [statistic, table], table, queue=False, api_visibility="private")


SCREENING = ("**Screening...** every ticked edit on every ticked region, for every model: the ranked table appears "
             "here when it is ready; until then, any table and figure below are the previous screen's.")
SCREEN_FAILED = ("**This screen failed**: the message that popped up says why. Any table, figure and download below "
                 "are the previous screen's.")


def headers_before_a_run(statistic: str, table):
    """The empty table's score column follows the statistic chosen; a ranked table keeps the name of the statistic
    it was ranked by until the next run."""
    if table is not None and len(table):
        return gr.skip()
    import pandas as pd

    return pd.DataFrame(columns=table_headers(statistic if statistic in STATISTICS else GRADIENT))
