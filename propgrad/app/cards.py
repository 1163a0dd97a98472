"""A table as one card per row, for a phone: the page shows the cards only there, in place of a table whose
numbers a 390 px screen cannot hold (``.phone-only`` and ``.phone-cards`` in :mod:`propgrad.app.demo`'s style)."""
from __future__ import annotations


def phone_cards(cards: list[str], heading: str, kind: str, *, open_first: int | None = None, note: str = "") -> str:
    """``cards`` (each a list item's HTML) under ``heading`` and the row count. ``open_first`` cards stay open and
    the rest fold under "rows n to m"; with ``None`` the whole list folds under the heading. ``kind`` is the
    list's own class; ``note`` follows the count."""
    count = f"{len(cards)} row{'' if len(cards) == 1 else 's'}{'; ' + note if note else ''}"
    classes = f"phone-only phone-cards {kind}"
    if open_first is None:
        return f'<details class="{classes}"><summary>{heading} ({count})</summary><ul>{"".join(cards)}</ul></details>'
    rest = (f"<details><summary>rows {open_first + 1} to {len(cards)}</summary>"
            f"<ul>{''.join(cards[open_first:])}</ul></details>" if len(cards) > open_first else "")
    return (f'<div class="{classes}"><p><b>{heading}</b> ({count})</p>'
            f'<ul>{"".join(cards[:open_first])}</ul>{rest}</div>')
