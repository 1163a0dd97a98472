"""One run's results for the app: a private folder per request, the summary text and the score table.

Gradio-free; the files themselves are written by :mod:`propgrad.report`.
"""
from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from .. import reading, report
from ..explain import Explanation

RESULT_TTL_S = 3600.0

_ROOT_LOCK = threading.Lock()
_ROOT: Path | None = None


def request_dir() -> Path:
    """A new private folder for one request (``tempfile.mkdtemp``); folders older than an hour go.

    Each request writes only into its own folder, so simultaneous users never share a file.
    """
    global _ROOT
    with _ROOT_LOCK:
        if _ROOT is None or not _ROOT.is_dir():
            _ROOT = Path(tempfile.mkdtemp(prefix="propgrad-app-"))
        root = _ROOT
    now = time.time()
    for old in root.iterdir():
        try:
            if now - old.stat().st_mtime > RESULT_TTL_S:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    return Path(tempfile.mkdtemp(prefix="run-", dir=root))


def write_results(explanation: Explanation) -> dict[str, Path]:
    """The report (JSON, CSV, PNGs, GIF) and its zip ("bundle"), in a new private folder."""
    folder = request_dir()
    paths = report.write_report(explanation, folder / "report")
    paths["bundle"] = report.zip_report(paths, folder / "propgrad-result.zip")
    return paths


TABLE_HEADERS = ["model", "output", "E[|grad_X F|]", "p-value", "signif.", "prediction flips"]


def summary_table(explanation: Explanation) -> list[list]:
    """Rows for the app's table: one per model and output of interest."""
    rows = []
    for row in report.summary_rows(explanation):
        rows.append([
            row["model"], row["output"], shown_score(row["score"]), float(f"{row['pvalue']:.3g}"),
            # alpha is in the summary above the table; a short cell keeps the table narrow on phones.
            "yes" if row["significant"] else "no",
            row["flips"],
        ])
    return rows


def summary_text(explanation: Explanation, notes: Sequence[str] = ()) -> str:
    """A few Markdown lines a person reads first: per model, the score, the p-value and the verdict."""
    lines = [
        f"**{explanation.intervention}**: {explanation.n_steps} steps of *{explanation.property_name}*"
        + (f", {len(explanation.series)} series (mean curve with a band)" if len(explanation.series) > 1 else "")
        + f"; shuffle test with {explanation.n_permutations:,} permutations, alpha = {explanation.alpha:g}."
    ]
    for model in explanation.models:
        for score in model.scores:
            verdict = "significant" if score.significant else "not significant"
            lines.append(
                f"- **{model.name}** / *{score.output}*: E[|grad_X F|] = {score.score:.4f}, "
                f"p = {score.pvalue:.3g} ({verdict})"
            )
    lines.extend(f"- note: {note}" for note in notes)
    lines.append("\n" + reading.paragraph(reading.read_explanation(explanation)).replace("Reading:", "**Reading:**", 1))
    lines.append(
        "\n*Significant* means the output follows the property systematically (a smooth trend scores far "
        "below shuffled orders: the left tail of the null plot), not that it moves much: compare "
        "E[|grad_X F|] across models for the size of the effect (0.01 = one percentage point per step)."
    )
    return "\n".join(lines)


def shown_score(score: float) -> float:
    """E[|grad_X F|] for a table: four significant digits, so a tiny score reads 1.3e-05, not 0."""
    return float(f"{float(score):.4g}")


def comparison_table(comparison) -> list[list]:
    """The score table's rows for a property comparison: 'property: model' in the first column."""
    return [[f"{entry.property} | {entry.model}", entry.output, shown_score(entry.score),
             float(f"{entry.pvalue:.3g}"), "yes" if entry.significant else "no", entry.flips]
            for entry in comparison.scores]


def comparison_text(comparison, notes: Sequence[str] = ()) -> str:
    """The ranked property table as Markdown (the paper's Table 1): per property and model E, p, p adjusted, S, F."""
    first = next(iter(comparison.explanations.values()))
    lines = [
        f"**{len(comparison.properties)} properties compared**, ranked by their mean score over the models: "
        f"{first.n_steps} steps each; shuffle test with {comparison.n_permutations:,} permutations, alpha = {comparison.alpha:g}; "
        f"p adjusted for {len(comparison.scores)} tests ({comparison.adjustment}).",
        "",
        reading.paragraph(reading.read_comparison(comparison)).replace("Reading:", "**Reading:**", 1),
        "",
        "| property | model | output | E[\\|grad_X F\\|] | p | S | p adjusted | S adjusted | F |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for entry in comparison.scores:
        lines.append(f"| {entry.property} | {entry.model} | {entry.output} | {entry.score:.4g} | {entry.pvalue:.3g} | "
                     f"{'S' if entry.significant else '-'} | {entry.pvalue_adjusted:.3g} | "
                     f"{'S' if entry.significant_adjusted else '-'} | {'F' if entry.flipped else '-'} |")
    lines.append(f"\nS: p <= alpha, as in the table below and the curves' legends; S adjusted: the adjusted p <= alpha "
                 f"(what to trust when screening {len(comparison.properties)} properties at once). F: the prediction "
                 "flips somewhere along the series. The strips outline each region: check that it covers the property "
                 "you meant.")
    lines.extend(f"- note: {note}" for note in notes)
    return "\n".join(lines)
