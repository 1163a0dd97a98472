"""Aggregates of a results folder: summary.csv, summary.md (paper Table 3 layout), figures and report.html
(all of it in one self-contained page).

``write_report(folder)`` reads only what the study stored, so ``python -m propgrad study report DIR``
regenerates everything without running a model.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from ..disk import write_whole
from ..export import html as html_report
from ..export.folder import ReportFolder
from ..checks import shuffle_floor_note, too_few_permutations
from ..plots import save_figure
from ..ranking import tier_legend
from ..formats import format_number, format_output, format_percent
from ..reading import LISTED, default_thresholds, listed, paragraph, short_names
from ..score import GRADIENT, STATISTIC_LABELS, steady_trend_need
from . import figures
from .aggregate import MeanCurve, SummaryRow, series_points, summarise
from .flip_prediction import MIN_PER_CLASS
from .store import (CURVES_FILE, RESULTS_FILE, STORED_FILES, kept_rows, lacking_in_words, read_journal, read_study,
                    read_tables)
from .worker import FAILED, OK, SKIPPED

SUMMARY_CSV, SUMMARY_MD, REPORT_HTML = "summary.csv", "summary.md", "report.html"
CURVES_PNG, SCATTER_PNG = "mean_curves.png", "score_vs_flips.png"
FIGURE_TITLES = {CURVES_PNG: "Mean curves (band: one standard deviation)", SCATTER_PNG: "Score vs prediction flips"}
SUMMARY_COLUMNS = ("intervention", "model", "output", "n_images", "n_series", "gradient_mean", "gradient_std",
                   "significant_share", "flip_share", "output_start", "output_end", "flip_accuracy_held_out",
                   "flip_accuracy_held_out_std", "flip_accuracy_in_sample", "flip_auc", "flip_majority_rate", "gradual_share",
                   # The statistic whose test decided significant_share (gradient_mean is E[|grad_X F|] of the
                   # stored curves whatever that statistic: "score_mean" beside "mutual-information" read as the
                   # MI's mean), the row's tier and the share of series in each tier (propgrad.ranking).
                   "statistic", "change_mean", "mean_curve_change", "tier", "tier_a_share", "tier_b_share", "tier_c_share",
                   "tier_d_share", "tier_e_share",
                   # The mean curve's reading in words, as every other table's rows carry theirs.
                   "reading")


@dataclass(frozen=True)
class StudyReport:
    """A study's aggregates and where they were written.

    ``summary``: one :class:`SummaryRow` per model x intervention; ``curves``: the mean curves;
    ``skipped``/``failed``: (item, reason) pairs of images that could not be read and items that
    errored; ``rows_lost``: finished items whose rows the tables no longer hold; ``not_run``: how many planned items
    never ran (the study was stopped), of the ``items`` planned; ``paths``: name -> file of every
    table and figure; ``title`` what ran in a few words, ``alpha`` the significance level of its tests; ``notes``
    what a reader should know (as summary.md and report.html say it).
    """

    folder: Path
    summary: list[SummaryRow]
    curves: list[MeanCurve]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    paths: dict[str, Path] = field(default_factory=dict)
    title: str = "Study"  # "Study: 3 images, 1 intervention, 2 models"
    alpha: float = 0.01
    # Notes about the run: too few permutations for any test to succeed, what some images were (transparent, tiny).
    notes: list[str] = field(default_factory=list)
    # Finished items whose rows were lost from the tables since (the summary leaves them out; a run again redoes them).
    rows_lost: list[str] = field(default_factory=list)
    not_run: int = 0  # items the study planned that never ran (it was stopped): a run again runs them
    items: int = 0  # the items the study planned (a folder an older version wrote: those its journal lists)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _number(value: float | None) -> float | None:
    """A summary's number for summary.csv: NaN (nothing to average) as an empty cell, like a missing one."""
    return None if value is None or math.isnan(value) else float(value)


def _share(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else format_percent(value)


def summary_csv_rows(summary: list[SummaryRow]) -> list[dict]:
    rows = []
    for row in summary:
        flip = row.flip_accuracy
        rows.append({
            "intervention": row.intervention, "model": row.model, "output": row.output, "n_images": row.n_images,
            "n_series": row.n_series, "gradient_mean": _number(row.score_mean), "gradient_std": _number(row.score_std),
            "significant_share": _number(row.significant_share), "flip_share": _number(row.flip_share),
            "output_start": _number(row.output_start), "output_end": _number(row.output_end),
            "flip_accuracy_held_out": _number(flip.held_out_mean) if flip else "",
            "flip_accuracy_held_out_std": _number(flip.held_out_std) if flip else "",
            "flip_accuracy_in_sample": _number(flip.in_sample) if flip else "",
            "flip_auc": _number(flip.auc) if flip else "",
            "flip_majority_rate": _number(flip.majority) if flip else "",
            "gradual_share": _number(row.gradual_share),
            "statistic": row.statistic, "change_mean": _number(row.change_mean),
            "mean_curve_change": _number(row.reading.change) if row.reading else "",
            "tier": row.reading.tier if row.reading else "",
            **{f"tier_{tier}_share": _number(share) for tier, share in row.tier_shares.items()},
            "reading": f"mean curve: {row.reading.full}" if row.reading else "",
        })
    return rows


def _shown(value: float, format=format_number) -> str:
    """A number as the pages show it; "n/a" where it could not be computed (NaN)."""
    return "n/a" if value is None or math.isnan(value) else format(value)


def summary_cells(row: SummaryRow, alpha: float) -> dict[str, str]:
    """One summary row as every page shows it (summary.md, report.html, the app's table), by column title: what the
    mean output did first (its tier, its change, the series' tiers and flips, the mean output at step 0 and at the
    last step), then the statistic and its test; the one number format (summary.csv keeps every digit)."""
    tiers = "/".join(_share(share) for share in row.tier_shares.values()) if row.tier_shares else "n/a"
    return {
        "model": row.model, "intervention": row.intervention, "output": row.output,
        "tier": row.reading.tier if row.reading else "n/a",
        "change of the mean curve (ranked)": _shown(row.reading.change) if row.reading else "n/a",
        "mean change per series": _shown(row.change_mean),
        "series per tier a/b/c/d/e": tiers,
        "series with a flip": _share(row.flip_share),
        "mean output, step 0 → last": f"{_shown(row.output_start, format_output)} → "
                                      f"{_shown(row.output_end, format_output)}",
        f"{STATISTIC_LABELS[GRADIENT]} mean ± std": f"{_shown(row.score_mean)} ± {_shown(row.score_std)}",
        f"significant (alpha = {alpha:g}, {STATISTIC_LABELS[row.statistic]})": _share(row.significant_share),
        "images (series)": f"{row.n_images} ({row.n_series})",
        "gradual series": _share(row.gradual_share),
    }


def study_reading(summary: list[SummaryRow]) -> str:
    """The study in plain words, as a paragraph starting "Reading:": per intervention, what moved which model's mean
    curve (:func:`propgrad.reading.paragraph`); the page on top of report.html and the app's summary."""
    shown = [row for row in summary if row.reading]
    if not shown:
        return "Reading: no item finished, so there is nothing to read."
    readings = [replace(row.reading, model=row.model, property_label=row.intervention) for row in shown]
    short = short_names([row.model for row in shown])
    interventions, outputs = (len({getattr(row, key) for row in shown}) > 1 for key in ("intervention", "output"))
    # Each row named as the paragraph names it ("bias (cat)" where a study is read per output).
    basis = listed([f"{short[row.model]}{f' ({row.output})' if outputs else ''}"
                    f"{f' under {row.intervention}' if interventions else ''} "
                    f"{round(row.significant_share * row.n_images)} of {row.n_images}" for row in shown], LISTED)
    words = (paragraph(readings) + " (Each model's mean curve over the images; a mean curve reads as systematic when "
             f"at least half its images' own tests were significant: {basis}.)")
    return " ".join([words, *filter(None, (cancelling_note(row, short[row.model]) for row in shown))])


# How much larger the series' own change must be than their mean curve's before the reading says they cancel.
CANCELLING = 1.5


def cancelling_note(row: SummaryRow, model: str) -> str:
    """A warning where the series (an image's, or each of its patches') move the output but in different directions,
    so that their mean curve, which ranks the row, moves far less than each series does (the row would otherwise read
    as a weaker effect)."""
    if (not row.reading or math.isnan(row.change_mean) or row.change_mean < CANCELLING * row.reading.change
            or row.change_mean < default_thresholds().negligible):
        return ""
    moved = row.tier_shares.get("a", 0.0)
    return (f"Under {row.intervention}, {row.reading.output_words} of {model} moved by "
            f"{format_number(row.change_mean)} per series on average, but not the same way in every series, so its "
            f"mean curve moves by {format_number(row.reading.change)} only"
            + (f" ({_share(moved)} of its series are in tier a on their own)." if moved > 0 else "."))


def flip_cells(row: SummaryRow) -> dict[str, str]:
    """How well the score predicts a row's prediction flips, by column title (summary.md, report.html)."""
    flip = row.flip_accuracy
    if flip is None:
        too_few = f"n/a: fewer than {MIN_PER_CLASS} series flip, or fewer than {MIN_PER_CLASS} do not"
        return {"model": row.model, "intervention": row.intervention, "held-out accuracy": too_few, "in-sample": "",
                "ROC AUC": "", "majority rate": "", "series": str(row.n_series)}
    return {"model": row.model, "intervention": row.intervention,
            "held-out accuracy": f"{format_number(flip.held_out_mean)} ± {format_number(flip.held_out_std)}",
            "in-sample": format_number(flip.in_sample), "ROC AUC": format_number(flip.auc),
            "majority rate": format_number(flip.majority), "series": str(flip.n)}


FLIP_METHOD = ("Per series, label: the last step's prediction differs from step 0's; feature: E[|grad_X F|] of the "
               "output of interest; threshold and direction fitted on a random half, accuracy on the other "
               "(10 halves).")
# The columns of the flip table in words (summary.md and report.html say them alike).
FLIP_COLUMNS = ("Held-out accuracy: the share of the other half's series whose outcome (a flip or none) the "
                "threshold fitted on one half predicts correctly (mean ± std over the halves); in-sample: on all "
                "series, fitted on them too; ROC AUC: the chance that a series that flips scores above one that does "
                "not (0.5: no better than chance; 0: every flipping series scores below); majority rate: the accuracy "
                "of always guessing the commoner outcome, the figure to beat.")
# Under the summary table (summary.md and report.html): its columns a tier legend does not explain.
SUMMARY_LEGEND = ("Series per tier: the share of series whose own reading falls in each tier (a/b/c/d/e). Series "
                  "with a flip: the share whose predicted class changes anywhere along the series "
                  "(the flip prediction below counts only a last step whose prediction differs from step 0's). Gradual "
                  "series: the share whose images change step by step (monotone or ordered, no step with most of the "
                  "change; see propgrad.gradualness). Scores of series that are not gradual measure the intervention "
                  "as much as the model.")


def flip_note(summary: list[SummaryRow]) -> str | None:
    """One sentence in place of the flip table when no row can be tested (else None: the table says it)."""
    if not summary:
        return "No item finished: there is nothing to predict."
    if all(row.flip_accuracy is None for row in summary):
        rows = "the one row" if len(summary) == 1 else f"any of the {len(summary)} rows"
        return (f"Not testable for {rows}: it takes at least {MIN_PER_CLASS} series "
                f"that flip and {MIN_PER_CLASS} that do not, to fit a threshold on one half and measure it on the other.")
    return None


def _markdown_row(cells) -> str:
    return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"


def markdown_table(records: list[dict]) -> list[str]:
    """Records that share their keys (column titles) as the lines of a Markdown table, pipes in cells escaped."""
    return [_markdown_row(records[0]), _markdown_row(["---"] * len(records[0])),
            *(_markdown_row(record.values()) for record in records)]


def markdown(summary: list[SummaryRow], alpha: float, skipped, failed, title: str = "Study", notes=()) -> str:
    """The summary as Markdown: notes about the run, Table 3's columns, flip prediction, and every skipped or failed
    item."""
    shown = [summary_cells(row, alpha) for row in summary]
    lines = [f"# {title}", "", *(f"**Note:** {note}\n" for note in notes)]
    if not shown:
        # Only why, then the items: the tiers' legend and the flip prediction's method explained tables that are not
        # there, twenty lines above the error of a study whose images were all unreadable.
        lines.append(html_report.NOTHING_FINISHED)
    else:
        lines += [f"Ranked by what the mean output did (tier {tier_legend()}), then by its change.", "",
                  *markdown_table(shown), "", SUMMARY_LEGEND,
                  "", "## Predicting prediction flips from the score", "", FLIP_METHOD, ""]
        note = flip_note(summary)
        if note:  # one sentence, not a table of rows that all say the same
            lines.append(note)
        else:
            lines += markdown_table([flip_cells(row) for row in summary]) + ["", FLIP_COLUMNS]
    for heading, entries in (("Skipped (unreadable images)", skipped), ("Failed items", failed)):
        if entries:
            lines += ["", f"## {heading}", ""] + [f"- `{key}`: {reason}" for key, reason in entries]
    return "\n".join(lines) + "\n"


def read_summary(folder: str | Path) -> list[dict]:
    """summary.csv of a study folder as records (written by :func:`write_report`), ranked."""
    path = Path(folder) / SUMMARY_CSV
    if not path.is_file():
        raise ValueError(f"`folder`: {str(folder)!r} has no {SUMMARY_CSV}; run `propgrad study report {folder}`")
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def unfinished(finished: int, planned: int) -> list[str]:
    """A note, first, where fewer items have finished than the study planned: a stopped study's report read as a
    whole one ("3 images ... significant 100 %" of 3 of 10 items)."""
    if finished >= planned:
        return []
    return [f"only {finished} of {planned} items have finished: the study stopped before its end, and every "
            "share and mean here is of those; run the same command into this folder again to finish it (finished "
            "items are kept)"]


def rows_lost(lacking: dict[str, list[str]]) -> list[str]:
    """A note, first, on finished items whose rows were lost since (a table removed or cut short): the summary leaves
    them out, and says so (it read as the whole study, its images counted in one table and not in the other)."""
    if not lacking:
        return []
    them = "it" if len(lacking) == 1 else "them"
    return [f"{lacking_in_words(lacking)}: every share and mean here leaves {them} out; run the study's command into "
            f"this folder again to run {them} again (the other finished items are kept)"]


def _planned(study: dict) -> tuple[int, int]:
    """How many interventions and models the study was to run, from its definition (a study whose images were all
    unreadable has no rows to count them from); a definition naming no model runs the default one."""
    in_memory = study.get("in_memory") or {}
    definition = study.get("definition") or {}
    interventions = in_memory.get("interventions") or definition.get("interventions") or []
    models = in_memory.get("models") or definition.get("models") or {}
    if isinstance(models, dict):
        return len(interventions), sum(len(models.get(key) or []) for key in ("names", "files", "hub")) or 1
    return len(interventions), len(models)


def _image_of(key: str) -> str:
    """An item's image: its key is "image | intervention"."""
    return key.rsplit(" | ", 1)[0]


def _images_by(entries, values_of) -> dict[str, list[str]]:
    """The finished items' images grouped by each value ``values_of(entry)`` gives (each image once per value)."""
    images_of: dict[str, list[str]] = {}
    for key, entry in entries:
        if entry["status"] == OK:
            for value in values_of(entry):
                images = images_of.setdefault(value, [])
                if _image_of(key) not in images:
                    images.append(_image_of(key))
    return images_of


def input_notes(entries, shown: int = 3) -> list[str]:
    """What the finished items' images were that changes what a model saw (transparency laid over white, a tiny
    picture), each note once with the images it is about (``shown`` of them by name, then a count)."""
    return [f"{listed(images, shown)}: {note}"
            for note, images in _images_by(entries, lambda entry: entry.get("input_notes", ())).items()]


def same_pictures(entries, shown: int = 3) -> list[str]:
    """A note per picture that the study holds more than once (the same SHA-256 under other names): each copy counts
    as an image of its own in every share and mean, which a reader must know."""
    copies = _images_by(entries, lambda entry: [entry["sha256"]] if entry.get("sha256") else [])
    return [f"{listed(names, shown)} are the same picture (one SHA-256): each copy counts as an image of its own in "
            f"every share and mean" for names in copies.values() if len(names) > 1]


def input_images(entries) -> list[dict]:
    """Each finished image once, by the name the study gave it, with its file's SHA-256 (or its pixels'): what a
    reader of report.html needs to know which pictures it is about."""
    images: dict[str, str] = {}
    for key, entry in entries:
        if entry["status"] == OK and not images.get(_image_of(key)):
            images[_image_of(key)] = entry.get("sha256", "")
    return [{"image": image, "SHA-256": digest} for image, digest in images.items()]


def _shuffle_floor(results: list[dict], curves: list[dict], permutations: int, alpha: float,
                   statistic: str) -> str | None:
    """The note on the shuffle test's floor for the study's shortest series (:func:`shuffle_floor_note`), with the
    steps a steady trend needs under ``statistic`` where every item has one series (as explain advises)."""
    steps: dict[str, int] = {}
    for row in curves:
        steps[row["item"]] = max(steps.get(row["item"], 0), int(row["step"]) + 1)
    if not steps:
        return too_few_permutations(permutations, alpha)
    series = min((int(row["n_series"]) for row in results if row.get("n_series")), default=1)
    trend = partial(steady_trend_need, statistic=statistic) if series == 1 else None
    return shuffle_floor_note(min(steps.values()), permutations, alpha, series, steady_trend=trend)


def write_report(folder: str | Path, figures_too: bool = True) -> StudyReport:
    """(Re)write summary.csv, summary.md, the figures and report.html of the results in ``folder``."""
    folder = Path(folder)
    study = read_study(folder)
    journal = read_journal(folder)
    # Only the rows of finished items that have all of theirs: a study whose tables lost rows is summarised as the
    # items it still holds, and a note names the others.
    kept, lacking = kept_rows(journal, read_tables(folder))
    results, curves = kept[RESULTS_FILE], kept[CURVES_FILE]
    properties = {}
    for key, entry in sorted(journal.items(), key=lambda kv: kv[1]["index"]):
        label = key.rsplit(" | ", 1)[-1]
        if entry.get("property_name"):
            properties.setdefault(label, entry["property_name"])
    definition = study.get("definition") or {}
    statistic = definition.get("statistic") or (study.get("in_memory") or {}).get("statistic") or "gradient"
    summary, mean = summarise(results, curves, properties, statistic)
    # An unreadable image is one entry, however many interventions it was meant for.
    entries = sorted(((key, entry) for key, entry in journal.items() if key not in lacking),
                     key=lambda kv: kv[1]["index"])
    # The loader's message names the image already ("`a.png`: 'a.png' is not a readable image"): once is enough.
    skipped = list({image: e["message"].removeprefix(f"`{image}`: ") for k, e in entries if e["status"] == SKIPPED
                    for image in [_image_of(k)]}.items())
    failed = [(k, e["message"]) for k, e in entries if e["status"] == FAILED]
    out = ReportFolder(folder, kept=STORED_FILES)
    paths, missing = out.paths, out.missing
    out.table(SUMMARY_CSV, SUMMARY_CSV, SUMMARY_COLUMNS, summary_csv_rows(summary))
    paths[SUMMARY_MD] = folder / SUMMARY_MD
    alpha = float(definition.get("alpha", study.get("alpha", 0.01)))
    permutations = definition.get("permutations") or (study.get("in_memory") or {}).get("permutations")
    # "0 % significant" on every row must say when the shuffle test could not have found anything: too few
    # permutations, or series too short for any order to pass (5 steps at alpha 0.01 said nothing, "0 %" read as
    # "no effect").
    floor = _shuffle_floor(results, curves, int(permutations), alpha, statistic) if permutations else None
    # Items whose rows were lost count as finished here: their own note follows, and says more.
    items = int(study.get("items") or 0) or len(journal)
    notes = (unfinished(len(journal), items) + rows_lost(lacking) + ([floor] if floor else []) + input_notes(entries)
             + same_pictures(entries))
    images = len({row["image"] for row in results}) + len(skipped)
    unread = f" ({len(skipped)} unreadable, skipped)" if skipped else ""
    planned = _planned(study)
    title = (f"Study: {_count(images, 'image')}{unread}, "
             f"{_count(len({r.intervention for r in summary}) or planned[0], 'intervention')}, "
             f"{_count(len({r.model for r in summary}) or planned[1], 'model')}")
    write_whole(paths[SUMMARY_MD], markdown(summary, alpha, skipped, failed, title, notes))
    if figures_too and mean:
        probabilities = all(0 <= v <= 1 for c in mean for v in c.mean)
        drawn = {CURVES_PNG: lambda: figures.mean_curves(mean, probabilities),
                 SCATTER_PNG: lambda: figures.score_vs_flips(series_points(curves))}
        for name, draw in drawn.items():
            # One failed figure leaves the tables, the other figure and report.html (which names it).
            out.figure(name, name, lambda path, draw=draw: save_figure(draw(), path), f"study figure {name}",
                           title=FIGURE_TITLES[name])
    elif not mean:
        missing.update({title: "no finished series to average" for title in FIGURE_TITLES.values()})
    shown = {title: paths.get(name) for name, title in FIGURE_TITLES.items()} if figures_too else {}
    # The definition (or, for run_images, what was run in memory), so a reader can run it again.
    settings = {**definition, **(study.get("in_memory") or {}),
                **{key: study[key] for key in ("fingerprint", "propgrad_version") if key in study}}
    if summary:  # a definition naming no model ran the default one: the page names what ran
        settings["models that ran"] = list(dict.fromkeys(row.model for row in summary))
    rows = [{**summary_cells(row, alpha), "reading of the mean curve": row.reading.full if row.reading else "n/a"}
            for row in summary]
    flips = {"method": FLIP_METHOD, "note": flip_note(summary), "rows": [flip_cells(row) for row in summary],
             "columns": FLIP_COLUMNS}
    page = html_report.study_page(title, study_reading(summary), rows, shown, settings, skipped, failed, missing,
                                  flips, notes, input_images(entries), statistic, legend=SUMMARY_LEGEND)
    out.finish(page, key=REPORT_HTML)
    return StudyReport(folder, summary, mean, skipped, failed, paths, title, alpha, notes, list(lacking),
                       max(0, items - len(journal)), items)
