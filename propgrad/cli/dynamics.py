"""``python -m propgrad dynamics``: score and flips of one lesion image after every training epoch."""
from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

from ..checks import unsaid
from ..disk import check_writable, not_a_regular_file, writing_to
from ..errors import ArgumentError, in_words
from ..kinds import PatchSpec
from . import console
from .bounds import check_args
from .console import say
from .flags import HelpFormatter


def build_parser() -> argparse.ArgumentParser:
    from ..lesions.dynamics import DEFAULT_STEPS
    from ..lesions.generator import CLASSES
    from ..lesions.models import VARIANTS

    patch = PatchSpec.options()
    parser = console.Parser(prog=f"{console.program_name()} dynamics", formatter_class=HelpFormatter,
                            description="Score and flips of one image after every training epoch.")
    parser.add_argument("--image", type=Path, default=None, help="lesion image (default: the first shipped example)")
    parser.add_argument("--variant", nargs="+", default=["biased", "unbiased"], choices=VARIANTS,
                        help="which shipped per-epoch checkpoints to follow")
    parser.add_argument("--checkpoints", nargs="+", type=Path, default=None,
                        help="your own checkpoint files instead of the shipped ones")
    parser.add_argument("--patches", nargs="+", type=Path, default=None,
                        help="RGBA patch PNGs (default: 3 shipped stickers)")
    # The stickers sit at the top right of the lesion, as in the README's examples.
    parser.add_argument("--position", type=float, nargs=2, default=(0.8, 0.2), metavar=("X", "Y"),
                        help=patch["position"][0].help_text())
    parser.add_argument("--scale", type=float, default=patch["scale"][2], help=patch["scale"][0].help_text())
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                        help=f"{patch['steps'][0].help_text()} (default: %(default)s, as in the app)")
    parser.add_argument("--output", default="melanoma", choices=list(CLASSES),
                        help="the class whose probability is tracked")
    parser.add_argument("--permutations", type=int, default=2000, help="shuffle-test permutations")
    parser.add_argument("--alpha", type=float, default=0.01, help="significance level of the shuffle test")
    parser.add_argument("--seed", type=int, default=0, help="seed of the shuffle test")
    parser.add_argument("--plot", default=None,
                        help="where to save the figure, as a file whose suffix names its kind (.png, .pdf, .svg; "
                        "PNG without one) or a folder (default: dynamics.png, in --out where given)")
    parser.add_argument("--out", default=None,
                        help="also write the report into this folder: report.html, dynamics.json (every setting "
                        "and digit), dynamics.csv and the figure")
    console.add_flags(parser, json_output=True)
    return parser


def _check_files(args) -> None:
    """Every file named on the command line exists (else one line naming the flag, before any work)."""
    for flag, paths in (("--image", [args.image] if args.image else []), ("--checkpoints", args.checkpoints or []),
                        ("--patches", args.patches or [])):
        for path in paths:
            if not Path(path).is_file():
                raise ValueError(f"`{flag}`: no such file {str(path)!r}")


def plot_path(given: str | None, out: str | None) -> Path:
    """Where ``--plot`` puts the figure, refused before the checkpoints run where matplotlib could not write its kind
    (``out.txt`` failed after the whole run). A folder gets dynamics.png (``dir/`` wrote ``dir.png`` and printed
    ``dir``); a name without a suffix gets ``.png``, as matplotlib adds it, so the line printed names the file.

    Examples
    --------
    >>> str(plot_path(None, "report")), str(plot_path("curves", None)), str(plot_path("/dev/null", None))
    ('report/dynamics.png', 'curves.png', '/dev/null')
    """
    from matplotlib.backend_bases import FigureCanvasBase

    if given is None:
        return Path(out or ".") / "dynamics.png"
    if not given.strip():
        raise ArgumentError("--plot", "is empty: name the figure's file (an unset shell variable?)")
    path = Path(given)
    if given.endswith(("/", os.sep)) or path.is_dir():
        return path / "dynamics.png"
    if not_a_regular_file(path):
        return path  # /dev/null, /dev/stdout, a pipe: written in place, as PNG
    if not path.suffix:
        return path.with_suffix(".png")
    kinds = FigureCanvasBase.get_supported_filetypes()
    if path.suffix.lower().lstrip(".") not in kinds:
        raise ArgumentError("--plot", f"names a {path.suffix!r} file, a kind of figure matplotlib cannot write; end "
                                      f"it in {in_words(['.' + kind for kind in ('png', 'pdf', 'svg')], 'or')} "
                                      f"(or another of {', '.join(sorted(kinds))})")
    return path


def run_dynamics(argv: list[str] | None = None) -> dict:
    """Print the per-epoch table for each followed run, save the plot and (``--out``) the report; returns the
    results by run."""
    from ..images import load_image
    from ..lesions.dynamics import (checkpoint_cells, checkpoint_columns, default_intervention, follow_training,
                                    plot_dynamics)
    from ..lesions.models import checkpoint_paths, example_paths
    from ..plots import save_figure
    from ..progress_bar import fraction_bar

    parser = build_parser()
    args = parser.parse_args(argv)
    console.configure(args)
    check_args(args)  # the table of limits and the shuffle test's settings, before any work (exit status 2)
    _check_files(args)
    image_path = args.image or (example_paths() or [None])[0]
    if image_path is None:
        parser.error("no --image given and no shipped example found")
    image = load_image(image_path, name="--image")
    # Before the checkpoints run, not after all of them.
    if args.out is not None:
        check_writable(args.out, "--out")
    args.plot = plot_path(args.plot, args.out)
    if not_a_regular_file(args.plot):  # a device's folder (/dev) takes no probe file from most users
        if not os.access(args.plot, os.W_OK):
            raise ArgumentError("--plot", f"{str(args.plot)!r} may not be written; choose another file")
    else:
        check_writable(Path(args.plot).parent, "--plot")
    if args.patches:
        intervention = PatchSpec(patches=tuple(map(str, args.patches)), position=tuple(args.position),
                                 scale=args.scale, steps=args.steps).build()
    else:
        intervention = default_intervention(args.steps, position=tuple(args.position), scale=args.scale)
    runs = {"custom": args.checkpoints} if args.checkpoints else {v: checkpoint_paths(v) for v in args.variant}
    for label, paths in runs.items():
        if not paths:
            parser.error(f"no checkpoints found for {label!r}")
    with fraction_bar("dynamics", enabled=console.progress_enabled()) as progress:
        dynamics = follow_training(image, runs, intervention, output=args.output, n_permutations=args.permutations,
                                   alpha=args.alpha, seed=args.seed, progress=progress)
    what, measured = dynamics.headline()
    say(f"{what} ({Path(image_path).name}): {measured}")
    if dynamics.caveat:  # before the readings, as the tab and report.html say it
        say(dynamics.caveat)
    for label, result in dynamics.results.items():
        say(f"\n{label}: {Path(image_path).name}, {len(result.labels)} checkpoints, {dynamics.n_steps} steps, "
            f"output {result.output!r}")
        # The tab's table (the run is said above it); dynamics.csv keeps every digit.
        titles = checkpoint_columns(result.output)[1:]
        cells = [checkpoint_cells(row, result.alpha)[1:] for row in result.rows(label)]
        widths = [max(len(title), *(len(row[i]) for row in cells)) for i, title in enumerate(titles)]
        for line in (titles, *cells):
            say("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
        say(dynamics.readings[label])
    say(f"\n{dynamics.table_legend}")
    for note in unsaid(dynamics.notes, [dynamics.caveat]):
        say(f"note: {note}")
    with writing_to(Path(args.plot).parent, "--plot"):
        save_figure(plot_dynamics(dynamics.results, title=f"Training dynamics: {Path(image_path).name}"), args.plot)
    say(f"\nplot: {args.plot}")
    if args.out is not None:
        from .. import export

        with writing_to(Path(args.out), "--out"):
            written = export.write(dynamics, Path(args.out), drawn={"dynamics": Path(args.plot)})
        say(f"report: {written['html']}")
    if console.json_wanted():  # dynamics.json's document, --out or not
        from ..export.dynamics import to_dict

        console.emit(to_dict(dynamics))
    # The last lines are "name: value" for scripts; with several runs each is named, not only the first one's.
    if len(dynamics.results) == 1:
        say(f"final_epoch_score: {next(iter(dynamics.results.values())).scores[-1]:.4f}")
    else:
        for label, result in dynamics.results.items():
            say(f"final_epoch_score_{re.sub(r'[^0-9A-Za-z]+', '_', label).strip('_')}: {result.scores[-1]:.4f}")
    return dynamics.results
