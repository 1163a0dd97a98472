"""The registry of intervention kinds: each kind is one spec class, registered by name.

Every front end works from here: the study file and its fingerprint, the ``explain`` / ``study``
flags, the app's builders. Adding a kind is one module with a spec class and one
:func:`register_kind` call (see the README's "Adding an intervention").

Examples
--------
>>> spec = spec_from_dict({"kind": "edit", "edit": "hue", "steps": 5, "region": "object"})
>>> spec.label
'hue edit in the object'
>>> sorted(KINDS)
['edit', 'frames', 'guided-editor', 'instruct-pix2pix', 'patch']
"""
from __future__ import annotations

from ..checks import check_keys
from ..errors import not_one_of
from .edit import EditSpec
from .frames import FramesSpec
from .guided_editor import GuidedEditorSpec
from .instruct_pix2pix import InstructPix2PixSpec
from .patch import PatchSpec
from .spec import InterventionSpec, Option, field_type, option, steps_option

KINDS: dict[str, type[InterventionSpec]] = {}
DEFAULT_KIND = "edit"


def register_kind(spec: type[InterventionSpec]) -> type[InterventionSpec]:
    """Make ``spec`` (an :class:`InterventionSpec` subclass) known to every front end; usable as a decorator."""
    if not (isinstance(spec, type) and issubclass(spec, InterventionSpec)):
        raise TypeError(f"register_kind takes an InterventionSpec subclass, got {spec!r}")
    if spec.selector not in spec.options():
        raise ValueError(f"{spec.__name__}.selector {spec.selector!r} is not one of its fields")
    if spec.kind in KINDS and KINDS[spec.kind] is not spec:
        raise ValueError(f"an intervention kind named {spec.kind!r} is registered already")
    KINDS[spec.kind] = spec
    return spec


def unregister_kind(kind: str) -> None:
    """Forget ``kind`` (tests that register a toy kind clean up with this)."""
    KINDS.pop(kind, None)


def spec_class(kind: str) -> type[InterventionSpec]:
    """The spec class of ``kind``, or an error listing the known kinds."""
    if kind not in KINDS:
        raise not_one_of("kind", kind, sorted(KINDS))
    return KINDS[kind]


def spec_from_dict(data: dict) -> InterventionSpec:
    """The spec ``data`` describes (``kind`` and its fields); an unknown key names the allowed ones."""
    data = dict(data)
    cls = spec_class(data.pop("kind", DEFAULT_KIND))
    check_keys(data, {"kind", *cls.options()}, f"{cls.kind} intervention")
    return cls(**data)


for _spec in (EditSpec, PatchSpec, FramesSpec, InstructPix2PixSpec, GuidedEditorSpec):
    register_kind(_spec)

__all__ = ["DEFAULT_KIND", "EditSpec", "FramesSpec", "GuidedEditorSpec", "InstructPix2PixSpec", "InterventionSpec", "KINDS", "Option",
           "PatchSpec", "field_type", "option", "register_kind", "spec_class", "spec_from_dict", "steps_option",
           "unregister_kind"]
