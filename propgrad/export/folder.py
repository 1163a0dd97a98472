"""One result's folder as every writer fills it: its tables, its figures (each drawn, or named as missing with the
reason), report.html, and the JSON document last.

The document goes last, and an older run's is removed first, so that a folder whose run was stopped midway (Ctrl-C,
a full disk) never holds a document that reads as finished beside its first figures. A folder used again loses what
the run before wrote there (listed in :data:`propgrad.disk.WRITTEN` as it wrote them): a whole-image run into a
region run's folder kept its region.png, and a comparison beside an explanation's report.json left a script to read
the wrong run. Files the package did not write stay. Each kind's writer (:mod:`propgrad.export.explanation`,
:mod:`~propgrad.export.comparison`, :mod:`~propgrad.export.screen`, :mod:`~propgrad.export.dynamics`,
:mod:`propgrad.study.report`) says only what its kind writes into it.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from ..disk import WRITTEN, write_whole
from . import html as html_report
from . import tables
from .figure_files import copied_into, draw_into


def clear_earlier_run(out: Path, kept: Iterable[str] = ()) -> None:
    """Remove the files an earlier run listed in ``out``'s :data:`~propgrad.disk.WRITTEN` (and the list), and those of
    its sub-folders' own lists (a comparison stopped before it listed its parts), then the sub-folders left empty.
    Only plain files below ``out`` are touched, whatever the list says, and none named in ``kept`` (a study's stored
    results, which its report's folder shares)."""
    for inner in sorted(path.parent for path in out.glob(f"*/{WRITTEN}")):
        if inner.is_symlink():
            continue  # a link to a folder elsewhere is not a part of this one
        clear_earlier_run(inner)
        _remove_if_empty(inner)
    listed = out / WRITTEN
    try:
        names = json.loads(listed.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    root = out.resolve()
    kept = set(kept)
    folders = set()
    for name in names if isinstance(names, list) else []:
        target = out / str(name)
        try:
            inside = target.resolve().is_relative_to(root) and target.resolve() != root
        except OSError:
            continue
        if inside and target.is_file() and not target.is_symlink() and str(name) not in kept:
            target.unlink(missing_ok=True)
            if target.parent.resolve() != root:
                folders.add(target.parent)
    listed.unlink(missing_ok=True)
    for folder in sorted(folders, key=lambda path: -len(path.parts)):
        _remove_if_empty(folder)


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # something else lives there


class ReportFolder:
    """``out_dir`` (made if missing) as one result's folder; ``document`` names its JSON document (none for a study,
    whose folder holds what it stored: ``kept`` names those files, which no earlier run's list may remove).

    ``paths`` holds every file written, by name, as the writers return them; ``missing`` each figure that failed to
    draw or, drawn elsewhere, was not found, by title, with why (report.html says so).
    """

    def __init__(self, out_dir: str | Path, document: str | None = None, kept: Iterable[str] = ()):
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        clear_earlier_run(self.out, kept)
        self.paths: dict[str, Path] = {}
        self.missing: dict[str, str] = {}
        self._listed: list[str] = []
        if document is not None:
            self.paths["json"] = tables.document_path(self.out / document)

    def _written(self, *paths: Path | None) -> None:
        """Add ``paths`` to the folder's :data:`~propgrad.disk.WRITTEN` as each is written: a run stopped midway leaves
        its files listed, for the next run to remove (listed only at the end, they stayed for good)."""
        root = self.out.resolve()
        for path in paths:
            if path is None or not Path(path).resolve().is_relative_to(root):
                continue
            name = Path(path).resolve().relative_to(root).as_posix()
            if name not in self._listed:
                self._listed.append(name)
        write_whole(self.out / WRITTEN, json.dumps({"files": self._listed}, indent=1))

    def table(self, key: str, name: str, fields: Sequence[str], records: Iterable[Mapping]) -> Path:
        """``records`` as the CSV file ``name`` (:func:`propgrad.export.tables.write_csv`)."""
        self._written(self.out / name)
        self.paths[key] = tables.write_csv(self.out / name, fields, records)
        return self.paths[key]

    def contrast(self, data: Mapping, name: str) -> None:
        """Where two or more models differ (the document's ``contrast``), as ``name``, when the result has it."""
        if data.get("contrast"):
            self.table("contrast", name, list(data["contrast"][0]), data["contrast"])

    def figure(self, key: str, name: str, draw: Callable[[Path], object], what: str,
               title: str | None = None) -> Path | None:
        """Draw a figure into ``name`` (``draw(path)`` writes it); one that fails is left out, with a warning naming
        ``what``, and listed in ``missing`` under ``title`` (default ``key``): the tables stand without it."""
        self._written(self.out / name)
        path, reason = draw_into(draw, self.out / name, what)
        if path is not None:
            self.paths[key] = path
        else:
            self.missing[title or key] = reason
        return path

    def copied(self, key: str, source: str | Path | None, name: str, *, say_missing: bool = True) -> Path | None:
        """A figure drawn elsewhere (the app draws its own strip and curves) copied in as ``name``; one named but not
        found is listed in ``missing`` (the page says so, not a gap where it was) unless the caller draws it instead
        (``say_missing=False``)."""
        self._written(self.out / name)
        path = copied_into(source, self.out / name)
        if path is not None:
            self.paths[key] = path
        elif source is not None and say_missing:
            self.missing[key] = f"{Path(source).name} was not found"
        return path

    def finish(self, page: str, document: Mapping | None = None, key: str = "html") -> dict[str, Path]:
        """Write report.html (as ``key`` in ``paths``), then the JSON document, last; return every file by name."""
        # Listed before it is written, with what a writer added to ``paths`` itself (a comparison's parts' files).
        self._written(self.out / "report.html", *self.paths.values())
        self.paths[key] = html_report.write(page, self.out / "report.html")
        if document is not None:
            tables.write_json(self.paths["json"], document)
        return self.paths
