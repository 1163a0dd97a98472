"""``python -m propgrad study``: run a study from flags or a TOML file, or regenerate its report.

    python -m propgrad study --images photos/ --edit hue --model "EfficientNet-Lite0 (ImageNet)" --out results/
    python -m propgrad study run study.toml --out results/ --workers 2
    python -m propgrad study report results/
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import ModelUnavailableError
from .definition import EDIT, INSTRUCT_PIX2PIX, PATCH, InputSpec, InterventionSpec, ModelSpec, StudyDefinition

USAGE = """python -m propgrad study --images DIR_OR_LIST | --dataset PATH [intervention] [models] [scoring] [engine]
       python -m propgrad study run STUDY.toml [--out DIR] [engine]
       python -m propgrad study report DIR"""


def _engine_flags(parser: argparse.ArgumentParser) -> None:
    engine = parser.add_argument_group("engine (the results do not depend on it)")
    where = engine.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N", help="run items in N local processes")
    where.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                       help="run items on Ray: a local instance without ADDRESS, else a cluster (HOST:PORT, "
                       "ray://HOST:PORT or auto); needs pip install 'propgrad[ray]'")
    engine.add_argument("--no-progress", action="store_true", help="no progress bar")


def _flag_parser() -> argparse.ArgumentParser:
    from ..cli import _HelpFormatter, add_intervention_flags, add_model_flags

    parser = argparse.ArgumentParser(prog="python -m propgrad study", usage=USAGE, formatter_class=_HelpFormatter,
                                     description="Explain many images: every image x intervention x model. Results "
                                     "are kept as they finish (results.csv, curves.csv) and an interrupted study "
                                     "resumes where it stopped; summary.md, summary.csv and figures follow.")
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

    intervention = add_intervention_flags(parser, frames=False)
    intervention.add_argument("--region", metavar="object|background|MASK.png",
                              help="apply the change only to the salient object, the background, or a mask "
                              "(the same mask for every image, resized to each)")
    intervention.add_argument("--feather", type=float, default=0.0, metavar="PX",
                              help="soften the region's edge with a Gaussian blur of this radius (px)")

    add_model_flags(parser)

    scoring = parser.add_argument_group("scoring")
    from .. import _cli_statistic  # issue 16: --statistic, --outputs vector

    scoring.add_argument("--outputs", default="predicted", help=_cli_statistic.OUTPUTS_HELP)
    _cli_statistic.add_flags(scoring)
    scoring.add_argument("--permutations", type=int, default=10_000, help="shuffle-test permutations")
    scoring.add_argument("--alpha", type=float, default=0.01, help="significance level")
    scoring.add_argument("--seed", type=int, default=0, help="study seed (each item's seed derives from it)")
    parser.add_argument("--out", default="propgrad-study", help="results folder (resumed if it holds this study)")
    _engine_flags(parser)
    return parser


def definition_from_args(args) -> StudyDefinition:
    """The study the flags describe (the same flags `explain` takes, plus the inputs)."""
    from ..cli import _class_names

    where = {"region": args.region and _region(args.region), "feather": args.feather}
    if args.patch:
        patches = tuple(str(Path(p).resolve()) for p in args.patch)
        intervention = InterventionSpec(PATCH, steps=args.steps, patches=patches,
                                        position=tuple(args.position), scale=args.scale, **where)
    elif args.instruction:
        intervention = InterventionSpec(INSTRUCT_PIX2PIX, steps=args.steps, instruction=args.instruction,
                                        max_guidance=args.max_guidance, image_guidance=args.image_guidance,
                                        denoising_steps=args.denoising_steps, seeds=tuple(args.seeds),
                                        **where)
    else:
        intervention = InterventionSpec(EDIT, steps=args.steps, edit=args.edit or "brightness", start=args.start,
                                        stop=args.stop, **where)
    files = tuple(str(Path(p).resolve()) for p in args.model_file or ())
    models = ModelSpec(names=tuple(args.model or ()), files=files,
                       hub=tuple(args.hub_model or ()), input_size=args.input_size and tuple(args.input_size),
                       mean=args.mean and tuple(args.mean), std=args.std and tuple(args.std),
                       class_names=_class_names(args.class_names), outputs_are=args.outputs_are)
    absolute = lambda value: value and str(Path(value).resolve())  # noqa: E731  (a resumed run may start elsewhere)
    inputs = InputSpec(images=absolute(args.images), dataset=absolute(args.dataset), image_column=args.image_column,
                       label_column=args.label_column, split=args.split)
    outputs = args.outputs if args.outputs in ("predicted", "all", "vector") else tuple(
        part.strip() for part in args.outputs.split(",") if part.strip())
    return StudyDefinition(inputs, (intervention,), models, outputs=outputs, permutations=args.permutations,
                           alpha=args.alpha, seed=args.seed, statistic=args.statistic)


def _region(text: str) -> str:
    # A mask file is stored with its absolute path, so a resumed run may start from another folder.
    return text if text in ("object", "background") else str(Path(text).resolve())


def engine_from_args(args, gpu: bool = False):
    from .engines import InProcess, Processes

    if args.workers is not None:
        return Processes(args.workers)
    if args.ray is not None:
        from .ray_engine import RayEngine, import_ray

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


def _run(definition: StudyDefinition, out: str, args) -> int:
    from .runner import run_study

    gpu = any(one.kind == INSTRUCT_PIX2PIX for one in definition.interventions)
    engine = engine_from_args(args, gpu=gpu)
    on_item, close = _progress_bar(not args.no_progress)
    try:
        report = run_study(definition, out, engine=engine, on_item=on_item)
    finally:
        close()
    print((Path(out) / "summary.md").read_text())
    print(f"wrote results.csv, curves.csv, {', '.join(report.paths)} to {Path(out).resolve()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["report"]:
            parser = argparse.ArgumentParser(prog="python -m propgrad study report",
                                             description="Regenerate summary.csv, summary.md and the figures "
                                             "of a results folder from its stored results (no model runs).")
            parser.add_argument("folder")
            args = parser.parse_args(argv[1:])
            from .report import write_report

            report = write_report(args.folder)
            print(report.paths["summary.md"].read_text())
            return 0
        if argv[:1] == ["run"]:
            parser = argparse.ArgumentParser(prog="python -m propgrad study run",
                                             description="Run (or resume) the study a TOML file defines.")
            parser.add_argument("study", help="the study file (TOML)")
            parser.add_argument("--out", help="results folder (default: beside the study file, named after it)")
            _engine_flags(parser)
            args = parser.parse_args(argv[1:])
            from .definition import from_toml

            out = args.out or str(Path(args.study).with_suffix("")) + "-results"
            return _run(from_toml(args.study), out, args)
        args = _flag_parser().parse_args(argv)
        return _run(definition_from_args(args), args.out, args)
    except (ValueError, TypeError, ImportError, ConnectionError, ModelUnavailableError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
