"""The training-dynamics tab: one lesion image's sticker score through every per-epoch checkpoint."""
from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import gradio as gr

from ...lesions.models import example_paths
from ..parsing import MAX_PERMUTATIONS, MAX_SEED, MAX_STEPS, check_float, check_int, shown
from ..results import request_dir
from ..run import load_input, package_progress
from ..settings import CONCURRENCY
from ..shared import friendly_errors, safe_image_input


DYNAMICS_HEADERS = ["model variant", "epoch", "E[|grad_X F|]", "p-value", "significant", "share of series flipped"]


def dynamics_variants() -> list[str]:
    """Lesion model variants that ship per-epoch checkpoints; empty when the scenario is absent."""
    from ...lesions.models import VARIANTS, checkpoint_paths

    return [variant for variant in VARIANTS if checkpoint_paths(variant)]


def dynamics_results(image, variants: Sequence[str], *, steps: int, n_permutations: int, alpha: float, seed: int,
                     progress=None) -> tuple[Path, Path, list[list]]:
    """Follow one image's patch score through training for each variant; plot, CSV and table rows."""
    from ...lesions.dynamics import default_intervention, plot_dynamics, training_dynamics
    from ...lesions.models import checkpoint_paths
    from ...plots import save_figure

    variants = [variants] if isinstance(variants, str) else list(variants or [])
    if not variants:
        raise ValueError("`variants`: tick at least one of the lesion models (biased, unbiased)")
    available = dynamics_variants()
    for variant in variants:
        if variant not in available:
            raise ValueError(f"`variants`: no per-epoch checkpoints for {shown(variant)} in this build; have {available}")
    intervention = default_intervention(steps=steps)
    report = progress or (lambda fraction, message="": None)
    results = {}
    for number, variant in enumerate(variants):
        results[variant] = training_dynamics(
            checkpoint_paths(variant), image, intervention, n_permutations=n_permutations, alpha=alpha, seed=seed,
            progress=lambda f, m="", n=number: report((n + f) / len(variants), f"{variant}: {m}"),
        )
    folder = request_dir()
    plot = folder / "dynamics.png"
    save_figure(plot_dynamics(results), plot)
    table = []
    for variant, result in results.items():
        for row in result.rows():
            table.append([variant, row["epoch"], round(row["score"], 5), float(f"{row['pvalue']:.3g}"),
                          "yes" if row["pvalue"] <= alpha else "no", round(row["flip_fraction"], 3)])
    csv_path = folder / "dynamics.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(DYNAMICS_HEADERS)
        writer.writerows(table)
    return plot, csv_path, table


@friendly_errors
def run_dynamics(image, variants, steps, seed, n_permutations, alpha, progress=gr.Progress()):
    """Follow one lesion image's sticker score through training: when did the biased model learn the shortcut?

    Every saved per-epoch checkpoint of the bundled lesion classifiers explains the same sticker-blending
    series of ``image``; the plot shows E[|grad_X F|] and prediction flips per epoch for each variant.
    Bad arguments come back as an error naming the argument.

    Args:
        image: a skin-lesion image (an http(s) URL or a data: URI)
        variants: trained variants to follow: "biased" (sticker shortcut in training), "unbiased", or both
        steps: number of opacity steps including opacity 0, 3 to 30
        seed: seed of the shuffle test, a non-negative integer
        n_permutations: shuffle-test permutations, 500 to 10000
        alpha: significance level for the shuffle test, 0.0001 to 0.2

    Returns:
        plot: URL of a PNG of the score and the flips per epoch, one line per variant
        table: rows of model variant, epoch, E[|grad_X F|], p-value, significant, share of series flipped
        download: URL of a CSV of the table
    """
    plot, csv_path, table = dynamics_results(
        load_input(image), variants,
        steps=check_int(steps, name="number of steps", low=3, high=MAX_STEPS),
        n_permutations=check_int(n_permutations, name="permutations", low=100, high=MAX_PERMUTATIONS),
        alpha=check_float(alpha, name="alpha", low=1e-4, high=0.2),
        seed=check_int(seed, name="seed", low=0, high=MAX_SEED),
        progress=package_progress(progress),
    )
    return str(plot), table, str(csv_path)


def build_dynamics_tab(variants: list[str]) -> None:
    lesions = example_paths()
    gr.Markdown("How one image's sticker score and prediction flips evolve over training: every per-epoch "
                "checkpoint of the lesion classifiers explains the same patch-blending series.")
    with gr.Row():
        image = safe_image_input(gr.Image(str(lesions[0]) if lesions else None, type="filepath", image_mode=None,
                                           label="Lesion image", sources=["upload", "clipboard"], scale=1))
        with gr.Column(scale=1):
            chosen = gr.CheckboxGroup(variants, value=variants, label="Model variants")
            steps = gr.Slider(3, MAX_STEPS, value=8, step=1, label="Number of steps")
            seed = gr.Number(0, label="Seed (shuffle test)", precision=0)
            permutations = gr.Slider(500, 10000, value=2000, step=500, label="Shuffle-test permutations")
            alpha = gr.Number(0.01, label="Significance level alpha")
            button = gr.Button("Run", variant="primary", elem_id="dynamics-run")
    plot = gr.Image(label="Score and flips per epoch", type="filepath", interactive=False)
    table = gr.Dataframe(headers=DYNAMICS_HEADERS, label="Per checkpoint", interactive=False,
                         elem_id="dynamics-table")
    download = gr.File(label="Download (CSV)", interactive=False)
    # Run is disabled while it runs (the API's /dynamics is the middle step).
    started = button.click(lambda: gr.update(interactive=False, value="Running..."), None, button, queue=False,
                           api_visibility="private")
    ran = started.then(run_dynamics, [image, chosen, steps, seed, permutations, alpha], [plot, table, download],
                       api_name="dynamics", concurrency_limit=CONCURRENCY)
    ran.then(lambda: gr.update(interactive=True, value="Run"), None, button, queue=False, api_visibility="private")
    if lesions:
        gr.Examples([[str(p)] for p in lesions[:4]], [image], label="Examples (synthetic lesions)")
