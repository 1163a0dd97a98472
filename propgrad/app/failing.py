"""Failures said once per run of them, for the server's checks that repeat every few seconds.

While a folder stayed unwritable, such a check logged the same warning at every turn (180 lines a page load, once).
:class:`Failing` says a failure when it begins, and again only after the thing has worked in between; the upkeep,
the kept copies and the lesson pages share it.
"""
from __future__ import annotations

import threading
from collections.abc import Hashable


class Failing:
    """What is failing now, by key (one check with one thing to watch uses the default key)."""

    def __init__(self) -> None:
        self._now: set[Hashable] = set()
        self._lock = threading.Lock()

    def first(self, key: Hashable = None) -> bool:
        """Note that ``key`` failed; whether this begins a run of failures (say it then, and not again until
        :meth:`worked`).

        Examples
        --------
        >>> failing = Failing()
        >>> failing.first(), failing.first(), failing.worked(), failing.first()
        (True, False, None, True)
        """
        with self._lock:
            if key in self._now:
                return False
            self._now.add(key)
            return True

    def worked(self, key: Hashable = None) -> None:
        """``key`` worked: its next failure is said again."""
        with self._lock:
            self._now.discard(key)
