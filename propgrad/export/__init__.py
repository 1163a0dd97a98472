"""One way out for every result: report.json, CSV, report.html, figures and a zip.

Every result kind shows the same small surface here, whatever made it:

- :func:`rows`: the ranked rows as plain records, each with its reading (made once, when the result was made)
  and the statistic's name;
- :func:`settings`: what the result was made with (the statistic, the shuffle test's permutations, alpha and
  seed, the input's name and SHA-256);
- :func:`curves`: the output curves behind the rows, one record per step;
- :func:`figures`: the figures the kind offers, by name, with the file each is written to;
- :func:`to_dict`: the machine-readable report (report.json, comparison.json, screen.json), with the
  settings and the input's name and SHA-256;
- :func:`write`: every file of the result in a folder (JSON, CSV, report.html, figures);
- :func:`zip_files`: those files in one zip.

The kinds are :class:`~propgrad.explain.Explanation` (one property), :class:`~propgrad.compare.PropertyComparison`
(several properties, the paper's Table 1), :class:`~propgrad.screen.Screen` (many candidate properties),
:class:`~propgrad.lesions.dynamics.TrainingDynamics` (one image through every checkpoint of a training run) and a
study folder (:func:`propgrad.study.write_report` aggregates what a study stored). What is specific to a kind
(which figures it draws, its extra fields) stays in its module: :mod:`propgrad.export.explanation`,
:mod:`propgrad.export.comparison`, :mod:`propgrad.export.screen`, :mod:`propgrad.export.dynamics`,
:mod:`propgrad.study.report`; the pieces they
share are here: one CSV writer (:mod:`propgrad.export.tables`), one HTML page builder
(:mod:`propgrad.export.html`) and one result folder that every writer fills the same way
(:mod:`propgrad.export.folder`).

Examples
--------
>>> from propgrad import export
>>> paths = export.write(result, "out/")  # doctest: +SKIP
>>> export.zip_files(paths, "out.zip", root="out/")  # doctest: +SKIP
"""
from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from .bundle import zip_files


def _kind(result) -> str:
    from ..compare import PropertyComparison
    from ..explain import Explanation
    from ..screen import Screen

    # A TrainingDynamics exists only once its module is loaded; importing it to ask would bring torch (the lesion
    # models) into the app's report writer, about 340 MB of a process that only draws.
    dynamics = sys.modules.get(f"{__name__.rsplit('.', 1)[0]}.lesions.dynamics")

    if isinstance(result, Explanation):
        return "explanation"
    if isinstance(result, PropertyComparison):
        return "comparison"
    if isinstance(result, Screen):
        return "screen"
    if dynamics is not None and isinstance(result, getattr(dynamics, "TrainingDynamics", ())):
        return "dynamics"
    if isinstance(result, (str, Path)):
        return "study"
    raise TypeError("`result` must be an Explanation, a PropertyComparison, a Screen, a TrainingDynamics or a "
                    f"study folder, "
                    f"got {type(result).__name__}")


def rows(result) -> list[dict]:
    """The result's ranked rows as records: property, model, output, change, tier,
    flips, the statistic and its score, p (and adjusted p), and the reading as one sentence."""
    kind = _kind(result)
    if kind == "explanation":
        from .explanation import summary_rows

        # Named as a comparison's rows are, so that one loop reads both (an agent's `row["property"]` failed here).
        return [{"property": result.intervention, **row} for row in summary_rows(result)]
    if kind == "comparison":
        from .comparison import table_row

        return [{**table_row(entry), "reading": entry.reading.full} for entry in result.scores]
    if kind == "screen":
        from .screen import _record

        return [{**_record(row), "reading": row.reading.full} for row in result.rows]
    if kind == "dynamics":
        return [{**row, "statistic": result.statistic} for row in result.rows]
    from ..study.report import read_summary

    return read_summary(result)


def settings(result, models=None) -> dict:
    """What ``result`` was made with: statistic, n_permutations, alpha, seed, input, the models, the number of
    steps and the intervention (or the properties); a screen also its p-value adjustment (a study: what its
    study.json stored, the study file's definition or the settings of a study run from Python, and the SHA-256 of
    every file it names). The settings block of every report.json written without the caller's own
    (:func:`write`). ``models``, the Model objects that ran, add each one's preprocessing and source (a file's
    SHA-256)."""
    kind = _kind(result)
    if kind == "dynamics":
        from .dynamics import made_with as dynamics_made_with

        return dynamics_made_with(result)
    if kind == "study":
        from ..study.store import read_study

        study = read_study(result)
        files = {"files": study["files"]} if study.get("files") else {}
        return {**(study.get("in_memory") or {}), **(study.get("definition") or {}), **files}
    from .provenance import made_with

    return made_with(result, models)


def curves(result) -> list[dict]:
    """The output curves behind the rows: one record per (property,) series, step, model and output, with the
    property's value and the output's (full precision). A study's are its stored curves.csv rows; training
    dynamics keep no curve per step: theirs are the checkpoints' records, one point per epoch."""
    from .explanation import curve_records, property_curve_records

    kind = _kind(result)
    if kind == "explanation":
        return curve_records(result)
    if kind in ("comparison", "screen"):
        return property_curve_records(result.explanations)
    if kind == "dynamics":
        return result.rows
    from ..study.store import read_results

    return read_results(result)[1]


def figures(result) -> dict[str, str]:
    """The figures :func:`write` draws for ``result``, by name, with the file each goes to (an explanation's
    region figure only where it has a region)."""
    from .explanation import FIGURE_FILES

    kind = _kind(result)
    if kind == "explanation":
        masked = any(series.mask is not None for series in result.series)
        return {name: file for name, file in FIGURE_FILES.items() if masked or name != "region"}
    if kind == "comparison":
        return {"comparison": "comparison.png"}
    if kind == "screen":
        return {"top properties": "screen.png"}
    if kind == "dynamics":
        from .dynamics import FIGURE

        return {"dynamics": FIGURE}
    from ..study.report import CURVES_PNG, SCATTER_PNG

    return {"mean curves": CURVES_PNG, "score vs flips": SCATTER_PNG}


def to_dict(result, settings: Mapping | None = None) -> dict:
    """The machine-readable report of any result (see each kind's module for its fields), with ``settings`` as its
    settings block (default :func:`settings`)."""
    kind = _kind(result)
    if kind == "study":
        raise TypeError("a study's report is its folder: use write(folder) and read summary.csv")
    # Each kind's own to_dict fills in the block the result holds when the caller gives none.
    made = dict(settings) if settings is not None else None
    if kind == "explanation":
        from .explanation import to_dict as explanation_dict

        return explanation_dict(result, settings=made)
    if kind == "comparison":
        from .comparison import to_dict as comparison_dict

        return comparison_dict(result, made)
    if kind == "dynamics":
        from .dynamics import to_dict as dynamics_dict

        return dynamics_dict(result, made)
    from .screen import to_dict as screen_dict

    return screen_dict(result, made)


def write(result, out_dir: str | Path | None = None, *, settings: Mapping | None = None, figures=None,
          drawn: Mapping[str, Path] | None = None) -> dict[str, Path]:
    """Write every file of ``result`` into ``out_dir`` (created if missing) and return them by name.

    ``figures`` names what to draw for an explanation or a comparison's properties (default: all, see
    :data:`propgrad.export.explanation.FIGURES`); ``settings`` (every setting of the run, as the app records them) go
    into the JSON; ``drawn`` names figures of an explanation already drawn elsewhere ({"strip": path}), which
    its report.html shows instead of drawing them again (a comparison takes a "strip" and the "curves" of all its
    properties, the curves in place of its comparison.png, see :func:`propgrad.export.comparison.write_comparison`;
    training dynamics their "dynamics" plot). A study is written into its own folder (``result`` is the folder;
    ``out_dir`` is unused).
    """
    kind = _kind(result)
    extra = {} if settings is None else {"settings": dict(settings)}
    if kind == "explanation":
        from .explanation import FIGURES, write_report

        return write_report(result, out_dir, figures=figures or FIGURES, drawn=dict(drawn or {}), **extra)
    if kind == "comparison":
        from .comparison import write_comparison
        from .explanation import FIGURES

        return write_comparison(result, out_dir, figures=figures or FIGURES, drawn=dict(drawn or {}), **extra)
    if kind == "screen":
        from .screen import write_screen

        return write_screen(result, out_dir, **extra)
    if kind == "dynamics":
        from .dynamics import write_dynamics

        return write_dynamics(result, out_dir, figure=(drawn or {}).get("dynamics"), **extra)
    from ..study.report import write_report as write_study

    return {name: Path(path) for name, path in write_study(result).paths.items()}


__all__ = ["curves", "figures", "rows", "settings", "to_dict", "write", "zip_files"]
