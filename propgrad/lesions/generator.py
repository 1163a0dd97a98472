"""Procedural dermoscopy-like images: benign nevi, melanomas and the coloured stickers of the ISIC archive.

A stand-in for the paper's skin-lesion experiment, where no dermoscopy data can be downloaded. Each
lesion is drawn from a latent "malignancy" in [0, 1] that sets the ABCD-rule cues together:
**A**symmetry (the shape's centre of mass drifts and its radius varies unevenly), **B**order
irregularity (high-frequency harmonics of the radius), **C**olour variety (extra dark-brown, black,
blue-grey and red regions) and **D**iameter. Nevi draw the latent from Beta(2, 5) and melanomas from
Beta(5, 2), so the classes overlap a little, as real lesions do; that overlap is what makes a shortcut
(a sticker) worth learning for a model trained on biased data. Skin tone, lesion size and position,
hair, illumination and the dermoscope's dark vignette vary freely and carry no class information.

Everything is numpy + PIL and seeded: the same seed gives the same image, bit for bit.
"""
from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ..checks import is_whole_number
from ..errors import ArgumentError
from ..interventions.patch import blend_patch, place_patch

CLASSES = ("nevus", "melanoma")
NEVUS, MELANOMA = 0, 1
DEFAULT_SIZE = 128
# Sticker placement in biased training data, matching how PatchBlend pastes at test time: centre as
# fractions of width/height, size as a fraction of the short side.
PATCH_POSITION_RANGE = (0.15, 0.85)
PATCH_SCALE_RANGE = (0.18, 0.35)

_SKIN_TONES = np.array(
    [[236, 200, 180], [226, 180, 155], [210, 160, 130], [190, 140, 110], [165, 115, 85], [140, 95, 70]],
    dtype=np.float32,
)
_NEVUS_BROWNS = np.array([[150, 95, 60], [125, 78, 48], [105, 65, 42], [170, 115, 75]], dtype=np.float32)
# Melanoma colours of the ABCD rule: dark brown, black, blue-grey, red.
_MELANOMA_COLOURS = np.array([[70, 40, 30], [30, 22, 22], [90, 95, 120], [160, 70, 65]], dtype=np.float32)


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise TypeError(f"`seed` must be an int, None or a numpy Generator, got {type(seed).__name__}")


def _check_size(size) -> int:
    if not is_whole_number(size, 16):
        raise ValueError(f"`size` must be an integer of at least 16 (pixels), got {size!r}")
    return int(size)


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Value noise in [0, 1]: a coarse random grid upsampled bicubically (cheap, smooth texture)."""
    grid = rng.random((cells, cells)).astype(np.float32)
    image = Image.fromarray((grid * 255).astype(np.uint8)).resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(image, dtype=np.float32) / 255.0


def _radius_profile(rng: np.random.Generator, malignancy: float, n_angles: int = 360) -> np.ndarray:
    """Relative lesion radius per angle: near-constant for regular lesions, lumpy and jagged otherwise."""
    theta = np.linspace(0, 2 * np.pi, n_angles, endpoint=False)
    radius = np.ones(n_angles)
    # Low harmonics give the overall (a)symmetric shape, high ones the ragged border.
    for harmonic in range(1, 4):
        amplitude = (0.03 + 0.22 * malignancy) / harmonic * rng.random()
        radius += amplitude * np.cos(harmonic * theta + rng.uniform(0, 2 * np.pi))
    for harmonic in range(5, 16):
        amplitude = 0.06 * malignancy**1.5 * rng.random() * 6 / harmonic
        radius += amplitude * np.cos(harmonic * theta + rng.uniform(0, 2 * np.pi))
    return np.clip(radius, 0.35, None)


def _lesion_mask(rng: np.random.Generator, size: int, centre, radius_px: float, malignancy: float,
                 yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    """Soft mask in [0, 1] of an elliptic, possibly irregular lesion."""
    profile = _radius_profile(rng, malignancy)
    aspect = 1.0 + rng.uniform(0, 0.25 + 0.25 * malignancy)
    angle = rng.uniform(0, np.pi)
    dx, dy = xx - centre[0], yy - centre[1]
    u = dx * np.cos(angle) + dy * np.sin(angle)
    v = (-dx * np.sin(angle) + dy * np.cos(angle)) * aspect
    distance = np.hypot(u, v)
    index = ((np.arctan2(v, u) % (2 * np.pi)) / (2 * np.pi) * len(profile)).astype(int) % len(profile)
    edge = radius_px * profile[index]
    softness = 1.0 + 2.5 * (1 - malignancy)  # benign lesions fade out gently, malignant ones end abruptly
    return np.clip((edge - distance) / softness + 0.5, 0, 1)


def _draw_hair(rng: np.random.Generator, image: Image.Image, count: int) -> None:
    draw = ImageDraw.Draw(image)
    size = image.width
    for _ in range(count):
        start = rng.uniform(-0.1, 1.1, 2) * size
        direction = rng.normal(size=2)
        direction /= np.linalg.norm(direction) + 1e-9
        length = rng.uniform(0.3, 0.9) * size
        bend = rng.normal(0, 0.15, 2) * size
        t = np.linspace(0, 1, 24)[:, None]
        points = start + direction * length * t + bend * 4 * t * (1 - t)
        shade = int(rng.uniform(20, 70))
        draw.line([tuple(p) for p in points], fill=(shade, shade - 5 if shade > 5 else 0, 0), width=1)


@dataclass(frozen=True)
class LesionInfo:
    """What was drawn: class label (0 nevus, 1 melanoma), the latent malignancy and the lesion centre."""

    label: int
    malignancy: float
    centre: tuple[float, float]
    radius: float


def draw_lesion(label: int | str, seed=None, size: int = DEFAULT_SIZE) -> tuple[Image.Image, LesionInfo]:
    """Draw one dermoscopy-like lesion image.

    Parameters
    ----------
    label : 0, 1, "nevus" or "melanoma"
        The class to draw.
    seed : int, numpy Generator or None
        Same seed, same image.
    size : int
        Side of the square RGB image in pixels (at least 16).

    Returns
    -------
    (PIL.Image, LesionInfo)

    Examples
    --------
    >>> image, info = draw_lesion("melanoma", seed=3)
    >>> image.size, info.label
    ((128, 128), 1)
    """
    if isinstance(label, str):
        if label not in CLASSES:
            # The numbers apart from the names: '0' listed among them read as if the string "0" were taken.
            raise ArgumentError("label", f"must be 'nevus' or 'melanoma' (or the number 0 or 1), got {label!r}")
        label = CLASSES.index(label)
    if label not in (0, 1) or isinstance(label, bool):
        raise ValueError(f"`label` must be 0 (nevus) or 1 (melanoma), got {label!r}")
    size = _check_size(size)
    rng = _rng(seed)
    malignancy = float(rng.beta(5, 2) if label == MELANOMA else rng.beta(2, 5))
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5

    # 1. Skin: a random tone between two neighbours, mottled texture, uneven illumination.
    position = rng.uniform(0, len(_SKIN_TONES) - 1)
    low = int(position)
    skin = _SKIN_TONES[low] + (position - low) * (_SKIN_TONES[min(low + 1, len(_SKIN_TONES) - 1)] - _SKIN_TONES[low])
    texture = _smooth_noise(rng, size, 12)[..., None] - 0.5
    image = skin[None, None, :] * (1 + 0.12 * texture) + rng.normal(0, 3, (size, size, 3))
    light_direction = rng.normal(size=2)
    gradient = ((xx - size / 2) * light_direction[0] + (yy - size / 2) * light_direction[1]) / size
    image *= (1 + 0.15 * gradient)[..., None]

    # 2. Lesion: size grows with malignancy (the D of ABCD), centre anywhere near the middle.
    radius = size * rng.uniform(0.16, 0.26) * (0.85 + 0.35 * malignancy)
    centre = (size * rng.uniform(0.38, 0.62), size * rng.uniform(0.38, 0.62))
    mask = _lesion_mask(rng, size, centre, radius, malignancy, yy, xx)
    brown = _NEVUS_BROWNS[rng.integers(len(_NEVUS_BROWNS))] * rng.uniform(0.85, 1.1)
    distance = np.hypot(xx - centre[0], yy - centre[1]) / radius
    # Benign: evenly brown, a little darker in the middle (symmetric).
    colour = brown[None, None, :] * (0.9 + 0.15 * np.clip(distance, 0, 1))[..., None]
    colour = colour * (1 + 0.08 * (_smooth_noise(rng, size, 10)[..., None] - 0.5))
    # Malignant: several colours in blotches placed off-centre (the C, and more of the A).
    n_regions = rng.binomial(4, malignancy)
    for _ in range(n_regions):
        shade = _MELANOMA_COLOURS[rng.integers(len(_MELANOMA_COLOURS))]
        offset = rng.normal(0, 0.45, 2) * radius
        blob_radius = radius * rng.uniform(0.25, 0.6)
        blob = np.hypot(xx - centre[0] - offset[0], yy - centre[1] - offset[1]) / blob_radius
        blob = np.clip(1 - blob, 0, 1) ** 0.7 * (0.5 + 0.5 * _smooth_noise(rng, size, 8))
        weight = np.clip(blob * (0.6 + 0.6 * malignancy), 0, 1)[..., None]
        colour = colour * (1 - weight) + shade[None, None, :] * weight
    if malignancy > 0.5 and rng.random() < malignancy:
        # Blue-white veil / regression: a pale patch inside the lesion.
        offset = rng.normal(0, 0.35, 2) * radius
        veil = np.clip(1 - np.hypot(xx - centre[0] - offset[0], yy - centre[1] - offset[1]) / (0.35 * radius), 0, 1)
        colour = colour * (1 - 0.5 * veil[..., None]) + np.array([150, 160, 185])[None, None, :] * 0.5 * veil[..., None]
    # Pigment network: faint dotted texture, stronger and more irregular in melanomas.
    dots = _smooth_noise(rng, size, size // 4)
    colour = colour * (1 - (0.08 + 0.15 * malignancy) * (dots[..., None] > 0.6))
    image = image * (1 - mask[..., None]) + colour * mask[..., None]

    # 3. Dermoscope vignette, hair, overall exposure, slight blur.
    vignette_radius = size * rng.uniform(0.62, 0.8)
    ring = np.hypot(xx - size / 2, yy - size / 2) / vignette_radius
    image *= np.clip(1.25 - ring**4 * 0.6, 0.15, 1)[..., None]
    image *= rng.uniform(0.85, 1.1)
    pil = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    if rng.random() < 0.5:
        _draw_hair(rng, pil, int(rng.integers(1, 9)))
    pil = pil.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.3, 0.8))))
    info = LesionInfo(label=int(label), malignancy=malignancy, centre=(centre[0] / size, centre[1] / size),
                      radius=float(radius / size))
    return pil, info


def draw_patch(seed=None, size: int = 64) -> Image.Image:
    """Draw one coloured sticker as an RGBA image, alpha = its shape (for :class:`PatchBlend`).

    Round, saturated, sometimes with a ring or a centre dot, like the stickers that sit next to many
    benign lesions in the ISIC archive.

    Examples
    --------
    >>> patch = draw_patch(seed=0)
    >>> patch.mode, patch.size
    ('RGBA', (64, 64))
    """
    size = _check_size(size)
    rng = _rng(seed)
    scale = 4  # draw large and downsample, for a clean anti-aliased edge
    big = size * scale
    canvas = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    hue = rng.random()
    rgb = tuple(int(255 * c) for c in colorsys.hsv_to_rgb(hue, rng.uniform(0.65, 1.0), rng.uniform(0.8, 1.0)))
    margin = big * 0.04
    shape = rng.choice(["circle", "circle", "ellipse", "rounded"])
    if shape == "circle":
        box = (margin, margin, big - margin, big - margin)
        draw.ellipse(box, fill=(*rgb, 255))
    elif shape == "ellipse":
        squash = big * rng.uniform(0.1, 0.22)
        box = (margin, margin + squash, big - margin, big - margin - squash)
        draw.ellipse(box, fill=(*rgb, 255))
    else:
        box = (margin, margin, big - margin, big - margin)
        draw.rounded_rectangle(box, radius=big * 0.2, fill=(*rgb, 255))
    extra = rng.random()
    if extra < 0.35:  # a ring of a second colour
        other = tuple(int(255 * c) for c in colorsys.hsv_to_rgb((hue + rng.uniform(0.3, 0.7)) % 1, 0.9, 0.95))
        inset = big * 0.22
        draw.ellipse((inset, inset, big - inset, big - inset), fill=(*other, 255))
    elif extra < 0.6:  # a white centre dot
        inset = big * 0.38
        draw.ellipse((inset, inset, big - inset, big - inset), fill=(250, 250, 250, 255))
    small = canvas.resize((size, size), Image.Resampling.LANCZOS)
    # A little shading so it reads as a physical sticker under the dermoscope's light.
    array = np.asarray(small, dtype=np.float32).copy()
    yy, xx = np.mgrid[0:size, 0:size] / size
    array[..., :3] *= (1.05 - 0.2 * (xx + yy) / 2)[..., None]
    return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8), "RGBA")


def add_patch(image: Image.Image, patch: Image.Image, position: tuple[float, float] = (0.5, 0.5),
              scale: float = 0.3, opacity: float = 1.0) -> Image.Image:
    """``image`` with ``patch`` pasted exactly as :class:`~propgrad.interventions.PatchBlend` pastes it.

    Examples
    --------
    >>> image, _ = draw_lesion("nevus", seed=0)
    >>> add_patch(image, draw_patch(seed=1), (0.8, 0.2), 0.25).size
    (128, 128)
    """
    sized, corner = place_patch(image, patch.convert("RGBA"), position, scale)
    return blend_patch(image, sized, corner, float(opacity))


def random_patch_placement(rng: np.random.Generator, info: LesionInfo | None = None) -> tuple[tuple[float, float], float]:
    """A sticker position and scale as in the biased training data: anywhere, preferring the skin.

    The position is redrawn a few times to keep the sticker off the lesion's centre, like a sticker
    placed next to a lesion.
    """
    low, high = PATCH_POSITION_RANGE
    position = (float(rng.uniform(low, high)), float(rng.uniform(low, high)))
    for _ in range(8):
        if info is None or np.hypot(position[0] - info.centre[0], position[1] - info.centre[1]) > info.radius + 0.08:
            break
        position = (float(rng.uniform(low, high)), float(rng.uniform(low, high)))
    return position, float(rng.uniform(*PATCH_SCALE_RANGE))


@dataclass(frozen=True)
class LesionDataset:
    """Images with labels (0 nevus, 1 melanoma), whether each carries a sticker, and what was drawn."""

    images: list[Image.Image]
    labels: np.ndarray
    has_patch: np.ndarray
    malignancy: np.ndarray
    infos: list[LesionInfo] | None = None

    def __len__(self) -> int:
        return len(self.images)


def make_dataset(n: int, seed: int = 0, size: int = DEFAULT_SIZE, patch_fraction: float = 0.0,
                 patch_class: int = NEVUS) -> LesionDataset:
    """A balanced set of ``n`` lesions; ``patch_fraction`` of the ``patch_class`` images carry a sticker.

    ``patch_fraction=0`` gives the unbiased data, ``0.5`` the biased data of the paper's design (about
    half of the nevi carry a coloured patch, no melanoma does). Image i depends only on ``seed`` and i,
    so the biased and unbiased sets share their lesions and differ only by the stickers.

    Examples
    --------
    >>> data = make_dataset(8, seed=0, size=32, patch_fraction=0.5)
    >>> len(data), int(data.labels.sum())
    (8, 4)
    """
    if not is_whole_number(n, 2):
        raise ValueError(f"`n` must be an integer of at least 2, got {n!r}")
    if not 0 <= patch_fraction <= 1:
        raise ValueError(f"`patch_fraction` must lie in [0, 1], got {patch_fraction!r}")
    if patch_class not in (NEVUS, MELANOMA):
        raise ValueError(f"`patch_class` must be 0 (nevus) or 1 (melanoma), got {patch_class!r}")
    size = _check_size(size)
    images, labels, has_patch, malignancy, infos = [], [], [], [], []
    for index in range(int(n)):
        label = index % 2
        image_rng, patch_rng = (np.random.default_rng(s) for s in np.random.SeedSequence([seed, index]).spawn(2))
        image, info = draw_lesion(label, image_rng, size)
        patched = label == patch_class and patch_rng.random() < patch_fraction
        if patched:
            position, scale = random_patch_placement(patch_rng, info)
            image = add_patch(image, draw_patch(patch_rng), position, scale)
        images.append(image)
        labels.append(label)
        has_patch.append(patched)
        malignancy.append(info.malignancy)
        infos.append(info)
    return LesionDataset(images, np.array(labels), np.array(has_patch), np.array(malignancy), infos)
