"""The one way numbers are written for people: two significant digits, and a p-value with the digits that show on
which side of alpha it lies. Every table, reading, note and printout writes its numbers with these (CSV and JSON
files keep full precision); they sit below everything, so that a note on the shuffle test's floor can use them too.
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
