"""Small predicates and the shared rules checked at the package's edges."""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

import numpy as np

from .errors import ArgumentError
from .formats import format_pvalue
from .statistics import binomial_cdf

# alpha -> (the fewest steps on which a steady trend reaches it under the run's statistic, or None beyond the
# steps checked; how many steps were checked): :func:`propgrad.score.steady_trend_need`, passed in by the callers.
SteadyTrend = Callable[[float], tuple["int | None", int]]

# A gradient needs a neighbour on each side of at least one step, and a shuffle test needs something to shuffle.
MIN_STEPS = 3


def is_whole_number(value, minimum: int = 0) -> bool:
    """An int or numpy integer of at least ``minimum``; ``True``/``False`` are not numbers here."""
    return not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value >= minimum


def is_real_number(value) -> bool:
    """A finite int, float or numpy number; not a bool, not NaN or infinity."""
    return not isinstance(value, bool) and isinstance(value, (int, float, np.number)) and bool(np.isfinite(value))


def check_steps(value, name: str = "steps") -> int:
    """The one steps rule: a whole number of at least :data:`MIN_STEPS` (the unedited input included).

    Examples
    --------
    >>> check_steps(11)
    11
    >>> check_steps(2)
    Traceback (most recent call last):
    ...
    propgrad.errors.ArgumentError: `steps` must be an integer of at least 3, got 2
    """
    if not is_whole_number(value, MIN_STEPS):
        raise ArgumentError(name, f"must be an integer of at least {MIN_STEPS}, got {value!r}")
    return int(value)


def check_shuffle_settings(n_permutations, alpha, seed=0, *, permutations_name: str = "n_permutations") -> None:
    """The shuffle-test settings every front end takes (``explain``, ``compare_properties``, studies);
    ``seed`` None means a fresh random seed where the caller allows it."""
    if not is_whole_number(n_permutations, 1):
        raise ArgumentError(permutations_name, f"must be a positive integer, got {n_permutations!r}")
    if not is_real_number(alpha) or not 0 < alpha < 1:
        raise ArgumentError("alpha", f"must be a number strictly between 0 and 1, got {alpha!r}")
    if seed is not None and not is_whole_number(seed, 0):
        # The gloss tells a Python caller about None; a flag or a box (renamed) takes numbers only.
        raise ArgumentError("seed", f"must be a whole number of 0 or more, got {seed!r}",
                            gloss="or None for a fresh random one")


def permutation_floor(n_permutations: int) -> float:
    """The smallest p-value a shuffle test with ``n_permutations`` can give, 1 / (permutations + 1): the +1 counts
    the observed order among the shuffles, so that p is never 0."""
    return 1 / (n_permutations + 1)


def permutations_for(n_tests: int, alpha: float) -> int:
    """The fewest permutations with which an effect alone at the shuffle test's floor, 1 / (permutations + 1),
    reaches ``alpha`` after adjustment over ``n_tests`` rows (one test: unadjusted). The 1e-9 keeps 1 / 0.01 - 1 at
    99 despite floating point."""
    return math.ceil(n_tests / alpha - 1 - 1e-9)


def orders_floor(n_steps: int, n_series: int = 1) -> float:
    """A bound under every p-value a shuffle test of ``n_series`` series of ``n_steps`` can give, however many
    permutations: a series has n! orders and every statistic scores an order as its reverse, so even the best order
    is matched about 2 / n! of the time, and every series has to be (each is shuffled on its own). The gradient
    ties more orders than that (its central differences skip each step's own value), so its floor can be higher:
    the bound says when nothing can pass, not that something can.

    Examples
    --------
    >>> round(orders_floor(3), 3), round(orders_floor(5), 4), round(orders_floor(4, n_series=3), 5)
    (0.333, 0.0167, 0.00058)
    """
    return min(1.0, (2 / math.factorial(n_steps)) ** n_series)


def steps_for(n_tests: int, alpha: float, n_series: int = 1) -> int:
    """The fewest steps whose orders let an effect alone reach ``alpha`` after adjustment over ``n_tests`` rows."""
    steps = MIN_STEPS
    while n_tests * orders_floor(steps, n_series) > alpha:
        steps += 1
    return steps


def chance_below(floor: float, alpha: float, n_permutations: int) -> float:
    """How often a p-value estimated from ``n_permutations`` shuffles still comes out at or below ``alpha`` when the
    exact one is ``floor``: the estimate is (1 + X) / (permutations + 1) with X binomial.

    Examples
    --------
    >>> round(chance_below(0.0167, 0.01, 99), 2), chance_below(0.0167, 0.01, 10_000) < 1e-3
    (0.19, True)
    >>> round(chance_below(0.011, 0.01, 10_000), 2)  # an exact p this near alpha passes in one run of six
    0.16
    """
    most = math.floor(alpha * (n_permutations + 1) - 1 + 1e-9)  # the most exceedances that still give p <= alpha
    return binomial_cdf(most, n_permutations, floor)


def too_few_steps(n_steps: int, alpha: float, n_series: int = 1, floor: float | None = None,
                  steady_trend: SteadyTrend | None = None, n_permutations: int | None = None,
                  unit: str = "steps") -> str | None:
    """A note where the series are too short for any exact p-value to reach ``alpha``: 3 steps cannot make anything
    significant at 0.01 whatever the permutations, and a reading must not pass that off as evidence against an
    effect. ``floor``: the floor tried on the outputs themselves (:func:`propgrad.score.best_order_pvalue`); without
    it, the count of orders (:func:`orders_floor`). A p-value estimated from few permutations can dip below either
    by chance, which the note says (:func:`chance_below`, given ``n_permutations``: an upper bound, since the run's
    own exact p is at least the floor). ``steady_trend`` (:data:`SteadyTrend`): the steps a steady trend needs
    under the run's statistic, passed in so that it is computed only where a note is written; the advice where
    given, else the count of orders' bound. ``unit`` names the steps as the user gives them ("frames" for uploaded
    frames, whose count is the number of files: "use more steps" asked for a flag they refuse).

    Examples
    --------
    >>> too_few_steps(3, 0.01)[:64]
    'with 3 steps a shuffle test has only 6 orders to draw from, and '
    >>> too_few_steps(6, 0.01) is None
    True
    >>> too_few_steps(8, 0.01, floor=1.0)[:58]
    'the outputs of interest do not change along the 8 steps: e'
    """
    tried = floor is not None
    floor = orders_floor(n_steps, n_series) if floor is None else floor
    if floor <= alpha:
        return None
    series = "" if n_series == 1 else f" in each of {n_series} series"
    if tried and floor >= 1 - 1e-9:
        # Every order ties: the outputs did not move (an edit that leaves the image as it was, or an output pinned at
        # 0 or 1). More steps would only add more equal outputs.
        return (f"the outputs of interest do not change along the {n_steps} {unit}{series}: every order of them scores "
                f"the same, so no p-value can fall below 1 and the shuffle test cannot find anything; more {unit} or "
                f"permutations will not change that (the gradualness line says whether the images changed at all)")
    # "The best order" read as the steadiest trend; under the two-sided gradient the floor belongs to the most
    # jagged arrangement, so say "any order".
    why = (f"no order of these outputs, not even the most extreme, could get an exact p-value below "
           f"{format_pvalue(floor, alpha)}"
           if tried else f"a shuffle test has only {math.factorial(n_steps):,} orders to draw from{series}, and an "
                         f"order scores as its reverse does: no exact p-value falls below "
                         f"{format_pvalue(floor, alpha)}")
    counted = steps_for(1, alpha, n_series)
    advice = (_trend_advice(steady_trend, alpha, n_steps, " under this statistic",
                            ", more where p-values are adjusted over several rows")
              if steady_trend and n_series == 1 else f"at least {counted}" if counted > n_steps else
              f"more than {n_steps}")
    chance = chance_below(floor, alpha, n_permutations) if n_permutations else 0.0
    luck = (f"; with {n_permutations:,} permutations an estimated p-value can still fall below alpha by chance, in "
            f"up to about {round(100 * chance)} % of runs, which is no evidence" if chance >= 0.005 else "")
    return (f"with {n_steps} {unit} {why}, above alpha = {alpha:g}: the series are too short to show an effect{luck}; "
            f"use more {unit} ({advice})")


def _trend_advice(steady_trend: SteadyTrend, alpha: float, n_steps: int, where: str, more: str = "") -> str:
    """The steps to advise: what a steady trend needs at ``alpha`` where that is more than the run has (``more``
    follows a count that more rows would raise)."""
    needed, checked = steady_trend(alpha)
    if needed is None:
        return f"a steady trend needs more than {max(checked, n_steps)}{where}"
    if needed > n_steps:
        return f"a steady trend needs at least {needed}{where}{more}"
    return f"more than {n_steps}"  # an even ramp would pass; these outputs tie more orders


def smallest_pvalue_words(n_permutations: int, alpha: float, pvalues=None) -> str:
    """The shuffle test's smallest p in words, for a legend: "p = 0.00010 is the smallest p 10,000 permutations can
    give: a row at it could be stronger still" (a class compared 0.00010 with 0.0024 as if both were exact). With
    ``pvalues``, only where one of them sits at it ("" else).

    Examples
    --------
    >>> smallest_pvalue_words(10_000, 0.01)
    'p = 0.00010 is the smallest p 10,000 permutations can give: a row at it could be stronger still'
    >>> smallest_pvalue_words(10_000, 0.01, [0.03, 0.5])
    ''
    """
    floor = permutation_floor(n_permutations)
    if pvalues is not None and not any(float(p) <= floor * (1 + 1e-9) for p in pvalues):
        return ""
    return (f"p = {format_pvalue(floor, alpha)} is the smallest p {n_permutations:,} permutations can give: a row at "
            "it could be stronger still")


def too_few_permutations(n_permutations: int, alpha: float) -> str | None:
    """A note where no p-value can reach ``alpha``: the shuffle test's smallest is 1 / (permutations + 1) (the +1
    correction), so 5 permutations cannot make anything significant at alpha = 0.01, whatever the model does."""
    floor = permutation_floor(n_permutations)
    if floor <= alpha:
        return None
    return (f"with {n_permutations:,} permutations the smallest p-value is {format_pvalue(floor, alpha, digits=3)}, "
            f"above alpha = {alpha:g}: nothing can come out significant; use at least {permutations_for(1, alpha):,} "
            "permutations")


def shuffle_floor_note(n_steps: int, n_permutations: int, alpha: float, n_series: int = 1,
                       floor: float | None = None, steady_trend: SteadyTrend | None = None,
                       unit: str = "steps") -> str | None:
    """The note on one shuffle test's floor, naming the floor that binds: where the series are too short
    (:func:`too_few_steps`; ``floor`` as tried on the outputs, else the count of orders), more permutations would
    not help, and the other way round."""
    if (orders_floor(n_steps, n_series) if floor is None else floor) > permutation_floor(n_permutations):
        return too_few_steps(n_steps, alpha, n_series, floor, steady_trend, n_permutations, unit)
    return too_few_permutations(n_permutations, alpha)


def untestable_caveat(note: str | None, passed: bool = False, orders: float | None = None) -> str | None:
    """The sentence to read before an answer whose shuffle test cannot reach alpha (``note``: :func:`shuffle_floor_note`
    or :func:`too_few_permutations_for_table`): "not significant" there is no evidence either way. Said among the
    notes only, five steps answered "no property moved p(cat) systematically" two screens above the reason. Where a
    row ``passed`` all the same (an estimated p below the exact floor, by chance), neither verdict is evidence. None
    without a note, and where ``orders`` (the lowest floor the outputs' orders allow) is 1: outputs that do not move
    have nothing to test, and "no measurable effect" is then true.

    Examples
    --------
    >>> untestable_caveat("with 3 steps ... use more steps (at least 6)")
    'Check the settings before this answer, where "not significant" is no evidence either way: with 3 steps ... use more steps (at least 6).'
    >>> untestable_caveat("with 3 steps ...", passed=True)[:91]
    'Check the settings before this answer, where neither "significant" nor "not significant" is'
    """
    if not note or (orders is not None and orders >= 1 - 1e-9):
        return None
    verdicts = 'neither "significant" nor "not significant" is evidence' if passed else \
        '"not significant" is no evidence either way'
    return f"Check the settings before this answer, where {verdicts}: {note}."


# Every caveat opens "Check the ... before this answer[, where ...]:"; joined caveats each keep theirs.
CAVEAT_LEAD_IN = re.compile(r"(?:^|(?<=\. ))Check the [^:]*? before this answer[^:]*:")


def with_lead_ins(text: str, set_lead_in: Callable[[str], str]) -> str:
    """``text`` with every caveat's lead-in set by ``set_lead_in`` (bold in the app and report.html): where an edit
    hardly changed the images and the settings could not reach alpha, the second caveat's lead-in stayed plain.

    Examples
    --------
    >>> with_lead_ins("Check the edits before this answer: x. Check the settings before this answer, where y: z.",
    ...               lambda lead: f"*{lead}*")
    '*Check the edits before this answer:* x. *Check the settings before this answer, where y:* z.'
    """
    return CAVEAT_LEAD_IN.sub(lambda match: set_lead_in(match.group(0)), text)


def domain_caveat(explanations: Sequence) -> str | None:
    """The sentence to read before an answer whose models were not made for its image (``explanations``: each
    :class:`~propgrad.explain.Explanation`, its ``domain_notes``), each such note once; else None.
    Among the notes only, a lesion model's "strong" reading of a cat photo was projected without it (the talk view
    shows no notes)."""
    return models_caveat(note for explanation in explanations for note in explanation.domain_notes)


def models_caveat(notes) -> str | None:
    """``notes`` on models not made for the image, each once, as the sentence to read before the answer; else None."""
    said = dict.fromkeys(note for note in notes if note)
    return f"Check the models before this answer: {'; '.join(said)}." if said else None


def unsaid(notes: Sequence[str], said: Sequence[str | None]) -> list[str]:
    """The ``notes`` not already said in ``said`` (the caveats read before an answer): each once, up front.

    Examples
    --------
    >>> unsaid(["a resized mask", "with 3 steps ..."], [untestable_caveat("with 3 steps ...")])
    ['a resized mask']
    """
    text = " ".join(one for one in said if one)
    return [note for note in notes if note not in text]


def too_few_permutations_for_table(n_tests: int, n_permutations: int, alpha: float, adjustment: str,
                                   n_significant: int, smallest_pvalue: float | None = None,
                                   orders: float | None = None, steady_trend: SteadyTrend | None = None,
                                   n_steps: int | None = None) -> str | None:
    """A note where the adjustment over ``n_tests`` rows puts the shuffle test's floor above ``alpha``.

    An effect alone at the floor, p = 1 / (permutations + 1), is adjusted to ``n_tests`` times that by Holm
    (always) and by Benjamini-Hochberg (unless other rows are as strong). With Holm no row can then pass, whatever
    the models do, so the note is always due; with Benjamini-Hochberg rows pass where enough are that strong, so
    the note is due only where none passed and some row sits at the floor (``smallest_pvalue``, the smallest
    unadjusted p): where every row's p is above it, the shuffles did find the effects weaker, and more
    permutations would not make them pass. A single test's floor has its own note (:func:`too_few_permutations`).
    ``orders`` is the lowest floor the rows' orders allow (:attr:`propgrad.explain.Explanation.orders_floor`, the
    lowest of any row, so that "no row can" holds for every row): where it is above the permutations' floor, the
    note says the series are too short and asks for steps instead (with ``steady_trend``, as in
    :func:`too_few_steps`: how many a steady trend needs at alpha over the rows, beyond ``n_steps``, the rows'
    longest series), whether or not some row sits at the floor.

    Examples
    --------
    >>> too_few_permutations_for_table(102, 10_000, 0.01, "holm", 0)[:62]
    'with 102 rows adjusted together (Holm) and 10,000 permutations'
    >>> too_few_permutations_for_table(102, 10_000, 0.01, "bh", 3) is None
    True
    >>> too_few_permutations_for_table(102, 10_000, 0.01, "bh", 0, smallest_pvalue=0.3) is None  # no effect at all
    True
    """
    by_permutations = permutation_floor(n_permutations)
    by_steps = orders is not None and orders > by_permutations
    floor = orders if by_steps else by_permutations
    adjusted = min(1.0, n_tests * floor)
    if n_tests < 2 or adjusted <= alpha or floor > alpha:
        return None
    holm = adjustment.lower().startswith("holm")
    # More steps would help any row; more permutations only a row the shuffles never beat.
    at_floor = by_steps or smallest_pvalue is None or smallest_pvalue <= floor * (1 + 1e-9)
    if not holm and (n_significant or not at_floor):
        return None
    name = "Holm" if holm else "Benjamini-Hochberg"
    together = math.ceil(n_tests * floor / alpha - 1e-9)  # rows at the floor that pass Benjamini-Hochberg together
    consequence = ("no row can come out significant" + ("" if by_steps else ", whatever the models do") if holm else
                   f"a row comes out significant only where at least {together} are that strong, so a lone effect "
                   "cannot")
    if by_steps:
        advice = (_trend_advice(steady_trend, alpha / n_tests, n_steps or MIN_STEPS, " here") if steady_trend
                  else f"at least {steps_for(n_tests, alpha)}")
        # Longer series alone would still meet the permutations' floor, where it too is adjusted above alpha.
        also = (f" and at least {permutations_for(n_tests, alpha):,} permutations"
                if n_tests * by_permutations > alpha else "")
        return (f"with {n_tests:,} rows adjusted together ({name}) and series this short, the strongest possible "
                f"effect (an exact p of {format_pvalue(floor)} at best, every order of the outputs tried) is adjusted "
                f"to {format_pvalue(adjusted, alpha, digits=3)}, above alpha = {alpha:g}: {consequence}; use more steps "
                f"({advice}){also}, or fewer properties or models")
    return (f"with {n_tests:,} rows adjusted together ({name}) and {n_permutations:,} permutations, the strongest "
            f"possible effect (p = 1/{n_permutations + 1:,}) is adjusted to "
            f"{format_pvalue(adjusted, alpha, digits=3)}, above alpha = {alpha:g}: "
            f"{consequence}; use at least {permutations_for(n_tests, alpha):,} permutations, or fewer properties or "
            "models")


def check_keys(table: dict, allowed, where: str) -> None:
    """Refuse a key that is not ``allowed``, naming it and the allowed ones (a misspelt setting must not be
    dropped silently)."""
    for key in table:
        if key not in allowed:
            raise ValueError(f"{where}: unknown key {key!r}; allowed keys: {', '.join(sorted(allowed))}")
