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

from ..checks import is_real_number, is_whole_number

EDIT, PATCH, INSTRUCT_PIX2PIX = "edit", "patch", "instruct-pix2pix"
KINDS = (EDIT, PATCH, INSTRUCT_PIX2PIX)
# Bumped when the meaning of a definition's fields changes, so old folders are not resumed silently.
FORMAT = 1


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
class InterventionSpec:
    """One intervention, with the options ``explain`` takes.

    ``kind`` is "edit" (``edit``, ``start``, ``stop``), "patch" (``patches``, ``position``, ``scale``;
    a list file may set the position and scale per image) or "instruct-pix2pix" (``instruction``,
    ``max_guidance``, ``image_guidance``, ``denoising_steps``, ``seeds``). ``region`` restricts the
    change to "object", "background" or a mask file (``feather``: a soft edge, blur radius in px).
    """

    kind: str = EDIT
    name: str | None = None
    steps: int = 10
    edit: str = "brightness"
    start: float | None = None
    stop: float | None = None
    patches: tuple[str, ...] = ()
    position: tuple[float, float] = (0.5, 0.5)
    scale: float = 0.3
    instruction: str | None = None
    max_guidance: float = 10.0
    image_guidance: float = 2.5
    denoising_steps: int = 20
    seeds: tuple[int, ...] = (0,)
    region: str | None = None
    feather: float = 0.0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"intervention `kind` must be one of {list(KINDS)}, got {self.kind!r}")
        if not is_whole_number(self.steps, 3):
            raise ValueError(f"intervention `steps` must be an integer of at least 3, got {self.steps!r}")
        object.__setattr__(self, "patches", tuple(str(p) for p in self.patches))
        object.__setattr__(self, "position", tuple(float(v) for v in self.position))
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        if self.kind == PATCH and not self.patches:
            raise ValueError("intervention `patches` is empty: a patch intervention needs at least one patch image")
        if self.kind == INSTRUCT_PIX2PIX and not (self.instruction or "").strip():
            raise ValueError("intervention `instruction` is empty: InstructPix2Pix needs an instruction, "
                             "e.g. 'make the fur white'")
        if len(self.position) != 2 or not all(0 <= v <= 1 for v in self.position):
            raise ValueError(f"intervention `position` must be [x, y] fractions in [0, 1], got {list(self.position)}")
        if not is_real_number(self.scale) or not 0 < self.scale <= 1:
            raise ValueError(f"intervention `scale` must be in (0, 1], got {self.scale!r}")
        if not is_real_number(self.feather) or self.feather < 0:
            raise ValueError(f"intervention `feather` must be a number of at least 0 (px), got {self.feather!r}")

    @property
    def label(self) -> str:
        """The name results and tables use for this intervention."""
        if self.name:
            return self.name
        if self.kind == EDIT:
            text = f"{self.edit} edit"
        elif self.kind == PATCH:
            text = f"patch blend ({', '.join(Path(p).name for p in self.patches)})"
        else:
            text = f"InstructPix2Pix: {self.instruction}"
        if not self.region:
            return text
        return f"{text} in the {self.region}" if self.region in ("object", "background") else \
            f"{text} in {Path(self.region).name}"


@dataclass(frozen=True)
class ModelSpec:
    """The models: registered names, model files (with how to read them) and Hugging Face classifiers."""

    names: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    hub: tuple[str, ...] = ()
    input_size: tuple[int, int] | None = None
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    class_names: tuple[str, ...] | None = None
    outputs_are: str = "auto"

    def __post_init__(self):
        for name in ("names", "files", "hub"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(str(v) for v in value))
        for name in ("input_size", "mean", "std", "class_names"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(value))

    @property
    def empty(self) -> bool:
        return not (self.names or self.files or self.hub)


@dataclass(frozen=True)
class StudyDefinition:
    """Images x interventions x models, and the shuffle-test settings.

    Examples
    --------
    >>> study = StudyDefinition(InputSpec(images="photos/"), (InterventionSpec("edit", edit="hue"),),
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
    statistic: str = "gradient"  # issue 16: "gradient", "correlation" or "mutual-information"

    def __post_init__(self):
        interventions = tuple(self.interventions)
        if not interventions:
            raise ValueError("`intervention` is missing: a study needs at least one intervention")
        labels = [one.label for one in interventions]
        if len(set(labels)) != len(labels):
            raise ValueError(f"intervention names must be unique, got {labels}; give each a `name`")
        object.__setattr__(self, "interventions", interventions)
        if not isinstance(self.outputs, str):
            object.__setattr__(self, "outputs", tuple(str(v) for v in self.outputs))
        if not is_whole_number(self.permutations, 1):
            raise ValueError(f"`permutations` must be a positive integer, got {self.permutations!r}")
        if not is_real_number(self.alpha) or not 0 < self.alpha < 1:
            raise ValueError(f"`alpha` must be a number strictly between 0 and 1, got {self.alpha!r}")
        if not is_whole_number(self.seed, 0):
            raise ValueError(f"`seed` must be a non-negative integer, got {self.seed!r}")
        from ..score import check_statistic  # issue 16

        check_statistic(self.statistic)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "StudyDefinition":
        """Inverse of :meth:`to_dict` (as stored in study.json)."""
        return cls(InputSpec(**data["inputs"]), tuple(InterventionSpec(**one) for one in data["interventions"]),
                   ModelSpec(**data["models"]), outputs=data["outputs"], permutations=data["permutations"],
                   alpha=data["alpha"], seed=data["seed"], statistic=data.get("statistic", "gradient"))

    def fingerprint(self) -> str:
        """A short hash of every field (and the format version): equal definitions, equal fingerprints."""
        fields = self.to_dict()
        if fields["statistic"] == "gradient":  # issue 16: folders made before the field existed still resume
            del fields["statistic"]
        text = json.dumps({"format": FORMAT, **fields}, sort_keys=True, default=list)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


# -- TOML ----------------------------------------------------------------------------------------

_TOP = {"inputs", "intervention", "models", "outputs", "permutations", "alpha", "seed", "statistic"}


def _fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def _check_keys(table: dict, allowed: set[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ValueError(f"{where}: unknown key {key!r}; allowed keys: {', '.join(sorted(allowed))}")


def _relative(value: str | None, base: Path) -> str | None:
    # Paths in a study file are relative to the file, so a study folder can be moved as a whole.
    if value is None:
        return None
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


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
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"study file {path.name}: not valid TOML ({error})") from error
    where = f"study file {path.name}"
    _check_keys(data, _TOP, where)
    # Every table's keys first, so a misspelt key is reported before anything missing.
    for table, cls in (("inputs", InputSpec), ("models", ModelSpec)):
        _check_keys(data.get(table) or {}, _fields(cls), f"{where} [{table}]")
    raw = data.get("intervention")
    tables = [] if raw is None else [raw] if isinstance(raw, dict) else list(raw)
    for number, table in enumerate(tables, start=1):
        _check_keys(table, _fields(InterventionSpec), f"{where} [[intervention]] {number}")
    base = path.parent
    inputs = dict(data.get("inputs") or {})
    inputs["images"] = _relative(inputs.get("images"), base)
    inputs["dataset"] = _relative(inputs.get("dataset"), base)
    if not tables:
        raise ValueError(f"{where}: no [[intervention]] table; add one, e.g. kind = \"edit\", edit = \"hue\"")
    interventions = []
    for table in tables:
        table = dict(table)
        table["patches"] = tuple(_relative(p, base) for p in table.get("patches", ()))
        if table.get("region") and Path(base, table["region"]).is_file():
            table["region"] = _relative(table["region"], base)
        interventions.append(InterventionSpec(**table))
    models = dict(data.get("models") or {})
    models["files"] = tuple(_relative(p, base) for p in models.get("files", ()))
    models["hub"] = tuple(_relative(h, base) if Path(base, h).is_dir() else h for h in models.get("hub", ()))
    scoring = {key: data[key] for key in ("outputs", "permutations", "alpha", "seed", "statistic") if key in data}
    return StudyDefinition(InputSpec(**inputs), tuple(interventions), ModelSpec(**models), **scoring)
