"""Export a Screen: screen.csv (the ranked table), screen.json, screen.png (the top properties) and
report.html (one self-contained page: the figure, the ranked table, skipped rows, settings, versions).

``screen.json`` fields
----------------------
propgrad_version, statistic (what score is: "gradient" = E[|grad_X F|], "correlation" = |Pearson r| with
the step, "mutual-information" = KSG estimate in nats), adjustment (how p-values were adjusted, over the
whole table), alpha, n_permutations, seed, skipped (rows that could not run, with the reason), notes
(about the masks), properties (ranked), ``answer`` (per model, in words, what moves its output most; the
significant but negligible properties named once), and ``table``: one entry per property, model and output
of interest with the fields of ``FIELDS``, ranked by :mod:`propgrad.ranking` (``change``: how far the output's
mean curve moved; ``tier``: a to e; ``reading``: class, label, tier, shape, text and evidence, see
:mod:`propgrad.reading`; in screen.csv the reading is its sentence). With two or more models scored on a named
output, ``contrast`` holds where they differ (each model's change and statistic per property, largest
difference first; screen_contrast.csv), else ``contrast_note`` says why it is left out.
"""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .. import plots
from . import html as html_report
from . import tables
from .figure_files import draw_into
from ..score import STATISTIC_LABELS
from ..ranking import tier_legend
from ..reading import describe_value, format_number, short_names
from ..screen import Screen

# What the output did first (its change, tier and flips), then the test.
FIELDS = ("rank", "property", "edit", "region", "model", "output", "change", "tier", "flipped", "flips",
          "statistic", "score", "pvalue", "pvalue_adjusted", "significant", "significant_adjusted", "reading")
TOP = 6


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
        "table": [_record(row) for row in result.rows],
        **result.answer_fields(),
        "settings": settings if settings is not None else made_with(result),
    }


def write_csv(result: Screen, path: str | Path) -> Path:
    """The ranked table, one row per property, model and output of interest; the reading as its sentence."""
    return tables.write_csv(path, FIELDS, ({**_record(row), "reading": row.reading.full} for row in result.rows))


def top_figure(result: Screen, top: int = TOP) -> Figure:
    """The top properties: each one's strongest step (the last, with its region outlined) and its curve.

    Examples
    --------
    >>> plots.save_figure(top_figure(result), "screen.png")  # doctest: +SKIP
    """
    rows = result.top(top)
    figure = Figure(figsize=(8.0, 2.1 * max(1, len(rows))), layout="constrained")
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
        picture.set_title(f"row {row.rank}: {row.property}", fontsize=9, loc="left")
        model = explanation.model(row.model)
        score = next(s for s in model.scores if s.output == row.output)
        filled, empty = plots.output_curve(curve, model, score, "#1f77b4", flip_size=40)
        flipped, hollow = flipped or filled, hollow or empty
        if plots.draws_threshold(model, score):
            threshold = True
            plots.decision_line(curve)
        n_steps = explanation.n_steps
        shown_output = score.output
        curve.set_title(textwrap.fill(f"{short[row.model]}: {shown_output}, {row.reading.label}", 80)
                        + f"\nchange {format_number(row.change)}, {label} = {format_number(row.score)}, adjusted p = "
                          f"{format_number(row.pvalue_adjusted)}{' *' if row.significant_adjusted else ''}",
                        fontsize=8, loc="left")
        # The ticks are steps: "step / rotation (degrees)" under ticks 0-10 read as "rotation 0-10 degrees".
        end = describe_value(explanation.property_name, float(explanation.values[-1]), n_steps - 1)
        end = end.split(" (", 1)[1][:-1] if end.startswith("step ") and " (" in end else end
        curve.set_xlabel(f"step: 0 is the input, {n_steps - 1} is {end}", fontsize=8)
        curve.set_ylabel(textwrap.fill(plots.y_label([(model, score)]), 24), fontsize=8)
        plots.probability_range(curve, [(model, score)])
        curve.set_xticks(plots.tick_steps(n_steps, 11))  # whole steps, evenly, the last one ticked, as every curve
        curve.tick_params(labelsize=7)
        curve.grid(alpha=0.3)
    # The title names only the marks drawn.
    marks = [*(["\u25bc the prediction flips"] if flipped else []),
             *(["\u25bd it changes between two other classes"] if hollow else []),
             *(["dashed: the decision threshold 0.5"] if threshold else [])]
    figure.suptitle("The top properties, each shown once, at its first row in the ranked table"
                    + ("\n" + "; ".join(marks) if marks else ""), fontsize=9, x=0.01, ha="left")
    return figure


def html_page(data: dict, figure_path: Path | None, missing: dict[str, str]) -> str:
    """The screen as one self-contained page (see :mod:`propgrad.export.html`)."""
    label = STATISTIC_LABELS[data["statistic"]]
    shown = [key for key in FIELDS if key not in ("edit", "region")]  # the property names both
    rows = html_report.page_rows([{**{key: row[key] for key in shown},
                                   "reading": html_report.reading_sentence(row["reading"])} for row in data["table"]])
    answer = "".join(f"<p>{html_report.escape(line)}</p>" for line in data["answer"])
    body = [html_report._missing_list(missing), html_report.input_line(data.get("input")),
            "<h2>The answer</h2>" + answer, html_report.note_paragraphs(data["notes"]),
            "<h2>Top properties</h2>" + html_report.figure("the top properties", figure_path,
                                                          missing=missing.get("figure")),
            "<h2>Ranked table</h2>"
            + f"<p>Ranked by what the output did (tier {html_report.escape(tier_legend())}), then by its change; p "
              "beside.</p>"
            + html_report.table(rows, {"score": label})
            + f"<p>p-values adjusted over the whole table: {html_report.escape(data['adjustment'])}; alpha = "
              f"{html_report.escape(data['alpha'])}.</p>"]
    if data["contrast"]:
        body.append(html_report.contrast_section(data["contrast"], ", largest difference first"))
    elif data.get("contrast_note"):
        body.append(f"<p>{html_report.escape(data['contrast_note'])}</p>")
    if data["skipped"]:
        body.append("<h2>Skipped rows</h2><ul>" + "".join(
            f"<li>{html_report.escape(line)}</li>" for line in data["skipped"]) + "</ul>")
    body += ["<h2>Settings</h2>" + html_report.settings_list(data["settings"]),
             "<h2>Versions</h2>" + html_report.versions_list()]
    return html_report.page(f"propgrad screen: {len(data['properties'])} properties", body)


def write_screen(result: Screen, out_dir: str | Path, top: int = TOP, settings: dict | None = None
                 ) -> dict[str, Path]:
    """Write screen.csv, screen.json, screen.png and report.html into ``out_dir`` (created if missing). A figure
    that fails to draw is left out with a warning, and report.html says so.

    Examples
    --------
    >>> sorted(write_screen(result, "screen/"))  # doctest: +SKIP
    ['csv', 'figure', 'html', 'json']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = to_dict(result, settings)
    paths = {"json": out / "screen.json"}
    paths["json"].write_text(json.dumps(data, indent=1))
    paths["csv"] = write_csv(result, out / "screen.csv")
    if data["contrast"]:
        paths["contrast"] = tables.write_csv(out / "screen_contrast.csv", list(data["contrast"][0]), data["contrast"])
    missing = {}
    # The tables stand without it; report.html says it is missing.
    figure, reason = draw_into(lambda path: plots.save_figure(top_figure(result, top), path), out / "screen.png",
                               f"the screen figure in {out}")
    if figure is not None:
        paths["figure"] = figure
    else:
        missing["figure"] = reason
    paths["html"] = html_report.write(html_page(data, paths.get("figure"), missing), out / "report.html")
    return paths
