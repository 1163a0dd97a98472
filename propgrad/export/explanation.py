"""Export an Explanation: JSON (documented fields), CSV of the scores (scores.csv: one row per model and output of
interest, as the page's table) and of the curves (curves.csv), plots, one self-contained report.html, in a folder or
a zip.

``report.json`` fields
----------------------
propgrad_version, intervention, property_name, values (property value per step), n_steps,
series_labels, n_permutations, alpha, seed, statistic ("gradient", "correlation" or "mutual-information":
what every score below is, see :mod:`propgrad.score`), notes (e.g. a region's mask was resized), region (only for
an edit restricted to a region: ``coverage``, the fraction of the image inside it), and ``models``: one
entry per model with
  name, description (what the model is, in words: a shipped model's registered description, else ""),
  output_kind ("probability" or "similarity"), output_names,
  outputs            per step, per output: the model's outputs (mean over series when there are several),
  series_outputs     per series, per step, per output (only with several series),
  output_of_interest the first scored output's name; score, pvalue, significant, correlation of it,
  outputs_of_interest every scored output: name, index, score (the statistic, by default E[|grad_X F|],
                     mean over series), pvalue (shuffle test, +1 corrected; two-sided for the gradient,
                     one-sided "greater" for the others), significant (p <= alpha), vector (true for
                     the whole-output-vector score, whose name reads "vector (all N outputs)"),
                     correlation (Pearson with the step index; null when undefined), series_scores,
  flips              for the first series: flipped, n_flips, flip_steps, flip_margins (the new prediction's
                     lead over the class it replaced at each flip step), predicted (output name per step),
  flips_per_series   the same for every series (only with several series),
  reading            the first scored output's reading in plain words (also in each outputs_of_interest
                     entry): class (abrupt, strong, flips, systematic, erratic, negligible, none), label ("strong
                     and systematic"), tier (a to e, see :mod:`propgrad.ranking`), size, shape ("steady fall",
                     "U-shaped", "one dominant step"...), change (highest - lowest value of the mean curve),
                     text ("p(cat) 0.00 -> 0.63 in one step, flips to cat at 85 % darker"), evidence (what the
                     class rests on), start, end, low, low_step, high, high_step, jump, jump_step, flip_steps
                     (see :mod:`propgrad.reading`).
``reading`` (top level) is the paragraph over every model, and ``reading_thresholds`` the thresholds used.
``caveat`` is what to read before the reading where the edit hardly changes the images ("Check the edits before this
answer: ...") or the shuffle test cannot reach alpha ("Check the settings before this answer, ...";
:attr:`propgrad.explain.Explanation.caveat`), else null.
``input`` names the input: its file name and SHA-256 (or, for an image given in memory, a SHA-256 of its
pixels) and its size; null for uploaded frames.
``settings`` (written by the app) records every setting of the run: input (file name and SHA-256),
interventions (kind, values, region), models (preprocessing, output handling), outputs_of_interest,
n_permutations, alpha, seed, notes and package versions.
all_series_gradual whether every series changes gradually (:mod:`propgrad.gradualness`),
gradual_summary    the verdict in one line, as the app and the command line print it, and
series_gradualness one entry per series: gradual (bool), reason (why not; "" when gradual), rho
                   (Spearman of the change with the step), jump_share (largest single step / all),
                   order_ratio (path length in order / in random orders), outside_change (largest
                   mean Delta E outside a region's mask; null without a region), change (mean Delta E
                   to step 0 per step), step_change (to the previous step).
"""
from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from .. import plots, reading
from . import html as html_report
from . import tables
from .provenance import made_with
from .folder import ReportFolder
from .bundle import zip_files
from ..errors import not_all_of
from ..explain import Explanation, ModelExplanation
from ..ranking import ranked
from ..score import PredictionFlips, predicted_class_names


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None




def _flips_dict(flips: PredictionFlips, output_names: list[str]) -> dict:
    names = predicted_class_names(output_names)
    return {
        "flipped": flips.flipped,
        "n_flips": flips.n_flips,
        "flip_steps": list(flips.flip_steps),
        "flip_margins": list(flips.margins),
        "predicted": [names[int(i)] for i in flips.predicted],
    }


def _model_dict(model: ModelExplanation, readings: dict) -> dict:
    first = model.output_of_interest
    entry = {
        "name": model.name,
        "description": model.description,
        "output_kind": model.output_kind,
        "output_names": list(model.output_names),
        "outputs": model.outputs.mean(axis=0).tolist(),
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
                "reading": readings[score.output].to_dict(),
            }
            for score in model.scores
        ],
        "flips": _flips_dict(model.flips[0], model.output_names),
        "reading": readings[first.output].to_dict(),
    }
    if len(model.outputs) > 1:
        entry["series_outputs"] = model.outputs.tolist()
        entry["flips_per_series"] = [_flips_dict(f, model.output_names) for f in model.flips]
    return entry


def to_dict(explanation: Explanation, thresholds: reading.Thresholds | None = None, settings: dict | None = None) -> dict:
    """The machine-readable report (see the module docstring for the fields); ``thresholds`` of the readings
    default to :func:`propgrad.reading.default_thresholds`; ``settings`` (every setting of the run, as the app
    records them) is written as it is."""
    from dataclasses import asdict

    from .._version import __version__

    # The readings the explanation made; read again only when other thresholds are asked for.
    readings = list(explanation.readings) if thresholds is None else reading.read_explanation(explanation, thresholds)
    thresholds = thresholds or reading.default_thresholds()
    by_model: dict[str, dict] = {}
    for one in readings:
        by_model.setdefault(one.model, {})[one.output] = one
    data = {
        "propgrad_version": __version__,
        "intervention": explanation.intervention,
        "property_name": explanation.property_name,
        "values": [float(v) for v in explanation.values],
        "n_steps": explanation.n_steps,
        "series_labels": [series.label for series in explanation.series],
        # Whether every series has the first series' values (then "values" are every series' steps).
        "values_shared": reading.shared_values(explanation),
        "n_permutations": explanation.n_permutations,
        "alpha": explanation.alpha,
        "seed": explanation.seed,
        "statistic": explanation.statistic,
        "input": explanation.input,
        "notes": explanation.notes,
        "models": [_model_dict(model, by_model[model.name]) for model in explanation.models],
        "caveat": explanation.caveat,
        "reading": reading.paragraph(readings),
        "reading_thresholds": asdict(thresholds),
        "all_series_gradual": explanation.gradual,
        "gradual_summary": explanation.gradual_summary,
        "series_gradualness": [{"label": series.label, **result.to_dict()}
                               for series, result in zip(explanation.series, explanation.gradualness)],
    }
    coverage = explanation.series[0].coverage
    if coverage is not None:
        data["region"] = {"coverage": float(coverage)}
    # Every report.json has the block, also one written without the caller's own (write_zip, write_report).
    data["settings"] = settings if settings is not None else made_with(explanation)
    return data


def summary_rows(explanation: Explanation) -> list[dict]:
    """One row per model and output of interest, with its reading, ranked by what the output did (tier, then change,
    :mod:`propgrad.ranking`) as every other table is: what the app's table, scores.csv, report.html and the command
    line show (``reading`` is the sentence with its evidence, ``change`` how far the mean curve moved)."""
    return [row for row, _ in ranked_rows(explanation)]


def ranked_rows(explanation: Explanation) -> list[tuple[dict, reading.Reading]]:
    """:func:`summary_rows`, each with its :class:`~propgrad.reading.Reading`, in rank order. Several models of one run
    stood in the order they were given: a 3.6e-06 drift that a test called significant led the table over the last
    model's flip."""
    rows = []
    readings = iter(explanation.readings)
    places = reading.step_places(explanation)
    for model in explanation.models:
        for score in model.scores:
            flips = model.flips
            one = next(readings)
            rows.append((
                {
                    "model": model.name,
                    "output": score.output,
                    "change": one.change,
                    "tier": one.tier,
                    "statistic": explanation.statistic,
                    "score": score.score,
                    "pvalue": score.pvalue,
                    "significant": score.significant,
                    "flipped": any(f.flipped for f in flips),
                    "flip_steps": sorted({step for f in flips for step in f.flip_steps}),
                    "series_flipped": f"{sum(f.flipped for f in flips)}/{len(flips)}",
                    "flips": reading.flips_text(flips, model.output_names, model.output_kind, places=places),
                    "reading": one.full,
                },
                one,
            ))
    return ranked(rows, lambda pair: pair[1])


# The document and the tables of an explanation's folder, by the key write_report returns each under (the command's
# help reads them here, with FIGURE_FILES).
TABLE_FILES = {"json": "report.json", "table": "scores.csv", "csv": "curves.csv"}
# scores.csv, in the page's table's order: what the output did first (its change, tier and flips), then the test.
SCORE_FIELDS = ("model", "output", "change", "tier", "flipped", "flips", "series_flipped", "statistic", "score",
                "pvalue", "significant", "reading")
# A comparison's or a screen's curves, long form (:func:`property_curve_records`).
CURVE_FIELDS = ("property", "series", "step", "property_value", "model", "output", "value")


def curve_records(explanation: Explanation) -> list[dict]:
    """The plotted curves as records, one per series, step, model and output of interest, in full precision
    (the numbers curves.csv has)."""
    columns = [(model, score, model.series_curves(score.index, score.vector)) for model in explanation.models for score in model.scores]
    return [{"series": series.label or s, "step": step, "property_value": float(value), "model": model.name,
             "output": score.output, "value": float(curve[s, step])}
            for s, series in enumerate(explanation.series) for step, value in enumerate(series.values)
            for model, score, curve in columns]


def property_curve_records(explanations: Mapping[str, Explanation]) -> list[dict]:
    """:func:`curve_records` of several properties' explanations (a comparison's, a screen's), each record naming its
    property first."""
    return [{"property": name, **record} for name, explanation in explanations.items()
            for record in curve_records(explanation)]


def write_csv(explanation: Explanation, path: str | Path) -> Path:
    """The plotted curves: one row per series and step, one column per model and output of interest."""
    columns = [(model, score) for model in explanation.models for score in model.scores]
    header = ["series", "step", explanation.property_name] + [f"{model.name} | {score.output}" for model, score in columns]
    curves = [model.series_curves(score.index, score.vector) for model, score in columns]
    rows = ([series.label or s, step, float(value)] + [float(curve[s, step]) for curve in curves]
            for s, series in enumerate(explanation.series) for step, value in enumerate(series.values))
    return tables.write_rows(path, header, rows)


# Each figure's file (``explain --help`` lists them from here).
FIGURE_FILES = {"strip": "strip.png", "curves": "curves.png", "null": "null.png", "animation": "animation.gif",
                "region": "region.png", "gradualness": "gradualness.png"}
FIGURES = tuple(FIGURE_FILES)


def _draw_figures(explanation: Explanation, folder: ReportFolder, figures) -> None:
    # Each figure on its own: one that fails (a backend error, an odd series) leaves the others, the
    # tables and report.html, which names it as missing, instead of losing the whole report.
    first = explanation.series[0]
    draw = {
        # The app's strip (Pillow, a few milliseconds) with its companions, so a report from the command line looks
        # like the app's: up to 12 steps (a series of 11, the default region comparison, shows every one), the image
        # change per step, and the last step of every series (a second sticker appeared nowhere in the report).
        "strip": lambda path: plots.save_picture(plots.stack_pictures(plots.strip_and_companions(explanation)), path),
        "curves": lambda path: plots.save_figure(plots.output_curves(explanation), path),
        "null": lambda path: plots.save_figure(plots.null_distributions(explanation), path),
        "animation": lambda path: plots.save_animation(explanation, path),
        # The region on the input, so a reader can check the edit hit the intended part of the image.
        "region": lambda path: plots.save_picture(plots.draw_region(first.images[0], first.mask, style="both"),
                                                  path),
        # How much each step changes the image: is the series gradual?
        "gradualness": lambda path: plots.save_figure(plots.gradualness_plot(explanation), path),
    }
    for name in FIGURES:
        if name not in figures or (name == "region" and first.mask is None) or (
                name == "gradualness" and not explanation.gradualness):
            continue
        folder.figure(name, FIGURE_FILES[name], draw[name], f"figure {name!r} of the report in {folder.out}")


def write_report(explanation: Explanation, out_dir: str | Path, figures=FIGURES, settings: dict | None = None,
                 drawn: dict[str, Path] | None = None, part: str | None = None) -> dict[str, Path]:
    """Write report.json, scores.csv, curves.csv, strip.png, curves.png, null.png, gradualness.png, animation.gif
    and report.html into ``out_dir`` (and region.png, the region drawn on the input, for an edit restricted to a
    region).

    ``figures`` names the figures to draw (all by default); a caller that shows the curves of several
    reports in one figure of its own can leave out their "curves" and "animation". A figure that fails
    to draw is left out with a warning, and report.html (one self-contained page: input, figures, the
    table, settings, versions) says which and why. ``settings`` go into report.json as its ``settings``
    field (see :func:`to_dict`); ``part`` names this explanation's intervention among the settings' (a
    comparison's property), so that its report.html lists only its own.

    Examples
    --------
    >>> paths = write_report(explanation, "report/")  # doctest: +SKIP
    >>> sorted(paths)  # doctest: +SKIP
    ['animation', 'csv', 'curves', 'gradualness', 'html', 'json', 'null', 'strip', 'table']
    """
    unknown = set(figures) - set(FIGURES)
    if unknown:
        raise not_all_of("figures", sorted(unknown), FIGURES)
    data = to_dict(explanation, settings=own_settings(settings, part, explanation.n_steps))
    folder = ReportFolder(out_dir, TABLE_FILES["json"])
    folder.paths["csv"] = write_csv(explanation, folder.out / TABLE_FILES["csv"])
    # The scores as a table too: p, the score and the tier were in report.json alone, where every other kind has its
    # table's CSV.
    folder.table("table", TABLE_FILES["table"], SCORE_FIELDS, summary_rows(explanation))
    _draw_figures(explanation, folder, figures)
    # Figures drawn elsewhere (the app draws its own strip and curves): copied in and shown on the page too.
    for name, source in (drawn or {}).items():
        if name not in folder.paths and source is not None:
            folder.copied(name, source, FIGURE_FILES.get(name, Path(source).name))
    shown = {name: path for name, path in folder.paths.items() if name in FIGURE_FILES}
    # The table with each row's reading in plain words, as the app and explain's printout show it.
    page = html_report.explanation_page(data, summary_rows(explanation), shown, explanation.series[0].images[0],
                                        folder.missing, part=part)
    return folder.finish(page, data)


def own_settings(settings: Mapping | None, part: str | None, n_steps: int | None = None) -> Mapping | None:
    """A comparison's settings as one property's report.json holds them: its own intervention where the settings
    name every property's (a reader of that folder re-ran the wrong definition), its own ``n_steps`` where they
    give one, and the comparison it is part of.

    Examples
    --------
    >>> own_settings({"seed": 0, "interventions": {"a": {"edit": "darken"}, "b": {"edit": "blur"}}}, "b")
    {'seed': 0, 'interventions': {'b': {'edit': 'blur'}}, 'comparison': {'file': '../comparison.json', 'properties': ['a', 'b']}}
    """
    if settings is None or part is None:
        return settings
    own = {key: value for key, value in settings.items() if key != "properties"}
    made_with = settings.get("interventions")
    named = list(made_with) if isinstance(made_with, Mapping) else []
    properties = list(settings.get("properties") or named or [part])
    if isinstance(made_with, Mapping):
        own["interventions"] = {part: made_with[part]} if part in made_with else {}
    if n_steps is not None and "n_steps" in own:
        own["n_steps"] = n_steps  # the comparison's is its first property's
    own["comparison"] = {"file": "../comparison.json", "properties": properties}
    return own


def html_sections(explanation: Explanation, paths: dict[str, Path], figures=FIGURES, heading: int = 3,
                  said: Sequence[str] = ()) -> str:
    """The HTML of one explanation's figures and table, to embed in a larger page (a comparison's).

    ``paths`` is what :func:`write_report` returned for ``figures``; a figure asked for but absent failed. A caveat
    the page has ``said`` already (its answer's) is not said again in the section.
    """
    wanted = [f for f in figures if f in ("strip", "curves", "null") or (f == "region" and explanation.series[0].mask
                                                                            is not None)]
    failed = {name: "it failed to draw (see the warning, or this property's own report.html)" for name in wanted
              if name not in paths}
    return "\n".join(html_report.explanation_sections(to_dict(explanation), summary_rows(explanation), paths,
                                                      explanation.series[0].images[0], failed, heading=heading,
                                                      said=said))


def write_zip(explanation: Explanation, zip_path: str | Path) -> Path:
    """Everything :func:`write_report` writes, in one zip file."""
    with tempfile.TemporaryDirectory(prefix="propgrad-report-") as folder:
        return zip_files(write_report(explanation, folder), zip_path)
