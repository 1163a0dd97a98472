"""The models that ship with propgrad, registered by name: import this module to fill the registry.

Each source registers its own models (``register_*`` functions beside the models), so the registry
itself never imports them back; this module is the one list of sources. Sources whose weights are
absent (a pip-installed package without ``assets/``) register nothing.
"""
from __future__ import annotations

from .registry import (bundled_model_names, get_model, model_description, model_licence, register_model,
                       unregister_model)


def register_bundled_models() -> list[str]:
    """Register every shipped model (idempotent); returns the registered names."""
    from ..lesions.models import register_lesion_models
    from .authors import register_authors_models
    from .efficientnet import register_efficientnet

    register_efficientnet()
    register_lesion_models()
    register_authors_models()
    return bundled_model_names()


register_bundled_models()

__all__ = ["bundled_model_names", "get_model", "model_description", "model_licence", "register_bundled_models",
           "register_model", "unregister_model"]
