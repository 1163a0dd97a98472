"""Regenerate the app's bundled example assets (run from the repository root).

Every file this writes is either made by the project (rendered mug frames, drawn patches) or a
resized copy of a scikit-image sample image (CC0 / public domain); see CREDITS.md.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _examples() -> None:
    from skimage import data

    out = HERE / "examples"
    out.mkdir(exist_ok=True)
    for name in ("chelsea", "coffee", "rocket"):
        image = Image.fromarray(getattr(data, name)())
        image.thumbnail((320, 320), Image.Resampling.LANCZOS)
        image.save(out / f"{name}.jpg", quality=90)


def _patches() -> None:
    out = HERE / "patches"
    out.mkdir(exist_ok=True)
    size = 96
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1) * 2 - 1
    radius = np.hypot(xx, yy)
    angle = np.arctan2(yy, xx)
    alpha = (np.clip((1 - radius) * 24, 0, 1) * 255).astype(np.uint8)
    # A rainbow disc (hue wheel), like the colourful patches in the skin-lesion scenario.
    hsv = np.stack([(angle / (2 * np.pi) % 1) * 255, np.full_like(xx, 230), np.full_like(xx, 240)], -1)
    wheel = np.asarray(Image.fromarray(hsv.astype(np.uint8), "HSV").convert("RGB"))
    Image.fromarray(np.dstack([wheel, alpha]), "RGBA").save(out / "rainbow_disc.png")
    # Concentric rings in green and magenta.
    rings = np.where((np.floor(radius * 5) % 2)[..., None] == 0, [40, 200, 80], [220, 40, 180])
    Image.fromarray(np.dstack([rings.astype(np.uint8), alpha]), "RGBA").save(out / "rings.png")
    # A yellow/blue striped square with rounded corners.
    square = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(square)
    draw.rounded_rectangle((4, 4, size - 5, size - 5), radius=14, fill=(250, 210, 30, 255))
    stripes = np.asarray(square).copy()
    stripe = (np.floor((xx + yy) * 4) % 2 == 0) & (stripes[..., 3] > 0)
    stripes[stripe, :3] = (30, 90, 230)
    Image.fromarray(stripes, "RGBA").save(out / "stripes.png")


def _turntable() -> None:
    from propgrad.turntable import render_turntable

    render_turntable(HERE / "turntable", frames=36, size=160)


if __name__ == "__main__":
    _examples()
    _patches()
    _turntable()
