"""Written files into one zip."""
from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path


def zip_files(paths: Mapping[str, Path], zip_path: str | Path, *, root: str | Path | None = None) -> Path:
    """Pack written files into one zip.

    Entries are named by file name, or by their path below ``root`` when given (reports in sub-folders,
    such as a comparison's per-property reports, would otherwise collide).
    """
    zip_path = Path(zip_path)
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in paths.values():
            archive.write(path, arcname=Path(path).relative_to(root).as_posix() if root else Path(path).name)
    return zip_path
