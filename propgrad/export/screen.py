"""Export a Screen: screen.csv (the ranked table), screen_curves.csv (the curves behind its rows), screen.json,
screen.png (the top properties) and report.html (one self-contained page: the figure, the ranked table, skipped rows,
settings, versions).

``screen.json`` fields
----------------------
propgrad_version, statistic (what score is: "gradient" = E[|grad_X F|], "correlation" = |Pearson r| with the step,
"mutual-information" = KSG estimate in nats), adjustment (how p-values were adjusted, over the whole table), alpha,
n_permutations, seed, skipped (rows that could not run, with the reason), notes (about the masks), properties
(ranked), models (each one's name and description, in words), ``answer`` (per model, in words, what moves its output
most; the significant but negligible properties named once), and ``table``: one entry per property, model and output
of interest with the fields of ``FIELDS``, ranked by :mod:`propgrad.ranking` (``change``: how far the output's mean
curve moved; ``tier``: a to e; ``reading``: class, label, tier, shape, text and evidence, see
:mod:`propgrad.reading`; in screen.csv the reading is its sentence). With two or more models scored on a named
output, ``contrast`` holds where they differ (each model's change and statistic per property, largest lead
first; screen_contrast.csv), else ``contrast_note`` says why it is left out.
"""
from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .. import plots
from . import html as html_report
from .explanation import CURVE_FIELDS, property_curve_records
from .folder import ReportFolder
from ..errors import in_words
from ..score import STATISTIC_LABELS
from ..ranking import tier_legend
from ..formats import format_number, format_pvalue
from ..reading import describe_value, short_names
from ..screen import Screen

# What the output did first (its change, tier and flips), then the test.
FIELDS = ("rank", "property", "edit", "region", "model", "output", "change", "tier", "flipped", "flips",
          "statistic", "score", "pvalue", "pvalue_adjusted", "significant", "significant_adjusted", "reading")
TOP = 6
# What write_screen writes, by the key it returns each under (the command's help and the app's label read them here).
FILES = {"csv": "screen.csv", "curves": "screen_curves.csv", "json": "screen.json", "figure": "screen.png",
         "html": "report.html"}


def written_files() -> str:
    """The files of a screen's folder in words: "screen.csv, ..., screen.png and report.html"."""
    return in_words(FILES.values(), quote=str)


def _record(row) -> dict:
    record = {key: getattr(row, key) for key in FIELDS}
    record["reading"] = row.reading.to_dict()
    return record


def to_dict(result: Screen, settings: dict | None = None) -> dict:
    """The machine-readable screen (see the module docstring for the fields); ``settings``, the run's settings
    block, defaults to :func:`propgrad.export.settings`."""
    from .._version import __version__
    from .provenance import made_with

    return {
        "propgrad_version": __version__,
        "statistic": result.statistic,
        "adjustment": result.adjustment,
        "alpha": result.alpha,
        "n_permutations": result.n_permutations,
        "seed": result.seed,
        "input": result.input,
        "skipped": list(result.skipped),
        "notes": list(result.notes),
        "properties": result.properties,
        # What each model is, for the report's guide (every property ran the same models).
        "models": [{"name": model.name, "description": model.description}
                   for model in next(iter(result.explanations.values())).models] if result.explanations else [],
        "table": [_record(row) for row in result.rows],
        **result.answer_fields(),
        "settings": settings if settings is not None else made_with(result),
    }


@dataclass(frozen=True)
class FigureLook:
    """How large a top-properties figure draws its parts: the page's six rows, or the talk view's three in type that
    carries to the back of a lecture hall."""

    width: float = 8.0
    row_height: float = 2.1
    title: float = 9
    row_title: float = 9
    curve_title: float = 8
    ticks: float = 7
    label: float = 8
    flip_size: float = 40
    talk: bool = False


PAGE = FigureLook()
# Drawn about as large as it is shown beside the answer at 1280 x 720 (some 650 px wide): 13 pt is about 18 px there.
TALK = FigureLook(width=6.4, row_height=2.3, title=12, row_title=14, curve_title=13, ticks=12, label=12,
                  flip_size=90, talk=True)
TALK_TOP = 3


def top_figure(result: Screen, top: int = TOP, look: FigureLook = PAGE) -> Figure:
    """The top properties: each one's strongest step (the last, with its region outlined) and its curve; ``look``
    :data:`TALK` draws them for a projector (the statistic's value left to the table, the reading and change kept).

    Examples
    --------
    >>> plots.save_figure(top_figure(result), "screen.png")  # doctest: +SKIP
    """
    rows = result.top(top)
    figure = Figure(figsize=(look.width, look.row_height * max(1, len(rows))), layout="constrained")
    if not rows:
        figure.text(0.5, 0.5, "no property ran", ha="center")
        return figure
    # A property shows once, at its first row: the panels' row numbers skip the rows of properties shown above.
    threshold = flipped = hollow = False
    short = short_names([row.model for row in result.rows])  # as the table names them
    axes = figure.subplots(len(rows), 2, squeeze=False, width_ratios=[1, 2.2])
    label = STATISTIC_LABELS[result.statistic]
    for (picture, curve), row in zip(axes, rows):
        explanation = result.explanations[row.property]
        first = explanation.series[0]
        last = first.images[-1]
        shown = plots.draw_region(last, first.mask, style="outline") if first.mask is not None else last
        picture.imshow(np.asarray(shown))
        picture.set_axis_off()
        # The talk view shows no table: "row 1, row 2, row 4" read as a row gone missing.
        picture.set_title(textwrap.fill(row.property, 22) if look.talk else f"row {row.rank}: {row.property}",
                          fontsize=look.row_title, loc="left")
        model = explanation.model(row.model)
        score = next(s for s in model.scores if s.output == row.output)
        # Each model in its look of every other figure (the first tab's curves): the screen ran them in that order.
        number = [one.name for one in explanation.models].index(row.model)
        filled, empty = plots.output_curve(curve, model, score, number, flip_size=look.flip_size,
                                           markersize=5 if look.talk else 3)
        flipped, hollow = flipped or filled, hollow or empty
        if plots.draws_threshold(model, score):
            threshold = True
            plots.decision_line(curve)
        n_steps = explanation.n_steps
        adjusted = (f"adjusted p = {format_pvalue(row.pvalue_adjusted, result.alpha)}"
                    f"{' *' if row.significant_adjusted else ''}")
        if look.talk:
            title = (textwrap.fill(f"{short[row.model]}: {row.reading.label}", 40)
                     + f"\nchange {format_number(row.change)}, {adjusted}")
        else:
            title = (textwrap.fill(f"{short[row.model]}: {score.output}, {row.reading.label}", 80)
                     + f"\nchange {format_number(row.change)}, {label} = {format_number(row.score)}, {adjusted}")
        curve.set_title(title, fontsize=look.curve_title, loc="left")
        # The ticks are steps: "step / rotation (degrees)" under ticks 0-10 read as "rotation 0-10 degrees".
        end = describe_value(explanation.property_name, float(explanation.values[-1]), n_steps - 1)
        end = end.split(" (", 1)[1][:-1] if end.startswith("step ") and " (" in end else end
        curve.set_xlabel(f"step ({n_steps - 1}: {end})" if look.talk else f"step: 0 is the input, {n_steps - 1} is {end}",
                         fontsize=look.label)
        curve.set_ylabel(textwrap.fill(plots.y_label([(model, score)]), 24), fontsize=look.label)
        plots.probability_range(curve, [(model, score)])
        curve.set_xticks(plots.tick_steps(n_steps, 6 if look.talk else 11))  # whole steps, the last one ticked
        curve.tick_params(labelsize=look.ticks)
        curve.grid(alpha=0.3)
    # The title names only the marks drawn.
    marks = [*([f"{plots.FLIP_GLYPH} the prediction flips"] if flipped else []),
             *([f"{plots.OTHER_FLIP_GLYPH} it changes between two other classes"] if hollow else []),
             *(["dashed: the decision threshold 0.5"] if threshold else [])]
    heading = ("The top properties, ranked by what the output did" if look.talk else
               "The top properties, each shown once, at its first row in the ranked table")
    figure.suptitle(heading + ("\n" + "; ".join(marks) if marks else ""), fontsize=look.title, x=0.01, ha="left")
    return figure


def html_page(data: dict, figure_path: Path | None, missing: dict[str, str], answer: Sequence[str] | None = None
              ) -> str:
    """The screen as one self-contained page (see :mod:`propgrad.export.html`); ``answer``: the answer with its
    names marked (:attr:`propgrad.answer.Answered.answer_marked`; else the document's)."""
    label = STATISTIC_LABELS[data["statistic"]]
    shown = [key for key in FIELDS if key not in ("edit", "region")]  # the property names both
    rows = html_report.page_rows([{**{key: row[key] for key in shown},
                                   "reading": html_report.reading_sentence(row["reading"])} for row in data["table"]])
    answer = html_report.answer_paragraphs(answer if answer is not None else data["answer"])
    body = [html_report._missing_list(missing), html_report.input_line(data.get("input")),
            "<h2>The answer</h2>" + answer + html_report.how_tested_line(data),
            html_report.note_paragraphs(data["notes"], data["answer"]),
            "<h2>Top properties</h2>" + html_report.figure("the top properties", figure_path,
                                                          missing=missing.get("figure")),
            "<h2>Ranked table</h2>"
            + f"<p>Ranked by what the output did (tier {html_report.escape(tier_legend())}), then by its change; p "
              "beside.</p>"
            + html_report.table(rows, {"score": label}, alpha=data["alpha"]) + html_report.models_line(data["table"])
            + f"<p>{html_report.GUIDE_LINK}</p>"]
    if data["contrast"]:
        body.append(html_report.contrast_section(data["contrast"], ", largest lead first"))
    elif data.get("contrast_note"):
        body.append(f"<p>{html_report.prose(data['contrast_note'])}</p>")
    if data["skipped"]:
        body.append("<h2>Skipped rows</h2><ul>" + "".join(
            f"<li>{html_report.prose(line)}</li>" for line in data["skipped"]) + "</ul>")
    body += [html_report.guide_section(data["statistic"], html_report.model_descriptions(data)),
             html_report.settings_section(data["settings"]),
             "<h2>Versions</h2>" + html_report.versions_list()]
    return html_report.page(f"propgrad screen: {len(data['properties'])} properties", body)


def write_screen(result: Screen, out_dir: str | Path, top: int = TOP, settings: dict | None = None
                 ) -> dict[str, Path]:
    """Write screen.csv, screen_curves.csv, screen.json, screen.png and report.html into ``out_dir`` (created if
    missing). A figure that fails to draw is left out with a warning, and report.html says so.

    Examples
    --------
    >>> sorted(write_screen(result, "screen/"))  # doctest: +SKIP
    ['csv', 'curves', 'figure', 'html', 'json']
    """
    data = to_dict(result, settings)
    folder = ReportFolder(out_dir, FILES["json"])
    # The ranked table, one row per property, model and output of interest; the reading as its sentence.
    folder.table("csv", FILES["csv"], FIELDS, ({**_record(row), "reading": row.reading.full} for row in result.rows))
    folder.contrast(data, "screen_contrast.csv")
    # The curves behind every row, long form (one record per property, series, step, model and output): the page's
    # readings could not be re-plotted from the zip.
    folder.table("curves", FILES["curves"], CURVE_FIELDS, property_curve_records(result.explanations))
    folder.figure("figure", FILES["figure"], lambda path: plots.save_figure(top_figure(result, top), path),
                  f"the screen figure in {folder.out}")
    return folder.finish(html_page(data, folder.paths.get("figure"), folder.missing, result.answer_marked), data)
