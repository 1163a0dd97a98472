"""Intervention x models -> an Explanation: the one result that plots, reports and the app read."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial

import numpy as np
from PIL import Image

from .checks import (MIN_STEPS, check_shuffle_settings, models_caveat, orders_floor, shuffle_floor_note,
                     smallest_pvalue_words, too_few_permutations_for_table, untestable_caveat)
from .errors import in_words, near_names, shown
from .gradualness import Gradualness, GradualnessCriteria, assess, largest_change, summary_line, unchanged_caveat
from .images import MAX_SIDE, MIN_SIDE, SOURCE_KEY, describe_input, load_image
from .interventions.base import Intervention, InterventionSeries, ProgressFn, no_progress
from .interventions.frames import Frames
from .interventions.patch import PATCH_PROPERTY
from .limits import check_series_memory, check_shuffle_memory
from .models.base import PROBABILITY, Model
from .outputs import ALL, PREDICTED, VECTOR, split_output_names  # noqa: F401  (split_output_names: re-exported)
from .reading import Reading, default_thresholds, listed, named_note, read_explanation, short_names
from .statistics import KSG_NEIGHBOURS, ksg_neighbours
from .score import (
    DEFAULT_ALPHA,
    DEFAULT_ALTERNATIVE,
    DEFAULT_PERMUTATIONS,
    GRADIENT,
    MUTUAL_INFORMATION,
    PredictionFlips,
    best_order_pvalue,
    steady_trend_need,
    _gradient_magnitude,
    check_statistic,
    null_distribution,
    _pvalue,
    _rng,
    prediction_flips,
    statistic_scores,
    step_correlation,
)

# How outputs of interest are chosen, per model: "predicted" (the class predicted on step 0 of the
# first series), "all", "vector" (the whole output vector as one score), or explicit class names /
# column indices.
# The vector score's permutations are summed over the outputs in chunks, so a 1000-class model's null
# never holds more than this many permutations x outputs at once.
_VECTOR_CHUNK = 1000


@dataclass(frozen=True)
class OutputScore:
    """Score and significance of one output (class or prompt) of one model.

    ``score`` is the ``statistic`` (by default E[|grad_X F|]) averaged over series, ``pvalue`` the
    shuffle test of that mean, ``series_scores`` the score of each series, ``correlation`` the mean
    Pearson correlation of the output with the step index (NaN where the output is constant or for the
    vector score). For the vector score (``outputs_of_interest="vector"``) ``output`` reads
    "vector (all N outputs)" and ``index`` is the class predicted on step 0, the curve plots draw.
    """

    output: str
    index: int
    score: float
    pvalue: float
    significant: bool
    correlation: float
    series_scores: list[float]
    null_distribution: np.ndarray = field(repr=False)
    statistic: str = GRADIENT
    vector: bool = False


@dataclass(frozen=True)
class ModelExplanation:
    """One model's outputs along every series, and the scores of its outputs of interest."""

    name: str
    output_names: list[str]
    output_kind: str
    outputs: np.ndarray  # (series, steps, k)
    scores: list[OutputScore]
    flips: list[PredictionFlips]  # one per series
    # What the model is, in words, where it says (a shipped model: what it was trained on); reports print it, as a
    # name such as "dark-cats bias" alone does not say it is a model trained on dark cats.
    description: str = ""
    # What loading the model had to guess, said among the notes (an uploaded one-output model read as a probability).
    caveat: str = ""
    # Where the image is not one the model was made for (the lesion models on a photo), said before the answer.
    domain: str = ""

    @property
    def output_of_interest(self) -> OutputScore:
        """The first (by default the only) output of interest."""
        return self.scores[0]

    def mean_curve(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation over series of output ``index``, each of shape (steps,) (:meth:`curve`)."""
        return self.curve(index)

    def series_curves(self, index: int, vector: bool = False) -> np.ndarray:
        """What a score of output ``index`` measured, per series, (series, steps): the output's column, or with
        ``vector`` (the whole-output score, :attr:`OutputScore.vector`) the output vector's distance from step 0
        (half the L1 norm of its change). Every table, CSV and figure takes a score's curve from here, as
        ``series_curves(score.index, score.vector)``; the vector's used to show its predicted class."""
        if vector:
            return 0.5 * np.abs(self.outputs - self.outputs[:, :1]).sum(axis=2)
        return self.outputs[:, :, index]

    def curve(self, index: int, vector: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The curve a reading and a figure show for a score of output ``index`` and its spread over series, each
        (steps,): the mean and standard deviation of :meth:`series_curves`. (The vector's once was the distance of
        the mean outputs, which lay below every series' own when they moved apart.)"""
        curves = self.series_curves(index, vector)
        return curves.mean(axis=0), curves.std(axis=0)


@dataclass(frozen=True)
class Explanation:
    """Everything one run of :func:`explain` found.

    ``series`` holds the intervention's image series (``series[s].images[0]`` is the unedited input);
    ``values`` are the property values of the first series, the x axis of every plot;
    ``gradualness`` says per series whether it changes gradually (:mod:`propgrad.gradualness`).
    """

    intervention: str
    property_name: str
    series: list[InterventionSeries]
    models: list[ModelExplanation]
    n_permutations: int
    alpha: float
    seed: int | None
    gradualness: list[Gradualness] = field(default_factory=list)
    statistic: str = GRADIENT
    # One reading per model and output of interest (model order, then output order), made once here.
    readings: tuple[Reading, ...] = ()
    # The input's file name and SHA-256 (or a hash of its pixels) and size; for frames {"frames": [each one's]}.
    input: dict | None = None
    # The gradualness verdict in one line ("gradual: yes (...)"), made once here like the readings.
    gradual_summary: str = ""

    def __post_init__(self):
        if not self.readings:
            object.__setattr__(self, "readings", tuple(read_explanation(self)))
        if not self.gradual_summary:
            object.__setattr__(self, "gradual_summary", summary_line(self.gradualness))

    def reading(self, model: str, output: str | None = None) -> Reading:
        """The reading of ``model``'s output ``output`` (default: its first output of interest)."""
        for one in self.readings:
            if one.model == model and output in (None, one.output):
                return one
        raise KeyError(f"no reading for model {model!r}{'' if output is None else f', output {output!r}'}")

    @cached_property
    def orders_floor(self) -> float:
        """The smallest exact p-value any order of any output of interest could get here (every order tried on
        short series, :func:`propgrad.score.best_order_pvalue`; else the count of orders, 2 / n! per series): where
        it is above alpha, the series are too short to show an effect."""
        generic = orders_floor(self.n_steps, len(self.series))
        floors = []
        for model in self.models:
            for score in model.scores:
                found = None if score.vector else best_order_pvalue(model.outputs[:, :, [score.index]], self.statistic)
                floors.append(generic if found is None else max(generic, float(found[0])))
        return min(floors, default=generic)

    @property
    def floor_words(self) -> str:
        """Where a p-value sits at the smallest the permutations can give, that it could be stronger still
        (:func:`~propgrad.checks.smallest_pvalue_words`), else "": "p 0.0010" beside "0.0024" read as two exact
        values."""
        return smallest_pvalue_words(self.n_permutations, self.alpha,
                                     [score.pvalue for model in self.models for score in model.scores])

    @cached_property
    def edit_change(self) -> float | None:
        """The edit's largest change to step 0 (:func:`~propgrad.gradualness.largest_change`, inside its region);
        None for a patch (a small patch changes its part of the image fully, and little of the whole) or where no
        series was checked."""
        if not self.gradualness or not self.series or self.property_name == PATCH_PROPERTY:
            return None
        return largest_change(self.gradualness, self.series[0].coverage)

    @cached_property
    def unchanged_caveat(self) -> str | None:
        """The sentence to read before this run's reading where its edit hardly changes the images
        (:func:`~propgrad.gradualness.unchanged_caveat`), else None: made once here, for the app's summary, report.json,
        report.html and the command line's printout alike (only the app said it at first)."""
        return None if self.edit_change is None else unchanged_caveat({self.property_name: self.edit_change})

    @cached_property
    def floor_note(self) -> str | None:
        """The note where this run's shuffle test cannot reach alpha (series too short, too few permutations), else
        None. Where the mutual information cannot tell orders apart, every order ties whatever the outputs did, and
        the floor's note said "the outputs do not change" under p(cat) 0.43 -> 0.31: :attr:`notes` says why instead
        (where they do not change, the floor's note is the true one)."""
        floor = shuffle_floor_note(self.n_steps, self.n_permutations, self.alpha, len(self.series), self.orders_floor,
                                   partial(steady_trend_need, statistic=self.statistic),
                                   "frames" if self.intervention == Frames.name else "steps")
        return None if floor and self._blind and self.orders_floor >= 1 - 1e-9 and self._outputs_moved() else floor

    @cached_property
    def settings_caveat(self) -> str | None:
        """:func:`~propgrad.checks.untestable_caveat` where the shuffle test cannot reach alpha and some output moved,
        else None."""
        passed = any(score.significant for model in self.models for score in model.scores if not score.vector)
        return untestable_caveat(self.floor_note, passed, self.orders_floor)

    @property
    def caveat(self) -> str | None:
        """What to read before this run's reading, made once here for the app's summary, report.json, report.html,
        the command line's printout and an agent's reading alike: an edit that hardly changes the images
        (:attr:`unchanged_caveat`), models not made for the image (:attr:`domain_notes`), a shuffle test that cannot
        reach alpha (:attr:`settings_caveat`); else None."""
        return " ".join(c for c in (self.unchanged_caveat, models_caveat(self.domain_notes), self.settings_caveat)
                        if c) or None

    @property
    def _blind(self) -> bool:
        """Whether the mutual information's estimate cannot tell the orders apart (k = steps - 1)."""
        return self.statistic == MUTUAL_INFORMATION and ksg_neighbours(self.n_steps) == self.n_steps - 1

    @property
    def gradual(self) -> bool:
        """Whether every series changes gradually (True when none was checked)."""
        return all(g.gradual for g in self.gradualness)

    @property
    def values(self) -> np.ndarray:
        return self.series[0].values

    @property
    def n_steps(self) -> int:
        return len(self.series[0])

    @property
    def notes(self) -> list[str]:
        """What loading the input changed (transparency laid over white) or a tiny input, what the series say about
        themselves (a region's mask resized, a mask covering everything), each once, what the statistic had to adapt
        (the mutual information's k on a short series), and a shuffle test too small to reach alpha (too few
        permutations, or series too short to have enough orders)."""
        notes = [*(self.input or {}).get("notes", []), *(note for one in self.series for note in one.notes),
                 *self.model_caveats]
        if self.floor_note:
            notes.append(self.floor_note)
        notes.extend(self.unadjusted_notes)
        if self.scale_note:
            notes.append(self.scale_note)
        if self._blind:
            # Every step is then every other step's neighbour: the estimate is the same for almost every order
            # (evenly spaced outputs tie distances, and only they tell some orders apart).
            notes.append(f"mutual information with k = {ksg_neighbours(self.n_steps)} neighbours on {self.n_steps} "
                         "steps (k = steps - 1): every step is every other step's neighbour, so the estimate barely "
                         "tells the orders of the series apart and its p-values are mostly 1 and say little; use at "
                         f"least {KSG_NEIGHBOURS + 2} steps, or another statistic")
        return list(dict.fromkeys(notes))

    def _outputs_moved(self) -> bool:
        """Whether any output of interest changes along any series."""
        return any(np.ptp(model.outputs[:, :, score.index]) > 0 for model in self.models for score in model.scores
                   if not score.vector)

    @property
    def scale_note(self) -> str | None:
        """Where some models' outputs are not probabilities (raw scores, similarities): the size words' thresholds are
        a probability's, applied to those outputs as they are (a raw score's fall from 1.00 to 0.89 read "strong",
        as ten percentage points would)."""
        others = [model.name for model in self.models if model.output_kind != PROBABILITY]
        if not others:
            return None
        limits = default_thresholds()
        whose = "that model's" if len(others) == 1 else "those models'"
        return (f"the outputs of {listed(others)} are not probabilities: the size words (negligible under "
                f"{limits.negligible:g}, strong from {limits.strong:g}) are a probability's, read on {whose} own "
                "scale, where 0.1 need not be much")

    @property
    def model_caveats(self) -> tuple[str, ...]:
        """What loading the models had to guess (an uploaded one-output model read as a probability), one each."""
        return tuple(model.caveat for model in self.models if model.caveat)

    @property
    def domain_notes(self) -> tuple[str, ...]:
        """What the models say of an image they were not made for, each once (the caveat says them before the
        answer; a study keeps them with its images' notes)."""
        return tuple(dict.fromkeys(model.domain for model in self.models if model.domain))

    @cached_property
    def unadjusted_notes(self) -> tuple[str, ...]:
        """Where the outputs of interest, over every model of the run, are so many that some would pass alpha by chance
        alone: how many, and how many did. A run's own note: a comparison or a screen adjusts its rows and says so
        itself."""
        # Counted over the run's models together: four models' one output each at alpha = 0.5 said "about 0.5 would
        # pass by chance alone" four times, once per model, where two of the four would.
        tests = [score for model in self.models for score in model.scores if not score.vector]
        tested = len(tests)
        if tested * self.alpha < 0.5:  # a false positive is a remote chance
            return ()
        passed = sum(score.significant for score in tests)
        # Short names joined in words: the bundled models' own names hold commas ("ConvMixer cats vs dogs, unbiased
        # (authors), ConvMixer cats vs dogs, dark-cats bias (authors), ..." read as six models).
        short = short_names([model.name for model in self.models])
        whose = (self.models[0].name if len(self.models) == 1 else
                 f"{len(self.models)} models ({listed([short[model.name] for model in self.models])})")
        return (f"{tested:,} outputs of {whose} were tested, each at alpha = {self.alpha:g}, and their p-values are "
                f"not adjusted for one another: about {tested * self.alpha:.3g} would pass by chance alone ({passed:,} "
                "did); rank them by what each output did (the tiers), or screen properties, whose p-values are "
                "adjusted over the rows",)

    def model(self, name: str) -> ModelExplanation:
        for model in self.models:
            if model.name == name:
                return model
        raise KeyError(f"no model named {name!r}; have {[m.name for m in self.models]}")


def _resolve_outputs(selection, model: Model, outputs: np.ndarray) -> list[int]:
    names = list(model.output_names)
    if selection is None or (isinstance(selection, str) and selection == PREDICTED):
        return [int(prediction_flips(outputs[0]).predicted[0])] if len(names) > 1 else [0]
    if isinstance(selection, str) and selection == ALL:
        return list(range(len(names)))
    if isinstance(selection, str) and selection == VECTOR:
        if len(names) < 2:
            raise ValueError(f"`outputs_of_interest`: 'vector' scores the change of the whole output vector, but "
                             f"model {model.name!r} returns one output ({names[0]!r}); use 'predicted' for it")
        return [int(prediction_flips(outputs[0]).predicted[0])]
    chosen = [selection] if isinstance(selection, (str, int, np.integer)) else list(selection)
    if not chosen:
        raise ValueError(f"`outputs_of_interest` for model {model.name!r} is empty")
    indices = []
    for item in chosen:
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            if not 0 <= item < len(names):
                raise ValueError(
                    f"`outputs_of_interest`: index {item} is out of range for model {model.name!r} "
                    f"with {len(names)} outputs"
                )
            indices.append(int(item))
        elif isinstance(item, str) and item in names:
            indices.append(names.index(item))
        else:
            include = in_words(names, most=5)
            close = near_names(item, names) if isinstance(item, str) else []
            guess = f"did you mean {in_words(close, last='or')}? Its" if close else "its"
            raise ValueError(f"`outputs_of_interest`: {shown(item)} is not an output of model {model.name!r}; {guess} "
                             f"outputs include {include}; an index works too")
    return list(dict.fromkeys(indices))


def check_named_outputs(selection, model: Model) -> None:
    """Refuse names or indices in ``selection`` that are not outputs of ``model``, before any series is made: a study
    checks them in its driver (a misspelt class failed every item, after all of them ran). Keywords pass: what
    'predicted' picks depends on the image."""
    if selection is not None and not isinstance(selection, str):
        _resolve_outputs(selection, model, None)


def _is_vector(selection) -> bool:
    return isinstance(selection, str) and selection == VECTOR


def _is_model(value) -> bool:
    # Duck-typed: ``output_kind`` may be left out (probabilities), which the Protocol's isinstance would refuse.
    return hasattr(value, "name") and hasattr(value, "output_names") and callable(getattr(value, "predict", None))


def _checked_models(models) -> list[Model]:
    """``models`` as a list of models; a model's name in their place (the first thing one tries) says how to load it."""
    if isinstance(models, str) or _is_model(models):
        models = [models]
    try:
        models = list(models)
    except TypeError:
        raise TypeError(f"`models` must be a model or a list of models, got {type(models).__name__}") from None
    if not models:
        raise ValueError("`models` is empty: choose at least one model")
    for model in models:
        if isinstance(model, str):
            raise TypeError(f"`models`: {model!r} is a name, not a model; load it first, e.g. "
                            f"propgrad.models.get_model({model!r}) (`python -m propgrad models` lists the names)")
        if not _is_model(model):
            raise TypeError(f"`models`: an object of type {type(model).__name__} is not a model (a model has `name`, "
                            f"`output_names` and `predict(images)`, see propgrad.models.Model)")
    return models


def _series_given(intervention) -> list[InterventionSeries]:
    """Series an intervention already made (from a cache, say); anything else names what ``explain`` takes."""
    what = ("an intervention (e.g. ParametricEdit('darken', stop=0.85, steps=11), Region, PatchBlend, "
            "InstructPix2PixSweep, Frames) or the list of InterventionSeries one made")
    if isinstance(intervention, str):
        raise TypeError(f"`intervention`: {intervention!r} is a name, not an intervention; give {what}")
    try:
        series = list(intervention)
    except TypeError:
        raise TypeError(f"`intervention` is of type {type(intervention).__name__}; give {what}") from None
    strays = [type(one).__name__ for one in series if not isinstance(one, InterventionSeries)]
    if strays:
        raise TypeError(f"`intervention` is a list of {strays[0]}; give {what}")
    return series


def _check_series(series: list[InterventionSeries]) -> None:
    if not series:
        raise ValueError("the intervention produced no series")
    lengths = {len(one) for one in series}
    if len(lengths) != 1:
        raise ValueError(f"all series must have the same number of steps, got {sorted(lengths)}")
    if len(series[0]) < MIN_STEPS:
        raise ValueError(f"an intervention needs at least {MIN_STEPS} steps, got {len(series[0])}")


def _predict(model: Model, series: list[InterventionSeries]) -> np.ndarray:
    """One batched call over every image of every series -> (series, steps, k)."""
    images = [image for one in series for image in one.images]
    outputs = model_outputs(model, images)
    return outputs.reshape(len(series), len(series[0]), len(model.output_names))


def model_outputs(model: Model, images: Sequence[Image.Image]) -> np.ndarray:
    """``model.predict(images)`` as float64 (images, outputs), checked: one row per image, one column per output
    name, every value finite."""
    outputs = np.asarray(model.predict(images), dtype=np.float64)
    k = len(model.output_names)
    if outputs.shape != (len(images), k):
        raise ValueError(
            f"model {model.name!r} returned outputs of shape {outputs.shape}, expected {(len(images), k)}"
        )
    bad = int(np.sum(~np.all(np.isfinite(outputs), axis=1)))
    if bad:
        raise ValueError(f"model {model.name!r} returned NaN or infinite outputs for {bad} of {len(images)} images; "
                         "its weights may be broken, or it needs other preprocessing (input size, mean, std): "
                         "check the model on one image, or choose another")
    return outputs


def said_by(model: Model, attribute: str) -> str:
    """What ``model`` says of itself in words, where it says it: its ``description`` (what it is;
    :func:`propgrad.models.registry.get_model` gives the registered models theirs) or its ``caveat`` (what loading it
    had to guess, set by :func:`propgrad.models.files.load_model_file`)."""
    text = getattr(model, attribute, "")
    return text if isinstance(text, str) else ""


def domain_note(model: Model, image: Image.Image) -> str:
    """What ``model`` says of ``image`` where it was not made for such pictures (its ``domain_caveat(image)``, where
    it has one: the lesion models on a photo), else ""."""
    check = getattr(model, "domain_caveat", None)
    domain = check(image) if callable(check) else None
    return domain if isinstance(domain, str) else ""


def vector_label(n_outputs: int) -> str:
    """What the vector score's output is called in tables."""
    return f"vector (all {n_outputs} outputs)"


def _vector_null(outputs: np.ndarray, n_permutations: int, rng: np.random.Generator) -> np.ndarray:
    """Null of the vector score: half the sum over outputs of each shuffle's E[|grad|], (n_permutations,)."""
    chunks = [0.5 * null_distribution(outputs, min(_VECTOR_CHUNK, n_permutations - start), rng).sum(axis=1)
              for start in range(0, n_permutations, _VECTOR_CHUNK)]
    return np.concatenate(chunks)


def score_outputs(
    name: str,
    output_names: Sequence[str],
    output_kind: str,
    outputs: np.ndarray,
    indices: Sequence[int],
    n_permutations: int,
    alpha: float,
    rng: np.random.Generator,
    statistic: str = GRADIENT,
    vector: bool = False,
    description: str = "",
    caveat: str = "",
    domain: str = "",
) -> ModelExplanation:
    """Scores, p-values and flips for precomputed outputs of shape (series, steps, k).

    With ``vector`` the one score is the mean over steps of half the L1 norm of the whole output vector's
    central-difference gradient, ``mean_t 0.5 * sum_c |np.gradient(y_c)_t|``, i.e. half the sum of every
    output's E[|grad_X F|]; each shuffle reorders all outputs together, as shuffling the images does. It is
    not the total-variation distance between neighbouring steps: np.gradient spans two steps inside the
    series, so a class that rises and falls again (one-hot A -> B -> C) scores 0.833, not 1. Half the L1 norm
    is kept over the L2 norm of the Jacobian column because it splits into the classes' own scores.
    """
    statistic = check_statistic(statistic)
    if vector and statistic != GRADIENT:
        raise ValueError(f"`outputs_of_interest`: 'vector' is scored with statistic='gradient' (the change between "
                         f"neighbouring steps); {statistic!r} measures one output against the step, so choose "
                         f"outputs for it")
    if vector:
        per_series = 0.5 * _gradient_magnitude(outputs).sum(axis=1, keepdims=True)  # (series, 1)
        null = _vector_null(outputs, n_permutations, rng)[:, None]
        observed = per_series.mean(axis=0)
        columns = [(0, vector_label(len(output_names)), int(indices[0]))]
    else:
        chosen = outputs[:, :, list(indices)]
        per_series = statistic_scores(chosen, statistic)  # (series, chosen)
        null = null_distribution(chosen, n_permutations, rng, statistic)
        observed = per_series.mean(axis=0)
        columns = [(position, str(output_names[index]), int(index)) for position, index in enumerate(indices)]
    pvalues = _pvalue(observed, null, DEFAULT_ALTERNATIVE[statistic])
    scores = []
    for position, label, index in columns:
        correlations = [] if vector else [step_correlation(outputs[s, :, index]) for s in range(outputs.shape[0])]
        finite = [c for c in correlations if np.isfinite(c)]
        scores.append(
            OutputScore(
                output=label,
                index=index,
                score=float(observed[position]),
                pvalue=float(pvalues[position]),
                significant=bool(pvalues[position] <= alpha),
                correlation=float(np.mean(finite)) if finite else float("nan"),
                series_scores=[float(v) for v in per_series[:, position]],
                null_distribution=null[:, position],
                statistic=statistic,
                vector=vector,
            )
        )
    flips = [prediction_flips(one) for one in outputs]
    return ModelExplanation(name, list(output_names), output_kind, outputs, scores, flips, description, caveat, domain)


def table_steady_trend(explanations, statistic: str) -> tuple:
    """(steady_trend, n_steps) for a table's note (:func:`propgrad.checks.too_few_permutations_for_table`): what a
    steady trend needs under ``statistic`` beyond the rows' longest series; no advice of that kind where a row has
    several series (the even ramp it is worked out on is one)."""
    explanations = list(explanations)
    single = all(len(result.series) == 1 for result in explanations)
    longest = max((result.n_steps for result in explanations), default=None)
    return (partial(steady_trend_need, statistic=statistic) if single else None), longest


def table_floor_note(rows, explanations: Mapping[str, "Explanation"], n_permutations: int, alpha: float,
                     adjustment: str, statistic: str) -> str | None:
    """:func:`propgrad.checks.too_few_permutations_for_table` for a ranked table (a comparison's, a screen's): its
    ``rows`` (each with ``pvalue`` and ``significant_adjusted``) adjusted together, the lowest floor their
    explanations' orders allow, and what a steady trend needs (:func:`table_steady_trend`)."""
    return too_few_permutations_for_table(
        len(rows), int(n_permutations), float(alpha), adjustment, sum(row.significant_adjusted for row in rows),
        min((row.pvalue for row in rows), default=None),
        min((result.orders_floor for result in explanations.values()), default=None),
        *table_steady_trend(explanations.values(), statistic))


def notes_of(explanations: Mapping[str, "Explanation"], *more: str | None) -> tuple[str, ...]:
    """The notes of several explanations by name (a comparison's properties, a screen's), then ``more`` (None left
    out). A note every explanation has is said once as it is; one that only some have names them ("hue, blur: with
    5 steps ..."): two such notes with different numbers read as a repetition, without saying which rows each
    was about."""
    where: dict[str, list[str]] = {}
    for name, result in explanations.items():
        for note in result.notes:
            if note not in result.unadjusted_notes:
                where.setdefault(note, []).append(name)
    said = [named_note(note, names, len(explanations)) for note, names in where.items()]
    return tuple(dict.fromkeys([*said, *(note for note in more if note)]))


def loaded_input(image) -> Image.Image | None:
    """``image`` as :func:`load_image` makes it: 8-bit RGB within the size limits. Greyscale, palette, 16-bit or
    transparent inputs, arrays, paths and bytes are loaded once, here, for every source; an image that is
    already loaded (the app's, or a comparison's for each property) is taken as it is, not copied again.
    It lives with the explanation, which every way of explaining passes through, so a comparison that loads its
    input here hands each property the same image without a second step into :mod:`propgrad.images`."""
    if image is None or (isinstance(image, Image.Image) and image.mode == "RGB"
                         and MIN_SIDE <= min(image.size) and max(image.size) <= MAX_SIDE):
        return image
    return load_image(image)


def explain(
    image: Image.Image | None,
    intervention: Intervention | Sequence[InterventionSeries],
    models: Model | Sequence[Model],
    *,
    outputs_of_interest=None,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    alpha: float = DEFAULT_ALPHA,
    seed: int | None = 0,
    statistic: str = GRADIENT,
    progress: ProgressFn = no_progress,
    gradual_criteria: GradualnessCriteria | None = None,
) -> Explanation:
    """Explain how the models' predictions for ``image`` depend on the intervened property.

    Parameters
    ----------
    image : PIL image or None
        The input; None for interventions that bring their own images (frames).
    intervention : Intervention or list of InterventionSeries
        The source of the gradual change, or series it already produced (e.g. from a cache).
    models : Model or list of Model
        Every model is run on every step of every series, in one batch each.
    outputs_of_interest : None, "predicted", "all", "vector", a name/index, a list of them, or a dict
        Which outputs to score; a dict maps model name to its own selection. Default: the class each
        model predicts on step 0. "vector" scores the whole output vector at once (half the L1 norm of its
        central-difference gradient, averaged over steps, see :func:`score_outputs`), for when no class is
        singled out.
    n_permutations, alpha, seed
        Shuffle test settings; the same seed gives the same p-values.
    statistic : {"gradient", "correlation", "mutual-information"}
        What is measured and tested (see :mod:`propgrad.score`): the paper's E[|grad_X F|] (default),
        |Pearson r| with the step, or a KSG mutual information.
    progress : callable(fraction, message)
        Called as the intervention and the models run.
    gradual_criteria : GradualnessCriteria, optional
        Thresholds of the per-series gradualness check (default: rho >= 0.9 or an ordered series,
        no step above half of the change).

    Examples
    --------
    >>> from propgrad import ParametricEdit, explain, load_image
    >>> from propgrad.models import EfficientNetLite0
    >>> from propgrad.paths import ASSETS
    >>> image = load_image(ASSETS / "examples" / "chelsea.jpg")
    >>> result = explain(image, ParametricEdit("brightness", stop=0.2, steps=6), EfficientNetLite0(),
    ...                  n_permutations=1000)
    >>> best = result.models[0].output_of_interest
    >>> best.output, best.score > 0, 0 < best.pvalue <= 1
    ('Egyptian cat', True, True)
    """
    # 1. Validate the settings; refuse work that cannot fit in memory before any of it is allocated.
    check_shuffle_settings(n_permutations, alpha, seed)
    check_shuffle_memory(n_permutations)
    statistic = check_statistic(statistic)
    selections = outputs_of_interest.values() if isinstance(outputs_of_interest, dict) else [outputs_of_interest]
    if statistic != GRADIENT and any(_is_vector(one) for one in selections):
        raise ValueError(f"`outputs_of_interest`: 'vector' is scored with statistic='gradient' (the change between "
                         f"neighbouring steps); {statistic!r} measures one output against the step, so choose "
                         f"outputs for it")
    image = loaded_input(image)  # the interventions take that image as it is
    described = describe_input(image)
    models = _checked_models(models)
    names = [model.name for model in models]
    if len(set(names)) != len(names):
        raise ValueError(f"model names must be unique, got {names}")

    # 2. Produce the intervention series.
    if isinstance(intervention, Intervention):
        name = intervention.name
        check_series_memory(intervention, None if image is None else image.size)
        series = intervention.series(image, progress=lambda f, m="": progress(0.7 * f, m))
    else:
        series = _series_given(intervention)
        name = series[0].property_name if series else "series"
    _check_series(series)
    if described is None and all(SOURCE_KEY in frame.info for frame in series[0].images):
        # Frames read from files bring their own images: each one's file and SHA-256 names the input. (Series made
        # in memory, a training run's patch ramps, name no file, and hashing their pixels per checkpoint is waste.)
        frames = [describe_input(frame) for frame in series[0].images]
        # What loading changed, said once for the frames (transparent frames each carried it): the notes read it.
        notes = list(dict.fromkeys(note for frame in frames for note in frame.pop("notes", [])))
        described = {"frames": frames, **({"notes": notes} if notes else {})}
    if gradual_criteria is not None and not isinstance(gradual_criteria, GradualnessCriteria):
        raise TypeError(f"`gradual_criteria` must be a GradualnessCriteria or None, "
                        f"got {type(gradual_criteria).__name__}")
    # The series itself, before any model: does the property change step by step?
    gradualness = [assess(one.images, one.mask, gradual_criteria) for one in series]

    # 3. Run every model on every step, then score. Each model gets its own generator from the seed,
    # so its p-values do not depend on which other models run beside it.
    results = []
    for number, model in enumerate(models):
        progress(0.7 + 0.3 * number / len(models), f"running {model.name}")
        outputs = _predict(model, series)
        selection = outputs_of_interest.get(model.name) if isinstance(outputs_of_interest, dict) else outputs_of_interest
        indices = _resolve_outputs(selection, model, outputs)
        check_shuffle_memory(n_permutations, 1 if _is_vector(selection) else len(indices))
        results.append(
            score_outputs(
                model.name, model.output_names, getattr(model, "output_kind", PROBABILITY),
                outputs, indices, int(n_permutations), alpha, _rng(seed), statistic, _is_vector(selection),
                said_by(model, "description"), said_by(model, "caveat"), domain_note(model, series[0].images[0]),
            )
        )
    progress(1.0, "done")
    return Explanation(
        intervention=name,
        property_name=series[0].property_name,
        series=series,
        models=results,
        n_permutations=int(n_permutations),
        alpha=float(alpha),
        seed=seed,
        gradualness=gradualness,
        statistic=statistic,
        input=described,
    )
