"""Which property does the model use? Screen many candidate properties of one image and rank them.

By default the candidates are every registered parametric edit (brightness, contrast, saturation, hue,
blur, rotation, darken, lighten, each recolour) crossed with the regions "whole image", "object" and
"background" where the edit makes sense there (rotation only on the whole image: rotating the pixels
under a fixed mask tears the region's border); a user restricts the edits, the regions or the names,
adds masks as regions, and adds whole interventions (patches, InstructPix2Pix instructions...).

What makes a screen of N properties cheaper than N :func:`~propgrad.explain.explain` runs:

1. the segmenter runs once per image (and a mask that cannot be made skips its rows with a note);
2. each edit runs once on the whole image; its object and background series are composites of those
   very steps with the masks (what :class:`~propgrad.interventions.region.Region` would compute again);
3. each model runs once over every series' images, batched, with the unedited image (step 0 of every
   series) predicted once;
4. the shuffle tests are the same as explain's, with one generator per model from the seed, so a
   property's p-value is what :func:`~propgrad.explain.explain` would give it with the same seed.

Every (property, model, output) test is one member of the family whose p-values are adjusted together,
with Benjamini-Hochberg (false discovery rate; :func:`propgrad.statistics.adjust_pvalues`) by default or Holm
(family-wise error rate) on request.

Rows are ranked by what the output really did, not by p (:mod:`propgrad.ranking`): tier a (the output of
interest's mean curve moved strongly and systematically, or in one dominant step, or the prediction flips),
then b (small but systematic), c (moved, not significant), d (systematic but negligible), e (no measurable
effect); within a tier, by the change (the mean curve's highest minus lowest value). A perfectly smooth 1e-6
drift earns the smallest p-value a shuffle test can give, and a single late jump that flips the prediction
cannot be judged by any shuffle test; ranking by p put the first above the second. Every row carries its
reading (:mod:`propgrad.reading`), made once with the screen and read with the adjusted p-value (among many tests,
"systematic" means significant after adjustment), and its p and adjusted p.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .checks import check_shuffle_settings, is_whole_number
from .compare import edit_label
from .errors import ArgumentError, ModelUnavailableError, in_words, not_all_of, not_one_of
from .explain import (
    VECTOR,
    Explanation,
    ModelExplanation,
    _is_vector,
    _resolve_outputs,
    domain_note,
    model_outputs,
    notes_of,
    said_by,
    score_outputs,
    table_floor_note,
)
from .images import describe_input, load_image
from .limits import LIMITS, check_shuffle_memory
from .interventions.base import Intervention, InterventionSeries, ProgressFn, no_progress
from .interventions.parametric import EDITS, ParametricEdit
from .interventions.region import BACKGROUND, OBJECT, RegionMask, composite, resolve_region
from .models.base import PROBABILITY, Model
from .ranking import ranked
from .answer import Answered
from .reading import Reading, flips_text, rank_note, read_output, step_places
from .score import DEFAULT_ALPHA, DEFAULT_PERMUTATIONS, GRADIENT, _rng, check_statistic
from .statistics import ADJUSTMENTS, adjust_pvalues

WHOLE = "whole image"
REGIONS = (WHOLE, OBJECT, BACKGROUND)
# Edits that only make sense on the whole image.
WHOLE_ONLY = {"rotation"}
DEFAULT_STEPS = 10
# The app's bound on a screen's size (the package has none unless asked): the table of limits' app column.
APP_LIMIT = LIMITS["properties"].app


@dataclass(frozen=True)
class ScreenRow:
    """One property x model x output of interest, ranked (:func:`propgrad.ranking.rank_key`).

    ``change`` is how far the output's mean curve moved (highest - lowest value), ``tier`` the ranking tier
    ("a" to "e") and ``reading`` the reading of this model and output, with the adjusted p-value.
    """

    rank: int
    property: str
    edit: str
    region: str
    model: str
    output: str
    statistic: str
    score: float
    pvalue: float
    pvalue_adjusted: float
    significant: bool  # the raw p-value <= alpha
    significant_adjusted: bool  # the adjusted p-value <= alpha
    flipped: bool
    flips: str
    reading: Reading
    change: float
    tier: str


@dataclass(frozen=True)
class Screen(Answered):
    """The ranked table, each property's explanation (for strips and reports), and what was skipped."""

    rows: list[ScreenRow]
    explanations: dict[str, Explanation]
    statistic: str
    adjustment: str
    alpha: float
    n_permutations: int
    seed: int | None
    skipped: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    outputs_of_interest: object = None  # as given: a named output lets the models be contrasted
    input: dict | None = None  # the input's file name and SHA-256, and size
    # Properties dropped for an error (not left out by design, as ``skipped`` are): the command line exits 3.
    failed: tuple[str, ...] = ()
    # The note where the adjustment over the table puts the shuffle test's floor above alpha (one of ``notes``).
    floor_note: str | None = None

    @property
    def ranked_rows(self) -> list[ScreenRow]:
        """The rows, ranked (what :class:`~propgrad.answer.Answered` reads)."""
        return self.rows

    @property
    def models(self) -> list[str]:
        """Model names in the order given."""
        return [model.name for model in next(iter(self.explanations.values())).models]

    @property
    def properties(self) -> list[str]:
        """Property names in rank order (by their best row)."""
        return list(dict.fromkeys(row.property for row in self.rows))

    def top(self, n: int = 5) -> list[ScreenRow]:
        """The first ``n`` rows with distinct properties."""
        seen, rows = set(), []
        for row in self.rows:
            if row.property not in seen:
                seen.add(row.property)
                rows.append(row)
            if len(rows) == n:
                break
        return rows


@dataclass(frozen=True)
class _Candidate:
    name: str
    edit: str
    region: str
    intervention: Intervention | None = None  # a user's own intervention; None for edit x region


def _names(value, argument: str) -> list[str] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    if not items:
        raise ValueError(f"`{argument}` is empty: give at least one, or None for all")
    names = [str(item).strip() for item in items]
    if len(set(names)) != len(names):  # else a 10,000-name list ends in a long message that blames `add`
        counts = Counter(names)
        repeated = [name for name, count in counts.items() if count > 1]
        raise ValueError(f"`{argument}` names {', '.join(map(repr, repeated[:3]))}"
                         f"{' and others' if len(repeated) > 3 else ''} more than once")
    return names


def _check_choice(chosen: list[str], valid: Sequence[str], argument: str) -> None:
    unknown = [item for item in chosen if item not in valid]
    if unknown:
        raise not_all_of(argument, unknown, valid)


def property_name(edit: str, region: str) -> str:
    """How a candidate is called: "object: darken", "whole image: blur"."""
    return f"{region}: {edit}"


def candidate_properties(edits=None, regions=None, masks: Mapping | None = None) -> list[str]:
    """The names of the candidate properties a screen with these choices would test.

    Parameters
    ----------
    edits : list of str, optional
        Registered edit names (``propgrad.interventions.EDITS``); default: all of them.
    regions : list of str, optional
        Any of "whole image", "object", "background"; default: all three.
    masks : dict {label: mask}, optional
        More regions (a file, array or PIL image as :func:`~propgrad.interventions.region.resolve_region`
        reads them), crossed with the edits like "object".

    Examples
    --------
    >>> len(candidate_properties())  # doctest: +SKIP
    34
    >>> candidate_properties(edits=["darken", "rotation"])
    ['whole image: darken', 'object: darken', 'background: darken', 'whole image: rotation']
    """
    return [c.name for c in _candidates(edits, regions, masks, None)]


def _candidates(edits, regions, masks, extra) -> list[_Candidate]:
    edits = _names(edits, "edits")
    regions = _names(regions, "regions")
    if edits is not None:
        _check_choice(edits, sorted(EDITS), "edits")
    if regions is not None:
        _check_choice(regions, REGIONS, "regions")
    mask_labels = [str(label) for label in (masks or {})]
    clash = [label for label in mask_labels if label in REGIONS]
    if clash:
        what, it = ("are names of built-in regions", "them") if len(clash) > 1 else ("is the name of a built-in region", "it")
        raise ValueError(f"`masks`: {in_words(clash)} {what} ({in_words(REGIONS, 'or')}); rename {it}")
    candidates = []
    for edit in edits or list(EDITS):
        for region in (regions or list(REGIONS)) + mask_labels:
            if region != WHOLE and edit in WHOLE_ONLY:
                continue
            candidates.append(_Candidate(property_name(edit, region), edit, region))
    for name, intervention in (extra or {}).items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"`add`: property names must be non-empty strings, got {name!r}")
        if not isinstance(intervention, Intervention):
            raise TypeError(f"`add`: {name!r} is a {type(intervention).__name__}, not an intervention "
                            f"(a PatchBlend, Region, InstructPix2PixSweep...)")
        candidates.append(_Candidate(name.strip(), edit_label(intervention), "user", intervention))
    names = [c.name for c in candidates]
    if len(set(names)) != len(names):
        raise ValueError(f"`add`: property names must be unique, and not those of the edits; got {names}")
    return candidates


def _segment(image: Image.Image, regions: set[str], masks: Mapping | None) -> tuple[dict[str, RegionMask], list[str]]:
    """Every region's mask, made once; a region that cannot be made is left out with the reason."""
    made, skipped = {}, []
    if OBJECT in regions or BACKGROUND in regions:
        try:
            obj = resolve_region(OBJECT, image, name="region")
        except (ModelUnavailableError, ValueError) as error:
            skipped += [f"{where}: every row skipped ({error})" for where in (OBJECT, BACKGROUND) if where in regions]
        else:
            made[OBJECT] = obj
            # The complement of the same mask, not a second segmentation.
            made[BACKGROUND] = RegionMask(np.ascontiguousarray(1.0 - obj.mask), BACKGROUND, obj.notes)
    for label, source in (masks or {}).items():
        made[str(label)] = resolve_region(source, image, name=f"masks[{label!r}]", label=str(label))
    return made, skipped


def _edit_series(image: Image.Image, edit: str, region: RegionMask | None,
                 whole: InterventionSeries) -> InterventionSeries:
    """The edit's series in a region: the whole-image steps composited with the mask (as Region does)."""
    if region is None:
        return whole
    images = [image.copy()] + [composite(image, edited, region.mask) for edited in whole.images[1:]]
    return InterventionSeries(images, whole.values.copy(), whole.property_name, label=f"{edit} in the {region.label}",
                              mask=region.mask, notes=region.notes)


def _same_image(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and a.mode == b.mode and a.tobytes() == b.tobytes()


def _predict_all(model: Model, image: Image.Image,
                 series: dict[str, list[InterventionSeries]]) -> dict[str, np.ndarray]:
    """One batched call per model over every series' images -> {property: (series, steps, k)}.

    Step 0 of a series that is the unedited image (pixel for pixel) is not sent again: its row is the
    original's, predicted once.
    """
    images = [image]
    slots: dict[str, list[list[int]]] = {}
    for name, group in series.items():
        slots[name] = []
        for one in group:
            row = []
            for step, picture in enumerate(one.images):
                if step == 0 and _same_image(picture, image):
                    row.append(0)
                else:
                    row.append(len(images))
                    images.append(picture)
            slots[name].append(row)
    outputs = model_outputs(model, images)
    return {name: outputs[np.asarray(rows)] for name, rows in slots.items()}


def screen(
    image,
    models: Model | Sequence[Model],
    properties: Sequence[str] | None = None,
    *,
    edits: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
    masks: Mapping | None = None,
    add: Mapping[str, Intervention] | None = None,
    steps: int = DEFAULT_STEPS,
    outputs_of_interest=None,
    statistic: str = GRADIENT,
    adjustment: str = "bh",
    n_permutations: int = DEFAULT_PERMUTATIONS,
    alpha: float = DEFAULT_ALPHA,
    seed: int | None = 0,
    limit: int | None = None,
    progress: ProgressFn = no_progress,
) -> Screen:
    """Test many candidate properties of ``image`` at once and rank them by what the output did (see the module).

    Parameters
    ----------
    image : PIL image, array or path
        The input; step 0 of every series.
    models : Model or list of Model
    properties : list of str, optional
        Keep only these candidate names (see :func:`candidate_properties`, and the names in ``add``).
    edits, regions, masks
        Which edits and regions to cross (see :func:`candidate_properties`); default: every edit, with
        the whole image, the object and the background.
    add : dict {property name: Intervention}, optional
        More properties: a PatchBlend, a Region with a painted mask, an InstructPix2PixSweep...
    steps : int
        Steps of every edit series, including the original.
    outputs_of_interest, statistic, n_permutations, alpha, seed
        As for :func:`propgrad.explain.explain` ("vector" scores each model's whole output vector).
    adjustment : {"bh", "holm"}
        Benjamini-Hochberg (false discovery rate, default) or Holm (family-wise error rate), over the table.
    limit : int, optional
        Refuse a screen of more properties than this (the app uses 40).
    progress : callable(fraction, message)

    Returns
    -------
    Screen
        ``rows`` ranked; ``explanations`` per property; ``skipped`` says which rows could not run and why.

    Examples
    --------
    >>> from propgrad.models.bundled import get_model
    >>> result = screen(image, get_model("EfficientNet-Lite0 (ImageNet)"), edits=["darken", "blur"],
    ...                 n_permutations=999)  # doctest: +SKIP
    >>> [(row.property, round(row.pvalue_adjusted, 3)) for row in result.top(3)]  # doctest: +SKIP
    """
    # 1. Validate everything before any work.
    statistic = check_statistic(statistic)
    if adjustment not in ADJUSTMENTS:
        raise not_one_of("adjustment", adjustment, ADJUSTMENTS)
    if not is_whole_number(steps, 3):
        raise ValueError(f"`steps` must be an integer of at least 3, got {steps!r}")
    check_shuffle_settings(n_permutations, alpha, seed)
    check_shuffle_memory(n_permutations)  # before any series is made (issue 26)
    if limit is not None and not is_whole_number(limit, 1):
        raise ValueError(f"`limit` must be a whole number of 1 or more (None from Python: no limit), got {limit!r}")
    models = [models] if isinstance(models, Model) else list(models)
    if not models:
        raise ValueError("`models` is empty: choose at least one model")
    if len({m.name for m in models}) != len(models):
        raise ValueError(f"model names must be unique, got {[m.name for m in models]}")
    selections = outputs_of_interest.values() if isinstance(outputs_of_interest, dict) else [outputs_of_interest]
    if statistic != GRADIENT and any(_is_vector(one) for one in selections):
        raise ValueError(f"`outputs_of_interest`: 'vector' is scored with statistic='gradient'; {statistic!r} "
                         f"measures one output against the step, so choose outputs for it")
    candidates = _candidates(edits, regions, masks, add)
    chosen = _names(properties, "properties")
    if chosen is not None:
        _check_choice(chosen, [c.name for c in candidates], "properties")
        candidates = [c for c in candidates if c.name in chosen]
    if not candidates:
        raise ValueError("no candidate property is left: widen `edits`, `regions` or `properties`")
    if limit is not None and len(candidates) > limit:
        raise ArgumentError("limit", f"is {limit}: this screen has {len(candidates)} properties; restrict the edits, "
                                     f"regions or properties", gloss="the most properties one screen runs")
    image = load_image(image)

    # 2. Masks once; rows whose region cannot be made are skipped with a note, the others run.
    progress(0.0, "segmenting")
    masks_made, skipped = _segment(image, {c.region for c in candidates}, masks)
    kept = [c for c in candidates if c.intervention is not None or c.region == WHOLE or c.region in masks_made]

    # 3. Each edit once on the whole image; regions composite those steps.
    series: dict[str, list[InterventionSeries]] = {}
    whole: dict[str, InterventionSeries] = {}
    failed: list[str] = []
    for number, candidate in enumerate(kept):
        progress(0.05 + 0.45 * number / len(kept), f"editing: {candidate.name}")
        if candidate.intervention is not None:
            try:
                series[candidate.name] = candidate.intervention.series(image)
            except ModelUnavailableError as error:  # e.g. InstructPix2Pix without its weights
                skipped.append(f"{candidate.name}: skipped ({error})")
            except Exception as error:  # the others still run; the command line's status says one failed
                failed.append(f"{candidate.name}: failed ({type(error).__name__}: {error})")
            continue
        if candidate.edit not in whole:
            whole[candidate.edit] = ParametricEdit(candidate.edit, steps=steps).series(image)[0]
        region = None if candidate.region == WHOLE else masks_made[candidate.region]
        series[candidate.name] = [_edit_series(image, candidate.edit, region, whole[candidate.edit])]
    for name, group in series.items():
        lengths = {len(one) for one in group}
        if len(lengths) != 1 or min(lengths) < 3:
            raise ValueError(f"property {name!r}: every series needs the same number of steps, at least 3; "
                             f"got {sorted(lengths)}")

    if not series:
        raise (RuntimeError if failed else ValueError)("no property could run: " + "; ".join(skipped + failed))

    # 4. Each model once over everything; then the same scoring as explain.
    per_model: dict[str, dict[str, ModelExplanation]] = {name: {} for name in series}
    for number, model in enumerate(models):
        progress(0.5 + 0.45 * number / len(models), f"running {model.name} on every series")
        outputs = _predict_all(model, image, series)
        selection = outputs_of_interest.get(model.name) if isinstance(outputs_of_interest, dict) \
            else outputs_of_interest
        first = next(iter(outputs.values()))
        indices = _resolve_outputs(selection, model, first)
        for name, values in outputs.items():
            per_model[name][model.name] = score_outputs(
                model.name, model.output_names, getattr(model, "output_kind", PROBABILITY), values, indices,
                int(n_permutations), float(alpha), _rng(seed), statistic, _is_vector(selection),
                said_by(model, "description"), said_by(model, "caveat"), domain_note(model, image))
    explanations = {
        name: Explanation(intervention=name, property_name=group[0].property_name, series=group,
                          models=[per_model[name][m.name] for m in models], n_permutations=int(n_permutations),
                          alpha=float(alpha), seed=seed, statistic=statistic, input=describe_input(image))
        for name, group in series.items()
    }

    # 5. The table: adjusted together, ranked by tier, then by the change (propgrad.ranking).
    kept = [c for c in kept if c.name in series]
    rows = _rows(kept, explanations, statistic, adjustment, float(alpha))
    floor_note = table_floor_note(rows, explanations, n_permutations, alpha, adjustment, statistic)
    notes = notes_of(explanations, floor_note, rank_note(rows))
    progress(1.0, "done")
    return Screen(rows=rows, explanations=explanations, statistic=statistic, adjustment=ADJUSTMENTS[adjustment],
                  alpha=float(alpha), n_permutations=int(n_permutations), seed=seed, skipped=tuple(skipped),
                  notes=notes, failed=tuple(failed), outputs_of_interest=outputs_of_interest, floor_note=floor_note,
                  input=describe_input(image))


def _rows(candidates: list[_Candidate], explanations: dict[str, Explanation], statistic: str, adjustment: str,
          alpha: float) -> list[ScreenRow]:
    raw = [(candidate, model, score) for candidate in candidates
           for model in explanations[candidate.name].models for score in model.scores]
    adjusted = adjust_pvalues([score.pvalue for _, _, score in raw], adjustment)
    # Each row is read with its adjusted p-value: among many tests, "systematic" means significant after
    # adjustment.
    readings = [read_output(explanations[candidate.name], model, score, property_label=candidate.name,
                            significant=bool(p_adj <= alpha), pvalue=float(p_adj), pvalue_name="adjusted p")
                for (candidate, model, score), p_adj in zip(raw, adjusted)]
    order = ranked(range(len(raw)), readings.__getitem__)
    places = {name: step_places(explanation) for name, explanation in explanations.items()}
    rows = []
    for rank, i in enumerate(order, start=1):
        candidate, model, score = raw[i]
        reading = readings[i]
        rows.append(ScreenRow(
            rank=rank, property=candidate.name, edit=candidate.edit, region=candidate.region, model=model.name,
            output=score.output, statistic=statistic, score=score.score, pvalue=score.pvalue,
            pvalue_adjusted=float(adjusted[i]), significant=score.significant,
            significant_adjusted=bool(adjusted[i] <= alpha), flipped=any(f.flipped for f in model.flips),
            flips=flips_text(model.flips, model.output_names, model.output_kind, places=places[candidate.name]),
            reading=reading,
            change=reading.change,
            tier=reading.tier))
    return rows


__all__ = ["ADJUSTMENTS", "APP_LIMIT", "REGIONS", "Screen", "ScreenRow", "WHOLE", "adjust_pvalues",
           "candidate_properties", "property_name", "screen", "VECTOR"]
