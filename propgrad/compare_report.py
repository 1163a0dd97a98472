"""Export a PropertyComparison: comparison.json, comparison.csv, comparison.png, and one report per property.

``comparison.json`` fields
--------------------------
propgrad_version, alpha, n_permutations, seed, adjustment (how p-values were adjusted), notes (about the
masks: resized, global edit), properties (ranked by score, highest first), and ``table``: one entry per
property, model and output of interest with
  property, model, output, score (E[|grad_X F|]), pvalue (two-sided shuffle test, +1 corrected),
  pvalue_adjusted (Benjamini-Hochberg over the whole table), significant (pvalue <= alpha, the paper's S),
  significant_adjusted (pvalue_adjusted <= alpha), flipped (the paper's F), flips (where, in words),
  reading (in plain words: class, label, text and the curve's numbers; see :mod:`propgrad.reading`).
``reading`` (top level) is a paragraph naming what moved which model and what did not, ``reading_thresholds``
the thresholds used; ``settings`` (written by the app) every setting of the run, as in :mod:`propgrad.report`.
``explanations`` maps each property to its full report (see :mod:`propgrad.report`), ``folders`` to the
sub-folder holding its strip, curves, null distributions and animation.
"""
from __future__ import annotations

import csv
import json
import re
from dataclasses import asdict
from pathlib import Path

from . import plots, reading, report
from .compare import PropertyComparison

FIELDS = ("property", "model", "output", "score", "pvalue", "pvalue_adjusted", "significant",
          "significant_adjusted", "flipped", "flips")


def folder_names(comparison: PropertyComparison) -> dict[str, str]:
    """A distinct, file-system-safe folder name per property ("object: darken edit" -> "01_object_darken_edit")."""
    names = {}
    for number, name in enumerate(comparison.explanations, start=1):
        slug = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()[:48] or "property"
        names[name] = f"{number:02d}_{slug}"
    return names


def to_dict(comparison: PropertyComparison, settings: dict | None = None) -> dict:
    """The machine-readable comparison (see the module docstring for the fields); ``settings`` (every setting of
    the run, as the app records them) are written as they are."""
    from . import __version__

    folders = folder_names(comparison)
    thresholds = reading.default_thresholds()
    readings = reading.read_comparison(comparison, thresholds)
    return {
        "propgrad_version": __version__,
        "alpha": comparison.alpha,
        "n_permutations": comparison.n_permutations,
        "seed": comparison.seed,
        "adjustment": comparison.adjustment,
        "notes": list(comparison.notes),
        "properties": list(comparison.properties),
        "reading": reading.paragraph(readings),
        "reading_thresholds": asdict(thresholds),
        "table": [{**{key: asdict(entry)[key] for key in FIELDS}, "reading": one.to_dict()}
                  for entry, one in zip(comparison.scores, readings)],
        "folders": folders,
        "explanations": {name: report.to_dict(result, thresholds) for name, result in comparison.explanations.items()},
        **({"settings": settings} if settings is not None else {}),
    }


def write_csv(comparison: PropertyComparison, path: str | Path) -> Path:
    """The table in long form: one row per property, model and output of interest, ranked."""
    path = Path(path)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELDS)
        for entry in comparison.scores:
            row = asdict(entry)
            writer.writerow([f"{row[key]:.6g}" if isinstance(row[key], float) else row[key] for key in FIELDS])
    return path


def write_comparison(comparison: PropertyComparison, out_dir: str | Path, *, per_property: bool = True,
                     figures=report.FIGURES, settings: dict | None = None) -> dict[str, Path]:
    """Write comparison.json, comparison.csv, comparison.png (and each property's report in a sub-folder).

    ``figures`` names what each property's report draws (see :func:`propgrad.report.write_report`);
    ``settings`` go into comparison.json.

    Examples
    --------
    >>> paths = write_comparison(comparison, "report/")  # doctest: +SKIP
    >>> sorted(paths)[:3]  # doctest: +SKIP
    ['csv', 'figure', 'json']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "comparison.json"}
    paths["json"].write_text(json.dumps(to_dict(comparison, settings), indent=1))
    paths["csv"] = write_csv(comparison, out / "comparison.csv")
    paths["figure"] = plots.save_figure(plots.comparison_figure(comparison), out / "comparison.png")
    if per_property:
        for name, folder in folder_names(comparison).items():
            written = report.write_report(comparison.explanations[name], out / folder, figures=figures)
            paths.update({f"{folder}/{key}": path for key, path in written.items()})
    return paths
