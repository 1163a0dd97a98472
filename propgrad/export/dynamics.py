"""Export training dynamics (:class:`~propgrad.lesions.dynamics.TrainingDynamics`): dynamics.csv (every checkpoint's
record), dynamics.json, dynamics.png (score and flips per epoch) and report.html (one self-contained page: the reading,
the figure, the table of checkpoints, how to read it, the input, settings and versions).

``dynamics.json`` fields
------------------------
propgrad_version, kind ("dynamics"), statistic ("gradient": E[|grad_X F|] of the tracked output), output (the tracked
output), alpha, n_permutations, seed, n_steps, input (the image's name and SHA-256), reading (each run's reading in
words), checkpoints (each run's checkpoint files by name; in ``settings`` by name and SHA-256), ``table``: one record
per run and checkpoint with the fields of
:data:`~propgrad.lesions.dynamics.ROW_FIELDS` (every digit), and ``settings``: what the run was made with.
"""
from __future__ import annotations

from pathlib import Path

from ..score import GRADIENT
from . import html as html_report
from .folder import ReportFolder

FIGURE = "dynamics.png"

# The guide's terms as this page means them: a checkpoint keeps its output at step 0 and at the last step, not its
# curve (:func:`propgrad.lesions.dynamics.checkpoint_labels`), and no image change is measured.
GUIDE_TERMS = {
    "change": "how far the mean output moved from step 0 to the last step (either way); for a probability 0.1 is "
              "ten percentage points. It says how large the effect is.",
    "tier, reading": "every checkpoint is read in words from its change, its flips and its test (a checkpoint keeps "
                     "no curve, so no shape is read); the table's legend gives where strong begins.",
    "Delta E": None,
}


def made_with(dynamics) -> dict:
    """What ``dynamics`` was made with: the input, the intervention, each run's checkpoints, the tracked output and
    the shuffle test (the settings block of dynamics.json)."""
    from .provenance import describe_intervention, package_versions

    made = {"statistic": dynamics.statistic, "input": dynamics.input, "output": dynamics.output,
            "n_steps": dynamics.n_steps, "n_series": dynamics.n_series, "n_permutations": dynamics.n_permutations,
            "alpha": dynamics.alpha,
            "seed": dynamics.seed, "checkpoints": dynamics.checkpoint_files or dynamics.checkpoints}
    if dynamics.intervention is not None:
        made["intervention"] = describe_intervention(dynamics.intervention)
    return {**made, "packages": package_versions()}


def to_dict(dynamics, settings_block: dict | None = None) -> dict:
    """The machine-readable training dynamics (see the module docstring for the fields)."""
    from .._version import __version__

    return {
        "propgrad_version": __version__,
        "kind": "dynamics",
        "statistic": dynamics.statistic,
        "output": dynamics.output,
        "alpha": dynamics.alpha,
        "n_permutations": dynamics.n_permutations,
        "seed": dynamics.seed,
        "n_steps": dynamics.n_steps,
        "n_series": dynamics.n_series,
        "input": dynamics.input,
        "caveat": dynamics.caveat,
        "reading": dynamics.reading,
        "notes": list(dynamics.notes),
        "checkpoints": dynamics.checkpoints,
        "table": dynamics.rows,
        "settings": settings_block if settings_block is not None else made_with(dynamics),
    }


def page_rows(dynamics) -> list[dict]:
    """The table of checkpoints as the app's tab shows it (:func:`~propgrad.lesions.dynamics.checkpoint_cells`)."""
    from ..lesions.dynamics import checkpoint_cells, checkpoint_columns

    titles = checkpoint_columns(dynamics.output)
    return [dict(zip(titles, checkpoint_cells(row, dynamics.alpha))) for row in dynamics.rows]


def _checkpoint_tables(dynamics) -> str:
    """One table per run under its name: without the run's column a table has eight and fits a laptop page (one
    table of nine folded into a card per checkpoint, 40 cards for two runs of 20 epochs, hard to scan)."""
    runs: dict[str, list[dict]] = {}
    for row in page_rows(dynamics):
        run, *_ = row.values()
        runs.setdefault(run, []).append(dict(list(row.items())[1:]))
    return "".join(f"<h3>{html_report.escape(run)}</h3>" + html_report.table(rows) for run, rows in runs.items())


def _ends(dynamics) -> str:
    """The image every checkpoint saw at step 0 and at the last step of each series, side by side."""
    if not dynamics.ends:
        return ""
    first, last = dynamics.ends
    # Every series' last step where known (each sticker): the first series' alone hid the other two stickers.
    lasts = dynamics.series_ends or [("the first series", last)]
    return ('<h2>The intervention</h2><div class="pair">'
            + html_report.figure("step 0", first, max_side=256, caption="step 0: the unedited image")
            + "".join(html_report.figure(f"last step, {label}", image, max_side=256,
                                         caption=f"step {dynamics.n_steps - 1}, the last: {label}")
                      for label, image in lasts)
            + "</div>")


def html_page(dynamics, data: dict, figure_path: Path | None, missing: dict[str, str]) -> str:
    """Training dynamics as one self-contained page (see :mod:`propgrad.export.html`)."""
    runs = " and ".join(dynamics.results)
    first = next(iter(dynamics.results.values()))
    from ..lesions.dynamics import guide

    how_to_read = guide(dynamics.results)
    what, measured = dynamics.headline()
    body = [html_report._missing_list(missing), html_report.input_line(data.get("input")),
            f"<p><b>{html_report.escape(what)}:</b> {html_report.escape(measured)}</p>",
            html_report.caveat_paragraph(dynamics.caveat),
            # One paragraph per run: the biased and the unbiased model read side by side as one block.
            *(html_report.summary_paragraph(f"Reading: {line}") for line in dynamics.readings.values()),
            f"<p>{html_report.escape(how_to_read)}</p>" if how_to_read else "",
            html_report.note_paragraphs(dynamics.notes, [dynamics.caveat]),
            _ends(dynamics),
            "<h2>E[|grad_X F|] and flips per epoch</h2>"
            + html_report.figure("score and flips per epoch", figure_path, missing=missing.get("figure")),
            "<h2>Per checkpoint</h2>"
            + f"<p>{html_report.escape(dynamics.table_legend)} {html_report.GUIDE_LINK}</p>"
            + _checkpoint_tables(dynamics),
            # The terms as every other report.html explains them (the runs' models are read above, in how_to_read).
            html_report.guide_section(data.get("statistic", GRADIENT), own=GUIDE_TERMS),
            html_report.settings_section(data["settings"]),
            "<h2>Versions</h2>" + html_report.versions_list()]
    return html_report.page(f"propgrad training dynamics: {runs}, {len(first.epochs)} checkpoints", body)


def write_dynamics(dynamics, out_dir: str | Path, settings: dict | None = None,
                   figure: str | Path | None = None) -> dict[str, Path]:
    """Write dynamics.csv, dynamics.json, dynamics.png and report.html into ``out_dir`` (created if missing);
    ``figure`` is the plot where it was drawn already as a PNG (the app's; another format is drawn again). A figure
    that fails to draw is left out with a warning, and report.html says so.

    Examples
    --------
    >>> sorted(write_dynamics(dynamics, "dynamics/"))  # doctest: +SKIP
    ['csv', 'figure', 'html', 'json']
    """
    from ..lesions.dynamics import ROW_FIELDS, plot_dynamics
    from ..plots import save_figure

    data = to_dict(dynamics, settings)
    folder = ReportFolder(out_dir, "dynamics.json")
    folder.table("csv", "dynamics.csv", ROW_FIELDS, dynamics.rows)
    png = figure is not None and Path(figure).suffix.lower() == ".png"
    # A plot that is not there, or not a PNG, is drawn here instead.
    if not png or folder.copied("figure", figure, FIGURE, say_missing=False) is None:
        title = f"Training dynamics: {(dynamics.input or {}).get('file') or 'the image'}"
        folder.figure("figure", FIGURE, lambda path: save_figure(plot_dynamics(dynamics.results, title=title), path),
                      f"the dynamics figure in {folder.out}")
    return folder.finish(html_page(dynamics, data, folder.paths.get("figure"), folder.missing), data)
