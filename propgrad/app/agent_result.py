"""What an MCP tool answers: one JSON document per run, made from the same dicts report.json is made of.

Gradio-free. The document is the run's report (``propgrad.export.to_dict`` and ``export.rows``) with a few
fields every tool shares put first (``kind``, ``reading``, ``rows``, ``links``), so a field added to a report reaches agents without touching this module. Only what would
swamp an agent's context is left out: long lists (ImageNet's 1000 output names, every step's full output
vector) and per-property copies of the rows; ``omitted`` names them, and the zip's report holds them all.
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence


# A list longer than this (or a list of lists, i.e. a matrix) is left out of the document.
MAX_LIST = 64
# Sub-reports that repeat the rows: a comparison's per-property reports (their rows are in ``rows``).
REPEATED = ("explanations", "folders")


def _plain(value):
    """JSON values only: NaN and infinities become None (JSON has no such numbers), tuples lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _plain(value.item())
    return value


def lean(value, path: str = "", omitted: list[str] | None = None):
    """``value`` without its long lists and matrices; their paths are appended to ``omitted``.

    Examples
    --------
    >>> gone = []
    >>> lean({"a": list(range(100)), "b": [[1, 2], [3, 4]], "c": [1, 2]}, omitted=gone), gone
    ({'c': [1, 2]}, ['a', 'b'])
    """
    omitted = [] if omitted is None else omitted
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(item, (list, tuple)) and (len(item) > MAX_LIST or any(isinstance(x, (list, tuple))
                                                                                 for x in item)):
                omitted.append(where)
                continue
            kept[key] = lean(item, where, omitted)
        return kept
    if isinstance(value, (list, tuple)):
        return [lean(item, f"{path}[]", omitted) for item in value]
    return value


def document(kind: str, data: dict, rows: Sequence[dict], reading: str, notes: Sequence[str] = ()) -> dict:
    """The answer: ``kind``, ``reading``, ``rows``, ``links`` (filled by the MCP layer), then ``data`` lean."""
    omitted: list[str] = []
    rest = {key: value for key, value in data.items() if key not in REPEATED and key not in ("reading", "table")}
    rest = lean(_plain(rest), omitted=omitted)
    rows = [lean(_plain(dict(row)), "rows[]", omitted) for row in rows]
    # `omitted` among the first fields, in every tool's answer (empty where nothing was left out), as docs/mcp.md
    # lists them: it came last, and only where something was.
    out = {"kind": kind, "reading": reading, "rows": rows, "links": {},
           "omitted": sorted(set(omitted) | {key for key in REPEATED if key in data}), **rest}
    if notes:
        out["notes"] = list(dict.fromkeys([*out.get("notes", []), *notes]))
    return out


def report_and_rows(result, settings: dict | None = None) -> tuple[dict, list[dict]]:
    """The result's machine-readable report (what report.json / comparison.json / screen.json hold) and its ranked
    rows (each with its reading and the statistic's name), from :mod:`propgrad.export`."""
    from .. import export
    data = export.to_dict(result, settings)
    return data, export.rows(result)


def run_document(run) -> dict:
    """One explanation or a comparison of properties (an ``app.results.AppRun``), with its settings."""
    result = run.explanation if run.comparison is None else run.comparison
    data, rows = report_and_rows(result, run.settings)
    kind = "explanation" if run.comparison is None else "comparison"
    # What to check first leads the reading, as it leads the app's answer: an agent read "no measurable effect" of hue
    # on a grey photo as a finding, the caveat a field further down.
    if run.comparison is None:
        caveats = [data["caveat"]] if data.get("caveat") else []
    else:
        caveats = run.comparison.caveats
    reading = data.get("reading") or " ".join(row["reading"] for row in rows)
    # A p at the permutations' floor could be stronger still: "0.0099" from 100 permutations is no exact value.
    floor = [result.floor_words] if result.floor_words else []
    return document(kind, data, rows, " ".join([*caveats, reading]), [*run.notes, *floor])


def screen_document(result, notes: Sequence[str] = (), settings: dict | None = None) -> dict:
    """A screen of many properties: the ranked table, as screen.json holds it, with the ``settings`` written there
    (each model's preprocessing and source, which the result does not keep); the reading is the per-model answer."""
    data, rows = report_and_rows(result, settings)
    floor = [result.floor_words] if result.floor_words else []
    return document("screen", data, rows, " ".join(result.answer), [*notes, *floor])


def dynamics_document(dynamics) -> dict:
    """Training dynamics (a :class:`~propgrad.lesions.dynamics.TrainingDynamics`), as dynamics.json holds them: the
    checkpoints' records (every digit), one per variant and epoch, and each variant's reading in words."""
    data, rows = report_and_rows(dynamics)
    return document("dynamics", data, rows, " ".join(filter(None, [dynamics.caveat, dynamics.reading])))


def dumps(doc: dict) -> str:
    """The document as JSON text (what the tool's first content block holds)."""
    return json.dumps(doc, ensure_ascii=False, allow_nan=False)
