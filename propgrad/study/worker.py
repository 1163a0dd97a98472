"""One item -> its result rows: open the image, run the intervention, explain every model.

The same code runs in every engine (in-process, a process pool, a Ray actor); only who calls
:meth:`StudyWorker.run` differs. A worker builds its models and interventions once and keeps them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .items import StudyItem

OK, SKIPPED, FAILED = "ok", "skipped", "failed"

# results.csv: one row per image x intervention x model x output of interest.
RESULT_COLUMNS = ("item", "image", "label", "intervention", "model", "output", "score", "pvalue", "significant",
                  "flipped", "flip_share", "first_flip_step", "predicted_step0", "n_series", "output_start",
                  "output_end", "gradual_share", "image_sha256")
# curves.csv: one row per ... x series x step (long format: pandas.read_csv gives a tidy table).
CURVE_COLUMNS = ("item", "image", "intervention", "model", "output", "series", "series_flips", "series_changed",
                 "step", "property_value", "value")


@dataclass(frozen=True)
class ItemResult:
    """What one item produced: rows for results.csv and curves.csv, or why it has none."""

    index: int
    key: str
    status: str
    message: str = ""
    property_name: str = ""
    rows: list[dict] = field(default_factory=list)
    curves: list[dict] = field(default_factory=list)
    # The SHA-256 of the image file the rows were made from: a resumed study refuses a file that changed since.
    sha256: str = ""
    # What a reader should know about the image (transparency laid over white, a tiny picture): the summary says it.
    input_notes: tuple[str, ...] = ()


def _class_name(output_names: list[str], predicted: int) -> str:
    # A single output column predicts 0/1 by its threshold: class 0 has no name of its own.
    if len(output_names) == 1:
        return output_names[0] if predicted else f"not {output_names[0]}"
    return output_names[int(predicted)]


def input_sha256(explanation) -> str:
    """The image's SHA-256, one rule for results.csv and the journal: its file's, else its pixels' (a data set's
    row); a resumed study compares the file's with the file on disk."""
    described = explanation.input or {}
    return described.get("sha256") or described.get("pixels_sha256", "")


def explanation_rows(item: StudyItem, explanation) -> tuple[list[dict], list[dict]]:
    """The results.csv and curves.csv rows of one explained item."""
    rows, curves = [], []
    sha256 = input_sha256(explanation)
    common = {"item": item.key, "image": item.image.key, "intervention": item.intervention_label}
    for model in explanation.models:
        first_steps = [f.flip_steps[0] for f in model.flips if f.flip_steps]
        for score in model.scores:
            series = model.series_curves(score.index, score.vector)
            rows.append({
                **common, "image_sha256": sha256, "label": item.image.label, "model": model.name, "output": score.output,
                "score": score.score, "pvalue": score.pvalue, "significant": int(score.significant),
                "flipped": int(any(f.flipped for f in model.flips)),
                "flip_share": float(np.mean([f.flipped for f in model.flips])),
                "first_flip_step": min(first_steps) if first_steps else "",
                "predicted_step0": _class_name(model.output_names, model.flips[0].predicted[0]),
                "n_series": len(model.flips), "output_start": float(series[:, 0].mean()),
                "output_end": float(series[:, -1].mean()),
                # Share of this item's series that change gradually (a property of the series, not the model).
                "gradual_share": (float(np.mean([g.gradual for g in explanation.gradualness]))
                                  if explanation.gradualness else ""),
            })
            for number, (one, flips) in enumerate(zip(series, model.flips)):
                label = explanation.series[number].name(number)
                for step, value in enumerate(one):
                    curves.append({**common, "model": model.name, "output": score.output, "series": label,
                                   "series_flips": flips.n_flips, "series_changed": int(flips.changed_from_original),
                                   "step": step, "property_value": float(explanation.series[number].values[step]),
                                   "value": float(value)})
    return rows, curves


def run_item(item: StudyItem, intervention, models: list, *, outputs, permutations: int, alpha: float,
             open_image, statistic: str = "gradient") -> ItemResult:
    """Explain one item; an unreadable image gives a SKIPPED result, any other error a FAILED one."""
    from ..explain import explain
    from .build import placed

    try:
        image = open_image(item.image)
    except (ValueError, OSError) as error:
        return ItemResult(item.index, item.key, SKIPPED, str(error))
    try:
        result = explain(image, placed(intervention, item.image.overrides), models, outputs_of_interest=outputs,
                         n_permutations=permutations, alpha=alpha, seed=item.seed, statistic=statistic)
        rows, curves = explanation_rows(item, result)
    except Exception as error:  # one bad item must not end the study; it is listed in the summary
        return ItemResult(item.index, item.key, FAILED, f"{type(error).__name__}: {error}")
    # What loading a model guessed (a one-output upload read as a probability) and an image a model was not made for
    # (a photo for the lesion models) go with the input's notes: the study's summary says each such note once, with
    # the images it is about.
    return ItemResult(item.index, item.key, OK, property_name=result.property_name, rows=rows, curves=curves,
                      sha256=input_sha256(result),
                      input_notes=tuple((result.input or {}).get("notes", ())) + result.model_caveats
                      + result.domain_notes)


def outputs_selection(outputs, models: list):
    """The ``outputs_of_interest`` for explain (see :func:`propgrad.outputs.parse_outputs`)."""
    from ..outputs import parse_outputs

    return parse_outputs(outputs, [name for model in models for name in model.output_names])


class StudyWorker:
    """Runs items of one study definition; models and interventions are built on first use, once."""

    def __init__(self, definition):
        self.definition = definition
        self._models = None
        self._interventions: dict[int, object] = {}

    @property
    def models(self) -> list:
        if self._models is None:
            self._models = self.definition.models.build()
        return self._models

    def intervention(self, number: int):
        if number not in self._interventions:
            self._interventions[number] = self.definition.interventions[number].build()
        return self._interventions[number]

    def run(self, item: StudyItem) -> ItemResult:
        from .inputs import open_image

        try:
            intervention, models = self.intervention(item.intervention), self.models
        except Exception as error:  # a model or patch that cannot load fails every item, visibly
            return ItemResult(item.index, item.key, FAILED, f"{type(error).__name__}: {error}")
        return run_item(item, intervention, models, outputs=outputs_selection(self.definition.outputs, models),
                        permutations=self.definition.permutations, alpha=self.definition.alpha,
                        open_image=lambda ref: open_image(ref, self.definition.inputs),
                        statistic=self.definition.statistic)
