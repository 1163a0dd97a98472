"""A small study in the app: the same intervention and models over several uploaded images (or a zip).

Gradio-free. The per-image rows, curves and aggregates are written by :func:`propgrad.study.run_images`
into the request's private folder and zipped for download.
"""
from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

from .. import plots
from ..disk import WRITTEN
from ..images import IMAGE_FORMATS, IMAGE_SUFFIXES
from ..export import settings as export_settings, zip_files
from ..export.provenance import describe_model
from ..formats import format_number
from ..reading import for_pages
from ..limits import LIMITS
from . import folders, results
from .memory import released
from .parsing import file_path, select_outputs
from .run import package_progress

MAX_STUDY_IMAGES = LIMITS["images"].app  # the table of limits (propgrad.limits)
# A zip that unpacks to more than this is not a handful of photos.
MAX_UNPACKED_BYTES = 200 * 2**20
STUDY_SUFFIXES = (*IMAGE_SUFFIXES, ".zip")
# summary.md's columns the app leaves out (summary.md and the zip keep them): the spread over the series.
_LEFT_OUT = ("mean change per series", "series per tier a/b/c/d/e")


def _zip_members(archive_path: Path) -> list[tuple[Path, zipfile.ZipInfo]]:
    """The image members of one uploaded zip (read from its directory, nothing unpacked yet)."""
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(f"`study images`: {archive_path.name!r} is not a readable zip file ({error})") from None
    return [(archive_path, member) for member in sorted(members, key=lambda m: m.filename)
            if not member.is_dir() and Path(member.filename).suffix.lower() in IMAGE_SUFFIXES
            and not Path(member.filename).name.startswith(".")]


def _unpack(members: list[tuple[Path, zipfile.ZipInfo]], folder: Path) -> list[Path]:
    """Write the members flat into ``folder`` under fresh numbered names: '../../etc/x.png' inside an archive
    cannot leave the folder, and equal names in two zips cannot overwrite each other."""
    paths = []
    for number, (archive_path, member) in enumerate(members, start=1):
        name = Path(member.filename).name
        target = folder / f"{number:03d}_{name[-60:]}"
        try:
            with zipfile.ZipFile(archive_path) as archive:
                target.write_bytes(archive.read(member))
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as error:
            # A damaged entry, an encrypted one, an unsupported compression...
            raise ValueError(f"`study images`: {name[:80]!r} in {archive_path.name!r} cannot be unpacked "
                             f"({error.__class__.__name__}); zip the images again without a password") from None
        paths.append(target)
    return paths


def study_images(files, folder: Path) -> list[str]:
    """Uploaded images and zips of images -> image paths (at most :data:`MAX_STUDY_IMAGES`).

    Every count and size is checked, over all uploads together, before anything is unpacked.
    """
    images: list[Path] = []
    members: list[tuple[Path, zipfile.ZipInfo]] = []
    for item in files or []:
        path = Path(file_path(item, name="study images"))
        suffix = path.suffix.lower()
        if suffix == ".zip":
            members += _zip_members(path)
        elif suffix in IMAGE_SUFFIXES:
            images.append(path)
        else:
            raise ValueError(f"`study images`: {path.name!r} is a {suffix or 'suffix-less'} file; accepted: "
                             f"{', '.join(STUDY_SUFFIXES)}")
    count = len(images) + len(members)
    if count < 2:
        raise ValueError(f"`study images`: a study needs at least 2 images, got {count}; leave the box empty to "
                         "explain the one image above")
    if count > MAX_STUDY_IMAGES:
        raise ValueError(f"`study images`: at most {MAX_STUDY_IMAGES} images per run in the app, got {count} "
                         "(use `python -m propgrad study` for more)")
    if sum(member.file_size for _, member in members) > MAX_UNPACKED_BYTES:
        raise ValueError(f"`study images`: the zip files unpack to more than {MAX_UNPACKED_BYTES // 2**20} MB of "
                         f"images; send at most {MAX_STUDY_IMAGES} photos")
    return [str(path) for path in images + _unpack(members, folder)]


def _check_readable(images: Sequence[str]) -> None:
    """At least two images a study can read (the two-image minimum counted a broken file, which the study then
    skipped: a "study" of one image). The unreadable ones still go in, to be listed as skipped."""
    from ..images import load_image

    unreadable = []
    for path in images:
        try:
            # The study's own rule (Pillow's verify() passes a cut-short JPEG that the study then skips). Decoding
            # every image once more costs about 20 ms each, for at most MAX_STUDY_IMAGES.
            load_image(path, name=Path(path).name)
        except ValueError:
            unreadable.append(Path(path).name)
    if len(images) - len(unreadable) < 2:
        raise ValueError(f"`study images`: a study needs at least 2 readable images, got "
                         f"{len(images) - len(unreadable)} ({', '.join(map(repr, unreadable))} could not be read); "
                         f"add {IMAGE_FORMATS} photos, or leave the box empty to explain the one image above")


def study_table(report) -> list[dict]:
    """One row per intervention x model, ranked: summary.md's columns (:func:`propgrad.study.report.summary_cells`:
    what the mean output did first, then E[|grad_X F|] and its test) less the per-series detail."""
    from ..study.report import summary_cells

    return [{title: text for title, text in summary_cells(row, report.alpha).items() if title not in _LEFT_OUT}
            for row in report.summary]


def study_summary(report, notes: Sequence[str] = ()) -> str:
    """What a person reads first after a study: what ran, the reading in words, the ranked table, whether the score
    predicts flips, what was skipped. The page's table wraps and keeps its first column in view on a phone;
    summary.md in the zip has every column."""
    from ..ranking import tier_legend
    from ..reading import short_names
    from ..study.report import flip_note, markdown_table, study_reading

    rows = study_table(report)
    short = short_names([row.model for row in report.summary])
    outputs = {row["output"] for row in rows}
    # What every row shares is said once, above the table: the output, and the words every model name has.
    for row in rows:
        row["model"] = short[row["model"]]
        if len(outputs) == 1:
            del row["output"]
    shared = f" Output: {next(iter(outputs))}." if len(outputs) == 1 else ""
    named = [model for model, name in short.items() if name != model]
    models = (" Models: " + "; ".join(f"{short[model]} = {model}" for model in named) + ".") if named else ""
    if not rows:  # why, and the items below: no legend of a table that is not there
        lines = [f"**{report.title}**: no item finished, so there is nothing to rank or read.", ""]
    else:
        lines = [f"**{report.title}**, ranked by what the mean output did (tier {tier_legend()}), then by its "
                 f"change.{shared}{models}", "", study_reading(report.summary).replace("Reading:", "**Reading:**", 1),
                 "", '<div class="study-table">', "", *markdown_table(rows), "", "</div>", ""]
    predicted = [(row, row.flip_accuracy) for row in report.summary if row.flip_accuracy is not None]
    if predicted:
        lines.append("**Does the score predict flips?** Held-out accuracy against always guessing the majority: "
                     + "; ".join(f"{short[row.model]} under {row.intervention}: {format_number(flip.held_out_mean)} vs "
                                 f"{format_number(flip.majority)}" for row, flip in predicted) + ".")
    elif rows:
        lines.append(f"**Does the score predict flips?** {flip_note(report.summary)}")
    for heading, entries in (("skipped (unreadable)", report.skipped), ("failed", report.failed)):
        lines += [f"- {heading}: `{key}`: {reason}" for key, reason in entries]
    lines += [f"- note: {note}" for note in dict.fromkeys([*notes, *report.notes])]
    return for_pages("\n".join(lines))


def _thumbnails(paths: Sequence[str], out: Path, size: int = 96) -> Path | None:
    """The study's images side by side under a title, each with its file name, so the user sees what was run;
    unreadable ones are left out (the summary names them)."""
    from PIL import Image, ImageDraw, ImageFont

    from ..images import load_image

    thumbs = []
    for path in paths:
        try:
            image = load_image(path)
        except (ValueError, OSError):
            continue
        image.thumbnail((size, size))
        thumbs.append((Path(path).name, image))
    if not thumbs:
        return None
    font = ImageFont.load_default(size=12)
    title_font = ImageFont.load_default(size=15)
    cell, label, title = size + 8, 18, 26
    columns = min(8, len(thumbs))
    rows = -(-len(thumbs) // columns)
    sheet = Image.new("RGB", (max(columns * cell, 300), title + rows * (cell + label)), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((4, 5), f"The study's {len(thumbs)} images (step 0 of every series)", fill="black", font=title_font)
    for number, (name, thumb) in enumerate(thumbs):
        left, top = (number % columns) * cell, title + (number // columns) * (cell + label)
        sheet.paste(thumb, (left + (cell - thumb.width) // 2, top + (size - thumb.height) // 2))
        draw.text((left + cell // 2, top + size + 3), plots.fitted(name, draw, font, cell - 4), fill="#333333", font=font,
                  anchor="mt")
    sheet.save(out)
    return out


@released
def study_for_app(files, interventions: dict, models, outputs, settings, seed, progress, notes=()) -> tuple:
    """Run every uploaded image through every intervention and model; the seven result components."""
    from ..study import run_images

    folder = folders.request_dir()
    unpacked = folder / "uploads"
    unpacked.mkdir()
    images = study_images(files, unpacked)
    _check_readable(images)
    selection, selection_notes = select_outputs(models, outputs)
    n_permutations, alpha = settings
    report = run_images(images, list(interventions.values()), models, out=folder / "study", outputs_of_interest=selection,
                        n_permutations=n_permutations, alpha=alpha, seed=seed, progress=package_progress(progress))
    progress(1.0, desc="drawing plots")
    produced = {str(path): path for path in sorted((folder / "study").rglob("*"))
                if path.is_file() and path.name != WRITTEN}  # not the folder's own list of what its report wrote
    # The study's settings hold every setting of each intervention (run_images stores them); the name's digest also
    # takes each model's file by its content (two runs, steps 5 and 9, were downloaded under one name).
    decisive = {**export_settings(folder / "study"), "models": [describe_model(model) for model in models]}
    name = results.run_name(decisive, [f"study of {len(images) - len(report.skipped)} images"])  # those it read
    bundle = zip_files(produced, folder / f"{name}.zip", root=folder / "study")
    summary = study_summary(report, [*notes, *selection_notes])
    sheet = _thumbnails(images, folder / "images.png")
    import pandas as pd

    # Its own column names: the single-image table's headers would mislabel shares as p-values.
    table = pd.DataFrame(study_table(report))
    return (summary, str(sheet) if sheet else None, None, _path(report, "mean_curves.png"), table,
            _path(report, "score_vs_flips.png"), str(bundle))


def _path(report, name: str) -> str | None:
    path = report.paths.get(name)
    return str(path) if path else None

