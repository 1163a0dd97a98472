"""``python -m propgrad explain IMAGE ...``: one image, one intervention (or several regions), every model."""
from __future__ import annotations

import sys

import argparse
import json
from pathlib import Path

from ..checks import unsaid
from ..disk import check_folder_name, check_writable, writing_to
from ..errors import over_rows
from ..score import STATISTIC_LABELS
from . import console, gradual
from .console import say
from .exit_codes import failures
from .flags import (HelpFormatter, add_intervention_flags, add_model_flags, add_region_flags, add_scoring_flags,
                    model_spec_from_args, spec_from_args)

# The most rows the printout shows (`--outputs all` on an ImageNet model makes 1,000): ranked, the rest counted.
PRINTED_ROWS = 20


def say_the_rest(rows: int) -> None:
    if rows > PRINTED_ROWS:
        say(f"  ... and {rows - PRINTED_ROWS:,} more rows, ranked by what the output did: the files (report.json or "
            f"comparison.json, the CSVs, report.html) hold every one")


def add_explain_parser(commands) -> argparse.ArgumentParser:
    explain = commands.add_parser(
        "explain",
        help="explain one image under one intervention",
        description=f"Run one intervention on IMAGE, score every model, and write {written_files()} into --out "
        "(region.png only for an edit restricted to a region). --json prints report.json's fields to stdout.",
        formatter_class=HelpFormatter,
    )
    explain.add_argument("image", nargs="?", help="input image (not needed with --frames)")
    add_intervention_flags(explain)
    region = explain.add_argument_group(
        "region (restrict the intervention to part of the image; outside it every step keeps the original pixels)")
    add_region_flags(region, repeatable=True)
    region.add_argument("--compare-region", action="store_true",
                        help="run the edit twice, on the object and on the background, and write the comparison "
                        "(comparison.json, comparison.csv, comparison.png, comparison_contrast.csv where several "
                        "models differ, report.html, one report folder per region; p-values also "
                        "Benjamini-Hochberg adjusted)")
    add_model_flags(explain)
    gradual.add_flags(explain)
    add_scoring_flags(explain)
    explain.add_argument("--out", default="propgrad-report",
                         help="output folder; used again, it loses the files the run before wrote there "
                         "(.propgrad-written.json lists them), not others")
    return explain


def written_files() -> str:
    """The files one explanation writes, from the report's own list (so the help cannot fall behind)."""
    from ..export.explanation import FIGURE_FILES, TABLE_FILES

    return ", ".join([*TABLE_FILES.values(), *FIGURE_FILES.values(), "report.html"])


def _check(args) -> None:
    check_folder_name(args.out)  # before inputs and models load; check_writable tries the folder once they have
    if args.frames and args.image:
        raise ValueError("give either IMAGE or --frames, not both (frames bring their own images)")
    if not args.frames and not args.image:
        raise ValueError("IMAGE is missing: give an image file, or --frames for a frame series")
    if (args.region or args.compare_region) and args.frames:
        raise ValueError("--region and --compare-region need IMAGE: frames bring their own images")
    if args.compare_region and args.region:
        raise ValueError("give either --compare-region or --region, not both")
    if args.feather and not (args.region or args.compare_region):  # else it would soften nothing, unsaid
        raise ValueError("--feather softens a region's edge: give --region or --compare-region too, or leave it out")


def run_explain(args) -> int:
    from .. import export
    from ..export import explanation as report
    from ..export.provenance import run_settings
    from ..explain import explain
    from ..images import load_image
    from ..outputs import outputs_for
    from ..progress_bar import fraction_bar
    from ..formats import format_number, format_pvalue
    from ..reading import paragraph

    _check(args)
    comparing = args.compare_region or len(args.region or []) > 1
    region = {"region": _region_source(args.region[0]), "feather": args.feather} if args.region and not comparing \
        else {}
    # Built before any image or model loads, so that a wrong flag costs nothing.
    intervention = spec_from_args(args, **region).build()
    criteria = gradual.criteria(args)
    image = load_image(args.image) if args.image else None
    models = model_spec_from_args(args).build()
    outputs, output_notes = outputs_for(args.outputs, models)
    # Inputs and models are in hand: the folder is made and tried now, not after the run.
    check_writable(args.out)
    for note in output_notes:
        print(f"note: {note}", file=sys.stderr)
    if comparing:
        return _run_region_comparison(args, image, intervention, models, outputs, criteria)
    with fraction_bar("explain", enabled=console.progress_enabled()) as progress, failures("explanation") as failed:
        result = explain(image, intervention, models, outputs_of_interest=outputs, n_permutations=args.permutations,
                         alpha=args.alpha, seed=args.seed, statistic=args.statistic, progress=progress,
                         gradual_criteria=criteria)
    if failed:
        return failed.status
    recorded = run_settings(result.input, {result.intervention: intervention}, models, args.outputs, args.permutations,
                            args.alpha, args.seed, result.notes)
    with writing_to(args.out):
        paths = export.write(result, args.out, settings=recorded)
    if console.json_wanted():
        console.emit(json.loads(paths["json"].read_text(encoding="utf-8")))
    say(f"{result.intervention}: {result.n_steps} steps x {len(result.series)} series; alpha = {result.alpha}")
    if result.caveat:  # before the rows, as the app and report.html say it
        say(result.caveat)
    rows = report.summary_rows(result)  # ranked: every output of a classifier has the strongest first
    for row in rows[:PRINTED_ROWS]:
        mark = "significant" if row["significant"] else "not significant"
        say(f"  {row['model']} | {row['output']}: change {format_number(row['change'])}, "
              f"{STATISTIC_LABELS[result.statistic]} = {format_number(row['score'])}, "
              f"p-value {format_pvalue(row['pvalue'], result.alpha)} "
              f"({mark}), prediction flips: {row['flips']}\n    reading: {row['reading']}")
    say_the_rest(len(rows))
    if result.floor_words:  # "p-value 0.0010" is the floor of 1,000 permutations, not an exact value
        say(f"  note: {result.floor_words}")
    if len(rows) > 1:  # one row's reading is printed under it already
        say(paragraph(result.readings))
    for line in gradual.lines(result):
        say(f"  {line}")
    for note in unsaid(result.notes, [result.caveat]):
        say(f"  note: {note}")
    say(f"wrote {', '.join(p.name for p in paths.values())} to {Path(args.out).resolve()}")
    return 0


def _region_source(text: str) -> str:
    """'object' / 'background' by name; anything else must be an existing mask file."""
    from ..interventions.region import SEGMENTED

    if text.strip().lower() in SEGMENTED:
        return text.strip().lower()
    if not Path(text).is_file():
        raise ValueError(f"`--region`: {text!r} is neither 'object', 'background' nor an existing mask file")
    return text


def _regions(args, whole) -> dict:
    """{property name: intervention}: object and background for --compare-region, else one per --region."""
    from ..compare import edit_label
    from ..interventions.region import BACKGROUND, OBJECT, Region

    what = edit_label(whole)
    sources = [OBJECT, BACKGROUND] if args.compare_region else [_region_source(text) for text in args.region]
    regions = {}
    for source in sources:
        where = source if source in (OBJECT, BACKGROUND) else Path(source).stem
        name = f"{where}: {what}"
        if name in regions:  # the same region twice, or two mask files with one name
            name = f"{where} ({len(regions) + 1}): {what}"
        # A mask file is named by its stem; the segmenter's regions by their kind, as the app records them.
        regions[name] = Region(whole, source if source in (OBJECT, BACKGROUND) else Path(source),
                               label=None if source in (OBJECT, BACKGROUND) else where, feather=args.feather)
    return regions


def _run_region_comparison(args, image, whole, models, outputs, criteria) -> int:
    from .. import export
    from ..compare import compare_properties
    from ..export.comparison import table_row
    from ..export.provenance import run_settings
    from ..progress_bar import fraction_bar
    from ..formats import format_number, format_pvalue
    from ..reading import paragraph

    regions = _regions(args, whole)
    with fraction_bar("compare", enabled=console.progress_enabled()) as progress, failures("comparison") as failed:
        comparison = compare_properties(image, regions, models, outputs_of_interest=outputs,
                                        n_permutations=args.permutations, alpha=args.alpha, seed=args.seed,
                                        statistic=args.statistic, gradual_criteria=criteria, progress=progress)
    if failed:
        return failed.status
    first = next(iter(comparison.explanations.values()))
    recorded = run_settings(first.input, regions, models, args.outputs, args.permutations, args.alpha, args.seed,
                            comparison.notes)
    with writing_to(args.out):
        paths = export.write(comparison, args.out, settings=recorded)
    if console.json_wanted():
        console.emit(json.loads(Path(args.out, "comparison.json").read_text(encoding="utf-8")))
    say(f"{' vs '.join(comparison.explanations)}: alpha = {comparison.alpha}; "
          f"p adjusted over {over_rows(len(comparison.scores))}: {comparison.adjustment}")
    for caveat in comparison.caveats:  # before the rows, as a single run's printout says its own
        say(caveat)
    say("ranked by what the output did (tier a to e), then its change")
    for entry in comparison.scores[:PRINTED_ROWS]:  # ranked already
        # Judged after adjustment, as the reading beside it: "p-value 0.002 (significant)" over a reading of "not
        # significant" (adjusted p 0.014) contradicted itself.
        mark = "significant" if entry.significant_adjusted else "not significant"
        say(f"  [{entry.tier}] {entry.property} | {entry.model} | {entry.output}: change "
              f"{format_number(entry.change)}, {STATISTIC_LABELS[comparison.statistic]} = {format_number(entry.score)}, "
              f"p-value {format_pvalue(entry.pvalue, comparison.alpha)}, "
              f"adjusted p {format_pvalue(entry.pvalue_adjusted, comparison.alpha)} ({mark}), "
              f"prediction flips: {table_row(entry)['flips']}\n    reading: {entry.reading.full}")
    say_the_rest(len(comparison.scores))
    if comparison.floor_words:
        say(f"  note: {comparison.floor_words}")
    say(paragraph([entry.reading for entry in comparison.scores]))
    for line in comparison.findings:  # (its caveats said above)
        say(line)
    for name, result in comparison.explanations.items():
        say(f"  {name}: {'; '.join(gradual.lines(result))}")
    for note in unsaid(comparison.notes, comparison.caveats):
        say(f"  note: {note}")
    # The files as written (comparison_contrast.csv only where models differ), not a list that fell behind them.
    top = sorted(path.name for key, path in paths.items() if "/" not in key)
    say(f"wrote {', '.join(top)} and one folder per region to {Path(args.out).resolve()}")
    return 0
