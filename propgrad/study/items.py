"""The units of work of a study: one image under one intervention (every model runs inside an item,
so a worker loads its models once and reuses them for every item it gets).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .inputs import ImageRef


@dataclass(frozen=True)
class StudyItem:
    """Image ``image`` under intervention number ``intervention``; ``index`` is its canonical position."""

    index: int
    key: str
    image: ImageRef
    intervention: int
    intervention_label: str
    seed: int


def item_seed(study_seed: int, key: str) -> int:
    """The shuffle-test seed of one item, from the study's seed and the item's key alone.

    Not from the order in which items finish, so every engine (and a resumed run) draws the same
    permutations for the same item.

    Examples
    --------
    >>> item_seed(0, "a.png | hue edit") == item_seed(0, "a.png | hue edit")
    True
    """
    digest = hashlib.sha256(f"{int(study_seed)}\0{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def make_items(images: list[ImageRef], intervention_labels: list[str], study_seed: int) -> list[StudyItem]:
    """Every image x intervention, images outermost, in the order given (the canonical order)."""
    items = []
    for image in images:
        for number, label in enumerate(intervention_labels):
            key = f"{image.key} | {label}"
            items.append(StudyItem(len(items), key, image, number, label, item_seed(study_seed, key)))
    return items
