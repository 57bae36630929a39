"""Automatic request batching: concurrent single calls coalesced into batch requests.

No thread of its own: the first caller of a batch (its leader) waits up to ``max_wait`` for
others, then sends; a caller that fills a batch sends it at once. Every caller then waits for
its own entry's outcome and returns or raises it, as the single call would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from ..errors import DecouplingError

__all__ = ["Coalescer"]

#: Sends one batch: the entries in order -> one outcome per entry (a value or an error).
Flush = Callable[[Sequence[Any]], Sequence[object]]


class _Batch:
    __slots__ = ("entries", "flush", "outcomes", "done")

    def __init__(self, flush: Flush) -> None:
        self.entries: list[Any] = []
        self.flush = flush
        self.outcomes: Sequence[object] = ()
        self.done = threading.Event()


class Coalescer:
    """Batches per key (queue and action), at most ``max_entries`` each."""

    def __init__(self, max_wait: float, max_entries: int) -> None:
        self.max_wait = max_wait
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._closed = threading.Condition(self._lock)
        self._open: dict[Hashable, _Batch] = {}

    def submit(self, key: Hashable, entry: Any, flush: Flush) -> object:
        """Add ``entry`` to the open batch of ``key`` (``flush`` sends it); return its outcome
        or raise its error."""
        with self._lock:
            batch = self._open.get(key)
            leader = batch is None
            if batch is None:
                batch = self._open[key] = _Batch(flush)
            index = len(batch.entries)
            batch.entries.append(entry)
            full = len(batch.entries) >= self.max_entries
            if full:
                del self._open[key]
                self._closed.notify_all()  # its leader stops waiting
            elif leader:
                deadline = time.monotonic() + self.max_wait
                while self._open.get(key) is batch:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        del self._open[key]
                        full = True  # this leader sends it
                        break
                    self._closed.wait(left)
        if full:
            self._send(batch)
        batch.done.wait()
        outcome = batch.outcomes[index]
        if isinstance(outcome, DecouplingError):
            raise type(outcome)(outcome.message)  # a fresh one per caller: own traceback
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    @staticmethod
    def _send(batch: _Batch) -> None:
        try:
            outcomes = batch.flush(batch.entries)
        except DecouplingError as error:  # the whole request failed: every caller sees it
            outcomes = [error] * len(batch.entries)
        except BaseException as error:  # handed to every waiting caller
            outcomes = [error] * len(batch.entries)
        batch.outcomes = outcomes
        batch.done.set()
