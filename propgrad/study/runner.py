"""Run a study: list the items, skip those already stored, run the rest on an engine, aggregate.

Two entry points: :func:`run_study` for a :class:`StudyDefinition` (files, command line; resumable on
any engine) and :func:`run_images` for images, an intervention and models that are already in
memory (the app's small studies; in-process).
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image

from ..disk import write_whole
from ..interventions.base import Intervention, ProgressFn, no_progress
from ..limits import check_at_most
from .build import check_buildable
from .definition import StudyDefinition
from .engines import InProcess
from .inputs import ImageRef, list_images
from .items import make_items
from .report import StudyReport, write_report
from .store import ResultsStore
from .worker import ItemResult, StudyWorker, outputs_selection, run_item

log = logging.getLogger("propgrad.study")

# on_item(result, done, total): called after each item is stored (the command line's progress bar).
ItemCallback = Callable[[ItemResult, int, int], None]


def _version() -> str:
    from .._version import __version__

    return __version__


def _run(store: ResultsStore, engine, factory, items, progress: ProgressFn, on_item: ItemCallback | None
         ) -> None:
    try:
        store.check_unchanged(items)
        finished = store.finished()
        todo = [item for item in items if item.key not in finished]
        done = len(items) - len(todo)
        if done:  # else a resumed study printed what a fresh one does: had the work been done again?
            log.info("resuming %s: %d of %d items were finished before%s", store.folder, done, len(items),
                     f"; {len(todo)} to run" if todo else ", nothing is left to run: the summary is written again")
        progress(done / max(1, len(items)), f"{done}/{len(items)} items done")
        for result in engine.run(factory, todo):
            store.add(result)
            done += 1
            progress(done / len(items), f"{done}/{len(items)} items done")
            if on_item is not None:
                on_item(result, done, len(items))
    finally:
        store.close()
    store.finish({item.key: item.index for item in items})


def run_study(definition: StudyDefinition, out: str | Path, *, engine=None, progress: ProgressFn = no_progress,
              on_item: ItemCallback | None = None, max_images: int | None = None) -> StudyReport:
    """Run (or resume) ``definition`` into the folder ``out`` and write its aggregates.

    Parameters
    ----------
    definition : StudyDefinition
        What to run; its fingerprint is stored in ``out/study.json``, and a folder made by another
        definition is refused (:class:`~propgrad.study.store.DefinitionMismatch`).
    out : path
        Results folder: results.csv, curves.csv, items.jsonl, then summary.csv, summary.md, figures.
    engine : InProcess (default), Processes or RayEngine
        Where items run; the results do not depend on it.
    max_images : int, optional
        Refuse, before any item runs, a study of more images than this (the command line's limit; the
        package has none unless asked).

    Examples
    --------
    >>> report = run_study(from_toml("study.toml"), "results/", engine=Processes(2))  # doctest: +SKIP
    >>> report.summary[0].score_mean  # doctest: +SKIP
    """
    check_buildable(definition)
    images = list_images(definition.inputs)
    if max_images is not None:
        check_at_most(len(images), max_images, quantity="images", argument="images")
    items = make_items(images, [one.label for one in definition.interventions], definition.seed)
    study = {"fingerprint": definition.fingerprint(), "definition": definition.to_dict(),
             "files": definition.file_digests(), "propgrad_version": _version(), "items": len(items)}
    store = ResultsStore(out, study, fingerprint_before_files=definition.fingerprint(files=False))
    engine = engine or InProcess()
    started = time.perf_counter()
    _run(store, engine, functools.partial(StudyWorker, definition), items, progress, on_item)
    report = write_report(out)
    progress(1.0, f"done in {time.perf_counter() - started:.1f} s")
    return report


class _ReadyWorker:
    """A worker around objects that already exist (in-process only: they are never pickled)."""

    def __init__(self, interventions: list, models: list, outputs, permutations: int, alpha: float,
                 statistic: str = "gradient"):
        self.interventions, self.models = interventions, models
        self.outputs = outputs_selection(outputs, models)
        self.permutations, self.alpha, self.statistic = permutations, alpha, statistic

    def run(self, item):
        from .inputs import open_image

        return run_item(item, self.interventions[item.intervention], self.models, outputs=self.outputs,
                        permutations=self.permutations, alpha=self.alpha, open_image=open_image,
                        statistic=self.statistic)


def _as_json(value):
    """``value`` as JSON holds it (a tuple as a list, anything else JSON lacks as its text)."""
    return json.loads(json.dumps(value, default=str))


def _image_refs(images: Sequence, folder: Path, labels: Sequence[str] | None) -> list[ImageRef]:
    refs, seen = [], set()
    for number, image in enumerate(images):
        if isinstance(image, Image.Image):
            path = folder / "inputs" / f"image_{number + 1:03d}.png"
            path.parent.mkdir(exist_ok=True)
            image.save(path)
        else:
            path = Path(image)
        key = path.name if path.name not in seen else f"{number + 1:03d} {path.name}"
        seen.add(key)
        refs.append(ImageRef(key, path=str(path), label=str(labels[number]) if labels is not None else ""))
    return refs


def run_images(images: Sequence, intervention: Intervention | Sequence[Intervention], models: Sequence, *,
               out: str | Path | None = None, labels: Sequence[str] | None = None, outputs_of_interest="predicted",
               n_permutations: int = 10_000, alpha: float = 0.01, seed: int = 0, statistic: str = "gradient",
               progress: ProgressFn = no_progress) -> StudyReport:
    """A small study on images already at hand: every image x intervention x model, in this process.

    Parameters
    ----------
    images : list of paths or PIL images
        The images (PIL images are saved into ``out/inputs/``). An unreadable file is skipped and
        listed in ``report.skipped``; the others still run.
    intervention : Intervention or list of them
        E.g. one ``PatchBlend`` or ``ParametricEdit``; each needs a unique ``name``.
    models : list of Model
        Loaded once by the caller and used for every image.
    out : path, optional
        Results folder (new or empty); default a fresh temporary folder.
    labels : list of str, optional
        One label per image, copied into results.csv.

    Returns
    -------
    StudyReport
        ``summary`` (Table 3 rows per model x intervention), ``curves`` (mean curve and std per model),
        ``skipped``/``failed``, ``paths`` (summary.csv, summary.md, mean_curves.png, score_vs_flips.png;
        results.csv and curves.csv with the per-image rows sit in ``folder``).

    Examples
    --------
    >>> report = run_images(["a.png", "b.png"], PatchBlend(["sticker.png"]), [model])  # doctest: +SKIP
    >>> report.summary[0].score_mean, report.paths["summary.md"]  # doctest: +SKIP
    """
    interventions = [intervention] if isinstance(intervention, Intervention) else list(intervention)
    if not interventions:
        raise ValueError("`intervention` is empty: give at least one intervention")
    names = [one.name for one in interventions]
    if len(set(names)) != len(names):
        raise ValueError(f"intervention names must be unique, got {names}")
    models = list(models)
    if not models:
        raise ValueError("`models` is empty: choose at least one model")
    from ..score import check_statistic  # issue 16

    check_statistic(statistic)
    if not images:
        raise ValueError("`images` is empty: give at least one image")
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"`labels` has {len(labels)} entries for {len(images)} images")
    folder = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="propgrad-study-"))
    folder.mkdir(parents=True, exist_ok=True)
    from ..export.provenance import describe_intervention

    # Every setting of each intervention and the outputs as data, so that the report's settings rerun it (they held
    # the interventions' names alone, and the outputs as a Python repr).
    settings = {"interventions": names,
                "intervention_settings": [_as_json(describe_intervention(one)) for one in interventions],
                "models": [m.name for m in models], "outputs": _as_json(outputs_of_interest),
                "permutations": n_permutations, "alpha": alpha, "seed": seed, "statistic": statistic}
    store = ResultsStore(folder, {"fingerprint": "pending", "definition": None, "in_memory": settings,
                                  "propgrad_version": _version()})
    refs = _image_refs(images, folder, labels)
    settings["images"] = [ref.key for ref in refs]
    # Objects in memory have no stable description; the fingerprint records what was run, for reading.
    fingerprint = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    items = make_items(refs, names, seed)
    write_whole(folder / "study.json", json.dumps({"fingerprint": fingerprint, "definition": {"alpha": alpha},
                                                    "in_memory": settings, "propgrad_version": _version(),
                                                    "items": len(items)}, indent=2))
    worker = _ReadyWorker(interventions, models, outputs_of_interest, n_permutations, alpha, statistic)
    _run(store, InProcess(), lambda: worker, items, progress, None)
    return write_report(folder)
