"""A study's definition: what to explain (inputs x interventions x models) and how to score it.

Plain frozen dataclasses, read from a TOML file (``tomllib``) or built from command-line flags. Every
field that changes the results goes into :meth:`StudyDefinition.fingerprint`, so a results folder can
tell whether it was made by this very definition. How the study runs (engine, workers) is not part
of it: the same definition gives the same results on any engine.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..checks import check_keys, check_shuffle_settings
from ..errors import ArgumentError
from ..kinds import InterventionSpec, spec_class, spec_from_dict
from ..models.spec import ModelSpec

# Bumped when the meaning of a definition's fields changes, so old folders are not resumed silently.
# 2: each intervention stores its own kind's fields (the registry of kinds), not every kind's.
# 3: a 'vector' study's curves are the output vector's distance from step 0 (they held the predicted class's
# probability); a folder of format 2 would mix the two, so it is refused rather than resumed.
FORMAT = 3


@dataclass(frozen=True)
class InputSpec:
    """Where the images come from: ``images`` (a folder, or a .txt/.csv list) or ``dataset``
    (a Hugging Face ``datasets`` folder: ``save_to_disk`` output or an ``imagefolder`` tree)."""

    images: str | None = None
    dataset: str | None = None
    image_column: str = "image"
    label_column: str | None = None  # None: "label" where such a column exists
    split: str | None = None

    def __post_init__(self):
        if (self.images is None) == (self.dataset is None):
            raise ValueError("give exactly one of `images` (a folder or a .txt/.csv list) and `dataset` "
                             "(a Hugging Face data set folder)")


@dataclass(frozen=True)
class StudyDefinition:
    """Images x interventions x models, and the shuffle-test settings.

    Examples
    --------
    >>> from propgrad.kinds import EditSpec
    >>> study = StudyDefinition(InputSpec(images="photos/"), (EditSpec(edit="hue"),),
    ...                         ModelSpec(names=("EfficientNet-Lite0 (ImageNet)",)))
    >>> len(study.fingerprint())
    16
    """

    inputs: InputSpec
    interventions: tuple[InterventionSpec, ...]
    models: ModelSpec = field(default_factory=ModelSpec)
    outputs: str | tuple[str, ...] = "predicted"
    permutations: int = 10_000
    alpha: float = 0.01
    seed: int = 0
    statistic: str = "gradient"  # "gradient", "correlation" or "mutual-information"

    def __post_init__(self):
        interventions = tuple(self.interventions)
        if not interventions:
            raise ValueError("`intervention` is missing: a study needs at least one intervention")
        for one in interventions:
            if not isinstance(one, InterventionSpec):
                raise TypeError(f"`interventions` must hold intervention specs (propgrad.kinds), got {one!r}")
            if not one.takes_image:
                raise ArgumentError("kind", f"{one.kind!r} brings its own images, so it cannot run on a study's "
                                    "images; choose an intervention that changes each image")
        labels = [one.label for one in interventions]
        if len(set(labels)) != len(labels):
            raise ValueError(f"intervention names must be unique, got {labels}; give each a `name`")
        object.__setattr__(self, "interventions", interventions)
        if not isinstance(self.outputs, str):
            object.__setattr__(self, "outputs", tuple(str(v) for v in self.outputs))
        if self.seed is None:
            raise ArgumentError("seed", "must be a non-negative integer (a study is reproducible), got None")
        check_shuffle_settings(self.permutations, self.alpha, self.seed, permutations_name="permutations")
        from ..score import check_statistic

        check_statistic(self.statistic)

    def to_dict(self) -> dict:
        return {"inputs": dataclasses.asdict(self.inputs),
                "interventions": [one.to_dict() for one in self.interventions],
                "models": self.models.to_dict(), "outputs": self.outputs, "permutations": self.permutations,
                "alpha": self.alpha, "seed": self.seed, "statistic": self.statistic}

    @classmethod
    def from_dict(cls, data: dict) -> "StudyDefinition":
        """Inverse of :meth:`to_dict` (as stored in study.json)."""
        return cls(InputSpec(**data["inputs"]), tuple(spec_from_dict(one) for one in data["interventions"]),
                   ModelSpec(**data["models"]), outputs=data["outputs"], permutations=data["permutations"],
                   alpha=data["alpha"], seed=data["seed"], statistic=data.get("statistic", "gradient"))

    def file_digests(self) -> dict[str, str]:
        """The SHA-256 of every file the definition names but the images (model files, patches, masks), by path.

        A study resumed after a model file was retrained under the same name averaged the old weights' rows with
        the new ones' into one summary: the fingerprint holds what the files are, not only where.
        """
        from ..images import file_sha256

        paths = list(self.models.files)
        for one in self.interventions:
            for key, (option, _, _) in one.options().items():
                value = getattr(one, key, None)
                if option.path and value:
                    paths += [str(item) for item in value] if isinstance(value, (list, tuple)) else [str(value)]
        return {path: digest for path in dict.fromkeys(paths) if (digest := file_sha256(path)) is not None}

    def fingerprint(self, files: bool = True) -> str:
        """A short hash of every field, the named files' contents (:meth:`file_digests`) and the format version:
        equal definitions over equal files, equal fingerprints. ``files`` False: the fingerprint of a folder made
        before studies recorded their files (which is resumed, see :class:`~propgrad.study.store.ResultsStore`)."""
        files = self.file_digests() if files else {}
        text = json.dumps({"format": FORMAT, **self.to_dict(), **({"files": files} if files else {})},
                          sort_keys=True, default=list)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


# -- TOML ----------------------------------------------------------------------------------------

_TOP = {"inputs", "intervention", "models", "outputs", "permutations", "alpha", "seed", "statistic"}


def _fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def _relative(value: str | None, base: Path) -> str | None:
    # Paths in a study file are relative to the file, so a study folder can be moved as a whole.
    if value is None:
        return None
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def _paths_relative_to(table: dict, base: Path) -> dict:
    """The table with its kind's path fields made absolute (a region is a path only if such a file exists)."""
    table = dict(table)
    options = spec_class(table.get("kind", "edit")).options()
    for key, value in table.items():
        if key not in options or not options[key][0].path:
            continue
        if isinstance(value, (list, tuple)):
            table[key] = tuple(_relative(str(item), base) for item in value)
        elif key != "region" or Path(base, str(value)).is_file():
            table[key] = _relative(str(value), base)
    return table


def from_toml(path: str | Path) -> StudyDefinition:
    """Read a study file; unknown keys are errors naming the key and the allowed ones.

    Examples
    --------
    A file with ``[inputs] images = "photos/"``, one ``[[intervention]]`` table
    (``kind = "edit"``, ``edit = "hue"``) and ``[models] names = ["EfficientNet-Lite0 (ImageNet)"]``.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"study file: no such file {str(path)!r}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"study file {path.name}: not valid TOML ({error})") from error
    where = f"study file {path.name}"
    check_keys(data, _TOP, where)
    # Every table's keys first, so a misspelt key is reported before anything missing.
    for table, keys in (("inputs", _fields(InputSpec)), ("models", set(ModelSpec().to_dict()))):
        check_keys(data.get(table) or {}, keys, f"{where} [{table}]")
    raw = data.get("intervention")
    tables = [] if raw is None else [raw] if isinstance(raw, dict) else list(raw)
    if not tables:
        raise ValueError(f"{where}: no [[intervention]] table; add one, e.g. kind = \"edit\", edit = \"hue\"")
    base = path.parent
    inputs = dict(data.get("inputs") or {})
    inputs["images"] = _relative(inputs.get("images"), base)
    inputs["dataset"] = _relative(inputs.get("dataset"), base)
    interventions = []
    for number, table in enumerate(tables, start=1):
        try:
            interventions.append(spec_from_dict(_paths_relative_to(table, base)))
        except ValueError as error:
            raise ValueError(f"{where} [[intervention]] {number}: {error}") from None
    models = dict(data.get("models") or {})
    models["files"] = tuple(_relative(p, base) for p in models.get("files", ()))
    models["hub"] = tuple(_relative(h, base) if Path(base, h).is_dir() else h for h in models.get("hub", ()))
    scoring = {key: data[key] for key in ("outputs", "permutations", "alpha", "seed", "statistic") if key in data}
    return StudyDefinition(InputSpec(**inputs), tuple(interventions), ModelSpec(**models), **scoring)
