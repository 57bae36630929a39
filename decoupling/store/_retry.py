"""Waiting out another process's lock: bounded exponential backoff with jitter.

In multi-process mode SQLite refuses a statement (``database is locked``, SQLITE_BUSY) while
another process holds what it needs: the write lock for ``BEGIN IMMEDIATE``, or the WAL free of
readers for a truncating checkpoint. :class:`Contention` runs such a statement again after a
pause that doubles from :data:`FIRST_PAUSE` (0.1 ms) up to :data:`MAX_PAUSE` (2 ms), each pause
drawn between half and all of that value (so processes that collided do not retry in step),
until it goes through or ``total`` seconds (the store's ``busy_timeout``, 10 s by default) have
passed since the first refusal; then it raises :class:`Busy`. A pause is a sleep, never a spin.

The pauses stay short because a call holds the write lock for tens of microseconds: SQLite's own
busy handler sleeps up to 100 ms between tries, and a process waiting that long loses the lock
to one that retries sooner, over and over.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["Busy", "Contention", "FIRST_PAUSE", "MAX_PAUSE", "is_busy"]

T = TypeVar("T")

#: The first pause after a refusal, in seconds.
FIRST_PAUSE = 0.0001
#: The longest pause between two tries, in seconds.
MAX_PAUSE = 0.002

_BUSY_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED (and their extended codes' base)


class Busy(sqlite3.OperationalError):
    """Other processes held the lock for the whole of the wait (or a checkpoint could not get
    every process out of the WAL): ``waited`` seconds, ``tries`` attempts."""

    def __init__(self, what: str, waited: float, tries: int, last: str) -> None:
        super().__init__(
            f"{what}: other processes held the lock for {waited:.3g} s ({tries} tries; last "
            f"refusal: {last})"
        )
        self.waited = waited
        self.tries = tries


def is_busy(error: BaseException) -> bool:
    """Whether SQLite refused for a lock another connection holds (worth trying again)."""
    if isinstance(error, Busy) or not isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    text = str(error)
    return "locked" in text or "busy" in text


class Contention:
    """One store's retry policy for statements refused for a lock.

    Args:
        total: the longest wait in all, in seconds, from the first refusal.
        rng: where the jitter comes from (a seeded :class:`random.Random` makes the pauses
            repeatable in a test; a store uses a fresh, unseeded one, so that its processes
            draw different pauses).
        sleep, monotonic: the pause and the time source (replaced in tests).
    """

    __slots__ = ("total", "rng", "sleep", "monotonic")

    def __init__(
        self,
        total: float,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.rng = rng if rng is not None else random.Random()
        self.sleep = sleep
        self.monotonic = monotonic

    def run(self, action: Callable[[], T], what: str) -> T:
        """``action()``, tried again after each refusal for a lock (:func:`is_busy`) until it
        goes through; any other error is raised at once.

        Raises:
            Busy: still refused ``total`` seconds after the first refusal.
        """
        try:
            return action()
        except sqlite3.OperationalError as error:
            if not is_busy(error):
                raise
            last = str(error)
        start = self.monotonic()
        deadline = start + self.total
        pause = FIRST_PAUSE
        tries = 1
        while True:
            left = deadline - self.monotonic()
            if left <= 0:
                raise Busy(what, self.monotonic() - start, tries, last)
            self.sleep(min(left, pause * (0.5 + 0.5 * self.rng.random())))
            pause = min(pause * 2, MAX_PAUSE)
            tries += 1
            try:
                return action()
            except sqlite3.OperationalError as error:
                if not is_busy(error):
                    raise
                last = str(error)
