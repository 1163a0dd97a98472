"""One self-contained ``report.html`` per result: opens offline in any browser, attaches to an e-mail.

Every image is inlined as a ``data:`` URI, the only style sheet is inline, and there is no script,
font or link to anything outside the file. Pages are assembled from small escaped pieces (a table
of whatever fields the rows have, a figure or a note saying why it is missing, a settings list);
:func:`explanation_page`, :func:`comparison_page` and :func:`study_page` put them together for one
explanation, a comparison of properties and a study. The figures themselves are drawn elsewhere
(:mod:`propgrad.plots`); a figure that failed or was never written is named as missing, so the page
still opens and says what it lacks.
"""
from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import platform
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from PIL import Image

from ..errors import in_words
from ..interventions.region import share_in_words
from ..ranking import tier_legend
# format_number: the one number format of the app, printouts and reports.
from ..answer import answer_spans
from ..checks import unsaid, with_lead_ins
from ..formats import format_number, format_pvalue
from ..reading import default_thresholds, for_pages, reading_legend, short_names, what_ran, with_evidence
from ..score import DEFAULT_ALTERNATIVE, GRADIENT, P_MEANING, STATISTIC_LABELS, STATISTIC_MEANING
from ..statistics import ADJUSTED_DEPENDS

# Packages whose versions decide a result; those not installed are left out.
_MIME = {".png": "image/png", ".gif": "image/gif", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
         ".webp": "image/webp"}
_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;
padding:1.2em;color:#1d1d1f;background:#fff}
h1{font-size:1.5em;margin:.2em 0 .6em}h2{font-size:1.2em;margin:1.6em 0 .5em;border-bottom:1px solid #ddd}
h3{font-size:1.05em;margin:1.2em 0 .4em}
table{border-collapse:collapse;margin:.4em 0;font-size:.92em;display:block;overflow-x:auto;max-width:100%}
td{overflow-wrap:normal;word-break:normal;hyphens:manual}
th,td{border:1px solid #d0d0d0;padding:.25em .55em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:.6em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.9em}.pair{display:flex;flex-wrap:wrap;gap:0 1.2em}
.missing{background:#fff4e5;border:1px solid #f0b35b;padding:.5em .8em;border-radius:4px}
dl{display:grid;grid-template-columns:minmax(0,max-content) minmax(0,1fr);gap:.15em 1em}dt{font-weight:600}
dd{margin:0}dt,dd{overflow-wrap:anywhere}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}code{overflow-wrap:anywhere}
pre{background:#f6f6f6;padding:.6em;overflow-x:auto;white-space:pre-wrap}
p,li{overflow-wrap:break-word}.flag{white-space:nowrap}
"""
# One card per row, each value named by its column title: for tables wider than a laptop page (class "cards") and,
# on a phone, for every table (a 610 px table in a 390 px page showed half its columns).
_CARDS = ("{t},{t} tbody,{t} tr{{display:block}}{t} thead{{display:none}}"
          "{t} tr{{border:1px solid #d0d0d0;border-radius:6px;margin:.5em 0;padding:.35em .6em}}"
          "{t} td{{display:inline-block;border:none;padding:.1em .9em .1em 0;text-align:left}}"
          '{t} td::before{{content:attr(data-label) ": ";color:#555;font-weight:600}}{t} td.wide{{display:block}}')
# On a phone a plot is shown whole, its type small, and zoomed by pinching: scrolled sideways at a legible width, a
# curve showed its first four steps, flat, and the jump at step 9 that was the finding lay off screen.
_WIDE_FIGURES = ('figure.wide::before{content:"the whole figure: pinch to zoom into its text";display:block;'
                 "color:#555;font-size:.85em}")
# On a phone, settings nested three deep left their values a few characters of width beside the names (a screen's
# page was 400 px wide in 390): each value goes under its name there.
_STACKED_SETTINGS = "dl{display:block}dd{margin:0 0 .2em .8em}"
# A table with a long text column (a reading) under its other columns: each row's text spans the row below it, so
# that the numbers keep their columns on a laptop page (as cards, 102 rows of a screen were 11,900 px to scroll with no
# column to run down); on a phone the two rows read as one card.
_SPANNED = ("tr.detail td{border-top:none;padding:.05em .55em .5em}"
            'tr.detail td::before{content:attr(data-label) ": ";color:#555;font-weight:600}'
            "tr.main td{border-bottom:none}")
_SPANNED_PHONE = ("table tr.main{border-bottom:none;border-radius:6px 6px 0 0;margin-bottom:0}"
                  "table tr.detail{border-top:none;border-radius:0 0 6px 6px;margin-top:0}"
                  "table tr.detail:has(+ tr.detail){border-bottom:none;border-radius:0;margin-bottom:0}")
_STYLE += (_CARDS.format(t="table.cards") + _SPANNED + "\n@media (max-width:640px){" + _CARDS.format(t="table")
           + _SPANNED_PHONE + _WIDE_FIGURES + _STACKED_SETTINGS + "}\n")


def escape(value) -> str:
    """Text for HTML: everything a user typed or uploaded (model names, labels) goes through here, drawn for pages
    (:func:`propgrad.reading.for_pages`: the reading's arrow as one character, the gradient's name on one line)."""
    return html.escape(for_pages(str(value)), quote=True)


def data_uri(source: str | Path | Image.Image, max_side: int | None = None) -> str:
    """A ``data:`` URI of an image file (bytes as they are) or of a PIL image (as PNG, shrunk to ``max_side``).

    Examples
    --------
    >>> data_uri(Image.new("RGB", (2, 2)))[:22]
    'data:image/png;base64,'
    """
    if isinstance(source, Image.Image):
        image = source.copy()
        if max_side:
            image.thumbnail((max_side, max_side))
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="PNG", compress_level=1)  # as the figures' files (plots.PNG_OPTIONS)
        payload, mime = buffer.getvalue(), "image/png"
    else:
        path = Path(source)
        mime = _MIME.get(path.suffix.lower())
        if mime is None:
            raise ValueError(f"`source`: {path.name!r} is not an image this report can inline "
                             f"({in_words(sorted(_MIME), 'or')})")
        payload = path.read_bytes()
    return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"


def figure(title: str, source: str | Path | Image.Image | None, *, missing: str | None = None,
           caption: str = "", max_side: int | None = None, wide: bool | None = None) -> str:
    """An inlined figure, or a visible note naming it and why it is missing. A ``wide`` one (by default one shown
    at its own size, without ``max_side``: a plot, a strip) is shown whole on a phone, with a note to pinch to zoom
    into its text; a picture of the input is not wide."""
    if source is not None and not isinstance(source, Image.Image) and not Path(source).is_file():
        missing, source = missing or f"{Path(source).name} was not found", None
    if source is None:
        reason = missing or "it was not drawn"
        return f'<p class="missing"><strong>{escape(title)}: missing</strong> ({escape(reason)})</p>'
    try:
        uri = data_uri(source, max_side)
    except (OSError, ValueError) as error:
        return figure(title, None, missing=f"it could not be read: {error}")
    note = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    opening = '<figure class="wide">' if (max_side is None if wide is None else wide) else "<figure>"
    return f'{opening}<img alt="{escape(title)}" src="{uri}">{note}</figure>'


def cell(value, alpha: float | None = None) -> tuple[str, bool]:
    """A table cell's text and whether it is a number (right-aligned); with ``alpha``, a p-value's (the digits that
    show on which side of alpha it lies, :func:`~propgrad.formats.format_pvalue`)."""
    if alpha is not None and isinstance(value, float) and not math.isnan(value):
        return format_pvalue(value, alpha), True
    if isinstance(value, bool):
        return ("yes" if value else "no"), False
    if isinstance(value, int):
        return f"{value:,}", True  # 10,000 permutations, as the app writes them
    if isinstance(value, float):
        return ("" if math.isnan(value) else format_number(value)), True
    if isinstance(value, (list, tuple)):
        return ", ".join(cell(item)[0] for item in value), False
    return ("" if value is None else str(value)), False


# Tables with more columns than this, one of them a sentence, are shown as one card per row: a laptop page cannot
# hold them beside the sentence; unless the readings and other texts of sentences (longer than SPANNED_TEXT
# somewhere, not a list of flips) go under each row, which leaves at most SPANNED_COLUMNS of short values side by
# side (a screen's twelve fit). A cell longer than LONG_TEXT takes a card's whole width.
CARD_COLUMNS = 8
SPANNED_COLUMNS = 12
SPANNED_TEXT = 100
LONG_TEXT = 60

# Every page's column titles in words (the CSV and JSON files keep the field names). A page may rename a field
# further, e.g. "score" to the run's statistic.
COLUMN_TITLES = {
    "change": "change of the output", "flipped": "flips?", "flips": "where it flips", "pvalue": "p-value",
    "pvalue_adjusted": "adjusted p", "significant_adjusted": "significant after adjustment",
    "flip_steps": "flip steps", "series_flipped": "series that flip",
}


# Beside an adjusted test, the plain one says which it is: a card read "significant: yes" over a reading of "strong,
# not significant", which is judged after adjustment.
_BESIDE_ADJUSTED = {"significant": "significant before adjustment"}


# The fields that hold p-values, whose digits depend on alpha (a table given alpha formats them so).
PVALUE_FIELDS = ("pvalue", "pvalue_adjusted", "p", "adjusted p")


def table(rows: Sequence[Mapping], headers: Mapping[str, str] | None = None, alpha: float | None = None) -> str:
    """A table with one column per field found in ``rows`` (in order of first appearance).

    Fields are not fixed: a row type that grows a field (a plain-words ``reading``, say) gets its
    column without any change here. ``headers`` renames fields for display; ``alpha`` is the run's, for the p-values'
    digits (:data:`PVALUE_FIELDS`). A table of more than
    :data:`CARD_COLUMNS` fields puts its long texts (a reading) in a row of their own under each row, where that
    leaves at most :data:`SPANNED_COLUMNS` side by side; otherwise it folds into one card per row (each value named
    by its column title), so no table is wider than the page. On a phone every table folds into cards.

    Examples
    --------
    >>> "<th>reading</th>" in table([{"model": "m", "score": 0.1, "reading": "no effect"}])
    True
    """
    if not rows:
        return '<p class="missing">no rows</p>'
    fields = list(dict.fromkeys(key for row in rows for key in row))
    names = {**COLUMN_TITLES, **(_BESIDE_ADJUSTED if "significant_adjusted" in fields else {}), **(headers or {})}
    # A reading goes under its row by its name, whatever its length ("strong and systematic: p(cat) 0.90 -> 0.50,
    # steady fall" is 55 characters); any other text by its length.
    long = [field for field in fields if str(field).startswith("reading")
            or any(len(cell(row.get(field))[0]) > SPANNED_TEXT for row in rows)]
    columns = [field for field in fields if field not in long]
    spanned = len(fields) > CARD_COLUMNS and bool(long) and len(columns) <= SPANNED_COLUMNS
    if not spanned:
        columns, long = fields, []
    cards = not spanned and len(fields) > CARD_COLUMNS
    body = []
    for row in rows:
        body.append("<tr{}>{}</tr>".format(' class="main"' if spanned else "", "".join(
            _cell(row, field, names, alpha=alpha if field in PVALUE_FIELDS else None) for field in columns)))
        body += [f'<tr class="detail">{_cell(row, field, names, span=len(columns))}</tr>' for field in long
                 if cell(row.get(field))[0]]  # an empty one would show its title over nothing
    head = "".join(f"<th>{escape(names.get(field, field))}</th>" for field in columns)
    opening = '<table class="cards">' if cards else "<table>"
    return f"{opening}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _cell(row: Mapping, field: str, names: Mapping[str, str], span: int = 0, alpha: float | None = None) -> str:
    text, numeric = cell(row.get(field), alpha)
    kind = "num" if numeric else ("wide" if len(text) > LONG_TEXT else "")
    attributes = (f' class="{kind}"' if kind else "") + f' data-label="{escape(names.get(field, field))}"' + (
        f' colspan="{span}"' if span else "")
    return f"<td{attributes}>{escape(text)}</td>"


def settings_section(settings: Mapping) -> str:
    """The Settings heading, what the list is (its ``type``: ParametricEdit read as jargon to a student), the list."""
    return ("<h2>Settings</h2><p>The run's settings, to run it again: named in words, those left unset not listed "
            "(<i>type</i>: the kind of intervention or model that ran); the JSON file beside this page holds every one "
            "as the Python API names it.</p>" + settings_list(settings))


def settings_list(settings: Mapping) -> str:
    """A definition list in words: keys without underscores ("n_permutations" reads "permutations"), lists of
    plain values joined (long ones cut, with their length), nested records as nested lists, deeper ones as JSON,
    a class's name as code. A setting left unset (None: its default, which the run's values show) is not listed:
    "stop none" read as a run that never stopped. The packages' versions are left to the Versions block every
    page has (they were listed twice)."""
    return (_definitions({key: value for key, value in settings.items() if key != "packages"}, 0)
            + '<p class="hint">Settings left unset are not listed; the JSON file has every one.</p>')


# Keys whose words are not the key with spaces.
_KEY_WORDS = {"n_permutations": "permutations", "n_steps": "steps", "sha256": "SHA-256", "pixels_sha256":
              "SHA-256 of the pixels", "n_series": "series", "propgrad_version": "propgrad version"}
_LISTED = 12


def _definitions(record: Mapping, depth: int) -> str:
    def shown(key, value) -> str:
        if value is None:
            return escape(_NONE_SAID[key])
        if key == "type" and isinstance(value, str):
            return f"<code>{escape(value)}</code>"  # the Python class that made it, to be looked up as it is
        return escape(f"{value:,}") if key in _COUNTS and _plain_int(value) else _setting(value, depth + 1)

    items = "".join(f"<dt>{escape(_KEY_WORDS.get(str(key), str(key).replace('_', ' ')))}</dt><dd>{shown(key, value)}</dd>"
                    for key, value in record.items() if _set(value) or key in _NONE_SAID)
    return f"<dl>{items}</dl>"


def _set(value) -> bool:
    """Whether a setting was given: None and an empty list or record were not (a study's "labels none, files none,
    hub none" under "those left unset not listed")."""
    return value is not None and not (isinstance(value, (list, tuple, Mapping)) and not value)


# Unset settings that mean something other than a default, in words.
_NONE_SAID = {"seed": "none (a fresh random seed)"}


# Settings read as sizes (10,000 permutations, as the app writes them); every other whole number is written as it
# is, to be copied (a seed of 12345, sizes 1024, 768).
_COUNTS = frozenset({"n_permutations", "permutations"})


def _plain_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def prose(text) -> str:
    """A sentence a program wrote for people (a note, a skipped row's reason) as HTML: escaped, its paths free to
    break after each "/", its flags kept whole (a 390 px page broke "--editor-model" into "-" over
    "-editor-model", and a path ran off its right edge)."""
    return _FLAG.sub(r'<span class="flag">\1</span>', _paths_break(escape(text)))


_FLAG = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def _paths_break(html_text: str) -> str:
    """Escaped text whose paths may break after each "/" (a 390 px page scrolled sideways under a long image path,
    and a settings' path broke mid-name, ".../patches/stic" over "ker_1.png")."""
    return html_text.replace("/", "/<wbr>")


def _setting(value, depth: int) -> str:
    if isinstance(value, Mapping):
        return _definitions(value, depth) if depth < 4 and value else f"<code>{escape(json.dumps(value, default=str))}</code>"
    if isinstance(value, (list, tuple)):
        if all(not isinstance(item, (Mapping, list, tuple)) for item in value):
            shown = ", ".join(_setting_text(item) for item in value[:_LISTED])
            more = f" ... ({len(value)} in all)" if len(value) > _LISTED else ""
            return _paths_break(escape(shown + more)) if value else "none"
        more = f"<p>... ({len(value)} in all; the JSON file lists every one)</p>" if len(value) > _LISTED else ""
        return "<ol>" + "".join(f"<li>{_setting(item, depth + 1)}</li>" for item in value[:_LISTED]) + "</ol>" + more
    return _paths_break(escape(_setting_text(value)))


def _setting_text(value) -> str:
    if value is None:
        return "none"  # in a list; cell() would leave it blank
    if isinstance(value, float) and math.isfinite(value):
        # Not in the tables' two digits: four significant digits, which write a setting as given (alpha 0.01, stop
        # 0.85) and one computed from others short (a patch's opacities printed 0.111111, blur radii 1.77778 beside
        # 0.8889); from 1000 on, six.
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:.6g}"
    return str(value) if _plain_int(value) else cell(value)[0]


def versions_list() -> str:
    """The Versions block: each package by its own name (settings_list would turn open_clip_torch into words)."""
    return "<dl>" + "".join(f"<dt>{escape(name)}</dt><dd>{escape(version)}</dd>"
                            for name, version in versions().items()) + "</dl>"


def versions() -> dict[str, str]:
    """Python, the platform and the installed versions of the packages a result depends on (the same list as every
    report.json's, :func:`propgrad.export.provenance.package_versions`)."""
    from .provenance import package_versions

    return {"python": platform.python_version(), "platform": platform.platform(), **package_versions()}


def page(title: str, sections: Iterable[str]) -> str:
    """The whole document: inline style, no script, nothing fetched."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            # Nothing may be fetched: the page must look the same offline as online.
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
            "style-src 'unsafe-inline'\">"
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n<body>\n<h1>{escape(title)}</h1>\n"
            + "\n".join(sections) + "\n</body></html>\n")


def _missing_list(failed: Mapping[str, str]) -> str:
    if not failed:
        return ""
    items = "".join(f"<li><strong>{escape(name)}</strong>: {escape(reason)}</li>" for name, reason in failed.items())
    return f'<div class="missing"><p>Some figures could not be drawn; the rest of the report is complete.</p>' \
           f"<ul>{items}</ul></div>"


def _reproduce(data: Mapping) -> dict:
    keys = ("intervention", "property_name", "n_steps", "values", "series_labels", "n_permutations", "alpha",
            "seed", "region")
    found = {key: data[key] for key in keys if key in data and data[key] not in (None, [], "")}
    coverage = found["region"].get("coverage") if isinstance(found.get("region"), Mapping) else None
    if isinstance(coverage, float):  # "coverage 0.7346" asked a student to know what the number was of
        found["region"] = f"{share_in_words(coverage)} of the image"
    settings = data.get("settings")
    sources = {one.get("name"): one.get("source") for one in (settings or {}).get("models") or ()
               if isinstance(one, Mapping)} if isinstance(settings, Mapping) else {}
    found["models"] = [f"{m['name']} ({m['output_kind']}, {len(m['output_names'])} outputs"
                       f"{_weights(sources.get(m['name']))})" for m in data["models"]]
    found["outputs of interest"] = sorted({s["name"] for m in data["models"] for s in m["outputs_of_interest"]})
    # What the intervention was made with (a patch's position and size, an editor's prompt), as the app recorded it:
    # without it the page could not be matched to a run.
    if isinstance(settings, Mapping) and settings.get("outputs_of_interest") == "predicted":
        # The JSON keeps what was asked, which another image resolves to its own class; the page named only this
        # image's, and a reader re-ran "Egyptian cat" where the JSON said "predicted".
        found["outputs of interest"] = (f"{', '.join(found['outputs of interest'])} (asked: each model's predicted "
                                        f"class at step 0)")
    # One property's page of a comparison has only its own (export.explanation.own_settings).
    made_with = settings.get("interventions") if isinstance(settings, Mapping) else None
    if isinstance(made_with, Mapping) and made_with:
        parts = _intervention_settings(made_with)
        found["intervention settings"] = next(iter(parts.values())) if len(parts) == 1 else parts
    return found


def _weights(source) -> str:
    """"; weights a.safetensors (SHA-256 ...)" for a model whose settings name its weight files; "" otherwise."""
    files = source if isinstance(source, list) else [source]
    named = [f"{one['file']} (SHA-256 {one['sha256']})" for one in files
             if isinstance(one, Mapping) and one.get("sha256")]
    return f"; weights {', '.join(named)}" if named else ""


def _intervention_settings(made_with: Mapping) -> dict:
    return {name: {key: value for key, value in spec.items() if key != "name"} if isinstance(spec, Mapping) else spec
            for name, spec in made_with.items()}


def _comparison_settings(data: Mapping) -> dict:
    """A comparison page's Settings: what every property shares (steps, models, outputs), how each was made, the
    test. (It listed only the properties and the test: the models and an edit's strength were on the per-property
    pages alone.)"""
    found = {"properties": data["properties"]}
    each = [_reproduce(one) for one in (data.get("explanations") or {}).values()]
    for key in ("n_steps", "models", "outputs of interest"):  # only where every property has the same
        if each and key in each[0] and all(one.get(key) == each[0][key] for one in each):
            found[key] = each[0][key]
    made_with = (data.get("settings") or {}).get("interventions")
    if isinstance(made_with, Mapping) and made_with:
        found["intervention settings"] = _intervention_settings(made_with)
    found.update({key: data[key] for key in ("n_permutations", "alpha", "seed", "adjustment")})
    return found


def _what_ran(data: Mapping) -> str:
    """The sentence the app's result opens with, from report.json's fields."""
    series = max(1, len(data.get("series_labels") or ()))
    # report.json keeps the first series' values: the range is left out where the series have values of their own.
    shared = series == 1 or data.get("values_shared", False)
    return what_ran(data["intervention"], data["property_name"], data["n_steps"],
                    data["values"] if shared else (), data["n_permutations"], data["alpha"], series)


def _first_step(data: Mapping) -> str:
    # Steps count from 0: "step 0 of 36" read as 37 steps for 36 frames; and a frame is no "unedited image".
    if isinstance(data.get("input"), Mapping) and "frames" in data["input"]:
        return f"step 0, the first of {data['n_steps']} frames"
    return f"step 0, the first of {data['n_steps']} steps: the unedited image"


def explanation_sections(data: Mapping, rows: Sequence[Mapping], paths: Mapping[str, Path], input_image,
                         failed: Mapping[str, str] | None = None, heading: int = 2, part: str | None = None,
                         said: Sequence[str] = ()) -> list[str]:
    """The body of one explanation: input, strip, curves, table, null plots (what was drawn), settings.

    ``data`` is :func:`propgrad.export.explanation.to_dict`'s result, ``rows`` :func:`propgrad.export.explanation.summary_rows`'s,
    ``paths`` what :func:`propgrad.export.explanation.write_report` wrote, ``failed`` figure name -> reason;
    ``part``: the page is one property of a comparison (curves not drawn for it are on the comparison's page).
    """
    failed = dict(failed or {})
    h = f"h{heading}"

    def shown(name: str, title: str, caption: str = "") -> str:
        if name in paths:  # the region is the input with its outline: a picture, not a plot
            return f"<{h}>{title}</{h}>" + figure(title, paths[name], caption=caption, wide=name != "region")
        if name in failed:
            return f"<{h}>{title}</{h}>" + figure(title, None, missing=failed[name])
        if name == "null" and top:
            return NULL_MARKER  # the app draws the null plots while this page is written: add_null puts them here
        if name == "curves" and top and part:
            # A comparison's property page drawn without its own curves: the comparison's page has them all.
            return (f"<{h}>{title}</{h}><p>Drawn beside the other properties' on the comparison's page, "
                    "<code>../report.html</code>.</p>")
        return ""  # not asked for (e.g. a comparison draws all curves in one figure of its own)

    top = heading == 2  # a page of its own, not a comparison's section
    caveat = data.get("caveat")
    sections = [_missing_list(failed), input_line(data.get("input")) if top else "",
                f"<p>{escape(_what_ran(data))}</p>" if top else "",
                caveat_paragraph(caveat if caveat and unsaid([caveat], said) else None),
                summary_paragraph(data.get("reading", "")) if top else "",
                note_paragraphs(data.get("notes", ()), [caveat]) if top else "", _gradual_lines(data),
                f"<{h}>Input</{h}>" + figure("input image", input_image, max_side=384, caption=_first_step(data)),
                shown("region", "Region", "the region the edit was restricted to, drawn on the input"),
                shown("strip", "Steps of the intervention", data.get("property_name", "")),
                shown("gradualness", "Is the series gradual?",
                      "image change from step 0 (mean Delta E) at every step; a steady rise is a gradual intervention"),
                shown("curves", "Model outputs along the property"),
                f"<{h}>Scores</{h}>" + table(page_rows(rows), {"score": _statistic_label(data)}, alpha=data["alpha"])
                + (models_line(rows) if top else "")  # a comparison's page names them once, under its ranked table
                # The legend once a page: a comparison's ranked table has it, and its sections repeated it (four
                # tier legends on a page of two regions).
                + (f"<p>alpha = {escape(data['alpha'])}; p-values from {data['n_permutations']:,} shuffles "
                   "(+1 corrected). change: the output's (mean) curve, highest minus lowest value. tier: "
                   f"{escape(tier_legend())}. {GUIDE_LINK}</p>" if top else ""),
                shown("null", "Shuffle-test null distributions",
                      "observed score against the scores of shuffled series")]
    return [s for s in sections if s]


def _gradual_lines(data: Mapping) -> str:
    """The gradualness verdict in words, as the app and the command line say it, and the app's warning where a
    series is not gradual, on a run's own page and in each property's section of a comparison's.

    Examples
    --------
    >>> _gradual_lines({"all_series_gradual": True})
    ''
    >>> _gradual_lines({"all_series_gradual": False, "gradual_summary": "gradual: NO, the images hardly change"})[:66]
    '<p>The images themselves, before any model: gradual: NO, the image'
    """
    from ..gradualness import NOT_GRADUAL_WARNING

    verdict = (f"<p>The images themselves, before any model: {escape(data['gradual_summary'])}</p>"
               if data.get("gradual_summary") else "")
    warning = "" if data.get("all_series_gradual", True) else f"<p><b>Warning:</b> {escape(NOT_GRADUAL_WARNING)}</p>"
    return verdict + warning


# Fields a page leaves to others that say the same in words: the statistic names the score's column, "where it
# flips" says whether, where and in how many series (the files keep them all).
_WORDED_ELSEWHERE = frozenset({"statistic", "flipped", "flip_steps"})


def page_rows(rows: Sequence[Mapping]) -> list[dict]:
    """A table's rows as a page shows them (see :data:`_WORDED_ELSEWHERE`; "series that flip" only where there are
    several series: "1/1" beside "where it flips" read as a code and said nothing more)."""
    one_series = all(str(row.get("series_flipped", "")).endswith("/1") for row in rows)
    left_out = _WORDED_ELSEWHERE | ({"series_flipped"} if one_series else set())
    short = short_names([row["model"] for row in rows if "model" in row])
    return [{key: short.get(value, value) if key == "model" else value for key, value in row.items()
             if key not in left_out} for row in rows]


def models_line(rows: Sequence[Mapping]) -> str:
    """Under a table whose model column gives short names (as the app's tables do: "ConvMixer cats vs dogs,
    unbiased (authors)" took four lines of a narrow column in every row), each short name's model in full."""
    short = short_names([row["model"] for row in rows if "model" in row])
    named = [f"{escape(brief)}: {escape(name)}" for name, brief in short.items() if brief != name]
    return f'<p class="hint">Models: {"; ".join(named)}.</p>' if named else ""


def caveat_paragraph(text: str | None) -> str:
    """A caution to read before the reading (report.json's ``caveat``), its lead-ins in bold as the app sets it; on a
    run's own page and in each property's section of a comparison's.

    Examples
    --------
    >>> caveat_paragraph("Check the edits before this answer: the images hardly change.")
    '<p class="caveat"><b>Check the edits before this answer:</b> the images hardly change.</p>'
    >>> caveat_paragraph(None)
    ''
    """
    if not text:
        return ""
    return f'<p class="caveat">{with_lead_ins(escape(text), lambda lead: f"<b>{lead}</b>")}</p>'


def summary_paragraph(text: str) -> str:
    """The plain-words summary at the top of a page, its leading "Reading:" in bold as in the app."""
    if not text:
        return ""
    head, _, rest = text.partition(":")
    if rest and head.strip().lower() == "reading":
        return f"<p><b>Reading:</b>{escape(rest)}</p>"
    return f"<p>{escape(text)}</p>"


def input_line(source: Mapping | None) -> str:
    """One paragraph naming the input: its file and SHA-256 (or its pixels' hash) and size; empty without one."""
    if not source:
        return ""
    if "frames" in source:
        frames = source["frames"]
        names = [frame.get("file") or f"frame {number + 1}" for number, frame in enumerate(frames)]
        return (f"<p><b>Input:</b> {len(frames)} frames: {escape(_shortened(names))} (each one's SHA-256 is in "
                f"report.json's input)</p>")
    name = source.get("file") or "an image given in memory"
    digest = source.get("sha256") or source.get("pixels_sha256", "")
    kind = "SHA-256" if source.get("sha256") else "SHA-256 of its pixels"
    size = f", {source['width']} x {source['height']} px" if source.get("width") else ""
    return f"<p><b>Input:</b> {escape(name)}{escape(size)}; {kind} <code>{escape(digest)}</code></p>"


def _images_line(images: Sequence[Mapping]) -> str:
    """The study's images named in one line (a long list shortened), their SHA-256 left to the table below."""
    if not images:
        return ""
    names = [Path(str(image["image"])).name for image in images]
    if len(set(names)) < len(names):  # a/x.png and b/x.png: the names as the study gave them
        names = [str(image["image"]) for image in images]
    count = "1 image" if len(names) == 1 else f"{len(names):,} images"
    return f"<p><b>Input:</b> {count}: {escape(_shortened(names))} (each one's SHA-256 under Input images)</p>"


def _images_list(images: Sequence[Mapping]) -> str:
    """Each image with its SHA-256 as code (which wraps on a phone, where a table's cell of 64 characters did not),
    folded away when the list is long."""
    items = "".join(f"<li>{_paths_break(escape(image['image']))}: <code>{escape(image['SHA-256'] or 'not recorded')}"
                    "</code></li>"
                    for image in images)
    if len(images) <= _LISTED:
        return f"<ul>{items}</ul>"
    return f"<details><summary>{len(images):,} images and their SHA-256</summary><ul>{items}</ul></details>"


def _shortened(names: Sequence[str]) -> str:
    """Names in a line: six at most, a long list as its first three, "...", its last two."""
    return ", ".join(names if len(names) <= 6 else [*names[:3], "...", *names[-2:]])


def model_descriptions(data: Mapping) -> dict[str, str]:
    """Name -> description of the models of one explanation's report.json (older files have no description)."""
    return {model["name"]: model.get("description", "") for model in data.get("models", ())}


GUIDE_LINK = '<a href="#guide">What the columns mean: how to read this page.</a>'


def guide_section(statistic: str, models: Mapping[str, str] | Iterable[str] = (), *, also: Sequence[str] = (),
                  own: Mapping[str, str | None] | None = None) -> str:
    """How to read the page, for a reader who has not seen the app: what each model is (``models``: name ->
    description, as report.json stores them, or names, looked up in the registry; the report named "dark-cats bias"
    without saying it is a model trained on dark cats), and the terms every table and figure uses (a student reading
    a shared report.html met E[|grad_X F|] and Delta E undefined). ``statistic`` is the one the shuffle test scored;
    ``also`` statistics the page shows beside it (a study's gradient mean whatever its test); ``own`` a term's text
    as this page means it (training dynamics' change is step 0 to the last step), None for a term the page never
    shows ("Delta E" where no image change is measured)."""
    described = dict(models) if isinstance(models, Mapping) else {name: registered_description(name) for name in models}

    def meaning(name: str) -> str:
        if name != GRADIENT:
            return STATISTIC_MEANING[name]
        return f"the expected property gradient magnitude. {STATISTIC_MEANING[GRADIENT]}"

    terms = [("change", "how far the output's (mean) curve moved over the steps, its highest minus its lowest value; "
                        "for a probability 0.1 is ten percentage points. It says how large the effect is."),
             (STATISTIC_LABELS[statistic], meaning(statistic) + " The shuffle test scores it."),
             *[(STATISTIC_LABELS[name], meaning(name)) for name in also if name != statistic],
             ("p, significant", f"p: {P_MEANING[DEFAULT_ALTERNATIVE[statistic]]} The observed order counts as one "
                                "of the shuffles (+1 corrected), so p is never 0: with N permutations it cannot fall "
                                "below 1/(N+1) (0.00010 for 10,000), and a row at that value could be stronger still. "
                                "An adjusted p is corrected for "
                                "testing many rows at once, and is the one compared where a table gives it; "
                                f"{ADJUSTED_DEPENDS}. "
                                "Significant: p at most alpha. It says the output follows the property "
                                "systematically, not that it moves much: the change says that."),
             ("tier, reading", f"every row is read in words: {reading_legend()}. Ranked tables (a comparison's, a "
                               f"screen's, a study's) rank by tier ({tier_legend()}), then by change."),
             ("flip", "a step where the model's predicted class changes (for a two-class model: where its probability "
                      "crosses 0.5)."),
             ("Delta E", "how much an image differs from step 0: the mean colour difference (CIE76 Delta E) over its "
                         "pixels, where about 2.3 is just visible. A steady rise from step to step means the change is "
                         "gradual, as the method assumes.")]
    own = dict(own or {})
    unknown = set(own) - {name for name, _ in terms}
    if unknown:  # a misspelt term would silently keep the general text
        raise ValueError(f"no term {in_words(sorted(unknown))} in the guide")
    terms = [(name, own.get(name, text)) for name, text in terms if own.get(name, text) is not None]
    listed = "".join(f"<li><b>{escape(name)}</b>" + (f": {escape(about)}" if about else "") + "</li>"
                     for name, about in described.items())
    return ('<h2 id="guide">How to read this page</h2>' + (f"<p>The models:</p><ul>{listed}</ul>" if listed else "")
            + "<dl>" + "".join(f"<dt>{escape(term)}</dt><dd>{escape(text)}</dd>" for term, text in terms) + "</dl>")


def registered_description(name: str) -> str:
    """The description ``name`` was registered with, "" for a model the registry does not hold (one's own file, or
    this process never registered the shipped ones)."""
    from ..models.registry import model_description

    try:
        return model_description(name)
    except ValueError:
        return ""


def _statistic_label(data: Mapping) -> str:
    return STATISTIC_LABELS[data.get("statistic", "gradient")]


def reading_sentence(reading: Mapping) -> str:
    """A reading as report.json stores it, as :attr:`propgrad.reading.Reading.full` gives it: "label: text.
    Evidence."."""
    return with_evidence(f"{reading['label']}: {reading['text']}", reading.get("evidence") or "")


def explanation_page(data: Mapping, rows: Sequence[Mapping], paths: Mapping[str, Path], input_image,
                     failed: Mapping[str, str] | None = None, settings: Mapping | None = None,
                     part: str | None = None) -> str:
    """The whole page of one explanation (see :func:`explanation_sections`); ``part`` names its intervention
    among the run's (a comparison's property)."""
    # "turntable angle (degrees) (frames)": brackets after brackets.
    title = f"propgrad: {data['intervention']} · {data['property_name']}"
    body = explanation_sections(data, rows, paths, input_image, failed, part=part)
    body.append(guide_section(data.get("statistic", GRADIENT), model_descriptions(data)))
    body.append(settings_section({**_reproduce(data), **(settings or {})}))
    body.append("<h2>Versions</h2>" + versions_list())
    return page(title, body)


def answer_paragraphs(answer: Sequence[str]) -> str:
    """A ranked result's answer (:attr:`propgrad.answer.Answered.answer_marked`), a paragraph a sentence, each
    sentence's model in bold and its properties in italics, as the app sets them, and a caveat's lead-in in bold;
    plain sentences (a document's ``answer``) as they are."""
    look = {"model": "<b>{}</b>", "property": "<em>{}</em>", "text": "{}"}
    return "".join("<p>" + with_lead_ins("".join(look[kind].format(escape(text)) for kind, text in answer_spans(line)),
                                         lambda lead: f"<b>{lead}</b>") + "</p>" for line in answer)


def how_tested_line(data: Mapping) -> str:
    """How a ranked table's p-values were made, said above the table (a screen's page said it only after 102 rows,
    while its answer already spoke of "none significant after adjustment")."""
    rows = len(data["table"])
    shuffles = data.get("n_permutations")
    against = f" against {shuffles:,} shuffles of its series" if shuffles else ""
    if rows == 1:  # its p-value is its own, as the answer says it
        return (f"<p><b>Tested:</b> one row (property x model x output), its statistic{against}; alpha = "
                f"{escape(data['alpha'])}.</p>")
    return (f"<p><b>Tested:</b> {rows:,} rows (property x model x output), each row's statistic{against}; p-values "
            f"adjusted over all {rows:,} with {escape(data['adjustment'])}; alpha = {escape(data['alpha'])}.</p>")


def comparison_page(data: Mapping, figure_path: Path | None, parts: Sequence[tuple[str, str]],
                    failed: Mapping[str, str] | None = None, strip: Path | None = None, curves: Path | None = None,
                    curves_later: bool = False, answer: Sequence[str] | None = None) -> str:
    """A comparison of properties: the ranked table, the steps of every property (``strip``, where drawn), its
    figure, then each property's sections.

    ``data`` is :func:`propgrad.export.comparison.to_dict`'s result; ``parts`` (property, HTML of its
    sections) in ranked order; ``curves``: a figure of every property's curves drawn elsewhere (the app's), shown
    in place of the comparison's figure; ``curves_later``: such a figure is drawn after the page (:func:`add_drawn`);
    ``answer``: the answer with its names marked (:attr:`propgrad.answer.Answered.answer_marked`; else the document's).
    """
    failed = dict(failed or {})
    rows = [{**row, "reading": reading_sentence(row["reading"])} for row in data["table"]]
    # The answer per model first, as the app shows it: under the reading over every row (ninety words) it came second
    # and read as a repetition of it. The steps and the curves follow it, before the table (as a screen's page has
    # its figure): at 1280 x 720 they began three screens down.
    body = [_missing_list(failed), input_line(data.get("input")),
            "<h2>The answer</h2>" + answer_paragraphs(answer if answer is not None else data.get("answer", ()))
            + how_tested_line(data), summary_paragraph(data["reading"]),
            note_paragraphs(data.get("notes", ()), data.get("answer", ()))]
    # Without a strip, a marker where :func:`add_strip` puts one drawn later (the app draws it while the page is
    # written in another process).
    body.append(strip_section(strip) if strip is not None else STRIP_MARKER)
    if curves is not None or "curves" in failed:
        body.append(curves_section(curves, missing=failed.get("curves")))
    elif curves_later:
        body.append(CURVES_MARKER)
    elif figure_path is not None or "comparison" in failed:
        body.append("<h2>Comparison</h2>" + figure("comparison figure", figure_path, missing=failed.get("comparison")))
    shuffles = (f" alpha = {escape(data['alpha'])}; p-values from {data['n_permutations']:,} shuffles (+1 corrected). "
                "change: the output's (mean) curve, highest minus lowest value." if data.get("n_permutations") else "")
    body += [f"<h2>Ranked properties</h2><p>Ranked by what the output did (tier {escape(tier_legend())}), then by "
             f"its change; p beside.{shuffles}</p>"
             + table(page_rows(rows), {"score": _statistic_label(data)}, alpha=data["alpha"]) + models_line(rows),
             f"<p>{GUIDE_LINK}</p>"]
    if data.get("contrast"):
        body.append(contrast_section(data["contrast"]))
    elif data.get("contrast_note"):
        body.append(f"<p>{prose(data['contrast_note'])}</p>")
    if parts:
        # A reader comparing a property's section with the ranked table sees two p-values for one row.
        body.append("<p><i>Each property on its own follows. Its rows are read with their own p-values; the ranked "
                    "table above reads them with the p-values adjusted over the whole table, so a row can read "
                    "systematic here and not there.</i></p>")
    for name, sections in parts:
        body.append(f"<h2>{escape(name)}</h2>{sections}")
    body.append(NULL_MARKER)  # every property's null plots, where the app draws them after this page (add_null)
    body.append(guide_section(data.get("statistic", GRADIENT),
                              model_descriptions(next(iter(data["explanations"].values()), {}))))
    body.append(settings_section(_comparison_settings(data)))
    body.append("<h2>Versions</h2>" + versions_list())
    return page(f"propgrad: {len(data['properties'])} properties compared", body)


STRIP_MARKER = "<!-- propgrad: the steps of each property go here -->"


def strip_section(strip: Path) -> str:
    """A comparison page's section showing the steps of every property (one strip drawn for them all)."""
    return "<h2>Steps of each property</h2>" + figure(
        "steps of each property", strip, caption="each property's series from step 0 (the unedited image) on, with "
        "how much every step changes the image under it")


def own_page_line(folder: str) -> str:
    """Under a property's heading on a comparison's page: where its own page and files are (nothing said so). Named,
    not linked: the page stands alone (a link would break once it is sent on by itself)."""
    return (f"<p>Its own page, with its report.json and curves.csv: <code>{escape(folder)}/report.html</code> beside "
            "this one.</p>")


CURVES_MARKER = "<!-- propgrad: every property's curves go here -->"


def curves_section(curves: Path | None, missing: str | None = None) -> str:
    """A comparison page's curves of every property, one panel each (the app's figure); ``missing`` says why where
    there is none."""
    return "<h2>Model outputs along each property</h2>" + figure(
        "model outputs along each property", curves, caption="each model's output at every step of each property; "
        "diamonds mark where the prediction flips", missing=missing)


NULL_MARKER = "<!-- propgrad: the shuffle test's null distributions go here -->"


def null_section(null: Path) -> str:
    """The shuffle test's null distributions (every property's, on a comparison's page)."""
    return "<h2>Shuffle-test null distributions</h2>" + figure(
        "shuffle-test null distributions", null, caption="the observed score against the scores of shuffled series")


def add_strip(page_path: Path, strip: Path) -> bool:
    """Put a strip drawn after the comparison's page was written where the page left room for it; False where the
    page has no room (it has a strip already, or is not a comparison's)."""
    return bool(add_drawn(page_path, strip=strip))


def add_null(page_path: Path, null: Path) -> bool:
    """Put null distributions drawn after the page was written where it left room for them (a run's page, a
    comparison's); False where it has none (they were drawn with it, or it is not such a page)."""
    return bool(add_drawn(page_path, null=null))


def add_drawn(page_path: Path, *, strip: Path | None = None, null: Path | None = None,
              curves: Path | None = None) -> list[str]:
    """Put the figures drawn after the page was written (``strip``, ``null``, a comparison's ``curves``; None: not
    drawn) where the page left room for them, reading and writing the page once; the names of those put in."""
    page_path = Path(page_path)
    text = page_path.read_text(encoding="utf-8")
    sections = {"strip": (STRIP_MARKER, strip, strip_section), "curves": (CURVES_MARKER, curves, curves_section),
                "null": (NULL_MARKER, null, null_section)}
    added = []
    for name, (marker, drawn, section) in sections.items():
        if drawn is not None and marker in text:
            text = text.replace(marker, section(drawn), 1)
            added.append(name)
    if added:
        # Beside it, then over it: a full disk leaves the page without the figures, not without the page.
        staged = page_path.with_name(page_path.name + ".part")
        write(text, staged)
        os.replace(staged, page_path)
    return added


def contrast_section(contrast: Sequence[Mapping], order: str = "") -> str:
    """Where the models differ: per property, how far the same output moved for each model (``order`` says how the
    rows are ordered, e.g. ", largest lead first")."""
    return ("<h2>Where the models differ</h2><p>Per property, how far the same output moved for each model, and "
            "which way. moved most: the model whose output moved most; lead: by how much more than the next model's "
            f"(under {default_thresholds().negligible:g}, as written, no model leads: about as much){escape(order)}. "
            "It has no test of its own: read it beside each model's tier.</p>"
            + table([_models_together(row) for row in contrast]))


def _models_together(record: Mapping) -> dict:
    """A contrast record with each model's numbers in one cell ("change 0.91 down and back, E[|grad_X F|] 0.19, tier
    a"): as
    "model: field" columns, three models made a card of twelve label-value pairs in a row (the CSV and JSON keep
    them apart).

    Examples
    --------
    >>> _models_together({"property": "fur", "unbiased: change": 0.91, "unbiased: direction": "down and back",
    ...                   "unbiased: tier": "a", "output: tier": "e"})
    {'property': 'fur', 'unbiased': 'change 0.91 down and back, tier a', 'output': 'tier e'}
    >>> _models_together({"output": "cat", "output: tier": "e"})  # a model named "output" keeps its cell
    {'output': 'cat', 'output (model)': 'tier e'}
    """
    fixed = {key: value for key, value in record.items() if ": " not in str(key)}
    per_model: dict[str, list[str]] = {}
    for key, value in record.items():
        model, separator, field = str(key).rpartition(": ")
        if separator and field == "direction":
            # Which way beside how far ("change 0.91 down and back"); a flat curve has none to say.
            if value and per_model.get(model):
                per_model[model][-1] += f" {value}"
        elif separator:
            per_model.setdefault(model, []).append(f"{field} {cell(value)[0]}")
    # A model called "output" (say) gets its own column beside the fixed one.
    return {**fixed, **{(model if model not in fixed else f"{model} (model)"): ", ".join(numbers)
                        for model, numbers in per_model.items()}}


def note_paragraphs(notes: Sequence[str], said: Sequence[str | None] = ()) -> str:
    """Notes about a run near the top of its page, one paragraph each ("Note: with 5 permutations ..."): every
    kind of page puts them under its summary, where a note that nothing could come out significant is read before
    the table it explains."""
    return "".join(f"<p><b>Note:</b> {prose(note)}</p>" for note in unsaid(notes, said))


# What a study's pages say in place of its summary where no item finished (summary.md, report.html).
NOTHING_FINISHED = "No item finished: there is nothing to summarise (see the skipped and failed items below)."


def study_page(title: str, reading: str, rows: Sequence[Mapping], figures: Mapping[str, Path | None],
               definition: Mapping, skipped: Sequence[tuple[str, str]] = (), failed: Sequence[tuple[str, str]] = (),
               missing: Mapping[str, str] | None = None, flips: Mapping | None = None,
               notes: Sequence[str] = (), images: Sequence[Mapping] = (), statistic: str = GRADIENT,
               legend: str = "") -> str:
    """A study (``statistic``: the one its shuffle test scored): the reading in words, its input images (``images``: each one's ``image`` and ``SHA-256``, named on
    top and listed in full further down), notes about the run, the summary table, its figures (title -> file, None
    when not drawn), how well the score predicts flips (``flips``: its ``method``, a ``note`` in place of the table,
    or its ``rows`` and what their ``columns`` mean), settings and problems; ``legend`` says what the summary's
    columns hold that the guide does not (series per tier, gradual series)."""
    missing = dict(missing or {})
    body = [f"<p>{escape(reading)}</p>", _images_line(images), note_paragraphs(notes), _missing_list(missing)]
    if not rows:  # why, and the items further down: no legend of a table that is not there
        body.append(f"<h2>Summary</h2><p>{escape(NOTHING_FINISHED)}</p>")
        flips = None
    else:
        body.append(f"<h2>Summary</h2><p>Ranked by what the mean output did (tier {escape(tier_legend())}), then by "
                    f"its change. {GUIDE_LINK}</p>" + table(rows) + (f"<p>{escape(legend)}</p>" if legend else ""))
    if flips:
        columns = f"<p>{escape(flips['columns'])}</p>" if flips.get("columns") else ""
        body.append("<h2>Predicting prediction flips from the score</h2>" + f"<p>{escape(flips['method'])}</p>"
                    + (f"<p>{escape(flips['note'])}</p>" if flips.get("note") else table(flips["rows"]) + columns))
    for name, path in figures.items():
        body.append(f"<h2>{escape(name)}</h2>" + figure(name, path, missing=missing.get(name)))
    if images:
        body.append("<h2>Input images</h2>" + _images_list(images))
    for heading, entries in (("Skipped (unreadable images)", skipped), ("Failed items", failed)):
        if entries:
            body.append(f"<h2>{heading}</h2><ul>"
                        + "".join(f"<li><code>{escape(k)}</code>: {escape(r)}</li>" for k, r in entries) + "</ul>")
    # The study's table gives the gradient's mean whatever statistic its test used.
    body.append(guide_section(statistic, [row["model"] for row in rows if "model" in row], also=(GRADIENT,),
                              own={"Delta E": None}))  # a study's page shows gradual shares, no image change
    body.append(settings_section(definition) if definition else "<h2>Settings</h2><p>no definition stored</p>")
    body.append("<h2>Versions</h2>" + versions_list())
    return page(title, body)


def write(text: str, path: str | Path) -> Path:
    from ..disk import write_whole

    return write_whole(path, text)
