"""Training dynamics: how one image's property score and prediction flips evolve over training epochs.

The paper (Sec. 4.3) follows the patch score of fixed images across checkpoints: a model trained on
biased data picks up the sticker shortcut at some epoch, and the score and flips show when. Given
checkpoint files, an image and an intervention (usually a :class:`~propgrad.interventions.PatchBlend`),
:func:`training_dynamics` explains the image with every checkpoint and collects the results;
:func:`follow_training` does so for several runs (the biased and the unbiased variant) on one shared series and
returns a :class:`TrainingDynamics`, the record the app, the command line and :mod:`propgrad.export` share.

    python -m propgrad dynamics --variant biased --image assets/lesions/examples/melanoma_1.png --out dynamics/
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from PIL import Image

from .. import reading
from ..checks import smallest_pvalue_words
from ..explain import explain
from ..interventions.base import Intervention, InterventionSeries, ProgressFn, no_progress
from ..interventions.patch import PatchBlend
from ..kinds import PatchSpec
from ..formats import format_number, format_percent, format_pvalue
from ..reading import format_ends, label_words, reading_class, size_of, yes_or_no
from .models import (READ_DIRECTION, ASSETS, VARIANTS, checkpoint_paths, example_paths, load_weights, off_domain_note,
                     patch_name, patch_paths)


@dataclass(frozen=True)
class DynamicsResult:
    """Per-checkpoint results for one image and one intervention.

    Arrays have one entry per checkpoint: ``scores`` (E[|grad_X F|] of ``output``, mean over series),
    ``pvalues`` (shuffle test), ``flip_fraction`` (share of series whose prediction changes anywhere
    along the intervention), ``n_flips`` (mean number of flips per series), ``start_probability`` and
    ``end_probability`` (mean output at step 0 and at the last step). ``orders_floor``: the smallest p-value any
    checkpoint's outputs could get in any order (:attr:`propgrad.explain.Explanation.orders_floor`): above alpha, the
    series are too short for any checkpoint to pass; None where not known (the count of orders stands in).
    """

    epochs: np.ndarray
    labels: list[str]
    output: str
    scores: np.ndarray
    pvalues: np.ndarray
    flip_fraction: np.ndarray
    n_flips: np.ndarray
    start_probability: np.ndarray
    end_probability: np.ndarray
    alpha: float
    orders_floor: float | None = None

    @property
    def significant(self) -> np.ndarray:
        return self.pvalues <= self.alpha

    def rows(self, variant: str = "", thresholds=None) -> list[dict]:
        """One record per checkpoint under :data:`ROW_FIELDS`, every digit kept: the one description of a
        checkpoint that dynamics.csv and the MCP answer hold and :func:`checkpoint_cells` shows."""
        return [
            dict(zip(ROW_FIELDS, (variant, int(e), words, float(a), float(b), float(b) - float(a), float(s),
                                  float(p), bool(p <= self.alpha), float(f), float(n), label)))
            for e, words, a, b, s, p, f, n, label in zip(
                self.epochs, checkpoint_labels(self, thresholds), self.start_probability, self.end_probability,
                self.scores, self.pvalues, self.flip_fraction, self.n_flips, self.labels)
        ]


# A checkpoint's record: what the output did first (the reading, the output's mean over series at step 0 and at the
# last step, and the change from the one to the other, signed, whose size the reading rests on: a script read a fall
# of 0.26 written as +0.26 as a rise), then the statistic, its shuffle
# test, the share of series whose prediction flips and their mean number of flips. output_start, output_end and
# flip_share are named as in a study's CSVs. The change is named for what it is: elsewhere "change" is a curve's
# highest minus lowest value, which a checkpoint, keeping no curve, cannot give; "n_flips" elsewhere is a count.
ROW_FIELDS = ("variant", "epoch", "reading", "output_start", "output_end", "change_first_to_last", "score", "pvalue",
              "significant", "flip_share", "mean_flips", "checkpoint")


def dynamics_rows(results: dict[str, DynamicsResult], thresholds=None) -> list[dict]:
    """Every variant's records (:meth:`DynamicsResult.rows`), variant by variant."""
    return [row for variant, result in results.items() for row in result.rows(variant, thresholds)]


def checkpoint_columns(output: str) -> list[str]:
    """The column titles of a table of checkpoints (the tab's, the command line's), in :func:`checkpoint_cells`'
    order: what the output did first, then the statistic and its test named as every table names them."""
    return ["variant", "epoch", "reading", f"mean p({output}), step 0 -> last", "change, step 0 to last",
            "E[|grad_X F|]", "p", "signif.", "series flipped"]


def change_cell(change: float, thresholds: reading.Thresholds | None = None) -> str:
    """A checkpoint's change, signed, rounded to three decimals, or to as many more as put it on its true side of every
    size threshold: the reading's size turns at 0.1, and "0.100" beside "small" (0.0996) read as a contradiction. (Every
    value was cut to three decimals once, and 0.35386 showed 0.353 beside dynamics.csv's digits.)

    Examples
    --------
    >>> change_cell(0.35386), change_cell(0.0996), change_cell(-0.25995), change_cell(0.00996), change_cell(0.1)
    ('+0.354', '+0.0996', '-0.260', '+0.00996', '+0.100')
    """
    limits = thresholds or reading.default_thresholds()
    size = abs(float(change))
    for decimals in range(3, 8):
        shown = f"{float(change):+.{decimals}f}"  # signed: a rise and a fall told apart
        if all((size >= limit) == (abs(float(shown)) >= limit) for limit in (limits.negligible, limits.strong)):
            break
    return shown


def checkpoint_cells(row: dict, alpha: float | None = None) -> list[str]:
    """One record (:data:`ROW_FIELDS`) as a table row under :func:`checkpoint_columns`: the readings' two decimals
    for the output (three where two would misstate the change, :func:`~propgrad.reading.format_ends`), the one
    number format for the rest (p with the digits that show its side of ``alpha``, :func:`format_pvalue`), "yes" for
    p <= alpha. The change keeps a third digit (:func:`change_cell`) and its
    sign, as the tab asks its reader to read the direction ("0.54 -> 0.28" beside a change of 0.260 read as a rise)."""
    return [row["variant"], str(row["epoch"]), row["reading"],
            " -> ".join(format_ends(row["output_start"], row["output_end"])),
            change_cell(row["change_first_to_last"]),
            format_number(row["score"]),
            format_pvalue(row["pvalue"], alpha), yes_or_no(row["significant"]), format_percent(row["flip_share"])]


# The output the scenario follows through training: the shortcut pushes a lesion with stickers towards it.
TRACKED = "melanoma"
DEFAULT_STEPS = 8  # the tab's and the command line's: the same numbers from both


def _epoch_of(path: Path, fallback: int, metadata: dict) -> int:
    if "epoch" in metadata:
        return int(metadata["epoch"])
    match = re.search(r"epoch(\d+)", Path(path).stem)
    return int(match.group(1)) if match else fallback


def training_dynamics(
    checkpoints: Sequence[str | Path],
    image: Image.Image,
    intervention: Intervention | Sequence[InterventionSeries],
    *,
    output: str | int = TRACKED,
    n_permutations: int = 2000,
    alpha: float = 0.01,
    seed: int = 0,
    progress: ProgressFn = no_progress,
) -> DynamicsResult:
    """Explain ``image`` under ``intervention`` with every checkpoint in turn.

    Parameters
    ----------
    checkpoints : list of paths
        Lesion classifier weights (see :func:`~propgrad.lesions.models.checkpoint_paths`), in order.
    image : PIL image
        The fixed image followed through training.
    intervention : Intervention or list of InterventionSeries
        Run once; every checkpoint sees the same series.
    output : str or int
        The output whose score is tracked; fixed across checkpoints (the predicted class may change).
    n_permutations, alpha, seed
        Shuffle-test settings, as in :func:`propgrad.explain`.

    Examples
    --------
    >>> from propgrad.lesions import checkpoint_paths, patch_paths, example_paths
    >>> result = training_dynamics(checkpoint_paths("biased"), load_image(example_paths()[0]),
    ...                            PatchBlend(patch_paths()[:2], (0.8, 0.2), 0.3))  # doctest: +SKIP
    >>> result.scores.shape  # doctest: +SKIP
    (12,)
    """
    checkpoints = [Path(p) for p in checkpoints]
    if not checkpoints:
        raise ValueError("`checkpoints` is empty: give at least one weights file (see checkpoint_paths())")
    if image is None:
        raise ValueError("`image` is missing: training dynamics follow one fixed image")
    # 1. The intervention once, shared by every checkpoint (the whole bar is theirs where the series came made).
    series, start = _series_of(image, intervention, progress, share=0.2)
    # 2. One explanation per checkpoint.
    rows, floors = [], []
    for number, path in enumerate(checkpoints):
        progress(start + (1 - start) * number / len(checkpoints), f"checkpoint {path.name}")
        model = load_weights(path, name=path.stem, argument="checkpoints")
        result = explain(None, series, model, outputs_of_interest=output, n_permutations=n_permutations,
                         alpha=alpha, seed=seed)
        explained = result.models[0]
        floors.append(result.orders_floor)
        score = explained.output_of_interest
        curve = explained.series_curves(score.index, score.vector)
        rows.append((
            _epoch_of(path, number + 1, model.metadata), path.stem, score.score, score.pvalue,
            np.mean([f.flipped for f in explained.flips]), np.mean([f.n_flips for f in explained.flips]),
            curve[:, 0].mean(), curve[:, -1].mean(), score.output,
        ))
    progress(1.0, "done")
    columns = list(zip(*rows))
    return DynamicsResult(
        epochs=np.array(columns[0]), labels=list(columns[1]), output=columns[8][0],
        scores=np.array(columns[2]), pvalues=np.array(columns[3]), flip_fraction=np.array(columns[4]),
        n_flips=np.array(columns[5]), start_probability=np.array(columns[6]), end_probability=np.array(columns[7]),
        alpha=float(alpha), orders_floor=min(floors),
    )


def _series_of(image, intervention, progress: ProgressFn, share: float) -> tuple[list[InterventionSeries], float]:
    """The series ``intervention`` makes of ``image`` (reported as the first ``share`` of ``progress``), or the
    series it is; and the share of the bar used."""
    if isinstance(intervention, Intervention):
        return intervention.series(image, progress=lambda f, m="": progress(share * f, m)), share
    return list(intervention), 0.0


@dataclass(frozen=True)
class TrainingDynamics:
    """One image followed through the checkpoints of one or several training runs (``results``, by run), with
    what they were made with and each run's reading in words, made once by :func:`follow_training`.

    ``input`` describes the image (its file's name and SHA-256, see :func:`propgrad.images.describe_input`);
    ``intervention`` is what made the series (None where the series were given), ``checkpoints`` each run's
    checkpoint files by name (``checkpoint_files`` by name and SHA-256), ``ends`` the first series'
    step 0 and last step (what every checkpoint saw change), ``series_ends`` every series' name and last step (each
    sticker at full opacity).
    """

    results: dict[str, DynamicsResult]
    input: dict | None
    n_steps: int
    n_permutations: int
    alpha: float
    seed: int
    readings: dict[str, str]
    checkpoints: dict[str, list[str]] = field(default_factory=dict)
    intervention: object = field(default=None, repr=False)
    ends: tuple = field(default=(), repr=False)
    statistic: str = "gradient"
    n_series: int = 1
    notes: tuple[str, ...] = ()
    series_ends: tuple[tuple[str, Image.Image], ...] = field(default=(), repr=False)
    checkpoint_files: dict[str, list[dict]] = field(default_factory=dict)
    # What to read before the readings: a picture the lesion models were not made for; no checkpoint's shuffle test
    # able to reach alpha (its note is in ``notes``: four steps read "strong, not significant" at every epoch, the
    # reason far below).
    caveat: str | None = None

    def headline(self) -> tuple[str, str]:
        """What ran, and what was measured, in words: the tab's summary and report.html open with them."""
        first = next(iter(self.results.values()))
        series = f" ({self.n_series} stickers, one series each)" if self.n_series > 1 else ""
        return (f"Sticker blended in, {self.n_steps} steps{series}, followed through {len(first.epochs)} checkpoints "
                f"of {' and '.join(self.results)}",
                f"E[|grad_X F|] of p({self.output}) per epoch; shuffle test with {self.n_permutations:,} permutations, "
                f"alpha = {self.alpha:g}.")

    @property
    def output(self) -> str:
        return next(iter(self.results.values())).output

    @property
    def reading(self) -> str:
        """Every run's reading, one after the other."""
        return " ".join(self.readings.values())

    @property
    def table_legend(self) -> str:
        """What the checkpoint table's columns hold, in words: the tab and report.html print it under the table."""
        strong = reading.default_thresholds().strong
        return (f"Every checkpoint explains the same series ({self.n_steps} steps). Each row gives its reading, what "
                f"the output did (the mean p({self.output}) at step 0 and at the last step, and the change between "
                f"them, signed: strong from \u00b1{strong:g}), then E[|grad_X F|] and "
                f"its shuffle test ({smallest_pvalue_words(self.n_permutations, self.alpha)}; "
                "signif.: p <= alpha, the paper's S); series flipped: the share of series whose prediction flips.")

    @cached_property
    def rows(self) -> list[dict]:
        """Every checkpoint's record (:data:`ROW_FIELDS`, every digit), run by run; made once (the JSON, the CSV,
        the page and the tab's table all read them)."""
        return dynamics_rows(self.results)


def follow_training(
    image: Image.Image,
    runs: Mapping[str, Sequence[str | Path]],
    intervention: Intervention | Sequence[InterventionSeries],
    *,
    output: str | int = TRACKED,
    n_permutations: int = 2000,
    alpha: float = 0.01,
    seed: int = 0,
    progress: ProgressFn = no_progress,
) -> TrainingDynamics:
    """:func:`training_dynamics` for every run in ``runs`` ({"biased": checkpoint paths, ...}) on one series of
    ``image``, made once and shared, with the reading of each run.

    Examples
    --------
    >>> dynamics = follow_training(load_image(example_paths()[0]), {v: checkpoint_paths(v) for v in VARIANTS},
    ...                            default_intervention(8))  # doctest: +SKIP
    >>> dynamics.reading  # doctest: +SKIP
    'biased: strong and systematic from epoch 1 on (...); ...'
    """
    from ..checks import models_caveat, shuffle_floor_note, untestable_caveat
    from ..images import describe_input, file_sha256

    if not runs:
        raise ValueError("`runs` is empty: follow at least one run's checkpoints")
    series, _ = _series_of(image, intervention, progress, share=0.1)
    results = {}
    for number, (label, paths) in enumerate(runs.items()):
        results[label] = training_dynamics(
            paths, image, series, output=output, n_permutations=n_permutations, alpha=alpha, seed=seed,
            progress=lambda f, m="", n=number: progress(0.1 + 0.9 * (n + f) / len(runs), f"{label}: {m}"),
        )
    readings = {label: read_dynamics(label, result) for label, result in results.items()}
    # The floor the outputs allow, not only the count of orders: the gradient ties orders, and with three series of
    # four steps every checkpoint sat at p = 0.067 above alpha = 0.05 with no word why.
    floors = [result.orders_floor for result in results.values() if result.orders_floor is not None]
    floor = shuffle_floor_note(len(series[0].images), n_permutations, alpha, len(series),
                               floor=min(floors) if floors else None)
    described = describe_input(image)
    # A transparent or tiny input first; a picture the lesion models were not made for (a photo) is said before the
    # readings, with a shuffle test that cannot reach alpha.
    notes = [*(described or {}).get("notes", []), *filter(None, [floor])]
    untestable = untestable_caveat(floor, any(bool((r.pvalues <= alpha).any()) for r in results.values()),
                                   min(floors) if floors else 1.0)  # (no floor worked out: none moved, no caveat)
    caveat = " ".join(c for c in (models_caveat([off_domain_note(image)]), untestable) if c) or None
    return TrainingDynamics(results, described, len(series[0].images), n_permutations, float(alpha),
                            seed, readings, {label: [Path(p).name for p in paths] for label, paths in runs.items()},
                            intervention if isinstance(intervention, Intervention) else None,
                            (series[0].images[0], series[0].images[-1]),
                            series_ends=tuple((one.name(number), one.images[-1]) for number, one in enumerate(series)),
                            n_series=len(series), notes=tuple(notes),
                            caveat=caveat,
                            # Weights are named by their contents, as the input is: two runs' epoch01 files read alike.
                            checkpoint_files={label: [{"file": Path(p).name, "sha256": file_sha256(p)} for p in paths]
                                              for label, paths in runs.items()})


# How to read training dynamics, under every result (the tab's, report.html).
_GUIDE_PARTS = {
    "lead": READ_DIRECTION,
    "biased": "The biased model learnt \"a sticker means nevus\": a shortcut shows as its p(melanoma) falling as the "
              "sticker appears, strong and systematic, the prediction flipping away from melanoma, from some epoch of "
              "training on.",
    "unbiased": "The unbiased model never saw a sticker: to it the patch is an unfamiliar coloured blotch over the "
                "lesion, and it may react as strongly in the other direction, towards melanoma (colour variety is one "
                "of melanoma's cues).",
    "both": "Both react; only the biased model's reaction is the shortcut: a sticker that stood for a class in its "
            "training data. A rise in the unbiased model's p(melanoma) is no shortcut: it reacts to a blotch it "
            "never saw, which should not matter either (on a benign lesion it pushes the prediction towards "
            "melanoma; on a melanoma, towards the right class for a wrong reason).",
}
# The other model, when a run shows only one: what ticking it would add.
_MISSING = {"biased": "The biased model (a sticker meant nevus in its training data) is not in this run: add it to "
                      "see the shortcut itself.",
            "unbiased": "The unbiased model is not in this run: add it to see how a model that never saw a sticker "
                        "reacts."}
GUIDE = " ".join(_GUIDE_PARTS.values())


# The guide in one sentence, for the talk view (which shows the reading and not the guide): projected, "unbiased:
# strong and systematic at every epoch" beside the biased model's 0.026 had a class name the wrong model biased.
TALK_GUIDE = ("Read the direction as well as the size: only the biased model's fall in p(melanoma) is the shortcut (a "
              "sticker stood for nevus in its training data); a rise in the unbiased model's p(melanoma) is a "
              "reaction of another kind (to a blotch it never saw), not one learnt.")


def guide(variants) -> str:
    """How to read the runs ``variants`` shows: :data:`GUIDE` for both models; for one, its part and what the other
    would add (the guide explained a model the run did not show); nothing for runs of other checkpoints."""
    shown = [variant for variant in ("biased", "unbiased") if variant in set(variants)]
    if not shown:
        return ""
    if len(shown) == 2:
        return GUIDE
    missing = "unbiased" if shown == ["biased"] else "biased"
    return " ".join([_GUIDE_PARTS["lead"], _GUIDE_PARTS[shown[0]], _MISSING[missing]])


def _checkpoint_readings(result: DynamicsResult, thresholds=None) -> list[tuple[str, str, bool]]:
    """Each checkpoint's reading class (:mod:`propgrad.reading`'s keys), the size of its change and whether its test
    is significant, from what a dynamics result keeps.

    Size comes from the output's change from the first step to the last (mean over series, the reading's
    thresholds on the change), systematic or not from the shuffle test: ``strong`` (strong and significant),
    ``flips`` (most series flip and the output moves), ``systematic`` / ``negligible`` when significant,
    ``erratic`` / ``none`` when not. (``abrupt`` needs the curve itself, which a dynamics result does not keep.)
    """
    t = thresholds or reading.default_thresholds()
    found = []
    for start, end, significant, flips in zip(result.start_probability, result.end_probability, result.significant,
                                              result.flip_fraction):
        size, significant = size_of(abs(float(end) - float(start)), t), bool(significant)
        found.append((reading_class(size, significant, flipped=flips > 0.5), size, significant))
    return found


def checkpoint_labels(result: DynamicsResult, thresholds=None) -> list[str]:
    """Each checkpoint's reading in words, labelled as every other table labels a curve (its size from the change
    step 0 to last, the test's verdict, "flips"): "moved, not significant" beside the other tabs' "small, not
    significant" named one reading two ways."""
    return [label_words(*reading_) for reading_ in _checkpoint_readings(result, thresholds)]


def _earlier(labels: Sequence[str], epochs: Sequence[int], most: int = 3) -> str:
    """The readings before the last one settled, run by run in epoch order ("epochs 1-3: small but systematic,
    then epoch 4: small, not significant"); with more than ``most`` runs, the first and the latest ones. Naming only the
    first epoch's reading said "strong from epoch 9 on, strong at epoch 1" of a model that read otherwise between."""
    runs: list[list] = []
    for words, epoch in zip(labels, epochs):
        if runs and runs[-1][0] == words:
            runs[-1][2] = epoch
        else:
            runs.append([words, epoch, epoch])
    # The epochs lead ("epoch 8: the prediction flips"): "the prediction flips at epoch 8" after "then" read as if
    # the sentence had moved on to flips.
    said = [f"epoch {first}: {words}" if first == last else f"epochs {first}-{last}: {words}"
            for words, first, last in runs]
    most = max(most, 3)  # the first run, the ones left out, the latest
    if len(said) > most:
        hidden = runs[1:len(runs) - (most - 2)]
        said = [said[0], f"epochs {hidden[0][1]}-{hidden[-1][2]}: mixed readings", *said[-(most - 2):]]
    return ", then ".join(said)


def settled_words(labels: Sequence[str], epochs: Sequence[int], score: str) -> str:
    """How the checkpoints read: the last reading since it settled, the scores in brackets, the readings before.
    A last reading that held at every epoch but a few names those ("from epoch 9 on; before that, epochs 1-7: strong
    and systematic, then epoch 8: ..." said it was different before, and then that it was not).

    Examples
    --------
    >>> settled_words(["strong", "strong", "flips", "strong"], [1, 2, 3, 4], "E 0.1")
    'strong at every epoch (E 0.1) except epoch 3 (flips)'
    >>> settled_words(["small", "strong", "strong"], [1, 2, 3], "E 0.1")
    'strong from epoch 2 on (E 0.1); before that, epoch 1: small'
    """
    last = labels[-1]
    since = len(labels) - 1
    while since > 0 and labels[since - 1] == last:
        since -= 1
    runs: list[list] = []  # the other readings, run by run: [words, first epoch, last epoch]
    for index, (epoch, words) in enumerate(zip(epochs, labels)):
        if words == last:
            continue
        if runs and runs[-1][0] == words and labels[index - 1] == words:
            runs[-1][2] = epoch
        else:
            runs.append([words, epoch, epoch])
    differing = sum(words != last for words in labels)
    if since > 0 and last in labels[:since] and differing <= 2 and differing < len(labels) - differing:
        return f"{last} at every epoch ({score}) except " + " and ".join(
            (f"epoch {first}" if first == end else f"epochs {first}-{end}") + f" ({words})" for words, first, end in runs)
    words = (f"{last} from epoch {epochs[since]} on" if since < len(labels) - 1 or len(labels) == 1
             else f"{last} at the last epoch ({epochs[-1]})")
    earlier = f"; before that, {_earlier(labels[:since], epochs[:since])}" if since > 0 else ""
    return f"{words} ({score}){earlier}"


def read_dynamics(label: str, result: DynamicsResult, thresholds=None) -> str:
    """One line of words for one variant's run through training: how its last checkpoint reads, since when, and
    how it started; where the prediction flips.

    Examples
    --------
    >>> read_dynamics("biased", result)  # doctest: +SKIP
    'biased: strong and systematic from epoch 1 on (mean p(melanoma) 0.96 -> 0.00 at epoch 20, 0.54 -> 0.28 at ...'
    """
    labels = checkpoint_labels(result, thresholds)
    epochs = [int(e) for e in result.epochs]
    # What the output did first, as every other reading says it (the score alone, "E[|grad_X F|] 0.036 at epoch 1,
    # 0.12 at epoch 20", left a class to find p(melanoma) 0.96 -> 0.00 in the table); the scores are the table's.
    def did(index: int) -> str:
        start, end = format_ends(result.start_probability[index], result.end_probability[index], thresholds)
        return f"{start} -> {end} at epoch {epochs[index]}"

    # The last epoch first: its reading is the label's ("small from epoch 13 on (0.46 -> 0.81 at epoch 1, ...)" gave
    # the first epoch's strong change right after "small").
    score = f"mean p({result.output}) {did(-1)}" + (f", {did(0)}" if len(epochs) > 1 else "")
    words = settled_words(labels, epochs, score)
    flipped = [e for e, share in zip(epochs, result.flip_fraction) if share > 0]
    towards = _flip_direction(result)
    if not flipped:
        flips = "the prediction never flips"
    elif len(flipped) == len(epochs):
        flips = (f"the prediction flips {towards}at every epoch (in {format_percent(result.flip_fraction[-1])} of the "
                 f"series at the last, epoch {epochs[-1]})")
    else:
        flips = (f"the prediction flips {towards}at {len(flipped)} of {len(epochs)} epochs (last at epoch "
                 f"{flipped[-1]})")
        flips += _why_no_flip(result, epochs)
    return f"{label}: {words}; {flips}."


def _flip_direction(result: DynamicsResult) -> str:
    """Which way the flips go, from the tracked output's mean at step 0 and the last step of the epochs that flip
    ("towards melanoma ", "away from melanoma "), with a trailing space; empty where no epoch flips. Without it, a
    nevus that the unbiased model turns into a melanoma and one the biased model turns back into a nevus read alike."""
    rises = {bool(end > start) for share, start, end in zip(result.flip_fraction, result.start_probability,
                                                            result.end_probability) if share > 0}
    if not rises:
        return ""
    if len(rises) > 1:
        return "both ways "
    return f"towards {result.output} " if rises.pop() else f"away from {result.output} "


def _why_no_flip(result: DynamicsResult, epochs: Sequence[int]) -> str:
    """Where a model that flips at other epochs does not because its mean output starts on the side of 0.5 that the
    intervention pushes it towards: there was nothing to flip (a drop to no flips at epochs 6, 9 and 12 read as the
    shortcut fading). An output that moves towards 0.5 without crossing it is not named: that one could have flipped."""
    starts = {epoch: start for epoch, share, start, end in zip(epochs, result.flip_fraction, result.start_probability,
                                                              result.end_probability)
              if share == 0 and (start < 0.5) == (end < 0.5) and abs(end - 0.5) >= abs(start - 0.5)}
    if not starts:
        return ""
    still = list(starts)
    unflipped = sum(share == 0 for share in result.flip_fraction)
    # "at 18 epochs" read as "at epoch 18"; "each of 18 epochs without a flip" beside 1 flipping epoch of 20 left one
    # unaccounted for (it moved towards 0.5 without crossing, so it is not named).
    named = (f"epoch {still[0]}" if len(still) == 1 else
             f"epochs {', '.join(map(str, still[:-1]))} and {still[-1]}" if len(still) <= 4
             else f"each of the {len(still)} epochs without a flip" if len(still) == unflipped
             else f"{len(still)} of the {unflipped} epochs without a flip")
    above = {bool(start >= 0.5) for start in starts.values()}
    # The side in words: "starts on the side of 0.5 it moves towards" was read twice by a new user.
    where = ("is above 0.5 at step 0 and ends higher" if above == {True} else
             "is below 0.5 at step 0 and ends lower" if above == {False} else
             "is already past 0.5 at step 0, on the side it moves to")
    return f"; at {named} the mean p({result.output}) {where}, so there is nothing to flip"


def plot_dynamics(results: DynamicsResult | dict[str, DynamicsResult], title: str | None = None):
    """Score per epoch (filled markers where significant) and flip share per epoch; a matplotlib Figure.

    The right panel also carries p(output) at the last step (dashed, open diamonds, drawn on top).

    ``results`` may be one result or a dict ``{label: result}`` (e.g. biased and unbiased) drawn together.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    if isinstance(results, DynamicsResult):
        results = {"": results}
    figure = Figure(figsize=(9, 3.9), layout="constrained")
    score_axis, flip_axis = figure.subplots(1, 2)
    for number, (label, result) in enumerate(results.items()):
        colour = f"C{number}"
        score_axis.plot(result.epochs, result.scores, color=colour, label=label or None)
        significant = result.significant
        score_axis.scatter(result.epochs[significant], result.scores[significant], color=colour, zorder=3)
        score_axis.scatter(result.epochs[~significant], result.scores[~significant], facecolor="white",
                           edgecolor=colour, zorder=3)
        flip_axis.plot(result.epochs, result.flip_fraction, color=colour, marker="o", zorder=2)
    # The probabilities go on top, dashed with open squares: they often sit at 0 or 1 exactly where
    # another run's flip share does, and a dotted line under a solid one disappears. (Not diamonds: those mark
    # prediction flips in every curve figure.)
    for number, result in enumerate(results.values()):
        flip_axis.plot(result.epochs, result.end_probability, color=f"C{number}", linestyle="--", linewidth=1.2,
                       marker="s", markersize=4.5, markerfacecolor="white", markeredgewidth=1.2, zorder=4)
    output = next(iter(results.values())).output
    score_axis.set(xlabel="epoch", ylabel=f"E[|grad_X F|] of p({output})",
                   title="E[|grad_X F|] per epoch (filled: p <= alpha)")
    flip_axis.set(xlabel="epoch", ylabel="share of series / probability", ylim=(-0.05, 1.05),
                  title=f"prediction flips and p({output})")
    flip_axis.plot([], [], color="black", marker="o", label="share of series flipped")
    flip_axis.plot([], [], color="black", linestyle="--", marker="s", markerfacecolor="white",
                   label=f"p({output}) at the last step")
    epochs = sorted({int(epoch) for result in results.values() for epoch in result.epochs})
    for axis in (score_axis, flip_axis):
        # The first and the last epoch among the ticks: "when did it learn it" reads off the ends (1 to 20 showed
        # as ticks 2.5 ... 17.5, or 5 ... 15).
        inner = [tick for tick in MaxNLocator(nbins=6, integer=True).tick_values(epochs[0], epochs[-1])
                 if epochs[0] < tick < epochs[-1] and min(tick - epochs[0], epochs[-1] - tick) >= 2]
        inner = epochs[1:-1] if len(epochs) <= 7 else inner  # a few epochs: each its tick
        axis.set_xticks(sorted({epochs[0], *map(int, inner), epochs[-1]}))
    # One legend under both panels: the variants' colours, then what the right panel's two line styles mean. Inside
    # a panel it covered curves that fill the whole range (the right one's flip shares run from 0 to 1).
    entries, labels = score_axis.get_legend_handles_labels()
    more, more_labels = flip_axis.get_legend_handles_labels()
    figure.legend(entries + more, labels + more_labels, loc="outside lower center", ncols=len(labels) + len(more_labels),
                  fontsize=9, frameon=False)
    if title:
        figure.suptitle(title)
    return figure


def default_intervention(steps: int = DEFAULT_STEPS, n_patches: int = 3, position=(0.8, 0.2), scale: float = 0.3) -> PatchBlend:
    """The shipped stickers blended in at the top right, as in the README's examples."""
    patches = patch_paths()[:n_patches]
    if not patches:
        raise ValueError(f"no sticker PNGs found under {ASSETS / 'patches'}; run the lesion asset script first")
    return PatchSpec(patches=tuple(map(str, patches)), position=position, scale=scale, steps=steps,
                     labels=tuple(map(patch_name, patches))).build()
