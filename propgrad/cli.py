"""Command line: ``python -m propgrad explain IMAGE ...`` writes report.json, curves.csv and plots."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import ModelUnavailableError
from .models.base import OUTPUTS_ARE
from .score import STATISTIC_LABELS  # issue 16

DEFAULT_MODEL = "EfficientNet-Lite0 (ImageNet)"


def _class_names(text: str | None) -> list[str] | None:
    """Comma-separated names, or @FILE with one name per line."""
    if text is None:
        return None
    if text.startswith("@"):
        path = Path(text[1:])
        if not path.is_file():
            raise ValueError(f"--class-names: no such file {str(path)!r}")
        names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    else:
        names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ValueError("--class-names is empty: give comma-separated names or @file.txt with one per line")
    return names


def _outputs_of_interest(text: str, models: list):
    from ._cli_statistic import OUTPUT_KEYWORDS  # issue 16: 'vector'

    if text in OUTPUT_KEYWORDS:
        return text
    from .explain import split_output_names

    items = split_output_names(text, [output for model in models for output in model.output_names])
    if not items:
        raise ValueError("--outputs is empty: use 'predicted', 'all', or comma-separated class names/indices")
    return [int(item) if item.isdigit() else item for item in items]


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show defaults, but not the uninformative "(default: None)"."""

    def _get_help_string(self, action):
        if action.default is None or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def add_intervention_flags(parser: argparse.ArgumentParser, *, frames: bool = True):
    """The intervention flags `explain` and `study` share; returns their group (for more flags)."""
    source = parser.add_argument_group("intervention (choose one; default: --edit brightness)")
    kind = source.add_mutually_exclusive_group()
    kind.add_argument("--edit", help="parametric edit: " + ", ".join(_edit_names())
                      + " (darken/lighten/recolour: strength 0 to 1)")
    kind.add_argument("--patch", action="append", metavar="PATCH",
                      help="patch image (PNG with transparency) blended in with opacity 0 to 1; repeat for "
                      "several patches (one series each, averaged)")
    if frames:
        kind.add_argument("--frames", nargs="+", metavar="FRAME",
                          help="ordered frames (sorted by file name), e.g. a turntable rotation")
    kind.add_argument("--instruction", metavar="TEXT",
                      help="InstructPix2Pix edit at rising text guidance, e.g. 'make the fur white' (needs its "
                      "weights: a local folder in $PROPGRAD_INSTRUCT_PIX2PIX or the Hugging Face cache)")
    source.add_argument("--start", type=float, help="edit start value (default: the identity, e.g. factor 1)")
    source.add_argument("--stop", type=float, help="edit end value (default per edit, e.g. brightness 0.1)")
    source.add_argument("--position", type=float, nargs=2, default=(0.5, 0.5), metavar=("X", "Y"),
                        help="patch centre as fractions of width and height")
    source.add_argument("--scale", type=float, default=0.3, help="patch size as a fraction of the short side")
    source.add_argument("--steps", type=int, default=10, help="number of steps including the original")
    source.add_argument("--max-guidance", type=float, default=10.0,
                        help="--instruction: largest text guidance (scales linspace(1.01, max, steps - 1))")
    source.add_argument("--image-guidance", type=float, default=2.5, help="--instruction: image guidance")
    source.add_argument("--denoising-steps", type=int, default=20, help="--instruction: denoising steps per edit")
    source.add_argument("--seeds", type=int, nargs="+", default=[0], metavar="SEED",
                        help="--instruction: one series per seed (same noise at every scale of a seed)")
    return source


def add_model_flags(parser: argparse.ArgumentParser) -> None:
    """The model flags `explain` and `study` share."""
    models = parser.add_argument_group("models (default: the bundled EfficientNet-Lite0 ImageNet classifier)")
    models.add_argument("--model", action="append", metavar="NAME",
                        help="bundled model by name (see `python -m propgrad models`); repeatable")
    models.add_argument("--model-file", action="append", metavar="PATH",
                        help="your classifier: torch.export .pt2, TorchScript, or the authors' ConvMixer "
                        "checkpoint; never unpickled with arbitrary code; repeatable")
    models.add_argument("--hub-model", action="append", metavar="ID_OR_FOLDER",
                        help="a Hugging Face image classifier (transformers): hub id (the local hub cache, else "
                        "downloaded where the hub is reachable) or a folder written by save_pretrained; repeatable")
    models.add_argument("--input-size", type=int, nargs=2, metavar=("H", "W"),
                        help="input size of --model-file models (resize to H x W); default: the size a .pt2 "
                        "was exported with, 128 for ConvMixer checkpoints, else 224")
    models.add_argument("--mean", type=float, nargs=3,
                        help="per-channel mean for --model-file normalisation (after scaling to [0, 1]); "
                        "default: 0.5 for ConvMixer checkpoints, else ImageNet's 0.485 0.456 0.406")
    models.add_argument("--std", type=float, nargs=3,
                        help="per-channel std for --model-file normalisation; default: 0.5 for ConvMixer "
                        "checkpoints, else ImageNet's 0.229 0.224 0.225")
    models.add_argument("--outputs-are", choices=list(OUTPUTS_ARE), default="auto",
                        help="what --model-file models return: logits (softmax; one output: sigmoid), "
                        "probabilities (used as they are), scores (raw), auto (judged on probe images)")
    models.add_argument("--class-names", metavar="NAMES",
                        help="class names of --model-file models: 'cat,dog' or @names.txt (one per line)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m propgrad",
        description="Local interventional explanations: does a model's prediction for THIS image depend on "
        "THIS property? Gradually change the property, run the models on every step, and measure "
        "E[|grad_X F|], its shuffle-test p-value and where the prediction flips.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    explain = commands.add_parser(
        "explain",
        help="explain one image under one intervention",
        description="Run one intervention on IMAGE, score every model, write report.json, curves.csv, "
        "strip.png, curves.png, null.png and animation.gif into --out.",
        formatter_class=_HelpFormatter,
    )
    explain.add_argument("image", nargs="?", help="input image (not needed with --frames)")
    add_intervention_flags(explain)

    region = explain.add_argument_group(
        "region (restrict the intervention to part of the image; outside it every step keeps the original pixels)")
    where = region.add_mutually_exclusive_group()
    where.add_argument("--region", action="append", metavar="object|background|MASK.png",
                       help="'object' (the salient object found by the bundled U^2-Net-p segmenter), 'background' "
                       "(its complement), or a mask image: greyscale (white = inside) or a painted layer "
                       "(opaque = inside), resized to the image if needed; repeat it to compare regions in one "
                       "run (written as with --compare-region)")
    where.add_argument("--compare-region", action="store_true",
                       help="run the edit twice, on the object and on the background, and write the comparison "
                       "(comparison.json, comparison.csv, comparison.png, one report folder per region; p-values "
                       "also Benjamini-Hochberg adjusted)")
    region.add_argument("--feather", type=float, default=0.0, metavar="PX",
                        help="soften the region's edge with a Gaussian blur of this standard deviation (px)")

    add_model_flags(explain)

    scoring = explain.add_argument_group("scoring")
    from . import _cli_statistic  # issue 16: --statistic, --outputs vector

    scoring.add_argument("--outputs", default="predicted", help=_cli_statistic.OUTPUTS_HELP)
    _cli_statistic.add_flags(scoring)
    scoring.add_argument("--permutations", type=int, default=10_000, help="shuffle-test permutations")
    scoring.add_argument("--alpha", type=float, default=0.01, help="significance level")
    scoring.add_argument("--seed", type=int, default=0, help="seed of the shuffle test")
    explain.add_argument("--out", default="propgrad-report", help="output folder")
    explain.add_argument("--no-progress", action="store_true", help="no progress bar")

    from . import _cli_screen  # issue 16: the screen subcommand

    _cli_screen.add_parser(commands, _HelpFormatter)
    commands.add_parser("models", help="list the bundled models")
    commands.add_parser("dynamics", help="training dynamics of the lesion scenario (see its --help)", add_help=False)
    commands.add_parser("study", help="many images: images x interventions x models, resumable, in-process, "
                        "local processes or Ray (see its --help)", add_help=False)
    return parser


def _edit_names() -> list[str]:
    from .interventions import EDITS

    return sorted(EDITS)


def _intervention(args):
    from .interventions import Frames, ParametricEdit, PatchBlend

    if args.frames:
        return Frames(args.frames)
    if args.instruction:
        from .interventions.diffusion import InstructPix2PixSweep

        # Finished sweeps are cached on disk, as in the app: explaining them again with other models is free.
        from .cache import SeriesCache

        return InstructPix2PixSweep(args.instruction, max_guidance=args.max_guidance, steps=args.steps,
                                    image_guidance=args.image_guidance, denoising_steps=args.denoising_steps,
                                    seeds=tuple(args.seeds), cache=SeriesCache())
    if args.patch:
        return PatchBlend(args.patch, position=tuple(args.position), scale=args.scale, steps=args.steps,
                          labels=[Path(p).name for p in args.patch])
    return ParametricEdit(args.edit or "brightness", stop=args.stop, start=args.start, steps=args.steps)


def _models(args) -> list:
    from .models.files import load_model_file
    from .models.hub import load_hub_classifier
    from .models.base import softmax_for
    from .models.bundled import get_model

    chosen = [get_model(name) for name in args.model or []]
    chosen += [load_hub_classifier(source) for source in args.hub_model or []]
    for path in args.model_file or []:
        chosen.append(load_model_file(path, input_size=args.input_size and tuple(args.input_size),
                                      mean=args.mean and tuple(args.mean), std=args.std and tuple(args.std),
                                      class_names=_class_names(args.class_names),
                                      apply_softmax=softmax_for(args.outputs_are)))
    return chosen or [get_model(DEFAULT_MODEL)]


def run_explain(args) -> int:
    from . import report
    from .explain import explain
    from .images import load_image

    if args.frames and args.image:
        raise ValueError("give either IMAGE or --frames, not both (frames bring their own images)")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise ValueError(f"--out {args.out!r} is a file; give a folder (it is created if missing)")
    if not args.frames and not args.image:
        raise ValueError("IMAGE is missing: give an image file, or --frames for a frame series")
    if (args.region or args.compare_region) and args.frames:
        raise ValueError("--region and --compare-region need IMAGE: frames bring their own images")
    image = load_image(args.image) if args.image else None
    intervention, models = _intervention(args), _models(args)
    if args.compare_region or len(args.region or []) > 1:
        return _run_region_comparison(args, image, intervention, models)
    if args.region:
        from .interventions.region import Region

        intervention = Region(intervention, _region_source(args.region[0]), feather=args.feather)
    from .progress_bar import fraction_bar

    with fraction_bar("explain", enabled=not args.no_progress) as progress:
        result = explain(image, intervention, models, outputs_of_interest=_outputs_of_interest(args.outputs, models),
                         n_permutations=args.permutations, alpha=args.alpha, seed=args.seed,
                         statistic=args.statistic, progress=progress)
    paths = report.write_report(result, args.out)
    print(f"{result.intervention}: {result.n_steps} steps x {len(result.series)} series; alpha = {result.alpha}")
    for row in report.summary_rows(result):
        mark = "significant" if row["significant"] else "not significant"
        print(f"  {row['model']} | {row['output']}: {STATISTIC_LABELS[result.statistic]} = {row['score']:.4f}, "
              f"p = {row['pvalue']:.4g} "
              f"({mark}), prediction flips: {row['flips']}")
    for note in result.notes:
        print(f"  note: {note}")
    print(f"wrote {', '.join(p.name for p in paths.values())} to {Path(args.out).resolve()}")
    return 0


def _region_source(text: str):
    """'object' / 'background' by name; anything else is a mask file (checked by the Region itself)."""
    from .interventions.region import SEGMENTED

    if text.strip().lower() in SEGMENTED:
        return text.strip().lower()
    if not Path(text).is_file():
        raise ValueError(f"--region: {text!r} is neither 'object', 'background' nor an existing mask file")
    return Path(text)


def _regions(args, intervention) -> dict:
    """{property name: Region}: object and background for --compare-region, else one per --region."""
    from .compare import edit_label
    from .interventions.region import BACKGROUND, OBJECT, Region

    what = edit_label(intervention)
    sources = [OBJECT, BACKGROUND] if args.compare_region else [_region_source(text) for text in args.region]
    regions = {}
    for source in sources:
        where = source if isinstance(source, str) else source.stem
        name = f"{where}: {what}"
        if name in regions:  # the same region twice, or two mask files with one name
            name = f"{where} ({len(regions) + 1}): {what}"
        regions[name] = Region(intervention, source, label=where, feather=args.feather)
    return regions


def _run_region_comparison(args, image, intervention, models) -> int:
    from .compare import compare_properties
    from .compare_report import write_comparison
    from .progress_bar import fraction_bar

    with fraction_bar("compare", enabled=not args.no_progress) as progress:
        comparison = compare_properties(image, _regions(args, intervention), models,
                                        outputs_of_interest=_outputs_of_interest(args.outputs, models),
                                        n_permutations=args.permutations, alpha=args.alpha, seed=args.seed,
                                        statistic=args.statistic, progress=progress)
    write_comparison(comparison, args.out)
    print(f"{' vs '.join(comparison.explanations)}: alpha = {comparison.alpha}; "
          f"adjusted p: {comparison.adjustment}")
    for entry in comparison.scores:
        mark = "significant" if entry.significant else "not significant"
        print(f"  {entry.property} | {entry.model} | {entry.output}: "
              f"{STATISTIC_LABELS[comparison.statistic]} = {entry.score:.4f}, "
              f"p = {entry.pvalue:.4g} ({mark}), adjusted p = {entry.pvalue_adjusted:.4g}, "
              f"prediction flips: {entry.flips}")
    for note in comparison.notes:
        print(f"  note: {note}")
    print(f"wrote comparison.json, comparison.csv, comparison.png and one folder per region to "
          f"{Path(args.out).resolve()}")
    return 0


def run_models() -> int:
    from .models.bundled import bundled_model_names

    for name in bundled_model_names():
        print(name)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["study"]:
        from .study.cli import main as study_main

        return study_main(argv[1:])
    if argv[:1] == ["dynamics"]:
        from .lesions.dynamics import main as dynamics_main

        dynamics_main(argv[1:])  # returns its results for callers in Python; the shell gets 0
        return 0
    args = build_parser().parse_args(argv)
    try:
        if args.command == "models":
            return run_models()
        if args.command == "screen":  # issue 16
            from . import _cli_screen

            return _cli_screen.run(args)
        return run_explain(args)
    except (ValueError, TypeError, ModelUnavailableError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
