"""Written files into one zip."""
from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path


PICTURES = (".png", ".gif", ".jpg", ".jpeg", ".webp")


def zip_files(paths: Mapping[str, Path], zip_path: str | Path, *, root: str | Path | None = None) -> Path:
    """Pack written files into one zip.

    Entries are named by their path below ``root``; by default the folder all of them share, so a comparison's
    per-property reports keep their sub-folders (by file name alone they would collide).
    """
    zip_path = Path(zip_path)
    if root is None and paths:
        root = os.path.commonpath([Path(path).resolve().parent for path in paths.values()])
    with zipfile.ZipFile(zip_path, "w") as archive:
        for path in paths.values():
            # Pictures are compressed already (deflating them again costs time for nothing); text is deflated.
            kind = zipfile.ZIP_STORED if Path(path).suffix in PICTURES else zipfile.ZIP_DEFLATED
            archive.write(path, arcname=Path(path).resolve().relative_to(Path(root).resolve()).as_posix(),
                          compress_type=kind)
    return zip_path
