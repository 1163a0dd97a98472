"""Small predicates shared by the argument checks at the package's edges (each site words its own error)."""
from __future__ import annotations

import numpy as np


def is_whole_number(value, minimum: int = 0) -> bool:
    """An int or numpy integer of at least ``minimum``; ``True``/``False`` are not numbers here."""
    return not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value >= minimum


def is_real_number(value) -> bool:
    """A finite int, float or numpy number; not a bool, not NaN or infinity."""
    return not isinstance(value, bool) and isinstance(value, (int, float, np.number)) and bool(np.isfinite(value))
