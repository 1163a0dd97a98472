"""One run for the app: the explanation a tab asked for, what is shown at once, what follows, and the settings that
reproduce it.

Gradio-free. :func:`explain_for_app` and :func:`compare_for_app` run the package and return the result's
components. A run is shown in two parts, so that the answer is on the page as soon as it is computed:

1. :func:`show` (at once): the summary with the reading and the ranked table, the image strip (Pillow) and
   the curves (one matplotlib figure), drawn side by side in two threads;
2. :func:`finish` (right after, while the user reads): the animation, the null distributions and the zip
   with every file (report.json with every setting of the run, scores.csv, curves.csv, the figures; for a comparison
   each property's report with its own curves and GIF). The reports and the animation are drawn in a second
   process (:mod:`.writer`; a comparison's start with part 1, as they need nothing it draws), the null plots here:
   matplotlib holds the GIL, so threads alone would draw them one after the other. Part 1's strip and curves, and
   the null plots, go on report.html once drawn (a comparison's page shows part 1's curves, not a figure of its
   own that drew them again).

The app's Run button shows part 1 and then asks for part 2 (see ``shared.shown_first``); API clients get
both in one answer (:func:`respond`). Each request writes only into its own private folder.
"""
from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import os
import re
import shutil
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .. import export, plots, reading
from ..answer import answer_spans
from ..checks import unsaid, with_lead_ins
from ..export import explanation as report
from ..export.comparison import table_row
from ..export import html as export_html
from ..export.provenance import run_settings
from ..explain import Explanation, explain
from ..gradualness import NOT_GRADUAL_WARNING
from ..ranking import tier_legend
from ..formats import format_number, format_pvalue
from ..reading import yes_or_no
from ..score import STATISTIC_LABELS, STATISTIC_MEANING
from ..statistics import ADJUSTED_DEPENDS
from . import writer
from .folders import request_dir
from .parsing import select_outputs
from .run import package_progress

log = logging.getLogger("propgrad.app")

# Figures are independent: two at a time (the development and Space machines have two cores).
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="propgrad-figures")
# Part 2 of a run the Run button showed starts here as soon as part 1 is drawn, while the answer travels to the
# page, so that the zip is ready about when the page asks for it (:func:`finish` then only waits). Its own threads:
# part 2 waits on ``_POOL``, and two runs finishing at once must not hold both of its workers.
_FINISHING = ThreadPoolExecutor(max_workers=4, thread_name_prefix="propgrad-finish")
# Waits for the writer's process (:mod:`.writer`); a thread of its own, so that it never holds a figure worker.
_WRITING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="propgrad-writing")
# Set by the Run button's wrapper: a list that receives the run instead of finishing it here.
DEFER: contextvars.ContextVar[list | None] = contextvars.ContextVar("propgrad_defer_finish", default=None)


def _slug(text: str, limit: int = 40) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")[:limit].strip("-")


def run_name(settings: dict, properties: Sequence[str]) -> str:
    """The download's name: input, what was changed, and six hex digits of the settings that made it
    (``propgrad-chelsea-darken-object-vs-background-3f9a1c``), so that two runs of one tab download as two
    files, and the same settings again as the same name. Frames are named by their files' common stem.

    Examples
    --------
    >>> run_name({"input": {"file": "chelsea.jpg"}}, ["object: darken", "background: darken"])[:-7]
    'propgrad-chelsea-darken-object-vs-background'
    >>> run_name({"input": {"frames": [{"file": "mug_000.png"}, {"file": "mug_010.png"}]}}, ["frames"])[:-7]
    'propgrad-mug-frames'
    >>> run_name({"input": {"file": "a.png"}, "seed": 0}, ["x"]) != run_name({"input": {"file": "a.png"}, "seed": 1}, ["x"])
    True
    """
    stem = _input_stem(settings.get("input") or {})
    parts = [_slug(stem, 24)] if stem else []
    split = [name.split(": ", 1) for name in properties]
    if len(properties) > 1 and all(len(pair) == 2 for pair in split) and len({what for _, what in split}) == 1:
        parts += [_slug(split[0][1]), "-vs-".join(_slug(where, 20) for where, _ in split)]
    else:
        parts += ["-vs-".join(_slug(name, 40 if len(properties) == 1 else 24) for name in properties)]
    return "-".join(["propgrad", *[part for part in parts if part]])[:112].rstrip("-") + "-" + settings_digest(settings)


def settings_digest(settings: dict) -> str:
    """Six hex digits of the settings that decide a result (not the package versions or the notes)."""
    decisive = {key: value for key, value in settings.items() if key not in ("packages", "notes")}
    try:
        text = json.dumps(decisive, sort_keys=True, default=str)
    except TypeError:  # keys of mixed kinds (1 and "a") cannot be sorted
        text = repr(decisive)
    return hashlib.sha256(text.encode()).hexdigest()[:6]


def _input_stem(described) -> str:
    if not isinstance(described, dict):  # a study's many images name no one file
        return ""
    if described.get("file"):
        return Path(described["file"]).stem
    stems = [Path(frame["file"]).stem for frame in described.get("frames") or [] if frame.get("file")]
    if not stems:
        return ""
    return os.path.commonprefix(stems).rstrip("-_ .0123456789")  # none shared: no name (the first frame's misled)


# ---------------------------------------------------------------------------------------------------------
# Running a tab's explanation: each tab's handler calls one of these once its boxes are read (:mod:`.run`)


def gradual_notes(explanation, name: str = "") -> list[str]:
    """The gradualness verdict, and a warning when a series is not gradual ("name: ..." for one property of
    several): the lines the summary shows under the table."""
    prefix = f"{name}: " if name else ""
    # Said to be about the images, not the model: "gradual" right under an "abrupt" reading read as a contradiction.
    lines = [f"{prefix}the images themselves, before any model: {explanation.gradual_summary}"]
    if not explanation.gradual:
        lines.append(f"{prefix}**warning**: {NOT_GRADUAL_WARNING}")
    return lines


def explain_for_app(image, intervention, models, outputs, settings, seed, progress, notes=(),
                    statistic: str = "gradient") -> tuple:
    """Explain ``intervention`` for ``models`` and return the result components (see :func:`respond`)."""
    selection, selection_notes = select_outputs(models, outputs)
    n_permutations, alpha = settings
    explanation = explain(
        image, intervention, models, outputs_of_interest=selection, n_permutations=n_permutations, alpha=alpha,
        seed=seed, statistic=statistic, progress=package_progress(progress),
    )
    progress(1.0, desc="drawing plots")
    # The settings' notes are about the run and its input, as the command line records them; the summary adds the
    # verdict on the images (report.json has it under gradualness).
    notes = list(dict.fromkeys([*notes, *selection_notes, *explanation.notes]))
    recorded = run_settings(explanation.input, {explanation.intervention: intervention}, models, outputs,
                            n_permutations, alpha, seed, notes)
    return respond(new_run(explanation, recorded, notes + gradual_notes(explanation)), progress)


def compare_for_app(image, interventions: dict, models, outputs, settings, seed, progress, notes=(),
                    statistic: str = "gradient") -> tuple:
    """Explain ``image`` under every intervention (one per property) and return the result components."""
    from ..compare import compare_properties

    selection, selection_notes = select_outputs(models, outputs)
    n_permutations, alpha = settings
    comparison = compare_properties(image, interventions, models, outputs_of_interest=selection,
                                    n_permutations=n_permutations, alpha=alpha, seed=seed, statistic=statistic,
                                    progress=package_progress(progress))
    progress(1.0, desc="drawing plots")
    checked = [line for name, result in comparison.explanations.items() for line in gradual_notes(result, name)]
    notes = list(dict.fromkeys([*notes, *selection_notes, *comparison.notes]))
    described = next(iter(comparison.explanations.values())).input
    recorded = run_settings(described, interventions, models, outputs, n_permutations, alpha, seed, notes)
    return respond(new_run(comparison, recorded, notes + checked), progress)


# ---------------------------------------------------------------------------------------------------------
# One run


@dataclass
class AppRun:
    """What one run produced, and the files drawn for it so far (None until drawn)."""

    folder: Path
    name: str
    settings: dict
    notes: list[str]
    explanation: Explanation | None = None
    comparison: object | None = None
    readings: list = field(default_factory=list)
    strip: Path | None = None
    curves: Path | None = None
    animation: Path | None = None
    null: Path | None = None
    bundle: Path | None = None
    reports: Future | None = field(default=None, repr=False, compare=False)  # in the writer's process
    finishing: Future | None = field(default=None, repr=False, compare=False)  # part 2, started early
    started: float = float("inf")  # when the Run button's request started (time.monotonic), where it did
    tab: str = ""  # the API name of the tab whose Run button started it: its presets supersede it

    @property
    def explanations(self) -> dict[str, Explanation]:
        if self.comparison is not None:
            return _ranked(self.comparison)
        return {self.explanation.intervention: self.explanation}


def _ranked(comparison) -> dict[str, Explanation]:
    """A comparison's explanations by property, in its ranked order."""
    return {name: comparison.explanations[name] for name in comparison.properties}


def new_run(result, settings: dict, notes: Sequence[str]) -> AppRun:
    """An :class:`AppRun` for an Explanation or a PropertyComparison, with its readings, in a new folder."""
    folder = request_dir()
    if isinstance(result, Explanation):
        return AppRun(folder, run_name(settings, [result.intervention]), settings, list(notes), explanation=result,
                      readings=list(result.readings))
    return AppRun(folder, run_name(settings, list(result.explanations)), settings, list(notes), comparison=result,
                  readings=result.readings)


def _draw_strip(run: AppRun) -> Path:
    # A comparison shows six steps per property in one row (its GIF shows every step), among them each model's first
    # flip, which the readings place; one explanation up to 12.
    pictures = []
    for name, result in run.explanations.items():
        if run.comparison is not None:
            title = f"{name}, {reading.axis_words(result.property_name)}"
            pictures += plots.strip_and_companions(result, title=title, max_images=6, ends=False)
        else:
            pictures += plots.strip_and_companions(result)
    return plots.save_picture(plots.stack_pictures(pictures), run.folder / "strip.png")


def _draw_curves(run: AppRun) -> Path:
    if run.comparison is not None:
        figure = plots.comparison_curves(run.comparison, reading.short_names(run.comparison.models))
    else:
        figure = plots.output_curves(run.explanation)
    return plots.save_figure(figure, run.folder / "curves.png", dpi=100)


def show(run: AppRun) -> AppRun:
    """Part 1: the strip and the curves, drawn at once in two threads."""
    strip, curves = _POOL.submit(_draw_strip, run), _POOL.submit(_draw_curves, run)
    run.strip, run.curves = strip.result(), curves.result()
    return run


def _draw_animation(result, path: Path) -> Path:
    """The run's animation: every step of one explanation, or each property's first series side by side."""
    if isinstance(result, Explanation):
        return plots.save_animation(result, path)
    explanations = _ranked(result)
    series = [one.series[0] for one in explanations.values()]
    side = 240 if len(series) > 1 else 320
    frames = []
    for step in range(len(series[0])):
        tiles = [plots.caption_frame(one.images[step], f"{name}, step {step}", f"step {step}", side)
                 for name, one in zip(explanations, series)]
        frames.append(plots.side_by_side(tiles, gap=6, centred=False))
    return plots.save_gif(frames, path, 300)


def _draw_null(run: AppRun) -> Path:
    # A comparison's properties in one figure, each under its name.
    if run.comparison is None:
        figure = plots.null_distributions(run.explanation)
    else:  # its rows are judged by p adjusted over the table: each panel shows it beside p
        adjusted = {(entry.property, entry.model, entry.output): entry.pvalue_adjusted
                    for entry in run.comparison.scores}
        figure = plots.null_distributions(run.explanations, adjusted=adjusted)
    return plots.save_figure(figure, run.folder / "null.png", dpi=100)


def write_reports(result, out: Path, settings: dict, drawn: dict[str, Path], animation: Path | None = None) -> dict:
    """report.json (or comparison.json) with the settings, the CSV tables, and each property's figures, in
    ``out``; with ``animation``, the run's animation drawn there too, under the key "animation" (a module-level
    function of picklable arguments: it runs in :mod:`.writer`'s process, where its images already are)."""
    if isinstance(result, Explanation):
        # The app's own strip and curves go into report.html too (drawn once, for the page); the change per step is
        # drawn as the command line draws it, so a zip holds what its report.html and the CLI's report show.
        written = export.write(result, out, figures=("region", "gradualness"), settings=settings, drawn=drawn)
    else:
        # Each property's own report with its strip, curves, GIF, region and change per step; the null plots are in
        # null.png. The app's strip and curves of every property go on the comparison's page once drawn (see _finish:
        # these start before they are), the curves in place of comparison.png, which drew them again.
        written = export.write(result, out, figures=("strip", "curves", "animation", "region", "gradualness"),
                               settings=settings,
                               drawn={"strip": drawn.get("strip"), "curves": drawn.get("curves")})
    if animation is not None:
        try:
            written["animation"] = _draw_animation(result, animation)
        except Exception as error:  # noqa: BLE001 - the reports, the null plots and the zip stand without it
            written["animation"] = f"{type(error).__name__}: {error}"  # a reason, said in the app's log
    return written


def finish(run: AppRun) -> AppRun:
    """Part 2: the animation, the null distributions and the zip (with every setting of the run), in threads.

    Waits for part 2 where :func:`start_finishing` started it already (the Run button's way), so it is never
    drawn twice.
    """
    if run.finishing is not None:
        run.finishing.result()
        return run
    return _finish(run)


def start_finishing(run: AppRun) -> AppRun:
    """Start part 2 in the background (once); :func:`finish` waits for it."""
    if run.finishing is None:
        # The future keeps no reference to the run (its result is None), so the run and its images go as soon as
        # the session lets it go.
        run.finishing = _FINISHING.submit(lambda: _finish(run) and None)
    return run


def _start_reports(run: AppRun) -> Future:
    """The reports, drawn in the writer's process (once) while this one draws the rest."""
    if run.reports is None:
        result = run.comparison if run.comparison is not None else run.explanation
        # The animation is drawn there too: it needs the steps' images, which that process has, and this one draws
        # the null plots meanwhile.
        run.reports = _WRITING.submit(writer.call, write_reports, result, run.folder / run.name, run.settings,
                                      {"strip": run.strip, "curves": run.curves}, run.folder / "animation.gif")
    return run.reports


def _finish(run: AppRun) -> AppRun:
    reports = _start_reports(run)
    run.null = _draw_null(run)
    written = dict(reports.result())
    animation = written.pop("animation")
    if isinstance(animation, Path):
        run.animation = animation
    else:
        log.warning("the animation of %s could not be drawn (%s); the rest is written", run.name, animation)
    root = run.folder / run.name
    # Drawn here while the writer's process wrote the page, which left room for them (a run's page has its strip).
    if "html" in written:
        try:
            several = run.comparison is not None
            export_html.add_drawn(written["html"], strip=run.strip if several else None,
                                  curves=run.curves if several else None, null=run.null)
        except OSError:  # the page stands without the figures, which the zip still holds
            log.warning("a figure could not be added to %s", written["html"], exc_info=True)
    names = {"strip.png": run.strip, "curves.png": run.curves, "animation.gif": run.animation, "null.png": run.null}
    for name, path in names.items():
        if path is not None and not (root / name).exists():
            shutil.copyfile(path, root / name)
    files = sorted(path for path in set(written.values()) | {root / name for name in names} if path.exists())
    run.bundle = export.zip_files({path.relative_to(root).as_posix(): path for path in files},
                                  run.folder / f"{run.name}.zip", root=root)
    from .memory import release

    release()  # what the run's images, activations and figures held goes back to the system
    return run


def outputs(run: AppRun) -> tuple:
    """The seven result components, in :func:`shared.result_outputs`' order (None where not drawn yet)."""
    def path(value):
        return str(value) if value is not None else None

    return (summary_markdown(run), path(run.strip), path(run.animation), path(run.curves), table_rows(run),
            path(run.null), path(run.bundle))


def respond(run: AppRun, progress=None) -> tuple:
    """Show ``run``; finish it here too unless the Run button's wrapper asked to finish it after the answer.

    ``progress(fraction, desc=...)`` is told when part 1 is drawn (the background defaults' callback waits there
    while a visitor's run is under way, so that this process does not draw their files meanwhile; a comparison's
    reports have started in the writer's process already, as they do for every comparison).
    """
    if run.comparison is not None:
        _start_reports(run)  # they need nothing that part 1 draws: the writer's process starts on them at once
    show(run)
    pending = DEFER.get()
    if pending is not None:
        pending.append(start_finishing(run))
    else:
        if progress is not None:
            progress(1.0, desc="writing the files")
        finish(run)
    return outputs(run)


# ---------------------------------------------------------------------------------------------------------
# Words and tables


# The score column holds the run's statistic (named in the summary's table): E[|grad_X F|], |r| or MI (nats).
# The flips column says whether the top class changes at all; the reading counts only changes to or from the output of
# interest: four colour frames read "no measurable effect" for p(coffee mug) beside "flips: yes".
# Where a flip sits on the curve: with many classes the top class changes at any probability (a flip marked at
# p(Egyptian cat) 0.40 read as a mistake after the two-class models' 0.5 line).
FLIPS_LEGEND = ("the prediction flips somewhere along the series (to any class; the reading counts only flips to or "
                "from its output); between two softmax classes a flip is where the probability crosses 0.5, among "
                "many the top class can change at any probability")
TABLE_HEADERS = ["model", "output", "score (the run's statistic)", "p-value", "signif.", "prediction flips", "reading"]


def table_rows(run: AppRun) -> list[list]:
    """The API's table: one row per model and output (per property and model for a comparison), numbers kept."""
    if run.comparison is not None:
        return [[f"{entry.property} | {entry.model}", entry.output, shown_score(entry.score),
                 float(format_pvalue(entry.pvalue, run.comparison.alpha, digits=3)),
                 "yes" if entry.significant else "no", table_row(entry)["flips"],
                 one.full]
                for entry, one in zip(run.comparison.scores, run.readings)]
    return [[row["model"], row["output"], shown_score(row["score"]),
             float(format_pvalue(row["pvalue"], run.explanation.alpha, digits=3)),
             "yes" if row["significant"] else "no", row["flips"], one.full]
            for row, one in report.ranked_rows(run.explanation)]


def shown_score(score: float) -> float:
    """The score for the API's table: four significant digits, so a tiny score reads 1.3e-05, not 0."""
    return float(f"{float(score):.4g}")


def _reading_cell(one, words: bool = True) -> str:
    """A reading in a table cell: its label in bold, its words (where the reading above the table says them, only
    where the output went: "strong and systematic" beside "strong and systematic" of two models, one falling and one
    rising, read as the same effect), its evidence set off in italics."""
    said = f"**{one.label}**: {one.text if words else one.ends}"
    return _cell(reading.with_evidence(said, one.evidence, mark="*"))


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def answer_markdown(answer: Sequence[str], heading: str = "The answer.") -> str:
    """The answer in words (:attr:`propgrad.answer.Answered.answer_marked`), one point per sentence (a model and
    output, and the closing one on negligible effects): run together, they made a nine-line paragraph a class could
    not scan. The Screen, shown under the first tab's result, names itself in ``heading``: two "The answer." on one
    page left a reader to guess which run each answered. Each sentence's model is set in bold, the properties in
    italics (:func:`propgrad.answer.answer_spans`), a caveat's lead-in in bold."""
    answer = [caveat_markdown(_marked(sentence)) for sentence in answer]  # a caveat's lead-in bold, as a run's
    # A heading to a screen reader (its "next heading" key found one on the whole page), bold text to the eye.
    heading = f'<strong role="heading" aria-level="2">{heading}</strong>'
    return (f"{heading} {' '.join(answer)}" if len(answer) <= 1 else
            f"{heading}\n\n" + "\n".join(f"- {sentence}" for sentence in answer) + "\n")


def _marked(sentence: str) -> str:
    look = {"model": "**{}**", "property": "*{}*", "text": "{}"}
    return "".join(look[kind].format(_MARKDOWN.sub(r"\\\1", text) if kind != "text" else text)
                   for kind, text in answer_spans(sentence))


# What Markdown would read in a name set in bold or italics ("make the fur *white*", an instruction's name).
_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>#|])")


def caveat_markdown(text: str) -> str:
    """A caveat with its lead-ins ("Check the edits before this answer:") in bold, as report.html sets them."""
    return with_lead_ins(text, lambda lead: f"**{lead}**")


def summary_markdown(run: AppRun) -> str:
    """What a person reads first: what was run, the reading, the one ranked table, then the notes."""
    short = reading.short_names([one.model for one in run.readings])
    several_outputs = len({one.output for one in run.readings}) > 1
    first = next(iter(run.explanations.values()))
    alpha = first.alpha
    label = _cell(STATISTIC_LABELS[first.statistic])
    if run.comparison is not None:
        comparison = run.comparison
        head = (f"**{len(comparison.properties)} properties compared**, ranked by what the output did (its tier, "
                f"a to e), then by its change. {first.n_steps} steps each; shuffle test with "
                f"{comparison.n_permutations:,} permutations, alpha = {alpha:g}; adjusted p over "
                f"{len(comparison.scores)} tests (Benjamini-Hochberg).")
        # What the output did first (the reading, its change, its flips), the statistic and p beside it; the same
        # first seven columns as one explanation's table (the phone layout relies on it). signif. judges the adjusted
        # p, as the readings do: judged on p, "signif.: yes" sat beside a reading's "adjusted p = 0.037 does not reach
        # alpha = 0.02" (report.html and comparison.csv keep both verdicts).
        header = f"| property | model | reading | change | flips | {label} | p | adjusted p | signif. | tier |"
        rule = "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
        rows = [f"| {_cell(entry.property)} | {_cell(short[entry.model])}"
                f"{' / ' + _cell(entry.output) if several_outputs else ''} | {_reading_cell(one)} | "
                f"{format_number(one.change)} | {yes_or_no(entry.flipped)} | {format_number(entry.score)} | "
                f"{format_pvalue(entry.pvalue, alpha)} | {format_pvalue(entry.pvalue_adjusted, alpha)} | "
                f"{yes_or_no(entry.significant_adjusted)} | {one.tier} |"
                for entry, one in zip(comparison.scores, run.readings)]
        # The tests the adjustment counts, as the headline counts them ("over 6 tests" above "2 properties").
        legend = (f"adjusted p: Benjamini-Hochberg over the table's {len(comparison.scores)} tests "
                  f"({len(comparison.properties)} properties x models and outputs), what to trust when screening "
                  f"them at once ({ADJUSTED_DEPENDS}); signif.: adjusted p <= "
                  f"alpha, as the readings judge it (the paper's S, p <= alpha, is for one test alone). "
                  f"flips: {FLIPS_LEGEND}. tier {tier_legend()}.")
    else:
        result = run.explanation
        head = reading.what_ran(result.intervention, result.property_name, result.n_steps,
                                result.values if reading.shared_values(result) else (), result.n_permutations,
                                alpha, len(result.series), markdown=True)
        # The tier as the comparison's table and report.html give it (in the ninth column, where a comparison has its
        # adjusted p: the table's single-run class names it on a phone's card). The reading's words are the paragraph
        # above the table: a row it spells out gives its label and evidence (a turntable's row repeated its 60 words).
        header = f"| model | output | reading | change | flips | {label} | p | signif. | tier |"
        rule = "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
        rows = []
        # The rows the paragraph does not spell out keep their words.
        spelled = reading.spelled_out(run.readings)
        for row, one in report.ranked_rows(result):
            rows.append(f"| {_cell(short[row['model']])} | {_cell(row['output'])} | "
                        f"{_reading_cell(one, words=one not in spelled)} | {format_number(row['change'])} | "
                        f"{yes_or_no(row['flipped'])} | {format_number(row['score'])} | "
                        f"{format_pvalue(row['pvalue'], alpha)} | {yes_or_no(row['significant'])} | {one.tier} |")
        legend = (f"signif.: p <= alpha (the paper's S). flips: {FLIPS_LEGEND}. "
                  f"tier {tier_legend()}.")
    # Where a row sits at the test's floor: "p 0.00010" beside "0.0024" read as two exact values.
    floor = (run.comparison or run.explanation).floor_words
    legend += f" {floor.replace('before', 'Before', 1) if floor.startswith('before') else floor}." if floor else ""
    # Where the models differ, as the Screen and the comparison's report.html say it: the zip gave a conclusion that
    # the page did not.
    differ = [run.comparison.contrast_words, ""] if run.comparison is not None and run.comparison.contrast[0] else []
    models = list(dict.fromkeys(one.model for one in run.readings))
    named = "" if all(short[m] == m for m in models) else "Models: " + "; ".join(models) + ". "
    # A comparison's answer per model first (what moves each model's output most), as its report.html has it: the
    # reading under it runs to ninety words over every row. One block, so that the talk view (which shows the
    # summary's first two) shows the headline and the answer.
    answer = (['<div class="summary-answer">', "",
               answer_markdown(run.comparison.answer_marked), "</div>", ""]
              if run.comparison is not None else [])
    # The reading is a single run's answer, on the page as in the talk view: without it a run of one property went from
    # what ran straight to the table, where only a comparison's page said what it found. A comparison's page shows its
    # answer per model instead (see demo.CSS).
    # In the talk view the reading is all the text there is: a series that is not gradual says so beside it (the
    # page has the warning under the table, and a preset's flip read as "the evidence" on a projector).
    single = run.explanation if run.comparison is None else None
    caveat = (['<div class="talk-only-block">', "", f"**Not gradual**: {NOT_GRADUAL_WARNING}.", "", "</div>", ""]
              if single is not None and not single.gradual and not single.unchanged_caveat else [])
    # An edit that hardly changes the image, or a shuffle test that cannot reach alpha, said before the table (a
    # comparison's answer begins with it): "no measurable effect" of hue on a grey photo read as evidence, and so
    # did "not significant" over 5 steps. In the talk view beside the reading (the page's paragraphs past the second
    # are not shown there); an unchanged edit in place of the warning that the series is not gradual.
    still = None if single is None else single.caveat
    # Before the reading, on the page and in the talk view alike.
    check = [caveat_markdown(still), ""] if still else []
    lines = [head, "", *answer, '<div class="summary-reading">', "", *check,
             reading.paragraph(run.readings).replace("Reading:", "**Reading:**", 1), "", *caveat, "</div>", "",
             # The marker lets the page style this table (a card per row on a phone), and no other.
             f'<div class="ranked-table{"" if run.comparison is not None else " single-run"} '
             f'statistic-{first.statistic}">', "", header, rule, *rows, "", "</div>", "",
             *differ,
             # The one sentence a class must not miss first: at the end of eight lines of legend it went unread.
             "***Significant* means the output follows the property systematically, not that it moves much: read "
             f"the change first.** {named}{legend} change: how far the output's (mean) curve moved, highest minus "
             f"lowest value. {STATISTIC_MEANING[first.statistic]}"]
    lines.extend(f"- note: {note}" for note in unsaid(run.notes, [still, *(run.comparison.caveats if single is None
                                                                            else [])]))
    return reading.for_pages("\n".join(lines))
