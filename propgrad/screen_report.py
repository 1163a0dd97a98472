"""Export a Screen: screen.csv (the ranked table), screen.json and screen.png (the top properties).

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

from . import plots
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


def write_screen(result: Screen, out_dir: str | Path, top: int = TOP) -> dict[str, Path]:
    """Write screen.csv, screen.json and screen.png into ``out_dir`` (created if missing).

    Examples
    --------
    >>> sorted(write_screen(result, "screen/"))  # doctest: +SKIP
    ['csv', 'figure', 'json']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "screen.json"}
    paths["json"].write_text(json.dumps(to_dict(result), indent=1))
    paths["csv"] = write_csv(result, out / "screen.csv")
    paths["figure"] = plots.save_figure(top_figure(result, top), out / "screen.png")
    return paths
