"""Export a Screen: screen.csv (the ranked table), screen.json, screen.png (the top properties) and
report.html (one self-contained page: the figure, the ranked table, skipped rows, settings, versions).

``screen.json`` fields
----------------------
propgrad_version, statistic (what score is: "gradient" = E[|grad_X F|], "correlation" = |Pearson r| with
the step, "mutual-information" = KSG estimate in nats), adjustment (how p-values were adjusted, over the
whole table), alpha, n_permutations, seed, skipped (rows that could not run, with the reason), notes
(about the masks), properties (ranked), and ``table``: one entry per property, model and output of
interest with the fields of ``FIELDS`` (``reading`` is null until a plain-words reading fills it).
"""
from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import warnings

from . import html_report, plots
from .score import STATISTIC_LABELS
from .screen import Screen

FIELDS = ("rank", "property", "edit", "region", "model", "output", "statistic", "score", "pvalue",
          "pvalue_adjusted", "significant", "significant_adjusted", "flipped", "flips", "reading")
TOP = 6


def to_dict(result: Screen) -> dict:
    """The machine-readable screen (see the module docstring for the fields)."""
    from ._version import __version__

    return {
        "propgrad_version": __version__,
        "statistic": result.statistic,
        "adjustment": result.adjustment,
        "alpha": result.alpha,
        "n_permutations": result.n_permutations,
        "seed": result.seed,
        "skipped": list(result.skipped),
        "notes": list(result.notes),
        "properties": result.properties,
        "table": [{key: asdict(row)[key] for key in FIELDS} for row in result.rows],
    }


def write_csv(result: Screen, path: str | Path) -> Path:
    """The ranked table, one row per property, model and output of interest."""
    path = Path(path)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELDS)
        for row in result.rows:
            values = asdict(row)
            writer.writerow(["" if values[key] is None else f"{values[key]:.6g}" if isinstance(values[key], float)
                             else values[key] for key in FIELDS])
    return path


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
    axes = figure.subplots(len(rows), 2, squeeze=False, width_ratios=[1, 2.2])
    label = STATISTIC_LABELS[result.statistic]
    for (picture, curve), row in zip(axes, rows):
        explanation = result.explanations[row.property]
        first = explanation.series[0]
        last = first.images[-1]
        shown = plots.draw_region(last, first.mask, style="outline") if first.mask is not None else last
        picture.imshow(np.asarray(shown))
        picture.set_axis_off()
        picture.set_title(f"#{row.rank} {row.property}", fontsize=9, loc="left")
        model = explanation.model(row.model)
        score = next(s for s in model.scores if s.output == row.output)
        mean, _ = model.mean_curve(score.index)
        steps = np.arange(len(mean))
        curve.plot(steps, mean, marker="o", markersize=3, color="#1f77b4")
        shown_output = model.output_names[score.index] + (" (curve of the predicted class)" if score.vector else "")
        curve.set_title(f"{row.model}: {shown_output}\n{label} = {row.score:.4g}, p = {row.pvalue:.2g}, "
                        f"adjusted p = {row.pvalue_adjusted:.2g}{' *' if row.significant_adjusted else ''}",
                        fontsize=8, loc="left")
        curve.set_xlabel(f"step / {explanation.property_name}", fontsize=8)
        curve.tick_params(labelsize=7)
        curve.grid(alpha=0.3)
    return figure


def html_page(data: dict, figure_path: Path | None, missing: dict[str, str]) -> str:
    """The screen as one self-contained page (see :mod:`propgrad.html_report`)."""
    label = STATISTIC_LABELS[data["statistic"]]
    # The reading column is shown once it is filled; an all-empty column would only say "none" on every row.
    shown = [key for key in FIELDS if key != "reading" or any(row["reading"] for row in data["table"])]
    rows = [{key: row[key] for key in shown} for row in data["table"]]
    body = [html_report._missing_list(missing),
            "<h2>Top properties</h2>" + html_report.figure("the top properties", figure_path,
                                                          missing=missing.get("figure")),
            "<h2>Ranked table</h2>" + html_report.table(rows, {"score": label, "pvalue": "p-value",
                                                                "pvalue_adjusted": "adjusted p"})
            + f"<p>p-values adjusted over the whole table: {html_report.escape(data['adjustment'])}; alpha = "
              f"{html_report.escape(data['alpha'])}.</p>"]
    if data["skipped"] or data["notes"]:
        body.append("<h2>Skipped rows and notes</h2><ul>" + "".join(
            f"<li>{html_report.escape(line)}</li>" for line in [*data["skipped"], *data["notes"]]) + "</ul>")
    settings = {key: data[key] for key in ("statistic", "adjustment", "alpha", "n_permutations", "seed")}
    body += ["<h2>Settings</h2>" + html_report.settings_list(settings),
             "<h2>Versions</h2>" + html_report.settings_list(html_report.versions())]
    return html_report.page(f"propgrad screen: {len(data['properties'])} properties", body)


def write_screen(result: Screen, out_dir: str | Path, top: int = TOP) -> dict[str, Path]:
    """Write screen.csv, screen.json, screen.png and report.html into ``out_dir`` (created if missing). A figure
    that fails to draw is left out with a warning, and report.html says so.

    Examples
    --------
    >>> sorted(write_screen(result, "screen/"))  # doctest: +SKIP
    ['csv', 'figure', 'html', 'json']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = to_dict(result)
    paths = {"json": out / "screen.json"}
    paths["json"].write_text(json.dumps(data, indent=1))
    paths["csv"] = write_csv(result, out / "screen.csv")
    missing = {}
    try:
        paths["figure"] = plots.save_figure(top_figure(result, top), out / "screen.png")
    except Exception as error:  # noqa: BLE001 - the tables stand without it; report.html says it is missing
        missing["figure"] = f"{type(error).__name__}: {error}"
        warnings.warn(f"the screen figure in {out} failed: {missing['figure']}", stacklevel=2)
    paths["html"] = html_report.write(html_page(data, paths.get("figure"), missing), out / "report.html")
    return paths
