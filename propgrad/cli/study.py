"""``python -m propgrad study``: run a study from flags or a TOML file, or regenerate its report.

    python -m propgrad study --images photos/ --edit hue --model "EfficientNet-Lite0 (ImageNet)" --out results/
    python -m propgrad study run study.toml --out results/ --workers 2
    python -m propgrad study report results/
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from ..disk import no_room, writing_to
from ..errors import USER_ERRORS, users_to_fix
from . import console
from .console import say
from ..study.definition import InputSpec, StudyDefinition
from . import exit_codes
from .bounds import check_args, check_definition
from .flags import (HelpFormatter, add_intervention_flags, add_model_flags, add_region_flags, add_scoring_flags,
                    model_spec_from_args, spec_from_args)

USAGE = """{prog} study --images DIR_OR_LIST | --dataset PATH [intervention] [models] [scoring] [engine] [output]
       {prog} study run STUDY.toml [--out DIR] [engine] [output]
       {prog} study report DIR [output]"""


def _engine_flags(parser: argparse.ArgumentParser) -> None:
    engine = parser.add_argument_group("engine (the verdicts do not depend on it; scores are byte-identical when "
                                       "the torch thread counts match, else equal to float32 rounding)")
    where = engine.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N", help="run items in N local processes")
    where.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                       help="run items on Ray: a local instance without ADDRESS, else a cluster (HOST:PORT, "
                       "ray://HOST:PORT or auto); needs pip install 'propgrad[ray]'")


def _flag_parser() -> argparse.ArgumentParser:
    prog = console.program_name()
    parser = console.Parser(prog=f"{prog} study", usage=USAGE.format(prog=prog),
                                     formatter_class=HelpFormatter,
                                     description="Explain many images: every image x intervention x model. Results "
                                     "are kept as they finish (results.csv, curves.csv) and an interrupted study "
                                     "resumes where it stopped; summary.md, summary.csv and figures follow. --json "
                                     "prints summary.csv's rows and the skipped and failed items to stdout.")
    inputs = parser.add_argument_group("inputs (choose one)")
    source = inputs.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", metavar="DIR_OR_LIST",
                        help="a folder of images, or a .txt (one path per line) / .csv (a path column, optional "
                        "label, position_x, position_y, scale columns) list")
    source.add_argument("--dataset", metavar="PATH",
                        help="a Hugging Face data set: a save_to_disk folder or an imagefolder tree")
    inputs.add_argument("--image-column", default="image", help="--dataset: the image column")
    inputs.add_argument("--label-column", help="the label column (default: 'label' where there is one)")
    inputs.add_argument("--split", help="--dataset: the split (default: test, else the first)")

    # A study's mask is the same for every image, resized to each.
    add_region_flags(add_intervention_flags(parser, takes_image_only=True))
    add_model_flags(parser)
    add_scoring_flags(parser, seed_help="study seed (each item's seed derives from it)")
    parser.add_argument("--out", default="propgrad-study", help="results folder (resumed if it holds this study)")
    _engine_flags(parser)
    console.add_flags(parser, json_output=True)
    return parser


def definition_from_args(args) -> StudyDefinition:
    """The study the flags describe (the same flags `explain` takes, plus the inputs).

    Paths are stored absolute, so that a resumed run may start from another folder.
    """
    from ..interventions.region import SEGMENTED
    from ..outputs import parse_outputs

    region = args.region if args.region in (None, *SEGMENTED) else str(Path(args.region).resolve())
    intervention = spec_from_args(args, absolute_paths=True, region=region, feather=args.feather)
    absolute = lambda value: value and str(Path(value).resolve())  # noqa: E731
    inputs = InputSpec(images=absolute(args.images), dataset=absolute(args.dataset), image_column=args.image_column,
                       label_column=args.label_column, split=args.split)
    outputs = parse_outputs(args.outputs)
    return StudyDefinition(inputs, (intervention,), model_spec_from_args(args, absolute_paths=True),
                           outputs=outputs if isinstance(outputs, str) else tuple(str(v) for v in outputs),
                           permutations=args.permutations, alpha=args.alpha, seed=args.seed,
                           statistic=args.statistic)


def engine_from_args(args, gpu: bool = False):
    from ..study.engines import InProcess, Processes

    if args.workers is not None:
        return Processes(args.workers)
    if args.ray is not None:
        from ..study.ray_engine import RayEngine, import_ray

        import_ray()  # a clear message now, before any work, when Ray is not installed
        return RayEngine(address=args.ray or None, gpu=gpu)
    return InProcess()


def _progress_bar(enabled: bool):
    """on_item callback drawing a tqdm bar: items done, rate, time left."""
    if not enabled:
        return None, lambda: None
    from tqdm import tqdm

    state = {}

    def on_item(result, done, total):
        if "bar" not in state:
            state["bar"] = tqdm(total=total, initial=done - 1, unit="item", desc="study", file=sys.stderr)
        state["bar"].update(1)
        if result.status != "ok":
            state["bar"].write(f"{result.status}: {result.key}: {result.message}")

    return on_item, lambda: state.get("bar") and state["bar"].close()


def _run(definition: StudyDefinition, out: str, args, argv: list[str]) -> int:
    from ..limits import CLI, LIMITS
    from ..study.runner import run_study

    check_definition(definition)
    gpu = any(one.uses_gpu for one in definition.interventions)
    engine = engine_from_args(args, gpu=gpu)
    on_item, close = _progress_bar(console.progress_enabled())
    try:
        with writing_to(out):
            report = run_study(definition, out, engine=engine, on_item=on_item,
                               max_images=LIMITS["images"].most(CLI))
    finally:
        close()
    # Every image unreadable: nothing ran, as for a missing file, and a script must see it (in --json's document
    # too, which had "rows": [] and no error beside exit status 2).
    # The first reason said: "could be read" over a 1x1 PNG (readable, too small) sent the user to convert it.
    nothing_read = (f"none of the study's {len(report.skipped)} images could be used; the first, "
                    f"{report.skipped[0][0]}: {report.skipped[0][1]} (summary.md lists why for each)"
                    if report.skipped and not report.summary else None)
    _summary(report, nothing_read)
    say(f"wrote results.csv, curves.csv, {', '.join(report.paths)} to {Path(out).resolve()}")
    if report.failed:
        reasons = {reason for _, reason in report.failed}
        if len(report.failed) > 1 and len(report.failed) == report.items and len(reasons) == 1:
            # A model that cannot run on any image: the retry line offered the same command, which fails the same way.
            # Fixed, the command differs; the folder holds no finished item, so the fixed run starts it over.
            print(f"every item failed the same way: {reasons.pop()}\nfix that, then run again (into the same --out: "
                  "it holds no finished item, and starts over)", file=sys.stderr)
            return exit_codes.partial(len(report.failed), report.items, "items")
        # Running the same command again resumes the folder: finished items are kept, FAILED ones run again.
        return exit_codes.partial(len(report.failed), report.items, "items (summary.md says why)",
                                  retry=["python", "-m", "propgrad", "study", *argv])
    if nothing_read:
        print(f"error: {nothing_read}", file=sys.stderr)
        return exit_codes.USAGE
    return exit_codes.OK


def _number(value):
    """A summary.csv cell as JSON: numbers as numbers, null for an empty cell or a number that is none (a held-out
    accuracy that could not be measured; NaN and infinity are not JSON)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = int(value) if value.lstrip("-").isdigit() else float(value)
        except ValueError:
            return value
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _summary(report, error: str | None = None) -> None:
    """summary.md for a person; with --json, summary.csv's rows and what was skipped or failed, and the ``error``
    that ends the run, as every --json run that fails says it."""
    from ..study.report import summary_csv_rows

    if console.json_wanted():
        rows = [{key: _number(value) for key, value in row.items()} for row in summary_csv_rows(report.summary)]
        console.emit({"folder": str(Path(report.folder).resolve()), "rows": rows,
                      "skipped": [{"item": item, "reason": reason} for item, reason in report.skipped],
                      "failed": [{"item": item, "reason": reason} for item, reason in report.failed],
                      "notes": list(report.notes), "rows_lost": list(report.rows_lost), "not_run": report.not_run,
                      **(console.error_entry(exit_codes.USAGE, exit_codes.KINDS[exit_codes.USAGE], [error])
                         if error else {})})
    say(report.paths["summary.md"].read_text(encoding="utf-8"))


def _existing(path: str, what: str, folder: bool = False) -> str:
    """``path`` if it exists, else a one-line error naming the argument."""
    if not (Path(path).is_dir() if folder else Path(path).exists()):
        raise ValueError(f"`{what}`: no such {'folder' if folder else 'file'} {path!r}")
    return path


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = console.program_name()
    try:
        if argv[:1] == ["report"]:
            parser = console.Parser(prog=f"{prog} study report",
                                             description="Regenerate summary.csv, summary.md and the figures "
                                             "of a results folder from its stored results (no model runs).")
            parser.add_argument("folder", metavar="DIR", help="a study's results folder")
            console.add_flags(parser, json_output=True)
            args = parser.parse_args(argv[1:])
            console.configure(args)
            from ..study.report import write_report

            report = write_report(_existing(args.folder, "DIR", folder=True))
            _summary(report)
            # The report is written; a study it cannot summarise whole is said as a run's failures are (status 3).
            counts = {"failed": len(report.failed), "lost their rows": len(report.rows_lost),
                      "never ran (the study was stopped)": report.not_run}
            if any(counts.values()):
                what = " and ".join(f"{count} {why}" for why, count in counts.items() if count)
                return exit_codes.partial(sum(counts.values()), report.items,
                                          f"items ({what}; summary.md says which, and running the study's command "
                                          f"into this folder again runs them)")
            return exit_codes.OK
        if argv[:1] == ["run"]:
            parser = console.Parser(prog=f"{prog} study run",
                                             description="Run (or resume) the study a TOML file defines.")
            parser.add_argument("study", metavar="STUDY", help="the study file (TOML)")
            parser.add_argument("--out", help="results folder (default: beside the study file, named after it)")
            _engine_flags(parser)
            console.add_flags(parser, json_output=True)
            args = parser.parse_args(argv[1:])
            console.configure(args, parser=parser)
            from ..study.definition import from_toml

            out = args.out or str(Path(args.study).with_suffix("")) + "-results"
            return _run(from_toml(_existing(args.study, "STUDY")), out, args, argv)
        args = _flag_parser().parse_args(argv)
        console.configure(args)
        check_args(args)
        return _run(definition_from_args(args), args.out, args, argv)
    except USER_ERRORS as error:
        if not users_to_fix(error):
            raise  # a wrong call inside the code: its traceback, not a usage line
        if no_room(error):
            return exit_codes.no_room(error)
        console.error(console.in_flag_words(error))
        return exit_codes.USAGE
