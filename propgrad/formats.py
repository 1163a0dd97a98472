"""The one way numbers are written for people: two significant digits; a p-value with the digits that show on which
side of alpha it lies; a model's output with two decimals; a share in whole percent. Every table, reading, note and
printout writes its numbers with these (CSV and JSON files keep full precision); they sit below everything, so that a
note on the shuffle test's floor can use them too.
"""
from __future__ import annotations

import math

import numpy as np


def format_number(value: float) -> str:
    """The one number format of the app and the readings' tables: two significant digits.

    Examples
    --------
    >>> [format_number(v) for v in (0.1904, 0.084, 3.387e-06, 0.5, 1.0, 12.0, 0.0, 99.5, 1234.5)]
    ['0.19', '0.084', '3.4e-06', '0.50', '1.0', '12', '0', '100', '1234']
    """
    value = float(value)
    if value == 0:
        return "0"  # -0.0 too
    if not np.isfinite(value):
        return f"{value:g}"
    if abs(value) >= 99.5:
        return f"{value:.0f}"  # a large value in whole units ("1234", not "1.2e+03")
    # Both digits shown, a trailing zero too: "0.5" beside "0.29" read as a coarser number.
    return f"{value:#.2g}".rstrip(".")


def format_pvalue(pvalue: float, alpha: float | None = None, digits: int = 2) -> str:
    """A p-value as :func:`format_number` writes it (``digits`` significant digits), with more digits where those would
    not show on which side of ``alpha`` it lies: p = 0.0103 read "0.010" beside "not significant" at alpha = 0.01
    (significant means p <= alpha). A p within float noise of alpha (an adjusted p of 0.09999999999999999 at alpha =
    0.1) is written as alpha is: its digits would show the noise, not a side.

    Examples
    --------
    >>> format_pvalue(0.0103, 0.01), format_pvalue(0.00996, 0.01), format_pvalue(0.01, 0.01), format_pvalue(0.0103)
    ('0.0103', '0.00996', '0.010', '0.010')
    >>> format_pvalue(0.037, 0.05), format_pvalue(0.0499999, 0.05), format_pvalue(1.04e-06, 1e-06)
    ('0.037', '0.0499999', '1.04e-06')
    >>> format_pvalue(0.09999999999999999, 0.1), format_pvalue(0.0100499, 0.01, digits=3)
    ('0.10', '0.01005')
    """
    def shown_with(places: int) -> str:
        return format_number(pvalue) if places == 2 else f"{float(pvalue):#.{places}g}".rstrip(".")

    text = shown_with(digits)
    if alpha is None or not (np.isfinite(pvalue) and np.isfinite(alpha)) or math.isclose(pvalue, alpha, rel_tol=1e-9):
        return text
    for places in range(digits + 1, 8):
        shown = float(text)
        if (shown <= alpha) == (pvalue <= alpha) and (shown != alpha or pvalue == alpha):
            break
        text = shown_with(places)
    return text


def format_output(value: float) -> str:
    """How a model's output reads, in the readings' words and in tables beside them: two decimals ("p(cat) 0.96 ->
    0.92"); a probability of 6.8e-05 reads 0.00, as a student expects of a probability, not in scientific notation.

    Examples
    --------
    >>> [format_output(v) for v in (0.75, 6.8e-05, 1.0)]
    ['0.75', '0.00', '1.00']
    """
    return f"{float(value):.2f}"


def format_percent(value: float) -> str:
    """A share as every page, printout and reading writes it: "42 %" (a share of 0.42).

    Examples
    --------
    >>> format_percent(0.42), format_percent(1.0), format_percent(0.085), format_percent(0.425)
    ('42 %', '100 %', '9 %', '43 %')
    """
    return f"{percent_digits(value, 0)} %"


def percent_digits(value: float, decimals: int) -> str:
    """``value`` in percent to ``decimals`` places, halves rounded up: Python's rounding of halves to even (and 0.425
    stored as 0.42499...) made a sweep to 0.85 in ten steps read 0, 8, 17, 26, 34, 42, 51, 60, 68, 76, 85 %, gaps of
    8 and 9 at random on a slide; now 0, 9, 17, 26, 34, 43, ..., one after the other.

    >>> percent_digits(-0.425, 0), percent_digits(float("nan"), 0), percent_digits(0.0, 1)
    ('-43', 'nan', '0.0')
    """
    if not math.isfinite(value):
        return f"{value * 100:g}"
    scale = 10 ** decimals
    # Halves away from zero, so that -0.425 reads "-43 %" as 0.425 reads "43 %".
    rounded = math.copysign(math.floor(abs(value) * 100 * scale + 0.5 + 1e-9) / scale, value)
    return f"{rounded or 0.0:.{decimals}f}"  # no "-0"
