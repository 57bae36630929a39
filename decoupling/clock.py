"""Clocks: the one source of time for a loop and everything on it.

Two clocks implement the :class:`Clock` protocol:

* :class:`MonotonicClock` reads real time (``time.monotonic``).
* :class:`ManualClock` is virtual: it moves only when told (:meth:`ManualClock.advance`,
  :meth:`ManualClock.advance_to`) or, in auto-jump mode, when every waiter is blocked and the
  loop asks it how long to sleep.

Like trio's clock interface, the loop never reads ``time`` itself: it asks its clock what time it
is (``now``), what wall-clock time that is (``wall``) and how long, in real seconds, it may sleep
before a deadline (``sleep_time``). A virtual clock answers "jump" (0.0 and move) or "wait for
someone to advance me" (``None``).
"""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "MonotonicClock", "ManualClock", "DEFAULT_EPOCH"]

#: The wall-clock epoch (seconds) a :class:`ManualClock` starts at unless told otherwise:
#: 2026-01-01T00:00:00Z. A fixed epoch keeps timestamps in tests reproducible.
DEFAULT_EPOCH = 1_767_225_600.0


@runtime_checkable
class Clock(Protocol):
    """What a loop asks of its clock."""

    def now(self) -> float:
        """Monotonic time in seconds (never goes backwards)."""
        ...

    def wall(self) -> float:
        """Wall-clock time in epoch seconds, moving in step with :meth:`now`."""
        ...

    def wall_ms(self) -> int:
        """Wall-clock time in whole epoch milliseconds (as in ``SentTimestamp``)."""
        ...

    @property
    def is_virtual(self) -> bool:
        """``True`` for a clock that moves only when told."""
        ...


class _ClockListener(Protocol):
    """What a :class:`ManualClock` tells the loops that use it when it moves."""

    def _fire_until(self, when: float) -> None: ...

    def _wake_waiters(self) -> None: ...


class MonotonicClock:
    """Real time: ``time.monotonic()`` for :meth:`now`, epoch seconds derived from it.

    The wall clock is fixed to the monotonic clock at construction
    (``wall = now + offset``), so durations measured on either agree and a system clock step
    does not reorder timestamps.
    """

    is_virtual = False

    def __init__(self) -> None:
        self._offset = time.time() - time.monotonic()

    def now(self) -> float:
        """Monotonic seconds (``time.monotonic()``)."""
        return time.monotonic()

    def wall(self) -> float:
        """Epoch seconds, derived from :meth:`now`."""
        return time.monotonic() + self._offset

    def wall_ms(self) -> int:
        """Epoch milliseconds, derived from :meth:`now`."""
        return int((time.monotonic() + self._offset) * 1000)

    def __repr__(self) -> str:
        return f"MonotonicClock(now={self.now():.3f})"


#: Seconds from 1970 to the end of year 9999 (the last time a wall timestamp can show).
_MAX_EPOCH = 253_402_300_799


def _as_seconds(name: str, value: object) -> float:
    """``value`` as float seconds; a ``ValueError`` for what is not a number or does not fit a
    float (rather than the ``TypeError`` or ``OverflowError`` of ``float()``)."""
    if isinstance(value, (bool, str, bytes)):
        raise ValueError(f"{name} needs a number of seconds, got {value!r}")
    if not isinstance(value, (int, float)):
        try:
            value = float(value)  # type: ignore[arg-type]  # Decimal, numpy scalars
        except (TypeError, ValueError, ArithmeticError):
            raise ValueError(f"{name} needs a number of seconds, got {value!r}") from None
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{name} needs a finite number of seconds, got {value!r}") from None


class ManualClock:
    """Virtual time that moves only when told, or jumps when everything waits.

    Args:
        start: the initial value of :meth:`now`, in seconds (default 0.0).
        epoch: the wall-clock time at ``start``, in epoch seconds (default
            :data:`DEFAULT_EPOCH`, 2026-01-01T00:00:00Z).
        autojump_threshold: how long, in *real* seconds, a blocked waiter waits for another
            thread to make progress before virtual time jumps to the next deadline (the next
            due timer, or the waiter's own deadline). Default ``0.0``: jump at once, so a
            single-threaded test that long-polls for 20 s returns immediately and can never hang.
            ``None`` turns auto-jump off: waiters then block until another thread calls
            :meth:`advance` or sends them something (use it when a test drives time from a
            thread of its own). A small positive value (e.g. ``0.05``) lets other real threads
            act first, as trio's ``MockClock(autojump_threshold=...)`` does.

    Advancing the clock fires every timer that falls due on the loops that use it, in time
    order, in the caller's thread, and wakes every blocked waiter so it can look again.

    Raises:
        ValueError: ``advance`` with a negative amount, ``advance_to`` an earlier time, or a
            negative threshold ("time can't go backwards"); a NaN or infinite time or amount
            (NaN compares false with every due time and would fire every timer at once).
    """

    is_virtual = True

    def __init__(
        self,
        start: float = 0.0,
        *,
        epoch: float = DEFAULT_EPOCH,
        autojump_threshold: float | None = 0.0,
    ) -> None:
        if autojump_threshold is not None:
            threshold = _as_seconds("autojump_threshold", autojump_threshold)
            # Also refuses NaN; the bound is the longest wait a lock or condition takes.
            if not 0 <= threshold <= threading.TIMEOUT_MAX:
                raise ValueError(f"autojump_threshold must be 0 to {threading.TIMEOUT_MAX} "
                                 f"seconds or None, got {autojump_threshold}")
        start_s, epoch_s = _as_seconds("start", start), _as_seconds("epoch", epoch)
        if not (math.isfinite(start_s) and math.isfinite(epoch_s)):
            raise ValueError(f"start and epoch must be finite, got {start!r} and {epoch!r}")
        if not -_MAX_EPOCH <= epoch_s <= _MAX_EPOCH:
            raise ValueError(f"epoch must be within the years 1 to 9999, got {epoch!r}")
        self._now = start_s
        self._epoch_offset = epoch_s - start_s
        self.autojump_threshold = autojump_threshold
        self._listeners: list[_ClockListener] = []
        self._advance_lock = threading.RLock()

    # -- reading --------------------------------------------------------------------------------

    def now(self) -> float:
        """Virtual monotonic seconds."""
        return self._now

    def wall(self) -> float:
        """Virtual epoch seconds: ``epoch + (now - start)``."""
        return self._now + self._epoch_offset

    def wall_ms(self) -> int:
        """Virtual epoch milliseconds."""
        return int(round((self._now + self._epoch_offset) * 1000))

    # -- moving ---------------------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (>= 0), firing due timers in order on the way."""
        step = _as_seconds("advance()", seconds)
        if not step >= 0:  # also refuses NaN, which would fire every timer
            raise ValueError(f"time can't go backwards: advance({seconds})")
        if math.isinf(step):
            raise ValueError("advance() needs a finite number of seconds, got inf")
        with self._advance_lock:
            self.advance_to(self._now + step)

    def advance_to(self, when: float) -> None:
        """Move time forward to ``when`` (>= :meth:`now`), firing due timers in order.

        Each loop on this clock fires its timers due at or before ``when`` with the clock set
        to each timer's due time, so a callback sees the time it was scheduled for.
        """
        when = when if type(when) is float else _as_seconds("advance_to()", when)
        if not math.isfinite(when):
            raise ValueError(f"advance_to() needs a finite time, got {when}")
        with self._advance_lock:
            if when < self._now:
                raise ValueError(
                    f"time can't go backwards: advance_to({when}) < now ({self._now})"
                )
            for listener in list(self._listeners):
                listener._fire_until(when)
            if when > self._now:
                self._now = when
            for listener in list(self._listeners):
                listener._wake_waiters()

    def _try_advance_to(self, when: float) -> bool:
        """:meth:`advance_to` unless another thread is advancing right now (then ``False``).

        A waiter that holds its loop's lock must not block on the clock: the thread that is
        advancing needs that lock to fire the loop's timers (lock-order inversion). It waits on
        its condition instead; the advancing thread wakes every waiter when it is done.
        """
        if not self._advance_lock.acquire(blocking=False):
            return False
        try:
            self.advance_to(max(when, self._now))
        finally:
            self._advance_lock.release()
        return True

    def _set(self, when: float) -> None:
        """Set the time forward without firing timers (used by the loop while it fires them)."""
        if when > self._now:
            self._now = when

    def _subscribe(self, listener: _ClockListener) -> None:
        """Register a loop, so advancing fires its timers and wakes its waiters."""
        self._listeners.append(listener)

    def _unsubscribe(self, listener: _ClockListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def __repr__(self) -> str:
        return f"ManualClock(now={self._now!r}, autojump_threshold={self.autojump_threshold!r})"
