"""Stored results -> the study's aggregates (the paper's Table 3 per model x intervention, mean curves).

Everything here reads results.csv and curves.csv as stored, so aggregates can be regenerated at any
time without running a model. Per-series scores are recomputed from the stored curves with the same
formula as :func:`propgrad.score.property_gradient` (a cheap numpy step, not a model run).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from ..ranking import rank_key, tier_shares
from ..reading import Reading, read_curve
from ..score import property_gradient
from .flip_prediction import FlipPrediction, flip_prediction


@dataclass(frozen=True)
class SummaryRow:
    """One model under one intervention, over every image (and every series of every image).

    ``score_mean``/``score_std`` are over series (an image with 3 patches gives 3 series, as in the
    paper's Table 3); ``significant_share`` is over images (each image's p-value tests its mean score);
    ``flip_share`` and ``gradual_share`` are over series; ``flip_accuracy`` predicts "the last step's
    prediction differs from step 0's" from the series' score (None when too few series flip, or too
    few do not).
    """

    intervention: str
    model: str
    output: str
    n_images: int
    n_series: int
    score_mean: float
    score_std: float
    significant_share: float
    flip_share: float
    output_start: float
    output_end: float
    flip_accuracy: FlipPrediction | None
    gradual_share: float = float("nan")  # share of series that change gradually (propgrad.gradualness)
    # Per ranking tier (a to e, propgrad.ranking), the share of series whose own reading falls in it; the
    # mean change (highest - lowest value) of the series; the statistic whose test decided "significant".
    tier_shares: dict = field(default_factory=dict)
    change_mean: float = float("nan")
    statistic: str = "gradient"
    reading: Reading | None = None  # of the mean curve: what ranks the row


@dataclass(frozen=True)
class MeanCurve:
    """Mean and standard deviation over series of one model's output of interest, per step."""

    intervention: str
    model: str
    output: str
    property_name: str
    property_values: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    n_series: int


@dataclass(frozen=True)
class SeriesPoint:
    """One series: its score and how often its prediction flipped (for the score-vs-flips figure)."""

    intervention: str
    model: str
    image: str
    score: float
    flips: int
    changed: bool


def _group_key(row: dict, by_output: bool) -> tuple:
    return (row["intervention"], row["model"]) + ((row["output"],) if by_output else ())


def _by_output(results: list[dict]) -> bool:
    """Group per output when images carry several outputs of interest ('all', or a list of names)."""
    counts = defaultdict(int)
    for row in results:
        counts[(row["item"], row["model"])] += 1
    return any(count > 1 for count in counts.values())


def _output_label(names: list[str]) -> str:
    distinct = list(dict.fromkeys(names))
    return distinct[0] if len(distinct) == 1 else f"predicted class ({len(distinct)} classes)"


def series_points(curves: list[dict]) -> list[SeriesPoint]:
    """Per series: its E[|grad_X F|] (from the stored curve) and its flips."""
    grouped: dict[tuple, list[dict]] = defaultdict(list)
    for row in curves:
        grouped[(row["item"], row["model"], row["output"], row["series"])].append(row)
    points = []
    for rows in grouped.values():
        values = np.array([float(r["value"]) for r in sorted(rows, key=lambda r: int(r["step"]))])
        first = rows[0]
        points.append(SeriesPoint(first["intervention"], first["model"], first["image"],
                                  float(property_gradient(values)), int(first["series_flips"]),
                                  bool(int(first["series_changed"]))))
    return points


def _gradual_share(rows: list[dict]) -> float:
    # Weighted by each image's series; folders written before the column existed give NaN.
    pairs = [(float(r["gradual_share"]), int(r["n_series"])) for r in rows if str(r.get("gradual_share", "")) != ""]
    if not pairs:
        return float("nan")
    return float(sum(share * n for share, n in pairs) / sum(n for _, n in pairs))


def summarise(results: list[dict], curves: list[dict], property_names: dict | None = None,
              statistic: str = "gradient") -> tuple[list[SummaryRow], list[MeanCurve]]:
    """Table 3 rows and mean curves, ranked by :mod:`propgrad.ranking` on each row's mean curve (read as
    significant when at least half its images were, flipped when at least half its series flipped); ties keep
    the order the (intervention, model) pairs first appear.

    Each series is also read on its own (its image's test decides systematic or not): ``tier_shares`` says
    how many series fall in each tier.
    """
    by_output = _by_output(results)
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in results:
        groups[_group_key(row, by_output)].append(row)
    # (intervention, model[, output]) -> (item, output, series) -> that series' rows
    series_groups: dict[tuple, dict[tuple, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for row in curves:
        series_groups[_group_key(row, by_output)][(row["item"], row["output"], row["series"])].append(row)

    significant_of = {(r["item"], r["model"], r["output"]): bool(int(r["significant"])) for r in results}
    summary, mean_curves = [], []
    for key, rows in groups.items():
        series = [sorted(one, key=lambda r: int(r["step"])) for one in series_groups[key].values()]
        readings = [read_curve([float(r["value"]) for r in one], statistic=statistic,
                               significant=significant_of.get((one[0]["item"], one[0]["model"], one[0]["output"]),
                                                              False),
                               flipped_series="1/1" if int(one[0]["series_flips"]) > 0 else "0/1")
                    for one in series if len(one) >= 2]
        matrix = np.array([[float(r["value"]) for r in one] for one in series])
        scores = np.array([float(property_gradient(values)) for values in matrix])
        flipped = np.array([int(one[0]["series_flips"]) > 0 for one in series])
        changed = np.array([int(one[0]["series_changed"]) for one in series])
        output = _output_label([r["output"] for r in rows])
        significant_share = float(np.mean([int(r["significant"]) for r in rows]))
        # Places in the property's words where every series shares its values ("lowest 0.13 at 85 % darker", as a
        # single run says it; "at step 10" made a reader count steps), else steps.
        placed = [[float(r["property_value"]) for r in one] for one in series]
        where = ({"values": placed[0], "property_name": (property_names or {}).get(key[0], "step")}
                 if placed and all(one == placed[0] for one in placed) else {})
        mean_reading = read_curve(matrix.mean(axis=0), significant=significant_share >= 0.5, statistic=statistic,
                                  **where,
                                  # Words name one class; several images' own predicted classes are "the class".
                                  output=output if len({r["output"] for r in rows}) == 1 else "predicted class",
                                  flipped_series=f"{int(flipped.sum())}/{len(flipped)}"
                                  if flipped.mean() >= 0.5 else f"0/{len(flipped)}") \
            if len(matrix) and matrix.shape[1] >= 2 else None
        summary.append(SummaryRow(
            intervention=key[0], model=key[1], output=output, n_images=len({r["image"] for r in rows}),
            n_series=len(series), score_mean=float(scores.mean()) if len(scores) else float("nan"),
            score_std=float(scores.std()) if len(scores) else float("nan"),
            significant_share=significant_share,
            flip_share=float(flipped.mean()) if len(flipped) else float("nan"),
            output_start=float(np.mean([float(r["output_start"]) for r in rows])),
            output_end=float(np.mean([float(r["output_end"]) for r in rows])),
            flip_accuracy=flip_prediction(scores, changed) if len(scores) else None,
            gradual_share=_gradual_share(rows),
            tier_shares=tier_shares(readings),
            change_mean=float(np.mean([one.change for one in readings])) if readings else float("nan"),
            statistic=statistic, reading=mean_reading,
        ))
        if len(matrix):
            mean_curves.append(MeanCurve(key[0], key[1], output, (property_names or {}).get(key[0], "step"),
                                         np.array(placed[0]), matrix.mean(axis=0), matrix.std(axis=0), len(matrix)))
    order = sorted(range(len(summary)), key=lambda i: rank_key(summary[i].reading) if summary[i].reading
                   else (len("abcde"), 0.0))
    summary = [summary[i] for i in order]
    return summary, mean_curves
