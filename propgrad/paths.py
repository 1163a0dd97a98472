"""Where the shipped assets (examples, patches, frames, weights, model cards, licences) live.

A checkout or a Space has them in ``assets/`` beside the package; a built wheel carries a copy of
that folder as ``propgrad/_assets`` (made by ``setup.py`` at build time); ``PROPGRAD_ASSETS`` can
point at any other copy and wins over both.
"""
from __future__ import annotations

import os
from pathlib import Path

ASSETS_ENV = "PROPGRAD_ASSETS"
_PACKAGE = Path(__file__).resolve().parent


def assets_dir() -> Path:
    """``$PROPGRAD_ASSETS`` when set, else the installed package's ``_assets``, else the checkout's ``assets/``.

    The checkout's folder is the fallback (it may be absent), so that an installed package never
    picks up an unrelated ``assets`` folder that happens to sit beside it in site-packages.

    Examples
    --------
    >>> (assets_dir() / "examples" / "chelsea.jpg").name
    'chelsea.jpg'
    """
    return shipped_folder("assets", ASSETS_ENV)


def shipped_folder(name: str, variable: str) -> Path:
    """A folder the wheel ships as ``propgrad/_<name>`` and a checkout keeps as ``<name>/`` beside the package:
    ``$<variable>`` when set, else the installed copy, else the checkout's (the assets, the lessons)."""
    override = os.environ.get(variable, "").strip()
    if override:
        return Path(override).expanduser()
    installed = _PACKAGE / f"_{name}"
    return installed if installed.is_dir() else _PACKAGE.parent / name


ASSETS = assets_dir()
