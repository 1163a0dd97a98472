"""Parametric edits (brightness, hue, blur, darken, recolour ...): one function swept from start to stop."""
from __future__ import annotations

from dataclasses import dataclass

from .spec import InterventionSpec, option, steps_option


def _edit_names() -> list[str]:
    from ..interventions import EDITS

    return sorted(EDITS)


def _edit_help() -> str:
    return ("parametric edit: " + ", ".join(_edit_names()) + " (darken/lighten/recolour: strength 0 to 1)")


@dataclass(frozen=True, kw_only=True)
class EditSpec(InterventionSpec):
    kind = "edit"
    selector = "edit"
    summary = "a parametric edit swept linearly from its identity (or start) to its end value"

    edit: str = option("brightness", _edit_help, choices=_edit_names, metavar="EDIT")
    start: float | None = option(None, "edit value the sweep starts from (default: the identity, e.g. factor 1); "
                                       "step 0 stays the unedited image, the sweep from start to stop follows it")
    stop: float | None = option(None, "edit end value (default per edit, e.g. brightness 0.1)")
    steps: int = steps_option()

    def describe(self) -> str:
        return f"{self.edit} edit"

    def make(self):
        from ..interventions import ParametricEdit

        return ParametricEdit(self.edit, stop=self.stop, start=self.start, steps=self.steps)
