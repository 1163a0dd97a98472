"""Compare several properties of one image in one run (the paper's Table 1): one explanation per property.

Each property is an intervention (typically the same edit restricted to different regions, e.g. "fur
(object): darken" and "background: darken"); every model is scored on every property with
:func:`propgrad.explain.explain`. The result is a table with rows = properties, ranked by the rule of
:mod:`propgrad.ranking` (a property stands where its best row, over models and outputs, stands: the tier of
what the output did, then how far it moved), and per model the statistic, p-value, significant (S), flips (F)
and the reading.

With more than two properties the comparison is a screen of candidate properties for one image, and
screening many raises the chance that one looks significant by luck. So every p-value is also shown
adjusted for multiple testing with the Benjamini-Hochberg procedure (:func:`propgrad.statistics.adjust_pvalues`,
the numbers of ``scipy.stats.false_discovery_control``), which controls the false discovery rate, over the whole
table: every (property, model, output) test is one member of the family.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .checks import check_shuffle_settings
from .explain import Explanation, explain, loaded_input, notes_of, table_floor_note
from .interventions.base import Intervention, ProgressFn, no_progress
from .answer import Answered
from .models.base import Model
from .ranking import rank_key
from .reading import Reading, rank_note, read_output, step_places
from .score import DEFAULT_ALPHA, DEFAULT_PERMUTATIONS, GRADIENT, STATISTIC_LABELS, PredictionFlips
from .statistics import ADJUSTMENTS, adjust_pvalues

# The Screen's default, named as the Screen names it; like a screen's, over every row of the table (the pages say so
# with the count of rows).
ADJUSTMENT = ADJUSTMENTS["bh"]


@dataclass(frozen=True)
class PropertyScore:
    """One property x model x output of interest: the cells of one table row for one model."""

    property: str
    model: str
    output: str
    score: float
    pvalue: float
    pvalue_adjusted: float
    significant: bool  # S: the raw p-value <= alpha, as in the paper
    significant_adjusted: bool  # the Benjamini-Hochberg adjusted p-value <= alpha
    flipped: bool  # F: the predicted class changes somewhere along the series
    flips: tuple[PredictionFlips, ...] = field(repr=False)  # per series: where the class changes
    output_names: tuple[str, ...] = field(repr=False)  # the model's, to name the classes of `flips`
    # This model and output read with the adjusted p-value (several tests: systematic = significant after it).
    reading: Reading = field(repr=False, default=None)
    output_kind: str = "probability"  # the model's: a flip's lead is a near tie only among probabilities
    # Each step's place in words, as the reading names it (:func:`~propgrad.reading.step_places`; None: steps only).
    places: tuple[str, ...] | None = field(repr=False, default=None)

    @property
    def change(self) -> float:
        """How far the output's mean curve moved (highest - lowest value)."""
        return self.reading.change

    @property
    def tier(self) -> str:
        return self.reading.tier


@dataclass(frozen=True)
class PropertyComparison(Answered):
    """Every property's explanation and the ranked table.

    ``explanations`` keeps the properties in the order given; ``scores`` has one entry per property, model and
    output of interest, ranked by the rule of :mod:`propgrad.ranking` (tier, then change; ties keep the given
    order); ``properties`` is the given order ranked by each property's best row.
    """

    explanations: dict[str, Explanation]
    properties: list[str]
    scores: list[PropertyScore]
    alpha: float
    n_permutations: int
    seed: int | None
    adjustment: str = ADJUSTMENT
    notes: tuple[str, ...] = field(default=())
    statistic: str = GRADIENT
    outputs_of_interest: object = None  # as given: a named output lets the models be contrasted
    # The note where the adjustment over the table puts the shuffle test's floor above alpha (one of ``notes``).
    floor_note: str | None = None

    @property
    def ranked_rows(self) -> list[PropertyScore]:
        """The rows, ranked (what :class:`~propgrad.answer.Answered` reads)."""
        return self.scores

    @property
    def readings(self) -> list:
        """Each row's reading (made once, with the row), in the rows' order."""
        return [entry.reading for entry in self.scores]

    @property
    def models(self) -> list[str]:
        return [model.name for model in next(iter(self.explanations.values())).models]

    def score(self, property: str, model: str, output: str | None = None) -> PropertyScore:
        """The cell of ``property`` and ``model`` (and ``output`` when a model has several)."""
        for entry in self.scores:
            if entry.property == property and entry.model == model and output in (None, entry.output):
                return entry
        raise KeyError(f"no score for property {property!r}, model {model!r}"
                       f"{'' if output is None else f', output {output!r}'}")

    def table(self) -> tuple[list[str], list[list]]:
        """(headers, rows): one row per property, ranked; per model and output the change, the statistic, p,
        adjusted p, significant (the paper's S: p <= alpha) and flips (its F), titled in words as every table is.

        Values stay numbers and booleans, for the app or a data frame to format.

        Examples
        --------
        >>> headers, rows = comparison.table()  # doctest: +SKIP
        >>> headers[:7]  # doctest: +SKIP
        ['property', 'unbiased: change', 'unbiased: E[|grad_X F|]', 'unbiased: p', 'unbiased: adjusted p', ...]
        """
        # The models and outputs in the order given (the rows are ranked one by one: their order would put the
        # top-ranked model's columns first, a different order for every input).
        columns = list(dict.fromkeys((model.name, score.output) for result in self.explanations.values()
                                     for model in result.models for score in model.scores))
        several = len({output for _, output in columns}) > 1
        headers = ["property"]
        label = STATISTIC_LABELS[self.statistic]
        for model, output in columns:
            name = f"{model} | {output}" if several else model
            headers += [f"{name}: change", f"{name}: {label}", f"{name}: p", f"{name}: adjusted p",
                        f"{name}: significant", f"{name}: flips"]
        rows = []
        for prop in self.properties:
            row: list = [prop]
            for model, output in columns:
                cell = self.score(prop, model, output)
                row += [cell.change, cell.score, cell.pvalue, cell.pvalue_adjusted, cell.significant, cell.flipped]
            rows.append(row)
        return headers, rows


def _check_interventions(interventions) -> dict[str, Intervention]:
    if not isinstance(interventions, Mapping):
        raise TypeError("`interventions` must be a dict {property name: intervention}, got "
                        f"{type(interventions).__name__}")
    if len(interventions) < 1:
        raise ValueError("`interventions` is empty: give at least one {property name: intervention}")
    checked = {}
    for name, intervention in interventions.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"`interventions`: property names must be non-empty strings, got {name!r}")
        if not isinstance(intervention, Intervention):
            raise TypeError(f"`interventions`: {name!r} is a {type(intervention).__name__}, not an intervention "
                            f"(a ParametricEdit, Region, PatchBlend...)")
        checked[name.strip()] = intervention
    if len(checked) != len(interventions):
        raise ValueError("`interventions`: property names must differ after stripping spaces")
    return checked


def compare_properties(
    image,
    interventions: Mapping[str, Intervention],
    models: Model | Sequence[Model],
    *,
    outputs_of_interest=None,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    alpha: float = DEFAULT_ALPHA,
    seed: int | None = 0,
    gradual_criteria=None,
    statistic: str = GRADIENT,
    progress: ProgressFn = no_progress,
) -> PropertyComparison:
    """Explain ``image`` under every intervention with the same models and settings, and rank the properties.

    Parameters
    ----------
    image : PIL image, array or path
        The input (step 0 of every property's series).
    interventions : dict {property name: Intervention}
        One entry per property, e.g. ``{"fur (object): darken": Region(edit, "object"),
        "background: darken": Region(edit, "background")}``.
    models, outputs_of_interest, n_permutations, alpha, seed, statistic
        As for :func:`propgrad.explain.explain`; every property uses the same seed, so a difference
        between properties is never a difference between shuffles.
    gradual_criteria : GradualnessCriteria, optional
        Thresholds of every series' gradualness check (see :mod:`propgrad.gradualness`).
    progress : callable(fraction, message)
        Called as the properties are explained.

    Returns
    -------
    PropertyComparison
        ``explanations`` per property, the ranked ``scores`` with Benjamini-Hochberg adjusted p-values,
        and ``notes`` (e.g. a resized mask) gathered from every series.

    Examples
    --------
    >>> from propgrad.interventions import ParametricEdit, Region
    >>> darken = ParametricEdit("darken", stop=0.85, steps=11)
    >>> comparison = compare_properties(image, {"fur (object): darken": Region(darken, "object"),
    ...                                         "background: darken": Region(darken, "background")},
    ...                                 models, outputs_of_interest="cat")  # doctest: +SKIP
    >>> [(s.property, s.model, round(s.score, 3), s.flipped) for s in comparison.scores]  # doctest: +SKIP
    """
    # 1. Validate once, here, before the first property's series is made.
    check_shuffle_settings(n_permutations, alpha, seed)
    checked = _check_interventions(interventions)
    if image is None:  # every property starts from it: say so before the first one runs
        raise ValueError("`image` is missing: provide an image")
    image = loaded_input(image)
    models = [models] if isinstance(models, Model) else list(models)

    # 2. One explanation per property, the same models, outputs and seed for each.
    explanations: dict[str, Explanation] = {}
    for number, (name, intervention) in enumerate(checked.items()):
        share = 1.0 / len(checked)

        def report(fraction, message="", number=number, name=name):
            progress((number + fraction) * share, f"{name}: {message}" if message else name)

        explanations[name] = explain(image, intervention, models, outputs_of_interest=outputs_of_interest,
                                     n_permutations=n_permutations, alpha=alpha, seed=seed, statistic=statistic,
                                     gradual_criteria=gradual_criteria, progress=report)

    # 3. The table: every (property, model, output) test, p-values adjusted together.
    raw = []
    for name, result in explanations.items():
        for model in result.models:
            for score in model.scores:
                raw.append((name, model, score))
    adjusted = adjust_pvalues([score.pvalue for _, _, score in raw], "bh")
    places = {name: step_places(result) for name, result in explanations.items()}
    entries = [
        PropertyScore(property=name, model=model.name, output=score.output, score=score.score,
                      pvalue=score.pvalue, pvalue_adjusted=float(p_adj), significant=score.significant,
                      significant_adjusted=bool(p_adj <= alpha), flipped=any(f.flipped for f in model.flips),
                      flips=tuple(model.flips), output_names=tuple(model.output_names),
                      output_kind=model.output_kind, places=places[name],
                      reading=read_output(explanations[name], model, score, property_label=name,
                                          significant=bool(p_adj <= alpha), pvalue=float(p_adj),
                                          pvalue_name="adjusted p"))
        for (name, model, score), p_adj in zip(raw, adjusted)
    ]

    # 4. Rank the rows (propgrad.ranking: tier, then change; stable), and the properties by their best row: the
    # table's first row is the strongest effect whatever property it belongs to.
    entries.sort(key=lambda entry: rank_key(entry.reading))
    best = {name: min(rank_key(e.reading) for e in entries if e.property == name) for name in explanations}
    properties = sorted(explanations, key=lambda name: best[name])
    floor_note = table_floor_note(entries, explanations, n_permutations, alpha, "bh", statistic)
    progress(1.0, "done")
    notes = notes_of(explanations, floor_note, rank_note(entries))
    return PropertyComparison(explanations=explanations, properties=properties, scores=entries, alpha=float(alpha),
                              n_permutations=int(n_permutations), seed=seed, notes=notes, statistic=statistic,
                              outputs_of_interest=outputs_of_interest, floor_note=floor_note)


def edit_label(edit: Intervention) -> str:
    """What an edit is called in a property's name: a parametric edit's kind ("darken" reads better than
    "darken edit"), else the intervention's own name."""
    return getattr(edit, "kind", None) or edit.name


def region_comparison(image, edit: Intervention, models, *, feather: float = 0.0, property_label: str | None = None,
                      **kwargs) -> PropertyComparison:
    """The same edit on the salient object and on the background: the paper's fur-vs-background experiment.

    Property names read "object: <edit>" and "background: <edit>" (a parametric edit's kind, e.g. "object:
    darken"; ``property_label`` replaces it). Other keyword arguments go to :func:`compare_properties`.

    Examples
    --------
    >>> comparison = region_comparison(image, ParametricEdit("darken", stop=0.85, steps=11), models,
    ...                                outputs_of_interest="cat")  # doctest: +SKIP
    """
    from .interventions.region import BACKGROUND, OBJECT, Region

    what = property_label or edit_label(edit)
    interventions = {f"{where}: {what}": Region(edit, where, feather=feather) for where in (OBJECT, BACKGROUND)}
    return compare_properties(image, interventions, models, **kwargs)
