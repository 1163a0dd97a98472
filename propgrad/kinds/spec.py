"""How an intervention kind is described: a frozen spec whose fields carry their own rules.

Each field is declared with :func:`option` (default, help, allowed range or choices, and how the
command line spells it). From that one description come the checks below, the study file's keys
(:mod:`propgrad.study.definition`), the ``explain`` / ``study`` flags (:mod:`propgrad.cli.flags`),
the result's label and the fingerprint of a study; :meth:`InterventionSpec.build` makes the object.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from ..checks import MIN_STEPS, is_real_number, is_whole_number
from ..errors import ArgumentError, not_one_of


def option(default, help: str | Callable[[], str], *, low=None, high=None, above=None, choices=None,
           required: bool = False, flag: str | None = None, metavar=None, append: bool = False,
           path: bool = False):
    """A spec field with its rules.

    ``low``/``high`` are inclusive bounds, ``above`` an exclusive lower bound; ``choices`` may be a
    callable (names registered later, such as the parametric edits); ``required`` refuses an empty
    value; ``path`` marks file paths (a study file's are relative to the file). ``flag``, ``metavar``
    and ``append`` only change how the command line spells the field.
    """
    return field(default=default, metadata={"option": Option(help, low, high, above, choices, required, flag,
                                                               metavar, append, path)})


@dataclass(frozen=True)
class Option:
    help: str | Callable[[], str]
    low: float | None
    high: float | None
    above: float | None
    choices: object
    required: bool
    flag: str | None
    metavar: object
    append: bool
    path: bool

    def help_text(self) -> str:
        return self.help() if callable(self.help) else self.help

    def allowed(self) -> list | None:
        return list(self.choices()) if callable(self.choices) else self.choices


@dataclass(frozen=True)
class FieldType:
    """What a field holds: ``base`` (int, float, str), ``count`` (None: one value, "+": a tuple of any
    length, n: exactly n) and whether None is allowed."""

    base: type
    count: int | str | None
    optional: bool


def field_type(hint) -> FieldType:
    optional = False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        parts = [part for part in typing.get_args(hint) if part is not type(None)]
        optional, hint = True, parts[0]
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        count = "+" if len(args) == 2 and args[1] is Ellipsis else len(args)
        return FieldType(args[0], count, optional)
    return FieldType(hint, None, optional)


def steps_option(default: int = 10):
    """The one steps field every stepped kind declares."""
    return option(default, f"number of steps, the unedited input included (at least {MIN_STEPS})", low=MIN_STEPS)


@dataclass(frozen=True, kw_only=True)
class InterventionSpec:
    """Base of every intervention kind's spec. A kind sets the class attributes and implements
    :meth:`describe` and :meth:`make`; the fields below apply to every kind.

    Class attributes
    ----------------
    kind : the name in study files (``kind = "edit"``) and results
    selector : the field whose command-line flag chooses this kind (``--edit NAME``)
    summary : one line on what the kind does (help texts, the README)
    takes_image : False for kinds that bring their own images (frames): they cannot run in a study
    takes_region : whether ``region`` may restrict the kind to part of the image
    uses_gpu : whether a study engine should give its workers a GPU
    """

    kind: ClassVar[str]
    selector: ClassVar[str]
    summary: ClassVar[str]
    takes_image: ClassVar[bool] = True
    takes_region: ClassVar[bool] = True
    uses_gpu: ClassVar[bool] = False

    name: str | None = option(None, "the name results and tables use (default: made from the settings)")
    region: str | None = option(
        None, "restrict the change to 'object' (the bundled segmenter's salient object), 'background' (its "
        "complement) or a mask image (white = inside); outside it every step keeps the input's pixels",
        metavar="object|background|MASK.png", path=True)
    feather: float = option(0.0, "soften the region's edge with a Gaussian blur of this radius (px)", low=0,
                            metavar="PX")

    def __post_init__(self):
        hints = typing.get_type_hints(type(self))
        for spec_field in dataclasses.fields(self):
            rules = spec_field.metadata.get("option")
            if rules is not None:
                value = _checked(spec_field.name, getattr(self, spec_field.name), rules,
                                 field_type(hints[spec_field.name]))
                object.__setattr__(self, spec_field.name, value)
        if self.region is not None and not self.takes_region:
            raise ArgumentError("region", f"does not apply to {self.kind} interventions")
        if self.feather and self.region is None:
            raise ArgumentError("feather", "softens a region's edge: give a region too, or leave it out")

    # -- what a kind implements ------------------------------------------------------------------

    def describe(self) -> str:
        """The label of the whole-image intervention, e.g. "hue edit"."""
        raise NotImplementedError

    def make(self):
        """The intervention on the whole image (the region is applied by :meth:`build`)."""
        raise NotImplementedError

    # -- what every kind gets --------------------------------------------------------------------

    @classmethod
    def options(cls) -> dict[str, tuple[Option, FieldType, object]]:
        """{field name: (rules, type, default)} for every field, the shared ones first."""
        hints = typing.get_type_hints(cls)
        return {f.name: (f.metadata["option"], field_type(hints[f.name]), f.default)
                for f in dataclasses.fields(cls) if "option" in f.metadata}

    @property
    def label(self) -> str:
        """The name results and tables use for this intervention."""
        if self.name:
            return self.name
        text = self.describe()
        if not self.region:
            return text
        from ..interventions.region import SEGMENTED

        return f"{text} in the {self.region}" if self.region in SEGMENTED else f"{text} in {Path(self.region).name}"

    def build(self):
        """The intervention this spec describes, restricted to its region if it has one."""
        built = self.make()
        if not self.region:
            return built
        from ..interventions.region import SEGMENTED, Region

        if self.region not in SEGMENTED and not Path(self.region).is_file():
            raise ArgumentError("region", f"{self.region!r} is neither 'object', 'background' nor a mask file")
        return Region(built, self.region if self.region in SEGMENTED else Path(self.region), feather=self.feather)

    def to_dict(self) -> dict:
        """``kind`` and every field: what a study stores and fingerprints."""
        return {"kind": self.kind, **dataclasses.asdict(self)}


def _checked(name: str, value, rules: Option, kind: FieldType):
    """``value`` checked against the field's rules and normalised (tuples for lists, floats for ints)."""
    if value is None:
        if kind.optional:
            return None
        raise ArgumentError(name, "is missing")
    if kind.count is not None:
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            value = (value,)
        items = tuple(_one(name, item, rules, kind.base) for item in value)
        if isinstance(kind.count, int) and len(items) != kind.count:
            raise ArgumentError(name, f"must hold {kind.count} values, got {len(items)}")
        if rules.required and not items:
            raise ArgumentError(name, "is empty: give at least one value")
        return items
    return _one(name, value, rules, kind.base)


def _one(name: str, value, rules: Option, base: type):
    if base is str:
        if not isinstance(value, (str, Path)):
            raise ArgumentError(name, f"must be text, got {value!r}")
        value = str(value)
        if rules.required and not value.strip():
            raise ArgumentError(name, f"is empty; it takes: {rules.help_text()}")
        allowed = rules.allowed()
        if allowed is not None and value not in allowed:
            raise not_one_of(name, value, sorted(allowed))
        return value
    if base is int:
        if not is_whole_number(value, float("-inf")):
            raise ArgumentError(name, f"must be an integer{_range(rules)}, got {value!r}")
        value = int(value)
    else:
        if not is_real_number(value):
            raise ArgumentError(name, f"must be a finite number{_range(rules)}, got {value!r}")
        value = float(value)
    if ((rules.low is not None and value < rules.low) or (rules.high is not None and value > rules.high)
            or (rules.above is not None and value <= rules.above)):
        raise ArgumentError(name, f"must be {'an integer' if base is int else 'a number'}{_range(rules)}, "
                            f"got {value!r}")
    return value


def _range(rules: Option) -> str:
    if rules.above is not None and rules.high is not None:
        return f" in ({rules.above:g}, {rules.high:g}]"
    if rules.low is not None and rules.high is not None:
        return f" in [{rules.low:g}, {rules.high:g}]"
    if rules.above is not None:
        return f" above {rules.above:g}"
    if rules.low is not None:
        return f" of at least {rules.low:g}"
    return ""
