"""The results folder: study.json, results.csv, curves.csv and a journal of finished items.

Results are kept as they finish: each item's rows are appended and flushed, and only then is the item
written to ``items.jsonl`` (the journal), with how many rows it stored. A run that dies between the two leaves rows
whose item is not in the journal; on resume they are dropped, as is a half-written trailing line, and the item runs
again. An item the journal lists as finished whose rows are missing or cut (a table removed, cut short or cut by a
full disk) runs again too, so that the files end whole. At the end the tables are rewritten in the canonical item
order, so the files do not depend on which engine ran the items or in what order they finished.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
from collections import Counter
from pathlib import Path

from ..disk import WRITTEN, NoRoomError, is_partial, no_room, replacing, write_whole
from ..errors import counted, shown
from ..reading import listed
from .worker import CURVE_COLUMNS, OK, RESULT_COLUMNS, ItemResult

STUDY_FILE, RESULTS_FILE, CURVES_FILE, JOURNAL_FILE = "study.json", "results.csv", "curves.csv", "items.jsonl"
COLUMNS = {RESULTS_FILE: RESULT_COLUMNS, CURVES_FILE: CURVE_COLUMNS}
# What a study stores in its folder, which a report written there never removes.
STORED_FILES = (STUDY_FILE, RESULTS_FILE, CURVES_FILE, JOURNAL_FILE)
# The journal entry's count of the rows a finished item stored in each table: how a resume tells whole from cut.
ROW_COUNTS = {RESULTS_FILE: "results_rows", CURVES_FILE: "curve_rows"}
# What to do about a file of the folder that cannot be read, by file.
REMEDIES = {
    STUDY_FILE: "this folder cannot be resumed without it: choose another folder, or delete this one to start over",
    JOURNAL_FILE: f"remove {JOURNAL_FILE} to run every item again, or choose another folder",
    RESULTS_FILE: f"remove {RESULTS_FILE} to run its items again, or choose another folder",
    CURVES_FILE: f"remove {CURVES_FILE} to run its items again, or choose another folder",
}
WHAT = {STUDY_FILE: "the study's definition", JOURNAL_FILE: "the journal of finished items"}

log = logging.getLogger("propgrad.study")


class DefinitionMismatch(ValueError):
    """The folder holds results of another study definition."""


class DamagedStudyFile(ValueError):
    """A file of a results folder cannot be read; the message names it and says what to do."""


def _damaged(path: Path, problem: str) -> DamagedStudyFile:
    what = f" ({WHAT[path.name]})" if path.name in WHAT else ""
    return DamagedStudyFile(f"{str(path)!r}{what} {problem}; {REMEDIES[path.name]}")


def _read_bytes(path: Path) -> bytes:
    """The file's bytes; one that cannot be read (a folder in its place, no permission) is named, with what to do."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise _damaged(path, f"cannot be read: {error.strerror or error}") from error


def _read_rows(path: Path) -> list[dict]:
    """A table's rows as stored ([] without the file). A row cut off mid-write (no newline yet) is left out; one cut
    otherwise, or holding bytes that are not text, reads with missing columns or U+FFFD (see :func:`_whole`)."""
    if not path.exists():
        return []
    text = _read_bytes(path).decode("utf-8", errors="replace")
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    try:
        return list(csv.DictReader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise _damaged(path, f"is not a readable table ({error})") from error


def _journal_entry(line: bytes) -> dict | None:
    """One journal line as its entry, or None where it is not one (damaged)."""
    try:
        entry = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    whole = isinstance(entry, dict) and isinstance(entry.get("key"), str) and isinstance(entry.get("status"), str)
    return entry if whole and isinstance(entry.get("index"), int) else None


def _read_journal(path: Path) -> tuple[dict[str, dict], int]:
    """(item key -> its last entry, how many bytes at the start of the file read as whole lines).

    A line counts only with its newline. The last line may be cut or damaged (a crash or a full disk mid-append):
    it is left out and its item runs again. A damaged line before it is no append's doing, so the journal cannot
    be trusted (:class:`DamagedStudyFile`)."""
    if not path.exists():
        return {}, 0
    data = _read_bytes(path)
    entries: dict[str, dict] = {}
    kept = 0
    lines = data.split(b"\n")
    for number, line in enumerate(lines[:-1], start=1):  # the last piece has no newline: cut, or b""
        entry = _journal_entry(line) if line.strip() else {}
        if entry is None:
            if data[kept + len(line) + 1:].strip(b" \t\r\n\0"):
                raise _damaged(path, f"is damaged at line {number} of {len(lines) - 1} (not one JSON entry)")
            break
        if entry:
            entries[entry["key"]] = entry
        kept += len(line) + 1
    return entries, kept


def read_journal(folder: str | Path) -> dict[str, dict]:
    """item key -> its last journal entry (status, message, index); a cut or damaged last line is left out."""
    return _read_journal(Path(folder) / JOURNAL_FILE)[0]


def read_tables(folder: str | Path) -> dict[str, list[dict]]:
    """File name (results.csv, curves.csv) -> its rows as strings, as stored."""
    return {name: _read_rows(Path(folder) / name) for name in COLUMNS}


def read_results(folder: str | Path) -> tuple[list[dict], list[dict]]:
    """(results rows, curve rows) as strings, as stored."""
    tables = read_tables(folder)
    return tables[RESULTS_FILE], tables[CURVES_FILE]


def read_study(folder: str | Path) -> dict:
    path = Path(folder) / STUDY_FILE
    if not path.exists():
        raise ValueError(f"{str(folder)!r} is not a study results folder (no {STUDY_FILE})")
    try:
        study = json.loads(_read_bytes(path).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _damaged(path, f"cannot be read: it is not JSON ({error})") from error
    if not isinstance(study, dict) or "fingerprint" not in study:
        raise _damaged(path, "cannot be read: it holds no study fingerprint")
    return study


def _whole(row: dict, columns) -> bool:
    """Whether a row has exactly its table's columns, all of them, and only text (not a row cut short, nor one with
    damaged bytes, which read as U+FFFD)."""
    return (None not in row and len(row) == len(columns) and all(row.get(column) is not None for column in columns)
            and not any("\ufffd" in value for value in row.values()))


def items_lacking_rows(journal: dict[str, dict], tables: dict[str, list[dict]]) -> dict[str, list[str]]:
    """Finished items whose rows are missing, cut or too few or many: item key -> the tables (file names) at fault.

    ``tables``: file name -> its rows as read. An entry tells how many rows its item stored in each table; one
    written before entries told it needs one whole row in each."""
    lacking: dict[str, list[str]] = {}
    for name, rows in tables.items():
        whole = Counter(row["item"] for row in rows if _whole(row, COLUMNS[name]))
        cut = {row.get("item") for row in rows if not _whole(row, COLUMNS[name])}
        for key, entry in journal.items():
            if entry["status"] == OK and (key in cut or not _as_stored(whole[key], entry.get(ROW_COUNTS[name]))):
                lacking.setdefault(key, []).append(name)
    return lacking


def _as_stored(found: int, stored: int | None) -> bool:
    """Whether ``found`` whole rows are as many as the item stored; an entry that does not say needs one at least."""
    return found == stored if stored is not None else found > 0


def kept_rows(journal: dict[str, dict], tables: dict[str, list[dict]]) -> tuple[dict[str, list[dict]], dict]:
    """(file name -> the rows of finished items whose rows are all there, the items lacking rows as
    :func:`items_lacking_rows` gives them): what a resume keeps and a report summarises."""
    lacking = items_lacking_rows(journal, tables)
    done = {key for key, entry in journal.items() if entry["status"] == OK and key not in lacking}
    return {name: [row for row in rows if row.get("item") in done] for name, rows in tables.items()}, lacking


def lacking_in_words(lacking: dict[str, list[str]]) -> str:
    """"3 finished items have missing or cut rows in results.csv (a | patch, b | patch and c | patch)"."""
    files = sorted({name for names in lacking.values() for name in names}, key=list(COLUMNS).index)
    count = f"{len(lacking)} finished item{'s have' if len(lacking) != 1 else ' has'}"
    return f"{count} missing or cut rows in {' and '.join(files)} ({listed(list(lacking), 3)})"


def _made_otherwise(held: dict, study: dict) -> str:
    """How the folder's study differs from this one, in words: the same definition over a file that changed reads
    as that file, since "another study definition" sent a researcher looking for a flag they had not changed."""
    differing = _differences(held.get("definition"), json.loads(json.dumps(study.get("definition"), default=list)))
    then, now = held.get("files"), study.get("files") or {}
    changed = [Path(path).name for path in now if then is not None and then.get(path) != now[path]]
    if not differing and changed:
        return (f"made with another version of {listed(changed, most=3)} (its SHA-256 differs): their rows would be "
                "averaged with this run's")
    said = "; ".join(f"{name}: {_value(before)} there, {_value(after)} now" for name, before, after in differing[:3])
    more = f"; and {len(differing) - 3} more" if len(differing) > 3 else ""
    # The fingerprints alone sent a researcher comparing two hex strings for the setting they had changed.
    return (f"of another study definition ({said}{more})" if differing else
            f"of another study definition (fingerprint {held.get('fingerprint')}, this one {study['fingerprint']})")


def _value(value) -> str:
    """A definition's value as a message shows it: a list by its length (a whole intervention's fields ran to 480
    characters), unset for None, absent for a field one side lacks, else quoted and cut short."""
    if isinstance(value, list):
        return counted(len(value), "entry", "entries")
    if value is _MISSING:
        return "absent"
    return "unset" if value is None else shown(value, 40)


_MISSING = object()  # a field one definition lacks: told apart from one set to None, as == tells them apart


def _differences(then, now, path: str = "") -> list[tuple[str, object, object]]:
    """Where two study definitions (as study.json stores them) differ: (field, there, now), fields as dotted paths.

    Examples
    --------
    >>> _differences({"seed": 0, "images": {"folder": "a"}}, {"seed": 0, "images": {"folder": "b"}})
    [('images.folder', 'a', 'b')]
    """
    if isinstance(then, dict) and isinstance(now, dict):
        return [found for key in dict.fromkeys([*then, *now])
                for found in _differences(then.get(key, _MISSING), now.get(key, _MISSING),
                                          f"{path}.{key}" if path else str(key))]
    if isinstance(then, list) and isinstance(now, list) and len(then) == len(now):
        return [found for number, (one, other) in enumerate(zip(then, now))
                for found in _differences(one, other, f"{path}[{number}]")]
    return [] if then == now else [(path or "definition", then, now)]


class ResultsStore:
    """Appends item results to a study folder and knows which items are already done.

    Parameters
    ----------
    folder : path
        Created if missing. A folder holding another definition's study.json is refused.
    study : dict
        What goes into study.json; its ``fingerprint`` decides whether the folder may be resumed.
    fingerprint_before_files : str, optional
        The definition's fingerprint as studies made it before they recorded their files' SHA-256: a folder
        holding that one (and no ``files``) is resumed, with a warning, and records its files from then on.
    """

    def __init__(self, folder: str | Path, study: dict, fingerprint_before_files: str | None = None):
        self._earlier = fingerprint_before_files
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"`out` {str(self.folder)!r} is a file; give a folder (it is created if missing)")
        self.folder.mkdir(parents=True, exist_ok=True)
        # 1. Read all that a resume needs. Nothing is written before all of it has been read: a file that cannot be read
        #    stops the study with the other files as they were (an unreadable journal had emptied both tables).
        new = self._check_study(study)
        self._journal, journal_bytes = _read_journal(self.folder / JOURNAL_FILE)
        kept, lacking = kept_rows(self._journal, read_tables(self.folder))
        # 2. Write: the definition into a new folder; the journal without a cut or damaged last line, so the next
        #    entry starts a line; the tables without rows of unfinished items or of items that run again.
        if new:
            write_whole(self.folder / STUDY_FILE, json.dumps(study, indent=2, default=list) + "\n")
        _cut_journal(self.folder / JOURNAL_FILE, journal_bytes)
        self._run_again(lacking)
        for name, rows in kept.items():
            _write(self.folder / name, COLUMNS[name], rows)
        # UTF-8 whatever the locale, as the tables are read (a label in another encoding read as a cut row).
        self._files = {name: (self.folder / name).open("a", newline="", encoding="utf-8") for name in COLUMNS}
        self._journal_file = (self.folder / JOURNAL_FILE).open("a", encoding="utf-8")

    def _check_study(self, study: dict) -> bool:
        """Whether the folder is new (study.json is still to write); refuse another definition's folder, or one that
        holds something else."""
        if (self.folder / STUDY_FILE).exists():
            held = read_study(self.folder)
            stored = held.get("fingerprint")
            if stored != study["fingerprint"] and "files" not in held and stored == self._earlier:
                # Made before studies recorded their files: its rows are kept (refusing it lost every finished item),
                # and from now on the files it names are held to what they are today.
                log.warning("%r was made before studies recorded the SHA-256 of their files; it is resumed on the "
                            "assumption that %s did not change since, and records them from now on",
                            str(self.folder), listed([Path(path).name for path in study.get("files") or {}], most=3))
                write_whole(self.folder / STUDY_FILE, json.dumps(
                    {**held, "fingerprint": study["fingerprint"], "files": study.get("files") or {}},
                    indent=2, default=list) + "\n")
                return False
            if stored != study["fingerprint"]:
                if not self._finished_nothing():
                    raise DefinitionMismatch(f"`out` {str(self.folder)!r} holds results "
                                             f"{_made_otherwise(held, study)}; choose another folder, or delete that "
                                             "one to start over")
                # A study none of whose items finished (every image unreadable: a wrong --images) has nothing to keep:
                # the corrected run into the same folder was refused as "another study definition".
                log.warning("%r held a study that finished no item (%s): started over with this one",
                            str(self.folder), _made_otherwise(held, study).removeprefix("of "))
                for name in (STUDY_FILE, JOURNAL_FILE, *COLUMNS):
                    (self.folder / name).unlink(missing_ok=True)
                return True
            return False
        # A temporary a power cut left is not a study's file: the folder held only .study.json.*.partial, and
        # `ls` showed it empty while it was refused as "not empty".
        # Nor is the list of what a report written here before held (its files gone, `ls` shows none); it goes, or the
        # study's report would remove the files it names, curves.csv among them, this study's own.
        if any(not is_partial(path) and path.name != WRITTEN for path in self.folder.iterdir()):
            raise ValueError(f"`out` {str(self.folder)!r} is not empty and holds no study; "
                             f"choose an empty or new folder")
        (self.folder / WRITTEN).unlink(missing_ok=True)
        return True

    def _finished_nothing(self) -> bool:
        """Whether the folder's journal lists no item that finished (only skipped or failed ones)."""
        journal, _ = _read_journal(self.folder / JOURNAL_FILE)
        return not any(entry.get("status") == OK for entry in journal.values())

    def _run_again(self, lacking: dict[str, list[str]]) -> None:
        """Forget that the items in ``lacking`` finished, so that they run again, and say so: their rows were lost
        (a table removed or cut short), and a summary of the rest would read as the whole study."""
        if lacking:
            log.warning("%r: %s; %s again", str(self.folder), lacking_in_words(lacking),
                        "it runs" if len(lacking) == 1 else "they run")
        for key in lacking:
            del self._journal[key]

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
        it runs again. A journal line cut off by a full disk is cut away on resume (see ``__init__``). The entry
        counts the item's rows, so that a resume can tell when they were lost since.
        """
        entry = {"key": result.key, "index": result.index, "status": result.status, "message": result.message,
                 "property_name": result.property_name, **({"sha256": result.sha256} if result.sha256 else {}),
                 **({"input_notes": list(result.input_notes)} if result.input_notes else {})}
        stored = {RESULTS_FILE: result.rows, CURVES_FILE: result.curves} if result.status == OK else {}
        entry.update({ROW_COUNTS[name]: len(rows) for name, rows in stored.items()})
        texts = {}
        for name, rows in stored.items():
            buffer = io.StringIO()
            csv.DictWriter(buffer, fieldnames=COLUMNS[name]).writerows(rows)
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
        for name, columns in COLUMNS.items():
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


def _cut_journal(path: Path, size: int) -> None:
    """Cut the journal to its first ``size`` bytes, the lines that read (:func:`_read_journal`), and say so."""
    if path.is_file() and path.stat().st_size > size:
        with path.open("rb+") as handle:
            handle.truncate(size)
        log.warning("%r: its last line was cut off or damaged (a crash or a full disk while it was written); "
                    "dropped, so that item runs again", str(path))


def _write(path: Path, columns, rows: list[dict]) -> None:
    """Write a whole table atomically (:func:`propgrad.disk.replacing`); on a full disk the old table stays as it
    was."""
    try:
        with replacing(path, newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    except OSError as error:
        if no_room(error):
            raise NoRoomError(error, path.parent) from error
        raise
