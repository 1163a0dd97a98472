"""Named models the app and command line offer: a plain dict of lazy factories.

The registry imports nothing that registers: modules that bring models call :func:`register_model`
themselves, and :mod:`propgrad.models.bundled` is the one place that asks every shipped source to do so.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import not_one_of
from .base import Model


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    factory: Callable[[], Model]
    description: str = ""
    licence: str = ""  # of the weights (``propgrad models`` lists it)


_MODELS: dict[str, RegisteredModel] = {}


def register_model(name: str, factory: Callable[[], Model], description: str = "", licence: str = "") -> None:
    """Offer ``factory()`` under ``name``; nothing is built until :func:`get_model` asks for it.

    Registering a name again replaces the entry (so registration functions may run more than once).

    Examples
    --------
    >>> from propgrad.models.efficientnet import EfficientNetLite0
    >>> register_model("My ImageNet model", EfficientNetLite0, "EfficientNet-Lite0 again")
    >>> "My ImageNet model" in bundled_model_names()
    True
    >>> unregister_model("My ImageNet model")
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"`name` must be a non-empty string, got {name!r}")
    if not callable(factory):
        raise TypeError(f"`factory` must be callable (it builds the model), got {type(factory).__name__}")
    _MODELS[name] = RegisteredModel(name, factory, description, licence)


def unregister_model(name: str) -> None:
    """Remove ``name`` from the registry (no error if it is absent)."""
    _MODELS.pop(name, None)


def bundled_model_names() -> list[str]:
    """Names of the registered models, in registration order."""
    return list(_MODELS)


def model_description(name: str) -> str:
    """The one-line description given when ``name`` was registered."""
    return _entry(name).description


def model_licence(name: str) -> str:
    """The licence of ``name``'s weights, as registered ("" when not given)."""
    return _entry(name).licence


def _entry(name: str) -> RegisteredModel:
    try:
        return _MODELS[name]
    except (KeyError, TypeError):
        raise not_one_of("model", name, bundled_model_names()) from None


def get_model(name: str) -> Model:
    """Build the registered model ``name`` (``ValueError`` listing the available names if unknown), carrying its
    registered description (``model.description``, which reports print) unless it has one of its own."""
    entry = _entry(name)
    model = entry.factory()
    if entry.description and not getattr(model, "description", ""):
        try:
            model.description = entry.description
        except AttributeError:  # a model that takes no new attributes keeps none: the reports then name it only
            pass
    return model
