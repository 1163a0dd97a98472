"""Command line: ``python -m propgrad screen IMAGE --model ... --out DIR`` ranks candidate properties.

Writes screen.csv, screen_curves.csv, screen.json, screen.png and report.html (see :mod:`propgrad.export.screen`);
prints the top rows.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..checks import unsaid
from ..disk import check_folder_name, check_writable, writing_to
from ..errors import counted, over_rows
from ..kinds import InstructPix2PixSpec, PatchSpec
from . import console, exit_codes
from .console import say
from .exit_codes import failures
from .flags import HelpFormatter, add_model_flags, add_scoring_flags, model_spec_from_args, name_list


def _masks(pairs: list[str] | None) -> dict[str, Path]:
    masks = {}
    for pair in pairs or []:
        label, separator, path = pair.partition("=")
        if not separator or not label.strip() or not path.strip():
            raise ValueError(f"`--mask` {pair!r}: write LABEL=FILE, e.g. collar=collar_mask.png")
        if not Path(path).is_file():
            raise ValueError(f"`--mask` {pair!r}: no such file {path!r}")
        masks[label.strip()] = Path(path)
    return masks


def add_screen_parser(commands) -> argparse.ArgumentParser:
    """The ``screen`` subcommand, added to ``commands`` (the subparsers of ``python -m propgrad``)."""
    from ..export.screen import written_files
    from ..screen import REGIONS

    parser = commands.add_parser(
        "screen", help="rank many candidate properties of one image (every edit x whole image / object / background)",
        description="Which property does the model use? Test every registered edit on the whole image, the salient "
        "object and the background (or a chosen subset, plus masks, patches and instructions), adjust the p-values "
        f"over the whole table, and write {written_files()} into --out. --json "
        "prints screen.json's fields to stdout.",
        formatter_class=HelpFormatter)
    parser.add_argument("image", help="input image")
    candidates = parser.add_argument_group("candidate properties (default: every edit x every region where it makes "
                                           "sense, about 34)")
    candidates.add_argument("--edits", metavar="NAMES", help="only these edits: comma-separated or @file")
    candidates.add_argument("--regions", metavar="NAMES", help=f"only these regions, from {', '.join(REGIONS)}")
    candidates.add_argument("--mask", action="append", metavar="LABEL=FILE",
                            help="one more region (a greyscale or painted mask image), crossed with the edits; "
                            "repeatable")
    candidates.add_argument("--patch", action="append", metavar="PATCH",
                            help="one more property: this patch blended in (opacity 0 to 1); repeatable")
    candidates.add_argument("--instruction", action="append", metavar="TEXT",
                            help="one more property: an InstructPix2Pix edit at rising guidance (needs its weights; "
                            "skipped with a note where they are missing); repeatable")
    candidates.add_argument("--properties", metavar="NAMES",
                            help="only these candidate names, e.g. 'object: darken,background: darken' or @file")
    candidates.add_argument("--steps", type=int, default=10, help="steps per property, including the original")
    add_model_flags(parser)
    scoring = add_scoring_flags(parser)
    scoring.add_argument("--adjustment", choices=["bh", "holm"], default="bh",
                         help="multiple-testing adjustment over the whole table: Benjamini-Hochberg (false discovery "
                         "rate) or Holm (family-wise error rate)")
    parser.add_argument("--limit", type=int, help="refuse a screen of more properties than this")
    parser.add_argument("--top", type=int, default=10, help="rows to print (the files hold every row)")
    parser.add_argument("--out", default="propgrad-screen", help="output folder")
    return parser


def _additions(args) -> dict:
    added = {}
    for path in args.patch or []:
        if not Path(path).is_file():
            raise ValueError(f"`--patch` names a file that does not exist: {path!r}")
        added[f"patch: {Path(path).name}"] = PatchSpec(patches=(path,), steps=args.steps).build()
    for text in args.instruction or []:
        added[f"instruction: {text}"] = InstructPix2PixSpec(instruction=text, steps=args.steps).build()
    return added


def _limit(asked: int | None) -> int:
    """--limit, or the table of limits' bound on a screen's properties (cli/bounds.py refused a larger --limit)."""
    from ..limits import CLI, LIMITS

    return LIMITS["properties"].most(CLI) if asked is None else asked


def run(args) -> int:
    """Run the screen the flags describe, write its files, print the top rows."""
    from ..images import load_image
    from ..outputs import outputs_for
    from ..progress_bar import fraction_bar
    from .. import export
    from ..answer import contrast_changes, contrast_difference, contrast_lead
    from ..formats import format_number, format_pvalue
    from ..reading import short_names
    from ..score import STATISTIC_LABELS
    from ..screen import screen

    check_folder_name(args.out)  # before the image and models load
    if args.top < 1:
        raise ValueError(f"`--top` must be at least 1, got {args.top}")
    image = load_image(args.image)
    models = model_spec_from_args(args).build()
    outputs, output_notes = outputs_for(args.outputs, models)
    check_writable(args.out)  # before the screen, not after it
    with fraction_bar("screen", enabled=console.progress_enabled()) as progress, failures("screen") as failed:
        result = screen(image, models, name_list(args.properties, "--properties"),
                        edits=name_list(args.edits, "--edits"),
                        regions=name_list(args.regions, "--regions"), masks=_masks(args.mask), add=_additions(args),
                        steps=args.steps,
                        outputs_of_interest=outputs,
                        statistic=args.statistic, adjustment=args.adjustment, n_permutations=args.permutations,
                        alpha=args.alpha, seed=args.seed, limit=_limit(args.limit), progress=progress)
    if failed:  # no property could run
        return failed.status
    with writing_to(args.out):
        paths = export.write(result, args.out, settings=export.settings(result, models))
    if console.json_wanted():
        console.emit(json.loads(Path(paths["json"]).read_text(encoding="utf-8")))
    label = STATISTIC_LABELS[result.statistic]
    say(f"{counted(len(result.properties), 'property', 'properties')} x {counted(len(models), 'model')}; alpha = "
        f"{result.alpha}; p adjusted over {over_rows(len(result.rows))}: {result.adjustment}; ranked by what the "
        "output did (tier a to e), then its change")
    for line in result.answer:
        say(line)
    for row in result.rows[:args.top]:
        say(f"  {row.rank:3d}. [{row.tier}] {row.property} | {row.model} | {row.output}: change "
              f"{format_number(row.change)}, {label} = {format_number(row.score)}, adjusted p "
              f"{format_pvalue(row.pvalue_adjusted, result.alpha)}; {row.reading.full}")
    if len(result.rows) > args.top:
        say(f"  ... {len(result.rows) - args.top} more rows in screen.csv")
    if result.floor_words:  # an adjusted p of 0.0020 may rest on raw p-values at the permutations' floor
        say(f"  note: {result.floor_words}")
    contrast, note = result.contrast
    if contrast:
        short = short_names(contrast[0].models)
        say(f"Where the models differ (change of {contrast[0].output}): {contrast_lead(contrast, short)}:")
        for one in contrast[:args.top]:
            say(f"  {one.property} | {one.output}: {contrast_changes(one, short)} ({contrast_difference(one, short)})")
    elif note:
        say(note)
    for line in [*result.skipped, *unsaid(result.notes, result.caveats), *output_notes]:
        say(f"  note: {line}")
    say(f"wrote {', '.join(sorted(path.name for path in paths.values()))} to {Path(args.out).resolve()}")
    if result.failed:
        for line in result.failed:
            print(f"error: {line}", file=sys.stderr)
        return exit_codes.partial(len(result.failed), len(result.failed) + len(result.properties), "properties")
    return exit_codes.OK
