"""An expiring map: keys remembered until a deadline, forgotten lazily, never by a scan.

FIFO queues remember three kinds of keys for a limited time:

* message deduplication ids, for 5 minutes after the first send (the deduplication interval);
* ``ReceiveRequestAttemptId`` values, for 5 minutes after the receive that used them;
* receipt handles of messages deleted while their visibility timeout ran, until that timeout
  ends (so a retried delete succeeds while the handle is still valid).

:class:`ExpiringMap` holds ``key -> (expires_at, value)`` in a ``dict`` and the same pairs
ordered by expiry in two structures: a ``deque`` that takes every insert whose expiry is not
earlier than the last one it took (with a fixed lifetime on a monotonic clock that is every
insert, O(1)), and a heap for the others (O(log n)). Lookups and inserts first drop what has
expired by popping the fronts, so forgetting is paid once per key and a lookup with nothing
expired is O(1). A key re-added before or after it expired leaves its old item behind; that
item is recognised as stale (its expiry no longer matches the dict) and skipped when it reaches
the front. Times are seconds on the loop's clock.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

__all__ = ["ExpiringMap"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ExpiringMap(Generic[K, V]):
    """A mapping whose entries vanish at their own expiry time.

    An entry is live while ``now < expires_at``: at exactly ``expires_at`` it is gone.
    """

    __slots__ = ("_items", "_run", "_heap", "_tie")

    def __init__(self) -> None:
        self._items: dict[K, tuple[float, V]] = {}
        self._run: deque[tuple[float, K]] = deque()  # expiries in order (the common case)
        self._heap: list[tuple[float, int, K]] = []  # expiries that arrived out of order
        self._tie = itertools.count()

    def __len__(self) -> int:
        """Entries held, including any that expired but were not yet dropped. O(1)."""
        return len(self._items)

    def expire(self, now: float) -> None:
        """Drop every entry whose expiry is at or before ``now``.

        O(1) when nothing expired, else O(k) for k items (O(log n) more each for items that
        arrived out of order).
        """
        run = self._run
        if run and run[0][0] <= now:
            items = self._items
            popleft = run.popleft
            while run and run[0][0] <= now:
                expires_at, key = popleft()
                current = items.get(key)
                if current is not None and current[0] == expires_at:
                    del items[key]
        heap = self._heap
        if heap and heap[0][0] <= now:
            items = self._items
            pop = heapq.heappop
            while heap and heap[0][0] <= now:
                expires_at, _, key = pop(heap)
                current = items.get(key)
                if current is not None and current[0] == expires_at:
                    del items[key]

    def get(self, key: K, now: float) -> V | None:
        """The value of a live ``key`` at time ``now``, or ``None``. O(1) amortized."""
        self.expire(now)
        item = self._items.get(key)
        return None if item is None else item[1]

    def put(self, key: K, value: V, expires_at: float, now: float) -> None:
        """Remember ``key -> value`` until ``expires_at`` (replacing any earlier entry).

        O(1) amortized when ``expires_at`` is not earlier than the previous in-order insert's,
        else O(log n).
        """
        self.expire(now)
        items = self._items
        items[key] = (expires_at, value)
        run = self._run
        if not run or run[-1][0] <= expires_at:
            run.append((expires_at, key))
        else:
            heapq.heappush(self._heap, (expires_at, next(self._tie), key))
        if len(run) + len(self._heap) > 2 * len(items) + 1024:
            self._rebuild()

    def pop(self, key: K) -> V | None:
        """Forget ``key`` now; return its value if it was held. O(1) (its item goes stale)."""
        item = self._items.pop(key, None)
        return None if item is None else item[1]

    def clear(self) -> None:
        """Forget everything. O(1)."""
        self._items = {}
        self._run = deque()
        self._heap = []

    def keys(self) -> Iterator[K]:
        """The keys held (live or not yet dropped), in no particular order."""
        return iter(list(self._items))

    def _rebuild(self) -> None:
        # Too many stale items (keys popped or replaced): rebuild from the dict, O(n log n),
        # at most once per n stale items, so O(log n) amortized per insert.
        pairs = [(exp, key) for key, (exp, _) in self._items.items()]
        pairs.sort(key=_expiry)  # keys themselves need not be comparable
        self._run = deque(pairs)
        self._heap = []


def _expiry(pair: tuple[float, object]) -> float:
    return pair[0]
