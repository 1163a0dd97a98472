"""Package-side helpers for the app: parse what users type, pick models, write per-request results.

Nothing here imports gradio: the app turns the ``ValueError``/``TypeError`` raised here into messages
for the user, and these functions can be tested (and reused by other front ends) without a server.
"""
from __future__ import annotations

import difflib
import math
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .explain import ALL, Explanation, split_output_names
from .images import IMAGE_SUFFIXES  # noqa: F401 - the app reads it from here

MODEL_SUFFIXES = (".pt2", ".pt", ".pth", ".ts", ".torchscript")
MAX_HUB_MODELS = 4
MAX_FRAMES = 120
MAX_STEPS = 30
MAX_SEEDS = 8
MAX_SEED = 2**31 - 1
# Scoring every output of a 1000-class model gives 1000 null distributions nobody can read.
MAX_ALL_OUTPUTS = 20
RESULT_TTL_S = 3600.0


# ---------------------------------------------------------------------------------------------------
# Parsing what users type


def parse_classes(text: str | None) -> dict[str, list[str]]:
    """Parse one class per line, ``class name: description one; description two; ...``.

    A line without a colon is a class whose only description is ``a photo of a <class>``.

    Examples
    --------
    >>> parse_classes("mug: a photo of a mug; a coffee cup\\nbarrel")
    {'mug': ['a photo of a mug', 'a coffee cup'], 'barrel': ['a photo of a barrel']}
    """
    if text is None or not text.strip():
        raise ValueError("`classes` is empty: write one class per line, e.g. 'mug: a photo of a mug; a coffee cup'")
    classes: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, _, descriptions = line.partition(":")
        name = name.strip()
        if not name:
            raise ValueError(f"`classes` line {number} has no class name before the colon: {line!r}")
        if name in classes:
            raise ValueError(f"`classes`: class {name!r} appears twice; merge its descriptions into one line")
        prompts = [p.strip() for p in descriptions.split(";") if p.strip()] if descriptions else []
        classes[name] = prompts or [f"a photo of a {name}"]
    if len(classes) < 2:
        raise ValueError("`classes` needs at least two classes (zero-shot CLIP compares them), one per line")
    return classes


def parse_seeds(text: str | int | None, *, limit: int = MAX_SEEDS) -> list[int]:
    """Parse ``"0"``, ``"0, 1, 2"`` or ``"0-3"`` into a list of non-negative seeds.

    Examples
    --------
    >>> parse_seeds("0, 2-4")
    [0, 2, 3, 4]
    """
    if text is None or (isinstance(text, str) and not text.strip()):
        raise ValueError("`seeds` is empty: give one seed like 0, several like '0, 1, 2', or a range like '0-3'")
    if isinstance(text, (int, np.integer)) and not isinstance(text, bool):
        parts = [str(int(text))]
    else:
        parts = [p.strip() for p in str(text).replace(";", ",").split(",") if p.strip()]
    seeds: list[int] = []
    for part in parts:
        span = re.fullmatch(r"(\d+)\s*-\s*(\d+)", part)
        if span:
            low, high = int(span.group(1)), int(span.group(2))
            if high < low or high - low >= limit:
                raise ValueError(f"`seeds`: range {part!r} must run upwards and hold at most {limit} seeds")
            seeds.extend(range(low, high + 1))
        elif re.fullmatch(r"-?\d+", part):
            seeds.append(int(part))
        else:
            raise ValueError(f"`seeds`: {part!r} is not a whole number or a range like '0-3'")
    if any(not 0 <= seed <= MAX_SEED for seed in seeds):
        raise ValueError(f"`seeds` must be whole numbers from 0 to {MAX_SEED}, got {seeds}")
    if not seeds or len(seeds) > limit:
        raise ValueError(f"`seeds`: give between 1 and {limit} seeds, got {len(seeds)}")
    return list(dict.fromkeys(seeds))


def parse_numbers(text: str | None, *, name: str, count: int) -> tuple[float, ...]:
    """Parse ``count`` comma-separated numbers, e.g. a per-channel mean ``"0.485, 0.456, 0.406"``."""
    if text is None or not str(text).strip():
        raise ValueError(f"`{name}` is empty: give {count} comma-separated numbers")
    try:
        values = tuple(float(v) for v in str(text).replace(";", ",").split(",") if v.strip())
    except ValueError as error:
        raise ValueError(f"`{name}` must be {count} comma-separated numbers, got {text!r}") from error
    if len(values) == 1 and count > 1:
        values = values * count
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise ValueError(f"`{name}` must be {count} finite comma-separated numbers, got {text!r}")
    return values


def parse_names(text: str | None) -> list[str]:
    """Split a comma- or newline-separated list of names, dropping blanks (the outputs' splitting rule)."""
    return split_output_names(text or "")


def check_int(value, *, name: str, low: int, high: int) -> int:
    """``value`` as an int in [low, high], or a ValueError that names ``name`` and the range."""
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"`{name}` must be a whole number between {low} and {high}, got {value!r}") from error
    if not math.isfinite(number) or not number.is_integer() or not low <= number <= high:
        raise ValueError(f"`{name}` must be a whole number between {low} and {high}, got {value!r}")
    return int(number)


def check_float(value, *, name: str, low: float, high: float) -> float:
    """``value`` as a float in [low, high], or a ValueError that names ``name`` and the range."""
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"`{name}` must be a number between {low} and {high}, got {value!r}") from error
    if not math.isfinite(number) or not low <= number <= high:
        raise ValueError(f"`{name}` must be a number between {low} and {high}, got {value!r}")
    return number


def file_path(item) -> str:
    """The path of an uploaded file, whether gradio passes a str, a Path or an object with ``.name``."""
    if isinstance(item, (str, os.PathLike)):
        return str(item)
    if isinstance(item, dict) and "path" in item:
        return str(item["path"])
    name = getattr(item, "name", None) or getattr(item, "path", None)
    if name is None:
        raise TypeError(f"cannot read an uploaded file from a {type(item).__name__}")
    return str(name)


def check_suffixes(paths: Sequence[str], allowed: Sequence[str], *, name: str) -> list[str]:
    """Refuse files whose suffix is not in ``allowed`` with a message that lists what is accepted."""
    result = []
    for path in paths:
        suffix = Path(path).suffix.lower()
        if suffix not in allowed:
            raise ValueError(
                f"`{name}`: {Path(path).name!r} is a {suffix or 'suffix-less'} file; accepted: {', '.join(allowed)}"
            )
        result.append(path)
    return result


# ---------------------------------------------------------------------------------------------------
# Models


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def uploaded_models(
    paths: Sequence[str],
    *,
    input_size: int | None,
    mean: str | None,
    std: str | None,
    class_names: str,
    outputs_are: str = "auto",
) -> list:
    """Load uploaded ``.pt2`` / TorchScript / ConvMixer files with the preprocessing the user gave.

    Blank ``input_size``, ``mean`` or ``std`` take the file's own defaults; ``outputs_are`` is what the
    files return: 'auto', 'logits', 'probabilities' or 'scores'.

    Files are never unpickled with arbitrary code: loading goes through
    :func:`propgrad.models.files.load_model_file`, which reads exported programs and TorchScript
    archives only.
    """
    from .models.files import load_model_file
    from .models.base import softmax_for

    paths = check_suffixes(paths, MODEL_SUFFIXES, name="model file")
    apply_softmax = softmax_for("auto" if _blank(outputs_are) else outputs_are)
    # Blank fields mean "from the file": a .pt2's exported size, a ConvMixer checkpoint's 128 px and
    # 0.5 mean/std, else 224 px with ImageNet statistics.
    # The browser sends 0 for an emptied number box: 0 means "from the file" too.
    size = None if _blank(input_size) or input_size == 0 else check_int(input_size, name="input size", low=16,
                                                                          high=1024)
    mean_values = None if _blank(mean) else parse_numbers(mean, name="mean", count=3)
    std_values = None if _blank(std) else parse_numbers(std, name="std", count=3)
    if std_values is not None and any(v <= 0 for v in std_values):
        raise ValueError(f"`std` must be positive, got {std!r}")
    names = parse_names(class_names) or None
    models = []
    for number, path in enumerate(paths):
        label = f"{Path(path).stem} (uploaded)"
        if any(Path(other).stem == Path(path).stem for other in paths[:number]):
            label = f"{Path(path).stem} (uploaded {number + 1})"  # same file name from another folder
        models.append(
            load_model_file(
                path, input_size=size and (size, size), mean=mean_values, std=std_values, class_names=names,
                name=label, apply_softmax=apply_softmax,
            )
        )
    return models


def hub_models(text: str | None) -> list:
    """Hugging Face image classifiers named in ``text``: hub ids or local folders, one per line or comma.

    Loaded by :func:`propgrad.models.hub.load_hub_classifier`, which keeps the few most recent ones
    loaded and never runs a repository's own code; an id works offline only from the local hub cache.
    On a hosted Space (``SPACE_ID`` set) only hub ids are taken: the server's folders are not the
    visitors' business.
    """
    from .models.hub import is_hub_id, load_hub_classifier

    sources = list(dict.fromkeys(parse_names(text)))  # the same id twice is one model
    if len(sources) > MAX_HUB_MODELS:
        raise ValueError(f"`hub classifiers`: at most {MAX_HUB_MODELS} per run, got {len(sources)}")
    if os.environ.get("SPACE_ID"):
        folders = [source for source in sources if not is_hub_id(source) or source.startswith(".")]
        if folders:
            raise ValueError(f"`hub classifiers`: this hosted Space takes hub ids only (like "
                             f"'google/vit-base-patch16-224'), not folders: {folders}")
    return [load_hub_classifier(source) for source in sources]


def bundled_models(names: Sequence[str]) -> list:
    """The registered bundled models ``names``, loaded once per process and shared read-only."""
    from .models import registry

    available = registry.bundled_model_names()
    models = []
    for name in [names] if isinstance(names, str) else names:
        if name not in available:
            raise ValueError(f"`models`: unknown bundled model {name!r}; choose from {available}")
        models.append(_cached_model(name))
    return models


_MODEL_LOCK = threading.Lock()
_MODELS: dict[str, object] = {}


def _cached_model(name: str):
    # Loading the same weights twice under concurrent first requests would waste memory; the lock
    # makes the first request load and the others wait for it.
    with _MODEL_LOCK:
        if name not in _MODELS:
            from .models import registry

            _MODELS[name] = registry.get_model(name)
        return _MODELS[name]


def _match_output(name: str, outputs: list[str], model_name: str) -> str | None:
    """``name`` itself if it is an output; else its only case-insensitive match (ImageNet has both
    'Cardigan' the dog and 'cardigan' the sweater, so a guess would be wrong half the time)."""
    if name in outputs:
        return name
    matches = [o for o in outputs if o.lower() == name.lower()]
    if len(matches) > 1:
        raise ValueError(f"`outputs of interest`: {name!r} matches {matches} of {model_name!r}; "
                         f"write the exact spelling")
    return matches[0] if matches else None


def _closest(name: str, outputs: list[str]) -> str:
    """' (closest: 'tabby', 'tiger cat')' for a misspelt output name, or '' when nothing is close."""
    lowered = {output.lower(): output for output in outputs}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)
    # Also names that contain the word typed ("tabby cat" -> "tabby"), which edit distance misses.
    close += [key for key in lowered if key not in close and (key in name.lower() or name.lower() in key)][:3]
    return f" (closest: {', '.join(repr(lowered[key]) for key in close[:4])})" if close else ""


def select_outputs(models: Sequence, wanted: str | None) -> tuple[dict, list[str]]:
    """Per-model outputs of interest from the user's text, and notes about models that lack them.

    Blank: each model's predicted class. ``all``: every output (models with at most 20 outputs).
    Names (comma-separated; names that hold commas, like ImageNet's 'tabby, tabby cat', stay whole):
    those the model has; a model that has none of them falls back to its predicted class, and a note
    says so, so that models with different classes can still run side by side. A name that no model
    has is an error naming the closest ones (a typo should not quietly score something else).
    """
    every_output = [output for model in models for output in model.output_names]
    names = split_output_names(wanted or "", every_output)
    if ALL in [n.lower() for n in names] and len(names) > 1:
        raise ValueError("`outputs of interest`: 'all' scores every output; give it alone, or name the classes")
    selection: dict[str, object] = {}
    notes: list[str] = []
    unknown = [name for name in names if name.lower() != ALL
               and not any(output.lower() == name.lower() for output in every_output)]
    if unknown:
        hints = "; ".join(f"{name!r}{_closest(name, every_output)}" for name in unknown)
        raise ValueError(f"`outputs of interest`: no model has an output {hints}. Check the spelling, or leave "
                         f"the box blank to score each model's predicted class")
    for model in models:
        outputs = list(model.output_names)
        if not names:
            selection[model.name] = None
        elif names[0].lower() == ALL:
            if len(outputs) > MAX_ALL_OUTPUTS:
                raise ValueError(
                    f"`outputs of interest`: 'all' would score all {len(outputs)} outputs of {model.name!r}; "
                    f"name the classes you care about instead (e.g. {', '.join(outputs[:3])})"
                )
            selection[model.name] = ALL
        else:
            matches = {name: _match_output(name, outputs, model.name) for name in names}
            found = [match for match in matches.values() if match]
            missing = ", ".join(repr(name) for name, match in matches.items() if not match)
            if found:
                selection[model.name] = list(dict.fromkeys(found))
                if missing:
                    notes.append(f"{model.name} has no output {missing}; skipped for it.")
            else:
                selection[model.name] = None
                notes.append(f"{model.name} has no output {missing}; scored its predicted class instead.")
    return selection, notes


# ---------------------------------------------------------------------------------------------------
# Results, one folder per request


@dataclass(frozen=True)
class ResultFiles:
    """What one run wrote: figures, animation and the downloadable bundle, all in one private folder."""

    folder: Path
    strip: Path
    curves: Path
    null: Path
    animation: Path
    bundle: Path


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


def write_results(explanation: Explanation, folder: str | Path | None = None) -> ResultFiles:
    """Write the report (JSON, CSV, PNGs, GIF) into a private folder and zip it for download."""
    from . import report

    folder = Path(folder) if folder is not None else request_dir()
    paths = report.write_report(explanation, folder / "report")
    bundle = report.zip_report(paths, folder / "propgrad-result.zip")
    return ResultFiles(folder, paths["strip"], paths["curves"], paths["null"], paths["animation"], bundle)


TABLE_HEADERS = ["model", "output", "E[|grad_X F|]", "p-value", "signif.", "prediction flips"]


def summary_table(explanation: Explanation) -> list[list]:
    """Rows for the app's table: one per model and output of interest."""
    from .report import summary_rows

    rows = []
    for row in summary_rows(explanation):
        rows.append([
            row["model"], row["output"], round(float(row["score"]), 5), float(f"{row['pvalue']:.3g}"),
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
    lines.append(
        "\n*Significant* means the output follows the property systematically (a smooth trend scores far "
        "below shuffled orders: the left tail of the null plot), not that it moves much: compare "
        "E[|grad_X F|] across models for the size of the effect (0.01 = one percentage point per step)."
    )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# Training dynamics (the lesion scenario's per-epoch checkpoints)


def dynamics_variants() -> list[str]:
    """Lesion model variants that ship per-epoch checkpoints; empty when the scenario is absent."""
    try:
        from .lesions.models import VARIANTS, checkpoint_paths
    except ImportError:
        return []
    return [variant for variant in VARIANTS if checkpoint_paths(variant)]


def run_dynamics(image, variants: Sequence[str], *, steps: int, n_permutations: int, alpha: float, seed: int,
                 progress=None) -> tuple[Path, Path, list[list]]:
    """Follow one image's patch score through training for each variant; plot, CSV and table rows."""
    import csv

    from .lesions.dynamics import default_intervention, plot_dynamics, training_dynamics
    from .plots import save_figure
    from .lesions.models import checkpoint_paths

    variants = [variants] if isinstance(variants, str) else list(variants or [])
    if not variants:
        raise ValueError("`variants`: tick at least one of the lesion models (biased, unbiased)")
    available = dynamics_variants()
    for variant in variants:
        if variant not in available:
            raise ValueError(f"`variants`: no per-epoch checkpoints for {variant!r} in this build; have {available}")
    intervention = default_intervention(steps=steps)
    report = progress or (lambda fraction, message="": None)
    results = {}
    for number, variant in enumerate(variants):
        results[variant] = training_dynamics(
            checkpoint_paths(variant), image, intervention, n_permutations=n_permutations, alpha=alpha, seed=seed,
            progress=lambda f, m="", n=number: report((n + f) / len(variants), f"{variant}: {m}"),
        )
    folder = request_dir()
    plot = folder / "dynamics.png"
    save_figure(plot_dynamics(results), plot)
    table = []
    for variant, result in results.items():
        for row in result.rows():
            table.append([variant, row["epoch"], round(row["score"], 5), float(f"{row['pvalue']:.3g}"),
                          "yes" if row["pvalue"] <= alpha else "no", round(row["flip_fraction"], 3)])
    csv_path = folder / "dynamics.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(DYNAMICS_HEADERS)
        writer.writerows(table)
    return plot, csv_path, table


DYNAMICS_HEADERS = ["model variant", "epoch", "E[|grad_X F|]", "p-value", "significant", "share of series flipped"]
