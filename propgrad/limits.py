"""The one table of limits: how much one request may ask for, in the app (and its MCP tools) and on the command line.

Every front end checks a request against :data:`LIMITS` before any work starts, and a request over a limit is
refused with one short line that names the argument and the limit (:func:`check_limit`,
:func:`check_count`). The app serves many people from one machine, so its column is the tighter one; the
command line runs on the user's own machine and bounds only what no study needs and what would exhaust it.

The Python API takes no size limit unless asked (tests run 9 permutations, a notebook may run more than the
command line allows), but refuses work that cannot fit in memory before allocating it
(:func:`check_memory`): ``explain(..., n_permutations=10**9)`` would otherwise grow to 22 GB until the
kernel kills the process (measured on a 24 GB machine).

The table is written out in docs/faults-and-limits.md; a test compares the two.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import ArgumentError

APP, CLI = "app", "cli"


@dataclass(frozen=True)
class Limit:
    """The most of one quantity a single request may ask for, per front end, and why."""

    quantity: str
    app: int
    cli: int
    why: str

    def most(self, front_end: str) -> int:
        if front_end not in (APP, CLI):
            raise ValueError(f"`front_end` must be {APP!r} or {CLI!r}, got {front_end!r}")
        return self.app if front_end == APP else self.cli


LIMITS: dict[str, Limit] = {one.quantity: one for one in (
    Limit("permutations", 100_000, 1_000_000,
          "shuffle-test permutations: p-values finer than 1e-6 say nothing more, and the null distribution holds "
          "8 bytes per permutation and output"),
    Limit("steps", 30, 1_000, "steps of one series, the original included: every step is an image in memory"),
    Limit("edits", 64, 64, "edit names given to a screen (the registry has fewer; more is a repeated or pasted list)"),
    Limit("regions", 16, 16, "regions of a screen or a comparison (whole image, object, background and masks)"),
    Limit("properties", 40, 1_000, "candidate properties of one screen: each is a series and a shuffle test per "
          "model"),
    Limit("images", 24, 1_000_000, "images of one study (the app runs them while the user waits)"),
    Limit("seeds", 8, 256, "seeds of one diffusion sweep: each seed is a whole series"),
    Limit("frames", 120, 5_000, "uploaded or listed frames of one series"),
)}


class LimitError(ArgumentError):
    """A request over one of the :data:`LIMITS` (a ValueError that names the argument)."""


def check_limit(quantity: str, value: int, *, argument: str, front_end: str) -> int:
    """``value`` when it is within the ``front_end``'s limit of ``quantity``, else a :class:`LimitError`.

    Examples
    --------
    >>> check_limit("permutations", 10_000, argument="--permutations", front_end=CLI)
    10000
    >>> check_limit("permutations", 10**9, argument="--permutations", front_end=CLI)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    propgrad.limits.LimitError: `--permutations` asks for 1,000,000,000 permutations; the limit is 1,000,000 (see ...)
    """
    return check_at_most(value, LIMITS[quantity].most(front_end), quantity=quantity, argument=argument)


def check_at_most(value: int, most: int, *, quantity: str, argument: str) -> int:
    """``value`` when it is at most ``most``, else a :class:`LimitError` naming ``argument`` and the limit."""
    if value > most:
        raise LimitError(argument, f"asks for {value:,} {quantity}; the limit is {most:,} "
                                   f"(see docs/faults-and-limits.md)")
    return value


def repeated_names(values) -> list:
    """The values given more than once, each once, in the order they repeat."""
    seen, repeated = set(), []
    for value in values:
        if value in seen and value not in repeated:
            repeated.append(value)
        seen.add(value)
    return repeated


def check_count(quantity: str, values, *, argument: str, front_end: str) -> list:
    """``values`` as a list when it holds at most the limit of ``quantity`` and no name twice.

    Examples
    --------
    >>> check_count("edits", ["darken", "hue"], argument="--edits", front_end=CLI)
    ['darken', 'hue']
    >>> check_count("edits", ["darken"] * 10_000, argument="--edits", front_end=CLI)
    Traceback (most recent call last):
    ...
    propgrad.limits.LimitError: `--edits` names 10,000 edits; the limit is 64 (see docs/faults-and-limits.md)
    """
    values = list(values)
    most = LIMITS[quantity].most(front_end)
    if len(values) > most:
        raise LimitError(argument, f"names {len(values):,} {quantity}; the limit is {most:,} "
                                   f"(see docs/faults-and-limits.md)")
    repeated = repeated_names(values)
    if repeated:
        shown = ", ".join(repr(str(value)[:40]) for value in repeated[:3])
        raise ArgumentError(argument, f"names {shown}{' and others' if len(repeated) > 3 else ''} more than once")
    return values


# -- memory (the Python API's only bound) ----------------------------------------------------------


# Bytes the shuffle test holds per permutation and output at its peak: the null distribution (float64), its copy
# averaged over series and |null - mean| for the p-value. Measured: 10**9 permutations of one output reached 22 GB
# before the kernel stopped the process.
SHUFFLE_BYTES_PER_PERMUTATION = 24
# cgroup v2, then v1: a container's limit, which /proc/meminfo does not show.
_CGROUP_FILES = (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                 ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"))


def _read_int(path: str) -> int | None:
    try:
        with open(path) as handle:
            text = handle.read().strip()
        return None if text == "max" else int(text)
    except (OSError, ValueError):
        return None


def available_memory() -> int | None:
    """Bytes this process can still allocate: the machine's MemAvailable, or less where a cgroup limit says so
    (else physical memory); None if unknown."""
    candidates = []
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    candidates.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    for limit_path, usage_path in _CGROUP_FILES:
        limit, usage = _read_int(limit_path), _read_int(usage_path)
        if limit is not None and usage is not None and limit < 2**60:  # "no limit" reads as a huge number in v1
            candidates.append(max(0, limit - usage))
    if not candidates:
        try:
            candidates.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
        except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
            return None
    return min(candidates)


def _size(nbytes: float) -> str:
    for unit, scale in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes / 2**10:.0f} KB"


def check_memory(nbytes: float, *, argument: str, what: str) -> None:
    """Refuse, before allocating, work whose ``what`` needs more than the memory available now.

    Examples
    --------
    >>> check_memory(8 * 10**15, argument="n_permutations", what="the shuffle test")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    propgrad.limits.LimitError: `n_permutations` needs about 7276.0 TB for the shuffle test; ...
    """
    available = available_memory()
    if available is not None and nbytes > available:
        raise LimitError(argument, f"needs about {_size(nbytes)} for {what}; this machine has {_size(available)} "
                                   f"available")


def check_shuffle_memory(n_permutations: int, outputs: int = 1, *, argument: str = "n_permutations") -> None:
    """The shuffle test's peak: :data:`SHUFFLE_BYTES_PER_PERMUTATION` per permutation and output."""
    check_memory(float(SHUFFLE_BYTES_PER_PERMUTATION) * n_permutations * max(1, outputs), argument=argument,
                 what=f"the shuffle test of {outputs:,} output{'s' if outputs != 1 else ''}")


def check_series_memory(intervention, size: tuple[int, int] | None, *, argument: str = "steps") -> None:
    """An intervention's images (steps x seeds of an input of ``size`` (width, height), 8-bit RGB), before it
    makes them. Only the size is needed, not the image.

    Interventions that do not say their steps (frames bring their own images) are not checked.
    """
    steps = getattr(intervention, "steps", None)
    if size is None or not isinstance(steps, int) or isinstance(steps, bool):
        return
    series = len(getattr(intervention, "seeds", None) or ()) or 1
    width, height = size
    check_memory(3.0 * width * height * steps * series, argument=argument,
                 what=f"{steps:,} steps x {series} series of {width}x{height} images")


__all__ = ["APP", "CLI", "LIMITS", "Limit", "LimitError", "available_memory", "check_at_most", "check_count",
           "check_limit", "check_memory", "check_series_memory", "check_shuffle_memory"]
