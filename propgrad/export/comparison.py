"""Export a PropertyComparison: comparison.json, comparison.csv, comparison.png, report.html (the whole
comparison in one self-contained page), and one report per property.

``comparison.json`` fields
--------------------------
propgrad_version, alpha, n_permutations, seed, statistic (what score is), adjustment (how p-values were adjusted, over the whole table), notes (about the
masks: resized, global edit), properties (ranked by :mod:`propgrad.ranking`: the tier of what the output did,
then its change), ``answer`` (per model, in words, what moves its output most), ``contrast`` (with two or more
models scored on a named output: each model's change per property, side by side; else ``contrast_note``), and
``table``: one entry per property, model and output of interest with
  property, model, output, change (highest - lowest value of the output's mean curve), tier (a to e),
  statistic, score (the statistic: E[|grad_X F|] by default), pvalue (shuffle test, +1 corrected),
  pvalue_adjusted (Benjamini-Hochberg over the whole table), significant (pvalue <= alpha, the paper's S),
  significant_adjusted (pvalue_adjusted <= alpha), flipped (the paper's F), flips (where, in words),
  reading (in plain words: class, label, text and the curve's numbers; see :mod:`propgrad.reading`).
``reading`` (top level) is a paragraph naming what moved which model and what did not, ``reading_thresholds``
the thresholds used; ``settings`` (written by the app) every setting of the run, as in :mod:`propgrad.export.explanation`.
``explanations`` maps each property to its full report (see :mod:`propgrad.export.explanation`), ``folders`` to the
sub-folder holding its strip, curves, null distributions and animation.
"""
from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path

from .. import plots, reading
from . import explanation as report
from . import html as html_report
from .provenance import made_with
from .folder import ReportFolder
from ..compare import PropertyComparison

# What the output did first (its change, tier and flips), then the test.
FIELDS = ("property", "model", "output", "change", "tier", "flipped", "flips", "statistic", "score", "pvalue",
          "pvalue_adjusted", "significant", "significant_adjusted")


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
    from .._version import __version__

    # Without the caller's own, what the comparison holds; every property's report carries the same block.
    settings = settings if settings is not None else made_with(comparison)
    folders = folder_names(comparison)
    readings = comparison.readings
    return {
        "propgrad_version": __version__,
        "alpha": comparison.alpha,
        "n_permutations": comparison.n_permutations,
        "seed": comparison.seed,
        "statistic": comparison.statistic,
        "input": next(iter(comparison.explanations.values())).input,
        "adjustment": comparison.adjustment,
        "notes": list(comparison.notes),
        "properties": list(comparison.properties),
        "reading": reading.paragraph(readings),
        "reading_thresholds": asdict(reading.default_thresholds()),
        "table": [{**table_row(entry), "reading": one.to_dict()} for entry, one in zip(comparison.scores, readings)],
        **comparison.answer_fields(),
        "folders": folders,
        "explanations": {name: report.to_dict(result, settings=settings)
                         for name, result in comparison.explanations.items()},
        "settings": settings,
    }


def table_row(entry) -> dict:
    """One ranked row as :data:`FIELDS` (flips in words)."""
    row = {key: getattr(entry, key) for key in FIELDS if key != "statistic"}
    row["statistic"] = entry.reading.statistic
    row["flips"] = reading.flips_text(list(entry.flips), list(entry.output_names), entry.output_kind,
                                      places=entry.places)
    return row


def write_comparison(comparison: PropertyComparison, out_dir: str | Path, *, per_property: bool = True,
                     figures=report.FIGURES, settings: dict | None = None,
                     drawn: dict[str, Path] | None = None) -> dict[str, Path]:
    """Write comparison.json, comparison.csv, comparison.png, report.html (and each property's report in a
    sub-folder; report.html shows them all).

    ``figures`` names what each property's report draws (see :func:`propgrad.export.explanation.write_report`);
    ``settings`` go into comparison.json; ``drawn`` may name a strip of every property's steps drawn elsewhere
    ({"strip": path}, as the app draws one), which is copied in as strip.png and shown near the top of report.html.
    With a "curves" key (a figure of every property's curves drawn elsewhere, as the app draws one: copied in as
    curves.png and shown; None: drawn later, which the caller puts on the page with
    :func:`propgrad.export.html.add_drawn`), comparison.png is not drawn: it showed the same curves again.

    Examples
    --------
    >>> paths = write_comparison(comparison, "report/")  # doctest: +SKIP
    >>> sorted(paths)[:4]  # doctest: +SKIP
    ['csv', 'figure', 'html', 'json']
    """
    settings = settings if settings is not None else made_with(comparison)  # the same block in every report.json
    data = to_dict(comparison, settings)
    folder = ReportFolder(out_dir, "comparison.json")
    out, paths = folder.out, folder.paths
    # The table in long form: one row per property, model and output of interest, ranked; the reading as its sentence.
    folder.table("csv", "comparison.csv", (*FIELDS, "reading"),
                 ({**table_row(entry), "reading": entry.reading.full} for entry in comparison.scores))
    folder.contrast(data, "comparison_contrast.csv")
    drawn = dict(drawn or {})
    curves_elsewhere = "curves" in drawn
    if not curves_elsewhere:
        folder.figure("figure", "comparison.png",
                      lambda path: plots.save_figure(plots.comparison_figure(comparison), path),
                      f"the comparison figure in {out}", title="comparison")
    # A strip named but not there: each property's section shows its own (below).
    strip = folder.copied("strip", drawn.get("strip"), "strip.png")
    curves = folder.copied("curves", drawn.get("curves"), "curves.png")
    parts = []
    # A page with the strip of every property (copied in now, or None: drawn later) does not repeat each property's
    # under it; each property's own report.html still shows its strip.
    repeated = {"strip"} if strip is not None or ("strip" in drawn and drawn["strip"] is None) else set()
    if per_property:
        for name, sub in folder_names(comparison).items():
            written = report.write_report(comparison.explanations[name], out / sub, figures=figures,
                                          settings=settings, part=name)
            paths.update({f"{sub}/{key}": path for key, path in written.items()})
            parts.append((name, html_report.own_page_line(sub)
                          + report.html_sections(comparison.explanations[name],
                                                 {key: path for key, path in written.items() if key not in repeated},
                                                 [kind for kind in figures if kind not in repeated],
                                                 said=comparison.caveats)))
    page = html_report.comparison_page(data, paths.get("figure"), parts, folder.missing, strip=strip, curves=curves,
                                       curves_later=curves_elsewhere and drawn["curves"] is None,
                                       answer=comparison.answer_marked)
    return folder.finish(page, data)
