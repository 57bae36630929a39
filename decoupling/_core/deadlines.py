"""A priority queue of deadlines tuned for visibility timeouts: O(1) push and pop in practice.

Deadlines arrive as ``now + duration`` with ``now`` monotonic and few distinct durations (the
queue's visibility timeout, a per-call one, a few ``ChangeMessageVisibility`` values). For one
duration the deadlines therefore arrive in order, so a deque per duration ("run") stays sorted
with plain appends, and the earliest deadline is the earliest of the run heads, kept in a small
heap of ``(head deadline, duration)``. An arrival that would break a run's order (a restored
state, a caller passing an earlier ``now``) goes to a fallback heap, so the structure is always
correct and only its speed depends on the common case.

Costs: push O(1) (O(log r) when a run starts, r = runs); ``pop_due`` O(k + log r) for k due items;
``earliest`` O(1).
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

__all__ = ["DeadlineQueue"]

T = TypeVar("T")
_INF = float("inf")
#: Emptied runs are kept for their duration's next push while there are at most this many runs.
_KEEP_RUNS = 16


class _Run(Generic[T]):
    """One duration's items in deadline order: the deadlines and the items in two deques side
    by side, so a push allocates no pair (and an item in flight is not held by a tuple the
    garbage collector must walk)."""

    __slots__ = ("times", "items")

    def __init__(self) -> None:
        self.times: deque[float] = deque()
        self.items: deque[T] = deque()


class DeadlineQueue(Generic[T]):
    """Items ordered by deadline (seconds), popped once due."""

    def __init__(self) -> None:
        self._runs: dict[float, _Run[T]] = {}
        self._heads: list[tuple[float, float]] = []  # (head deadline, duration), one per run
        self._overflow: list[tuple[float, int, T]] = []
        self._tie = itertools.count()
        self._size = 0

    def __len__(self) -> int:
        """Items held, due or not (including any the owner considers stale). O(1)."""
        return self._size

    def push(self, deadline: float, duration: float, item: T) -> None:
        """Add ``item`` due at ``deadline`` (= now + ``duration``). O(1) amortized."""
        run = self._runs.get(duration)
        if run is None:
            run = self._runs[duration] = _Run()
        times = run.times
        if not times:
            times.append(deadline)
            run.items.append(item)
            heapq.heappush(self._heads, (deadline, duration))
        elif times[-1] <= deadline:
            times.append(deadline)
            run.items.append(item)
        else:
            heapq.heappush(self._overflow, (deadline, next(self._tie), item))
        self._size += 1

    def push_many(self, deadline: float, duration: float, items: list[T]) -> None:
        """Add every item of ``items`` due at ``deadline`` (= now + ``duration``), in order.
        O(k) amortized for k items."""
        run = self._runs.get(duration)
        if run is None:
            run = self._runs[duration] = _Run()
        times = run.times
        if not times:
            heapq.heappush(self._heads, (deadline, duration))
        elif times[-1] > deadline:  # earlier than the run's tail: one by one, via overflow
            for item in items:
                self.push(deadline, duration, item)
            return
        times.extend(itertools.repeat(deadline, len(items)))
        run.items.extend(items)
        self._size += len(items)

    def discard(self, deadline: float, duration: float, item: T) -> bool:
        """Remove ``item`` if it is at either end of its run (the common cases: deleted right
        after it was received, or in the order received). O(1); ``False`` if not found there,
        in which case the owner treats it as stale."""
        run = self._runs.get(duration)
        if run is None:
            return False
        items = run.items
        if not items:
            return False
        times = run.times
        if items[-1] is item and times[-1] == deadline:
            items.pop()
            times.pop()
            self._size -= 1
            if not times:
                # Its head entry in _heads is stale now: dropped if it is the earliest (the
                # common case), else when earliest() or pop_due() reaches it. (Left there, a
                # queue that receives and deletes one message at a time would add one per
                # cycle until the clock passed their deadlines.)
                heads = self._heads
                if heads and heads[0][1] == duration:
                    heapq.heappop(heads)
                # An emptied run stays for the next push of its duration, unless runs of many
                # durations pile up.
                if len(self._runs) > _KEEP_RUNS:
                    del self._runs[duration]
            return True
        if items[0] is item and times[0] == deadline and len(items) > 1:
            items.popleft()
            times.popleft()
            self._size -= 1
            if times[0] != deadline:  # with the same deadline the run's head item still holds
                heapq.heappush(self._heads, (times[0], duration))
            return True
        return False

    def discard_timed(self, items: list[Any]) -> None:
        """:meth:`discard` each of ``items``, which carry their own ``deadline`` and
        ``timeout`` (= duration) attributes (the ledger's entries): a batch delete of the
        messages one receive handed out, in that order, pops each from its run's front.
        O(k)."""
        runs = self._runs
        run = None
        duration = None
        for item in items:
            deadline = item.deadline
            if item.timeout != duration or run is None:
                duration = item.timeout
                run = runs.get(duration)
                if run is None:
                    continue
            times, run_items = run.times, run.items
            if len(run_items) > 1 and run_items[0] is item and times[0] == deadline:
                run_items.popleft()
                times.popleft()
                self._size -= 1
                if times[0] != deadline:  # with the same deadline the run's head item holds
                    heapq.heappush(self._heads, (times[0], duration))
            else:
                self.discard(deadline, duration, item)
                run = None  # (discard may drop the run)

    def earliest(self) -> float:
        """The earliest deadline held, or ``inf`` (may be early after discards, never late).
        O(1) amortized."""
        heads, runs = self._heads, self._runs
        while heads:
            head, duration = heads[0]
            run = runs.get(duration)
            if run is not None and run.times and run.times[0] == head:
                break
            heapq.heappop(heads)  # stale
        first = heads[0][0] if heads else _INF
        if self._overflow and self._overflow[0][0] < first:
            return self._overflow[0][0]
        return first

    def pop_due(self, now: float) -> list[tuple[float, T]]:
        """Remove and return every item due at or before ``now``, earliest first."""
        out: list[tuple[float, T]] = []
        heads = self._heads
        if heads and heads[0][0] <= now:
            runs = self._runs
            while heads and heads[0][0] <= now:
                head, duration = heapq.heappop(heads)
                run = runs.get(duration)
                if run is None or not run.times or run.times[0] != head:
                    continue  # a stale head: its run was emptied or moved on by discard()
                times, items = run.times, run.items
                while times and times[0] <= now:
                    out.append((times.popleft(), items.popleft()))
                if times:
                    heapq.heappush(heads, (times[0], duration))
                else:
                    del runs[duration]
        overflow = self._overflow
        if overflow and overflow[0][0] <= now:
            while overflow and overflow[0][0] <= now:
                deadline, _, item = heapq.heappop(overflow)
                out.append((deadline, item))
        if len(out) > 1:
            out.sort(key=lambda pair: pair[0])
        self._size -= len(out)
        return out

    def rebuild(self, items: Iterable[tuple[float, float, T]]) -> None:
        """Replace the contents with ``(deadline, duration, item)`` triples. O(n log n)."""
        self.__init__()  # type: ignore[misc]
        for deadline, duration, item in sorted(items, key=lambda t: t[0]):
            self.push(deadline, duration, item)
