"""The training-dynamics tab: one lesion image's sticker score through every per-epoch checkpoint."""
from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from ...lesions.dynamics import (DEFAULT_STEPS, TRACKED, TrainingDynamics, checkpoint_cells,
                                 checkpoint_columns, guide, TALK_GUIDE)
from ...lesions.models import DOMAIN, example_paths
from ...checks import unsaid
from ...reading import for_pages
from ..cards import phone_cards
from ..memory import released
from ..parsing import RANGES, in_range, shown
from ..folders import request_dir
from ..results import caveat_markdown, run_name
from ..run import load_input, package_progress
from ..settings import CONCURRENCY
from ..shared import friendly_errors, permutations_slider, safe_image_input


# The table's titles (lesions.dynamics.checkpoint_columns: what the output did first); the page draws the arrow.
DYNAMICS_HEADERS = [for_pages(title) for title in checkpoint_columns(TRACKED)]
DEFAULT_PERMUTATIONS = 2000


def dynamics_variants() -> list[str]:
    """Lesion model variants that ship per-epoch checkpoints; empty when the scenario is absent."""
    from ...lesions.models import VARIANTS, checkpoint_paths

    return [variant for variant in VARIANTS if checkpoint_paths(variant)]


@dataclass(frozen=True)
class DynamicsAnswer:
    """One run of the tab: the summary in words, the plot, the zip of its report (report.html, dynamics.json,
    dynamics.csv, dynamics.png) and the record it was made from (its rows and reading)."""

    summary: str
    plot: Path
    bundle: Path
    dynamics: TrainingDynamics

    @property
    def reading(self) -> str:
        return self.dynamics.reading

    @property
    def rows(self) -> list[dict]:
        """Every checkpoint's record (:data:`~propgrad.lesions.dynamics.ROW_FIELDS`, every digit)."""
        return self.dynamics.rows

    def table(self) -> list[list]:
        """The records as the page shows them (:data:`DYNAMICS_HEADERS`)."""
        return [[for_pages(cell) for cell in checkpoint_cells(row, self.dynamics.alpha)] for row in self.rows]


def dynamics_results(image, variants: Sequence[str], *, steps: int, n_permutations: int, alpha: float, seed: int,
                     progress=None) -> DynamicsAnswer:
    """Follow one image's patch score through training for each variant, and write the plot and the report's zip."""
    from ... import export
    from ...export.dynamics import FIGURE as DYNAMICS_FIGURE
    from ...lesions.dynamics import default_intervention, follow_training, plot_dynamics
    from ...lesions.models import checkpoint_paths
    from ...plots import save_figure

    variants = [variants] if isinstance(variants, str) else list(variants or [])
    if not variants:
        raise ValueError("`variants`: tick at least one of the lesion models (biased, unbiased)")
    available = dynamics_variants()
    for variant in variants:
        if variant not in available:
            raise ValueError(f"`variants`: no per-epoch checkpoints for {shown(variant)} in this build; have {available}")
    dynamics = follow_training(image, {variant: checkpoint_paths(variant) for variant in variants},
                               default_intervention(steps=steps), n_permutations=n_permutations, alpha=alpha,
                               seed=seed, progress=progress or (lambda fraction, message="": None))
    # The report goes into a folder of its own, which the zip holds; the page shows the report's plot (drawn once,
    # where the report keeps it).
    report = request_dir() / "report"
    report.mkdir()
    plot = save_figure(plot_dynamics(dynamics.results), report / DYNAMICS_FIGURE)
    settings = export.settings(dynamics)  # once, for dynamics.json and the download's name
    written = export.write(dynamics, report, settings=settings, drawn={"dynamics": plot})
    bundle = export.zip_files(written, report.parent / f"{run_name(settings, ['training dynamics'])}.zip")
    what, measured = dynamics.headline()
    talk = (f' <span class="talk-only">{TALK_GUIDE}</span>'
            if {"biased", "unbiased"} <= set(dynamics.results) else "")
    caveat = [caveat_markdown(dynamics.caveat), ""] if dynamics.caveat else []
    lines = [f"**{what}**: {measured}", "", *caveat, "**Reading:** " + dynamics.reading + talk, "",
             f"{guide(dynamics.results)} {dynamics.table_legend}",
             *(f"- note: {note}" for note in unsaid(dynamics.notes, [dynamics.caveat])), "",
             checkpoint_cards(dynamics)]
    # For pages, as every tab's: the gradient's name broke over two lines ("E[|grad_X" / "F|]") in the talk view.
    return DynamicsAnswer(for_pages("\n".join(lines)), Path(plot), bundle, dynamics)


def seen_beside_plot(answer: DynamicsAnswer) -> Path:
    """The page's picture: step 0 and each sticker at the last step beside the plot (the tab showed the input, the
    plot and the table, and "what was changed?" had no answer on the page). Written beside the zip, not in it: the
    report's figure is the plot alone, as the MCP tool's is."""
    from PIL import Image

    from ...plots import named_pictures, save_picture, side_by_side

    dynamics = answer.dynamics
    if not dynamics.ends:
        return answer.plot
    last = dynamics.n_steps - 1
    if dynamics.series_ends:
        named, title = [("step 0", dynamics.ends[0]), *dynamics.series_ends], f"step 0, and step {last} of each series"
    else:
        named, title = [("step 0", dynamics.ends[0]), ("the first series", dynamics.ends[-1])], f"steps 0 and {last}"
    seen = named_pictures(named, title, thumb=170, per_row=2)
    with Image.open(answer.plot) as figure:
        return save_picture(side_by_side([seen, figure]), answer.bundle.parent / "dynamics-page.png")


def checkpoint_cards(dynamics: TrainingDynamics) -> str:
    """The checkpoint table as one line of words per checkpoint, folded, for a phone (the page shows it only there,
    in place of the table): at 390 px the table showed variant, epoch and reading, its numbers out of sight."""
    titles = checkpoint_columns(dynamics.output)
    cards = []
    for row in dynamics.rows:
        variant, epoch, reading, output, change, score, p, _, flipped = checkpoint_cells(row, dynamics.alpha)
        cards.append(f"<li><b>{html.escape(variant)}, epoch {epoch}</b>: {html.escape(reading)}<br>"
                     f"mean p({html.escape(dynamics.output)}) {for_pages(output)} (change {change}); "
                     f"{html.escape(titles[5])} {score}, p {p}{' (significant)' if row['significant'] else ''}; "
                     f"{html.escape(titles[8])} {flipped}</li>")
    return phone_cards(cards, "Per checkpoint", "checkpoint-cards")


@friendly_errors
@released
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
        n_permutations: shuffle-test permutations, 1000 to 20000 in steps of 1000
        alpha: significance level for the shuffle test, 0.0001 to 0.2

    Returns:
        summary: Markdown: what ran and the reading of each variant in plain words, then the table again as one
            line per checkpoint in a folded HTML block (what a phone shows in place of the table)
        plot: URL of a PNG: what every checkpoint sees (step 0 and each sticker at the last step) beside the score
            and the flips per epoch, one line per variant
        table: rows of model variant, epoch, reading, mean p(melanoma) at step 0 and the last step, E[|grad_X F|],
            p, signif. ("yes" where p <= alpha), share of series flipped
        download: URL of a zip of the report: report.html (the reading, the plot and the table), dynamics.json
            (every setting and every digit), dynamics.csv and dynamics.png
    """
    answer = dynamics_results(
        load_input(image), variants,
        steps=in_range(steps, "steps", "number of steps"),
        n_permutations=in_range(n_permutations, "n_permutations", "permutations"),
        alpha=in_range(alpha, "alpha"),
        seed=in_range(seed, "seed"),
        progress=package_progress(progress),
    )
    return answer.summary, str(seen_beside_plot(answer)), answer.table(), str(answer.bundle)


def dynamics_defaults() -> dict:
    """The tab's default example: the first shipped lesion image, every variant, 8 steps, 2,000 permutations."""
    lesions = example_paths()
    return dict(image=str(lesions[0]) if lesions else None, variants=dynamics_variants(), steps=DEFAULT_STEPS,
                seed=0, permutations=DEFAULT_PERMUTATIONS, alpha=0.01)


def _quiet(*args, **kwargs) -> None:
    """Progress of a run nobody watches."""


def default_result(progress=_quiet) -> tuple:
    """The tab's default example through its own handler: what the page shows on load."""
    d = dynamics_defaults()
    return run_dynamics(d["image"], d["variants"], d["steps"], d["seed"], d["permutations"], d["alpha"],
                        progress=progress)


def dynamics_examples(variants: list[str]) -> tuple[list[list], list[str]]:
    """Whole presets (image, variants, steps) and their labels: a melanoma and a nevus with every variant, and
    the biased model alone on another melanoma with finer steps."""
    lesions = {path.stem: str(path) for path in example_paths()}
    rows, labels = [], []
    for stem, steps, chosen, label in (
            ("melanoma_1", DEFAULT_STEPS, variants, "Melanoma, every variant"),
            ("nevus_1", DEFAULT_STEPS, variants, "Nevus, every variant"),
            ("melanoma_2", 12, [v for v in variants if v == "biased"] or variants, "Melanoma, biased model, 12 steps")):
        if stem in lesions:
            rows.append([lesions[stem], chosen, steps])
            labels.append(label)
    return rows, labels


def build_dynamics_tab(variants: list[str]) -> list:
    """The tab's controls, wired to :func:`run_dynamics`; returns the result components (filled on page load)."""
    from ..shared import PRESS_RUN, preset_loaded, run_button, wire_run

    d = dynamics_defaults()
    # A lecturer saw the patch tab's 0.097, p 0.00010 and this tab's 0.12, p 0.00050 for the same model and image,
    # with nothing to say why.
    gr.Markdown("How one image's sticker score and prediction flips evolve over training: every per-epoch "
                "checkpoint of the lesion classifiers explains the same patch-blending series. " + DOMAIN +
                f" Every checkpoint runs, so the default takes {DEFAULT_STEPS} steps and "
                f"{DEFAULT_PERMUTATIONS:,} permutations: the last epoch's score and p-value differ from the patch "
                "tab's for the same model and image (the score depends on the steps, the smallest p on the "
                "permutations), while its curve ends alike.")
    with gr.Row():
        image = safe_image_input(gr.Image(d["image"], type="filepath", image_mode=None,
                                           label="Lesion image", sources=["upload", "clipboard"], scale=1))
        with gr.Column(scale=1):
            chosen = gr.CheckboxGroup(variants, value=variants, label="Model variants", elem_id="dynamics-variants")
            steps = gr.Slider(*RANGES["steps"], value=d["steps"], step=1, label="Number of steps",
                              elem_id="dynamics-steps")
            seed = gr.Number(d["seed"], label="Seed (shuffle test)", precision=0)
            permutations = permutations_slider(d["permutations"])
            alpha = gr.Number(d["alpha"], label="Significance level alpha")
            button, error = run_button("dynamics")
    rows, labels = dynamics_examples(variants)
    examples = gr.Examples(rows, [image, chosen, steps], example_labels=labels, label="Examples (synthetic lesions): "
                           "each sets the image, the variants and the steps together") if rows else None
    summary = gr.Markdown(PRESS_RUN, elem_id="dynamics-summary", elem_classes=["result-summary"])
    # On a phone it keeps its size and scrolls sideways. The figure has its own titles: gradio's label badge covered
    # them, as on the other tabs' figures.
    plot = gr.Image(label="What every checkpoint sees, and its E[|grad_X F|] and flips per epoch", type="filepath",
                    interactive=False, elem_id="dynamics-curves", elem_classes=["result-wide"], show_label=False,
                    buttons=["fullscreen"])
    # Every checkpoint in view (40 rows for two variants; at 500 px a projected page showed the first variant's 12).
    # A phone shows the summary's cards instead (demo.CSS); on a narrow laptop the variant and the epoch stay put
    # while the table is swiped to its numbers.
    table = gr.Dataframe(headers=DYNAMICS_HEADERS, label="Per checkpoint", interactive=False, wrap=True,
                         elem_id="dynamics-table", max_height=2400, pinned_columns=2)
    download = gr.File(label="Download (zip: report.html, dynamics.json, dynamics.csv, dynamics.png)",
                       interactive=False, elem_id="dynamics-bundle")
    outputs = [summary, plot, table, download]
    # As every tab's Run: disabled while it runs, a form error beside it (the button comes back), the API's /dynamics.
    running = wire_run(button, error, run_dynamics, [image, chosen, steps, seed, permutations, alpha], outputs,
                       "dynamics", CONCURRENCY, follows=False)
    if examples is not None:
        preset_loaded(examples, outputs, running)
    return outputs
