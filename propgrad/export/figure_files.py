"""One figure of a report into its file: a figure that fails to draw is left out and the report says why; a write
that finds no room is not a failed figure but the command's failure (exit status 4), with no cut-off file left."""
from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

from ..disk import no_room, whole_or_none


def copied_into(source: str | Path | None, target: Path) -> Path | None:
    """A figure drawn elsewhere (the app draws its own strip and curves) as ``target`` in a report's folder, copied
    unless it is that file already; None where ``source`` is missing."""
    if source is None or not Path(source).is_file():
        return None
    if Path(source).resolve() != target.resolve():
        shutil.copyfile(source, target)
    return target


def draw_into(draw: Callable[[Path], object], path: Path, what: str) -> tuple[Path | None, str | None]:
    """``(path, None)`` once ``draw(path)`` wrote it, else ``(None, reason)`` with a warning naming ``what``."""
    try:
        with whole_or_none(path):
            written = draw(path)
        return Path(written or path), None
    except Exception as error:  # noqa: BLE001 - reported in report.html and as a warning
        if no_room(error):
            raise
        reason = f"{type(error).__name__}: {error}"
        warnings.warn(f"{what} failed: {reason}", stacklevel=3)
        return None, reason
