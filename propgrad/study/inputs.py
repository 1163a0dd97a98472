"""A study's images: a folder, a .txt/.csv list of paths, or a Hugging Face ``datasets`` data set.

Listing happens once, in the driver, and gives :class:`ImageRef` s: small, picklable references that a
worker opens itself (a path, or a data set folder and a row number), so no pixels travel between
processes. Opening is separate (:func:`open_image`) because an unreadable file must only skip its
own items, never stop the study.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from ..errors import in_words
from ..images import IMAGE_SUFFIXES, load_image
from .definition import InputSpec

# Columns of a .csv list that place the patch per image (fractions of the image, as in `explain`).
PLACEMENT_COLUMNS = ("position_x", "position_y", "scale")
PATH_COLUMNS = ("path", "image", "file")


@dataclass(frozen=True)
class ImageRef:
    """One input image: ``key`` names it in the results (a relative path or ``dataset[row]``)."""

    key: str
    path: str | None = None
    dataset: str | None = None
    row: int | None = None
    label: str = ""
    overrides: dict = field(default_factory=dict, hash=False, compare=False)


def list_images(spec: InputSpec) -> list[ImageRef]:
    """Every image ``spec`` names, in a fixed order (the study's canonical order)."""
    if spec.dataset is not None:
        return _from_dataset(spec)
    path = Path(spec.images).expanduser()
    if path.is_dir():
        if spec.label_column:
            raise ValueError(f"`label_column` {spec.label_column!r}: a folder of images has no columns; give a "
                             f".csv list with a label column, or a data set")
        return _from_folder(path)
    if path.is_file() and path.suffix.lower() in (".txt", ".csv"):
        return _from_list(path, spec.label_column)
    if path.is_file():
        raise ValueError(f"`images` {str(path)!r} must be a folder of images or a .txt/.csv list of paths")
    raise ValueError(f"`images`: no such folder or list file {str(path)!r}")


def _from_folder(folder: Path) -> list[ImageRef]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"`images`: the folder {str(folder)!r} holds no image files "
                         f"({', '.join(IMAGE_SUFFIXES)})")
    return [ImageRef(p.relative_to(folder).as_posix(), path=str(p)) for p in files]


def _float(value: str, column: str, line: int, source: Path) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"`images` list {source.name}, line {line}: column {column!r} must be a number, "
                         f"got {value!r}") from None


def _from_list(source: Path, label_column: str | None) -> list[ImageRef]:
    base = source.parent
    refs: list[ImageRef] = []
    if source.suffix.lower() == ".txt":
        if label_column:
            raise ValueError(f"`label_column` {label_column!r}: a .txt list has no columns; use a .csv list")
        lines = [line.strip() for line in source.read_text(encoding="utf-8").splitlines()]
        entries = [(line, "", {}) for line in lines if line and not line.startswith("#")]
    else:
        with source.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            path_column = next((c for c in PATH_COLUMNS if c in columns), None)
            if path_column is None:
                raise ValueError(f"`images` list {source.name} needs a column named {in_words(PATH_COLUMNS, 'or')}; "
                                 f"it has {in_words(columns) or 'none'}")
            if label_column and label_column not in columns:
                raise ValueError(f"`label_column` {label_column!r} is not a column of {source.name}; "
                                 f"its columns are {in_words(columns)}")
            label_column = label_column or ("label" if "label" in columns else None)
            entries = []
            for line, row in enumerate(reader, start=2):
                overrides = {c: _float(row[c], c, line, source) for c in PLACEMENT_COLUMNS if row.get(c)}
                entries.append((row[path_column].strip(), (row.get(label_column) or "").strip()
                                if label_column else "", overrides))
    for text, label, overrides in entries:
        path = Path(text).expanduser()
        path = path if path.is_absolute() else base / path
        refs.append(ImageRef(text, path=str(path), label=label, overrides=overrides))
    if not refs:
        raise ValueError(f"`images` list {source.name} names no images")
    # A path that is not there is a typo in the list, not an unreadable image: skipped, it was dropped from the study
    # with status 0, which a script could not tell.
    missing = [ref.key for ref in refs if not Path(ref.path).exists()]
    if missing:
        from ..reading import listed

        relative = any(not Path(key).expanduser().is_absolute() for key in missing)
        where = f" (relative paths are read from the list's folder, {str(base)!r})" if relative else ""
        raise ValueError(f"`images` list {source.name} names {len(missing)} file{'s' if len(missing) > 1 else ''} "
                         f"that do{'es' if len(missing) == 1 else ''} not exist: {listed([repr(k) for k in missing], 3)}"
                         f"{where}; correct the list or remove them")
    keys = [ref.key for ref in refs]
    if len(set(keys)) != len(keys):
        duplicate = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"`images` list {source.name} names {duplicate!r} twice; each image once")
    return refs


# -- Hugging Face data sets ----------------------------------------------------------------------

def _datasets():
    try:
        import datasets
    except ImportError:
        raise ImportError("`dataset` needs the `datasets` package: pip install datasets") from None
    return datasets


def load_split(spec: InputSpec):
    """The chosen split of the data set ``spec.dataset``: ``save_to_disk`` output, else an imagefolder."""
    datasets = _datasets()
    folder = Path(spec.dataset).expanduser()
    if not folder.is_dir():
        raise ValueError(f"`dataset`: no such folder {str(folder)!r}")
    saved = (folder / "dataset_dict.json").is_file() or (folder / "state.json").is_file()
    if saved:
        data = datasets.load_from_disk(str(folder))
    else:
        data = datasets.load_dataset("imagefolder", data_dir=str(folder))
    if isinstance(data, datasets.DatasetDict):
        splits = list(data)
        split = spec.split or ("test" if "test" in splits else splits[0])
        if split not in data:
            raise ValueError(f"`split` {split!r} is not in data set {folder.name}; its splits: {splits}")
        data = data[split]
    elif spec.split:
        raise ValueError(f"`split` {spec.split!r}: data set {folder.name} has no splits")
    if spec.image_column not in data.column_names:
        raise ValueError(f"`image_column` {spec.image_column!r} is not a column of data set {folder.name}; "
                         f"its columns are {in_words(data.column_names)}")
    if spec.label_column and spec.label_column not in data.column_names:
        raise ValueError(f"`label_column` {spec.label_column!r} is not a column of data set {folder.name}; "
                         f"its columns are {in_words(data.column_names)}")
    # Rows come back undecoded (bytes or a path): a broken image then fails in its own item only.
    if isinstance(data.features[spec.image_column], datasets.Image):
        data = data.cast_column(spec.image_column, datasets.Image(decode=False))
    return data


def _from_dataset(spec: InputSpec) -> list[ImageRef]:
    data = load_split(spec)
    if len(data) == 0:
        raise ValueError(f"`dataset` {Path(spec.dataset).name} has no rows")
    label_column = spec.label_column or ("label" if "label" in data.column_names else None)
    labels = [""] * len(data)
    if label_column:
        feature = data.features[label_column]
        names = getattr(feature, "names", None)
        labels = [names[v] if names and isinstance(v, int) else str(v) for v in data[label_column]]
    return [ImageRef(f"{Path(spec.dataset).name}[{row}]", dataset=str(spec.dataset), row=row, label=labels[row])
            for row in range(len(data))]


_SPLITS: dict[tuple, object] = {}


def open_image(ref: ImageRef, spec: InputSpec | None = None) -> Image.Image:
    """The referenced image as 8-bit RGB; ``ValueError`` naming the image when it cannot be read."""
    if ref.path is not None:
        return load_image(ref.path, name=ref.key)
    key = (spec.dataset, spec.split, spec.image_column)
    if key not in _SPLITS:  # once per worker process
        _SPLITS[key] = load_split(spec)
    value = _SPLITS[key][ref.row][spec.image_column]
    if isinstance(value, dict):
        if value.get("bytes"):
            return load_image(bytes(value["bytes"]), name=ref.key)
        if value.get("path"):
            return load_image(value["path"], name=ref.key)
    if isinstance(value, Image.Image):
        return load_image(value, name=ref.key)
    if isinstance(value, (bytes, bytearray)):
        return load_image(io.BytesIO(value).getvalue(), name=ref.key)
    raise ValueError(f"`{ref.key}`: the image column holds {type(value).__name__}, not an image")
