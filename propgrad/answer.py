"""The answer in words over a ranked table (per model: what moves its output most), and where models differ.

Both work on any ranked rows that carry ``property``, ``model``, ``output`` and a ``reading``
(:class:`~propgrad.screen.ScreenRow`, :class:`~propgrad.compare.PropertyScore`), in rank order.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from .checks import domain_caveat, smallest_pvalue_words, untestable_caveat
from .gradualness import unchanged_caveat
from .interventions.region import coverage_caveat
from .formats import format_number, format_output
from .reading import ABRUPT, NEGLIGIBLE, listed, named_note, short_names

# How many properties a model's answer names.
TOP_PROPERTIES = 3
# An answer's names as marked for pages (:func:`answer_spans`): control characters, which no name (they are taken out
# of it), number or word of a sentence holds. Found again in the plain text, a property named "blur" was also the
# "blur" of "at blur radius 2 px".
_MODEL, _PROPERTY, _END = "\x01", "\x02", "\x03"
_UNMARKED = str.maketrans("", "", _MODEL + _PROPERTY + _END)
_SPAN = re.compile(f"([{_MODEL}{_PROPERTY}])(.*?){_END}", re.DOTALL)
# Selections of outputs of interest that score each model on its own class: no shared output to contrast.
_OWN_CLASS = (None, "predicted", "vector")


def _unsteady_clause(rows: Sequence, name, verb: str, how: str) -> str:
    """"; X moves it <how>, not systematically (by 0.38)" of strong ``rows`` the shuffle test does not back; "" for
    none."""
    if not rows:
        return ""
    return (f"; {listed([name(row.property) for row in rows])} {verb}{'s' if len(rows) == 1 else ''} it {how}, not "
            f"systematically ({_by(rows)})")


def _by(rows: Sequence) -> str:
    """"down by 0.89, 0.63 and 0.61", "down by 0.99, up by 0.96 and down and back by 0.96": each row's change with
    the way its output went (sizes alone left "does darkening the fur raise p(cat) or lower it?" to the table)."""
    ways = [row.reading.direction for row in rows]
    sizes = [format_number(row.reading.change) for row in rows]
    if len(set(ways)) == 1:
        return f"{ways[0]} by {listed(sizes)}".lstrip()
    return listed([f"{way} by {size}".lstrip() for way, size in zip(ways, sizes)])


def model_answers(rows: Sequence, models: Sequence[str] | None = None, *, marked: bool = False) -> list[str]:
    """One sentence per model and output (models in ``models``' order, default the order they first appear):
    the properties that move that output most (which way and by how much; "most" only where no row left out moved
    it more), which of them the shuffle test confirms (a jump that passes only through the other steps' drift is "not
    confirmed"; where it confirms none or only some, the rows further down that it does confirm, strong or nearly as
    large as the top's, counted, the three largest named), strong changes further down that the test does not back
    (tier c) where nearly as large as the top's or larger than a row it names, and its first flip; then one sentence
    naming the significant but negligible properties once (or, when nothing moved at all, one sentence saying so
    first). ``marked``: each
    sentence's model and the property names marked for :func:`answer_spans`.

    Examples
    --------
    >>> model_answers(screen_result.rows)  # doctest: +SKIP
    ['dark-cats bias: object: saturation, object: darken and object: brightness move p(cat) most
      (up by 0.89, 0.63 and 0.61; none significant after adjustment); object: saturation flips to cat at step 6
      (saturation factor 0.333).', ...]
    """
    models = list(models or dict.fromkeys(row.model for row in rows))
    short = short_names(models)
    name = _marking(_PROPERTY) if marked else str
    who = _marking(_MODEL) if marked else str
    negligible = _negligible()
    after = " after adjustment" if len(rows) > 1 else ""  # one row's p is its own
    sentences = []
    for model in models:
        for output in dict.fromkeys(row.output for row in rows if row.model == model):
            mine = [row for row in rows if row.model == model and row.output == output]
            sentences.append(f"{who(short[model])}: {_start_clause(mine)}{_output_answer(mine, name, after)}.")
    small: dict[str, list[str]] = {}
    for row in rows:
        if row.reading.kind == NEGLIGIBLE:
            small.setdefault(row.property, []).append(short[row.model])
    if small:
        # Each property with the models it barely moved: a list of properties alone left a reader asking whose.
        whose_too = [f"{name(prop)} ({listed(list(dict.fromkeys(whose)))})" if len(models) > 1 else name(prop)
                     for prop, whose in small.items()]
        sentences.append(f"Significant but negligible (the output moved by less than {negligible:g}): "
                         f"{listed(whose_too)}.")
    if rows and all(not row.reading.moved for row in rows):
        sentences.insert(0, f"Every effect here is negligible: no property moved any model's output by "
                            f"{negligible:g} or more.")
    return sentences


def _start_clause(mine: Sequence) -> str:
    """Where a probability starts within the negligible threshold of 0 or 1 and some property barely moved it, that
    only a rise (or a fall) can show: the dark-cats model gives chelsea p(cat) 0.00, and "no measurable effect" of the
    background's darkening read as evidence that it ignores the background, where the output had no room to fall."""
    first = mine[0].reading  # every property starts from the same input
    if not first.room or all(row.reading.size != "negligible" for row in mine):
        return ""
    return f"{first.output_words} starts at {format_output(first.start)}, so only {first.room} can show; "


def _output_answer(mine: Sequence, name, after: str) -> str:
    """The answer for one model's output, past its model's name: ``mine`` its rows, ranked."""
    words = mine[0].reading.output_words or mine[0].output
    moved = [row for row in mine if row.reading.tier == "a"] or [row for row in mine if row.reading.tier == "b"]
    if not moved:
        # Strong changes the test does not back are said too: "no property moved p(melanoma) systematically"
        # stood alone in the talk view beside a curve falling from 1.00 to 0.62.
        unsteady = [row for row in mine if row.reading.tier == "c" and row.reading.size == "strong"]
        also = _unsteady_clause(unsteady[:TOP_PROPERTIES], name, "move", "strongly all the same")
        return f"no property moved {words} systematically by {_negligible():g} or more{also}"
    top = moved[:TOP_PROPERTIES]
    # "Most" where others are left unnamed: of the only two properties run, "object: darken and background:
    # darken move p(cat) most" read as a ranking of nothing.
    every = len(top) == len(mine)
    # "Most" only where no row left out moved the output more than one named: "saturation, recolour green and
    # brightness move p(cat) most (by 0.60, 0.50 and 0.14)" left out lighten's 0.44, ranked lower for want of
    # a confirmed trend.
    smallest = min(top, key=lambda row: row.reading.change)
    most = not every and all(row.reading.change <= smallest.reading.change for row in mine if row not in top)
    strength = (" most" if most else "") if top[0].reading.tier == "a" else " a little, systematically"
    together = {2: "both ", 3: "all three "}.get(len(top), "") if every else ""
    sentence = (f"{listed([name(row.property) for row in top])} {together}move{'s' if len(top) == 1 else ''} "
                f"{words}{strength} ({_by(top)}; {_passed(top, after, name)})")
    confirmed, said = _confirmed_clause(mine, top, name, after)
    unsteady, also = _larger_unsteady_clause(mine, top, smallest, name)
    tied = _tied_clause(mine, [*top, *confirmed, *unsteady], smallest, name)
    flipped = next((row for row in mine if row.reading.flip_words), None)
    flips = f"; {name(flipped.property)} {flipped.reading.flip_words}" if flipped is not None else ""
    return sentence + said + also + tied + flips


def _confirmed_clause(mine: Sequence, top: Sequence, name, after: str) -> tuple[list, str]:
    """The rows the test confirms that the top left out (they rank below rows that flip or jump), strong ones or ones
    nearly as large as the top's, where the top is not all confirmed: (the rows named, the clause). A sentence saying
    "none significant" of the top must not read as "nothing confirmed" (three small rows of 0.049, adjusted p 0.002,
    went unnamed under a top of 0.051)."""
    largest = max(row.reading.change for row in top)
    confirmed = [row for row in mine if row not in top and row.reading.confirmed and row.reading.kind != NEGLIGIBLE
                 and (row.reading.size == "strong" or row.reading.change >= 0.8 * largest)]
    if not confirmed or all(row.reading.confirmed for row in top):
        return [], ""
    strong = "strong and " if all(row.reading.size == "strong" for row in confirmed) else ""
    # How many, where three are named: "strong and significant: X, Y and Z" read as all there were (ten were, the
    # background's among them).
    named = sorted(confirmed, key=lambda row: -row.reading.change)[:TOP_PROPERTIES]
    which = "" if len(confirmed) == len(named) else f"{len(confirmed)} properties, the largest "
    return named, (f"; {strong}significant{after}: {which}{listed([name(row.property) for row in named])} "
                   f"({_by(named)})")


def _larger_unsteady_clause(mine: Sequence, top: Sequence, smallest, name) -> tuple[list, str]:
    """Strong changes the test does not back and that neither jump nor flip (tier c), which rank below every
    systematic one: those nearly as large as the top's largest, or larger than ``smallest``, the top's row of the
    smallest change (on a screen of twelve the smaller ones were noise): (the rows named, the clause). "dark-dogs bias:
    background: darken moves p(cat) most (by 0.50)" left out the fur's 0.48."""
    largest = max(row.reading.change for row in top)
    unsteady = [row for row in mine if row not in top and row.reading.tier == "c" and row.reading.size == "strong"
                and (row.reading.change >= 0.8 * largest or row.reading.change > smallest.reading.change)
                ][:TOP_PROPERTIES]
    if not unsteady:
        return [], ""
    # Ranked below by its tier, a row may have moved the output more: "nearly as much (by 0.29)" beside the top's 0.27
    # contradicted itself. "About as much" only of rows all near the largest: of 0.95 and 0.30 beside a top of 0.90,
    # it read as if both were.
    above = [row.reading.change > largest for row in unsteady]
    near = all(row.reading.change >= 0.8 * largest for row in unsteady)
    how = ("more" if all(above) else ("about as much" if any(above) else "nearly as much") if near
           else f"more than {name(smallest.property)}")
    return unsteady, _unsteady_clause(unsteady, name, "also move", how)


def _tied_clause(mine: Sequence, said: Sequence, smallest, name) -> str:
    """Rows left out whose change reads as the smallest named one's: "most" beside an unnamed row of 0.96 (its 0.9569
    against the named 0.9571) read as a choice between equals. As much as the row they tie with, named (after "X also
    moves it more than C", a bare "about as much" read as X's); whether the test backs them, as for every row the
    sentence names."""
    tied = [row for row in mine if row not in said and row.reading.moved
            and format_number(row.reading.change) == format_number(smallest.reading.change)][:TOP_PROPERTIES]
    steady = [row for row in tied if row.reading.confirmed]
    clause = ""
    if steady:
        clause = (f"; {listed([name(row.property) for row in steady])} also move{'s' if len(steady) == 1 else ''} it "
                  f"about as much as {name(smallest.property)}, systematically ({_by(steady)})")
    return clause + _unsteady_clause([row for row in tied if not row.reading.confirmed], name, "also move",
                                     f"about as much as {name(smallest.property)}")


def _marking(kind: str):
    return lambda text: f"{kind}{str(text).translate(_UNMARKED)}{_END}"


def answer_spans(sentence: str) -> list[tuple[str, str]]:
    """A sentence of :attr:`Answered.answer_marked` as ``(kind, text)`` pieces, ``kind`` one of ``"model"`` (the
    model it answers for), ``"property"`` and ``"text"``: for a page to set the names apart (projected as one run of
    words, "unbiased: object: darken and background: darken both move p(cat)" was hard to scan, its names full of
    colons).

    Examples
    --------
    >>> answer_spans("\\x01unbiased\\x03: \\x02object: darken\\x03 moves p(cat) most")
    [('model', 'unbiased'), ('text', ': '), ('property', 'object: darken'), ('text', ' moves p(cat) most')]
    """
    pieces, at = [], 0
    for found in _SPAN.finditer(sentence):
        if found.start() > at:
            pieces.append(("text", sentence[at:found.start()]))
        pieces.append(("model" if found.group(1) == _MODEL else "property", found.group(2)))
        at = found.end()
    if at < len(sentence):
        pieces.append(("text", sentence[at:]))
    return pieces


def _passed(top: Sequence, after: str, name=str) -> str:
    """Which of the named rows the shuffle test confirms (``after``: " after adjustment" where the p-values are
    adjusted): a strong change leads the sentence whether or not it is significant, and a reader must not take
    "moves most" for "shown"."""
    confirmed = [name(row.property) for row in top if row.reading.confirmed]
    if len(confirmed) == len(top):
        return ("significant" if len(top) == 1 else "both significant" if len(top) == 2 else "each significant") + after
    # "moves p(cat) most (by 0.63; not significant)" over the paper's own jump read to a class as "does not depend":
    # where every unconfirmed row changes in one step, the sentence says that is why.
    unconfirmed = [row for row in top if not row.reading.confirmed]
    # A late jump whose p passes only on the order of the other steps' tiny drift (the reading's evidence says so):
    # "significant after adjustment" of it read as the jump confirmed, "not significant" beside its p <= alpha as a
    # contradiction.
    drifting = [name(row.property) for row in unconfirmed if row.reading.order_only]
    # The ones that change in one step are named whatever the others did: "brightness (up by 0.14)" beside flips
    # that the test did not confirm either stood above lighten's 0.44 with nothing to say why.
    abrupt = [row for row in unconfirmed if row.reading.kind == ABRUPT]
    # As the reading words it: "in one step" where that step carries nearly all of the change.
    step = ("in one step" if all(abs(row.reading.jump) >= 0.9 * row.reading.change for row in abrupt)
            else "mostly in one step")
    if not abrupt:
        jumps = ""
    elif confirmed or len(abrupt) < len(unconfirmed):
        names = [name(row.property) for row in abrupt]
        jumps = f"; {listed(names)} change{'s' if len(names) == 1 else ''} {step}, not as a steady trend"
    else:
        jumps = f": {'it changes' if len(top) == 1 else 'each changes'} {step}, not as a steady trend"
    if drifting:
        who = "it" if len(top) == 1 else listed(drifting)
        jumps += (f"; {who} pass{'es' if len(drifting) == 1 else ''} the test on the other steps' tiny drift alone, "
                  "not on the jump")
    verdict = "confirmed" if drifting else "significant"
    if not confirmed:
        # "after adjustment" only where the adjustment made the difference: beside a raw p of 0.36 it read as "it was
        # significant until the correction".
        raw = any(getattr(row, "significant", True) for row in unconfirmed)  # rows without a raw verdict: as said
        return (f"not {verdict}" if len(top) == 1 else f"neither {verdict}" if len(top) == 2 else
                f"none {verdict}") + (after if raw else "") + jumps
    return f"only {listed(confirmed)} {'is' if len(confirmed) == 1 else 'are'} {verdict}{after}{jumps}"


def _negligible() -> float:
    from .reading import default_thresholds

    return default_thresholds().negligible


@dataclass(frozen=True)
class ContrastRow:
    """One property and output: each model's change (and statistic) side by side.

    ``changes``, ``scores``, ``tiers`` and ``directions`` (which way each output went, :attr:`Reading.direction`)
    follow ``models``; ``most`` is the model whose output moved most and ``lead`` its change minus the next largest
    (0 where two moved alike), ``runner_up`` that next model.
    """

    property: str
    output: str
    models: tuple[str, ...]
    changes: tuple[float, ...]
    scores: tuple[float, ...]
    tiers: tuple[str, ...]
    directions: tuple[str, ...] = ()

    @property
    def ways(self) -> tuple[str, ...]:
        """``directions``, or no words for each model where a row was made without them."""
        return self.directions or ("",) * len(self.models)

    @property
    def most(self) -> str:
        return self.models[self.changes.index(max(self.changes))]

    @property
    def runner_up(self) -> str:
        others = [(change, model) for model, change in zip(self.models, self.changes) if model != self.most]
        return max(others, key=lambda pair: pair[0])[1]

    @property
    def lead(self) -> float:
        return max(self.changes) - self.changes[self.models.index(self.runner_up)]


def model_contrast(rows: Sequence, outputs_of_interest, models: Sequence[str] | None = None
                   ) -> tuple[list[ContrastRow], str | None]:
    """Where models differ: per property and shared output, each model's change side by side, the properties on
    which one model moved most ahead of the next first (the paper's question: which property does one model use
    that the others do not?). Returns (rows, note): with fewer than two models, or when each model is scored on its
    own predicted class (no output they share), no rows and a note saying why.

    No model is singled out by its place in the list: "the first model's change minus the others'" questioned the
    unbiased model in the app, whose model list happens to start with it. The lead has no test of its own: read it
    beside each model's tier (a lead where the model that moved most is in tier a and the others in d or e is the
    paper's finding; between two tier-a rows it says both use the property, one more strongly). A biased model may
    also react strongly to edits that are not its bias, which is why the contrast, not one model's table, answers
    the question. ``models`` gives the columns' order (default: the order they first appear in ``rows``).
    """
    models = list(models or dict.fromkeys(row.model for row in rows))
    if len(models) < 2:
        return [], None
    if isinstance(outputs_of_interest, str | type(None)) and outputs_of_interest in _OWN_CLASS:
        return [], ("Where models differ is left out: each model is scored on its own predicted class; name the "
                    "output to compare them on (e.g. --outputs cat).")
    cells = {(row.property, row.output, row.model): row for row in rows}
    contrast = []
    for prop, output in dict.fromkeys((row.property, row.output) for row in rows):
        group = [cells.get((prop, output, model)) for model in models]
        if any(cell is None for cell in group):
            continue
        contrast.append(ContrastRow(prop, output, tuple(models), tuple(cell.reading.change for cell in group),
                                    tuple(cell.score for cell in group), tuple(cell.reading.tier for cell in group),
                                    tuple(cell.reading.direction for cell in group)))
    if not contrast:
        return [], "Where models differ is left out: the models share no output of interest; name one they all have."
    contrast.sort(key=lambda row: -row.lead)
    return contrast, None


def contrast_lead(contrast: Sequence[ContrastRow], short: dict[str, str]) -> str:
    """What the contrast's rows say together: on how many properties each model moved most, ahead of the next by the
    negligible threshold or more (a lead under it is no lead: rotation's 0.973 against 0.970 was counted), and how
    the rows are ordered.

    Examples
    --------
    >>> row = lambda name, changes: ContrastRow(name, "cat", ("a", "b", "c"), changes, changes, ("a",) * 3)
    >>> contrast_lead([row("fur", (0.2, 0.9, 0.1)), row("hue", (0.5, 0.1, 0.1)), row("blur", (0.30, 0.302, 0))],
    ...               {"a": "a", "b": "b", "c": "c"})
    'b moved most (by 0.01 or more over the next model) on 1 of the 3 properties, a on 1; on 1 none did; the \
largest lead first'
    """
    # Rows are property x output: with two outputs, ten properties made twenty rows; a property counts once, for the
    # model that leads on its largest lead.
    first_row = {}
    for row in contrast:
        first_row.setdefault(row.property, row)
    count = len(first_row)
    give = f"give or take {_negligible():g}"
    leads: dict[str, int] = {}
    for row in first_row.values():
        if _differs(row.lead):
            leads[short[row.most]] = leads.get(short[row.most], 0) + 1
    by = f"by {_negligible():g} or more over the next model"
    if count == 1:
        row = next(iter(first_row.values()))
        return (f"{short[row.most]} moved most ({by})" if leads
                else f"no model moved more than the others, {give}")
    if not leads:
        return (f"on none of the {count} properties did one model move more than the others, {give}; the largest "
                "lead first")
    ranked = sorted(leads.items(), key=lambda item: -item[1])
    ties = count - sum(leads.values())
    counted = [f"{ranked[0][0]} moved most ({by}) on {ranked[0][1]} of the {count} properties",
               *(f"{model} on {number}" for model, number in ranked[1:])]
    return ", ".join(counted) + (f"; on {ties} none did" if ties else "") + "; the largest lead first"


def _differs(difference: float) -> bool:
    """Whether two models' changes differ by the negligible threshold or more, as the difference is written (0.00996,
    written "0.010", is not called "about as much" beside "by 0.01 or more")."""
    return abs(float(format_number(difference))) >= _negligible()


def _opposite(row: ContrastRow) -> bool:
    """Whether the two models that moved most went opposite ways (one up, one down): as far is not alike."""
    ways = dict(zip(row.models, row.ways))
    return {way.split(" ")[0] for way in (ways[row.most], ways[row.runner_up])} == {"up", "down"}


def contrast_difference(row: ContrastRow, short: dict[str, str]) -> str:
    """A contrast row's lead in words: the model that moved most and by how much more than the next, or "about as
    much" where the lead is negligible (as written), "opposite ways" where the two went up and down.

    Examples
    --------
    >>> row = ContrastRow("fur", "cat", ("a", "b"), (0.2, 0.9), (0.2, 0.9), ("a", "a"))
    >>> contrast_difference(row, {"a": "a", "b": "b"})
    'b moved most, 0.70 more than a'
    >>> contrast_difference(ContrastRow("fur", "cat", ("a", "b"), (0.6, 0.6), (0, 0), ("a", "a"), ("up", "down")),
    ...                     {"a": "a", "b": "b"})
    'a and b moved about as much, opposite ways'
    """
    if not _differs(row.lead):
        ways = ", opposite ways" if _opposite(row) else ""
        return f"{short[row.most]} and {short[row.runner_up]} moved about as much{ways}"
    return f"{short[row.most]} moved most, {format_number(row.lead)} more than {short[row.runner_up]}"


def contrast_changes(row: ContrastRow, short: dict[str, str]) -> str:
    """Each model's change on a contrast row, with the way it went where the change is not negligible: the unbiased
    model's fur row "moved most" on a dip it took back, the dark-cats model's on a rise it kept ("up and partly back
    by 2.3e-05" would be noise).

    Examples
    --------
    >>> row = ContrastRow("fur", "cat", ("a", "b"), (0.91, 0.00002), (0, 0), ("a", "e"), ("down and back", "up"))
    >>> contrast_changes(row, {"a": "a", "b": "b"})
    'a down and back by 0.91, b 2.0e-05'
    """
    said = []
    for model, change, direction in zip(row.models, row.changes, row.ways):
        way = f"{direction} by " if direction and _differs(change) else ""
        said.append(f"{short[model]} {way}{format_number(change)}")
    return ", ".join(said)


def contrast_paragraph(contrast: Sequence[ContrastRow], output_words: Mapping[str, str], limit: int = 5) -> str:
    """The contrast in a few lines for a page: what it shows (``output_words``: each output's words, "p(cat)"),
    :func:`contrast_lead`, and its first ``limit`` rows with each model's change and the lead in words; with several
    outputs each row names its own (a row of p(dog) under "how far p(cat) moved" read as the cat's)."""
    short = short_names(list(contrast[0].models))
    several = len({row.output for row in contrast}) > 1
    shown = "each output" if several else output_words[contrast[0].output]
    rows = "; ".join(f"{one.property}{f', {output_words[one.output]}' if several else ''}: "
                     f"{contrast_changes(one, short)} ({contrast_difference(one, short)})" for one in contrast[:limit])
    return f"how far {shown} moved for each model; {contrast_lead(contrast, short)}. {rows}."


def contrast_records(contrast: Sequence[ContrastRow], statistic_label: str) -> list[dict]:
    """The contrast as flat records for CSV, JSON and HTML tables (one column per model and number)."""
    records = []
    for row in contrast:
        short = short_names(list(row.models))
        # No model named where none leads: on a tie the first in the list "moved most", the order's pick.
        leads = _differs(row.lead)
        record = {"property": row.property, "output": row.output,
                  "moved most": short[row.most] if leads else "none (about as much)", "lead": row.lead,
                  "next": short[row.runner_up] if leads else ""}
        for model, change, score, tier, direction in zip(row.models, row.changes, row.scores, row.tiers, row.ways):
            record[f"{short[model]}: change"] = change
            record[f"{short[model]}: direction"] = direction
            record[f"{short[model]}: {statistic_label}"] = score
            record[f"{short[model]}: tier"] = tier
        records.append(record)
    return records


def edit_changes(explanations: dict) -> dict[str, float]:
    """Each property's largest change to step 0 (:attr:`~propgrad.explain.Explanation.edit_change`, inside its
    region; patches left out), for :func:`~propgrad.gradualness.unchanged_caveat`."""
    return {name: explanation.edit_change for name, explanation in explanations.items()
            if explanation.edit_change is not None}


class Answered:
    """What a ranked result (a screen, a comparison) says in words, made once per result.

    The result provides ``ranked_rows`` (rows with ``property``, ``model``, ``output``, ``score`` and a
    ``reading``, in rank order), ``models`` (names, in the order given), ``outputs_of_interest`` (as given),
    ``statistic``, ``n_permutations``, ``alpha`` and, where its properties may be restricted to regions,
    ``explanations`` (name -> Explanation: their masks say whether a region is a sliver).
    """

    @cached_property
    def answer(self) -> list[str]:
        """Per model, in words, what moves its output most (:func:`model_answers`), after a caution where an edit
        hardly changes the images (:func:`~propgrad.gradualness.unchanged_caveat`: hue on a grey photo answered "Every
        effect here is negligible") or a property's region is a sliver or all but the whole image
        (:func:`~propgrad.interventions.region.coverage_caveat`: a greyscale photo's "object" was the cat's eye, and
        "the background moves p(cat) most" read as a finding)."""
        return [sentence.translate(_UNMARKED) for sentence in self.answer_marked]

    @cached_property
    def caveats(self) -> list[str]:
        """What to check before the answer, as its first sentences: a region that is a sliver or all but the whole
        image, an edit that hardly changes the images, models not made for the image, a shuffle test that cannot reach
        alpha over the table (the result's ``floor_note``) or for a row (its explanation's
        :attr:`~propgrad.explain.Explanation.settings_caveat`) (empty where none)."""
        explanations = getattr(self, "explanations", {})
        shares = {name: explanation.series[0].coverage for name, explanation in explanations.items()
                  if explanation.series and explanation.series[0].coverage is not None}
        # Over the table, else the properties' own floor as the notes word it (naming the properties it holds for
        # where not all share it: one caveat read as the whole answer's, beside rows that could pass).
        floor = getattr(self, "floor_note", None)
        held = set(explanations)  # the properties it holds for
        if not floor:
            held = {name for name, e in explanations.items() if e.settings_caveat}
            first = next((e.floor_note for name, e in explanations.items() if name in held), None)
            floor = first and named_note(first, [name for name, e in explanations.items() if first in e.notes],
                                         len(explanations))
        passed = any(row.significant_adjusted for row in self.ranked_rows if row.property in held)
        settings = untestable_caveat(floor, passed)
        return [caveat for caveat in (coverage_caveat(shares), unchanged_caveat(edit_changes(explanations)),
                                      domain_caveat(list(explanations.values())), settings) if caveat]

    @cached_property
    def _findings_marked(self) -> list[str]:
        return model_answers(self.ranked_rows, self.models, marked=True)

    @cached_property
    def findings(self) -> list[str]:
        """:attr:`answer` past its :attr:`caveats`: per model, what moves its output most (a printout that says the
        caveats before its table says these after it)."""
        return [sentence.translate(_UNMARKED) for sentence in self._findings_marked]

    @cached_property
    def answer_marked(self) -> list[str]:
        """:attr:`answer` with its names marked, for pages (:func:`answer_spans`)."""
        return [*self.caveats, *self._findings_marked]

    @cached_property
    def contrast(self) -> tuple[list[ContrastRow], str | None]:
        """Where the models differ and, when that is left out, why: (rows, note) (:func:`model_contrast`)."""
        return model_contrast(self.ranked_rows, self.outputs_of_interest, self.models)

    @property
    def floor_words(self) -> str:
        """Where a row's p-value before adjustment sits at the smallest the permutations can give, that it could be
        stronger still (:func:`~propgrad.checks.smallest_pvalue_words`), said so, else ""."""
        floor = smallest_pvalue_words(self.n_permutations, self.alpha, [row.pvalue for row in self.ranked_rows])
        return f"before adjustment, {floor}" if floor else ""

    @cached_property
    def contrast_words(self) -> str:
        """Where the models differ in a few lines for a page, headed (:func:`contrast_paragraph`), else the note on
        why it is left out ("" with one model)."""
        contrast, note = self.contrast
        if not contrast:
            return note or ""
        words = {row.output: row.reading.output_words for row in self.ranked_rows}
        return f"**Where the models differ**: {contrast_paragraph(contrast, words)}"

    def answer_fields(self) -> dict:
        """``answer``, ``contrast`` (flat records) and, when the contrast is left out, ``contrast_note``: the
        fields screen.json and comparison.json share."""
        from .score import STATISTIC_LABELS

        contrast, note = self.contrast
        return {"answer": self.answer, "contrast": contrast_records(contrast, STATISTIC_LABELS[self.statistic]),
                **({"contrast_note": note} if note else {})}
