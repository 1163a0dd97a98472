"""``propgrad models``: the bundled models, each with its outputs, input size and licence."""
from __future__ import annotations

from . import console

LISTED_OUTPUTS = 5  # output names shown per model in the table (--json lists them all)


def input_size(model) -> list[int] | None:
    """[height, width] the model resizes its input to, as far as it tells."""
    size = getattr(getattr(model, "transform", None), "size", None) or getattr(model, "input_size", None)
    if isinstance(size, int):
        return [size, size]
    return [int(side) for side in size] if size else None


def describe(name: str) -> dict:
    """One bundled model: loaded (the weights ship with the package, so this is quick), then described."""
    from ..models.bundled import get_model, model_description, model_licence

    model = get_model(name)
    return {"name": name, "outputs": len(model.output_names), "output_names": list(model.output_names),
            "output_kind": model.output_kind, "input_size": input_size(model), "licence": model_licence(name),
            "description": model_description(name)}


def run_models() -> int:
    from ..models.bundled import bundled_model_names

    described = [describe(name) for name in bundled_model_names()]
    if console.json_wanted():
        console.emit(described)
        return 0  # the listing below says the same again, on stderr, for an agent reading both streams
    for entry in described:
        names = entry["output_names"]
        shown = ", ".join(names[:LISTED_OUTPUTS]) + (f", ... ({len(names)} in all)" if len(names) > LISTED_OUTPUTS
                                                      else "")
        size = "x".join(map(str, entry["input_size"])) if entry["input_size"] else "any"
        console.say(entry["name"],
                    f"    outputs: {entry['outputs']} ({shown}); input: {size} px; licence: {entry['licence'] or '?'}")
    return 0
