"""The results folder: study.json, results.csv, curves.csv and a journal of finished items.

Results are kept as they finish: each item's rows are appended and flushed, and only then is the item
written to ``items.jsonl`` (the journal). A run that dies between the two leaves rows whose item is
not in the journal; on resume they are dropped, as is a half-written trailing line, and the item runs
again. At the end the tables are rewritten in the canonical item order, so the files do not depend on
which engine ran the items or in what order they finished.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from pathlib import Path

from ..disk import NoRoomError, no_room
from .worker import CURVE_COLUMNS, OK, RESULT_COLUMNS, ItemResult

STUDY_FILE, RESULTS_FILE, CURVES_FILE, JOURNAL_FILE = "study.json", "results.csv", "curves.csv", "items.jsonl"


class DefinitionMismatch(ValueError):
    """The folder holds results of another study definition."""


def _read_rows(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        text = handle.read()
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]  # a row cut off mid-write
    return list(csv.DictReader(text.splitlines()))


def read_journal(folder: str | Path) -> dict[str, dict]:
    """item key -> its last journal entry (status, message, index)."""
    path = Path(folder) / JOURNAL_FILE
    entries: dict[str, dict] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:  # a line cut off mid-write: that item simply runs again
                continue
            entries[entry["key"]] = entry
    return entries


def read_results(folder: str | Path) -> tuple[list[dict], list[dict]]:
    """(results rows, curve rows) as strings, as stored."""
    folder = Path(folder)
    return _read_rows(folder / RESULTS_FILE), _read_rows(folder / CURVES_FILE)


def read_study(folder: str | Path) -> dict:
    path = Path(folder) / STUDY_FILE
    if not path.is_file():
        raise ValueError(f"{str(folder)!r} is not a study results folder (no {STUDY_FILE})")
    return json.loads(path.read_text())


class ResultsStore:
    """Appends item results to a study folder and knows which items are already done.

    Parameters
    ----------
    folder : path
        Created if missing. A folder holding another definition's study.json is refused.
    study : dict
        What goes into study.json; its ``fingerprint`` decides whether the folder may be resumed.
    """

    def __init__(self, folder: str | Path, study: dict):
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"`out` {str(self.folder)!r} is a file; give a folder (it is created if missing)")
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / STUDY_FILE
        if path.is_file():
            stored = json.loads(path.read_text()).get("fingerprint")
            if stored != study["fingerprint"]:
                raise DefinitionMismatch(
                    f"`out` {str(self.folder)!r} holds results of another study definition (fingerprint {stored}, "
                    f"this one {study['fingerprint']}); choose another folder, or delete that one to start over")
        elif any(self.folder.iterdir()):
            raise ValueError(f"`out` {str(self.folder)!r} is not empty and holds no study; "
                             f"choose an empty or new folder")
        else:
            path.write_text(json.dumps(study, indent=2, default=list) + "\n")
        self._journal = read_journal(self.folder)
        _cut_partial_line(self.folder / JOURNAL_FILE)
        self._tidy()
        self._files = {name: (self.folder / name).open("a", newline="") for name in (RESULTS_FILE, CURVES_FILE)}
        self._journal_file = (self.folder / JOURNAL_FILE).open("a")

    def _tidy(self) -> None:
        # Keep only rows of items the journal says finished: drops a partial item and a cut-off line.
        done = {key for key, entry in self._journal.items() if entry["status"] == OK}
        for name, columns in ((RESULTS_FILE, RESULT_COLUMNS), (CURVES_FILE, CURVE_COLUMNS)):
            rows = [row for row in _read_rows(self.folder / name) if row.get("item") in done]
            _write(self.folder / name, columns, rows)

    def finished(self) -> set[str]:
        """Keys of items that need no run: those done. Failed ones run again, and so do those skipped for an
        unreadable image: an image mended since is read (it stayed skipped, "not a readable image", after the file
        had been replaced), and one still unreadable fails as fast as before."""
        return {key for key, entry in self._journal.items() if entry["status"] == OK}

    def check_unchanged(self, items) -> None:
        """Refuse to resume when an image file changed since its stored results were made: its rows would be
        kept as if they were the new file's (:class:`DefinitionMismatch`, naming the image)."""
        hashes: dict[str, str] = {}
        for item in items:
            stored = self._journal.get(item.key, {}).get("sha256")
            path = item.image.path
            if not stored or path is None or not Path(path).is_file():
                continue
            if path not in hashes:
                hashes[path] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            if hashes[path] != stored:
                raise DefinitionMismatch(
                    f"`out` {str(self.folder)!r}: the image {item.image.key!r} changed since its results were stored "
                    f"(SHA-256 {stored[:12]}..., now {hashes[path][:12]}...); choose a new folder, or delete this one "
                    f"to start over")

    def add(self, result: ItemResult) -> None:
        """Store one item's rows, flushed to disk, then mark it done in the journal.

        A write that finds no room raises :class:`~propgrad.disk.NoRoomError` (the folder, the bytes of this
        item); the journal then does not list the item, so its partly written rows are dropped on resume and
        it runs again. A journal line cut off by a full disk is cut away on resume (see ``__init__``).
        """
        entry = {"key": result.key, "index": result.index, "status": result.status, "message": result.message,
                 "property_name": result.property_name, **({"sha256": result.sha256} if result.sha256 else {}),
                 **({"input_notes": list(result.input_notes)} if result.input_notes else {})}
        texts = {}
        if result.status == OK:
            for name, columns, rows in ((RESULTS_FILE, RESULT_COLUMNS, result.rows),
                                        (CURVES_FILE, CURVE_COLUMNS, result.curves)):
                buffer = io.StringIO()
                csv.DictWriter(buffer, fieldnames=columns).writerows(rows)
                texts[name] = buffer.getvalue()
        line = json.dumps(entry) + "\n"
        try:
            for name, text in texts.items():
                self._files[name].write(text)
                self._files[name].flush()
                os.fsync(self._files[name].fileno())
            self._journal_file.write(line)
            self._journal_file.flush()
        except OSError as error:
            if no_room(error):
                raise NoRoomError(error, self.folder, sum(len(t.encode()) for t in texts.values()) + len(line)) \
                    from error
            raise
        self._journal[result.key] = entry

    def finish(self, order: dict[str, int]) -> None:
        """Close the files and rewrite the tables in canonical item order (``order``: key -> index)."""
        self.close()
        for name, columns in ((RESULTS_FILE, RESULT_COLUMNS), (CURVES_FILE, CURVE_COLUMNS)):
            rows = _read_rows(self.folder / name)
            # A stable sort keeps each item's own row order (models, outputs, series, steps as explained).
            rows.sort(key=lambda row: order.get(row["item"], len(order)))
            _write(self.folder / name, columns, rows)

    def close(self) -> None:
        # Every handle is closed even when one cannot flush its last bytes (a full disk): those bytes belong to
        # an item the journal does not list, so nothing finished is lost.
        for handle in (*self._files.values(), self._journal_file):
            if not handle.closed:
                try:
                    handle.close()
                except OSError:
                    pass


def _cut_partial_line(path: Path) -> None:
    """Cut a journal line that a full disk or a crash left without its newline, so the next entry starts a line."""
    if not path.is_file():
        return
    with path.open("rb+") as handle:
        data = handle.read()
        if data and not data.endswith(b"\n"):
            handle.truncate(data.rfind(b"\n") + 1)


def _write(path: Path, columns, rows: list[dict]) -> None:
    """Write a whole table atomically (a temporary file renamed over the old one); on a full disk the old table
    stays as it was and the temporary file is removed."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    try:
        with temporary.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        if no_room(error):
            raise NoRoomError(error, path.parent) from error
        raise
