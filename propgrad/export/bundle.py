"""Written files into one zip."""
from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path


def zip_files(paths: Mapping[str, Path], zip_path: str | Path, *, root: str | Path | None = None) -> Path:
    """Pack written files into one zip.

    Entries are named by their path below ``root``; by default the folder all of them share, so a comparison's
    per-property reports keep their sub-folders (by file name alone they would collide).
    """
    zip_path = Path(zip_path)
    if root is None and paths:
        root = os.path.commonpath([Path(path).resolve().parent for path in paths.values()])
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in paths.values():
            archive.write(path, arcname=Path(path).resolve().relative_to(Path(root).resolve()).as_posix())
    return zip_path
