"""Where the shipped assets (examples, patches, frames, lesion weights) live.

A checkout or a Space has them in ``assets/`` beside the package; a pip-installed package does not
carry them, so ``PROPGRAD_ASSETS`` can point at a copy of that folder.
"""
from __future__ import annotations

import os
from pathlib import Path

ASSETS_ENV = "PROPGRAD_ASSETS"


def assets_dir() -> Path:
    """``$PROPGRAD_ASSETS`` when set, else the checkout's ``assets/`` folder (which may be absent)."""
    override = os.environ.get(ASSETS_ENV, "").strip()
    return Path(override).expanduser() if override else Path(__file__).resolve().parent.parent / "assets"


ASSETS = assets_dir()
