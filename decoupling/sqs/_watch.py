"""Being told when messages arrive in a queue, without a thread or a polling timer.

Pollers on the loop (event source mappings, consumer pools) sleep while their queue is empty; a
perpetual idle poll would keep ``loop.run_until_idle()`` from ever returning. Instead they ask to
be called when a message enters the queue, through the queue's observer hook
(:meth:`decoupling.Queue.add_observer`): sends, dead letters moved in, messages moved back
by a move task, and the copies :class:`decoupling.Chaos` puts back. Callbacks run inside the
send, with the loop's lock held: they may only schedule timers.

Delayed messages and visibility timeouts need no callback: a poller that finds nothing visible
schedules itself for :func:`next_change`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["watch", "unwatch", "next_change"]

_ATTR = "_decoupling_watchers"
_ARRIVALS = frozenset({"sent", "dead_letter_arrived", "moved_in", "duplicate_arrived"})


def watch(queue: Any, key: object, callback: Callable[[], None]) -> None:
    """Call ``callback()`` after every message that enters ``queue`` (idempotent per key)."""
    watchers: dict[int, Callable[[], None]] | None = queue.__dict__.get(_ATTR)
    if watchers is None:
        watchers = {}
        queue.__dict__[_ATTR] = watchers

        def on_change(event: str, _queue: Any, _entry: Any) -> None:
            if event in _ARRIVALS:
                for notify in list(watchers.values()):
                    notify()

        queue.add_observer(on_change)
    watchers[id(key)] = callback


def unwatch(queue: Any, key: object) -> None:
    """Stop calling the callback registered under ``key``."""
    watchers = queue.__dict__.get(_ATTR)
    if watchers is not None:
        watchers.pop(id(key), None)


def next_change(queue: Any) -> float | None:
    """When a delayed or in-flight message of ``queue`` next becomes visible (loop seconds)."""
    ledger = getattr(queue, "_ledger", None)
    if ledger is None:
        return None
    with queue.loop._lock:
        result: float | None = ledger.next_change()
        return result
