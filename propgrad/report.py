"""Export an Explanation: JSON (documented fields), CSV of the curves, and a folder or zip with plots.

``report.json`` fields
----------------------
propgrad_version, intervention, property_name, values (property value per step), n_steps,
series_labels, n_permutations, alpha, seed, statistic ("gradient", "correlation" or "mutual-information":
what every score below is, see :mod:`propgrad.score`), notes (e.g. a region's mask was resized), region (only for
an edit restricted to a region: ``coverage``, the fraction of the image inside it), and ``models``: one
entry per model with
  name, output_kind ("probability" or "similarity"), output_names,
  outputs            per step, per output: the model's outputs (mean over series when there are several),
  series_outputs     per series, per step, per output (only with several series),
  output_of_interest the first scored output's name; score, pvalue, significant, correlation of it,
  outputs_of_interest every scored output: name, index, score (the statistic, by default E[|grad_X F|],
                     mean over series), pvalue (shuffle test, +1 corrected; two-sided for the gradient,
                     one-sided "greater" for the others), significant (p <= alpha), vector (true for
                     the whole-output-vector score, whose name reads "vector (all N outputs)"),
                     correlation (Pearson with the step index; null when undefined), series_scores,
  flips              for the first series: flipped, n_flips, flip_steps, predicted (output name per step),
  flips_per_series   the same for every series (only with several series).
"""
from __future__ import annotations

import csv
import json
import math
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from . import plots
from .explain import Explanation, ModelExplanation
from .score import PredictionFlips


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


_LISTED_FLIPS = 3


def _class_names(output_names: list[str]) -> list[str]:
    # A single raw column predicts 0/1 by its 0.5 threshold: its "class 0" has no name of its own.
    return output_names if len(output_names) > 1 else ["below threshold", output_names[0]]


def flips_text(flips: list[PredictionFlips], output_names: list[str]) -> str:
    """Where the prediction flips, for people: the class changes of one series, or how many series flip where.

    Examples
    --------
    >>> from propgrad.score import prediction_flips
    >>> flips_text([prediction_flips(np.array([[0.9, 0.1], [0.4, 0.6], [0.7, 0.3]]))], ["cat", "dog"])
    'step 1: cat -> dog; step 2: dog -> cat'
    """
    names = _class_names(output_names)
    if len(flips) == 1:
        one = flips[0]
        if not one.flipped:
            return "no flip"
        changes = [f"step {step}: {names[int(one.predicted[step - 1])]} -> {names[int(one.predicted[step])]}"
                   for step in one.flip_steps[:_LISTED_FLIPS]]
        more = one.n_flips - _LISTED_FLIPS
        return "; ".join(changes) + (f"; {more} more" if more > 0 else "")
    flipped = sum(f.flipped for f in flips)
    if not flipped:
        return f"no flip in {len(flips)} series"
    steps = sorted({step for f in flips for step in f.flip_steps})
    return f"in {flipped}/{len(flips)} series, at steps {', '.join(map(str, steps))}"


def _flips_dict(flips: PredictionFlips, output_names: list[str]) -> dict:
    names = _class_names(output_names)
    return {
        "flipped": flips.flipped,
        "n_flips": flips.n_flips,
        "flip_steps": list(flips.flip_steps),
        "predicted": [names[int(i)] for i in flips.predicted],
    }


def _model_dict(model: ModelExplanation) -> dict:
    first = model.output_of_interest
    entry = {
        "name": model.name,
        "output_kind": model.output_kind,
        "output_names": list(model.output_names),
        "outputs": np.round(model.outputs.mean(axis=0), 7).tolist(),
        "output_of_interest": first.output,
        "score": first.score,
        "pvalue": first.pvalue,
        "significant": first.significant,
        "correlation": _finite_or_none(first.correlation),
        "outputs_of_interest": [
            {
                "name": score.output,
                "index": score.index,
                "score": score.score,
                "pvalue": score.pvalue,
                "significant": score.significant,
                "correlation": _finite_or_none(score.correlation),
                "vector": score.vector,
                "series_scores": score.series_scores,
            }
            for score in model.scores
        ],
        "flips": _flips_dict(model.flips[0], model.output_names),
    }
    if len(model.outputs) > 1:
        entry["series_outputs"] = np.round(model.outputs, 7).tolist()
        entry["flips_per_series"] = [_flips_dict(f, model.output_names) for f in model.flips]
    return entry


def to_dict(explanation: Explanation) -> dict:
    """The machine-readable report (see the module docstring for the fields)."""
    from . import __version__

    data = {
        "propgrad_version": __version__,
        "intervention": explanation.intervention,
        "property_name": explanation.property_name,
        "values": [float(v) for v in explanation.values],
        "n_steps": explanation.n_steps,
        "series_labels": [series.label for series in explanation.series],
        "n_permutations": explanation.n_permutations,
        "alpha": explanation.alpha,
        "seed": explanation.seed,
        "statistic": explanation.statistic,
        "notes": explanation.notes,
        "models": [_model_dict(model) for model in explanation.models],
    }
    mask = explanation.series[0].mask
    if mask is not None:
        data["region"] = {"coverage": round(float(np.mean(mask)), 6)}
    return data


def summary_rows(explanation: Explanation) -> list[dict]:
    """One row per model and output of interest: what the app's table and the command line print."""
    rows = []
    for model in explanation.models:
        for score in model.scores:
            flips = model.flips
            rows.append(
                {
                    "model": model.name,
                    "output": score.output,
                    "score": score.score,
                    "pvalue": score.pvalue,
                    "significant": score.significant,
                    "flipped": any(f.flipped for f in flips),
                    "flip_steps": sorted({step for f in flips for step in f.flip_steps}),
                    "series_flipped": f"{sum(f.flipped for f in flips)}/{len(flips)}",
                    "flips": flips_text(flips, model.output_names),
                }
            )
    return rows


def write_csv(explanation: Explanation, path: str | Path) -> Path:
    """The plotted curves: one row per series and step, one column per model and output of interest."""
    path = Path(path)
    columns = [(model, score) for model in explanation.models for score in model.scores]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["series", "step", explanation.property_name]
                        + [f"{model.name} | {score.output}" for model, score in columns])
        for s, series in enumerate(explanation.series):
            for step, value in enumerate(series.values):
                writer.writerow([series.label or s, step, f"{value:.6g}"]
                                + [f"{model.outputs[s, step, score.index]:.7g}" for model, score in columns])
    return path


FIGURES = ("strip", "curves", "null", "animation", "region")


def write_report(explanation: Explanation, out_dir: str | Path, figures=FIGURES) -> dict[str, Path]:
    """Write report.json, curves.csv, strip.png, curves.png, null.png and animation.gif into ``out_dir``
    (and region.png, the region drawn on the input, for an edit restricted to a region).

    ``figures`` names the figures to draw (all by default); a caller that shows the curves of several
    reports in one figure of its own can leave out their "curves" and "animation".
    """
    unknown = set(figures) - set(FIGURES)
    if unknown:
        raise ValueError(f"`figures`: unknown {sorted(unknown)}; choose from {list(FIGURES)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json"}
    paths["json"].write_text(json.dumps(to_dict(explanation), indent=1))
    paths["csv"] = write_csv(explanation, out / "curves.csv")
    if "strip" in figures:
        # Up to 12 images: a series of 11 (the default region comparison) shows every step, not 10 of them.
        paths["strip"] = plots.save_figure(plots.image_strip(explanation, max_images=12), out / "strip.png")
    if "curves" in figures:
        paths["curves"] = plots.save_figure(plots.output_curves(explanation), out / "curves.png")
    if "null" in figures:
        paths["null"] = plots.save_figure(plots.null_distributions(explanation), out / "null.png")
    if "animation" in figures:
        paths["animation"] = plots.save_animation(explanation, out / "animation.gif")
    if "region" in figures and explanation.series[0].mask is not None:
        # The region on the input, so a reader can check the edit hit the intended part of the image.
        paths["region"] = out / "region.png"
        first = explanation.series[0]
        plots.draw_region(first.images[0], first.mask, style="both").save(paths["region"])
    return paths


def zip_report(paths: dict[str, Path], zip_path: str | Path, *, root: str | Path | None = None) -> Path:
    """Pack the files :func:`write_report` wrote into one zip file.

    Entries are named by file name, or by their path below ``root`` when given (reports in sub-folders,
    such as a comparison's per-property reports, would otherwise collide).
    """
    zip_path = Path(zip_path)
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in paths.values():
            archive.write(path, arcname=Path(path).relative_to(root).as_posix() if root else Path(path).name)
    return zip_path


def write_zip(explanation: Explanation, zip_path: str | Path) -> Path:
    """Everything :func:`write_report` writes, in one zip file."""
    with tempfile.TemporaryDirectory(prefix="propgrad-report-") as folder:
        return zip_report(write_report(explanation, folder), zip_path)
