"""One CSV writer for every ranked table (numbers in full precision, None as an empty cell), and the one JSON writer
of every result's document."""
from __future__ import annotations

import csv
import json
import numbers
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from ..disk import replacing, write_whole


def csv_cell(value):
    """How one value is written: a number as JSON writes it (every digit: the shortest text that reads back as the
    same float64; numpy's float32 widened to float64 first, as ``tolist`` does for report.json), None as an empty
    cell, anything else as it is.

    Examples
    --------
    >>> csv_cell(0.1), csv_cell(1 / 3), csv_cell(3.4e-06), csv_cell(None), csv_cell(7), csv_cell(True)
    ('0.1', '0.3333333333333333', '3.4e-06', '', 7, True)
    """
    if value is None:
        return ""
    # A CSV is data to compute with: six significant digits turned a p-value of 1/10001 into 9.999e-05 and
    # let two close scores tie. numpy's scalars are floats too (np.float64's repr would name its type).
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)):
        return repr(float(value))
    return value


def write_rows(path: str | Path, header: Sequence[str], rows: Iterable[Sequence]) -> Path:
    """``rows`` (sequences, one value per column of ``header``) as a CSV file."""
    path = Path(path)
    with replacing(path, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([csv_cell(value) for value in row])
    return path


def write_csv(path: str | Path, fields: Sequence[str], records: Iterable[Mapping]) -> Path:
    """``records`` (mappings holding every field) as a CSV file with ``fields`` as its header."""
    return write_rows(path, fields, ([record[key] for key in fields] for record in records))


def write_json(path: str | Path, document) -> Path:
    """A result's JSON document, whole or not at all (:func:`propgrad.disk.write_whole`). Every writer calls it
    last: a run stopped while its figures were drawn (Ctrl-C, a full disk) left a report.json that read as a
    finished run."""
    path = write_whole(path, json.dumps(document, indent=1))
    if _UNFINISHED is not None:
        _UNFINISHED.discard(path)
    return path


# The documents removed for a command and not written again yet, where a command keeps count (the command line: a
# stop in between leaves their folders a mix); None elsewhere (a server's failed runs would pile up in it).
_UNFINISHED: set[Path] | None = None


def document_path(path: str | Path) -> Path:
    """Where a result's JSON document goes, an older run's document there removed first: until this run writes its own
    (last, :func:`write_json`), none in the folder reads as finished beside this run's first figures."""
    path = Path(path)
    path.unlink(missing_ok=True)
    if _UNFINISHED is not None:
        _UNFINISHED.add(path)
    return path


def count_unfinished_documents() -> None:
    """Keep count of the documents removed and not yet written again, from none (a command line's command)."""
    global _UNFINISHED
    _UNFINISHED = set()


def unfinished_documents() -> list[Path]:
    """The documents :func:`document_path` removed and :func:`write_json` has not written again, outermost first: a
    Ctrl-C while a report was written said "nothing more was written" over a folder holding the new run's tables
    beside the old run's report.html."""
    return sorted(_UNFINISHED or (), key=lambda path: (len(path.parts), str(path)))
